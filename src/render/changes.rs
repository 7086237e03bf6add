//! Renders the change plan (src/plan/changes.rs) of a running cluster: `CHANGES.md`, `changes.yml` and
//! the `linkis_change` role, through the `Changes` routes. Nothing when OUT holds no applied.json.

use serde::Serialize;

use super::routes;
use super::{OutFile, RenderError, Templates};
use crate::model::Model;
use crate::plan::changes::{ChangePlan, InstanceChange, Restart, is_empty, per_service};
use crate::state::State;

/// Whether this release's entrance can be marked offline (`/entrance/operation/label/markoffline`
/// and `/entrance/operation/metrics/runningtask`, from Linkis 1.2.0 on).
#[derive(Serialize)]
struct HostCtx<'a> {
    name: &'a str,
    status: &'static str,
    instances: Vec<&'a InstanceChange>,
}

#[derive(Serialize)]
struct RemovePlay {
    hosts: Vec<String>,
    gone: bool,
}

#[derive(Serialize)]
struct Ctx<'a> {
    c: &'a ChangePlan,
    empty: bool,
    hosts: Vec<HostCtx<'a>>,
    /// Added instances grouped per service, in start order (as `Restart`, for the start plays).
    start: Vec<Restart>,
    /// Hosts with added instances.
    start_hosts: Vec<String>,
    /// The Eureka nodes that run before and after the change. New instances must be listed by
    /// these before anything stops: a new Eureka node hears of registrations only once these
    /// restart with it as a peer (Eureka replicates to the peers a node was started with).
    registry_nodes: Vec<String>,
    /// Removed instances in stop order: ECMs and entrances first (drained), Eureka last.
    remove: Vec<&'a InstanceChange>,
    /// The removal plays: hosts still in the spec first (strict), then hosts removed from it
    /// (an unreachable one, e.g. a failed host being replaced, is skipped).
    remove_plays: Vec<RemovePlay>,
    /// A gateway that runs before and after the change, `address:port`, for the drain API.
    gateway: String,
    /// A manager and a Eureka node that run before and after the change, `address:port`: a
    /// removed ECM is marked unhealthy in the manager (modifyEMInfo) under the name its Eureka
    /// registration gives, so that no new engine is placed on it while it drains.
    manager: String,
    registry: String,
    entrance_offline_api: bool,
    /// The release can put an offline entrance back online (`backonline`, 1.5.0+).
    entrance_backonline_api: bool,
    /// How long a restarted entrance's running jobs are waited for, seconds.
    entrance_drain_timeout: u32,
    eureka: bool,
    /// Who logs in to drain an entrance (`wds.linkis.admin.user`), and the vault variable of
    /// the password.
    admin_user: &'a str,
    admin_password_var: &'a str,
    /// `security.firewall`: the addresses that change in the hosts' tables.
    firewall: Option<FirewallChange>,
    /// Where the hosts keep the Linkis table (the role's directory).
    fw_dir: &'static str,
    /// The seeded database rows that change (linkis_db_rows), when any.
    db: Option<DbRowsCtx>,
}

/// What the `linkis_db_rows` role of changes.yml runs, on the bootstrap host: the SQL texts are
/// built here from the model's values (src/render/escape.rs `sql_string`), rendered into the
/// role's files and copied as they are (never templated by Ansible).
#[derive(Serialize)]
struct DbRowsCtx {
    host: String,
    /// `mysql` or `postgresql`.
    kind: &'static str,
    /// The touched tables, dumped first.
    tables: Vec<String>,
    /// How many rows still hold a recorded old value (0: nothing to do, a re-run).
    probe: String,
    /// The updates, in one transaction, with a check of each planned value after them.
    update: String,
}

/// The probe and the update of the changed rows (see `DbRowsCtx`).
fn db_rows_sql(rows: &[crate::plan::changes::DbRowChange], mysql: bool) -> (String, String) {
    use super::escape::sql_string;
    let q = |s: &str| sql_string(mysql, s);
    let contains = |col: &str, text: &str| {
        if mysql {
            format!("LOCATE({}, {col}) > 0", q(text))
        } else {
            format!("POSITION({} IN {col}) > 0", q(text))
        }
    };
    let mut probe = Vec::new();
    let mut update = String::from(if mysql {
        "START TRANSACTION;\n"
    } else {
        "BEGIN;\n"
    });
    for r in rows {
        let (set, matches) = if r.fragment {
            (
                format!("REPLACE({c}, {}, {})", q(&r.old), q(&r.new), c = r.column),
                contains(&r.column, &r.old),
            )
        } else {
            (q(&r.new), format!("{} = {}", r.column, q(&r.old)))
        };
        let cond = format!("{} AND {matches}", r.key);
        probe.push(format!("(SELECT COUNT(*) FROM {} WHERE {cond})", r.table));
        let stmt = format!("UPDATE {} SET {} = {set} WHERE {cond}", r.table, r.column);
        // The id and the spec path only: values (applied.json's may hold anything) stay in
        // string literals.
        update.push_str(&format!("-- {} ({})\n", r.id, r.source));
        if mysql {
            update.push_str(&format!(
                "{stmt};\nSELECT CONCAT('changed ', ROW_COUNT());\n"
            ));
        } else {
            update.push_str(&format!(
                "WITH u AS ({stmt} RETURNING 1) SELECT 'changed ' || COUNT(*) FROM u;\n"
            ));
        }
    }
    // Each value a fragment's row must now hold: a row edited by hand since (neither the old
    // nor the new value in it) fails the run here, and the transaction is rolled back. A
    // subquery of two rows is an error in every database.
    for r in rows.iter().filter(|r| r.fragment) {
        update.push_str(&format!(
            "SELECT (SELECT 1 UNION ALL SELECT 1{} WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} AND {})) AS {};\n",
            if mysql { " FROM DUAL" } else { "" },
            r.table,
            r.key,
            contains(&r.column, &r.new),
            if mysql { "`the row holds the new value`" } else { "\"the row holds the new value\"" },
        ));
    }
    update.push_str("COMMIT;\n");
    (format!("SELECT {};\n", probe.join(" + ")), update)
}

/// The hosts' nftables tables through a change: every table as rendered before a new host's
/// service starts (the added hosts among the sources), the removed hosts' addresses added to the
/// loaded sets until their instances are drained and stopped, then every table reloaded.
#[derive(Serialize)]
struct FirewallChange {
    added4: Vec<String>,
    added6: Vec<String>,
    removed4: Vec<String>,
    removed6: Vec<String>,
}

fn firewall_change(c: &ChangePlan) -> FirewallChange {
    let split = |hosts: &[crate::plan::changes::HostRef]| -> (Vec<String>, Vec<String>) {
        hosts
            .iter()
            .map(|h| h.address.clone())
            .partition(|a| !a.contains(':'))
    };
    let (added4, added6) = split(&c.hosts_added);
    let (removed4, removed6) = split(&c.hosts_removed);
    FirewallChange {
        added4,
        added6,
        removed4,
        removed6,
    }
}

/// `CHANGES.md`, `changes.yml` and the role it uses, from the change plan (computed once, by
/// `render_tree`, from the model and the rendered state).
pub fn render(
    model: &Model,
    templates: &Templates,
    c: &ChangePlan,
    rendered: &State,
) -> Result<Vec<OutFile>, RenderError> {
    let start = per_service(&c.instances, "added");
    let start_hosts = start_hosts(&start);
    let remove = removed_in_stop_order(c);
    let ctx = Ctx {
        db: db_rows(model, c),
        empty: is_empty(c),
        hosts: hosts_of(model, c),
        start,
        start_hosts,
        registry_nodes: registry_nodes(c),
        remove_plays: remove_plays(c, &remove),
        remove,
        gateway: staying(c, "gateway"),
        manager: staying(c, "linkismanager"),
        registry: staying(c, "eureka"),
        entrance_offline_api: crate::catalog::Release::find(&c.release)
            .is_some_and(|r| r.features().entrance_offline_api),
        entrance_backonline_api: crate::catalog::Release::find(&c.release)
            .is_some_and(|r| r.features().entrance_backonline_api),
        entrance_drain_timeout: crate::model::ENTRANCE_DRAIN_TIMEOUT,
        eureka: rendered.discovery == "eureka",
        admin_user: &model.platform.admin_user,
        admin_password_var: &model.platform.admin_password_var,
        firewall: model.firewall.as_ref().map(|_| firewall_change(c)),
        fw_dir: crate::model::front::FIREWALL_DIR,
        c,
    };
    let value = minijinja::Value::from(minijinja::value::Serde(&ctx));
    let mut files = Vec::new();
    for route in routes::of(routes::Renderer::Changes, routes::Scope::Cluster) {
        // The role of the seeded rows only when some change.
        if ctx.db.is_none() && route.out.starts_with("roles/linkis_db_rows/") {
            continue;
        }
        let text = templates.render(route.template, value.clone())?;
        files.push(OutFile::new(route.out, text));
    }
    Ok(files)
}

/// Every host with an instance in the plan, its instances, and whether it is new, kept or
/// removed: the spec's hosts in its order, then the removed ones.
fn hosts_of<'a>(model: &Model, c: &'a ChangePlan) -> Vec<HostCtx<'a>> {
    let mut hosts: Vec<HostCtx> = Vec::new();
    for i in &c.instances {
        match hosts.iter_mut().find(|h| h.name == i.host) {
            Some(h) => h.instances.push(i),
            None => hosts.push(HostCtx {
                name: &i.host,
                status: if c.hosts_added.iter().any(|h| h.name == i.host) {
                    "new"
                } else if c.hosts_removed.iter().any(|h| h.name == i.host) {
                    "removed"
                } else {
                    "kept"
                },
                instances: vec![i],
            }),
        }
    }
    let order: Vec<&str> = model
        .hosts
        .iter()
        .map(|h| h.name.as_str())
        .chain(c.hosts_removed.iter().map(|h| h.name.as_str()))
        .collect();
    hosts.sort_by_key(|h| order.iter().position(|n| *n == h.name));
    hosts
}

/// The hosts of the start plays, each once, in the plays' order.
fn start_hosts(start: &[Restart]) -> Vec<String> {
    let mut start_hosts: Vec<String> = Vec::new();
    for r in start {
        for h in &r.hosts {
            if !start_hosts.contains(h) {
                start_hosts.push(h.clone());
            }
        }
    }
    start_hosts
}

/// The Eureka nodes that run before and after the change.
fn registry_nodes(c: &ChangePlan) -> Vec<String> {
    c.instances
        .iter()
        .filter(|i| i.service == "eureka" && matches!(i.kind, "reconfigured" | "unchanged"))
        .map(|i| i.host.clone())
        .collect()
}

/// The removed instances in stop order (the reverse of the start order).
fn removed_in_stop_order(c: &ChangePlan) -> Vec<&InstanceChange> {
    let mut remove: Vec<&InstanceChange> =
        c.instances.iter().filter(|i| i.kind == "removed").collect();
    remove.reverse();
    remove
}

/// The removal plays: the hosts still in the spec first, then the hosts removed from it.
fn remove_plays(c: &ChangePlan, remove: &[&InstanceChange]) -> Vec<RemovePlay> {
    let mut remove_plays: Vec<RemovePlay> = Vec::new();
    for gone in [false, true] {
        let mut hosts: Vec<String> = Vec::new();
        for i in remove {
            let is_gone = c.hosts_removed.iter().any(|h| h.name == i.host);
            if is_gone == gone && !hosts.contains(&i.host) {
                hosts.push(i.host.clone());
            }
        }
        if !hosts.is_empty() {
            remove_plays.push(RemovePlay { hosts, gone });
        }
    }
    remove_plays
}

/// `address:port` of an instance of a service that runs before and after the change (else a
/// new one); empty when the service has none.
fn staying(c: &ChangePlan, service: &str) -> String {
    c.instances
        .iter()
        .find(|i| i.service == service && matches!(i.kind, "unchanged" | "reconfigured"))
        .or_else(|| {
            c.instances
                .iter()
                .find(|i| i.service == service && i.kind == "added")
        })
        .map(|i| crate::spec::host_port(&i.address, i.port))
        .unwrap_or_default()
}

/// What the `linkis_db_rows` role runs, when seeded rows change.
fn db_rows(model: &Model, c: &ChangePlan) -> Option<DbRowsCtx> {
    (!c.db_rows.is_empty()).then(|| {
        let boot = &model.setup.dbboot;
        let mysql = boot.kind == "mysql";
        let (probe, update) = db_rows_sql(&c.db_rows, mysql);
        let mut tables: Vec<String> = Vec::new();
        for r in &c.db_rows {
            if !tables.contains(&r.table) {
                tables.push(r.table.clone());
            }
        }
        DbRowsCtx {
            host: boot.host.clone(),
            kind: boot.kind,
            tables,
            probe,
            update,
        }
    })
}

/// Whether a rendered path belongs to the change plan (rendered only when the cluster runs).
pub fn is_change_file(path: &str) -> bool {
    routes::of(routes::Renderer::Changes, routes::Scope::Cluster).any(|r| r.out == path)
}
