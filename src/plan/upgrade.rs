//! Upgrades between Linkis releases: what changes when the spec's release (or discovery) differs
//! from the one that runs (`OUT/.linkis-gen/applied.json`).
//!
//! From the release that runs (A), the spec's release (B) and the database type, the catalog gives
//! everything the upgrade plan and playbook need: the release's own migration scripts for every
//! schema version after A up to B (`db/upgrade/<version>_schema/<dbtype>/`, from B's tarball), the
//! releases in between that ship none, the conf keys that appear and disappear, the services that
//! appear and disappear (folded into another one), and the units that must go. A downgrade, or a
//! running release the catalog does not know, is an error at `cluster.linkis_version`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::catalog::{FOLDS, Release, version_key};
use crate::diag::Diagnostic;
use crate::spec::{DbType, Discovery, Service};
use crate::state::State;

/// The files an upgrade renders, from `templates/upgrade/<name>.j2`, in place of the change plan's.
pub const OUTPUTS: &[&str] = &["CHANGES.md", "changes.yml"];

/// What runs, as an upgrade needs it: the release, the discovery and each host's services with
/// their units (from `applied.json`, src/state.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Running {
    release: String,
    discovery: Discovery,
    /// Host → (service, unit), in the order of applied.json.
    hosts: Vec<(String, Vec<(Service, String)>)>,
}

impl Running {
    fn of(state: &State) -> Running {
        Running {
            release: state.release.clone(),
            discovery: if state.discovery == "nacos" {
                Discovery::Nacos
            } else {
                Discovery::Eureka
            },
            hosts: state
                .hosts
                .iter()
                .map(|(name, h)| {
                    let mut services: Vec<(Service, String)> = h
                        .services
                        .iter()
                        .filter_map(|(s, i)| {
                            let s: Service =
                                serde_json::from_value(serde_json::Value::String(s.clone()))
                                    .ok()?;
                            Some((s, i.unit.clone()))
                        })
                        .collect();
                    // In Linkis' start order, as the plan lists them.
                    services.sort();
                    (name.clone(), services)
                })
                .collect(),
        }
    }
}

/// The migration scripts of one schema version, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub version: &'static str,
    /// Paths under LINKIS_HOME: `db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql`.
    pub scripts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    pub file: &'static str,
    pub key: &'static str,
}

/// A service of the running release that the new one does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gone {
    pub service: &'static str,
    /// The service whose process does its work from the new release on, if it was folded.
    pub into: Option<&'static str>,
    pub since: Option<&'static str>,
}

/// A unit to stop (or remove) on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostUnit {
    pub host: String,
    pub service: &'static str,
    pub unit: String,
}

/// One stop step of the running cluster: a service's units on every host that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopStep {
    pub service: &'static str,
    pub unit: String,
    pub hosts: Vec<String>,
}

/// Everything an upgrade from the release that runs to the spec's release does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    pub from: &'static str,
    pub to: &'static str,
    /// The release changes (false: only the discovery switches).
    pub release_change: bool,
    pub from_discovery: &'static str,
    pub to_discovery: &'static str,
    pub db: &'static str,
    /// Every schema version after `from` up to `to` that has scripts for `db`, oldest first.
    pub migrations: Vec<Migration>,
    /// The supported releases after `from` up to `to` whose tarball ships no scripts for `db`.
    pub without_scripts: Vec<&'static str>,
    pub keys_added: Vec<KeyChange>,
    pub keys_removed: Vec<KeyChange>,
    pub services_added: Vec<&'static str>,
    pub services_removed: Vec<Gone>,
    /// The running cluster's units, in the order they stop (the reverse of the start order).
    pub stop: Vec<StopStep>,
    /// Units that run now and have no place in the new cluster: stopped, disabled, deleted.
    pub removed_units: Vec<HostUnit>,
    /// Hosts that run Linkis now and are not in the spec: the upgrade does not touch them.
    pub hosts_left: Vec<String>,
}

fn db_name(kind: DbType) -> &'static str {
    match kind {
        DbType::Mysql => "mysql",
        DbType::Postgresql => "postgresql",
    }
}

fn discovery_name(d: Discovery) -> &'static str {
    match d {
        Discovery::Eureka => "eureka",
        Discovery::Nacos => "nacos",
    }
}

/// The spec's side of an upgrade: the release, discovery and database type it renders, and each
/// host's units (built by the pipeline, `linkis_gen::plan_with`, from the plan).
pub struct Target<'a> {
    pub release: Release,
    pub discovery: Discovery,
    pub db: DbType,
    pub hosts: Vec<(&'a str, Vec<String>)>,
}

/// The upgrade from what runs (`state`, applied.json) to `target`: `None` when the release and
/// the discovery stay; an error located at `cluster.linkis_version` for a downgrade or a running
/// release the catalog does not know.
pub fn between(state: &State, target: &Target) -> Result<Option<Upgrade>, Diagnostic> {
    let applied = Running::of(state);
    let to = target.release;
    let from = running_release(&applied, &to)?;
    let (a, b) = (version_key(from.version), version_key(to.version));
    let to_discovery = target.discovery;
    if a == b && applied.discovery == to_discovery {
        return Ok(None);
    }
    let db = db_name(target.db);
    let (migrations, without_scripts) = schema_migrations(&from, &to, db);
    let (keys_added, keys_removed) = key_changes(&from, &to);
    let (services_added, services_removed) = service_changes(&from, &to);
    let stop = stop_steps(&applied);
    let (removed_units, hosts_left) = units_left(&applied, target);

    Ok(Some(Upgrade {
        from: from.version,
        to: to.version,
        release_change: a != b,
        from_discovery: discovery_name(applied.discovery),
        to_discovery: discovery_name(to_discovery),
        db,
        migrations,
        without_scripts,
        keys_added,
        keys_removed,
        services_added,
        services_removed,
        stop,
        removed_units,
        hosts_left,
    }))
}

/// The release that runs, if the catalog knows it and `to` is not a downgrade from it.
fn running_release(applied: &Running, to: &Release) -> Result<Release, Diagnostic> {
    let Some(from) = Release::find(&applied.release) else {
        return Err(Diagnostic::error(
            "upgrade-unknown-release",
            "cluster.linkis_version",
            format!(
                "Linkis {} runs (applied.json), a release linkis-gen's catalog does not know: it \
                 cannot tell which database upgrade scripts lie between it and {}",
                applied.release, to.version
            ),
        )
        .hint(format!(
            "upgrade the cluster to one of {} by Linkis' own procedure first, then let \
             applied.json record it (run site.yml)",
            crate::catalog::supported_list()
        )));
    };
    if version_key(from.version) > version_key(to.version) {
        return Err(Diagnostic::error(
            "upgrade-downgrade",
            "cluster.linkis_version",
            format!(
                "Linkis {} runs (applied.json) and the spec asks for {}: a downgrade is not supported \
                 (the database was migrated to {}'s schema)",
                from.version, to.version, from.version
            ),
        )
        .hint(format!(
            "keep `linkis_version: {}`; to go back to a release you upgraded from, roll back as \
             docs/upgrade.md says (the old release directory and the database dump)",
            from.version
        )));
    }
    Ok(from)
}

/// The schema versions after `from` up to `to` with scripts for `db`, and the releases without.
fn schema_migrations(
    from: &Release,
    to: &Release,
    db: &str,
) -> (Vec<Migration>, Vec<&'static str>) {
    let (a, b) = (version_key(from.version), version_key(to.version));
    let migrations: Vec<Migration> = to
        .upgrade_schemas()
        .into_iter()
        .filter(|d| d.db == db && version_key(d.version) > a && version_key(d.version) <= b)
        .map(|d| Migration {
            version: d.version,
            scripts: d.paths(),
        })
        .collect();
    let without_scripts: Vec<&'static str> = Release::all()
        .filter(|r| version_key(r.version) > a && version_key(r.version) <= b)
        .filter(|r| !migrations.iter().any(|m| m.version == r.version))
        .map(|r| r.version)
        .collect();
    (migrations, without_scripts)
}

/// The services `to` has and `from` does not, and those it drops (with where they were folded).
fn service_changes(from: &Release, to: &Release) -> (Vec<&'static str>, Vec<Gone>) {
    let has = |r: &Release, s: Service| r.has(s);
    let services_added = Service::ALL
        .iter()
        .filter(|s| has(to, **s) && !has(from, **s))
        .map(|s| s.name())
        .collect();
    let services_removed = Service::ALL
        .iter()
        .filter(|s| has(from, **s) && !has(to, **s))
        .map(|s| {
            let fold = FOLDS.iter().find(|f| f.service == *s);
            Gone {
                service: s.name(),
                into: fold.map(|f| f.into.name()),
                since: fold.map(|f| f.since),
            }
        })
        .collect();
    (services_added, services_removed)
}

/// The running cluster's stop steps: the reverse of the start order, service by service.
fn stop_steps(applied: &Running) -> Vec<StopStep> {
    let mut running: Vec<(Service, &str)> = applied
        .hosts
        .iter()
        .flat_map(|(_, svcs)| svcs.iter().map(|(s, u)| (*s, u.as_str())))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    running.sort_by_key(|(s, u)| std::cmp::Reverse((crate::catalog::start_stage(*s), *s, *u)));
    running
        .iter()
        .map(|(s, unit)| StopStep {
            service: s.name(),
            unit: unit.to_string(),
            hosts: applied
                .hosts
                .iter()
                .filter(|(_, svcs)| svcs.iter().any(|(_, u)| u == unit))
                .map(|(h, _)| h.clone())
                .collect(),
        })
        .collect()
}

/// The units that run now with no place in the target, and the hosts the spec no longer has.
fn units_left(applied: &Running, target: &Target) -> (Vec<HostUnit>, Vec<String>) {
    let mut removed_units = Vec::new();
    let mut hosts_left = Vec::new();
    for (host, svcs) in &applied.hosts {
        let Some((_, units)) = target.hosts.iter().find(|(name, _)| name == host) else {
            hosts_left.push(host.clone());
            continue;
        };
        for (s, unit) in svcs {
            if !units.contains(unit) {
                removed_units.push(HostUnit {
                    host: host.clone(),
                    service: s.name(),
                    unit: unit.clone(),
                });
            }
        }
    }
    (removed_units, hosts_left)
}

/// The stock conf keys of `to` that `from` does not ship, and those of `from` that `to` drops.
fn key_changes(from: &Release, to: &Release) -> (Vec<KeyChange>, Vec<KeyChange>) {
    let keys = |r: &Release| -> BTreeSet<(&'static str, &'static str)> {
        r.stock_files()
            .into_iter()
            .flat_map(|f| r.stock(f).into_iter().map(move |(k, _)| (f, k)))
            .collect()
    };
    let (old, new) = (keys(from), keys(to));
    let change = |(file, key): &(&'static str, &'static str)| KeyChange { file, key };
    (
        new.difference(&old).map(change).collect(),
        old.difference(&new).map(change).collect(),
    )
}

/// The upgrade in a few lines, for `render` and `plan` (CHANGES.md has the whole plan).
pub fn summary(u: &Upgrade) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "upgrade against applied.json: Linkis {} ({}) -> {} ({}); the whole cluster stops (CHANGES.md, changes.yml)",
        u.from, u.from_discovery, u.to, u.to_discovery
    );
    let scripts: usize = u.migrations.iter().map(|m| m.scripts.len()).sum();
    let versions: Vec<&str> = u.migrations.iter().map(|m| m.version).collect();
    let _ = writeln!(
        s,
        "  database: {scripts} {} upgrade script{} ({})",
        u.db,
        if scripts == 1 { "" } else { "s" },
        if versions.is_empty() {
            "none".to_string()
        } else {
            versions.join(", ")
        }
    );
    if !u.without_scripts.is_empty() {
        let _ = writeln!(s, "  no scripts for: {}", u.without_scripts.join(", "));
    }
    for g in &u.services_removed {
        let _ = match g.into {
            Some(into) => writeln!(s, "  service gone: {} (folded into {into})", g.service),
            None => writeln!(s, "  service gone: {}", g.service),
        };
    }
    for a in &u.services_added {
        let _ = writeln!(s, "  new service: {a}");
    }
    for r in &u.removed_units {
        let _ = writeln!(s, "  unit removed: {} on {}", r.unit, r.host);
    }
    let _ = writeln!(
        s,
        "  conf keys: {} new, {} gone in the stock files",
        u.keys_added.len(),
        u.keys_removed.len()
    );
    s
}
