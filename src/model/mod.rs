//! Stage 4, resolve: a sized `Plan` → the `Model`, every value a renderer (or the state file)
//! needs, normalised once.
//!
//! Renderers (render/, the PLAN.md report) read only the model: nothing below re-reads the raw
//! spec. Decisions are taken here once — Eureka or Nacos, ip_hash or Redis sessions, the
//! install directory without its trailing slash, the JDBC URL, which vault variables the tree
//! references — so that two renderers can never disagree about them.
//!
//! To extend the model, add a field to the struct of its concept (one per file) and fill it in
//! that file's `resolve`; every template sees the whole model as `model`.

mod backup;
mod cluster;
mod database;
pub mod front;
mod hosts;
pub mod keys;
pub mod logs;
pub mod monitoring;
pub mod order;
pub mod platform;
mod setup;
mod sizing;
pub mod units;
pub mod vault;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Features, Release};
use crate::diag::Diagnostic;
use crate::size::Plan;
use crate::spec::Service;
use platform::Platform;

pub use backup::Backup;
pub use cluster::{Cluster, Discovery, Endpoint, Gateway, Redis, Sessions, Web};
pub use database::Database;
pub use hosts::{ConfFile, Host, Instance, group_name, service_unit_glob, unit_name};
pub use monitoring::Monitoring;
pub use setup::Setup;
pub use sizing::{Engine, Sizing};
pub use vault::Token;

const ENGINECONN_ROOT_KEY: &str = "wds.linkis.engineconn.root.dir";

/// The resolved cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub cluster: Cluster,
    /// The release's catalog entry (versions, services, shipped settings).
    pub release: Release,
    pub features: Features,
    pub discovery: Discovery,
    pub gateway: Gateway,
    pub database: Database,
    pub sessions: Sessions,
    pub web: Web,
    /// `security.firewall`: the nftables table of every host.
    pub firewall: Option<front::Firewall>,
    /// The auth tokens of the release, as vault references.
    pub tokens: Vec<Token>,
    /// The vault variable of `wds.linkis.crypt.key` (set with Redis sessions).
    pub crypt_key_var: &'static str,
    /// The services of the release that run in this cluster (Eureka absent under Nacos), in
    /// Linkis' start order.
    pub services: Vec<Service>,
    pub hosts: Vec<Host>,
    /// The order the playbooks run the cluster in (inventory groups, start stages, stops).
    pub order: order::Order,
    /// `wds.linkis.engineconn.root.dir` as the conf tree sets it.
    pub engineconn_root_dir: String,
    /// How the systemd units are sandboxed (writable paths, /tmp, home directories).
    pub hardening: units::Hardening,
    /// The spec's `overrides:`, per conf file, values as written.
    pub overrides: BTreeMap<String, BTreeMap<String, String>>,
    /// Every Ansible variable (`{{ name }}`) the rendered tree references, sorted.
    pub vault_vars: Vec<String>,
    pub sizing: Sizing,
    /// What site.yml sets up around the services: the database bootstrap, the JDBC driver, the
    /// ECM hosts' Hadoop side (checked) and the storage directories.
    pub setup: Setup,
    /// The platform around Linkis: the spec's hadoop/hive/spark/storage/auth sections, engine
    /// versions, gateway URL, Java and environment, resolved with the release's installer facts.
    pub platform: Platform,
    /// Warnings from validation and sizing.
    pub warnings: Vec<Diagnostic>,
    /// Hosts placed by what runs on them (applied.json) rather than by the default placement.
    pub sticky: Vec<crate::size::Sticky>,
    /// What runs (`OUT/.linkis-gen/applied.json`), when the cluster was applied before: the base
    /// of the change plan (src/plan/changes.rs).
    #[serde(skip)]
    pub applied: Option<crate::state::State>,
    /// The upgrade from what runs (decided once, by `linkis_gen::plan_with`): CHANGES.md and
    /// changes.yml take its form.
    #[serde(skip)]
    pub upgrade: Option<crate::plan::upgrade::Upgrade>,
    /// `monitoring:`: metrics on or off, the actuator exposure, the scrape targets and scrapers.
    pub monitoring: Monitoring,
    /// The database dumps: backup.yml, and the timer of the spec's `backup:` section.
    pub backup: Backup,
    /// `logs:`: retention of the services' logs and the engines' working directories.
    pub logs: logs::Logs,
}

impl Model {
    /// The hosts that run a service, in spec order.
    pub fn hosts_with(&self, s: Service) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.runs(s))
    }

    pub fn ecm_hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts_with(Service::Engineconnmanager)
    }

    /// The override of one key in one conf file, if the spec has one.
    pub fn override_of(&self, file: &str, key: &str) -> Option<&str> {
        self.overrides
            .get(file)
            .and_then(|m| m.get(key))
            .map(String::as_str)
    }
}

/// Resolves a plan into the model.
pub fn resolve(plan: &Plan) -> Model {
    let spec = &plan.spec;
    let release = plan.release;
    let services: Vec<Service> = release
        .line
        .services
        .iter()
        .map(|i| i.service)
        .filter(|s| spec.cluster.discovery.runs(*s))
        .collect();
    let hosts: Vec<Host> = plan.hosts.iter().map(|h| hosts::resolve(plan, h)).collect();
    let overrides: BTreeMap<String, BTreeMap<String, String>> = spec
        .overrides
        .iter()
        .map(|(file, m)| {
            (
                file.clone(),
                m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
            )
        })
        .collect();
    let platform = Platform::resolve(spec, &release);
    let monitoring = monitoring::resolve(spec, &release, &hosts);
    let cluster = cluster::cluster(plan);
    let engineconn_root_dir = engineconn_root_dir(&release, &overrides, &platform);
    let logs = logs::resolve(spec, &release, &cluster.install_dir, &engineconn_root_dir);
    let mut model = Model {
        cluster,
        release,
        features: release.features(),
        discovery: cluster::discovery(plan),
        gateway: cluster::gateway(plan),
        database: database::resolve(&spec.database),
        sessions: cluster::sessions(&spec.gateway),
        web: cluster::web(spec, &hosts),
        firewall: None,
        tokens: vault::tokens(&release),
        crypt_key_var: crate::catalog::CRYPT_KEY_VAULT_VAR,
        order: order::resolve(&release, release.features().clear_server, &services, &hosts),
        services,
        hosts,
        engineconn_root_dir,
        hardening: units::hardening("", &[], "", &[]),
        overrides,
        vault_vars: Vec::new(),
        sizing: sizing::resolve(plan),
        setup: setup::resolve(plan, &platform),
        platform,
        warnings: plan.warnings.clone(),
        sticky: plan.sticky.clone(),
        applied: plan.applied.clone(),
        upgrade: plan.upgrade.clone(),
        monitoring,
        backup: backup::resolve(plan),
        logs,
    };
    if let Some(url) = &model.platform.gateway_url {
        model.gateway.url = url.clone();
    }
    model.firewall = front::firewall(
        spec,
        &model.hosts,
        model.platform.engine_ports.as_deref(),
        &front::web_ports(&spec.gateway.web),
        // The scrapers reach the metrics endpoints, which are the services' own ports.
        model.monitoring.scrapers.clone(),
    );
    model.hardening = units::hardening(
        &model.cluster.install_dir,
        &model
            .setup
            .storage
            .local
            .iter()
            .map(|d| d.path.clone())
            .collect::<Vec<_>>(),
        &model.engineconn_root_dir,
        &model
            .platform
            .env
            .iter()
            .map(|(_, v)| v.clone())
            .filter(|v| v.starts_with('/'))
            .collect::<Vec<_>>(),
    );
    model.vault_vars = vault::referenced(&model);
    model
}

/// The engine root dir the conf tree sets: an override if the spec has one, else
/// `storage.engine_root`.
fn engineconn_root_dir(
    release: &Release,
    overrides: &BTreeMap<String, BTreeMap<String, String>>,
    platform: &Platform,
) -> String {
    let ecm_file = release
        .service(Service::Engineconnmanager)
        .map(|i| i.conf_file)
        .unwrap_or("linkis-cg-engineconnmanager.properties");
    [ecm_file, "linkis.properties"]
        .iter()
        .find_map(|f| overrides.get(*f).and_then(|m| m.get(ENGINECONN_ROOT_KEY)))
        .unwrap_or(&platform.engine_root)
        .to_string()
}

/// How long a restart waits for an entrance's running jobs once it is marked offline, seconds
/// (role linkis_entrance, `linkis_entrance_drain_timeout`; CHANGES.md states it). When jobs
/// still run then, the run stops before that entrance stops: no job is lost.
pub const ENTRANCE_DRAIN_TIMEOUT: u32 = 600;
