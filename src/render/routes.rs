//! Template routing: one table naming every template, who renders it, for what (the cluster,
//! each host, each service instance) and where its output goes.
//!
//! A template no route claims is an error: a unit test checks the embedded set, and
//! `render --templates DIR` refuses a file that no route claims.

/// What one rendering of a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One file for the whole cluster.
    Cluster,
    /// One file per host that needs it (`hosts/<host>/...`).
    Host,
    /// One file per service instance (`hosts/<host>/systemd/linkis-<daemon>.service`).
    Instance,
}

/// The module that renders a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderer {
    /// `PLAN.md` (render/plan_md.rs).
    PlanMd,
    /// The per-host Linkis trees (render/conf.rs).
    Conf,
    /// Ansible, units and nginx (render/apply.rs).
    Apply,
    /// The change plan of a running cluster: CHANGES.md, changes.yml and the role it adds
    /// (src/plan/changes.rs; only when OUT holds applied.json).
    Changes,
    /// The upgrade form of the change plan, when the release or the discovery that runs differs
    /// from the spec's (src/plan/upgrade.rs, rendered by render/apply.rs in place of `Changes`).
    Upgrade,
    /// `OUT/monitoring/`: the Prometheus scrape config and alert rules (render/monitoring.rs;
    /// only with `monitoring.prometheus`); and each host's `os/` files of `logs:` (logrotate,
    /// systemd-tmpfiles; only with `logs:`, tmpfiles only on ECM hosts).
    Monitoring,
}

/// One template and what it renders.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The template's path under `templates/`.
    pub template: &'static str,
    pub renderer: Renderer,
    pub scope: Scope,
    /// The output path; `_host_` stands for the host's name and `_daemon_` for the daemon's.
    pub out: &'static str,
}

impl Route {
    /// The output path for one host (and daemon, for instance routes).
    pub fn out_path(&self, host: &str, daemon: &str) -> String {
        self.out
            .replacen("_host_", host, 1)
            .replacen("_daemon_", daemon, 1)
    }
}

macro_rules! routes {
    (@template $out:literal) => { concat!($out, ".j2") };
    (@template $out:literal $template:literal) => { $template };
    ($($renderer:ident $scope:ident $out:literal $(from $template:literal)?;)*) => {
        &[$(Route {
            template: routes!(@template $out $($template)?),
            renderer: Renderer::$renderer,
            scope: Scope::$scope,
            out: $out,
        }),*]
    };
}

/// Every template. Host routes under `hosts/_host_/conf/` render for the hosts whose
/// `model::Host::conf_files` name the file; the sbin scripts for every host.
pub static ROUTES: &[Route] = routes! {
    PlanMd Cluster "PLAN.md";
    Conf Host "hosts/_host_/conf/application-engineconn.yml";
    Conf Host "hosts/_host_/conf/application-eureka.yml";
    Conf Host "hosts/_host_/conf/application-linkis.yml";
    Conf Host "hosts/_host_/conf/linkis-cg-engineconnmanager.properties";
    Conf Host "hosts/_host_/conf/linkis-cg-engineplugin.properties";
    Conf Host "hosts/_host_/conf/linkis-cg-entrance.properties";
    Conf Host "hosts/_host_/conf/linkis-cg-linkismanager.properties";
    Conf Host "hosts/_host_/conf/linkis-cli/linkis-cli.properties";
    Conf Host "hosts/_host_/conf/linkis-env.sh";
    Conf Host "hosts/_host_/conf/linkis-mg-gateway.properties";
    Conf Host "hosts/_host_/conf/linkis-ps-cs.properties";
    Conf Host "hosts/_host_/conf/linkis-ps-data-source-manager.properties";
    Conf Host "hosts/_host_/conf/linkis-ps-metadatamanager.properties";
    Conf Host "hosts/_host_/conf/linkis-ps-metadataquery.properties";
    Conf Host "hosts/_host_/conf/linkis-ps-publicservice.properties";
    Conf Host "hosts/_host_/conf/linkis.properties";
    Conf Host "hosts/_host_/conf/log4j2.xml";
    Conf Host "hosts/_host_/sbin/linkis-start-all.sh";
    Conf Host "hosts/_host_/sbin/linkis-stop-all.sh";
    Apply Cluster "ansible.cfg";
    Apply Cluster "backup.yml";
    Apply Cluster "backup/linkis-db-backup.service";
    Apply Cluster "backup/linkis-db-backup.sh";
    Apply Cluster "backup/linkis-db-backup.timer";
    Apply Instance "hosts/_host_/systemd/linkis-_daemon_.service";
    Apply Host "hosts/_host_/nftables/linkis.nft";
    Apply Host "hosts/_host_/keepalived/keepalived.conf";
    Apply Cluster "filter_plugins/linkis_fill.py";
    Apply Cluster "filter_plugins/linkis_sql.py";
    Apply Cluster "inventory/group_vars/all/main.yml";
    Apply Cluster "inventory/hosts.yml";
    Apply Cluster "nginx/linkis.conf";
    Apply Cluster "restart.yml";
    Apply Cluster "rotate-tokens.yml";
    Apply Cluster "roles/linkis_backup/defaults/main.yml";
    Apply Cluster "roles/linkis_backup/tasks/main.yml";
    Apply Cluster "roles/linkis_backup/templates/client.cnf.j2";
    Apply Cluster "roles/linkis_backup/templates/pg_service.conf.j2";
    Apply Cluster "roles/linkis_backup/templates/pgpass.j2";
    Apply Cluster "roles/linkis_clear_server/tasks/main.yml";
    Apply Cluster "roles/linkis_configure/defaults/main.yml";
    Apply Cluster "roles/linkis_configure/tasks/main.yml";
    Apply Cluster "roles/linkis_configure/templates/db.sh.j2";
    Apply Cluster "roles/linkis_configure/templates/linkis-systemd.env.j2";
    Apply Cluster "roles/linkis_db/defaults/main.yml";
    Apply Cluster "roles/linkis_db/tasks/main.yml";
    Apply Cluster "roles/linkis_db/templates/bootstrap.sql.j2";
    Apply Cluster "roles/linkis_firewall/files/linkis-nftables.service";
    Apply Cluster "roles/linkis_firewall/handlers/main.yml";
    Apply Cluster "roles/linkis_firewall/tasks/main.yml";
    Apply Cluster "roles/linkis_entrance/defaults/main.yml";
    Apply Cluster "roles/linkis_entrance/tasks/main.yml";
    Apply Cluster "roles/linkis_install/tasks/main.yml";
    Apply Cluster "roles/linkis_keepalived/defaults/main.yml";
    Apply Cluster "roles/linkis_keepalived/files/linkis-front-check.sh";
    Apply Cluster "roles/linkis_keepalived/handlers/main.yml";
    Apply Cluster "roles/linkis_keepalived/tasks/main.yml";
    Apply Cluster "roles/linkis_jdbc/defaults/main.yml";
    Apply Cluster "roles/linkis_logs/tasks/main.yml";
    Apply Cluster "roles/linkis_jdbc/tasks/main.yml";
    Apply Cluster "roles/linkis_preflight/defaults/main.yml";
    Apply Cluster "roles/linkis_preflight/tasks/main.yml";
    Apply Cluster "roles/linkis_preflight_ecm/tasks/main.yml";
    Apply Cluster "roles/linkis_start/defaults/main.yml";
    Apply Cluster "roles/linkis_start/tasks/main.yml";
    Apply Cluster "roles/linkis_start/tasks/one.yml";
    Apply Cluster "roles/linkis_storage/defaults/main.yml";
    Apply Cluster "roles/linkis_storage/tasks/main.yml";
    Apply Cluster "roles/linkis_units/defaults/main.yml";
    Apply Cluster "roles/linkis_units/handlers/main.yml";
    Apply Cluster "roles/linkis_units/tasks/main.yml";
    Apply Cluster "roles/linkis_upgrade/defaults/main.yml";
    Apply Cluster "roles/linkis_upgrade/files/linkis-db-upgrade.sh";
    Apply Cluster "roles/linkis_upgrade/handlers/main.yml";
    Apply Cluster "roles/linkis_upgrade/tasks/backup.yml";
    Apply Cluster "roles/linkis_upgrade/tasks/main.yml";
    Apply Cluster "roles/linkis_upgrade/tasks/migrate.yml";
    Apply Cluster "roles/linkis_upgrade/tasks/preflight.yml";
    Apply Cluster "roles/linkis_upgrade/tasks/remove_units.yml";
    Apply Cluster "roles/linkis_upstream/tasks/main.yml";
    Apply Cluster "roles/linkis_verify/defaults/main.yml";
    Apply Cluster "roles/linkis_verify/tasks/main.yml";
    Apply Cluster "roles/linkis_web/handlers/main.yml";
    Apply Cluster "roles/linkis_web/tasks/main.yml";
    Apply Cluster "site.yml";
    Apply Cluster "status.yml";
    Apply Cluster "stop.yml";
    Apply Cluster "adopt.yml";
    Apply Cluster "roles/linkis_adopt/defaults/main.yml";
    Apply Cluster "roles/linkis_adopt/tasks/backup.yml";
    Apply Cluster "roles/linkis_adopt/tasks/handover.yml";
    Apply Cluster "roles/linkis_adopt/tasks/main.yml";
    Apply Cluster "roles/linkis_adopt/tasks/plan.yml";
    Apply Cluster "roles/linkis_adopt/tasks/read.yml";
    Changes Cluster "CHANGES.md";
    Changes Cluster "changes.yml";
    Changes Cluster "roles/linkis_change/defaults/main.yml";
    Changes Cluster "roles/linkis_change/tasks/main.yml";
    Changes Cluster "roles/linkis_change/tasks/remove.yml";
    Changes Cluster "roles/linkis_db_rows/defaults/main.yml";
    Changes Cluster "roles/linkis_db_rows/files/probe.sql";
    Changes Cluster "roles/linkis_db_rows/files/update.sql";
    Changes Cluster "roles/linkis_db_rows/tasks/main.yml";
    Upgrade Cluster "CHANGES.md" from "upgrade/CHANGES.md.j2";
    Upgrade Cluster "changes.yml" from "upgrade/changes.yml.j2";
    Monitoring Cluster "monitoring/linkis-rules.yml";
    Monitoring Cluster "monitoring/prometheus.yml";
    Monitoring Host "hosts/_host_/os/logrotate.conf";
    Monitoring Host "hosts/_host_/os/tmpfiles.conf";
};

/// Templates that render no file of their own: other templates include them (`[% include %]`).
/// `_fragments/net-probe.sh.j2`: the bash functions the roles' probes share (a TCP port that
/// opens, a health endpoint that answers 200); `_fragments/record.yml.j2`: the last two plays of
/// site.yml and changes.yml, which record applied.json only after a whole run that failed nowhere;
/// `_fragments/db-credentials.yml.j2` and its `-cleanup`: the tasks that write the DB password
/// into a private 0600 file for a database client, and remove it (linkis_db, linkis_upgrade,
/// linkis_clear_server).
pub static FRAGMENTS: &[&str] = &[
    "_fragments/net-probe.sh.j2",
    "_fragments/record.yml.j2",
    "_fragments/db-credentials.yml.j2",
    "_fragments/db-credentials-cleanup.yml.j2",
];

/// The route of a template, if one claims it.
pub fn route(template: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.template == template)
}

/// The routes of one renderer and scope, in table order.
pub fn of(renderer: Renderer, scope: Scope) -> impl Iterator<Item = &'static Route> {
    ROUTES
        .iter()
        .filter(move |r| r.renderer == renderer && r.scope == scope)
}

/// The templates no route claims and no other template includes.
pub fn unclaimed<'a>(templates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    templates
        .into_iter()
        .filter(|t| route(t).is_none() && !FRAGMENTS.contains(t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_has_a_route_and_every_route_a_template() {
        let embedded: Vec<&str> = super::super::embedded_names().collect();
        assert_eq!(
            unclaimed(embedded.iter().copied()),
            Vec::<&str>::new(),
            "templates no route claims: add them to ROUTES"
        );
        for t in ROUTES
            .iter()
            .map(|r| r.template)
            .chain(FRAGMENTS.iter().copied())
        {
            assert!(
                embedded.contains(&t),
                "route or fragment without a template: {t}"
            );
        }
    }

    #[test]
    fn an_unclaimed_template_is_found() {
        assert_eq!(
            unclaimed(["site.yml.j2", "templates/extra.yml.j2"]),
            ["templates/extra.yml.j2"]
        );
    }

    #[test]
    fn out_paths_fill_in_host_and_daemon() {
        let unit = route("hosts/_host_/systemd/linkis-_daemon_.service.j2").unwrap();
        assert_eq!(unit.scope, Scope::Instance);
        assert_eq!(
            unit.out_path("s1", "mg-gateway"),
            "hosts/s1/systemd/linkis-mg-gateway.service"
        );
    }
}
