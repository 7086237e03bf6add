//! The hosts and the service instances placed on them.

use serde::Serialize;

use crate::catalog::{HealthCheck, health_check, start_stage};
use crate::size::{EcmShare, PlacedHost, PlacedService, Plan};
use crate::spec::{Role, Service};

/// One host and what runs on it.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub name: String,
    pub address: String,
    pub ssh_port: u16,
    /// Physical memory, bytes (0 when not given).
    pub memory: u64,
    /// Physical cores (0 when not given).
    pub cores: u64,
    /// Runs at least one control service.
    pub control: bool,
    /// The host's service instances in Linkis' start order.
    pub instances: Vec<Instance>,
    /// Memory this host's ECM may give to engines, bytes (0 without an ECM).
    pub engine_memory: u64,
    /// The ECM resource keys, when the host runs an ECM.
    pub ecm: Option<EcmShare>,
    /// The files of this host's `conf/`, in output order: `(file, the service it belongs to)`.
    pub conf_files: Vec<ConfFile>,
    /// `SERVER_JAVA_OPTS` per instance, where linkis-gen sets it (`logs:` or `java_opts`).
    pub java_opts: Vec<super::logs::JavaOpts>,
}

/// One file of a host's `conf/`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfFile {
    pub file: &'static str,
    /// The service whose own file it is; None for the files every service reads.
    pub service: Option<Service>,
}

/// One service instance: a service on a host.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub service: Service,
    /// The spec's name of the service (`gateway`).
    pub name: &'static str,
    /// Linkis' daemon name (`mg-gateway`).
    pub daemon: &'static str,
    /// The systemd unit, without `.service`: `linkis-mg-gateway`.
    pub unit: String,
    /// The inventory group of the hosts that run the service: `linkis_gateway`.
    pub group: String,
    /// The name it registers under in discovery: `LINKIS-MG-GATEWAY`.
    pub app: String,
    pub port: u16,
    /// JVM heap, bytes.
    pub heap: u64,
    /// The env variable `linkis-env.sh` reads for this service's heap, if the release has one.
    pub heap_var: Option<&'static str>,
    /// The service's own conf file (it reads linkis.properties first).
    pub conf_file: &'static str,
    /// Every file of the host's `conf/` this instance reads: the shared ones, then its own.
    pub reads: Vec<&'static str>,
    /// Its index in `catalog::START_STAGES`.
    pub stage: usize,
    pub health: HealthCheck,
}

impl Host {
    pub fn runs(&self, s: Service) -> bool {
        self.instance(s).is_some()
    }

    pub fn instance(&self, s: Service) -> Option<&Instance> {
        self.instances.iter().find(|i| i.service == s)
    }

    /// `control`, `ecm`, `control+ecm` or `none`.
    pub fn role(&self) -> &'static str {
        match (self.control, self.runs(Service::Engineconnmanager)) {
            (true, true) => "control+ecm",
            (true, false) => "control",
            (false, true) => "ecm",
            (false, false) => "none",
        }
    }
}

/// The systemd unit of a daemon.
pub fn unit_name(daemon: &str) -> String {
    format!("linkis-{daemon}")
}

/// The bash glob of every Linkis service unit in a directory, whatever the release:
/// `linkis-{cg,mg,ps}-*.service` (Linkis' daemons are `linkis-<group>-<name>`; the groups from the
/// daemon names linkis-gen knows). The other units linkis-gen installs, `linkis-nftables` (the
/// firewall) and `linkis-db-backup` (the scheduled dump), are not service units: the units role
/// must never stop and delete them as stale, nor clear-server's cold-start probe count them as
/// Linkis running.
pub fn service_unit_glob() -> String {
    let mut groups: Vec<&str> = crate::spec::Service::ALIASES
        .iter()
        .filter_map(|(a, _)| a.strip_prefix("linkis-"))
        .filter_map(|d| d.split('-').next())
        .collect();
    groups.sort_unstable();
    groups.dedup();
    format!("linkis-{{{}}}-*.service", groups.join(","))
}

/// The inventory group of a service.
pub fn group_name(s: Service) -> String {
    format!("linkis_{}", s.name())
}

/// One instance; `shared` are the conf files every service of the host reads.
pub fn instance(p: &PlacedService, shared: &[&'static str]) -> Instance {
    Instance {
        service: p.service,
        name: p.service.name(),
        daemon: p.info.daemon,
        unit: unit_name(p.info.daemon),
        group: group_name(p.service),
        app: format!("LINKIS-{}", p.info.daemon.to_ascii_uppercase()),
        port: p.port,
        heap: p.heap,
        heap_var: p.info.heap_var,
        conf_file: p.info.conf_file,
        reads: shared
            .iter()
            .copied()
            .chain(std::iter::once(p.info.conf_file))
            .collect(),
        stage: start_stage(p.service),
        health: health_check(p.service),
    }
}

pub fn resolve(plan: &Plan, h: &PlacedHost) -> Host {
    let mut conf_files = vec![
        ConfFile {
            file: "linkis.properties",
            service: None,
        },
        ConfFile {
            file: "linkis-env.sh",
            service: None,
        },
        ConfFile {
            file: "application-linkis.yml",
            service: None,
        },
    ];
    if plan.release.features().engineconn_yml {
        conf_files.push(ConfFile {
            file: "application-engineconn.yml",
            service: None,
        });
    }
    // logs: the log4j2 configuration every service reads from conf/ (logging.config).
    if plan.spec.logs.is_some() {
        conf_files.push(ConfFile {
            file: "log4j2.xml",
            service: None,
        });
    }
    let shared: Vec<&'static str> = conf_files.iter().map(|c| c.file).collect();
    conf_files.extend(h.services.iter().map(|p| ConfFile {
        file: p.info.conf_file,
        service: Some(p.service),
    }));
    // linkis-cli's own file (1.2.0+), on every host: no service reads it.
    if plan.release.has_cli_conf() {
        conf_files.push(ConfFile {
            file: crate::catalog::CLI_CONF,
            service: None,
        });
    }
    let mut host = Host {
        name: h.name.clone(),
        address: h.address.clone(),
        ssh_port: h.ssh_port,
        memory: h.memory,
        cores: h.cores,
        control: h.services.iter().any(|p| p.service.role() == Role::Control),
        instances: h.services.iter().map(|p| instance(p, &shared)).collect(),
        engine_memory: h.engine_memory,
        ecm: h.ecm,
        conf_files,
        java_opts: Vec::new(),
    };
    host.java_opts = super::logs::java_opts(&plan.spec, &host);
    host
}
