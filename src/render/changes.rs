//! Renders the change plan (src/plan/changes.rs) of a running cluster: `CHANGES.md`, `changes.yml` and
//! the `linkis_change` role, through the `Changes` routes. Nothing when OUT holds no applied.json.

use serde::Serialize;

use super::routes;
use super::{OutFile, RenderError, Templates};
use crate::model::Model;
use crate::plan::changes::{
    ChangePlan, FirewallChange, InstanceChange, PlanHost, RemovePlay, Restart, is_empty,
};
use crate::state::State;

/// A change file's context: the plan (`c`) and how changes.yml performs it (`c.steps`, laid
/// out under the names the templates read), with the model's values the plays need.
#[derive(Serialize)]
struct Ctx<'a> {
    c: &'a ChangePlan,
    empty: bool,
    hosts: &'a [PlanHost],
    start: &'a [Restart],
    start_hosts: &'a [String],
    registry_nodes: &'a [String],
    remove: &'a [InstanceChange],
    remove_plays: &'a [RemovePlay],
    gateway: &'a str,
    manager: &'a str,
    registry: &'a str,
    /// The release can mark an entrance offline (`/entrance/operation/label/markoffline` and
    /// `/entrance/operation/metrics/runningtask`, from Linkis 1.2.0 on).
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
    firewall: Option<&'a FirewallChange>,
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

/// `CHANGES.md`, `changes.yml` and the role it uses, from the change plan (computed once, by
/// `render_tree`, from the model and the rendered state).
pub fn render(
    model: &Model,
    templates: &Templates,
    c: &ChangePlan,
    rendered: &State,
) -> Result<Vec<OutFile>, RenderError> {
    let st = &c.steps;
    let ctx = Ctx {
        db: db_rows(model, c),
        empty: is_empty(c),
        hosts: &st.hosts,
        start: &st.start,
        start_hosts: &st.start_hosts,
        registry_nodes: &st.registry_nodes,
        remove: &st.remove,
        remove_plays: &st.remove_plays,
        gateway: &st.gateway,
        manager: &st.manager,
        registry: &st.registry,
        // The plan is of the release the model renders (an upgrade has its own, src/plan/upgrade.rs).
        entrance_offline_api: model.features.entrance_offline_api,
        entrance_backonline_api: model.features.entrance_backonline_api,
        entrance_drain_timeout: crate::model::ENTRANCE_DRAIN_TIMEOUT,
        eureka: rendered.discovery == "eureka",
        admin_user: &model.platform.admin_user,
        admin_password_var: &model.platform.admin_password_var,
        firewall: model.firewall.as_ref().map(|_| &st.firewall),
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
