//! The apply side of the output tree: the Ansible playbooks, inventory and roles, one systemd unit
//! per placed service, and the nginx front.
//!
//! Everything here is data from the `Model`; the text lives in templates under
//! `templates/` (site.yml, stop.yml, restart.yml, inventory/, roles/, hosts/_host_/systemd/,
//! nginx/). Role files that carry no linkis-gen value are templates too, so that the template tree
//! mirrors the output tree and `--templates` can replace any of them.

use serde::Serialize;

use super::routes::{self, Scope};
use super::{OutFile, RenderError, Templates, conf};
use crate::model::keys;
use crate::model::{Endpoint, Host, Instance, Model, order};

#[derive(Serialize)]
struct Ctx<'a> {
    cluster: &'a crate::model::Cluster,
    features: crate::catalog::Features,
    hosts: Vec<HostCtx<'a>>,
    groups: &'a [order::Group],
    stages: &'a [order::Stage],
    /// The placed services in the line's stop order (linkis-stop-all.sh), for stop.yml.
    stops: &'a [order::StageSvc],
    expected: &'a [order::Expected],
    gateways: &'a [Endpoint],
    eurekas: &'a [Endpoint],
    eureka: bool,
    /// `host:port` of Nacos when the cluster registers with Nacos.
    nacos_address: Option<&'a str>,
    clear_server_host: Option<&'a str>,
    db_password_var: &'a str,
    db: &'a crate::model::Database,
    redis_password_var: Option<&'a str>,
    web: WebCtx<'a>,
    engineconn_root_dir: &'a str,
    /// `cluster.java_home`, or empty.
    java_home: &'a str,
    /// Every Ansible variable the rendered files reference: the vault variables to define.
    vault_vars: &'a [String],
    /// The database bootstrap, JDBC driver, ECM checks and storage directories.
    setup: &'a crate::model::Setup,
    /// The database dumps (backup.yml, roles/linkis_backup, OUT/backup/).
    backup: &'a crate::model::Backup,
}

#[derive(Serialize, Clone)]
struct SvcCtx<'a> {
    service: &'static str,
    daemon: &'static str,
    unit: &'a str,
    group: &'a str,
    port: u16,
}

#[derive(Serialize)]
struct HostCtx<'a> {
    name: &'a str,
    address: &'a str,
    ssh_port: u16,
    services: Vec<SvcCtx<'a>>,
}

#[derive(Serialize)]
struct WebCtx<'a> {
    listen: u16,
    server_name: &'a str,
    ip_hash: bool,
    tls: Option<&'a crate::model::front::Tls>,
    vip: Option<&'a crate::model::front::Vip>,
    /// The URL operators open.
    url: &'a str,
}

fn svc_ctx(i: &Instance) -> SvcCtx<'_> {
    SvcCtx {
        service: i.name,
        daemon: i.daemon,
        unit: &i.unit,
        group: &i.group,
        port: i.port,
    }
}

fn host_ctx(h: &Host) -> HostCtx<'_> {
    HostCtx {
        name: &h.name,
        address: &h.address,
        ssh_port: h.ssh_port,
        services: h.instances.iter().map(svc_ctx).collect(),
    }
}

fn ctx(m: &Model) -> Ctx<'_> {
    Ctx {
        cluster: &m.cluster,
        features: m.features,
        hosts: m.hosts.iter().map(host_ctx).collect(),
        groups: &m.order.groups,
        stages: &m.order.stages,
        stops: &m.order.stops,
        expected: &m.order.expected,
        gateways: &m.gateway.endpoints,
        eurekas: &m.discovery.eurekas,
        eureka: m.discovery.eureka,
        nacos_address: (!m.discovery.eureka && !m.discovery.nacos_address.is_empty())
            .then_some(m.discovery.nacos_address.as_str()),
        clear_server_host: m.order.clear_server_host.as_deref(),
        db_password_var: &m.database.password_var,
        db: &m.database,
        redis_password_var: m
            .sessions
            .redis
            .as_ref()
            .and_then(|r| r.password_var.as_deref()),
        web: WebCtx {
            listen: m.web.listen,
            server_name: &m.web.server_name,
            ip_hash: m.sessions.ip_hash,
            tls: m.web.tls.as_ref(),
            vip: m.web.vip.as_ref(),
            url: &m.web.url,
        },
        engineconn_root_dir: &m.engineconn_root_dir,
        java_home: m.platform.java_home.as_deref().unwrap_or_default(),
        vault_vars: &m.vault_vars,
        setup: &m.setup,
        backup: &m.backup,
    }
}

/// Renders the apply side of the tree: the files of its cluster and host routes (the units of
/// its instance routes are rendered per host: `Units`).
/// With an upgrade (src/plan/upgrade.rs), also CHANGES.md and changes.yml in their upgrade form.
pub fn render(
    m: &Model,
    templates: &Templates,
    upgrade: Option<&crate::plan::upgrade::Upgrade>,
) -> Result<Vec<OutFile>, RenderError> {
    let whole = minijinja::Value::from(minijinja::value::Serde(m));
    let ctx = minijinja::Value::from(minijinja::value::Serde(ctx(m)));
    let value = minijinja::context! {
        model => whole.clone(),
        tls_dir => crate::model::front::TLS_DIR,
        fw_dir => crate::model::front::FIREWALL_DIR,
        ka_dir => crate::model::front::KEEPALIVED_DIR,
        web_port => crate::model::front::web_port(&m.web),
        service_unit_glob => crate::model::service_unit_glob(),
        entrance_drain_timeout => crate::model::ENTRANCE_DRAIN_TIMEOUT,
        ..ctx.clone()
    };
    let mut files = Vec::new();
    for route in routes::of(routes::Renderer::Apply, Scope::Cluster) {
        let text = templates.render(route.template, value.clone())?;
        files.push(OutFile::new(route.out, text));
    }
    for route in routes::of(routes::Renderer::Apply, Scope::Host) {
        for h in &m.hosts {
            if let Some(host_ctx) = front_host_ctx(m, &value, route.out, h) {
                let text = templates.render(route.template, host_ctx)?;
                files.push(OutFile::new(route.out_path(&h.name, ""), text));
            }
        }
    }
    if let Some(up) = upgrade {
        let up_ctx = minijinja::context! {
            upgrade => minijinja::Value::from(minijinja::value::Serde(up)),
            migrate_host => m.order.manager_host.clone(),
            ..value.clone()
        };
        for route in routes::of(routes::Renderer::Upgrade, Scope::Cluster) {
            let text = templates.render(route.template, up_ctx.clone())?;
            files.push(OutFile::new(route.out, text));
        }
    }
    Ok(files)
}

/// The systemd units of one host (the instance routes: one per service instance), for render's
/// per-host jobs, which take each host's state once its conf files and units are built: the
/// shared part of every unit's context converted once.
pub struct Units<'a> {
    m: &'a Model,
    templates: &'a Templates,
    cluster: minijinja::Value,
    whole: minijinja::Value,
}

impl<'a> Units<'a> {
    /// `whole`: the model as a template value (`model` in every context).
    pub fn new(m: &'a Model, templates: &'a Templates, whole: minijinja::Value) -> Units<'a> {
        Units {
            m,
            templates,
            cluster: ser(&m.cluster),
            whole,
        }
    }

    /// The units of host `h`'s instances; their key tables go into `tables` (by path), for
    /// state.json.
    pub fn render(&self, h: &Host, tables: &mut conf::Tables) -> Result<Vec<OutFile>, RenderError> {
        let mut files = Vec::new();
        for route in routes::of(routes::Renderer::Apply, Scope::Instance) {
            for (i, inst) in h.instances.iter().enumerate() {
                let table = keys::unit::file_keys(self.m, h, i);
                let unit_ctx = unit_ctx(self.m, &self.cluster, &self.whole, h, i, &table);
                let text = self.templates.render(route.template, unit_ctx)?;
                let f = OutFile::new(route.out_path(&h.name, inst.daemon), text);
                tables.insert(f.path.clone(), table);
                files.push(f);
            }
        }
        Ok(files)
    }
}

/// The context of instance `i`'s unit on host `h`: its directives from the key table
/// (`keys.<block>`), and what its comments say.
fn unit_ctx(
    m: &Model,
    cluster: &minijinja::Value,
    whole: &minijinja::Value,
    h: &Host,
    i: usize,
    table: &keys::FileKeys,
) -> minijinja::Value {
    let inst = &h.instances[i];
    let ecm = inst.service == crate::spec::Service::Engineconnmanager;
    minijinja::context! {
        model => whole.clone(),
        cluster => cluster.clone(),
        host => h.name.clone(),
        svc => minijinja::Value::from(minijinja::value::Serde(svc_ctx(inst))),
        keys => conf::sections_of(&keys::unit::BLOCKS, Some(table)),
        ecm => ecm,
        foreground => keys::unit::foreground(m, inst),
    }
}

fn ser<T: Serialize>(v: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

/// The context of a host file of the front (`hosts/<host>/nftables/`, `hosts/<host>/keepalived/`),
/// or None when the host has no such file: the firewall's table on every host when
/// `security.firewall` is on, keepalived's config on the web hosts when there is a VIP.
fn front_host_ctx(
    m: &Model,
    value: &minijinja::Value,
    out: &str,
    h: &Host,
) -> Option<minijinja::Value> {
    if out.contains("/nftables/") {
        let fw = m.firewall.as_ref()?;
        let fh = fw.hosts.iter().find(|f| f.host == h.name)?;
        Some(minijinja::context! { fw => ser(fw), fw_host => ser(fh), ..value.clone() })
    } else if out.contains("/keepalived/") {
        let vip = m.web.vip.as_ref()?;
        let member = vip.members.iter().find(|v| v.host == h.name)?;
        Some(minijinja::context! { vip => ser(vip), member => ser(member), ..value.clone() })
    } else {
        Some(minijinja::context! { host => h.name.clone(), ..value.clone() })
    }
}
