//! The apply side of the output tree: the Ansible playbooks, inventory and roles, one systemd unit
//! per placed service, and the nginx front.
//!
//! Everything here is data from the `Plan` and the catalog; the text lives in templates under
//! `templates/` (site.yml, stop.yml, restart.yml, inventory/, roles/, hosts/_host_/systemd/,
//! nginx/). Role files that carry no linkis-gen value are templates too, so that the template tree
//! mirrors the output tree and `--templates` can replace any of them.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{OutFile, RenderError, Templates};
use crate::size::{PlacedHost, Plan};
use crate::spec::{DbType, Discovery, Scalar, Service, Sessions};

const ENGINECONN_ROOT_KEY: &str = "wds.linkis.engineconn.root.dir";

/// The cross-host start stages: each waits for the previous one on every host.
/// Eureka; then the gateway and the public services; then the manager (and the engine plugin
/// server where the version has one); then the entrance; then the EngineConnManagers.
pub fn stage_of(s: Service) -> usize {
    match s {
        Service::Eureka => 0,
        Service::Gateway
        | Service::Publicservice
        | Service::Cs
        | Service::Datasourcemanager
        | Service::Metadatamanager => 1,
        Service::Linkismanager | Service::Engineplugin => 2,
        Service::Entrance => 3,
        Service::Engineconnmanager => 4,
    }
}

const STAGE_NAMES: [&str; 5] = [
    "discovery (Eureka)",
    "gateway and public services",
    "resource manager",
    "entrance",
    "EngineConnManagers",
];

#[derive(Serialize)]
struct Ctx<'a> {
    cluster: ClusterCtx<'a>,
    features: crate::catalog::Features,
    hosts: Vec<HostCtx>,
    groups: Vec<GroupCtx>,
    stages: Vec<StageCtx>,
    expected: Vec<Instance>,
    gateways: Vec<Endpoint>,
    eurekas: Vec<Endpoint>,
    eureka: bool,
    /// `host:port` of Nacos when `discovery: nacos`.
    nacos_address: Option<&'a str>,
    clear_server_host: Option<String>,
    db_password_var: &'a str,
    db: DbCtx<'a>,
    redis_password_var: Option<&'a str>,
    web: WebCtx<'a>,
    engineconn_root_dir: String,
    /// Every Ansible variable the rendered files reference: the vault variables to define.
    vault_vars: Vec<String>,
}

#[derive(Serialize)]
struct ClusterCtx<'a> {
    name: &'a str,
    version: &'a str,
    line: &'a str,
    install_dir: &'a str,
    deploy_user: &'a str,
    package: &'a str,
    prefer_ip: bool,
}

#[derive(Serialize, Clone)]
struct SvcCtx {
    service: &'static str,
    daemon: &'static str,
    unit: String,
    group: String,
    port: u16,
}

#[derive(Serialize)]
struct HostCtx {
    name: String,
    address: String,
    ssh_port: u16,
    services: Vec<SvcCtx>,
}

#[derive(Serialize)]
struct GroupCtx {
    name: String,
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct StageCtx {
    index: usize,
    name: &'static str,
    /// The stage's services that run somewhere, in start order.
    services: Vec<StageSvc>,
    /// `linkis_gateway:linkis_publicservice`: the hosts of the stage.
    pattern: String,
}

#[derive(Serialize)]
struct StageSvc {
    service: &'static str,
    daemon: &'static str,
    unit: String,
    group: String,
    /// Has a health endpoint worth waiting for (Eureka, gateway).
    health: bool,
}

#[derive(Serialize)]
struct Instance {
    app: String,
    host: String,
    port: u16,
}

#[derive(Serialize)]
struct Endpoint {
    host: String,
    address: String,
    port: u16,
}

#[derive(Serialize)]
struct DbCtx<'a> {
    /// `mysql` or `postgresql`.
    kind: &'static str,
    host: &'a str,
    port: u16,
    name: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
struct WebCtx<'a> {
    listen: u16,
    server_name: &'a str,
    ip_hash: bool,
}

fn unit_name(daemon: &str) -> String {
    format!("linkis-{daemon}")
}

fn group_name(s: Service) -> String {
    format!("linkis_{}", s.name())
}

fn svc_ctx(p: &crate::size::PlacedService) -> SvcCtx {
    SvcCtx {
        service: p.service.name(),
        daemon: p.info.daemon,
        unit: unit_name(p.info.daemon),
        group: group_name(p.service),
        port: p.port,
    }
}

/// The engine root dir the conf tree sets: an override if the spec has one, else the conf tree's
/// default (Linkis' own).
fn engineconn_root_dir(plan: &Plan) -> String {
    let ecm_file = plan
        .release
        .service(Service::Engineconnmanager)
        .map(|i| i.conf_file)
        .unwrap_or("linkis-cg-engineconnmanager.properties");
    for file in [ecm_file, "linkis.properties"] {
        if let Some(Scalar(v)) = plan
            .spec
            .overrides
            .get(file)
            .and_then(|m| m.get(ENGINECONN_ROOT_KEY))
        {
            return v.clone();
        }
    }
    super::conf::ENGINECONN_ROOT_DIR.to_string()
}

fn endpoints(plan: &Plan, s: Service) -> Vec<Endpoint> {
    plan.hosts_with(s)
        .filter_map(|h| {
            h.service(s).map(|p| Endpoint {
                host: h.name.clone(),
                address: h.address.clone(),
                port: p.port,
            })
        })
        .collect()
}

fn host_ctx(h: &PlacedHost) -> HostCtx {
    HostCtx {
        name: h.name.clone(),
        address: h.address.clone(),
        ssh_port: h.ssh_port,
        services: h.services.iter().map(svc_ctx).collect(),
    }
}

/// The `{{ name }}` references in rendered files (the conf trees' secrets).
fn referenced_vars(files: &[OutFile]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let mut rest = f.contents.as_str();
        while let Some(i) = rest.find("{{ ") {
            rest = &rest[i + 3..];
            let Some(end) = rest.find(" }}") else { break };
            let name = &rest[..end];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// Renders the apply side of the tree. `rendered` holds the files already rendered (the per-host
/// conf trees), whose vault references the inventory lists and the preflight checks.
pub fn render(
    plan: &Plan,
    templates: &Templates,
    rendered: &[OutFile],
    upgrade: Option<&crate::upgrade::Upgrade>,
) -> Result<Vec<OutFile>, RenderError> {
    let spec = &plan.spec;
    let release = &plan.release;
    let services: Vec<Service> = release
        .line
        .services
        .iter()
        .map(|i| i.service)
        .filter(|s| !(spec.cluster.discovery == Discovery::Nacos && *s == Service::Eureka))
        .collect();

    let mut groups: Vec<GroupCtx> = services
        .iter()
        .map(|s| GroupCtx {
            name: group_name(*s),
            hosts: plan.hosts_with(*s).map(|h| h.name.clone()).collect(),
        })
        .collect();
    groups.push(GroupCtx {
        name: "linkis_control".into(),
        hosts: plan
            .hosts
            .iter()
            .filter(|h| h.is_control())
            .map(|h| h.name.clone())
            .collect(),
    });
    groups.push(GroupCtx {
        name: "linkis_ecm".into(),
        hosts: plan.ecm_hosts().map(|h| h.name.clone()).collect(),
    });

    let mut stages: Vec<StageCtx> = Vec::new();
    for (index, name) in STAGE_NAMES.iter().enumerate() {
        let svcs: Vec<StageSvc> = services
            .iter()
            .filter(|s| stage_of(**s) == index && plan.hosts_with(**s).next().is_some())
            .filter_map(|s| release.service(*s))
            .map(|i| StageSvc {
                service: i.service.name(),
                daemon: i.daemon,
                unit: unit_name(i.daemon),
                group: group_name(i.service),
                health: matches!(i.service, Service::Eureka | Service::Gateway),
            })
            .collect();
        if svcs.is_empty() {
            continue;
        }
        let pattern = svcs
            .iter()
            .map(|s| s.group.as_str())
            .collect::<Vec<_>>()
            .join(":");
        stages.push(StageCtx {
            index: stages.len() + 1,
            name,
            services: svcs,
            pattern,
        });
    }

    let expected: Vec<Instance> = plan
        .hosts
        .iter()
        .flat_map(|h| {
            h.services.iter().map(move |p| Instance {
                app: format!("LINKIS-{}", p.info.daemon.to_ascii_uppercase()),
                host: h.name.clone(),
                port: p.port,
            })
        })
        .collect();

    let eureka = services.contains(&Service::Eureka);
    let ctx = Ctx {
        cluster: ClusterCtx {
            name: &spec.cluster.name,
            version: release.version,
            line: release.line.id,
            install_dir: spec.cluster.install_dir.trim_end_matches('/'),
            deploy_user: &spec.cluster.deploy_user,
            package: &spec.cluster.package,
            prefer_ip: spec.cluster.prefer_ip,
        },
        features: release.features(),
        hosts: plan.hosts.iter().map(host_ctx).collect(),
        groups,
        stages,
        expected,
        gateways: endpoints(plan, Service::Gateway),
        eurekas: endpoints(plan, Service::Eureka),
        eureka,
        nacos_address: match spec.cluster.discovery {
            Discovery::Nacos => spec.cluster.nacos_address.as_deref(),
            Discovery::Eureka => None,
        },
        clear_server_host: if release.features().clear_server {
            plan.hosts_with(Service::Linkismanager)
                .next()
                .map(|h| h.name.clone())
        } else {
            None
        },
        db_password_var: &spec.database.password.vault,
        db: DbCtx {
            kind: match spec.database.kind {
                DbType::Mysql => "mysql",
                DbType::Postgresql => "postgresql",
            },
            host: &spec.database.host,
            port: spec.database.port(),
            name: &spec.database.name,
            user: &spec.database.user,
        },
        redis_password_var: match (&spec.gateway.sessions, &spec.gateway.redis) {
            (Sessions::Redis, Some(r)) => r.password.as_ref().map(|v| v.vault.as_str()),
            _ => None,
        },
        web: WebCtx {
            listen: spec.gateway.web.listen,
            server_name: &spec.gateway.web.server_name,
            ip_hash: spec.gateway.sessions != Sessions::Redis,
        },
        engineconn_root_dir: engineconn_root_dir(plan),
        vault_vars: {
            let mut v = referenced_vars(rendered);
            v.insert(spec.database.password.vault.clone());
            if let Some(r) = &spec.gateway.redis {
                if spec.gateway.sessions == Sessions::Redis {
                    if let Some(p) = &r.password {
                        v.insert(p.vault.clone());
                    }
                }
            }
            v.into_iter().collect()
        },
    };
    let value = minijinja::Value::from(minijinja::value::Serde(&ctx));

    let mut files = Vec::new();
    for name in templates.names().map(str::to_string).collect::<Vec<_>>() {
        let Some(out) = name.strip_suffix(".j2") else {
            continue;
        };
        if !is_apply_template(out) || crate::changes::is_change_template(out) {
            continue;
        }
        if out.starts_with("hosts/_host_/systemd/") {
            continue;
        }
        let text = templates.render(&name, value.clone())?;
        files.push(OutFile::new(out, text));
    }

    // An upgrade: the change plan and its playbook take the upgrade's form.
    if let Some(up) = upgrade {
        let up_ctx = minijinja::context! {
            upgrade => minijinja::Value::from(minijinja::value::Serde(up)),
            migrate_host => plan
                .hosts_with(Service::Linkismanager)
                .next()
                .map(|h| h.name.clone()),
            ..value.clone()
        };
        for out in crate::upgrade::OUTPUTS {
            let text = templates.render(&format!("upgrade/{out}.j2"), up_ctx.clone())?;
            files.push(OutFile::new(*out, text));
        }
    }

    // One unit per placed service.
    const UNIT: &str = "hosts/_host_/systemd/linkis-_daemon_.service.j2";
    for h in &plan.hosts {
        for (i, p) in h.services.iter().enumerate() {
            let before: Vec<String> = h.services[..i]
                .iter()
                .filter(|q| stage_of(q.service) < stage_of(p.service))
                .map(|q| unit_name(q.info.daemon))
                .collect();
            let ecm = p.service == Service::Engineconnmanager;
            let unit_ctx = minijinja::context! {
                cluster => value.get_attr("cluster").unwrap_or_default(),
                host => h.name.clone(),
                svc => minijinja::Value::from(minijinja::value::Serde(svc_ctx(p))),
                after => before,
                ecm => ecm,
                // The ECM always forks with a pid file: with KillMode=process systemd must signal
                // the ECM's java itself, and in foreground mode the main process is a shell.
                foreground => release.features().foreground && !ecm,
            };
            let text = templates.render(UNIT, unit_ctx)?;
            files.push(OutFile::new(
                format!(
                    "hosts/{}/systemd/{}.service",
                    h.name,
                    unit_name(p.info.daemon)
                ),
                text,
            ));
        }
    }
    Ok(files)
}

/// The output paths this module renders (every other template belongs to another module).
fn is_apply_template(out: &str) -> bool {
    matches!(out, "site.yml" | "stop.yml" | "restart.yml")
        || out.starts_with("inventory/")
        || out.starts_with("roles/")
        || out.starts_with("nginx/")
        || out.starts_with("hosts/_host_/systemd/")
}
