//! The change plan: what runs (`applied.json`) → what is rendered (`state.json`), per host and
//! service instance, and the order `changes.yml` performs it in (spec-v1, "The state of a
//! rendered tree, and changes to a running cluster").
//!
//! An instance is *added* or *removed* (*moved* when the same service leaves one host and arrives
//! on another in the same change), *reconfigured* when its digest changed (with the files and keys
//! that changed, and the spec change they come from), or *unchanged*. `OUT/CHANGES.md` and
//! `OUT/changes.yml` are rendered from one `ChangePlan` by the templates CHANGES.md.j2 and
//! changes.yml.j2.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::HealthCheck;
use crate::model::Model;
use crate::spec::Service;
use crate::state::{FileState, HostState, InstanceState, State, service_named};

/// The transition from applied to rendered.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChangePlan {
    pub cluster: String,
    pub release: String,
    /// A release or discovery change: an upgrade, which changes.yml does not perform.
    pub upgrade: Option<String>,
    pub hosts_added: Vec<HostRef>,
    pub hosts_removed: Vec<HostRef>,
    /// Every instance of both states, in start order (service), then host order.
    pub instances: Vec<InstanceChange>,
    /// The reconfigured instances, restarted one at a time per service, in start order.
    pub restart: Vec<Restart>,
    /// Vault variables the rendered tree references and applied did not.
    pub new_vault_variables: Vec<String>,
    /// Called out at the top: every instance or the only instance of a service restarting.
    pub attention: Vec<String>,
    /// nginx/linkis.conf changed: its upstream servers added and removed.
    pub nginx: Option<NginxChange>,
    /// Hosts whose files change (they get the configure and units roles).
    pub configure_hosts: Vec<String>,
    pub counts: Counts,
    /// Database rows linkis-gen seeded whose value changes (changes.yml updates exactly these).
    pub db_rows: Vec<DbRowChange>,
    /// applied.json records no database rows though this render does (written by an older
    /// linkis-gen, or the bootstrap was off): nothing in the database is planned.
    pub db_rows_unrecorded: bool,
    /// How changes.yml performs the plan (`steps_of`): decided here, laid out by the templates.
    pub steps: Steps,
}

/// The order and the parties of changes.yml's plays, decided from the plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Steps {
    /// Every host with an instance in the plan, its instances, and whether it is new, kept or
    /// removed: the spec's hosts in its order, then the removed ones.
    pub hosts: Vec<PlanHost>,
    /// Added instances grouped per service, in start order (as `Restart`, for the start plays).
    pub start: Vec<Restart>,
    /// Hosts with added instances, each once, in the start plays' order.
    pub start_hosts: Vec<String>,
    /// The Eureka nodes that run before and after the change. New instances must be listed by
    /// these before anything stops: a new Eureka node hears of registrations only once these
    /// restart with it as a peer (Eureka replicates to the peers a node was started with).
    pub registry_nodes: Vec<String>,
    /// Removed instances in stop order (the reverse of the start order): ECMs and entrances
    /// first (drained), Eureka last.
    pub remove: Vec<InstanceChange>,
    /// The removal plays: hosts still in the spec first (strict), then hosts removed from it
    /// (an unreachable one, e.g. a failed host being replaced, is skipped).
    pub remove_plays: Vec<RemovePlay>,
    /// A gateway that runs before and after the change (else a new one), `address:port`, for
    /// the drain API; empty when there is none.
    pub gateway: String,
    /// A manager and a Eureka node that run before and after the change, `address:port`: a
    /// removed ECM is marked unhealthy in the manager (modifyEMInfo) under the name its Eureka
    /// registration gives, so that no new engine is placed on it while it drains.
    pub manager: String,
    pub registry: String,
    /// The addresses the hosts' nftables tables gain and lose (with `security.firewall`).
    pub firewall: FirewallChange,
}

/// A host of the plan and its instances.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlanHost {
    pub name: String,
    /// `new`, `kept` or `removed`.
    pub status: &'static str,
    pub instances: Vec<InstanceChange>,
}

/// One removal play.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RemovePlay {
    pub hosts: Vec<String>,
    /// The hosts are removed from the spec (the play skips an unreachable one).
    pub gone: bool,
}

/// The hosts' nftables tables through a change: every table as rendered before a new host's
/// service starts (the added hosts among the sources), the removed hosts' addresses added to the
/// loaded sets until their instances are drained and stopped, then every table reloaded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct FirewallChange {
    pub added4: Vec<String>,
    pub added6: Vec<String>,
    pub removed4: Vec<String>,
    pub removed6: Vec<String>,
}

/// A seeded database value, from what applied.json recorded to what this render decides. The
/// table, column and key are the render's (the model's, never read back from applied.json).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DbRowChange {
    pub id: String,
    pub table: String,
    pub column: String,
    pub key: String,
    pub fragment: bool,
    pub old: String,
    pub new: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HostRef {
    pub name: String,
    pub address: String,
    pub ssh_port: u16,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Counts {
    pub added: usize,
    pub removed: usize,
    pub moved: usize,
    pub reconfigured: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstanceChange {
    pub host: String,
    pub address: String,
    pub service: String,
    pub unit: String,
    pub daemon: String,
    pub port: u16,
    /// added | removed | reconfigured | unchanged
    pub kind: &'static str,
    /// For an added instance: the host the service left in this change; for a removed one, the
    /// host it moves to.
    pub moved: Option<String>,
    /// For a removed instance: how it is drained before it stops (`entrance`, `ecm`, or none).
    pub drain: Option<&'static str>,
    pub files: Vec<FileChange>,
    /// Why it restarts: the spec changes behind the changed keys.
    pub causes: Vec<String>,
    /// For a reconfigured instance whose port changes: the port it listens on until it restarts
    /// (an entrance is drained there).
    pub old_port: Option<u16>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// changed | new | gone
    pub status: &'static str,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Restart {
    pub service: String,
    pub unit: String,
    pub group: String,
    pub health: bool,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NginxChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Start order of a service name (the `Service` order is Linkis' start order); unknown last.
fn order(name: &str) -> usize {
    service_named(name).map_or(usize::MAX, |s| s as usize)
}

/// The change plan from `applied` to `rendered`. `host_order` is the spec's host order; hosts
/// only in `applied` follow it in their name order. The plan is built by `PHASES`, in order.
fn diff(applied: &State, rendered: &State, host_order: &[String]) -> ChangePlan {
    let mut hosts: Vec<&str> = host_order.iter().map(String::as_str).collect();
    hosts.extend(
        applied
            .hosts
            .keys()
            .map(String::as_str)
            .filter(|h| !rendered.hosts.contains_key(*h)),
    );
    let sides = Sides {
        applied,
        rendered,
        host_order,
        hosts,
    };
    let mut plan = ChangePlan {
        cluster: rendered.cluster.clone(),
        release: rendered.release.clone(),
        upgrade: None,
        hosts_added: Vec::new(),
        hosts_removed: Vec::new(),
        instances: Vec::new(),
        restart: Vec::new(),
        new_vault_variables: Vec::new(),
        attention: Vec::new(),
        nginx: None,
        configure_hosts: Vec::new(),
        counts: Counts::default(),
        db_rows: Vec::new(),
        db_rows_unrecorded: false,
        steps: Steps::default(),
    };
    for phase in PHASES {
        phase(&sides, &mut plan);
    }
    plan
}

/// What `diff` compares: both states, and every host of either in order (the spec's hosts, then
/// the hosts only in `applied`).
struct Sides<'a> {
    applied: &'a State,
    rendered: &'a State,
    host_order: &'a [String],
    hosts: Vec<&'a str>,
}

impl Sides<'_> {
    /// A host's place in the order; unknown last.
    fn host_pos(&self, h: &str) -> usize {
        self.hosts
            .iter()
            .position(|x| *x == h)
            .unwrap_or(usize::MAX)
    }
}

/// One phase of `diff`: reads the two states and the plan so far, fills its part of the plan.
type Phase = fn(&Sides, &mut ChangePlan);

/// The phases of `diff`, in the order they run: each may read what the ones before it filled
/// (the counts read the database rows' restarts, the attention part reads nearly everything).
const PHASES: &[Phase] = &[
    hosts_added_removed,
    instances,
    moves,
    db_rows,
    counts,
    restarts,
    upgrade,
    attention,
    nginx,
    configure_hosts,
    new_vault_variables,
];

/// The hosts only the rendered state has (added), and only the applied one (removed).
fn hosts_added_removed(s: &Sides, plan: &mut ChangePlan) {
    let host_ref = |name: &str, h: &HostState| HostRef {
        name: name.to_string(),
        address: h.address.clone(),
        ssh_port: h.ssh_port,
    };
    let (applied, rendered) = (s.applied, s.rendered);
    plan.hosts_added = s
        .hosts
        .iter()
        .filter(|h| !applied.hosts.contains_key(**h))
        .filter_map(|h| rendered.hosts.get(*h).map(|st| host_ref(h, st)))
        .collect();
    plan.hosts_removed = s
        .hosts
        .iter()
        .filter(|h| !rendered.hosts.contains_key(**h))
        .filter_map(|h| applied.hosts.get(*h).map(|st| host_ref(h, st)))
        .collect();
}

/// Every (service, host) of either side, in start order (service), then host order: added,
/// removed, reconfigured (its files, keys and causes) or unchanged.
fn instances(s: &Sides, plan: &mut ChangePlan) {
    let mut keys: BTreeSet<(usize, usize, String, String)> = BTreeSet::new();
    for st in [s.applied, s.rendered] {
        for (h, hs) in &st.hosts {
            for svc in hs.services.keys() {
                keys.insert((order(svc), s.host_pos(h), svc.clone(), h.clone()));
            }
        }
    }
    for (_, _, svc, host) in &keys {
        let old = instance(s.applied, host, svc);
        let new = instance(s.rendered, host, svc);
        if let Some(i) = instance_change(host, svc, old, new) {
            plan.instances.push(i);
        }
    }
}

/// A host's state and one of its instances, if the state has it.
fn instance<'a>(st: &'a State, h: &str, s: &str) -> Option<(&'a HostState, &'a InstanceState)> {
    let hs = st.hosts.get(h)?;
    Some((hs, hs.services.get(s)?))
}

/// One instance from what runs (`old`) to what is rendered (`new`).
fn instance_change(
    host: &str,
    svc: &str,
    old: Option<(&HostState, &InstanceState)>,
    new: Option<(&HostState, &InstanceState)>,
) -> Option<InstanceChange> {
    let (kind, hs, is, files) = match (old, new) {
        (None, Some((hs, is))) => ("added", hs, is, Vec::new()),
        (Some((hs, is)), None) => ("removed", hs, is, Vec::new()),
        (Some((ohs, ois)), Some((hs, is))) => {
            let files = if ois.digest == is.digest {
                Vec::new()
            } else {
                file_changes(ohs, ois, hs, is)
            };
            // A digest that differs while every file it reads is the same, byte for byte (or
            // differs only in keys the instance ignores), was taken by another linkis-gen that
            // digested fewer keys: nothing on the host changes for it.
            if files.is_empty() && ois.port == is.port {
                ("unchanged", hs, is, Vec::new())
            } else {
                ("reconfigured", hs, is, files)
            }
        }
        (None, None) => return None,
    };
    let mut causes = causes_of(&files);
    let old_port = match (old, new) {
        (Some((_, o)), Some((_, n))) if o.port != n.port => Some(o.port),
        _ => None,
    };
    if let Some(o) = old_port {
        causes.retain(|c| !c.starts_with("its port changed"));
        causes.insert(0, format!("its port changes from {o} to {}", is.port));
    }
    let drain = (kind == "removed")
        .then(|| match service_named(svc) {
            Some(Service::Entrance) => Some("entrance"),
            Some(Service::Engineconnmanager) => Some("ecm"),
            _ => None,
        })
        .flatten();
    Some(InstanceChange {
        host: host.to_string(),
        address: hs.address.clone(),
        service: svc.to_string(),
        unit: is.unit.clone(),
        daemon: is.daemon.clone(),
        port: is.port,
        kind,
        moved: None,
        drain,
        files,
        causes,
        old_port,
    })
}

/// Moves: a service that leaves hosts and arrives on others in one change, paired in order.
fn moves(_: &Sides, plan: &mut ChangePlan) {
    let instances = &mut plan.instances;
    let services: BTreeSet<String> = instances.iter().map(|i| i.service.clone()).collect();
    for svc in &services {
        let idx = |kind: &str| -> Vec<usize> {
            instances
                .iter()
                .enumerate()
                .filter(|(_, i)| &i.service == svc && i.kind == kind)
                .map(|(n, _)| n)
                .collect()
        };
        for (a, r) in idx("added").into_iter().zip(idx("removed")) {
            instances[a].moved = Some(instances[r].host.clone());
            instances[r].moved = Some(instances[a].host.clone());
            plan.counts.moved += 1;
        }
    }
}

/// The database rows, and the restarts they need: the resource manager (linkismanager) reads
/// the YARN provider row into a cache that it refreshes only after 30 minutes
/// (wds.linkis.manager.rm.external.resource.regresh.time) or an hour unused
/// (ExternalResourceServiceImpl, 1.1.3-1.8.0): a changed YARN row restarts it. The engine
/// labels are looked up in the database when a request is labelled: nothing restarts for them.
fn db_rows(s: &Sides, plan: &mut ChangePlan) {
    plan.db_rows_unrecorded = s.applied.db_rows.is_empty() && !s.rendered.db_rows.is_empty();
    plan.db_rows = db_row_changes(s.applied, s.rendered);
    let fields: Vec<&str> = plan
        .db_rows
        .iter()
        .filter_map(|r| r.id.strip_prefix("yarn "))
        .collect();
    if fields.is_empty() {
        return;
    }
    for i in plan
        .instances
        .iter_mut()
        .filter(|i| i.service == "linkismanager" && i.kind != "added" && i.kind != "removed")
    {
        i.kind = "reconfigured";
        i.causes.push(format!(
            "the YARN provider row changed in the database ({}): the resource manager \
             caches it",
            fields.join(", ")
        ));
    }
}

/// The instances of each kind (the moves are counted by `moves`).
fn counts(_: &Sides, plan: &mut ChangePlan) {
    let c = &mut plan.counts;
    for i in &plan.instances {
        match i.kind {
            "added" => c.added += 1,
            "removed" => c.removed += 1,
            "reconfigured" => c.reconfigured += 1,
            _ => c.unchanged += 1,
        }
    }
}

/// The reconfigured instances, restarted one at a time per service.
fn restarts(_: &Sides, plan: &mut ChangePlan) {
    plan.restart = per_service(&plan.instances, "reconfigured");
}

/// A release or discovery change: an upgrade, which changes.yml does not perform.
fn upgrade(s: &Sides, plan: &mut ChangePlan) {
    let (applied, rendered) = (s.applied, s.rendered);
    plan.upgrade = if applied.release != rendered.release {
        Some(format!(
            "the release changes from Linkis {} to {}: an upgrade, which changes.yml does not \
             perform (it stops before touching anything)",
            applied.release, rendered.release
        ))
    } else if applied.discovery != rendered.discovery {
        Some(format!(
            "discovery changes from {} to {}: a full stop and start, which changes.yml does not \
             perform (it stops before touching anything)",
            applied.discovery, rendered.discovery
        ))
    } else {
        None
    };
}

/// What CHANGES.md calls out at the top. First: high availability lost, a control service that
/// runs on fewer hosts after the change, and on one or none. Then the upgrade, YARN
/// authentication turned on, and the restarts of every or the only instance of a service.
fn attention(_: &Sides, plan: &mut ChangePlan) {
    let instances = &plan.instances;
    let mut attention = Vec::new();
    for service in CONTROL_SERVICES {
        let on = |removed_or_added: &str| -> Vec<&str> {
            instances
                .iter()
                .filter(|i| i.service == *service && i.kind != removed_or_added)
                .map(|i| i.host.as_str())
                .collect()
        };
        let (before, after) = (on("added"), on("removed"));
        if after.len() < before.len() && after.len() <= 1 {
            attention.push(match after.first() {
                Some(h) => format!(
                    "after this change one {service} instance runs ({h}, {} before): no high availability, {service} stops when {h} does",
                    before.len()
                ),
                None => format!(
                    "after this change no {service} instance runs ({} before): the cluster cannot work without it",
                    before.len()
                ),
            });
        }
    }
    if let Some(u) = &plan.upgrade {
        attention.push(u.clone());
    }
    if plan
        .db_rows
        .iter()
        .any(|r| r.id == "yarn authorEnable" && r.new.ends_with("true"))
    {
        attention.push(
            "YARN authentication is turned on: changes.yml sets authorEnable and user in the YARN \
             provider row, not the password (`pwd`), which only the bootstrap sets from the vault: \
             set it in the row's config by hand"
                .to_string(),
        );
    }
    for r in &plan.restart {
        let running = instances
            .iter()
            .filter(|i| i.service == r.service && i.kind != "added")
            .count();
        if running == 1 {
            attention.push(format!(
                "the only {} instance ({}) restarts: {} is unavailable while it does",
                r.service, r.hosts[0], r.service
            ));
        } else if r.hosts.len() == running {
            attention.push(format!(
                "every {} instance restarts ({}, one at a time, each back in the registry before \
                 the next)",
                r.service,
                r.hosts.join(", ")
            ));
        }
    }
    plan.attention = attention;
}

/// nginx/linkis.conf changed: its upstream servers added and removed.
fn nginx(s: &Sides, plan: &mut ChangePlan) {
    let (applied, rendered) = (&s.applied.nginx, &s.rendered.nginx);
    plan.nginx = (applied.sha256 != rendered.sha256).then(|| {
        let ups = |f: &FileState| -> BTreeSet<String> {
            f.keys
                .keys()
                .filter_map(|k| k.strip_prefix("upstream "))
                .map(str::to_string)
                .collect()
        };
        let (o, n) = (ups(applied), ups(rendered));
        NginxChange {
            added: n.difference(&o).cloned().collect(),
            removed: o.difference(&n).cloned().collect(),
        }
    });
}

/// The spec's hosts whose files change.
fn configure_hosts(s: &Sides, plan: &mut ChangePlan) {
    plan.configure_hosts = s
        .host_order
        .iter()
        .filter(|h| {
            let new = s.rendered.hosts.get(*h).map(|st| &st.files);
            let old = s.applied.hosts.get(*h).map(|st| &st.files);
            new != old
        })
        .cloned()
        .collect();
}

/// The vault variables the rendered tree references and applied did not.
fn new_vault_variables(s: &Sides, plan: &mut ChangePlan) {
    let old_vars: BTreeSet<&String> = s.applied.vault_variables.iter().collect();
    plan.new_vault_variables = s
        .rendered
        .vault_variables
        .iter()
        .filter(|v| !old_vars.contains(v))
        .cloned()
        .collect();
}

/// The recorded database values that differ, in id order; none when applied.json records none.
fn db_row_changes(applied: &State, rendered: &State) -> Vec<DbRowChange> {
    if applied.db_rows.is_empty() {
        return Vec::new();
    }
    rendered
        .db_rows
        .iter()
        .filter_map(|(id, new)| {
            let old = applied.db_rows.get(id)?;
            (old.value != new.value).then(|| DbRowChange {
                id: id.clone(),
                table: new.table.clone(),
                column: new.column.clone(),
                key: new.key.clone(),
                fragment: new.fragment,
                old: old.value.clone(),
                new: new.value.clone(),
                source: new.source.clone(),
            })
        })
        .collect()
}

/// The files (and keys) an instance reads that differ between the two states.
fn file_changes(
    oh: &HostState,
    oi: &InstanceState,
    nh: &HostState,
    ni: &InstanceState,
) -> Vec<FileChange> {
    let paths: BTreeSet<&String> = oi.reads.iter().chain(ni.reads.iter()).collect();
    let mut out = Vec::new();
    for p in paths {
        let old = oi.reads.contains(p).then(|| oh.files.get(p)).flatten();
        let new = ni.reads.contains(p).then(|| nh.files.get(p)).flatten();
        match (old, new) {
            (Some(o), Some(n)) if o.sha256 != n.sha256 => {
                let names: BTreeSet<&String> = o.keys.keys().chain(n.keys.keys()).collect();
                let keys: Vec<String> = names
                    .into_iter()
                    .filter(|k| !ni.ignores.contains(k))
                    .filter(|k| o.keys.get(*k) != n.keys.get(*k))
                    .map(|k| match (o.keys.contains_key(k), n.keys.contains_key(k)) {
                        (false, _) => format!("+{k}"),
                        (_, false) => format!("-{k}"),
                        _ => k.clone(),
                    })
                    .collect();
                // Only keys other services read changed (or, with keys, only comments).
                if keys.is_empty() && !ni.ignores.is_empty() && p.as_str() == "conf/linkis-env.sh" {
                    continue;
                }
                out.push(FileChange {
                    path: p.clone(),
                    status: "changed",
                    keys,
                });
            }
            (None, Some(_)) => out.push(FileChange {
                path: p.clone(),
                status: "new",
                keys: Vec::new(),
            }),
            (Some(_), None) => out.push(FileChange {
                path: p.clone(),
                status: "gone",
                keys: Vec::new(),
            }),
            _ => {}
        }
    }
    out
}

/// The instances of one kind grouped per service, in start order (they are sorted so): the
/// plays of changes.yml.
pub fn per_service(instances: &[InstanceChange], kind: &str) -> Vec<Restart> {
    let mut out: Vec<Restart> = Vec::new();
    for i in instances.iter().filter(|i| i.kind == kind) {
        match out.last_mut() {
            Some(r) if r.service == i.service => r.hosts.push(i.host.clone()),
            _ => {
                let known = service_named(&i.service);
                out.push(Restart {
                    service: i.service.clone(),
                    unit: i.unit.clone(),
                    // The model's inventory group; a service this release does not know (named
                    // by an applied.json of another) keeps the same shape of name.
                    group: known
                        .map_or_else(|| format!("linkis_{}", i.service), crate::model::group_name),
                    health: known
                        .is_some_and(|s| crate::catalog::health_check(s) == HealthCheck::Http),
                    hosts: vec![i.host.clone()],
                })
            }
        }
    }
    out
}

/// The spec changes behind changed keys, in words, each once.
fn causes_of(files: &[FileChange]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for f in files {
        if f.status != "changed" {
            push(format!("{} is {}", f.path, f.status));
            continue;
        }
        for k in &f.keys {
            let k = k.trim_start_matches(['+', '-']);
            let cause = if k.contains("defaultZone") || k.contains("discovery.server-address") {
                "the Eureka peers changed (every service's defaultZone lists them)".to_string()
            } else if k.starts_with("wds.linkis.gateway.url") || k.contains("gateway.url") {
                "the gateway URL changed (a gateway's host or port)".to_string()
            } else if k.starts_with("wds.linkis.ecm.") {
                "this ECM's share of the sizing changed (more or fewer ECM hosts, or the sizing)"
                    .to_string()
            } else if k == "server.port" || k.ends_with(".port") && k.contains("server") {
                format!("its port changed ({k})")
            } else if f.path.starts_with("systemd/") {
                format!("its systemd unit changed ({k})")
            } else if f.path.ends_with("linkis-env.sh") {
                format!("the environment changed ({k} in linkis-env.sh)")
            } else {
                format!("{k} changed in {} (a spec setting or `overrides:`)", f.path)
            };
            push(cause);
        }
    }
    out
}

/// The few-line summary `render`, `render --check` and `plan --out` print.
pub fn summary(c: &ChangePlan) -> String {
    let mut s = String::new();
    if is_empty(c) {
        let _ = writeln!(
            s,
            "changes against applied.json: none ({} instances unchanged)",
            c.counts.unchanged
        );
        return s;
    }
    let n = c.counts;
    let _ = writeln!(
        s,
        "changes against applied.json: {} added, {} removed ({} moved), {} reconfigured (restart), {} unchanged",
        n.added, n.removed, n.moved, n.reconfigured, n.unchanged
    );
    for a in &c.attention {
        let _ = writeln!(s, "  attention: {a}");
    }
    if !c.hosts_added.is_empty() {
        let _ = writeln!(s, "  new hosts: {}", names(&c.hosts_added));
    }
    if !c.hosts_removed.is_empty() {
        let _ = writeln!(s, "  removed hosts: {}", names(&c.hosts_removed));
    }
    for i in c.instances.iter().filter(|i| i.kind != "unchanged") {
        let _ = writeln!(s, "  {:<12} {} on {}", i.kind, i.service, i.host);
    }
    if c.nginx.is_some() {
        let _ = writeln!(s, "  nginx: reloaded (its site changed)");
    }
    for r in &c.db_rows {
        let _ = writeln!(
            s,
            "  database     {}.{} ({}): {} -> {}",
            r.table, r.column, r.source, r.old, r.new
        );
    }
    if !c.new_vault_variables.is_empty() {
        let _ = writeln!(
            s,
            "  new vault variables: {}",
            c.new_vault_variables.join(", ")
        );
    }
    s
}

fn names(h: &[HostRef]) -> String {
    h.iter()
        .map(|h| h.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Nothing to do: every instance unchanged, nothing else changes.
pub fn is_empty(c: &ChangePlan) -> bool {
    c.counts.added + c.counts.removed + c.counts.reconfigured == 0
        && c.nginx.is_none()
        && c.upgrade.is_none()
        && c.new_vault_variables.is_empty()
        && c.configure_hosts.is_empty()
        && c.db_rows.is_empty()
}

/// The change plan of a model against its `applied` state, if it has one.
pub fn of(model: &Model, rendered: &State) -> Option<ChangePlan> {
    let applied = model.applied.as_ref()?;
    let order: Vec<String> = model.hosts.iter().map(|h| h.name.clone()).collect();
    let mut plan = diff(applied, rendered, &order);
    why_from_origins(model, &mut plan);
    plan.steps = steps_of(&plan, &order);
    Some(plan)
}

/// How changes.yml performs `c` (`Steps`); `order` is the spec's host order. Taken last, from
/// the instances as CHANGES.md shows them (their causes included).
fn steps_of(c: &ChangePlan, order: &[String]) -> Steps {
    let start = per_service(&c.instances, "added");
    let mut start_hosts: Vec<String> = Vec::new();
    for h in start.iter().flat_map(|r| &r.hosts) {
        if !start_hosts.contains(h) {
            start_hosts.push(h.clone());
        }
    }
    let mut remove: Vec<InstanceChange> = c
        .instances
        .iter()
        .filter(|i| i.kind == "removed")
        .cloned()
        .collect();
    remove.reverse();
    let split = |hosts: &[HostRef]| -> (Vec<String>, Vec<String>) {
        hosts
            .iter()
            .map(|h| h.address.clone())
            .partition(|a| !a.contains(':'))
    };
    let (added4, added6) = split(&c.hosts_added);
    let (removed4, removed6) = split(&c.hosts_removed);
    Steps {
        hosts: plan_hosts(c, order),
        start,
        start_hosts,
        registry_nodes: c
            .instances
            .iter()
            .filter(|i| i.service == "eureka" && matches!(i.kind, "reconfigured" | "unchanged"))
            .map(|i| i.host.clone())
            .collect(),
        remove_plays: remove_plays(c, &remove),
        remove,
        gateway: staying(c, "gateway"),
        manager: staying(c, "linkismanager"),
        registry: staying(c, "eureka"),
        firewall: FirewallChange {
            added4,
            added6,
            removed4,
            removed6,
        },
    }
}

/// Every host with an instance in the plan, its instances, and whether it is new, kept or
/// removed: the spec's hosts in its order, then the removed ones.
fn plan_hosts(c: &ChangePlan, order: &[String]) -> Vec<PlanHost> {
    let mut hosts: Vec<PlanHost> = Vec::new();
    for i in &c.instances {
        match hosts.iter_mut().find(|h| h.name == i.host) {
            Some(h) => h.instances.push(i.clone()),
            None => hosts.push(PlanHost {
                name: i.host.clone(),
                status: if c.hosts_added.iter().any(|h| h.name == i.host) {
                    "new"
                } else if c.hosts_removed.iter().any(|h| h.name == i.host) {
                    "removed"
                } else {
                    "kept"
                },
                instances: vec![i.clone()],
            }),
        }
    }
    let order: Vec<&str> = order
        .iter()
        .map(String::as_str)
        .chain(c.hosts_removed.iter().map(|h| h.name.as_str()))
        .collect();
    hosts.sort_by_key(|h| order.iter().position(|n| *n == h.name));
    hosts
}

/// The removal plays: the hosts still in the spec first, then the hosts removed from it.
fn remove_plays(c: &ChangePlan, remove: &[InstanceChange]) -> Vec<RemovePlay> {
    let mut plays: Vec<RemovePlay> = Vec::new();
    for gone in [false, true] {
        let mut hosts: Vec<String> = Vec::new();
        for i in remove {
            let is_gone = c.hosts_removed.iter().any(|h| h.name == i.host);
            if is_gone == gone && !hosts.contains(&i.host) {
                hosts.push(i.host.clone());
            }
        }
        if !hosts.is_empty() {
            plays.push(RemovePlay { hosts, gone });
        }
    }
    plays
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

/// A changed, added or removed key's "why" from the model's key table (src/model/keys.rs): where
/// its new value comes from (or that nothing sets it any more), instead of the generic "a spec
/// setting or `overrides:`".
fn why_from_origins(model: &Model, plan: &mut ChangePlan) {
    for i in plan
        .instances
        .iter_mut()
        .filter(|i| i.kind == "reconfigured")
    {
        for f in &i.files {
            let file = f.path.strip_prefix("conf/").unwrap_or(&f.path);
            let Some(table) = crate::model::keys::host_file_keys(model, &i.host, file) else {
                continue;
            };
            for k in &f.keys {
                // `+key` was added, `-key` removed (`diff`); the generic cause names the key.
                let name = k.trim_start_matches(['+', '-']);
                let generic = format!(
                    "{name} changed in {} (a spec setting or `overrides:`)",
                    f.path
                );
                let Some(c) = i.causes.iter_mut().find(|c| **c == generic) else {
                    continue;
                };
                if k.starts_with('-') {
                    *c = format!(
                        "{name} removed from {}: nothing sets it any more (not the spec, `overrides:` or the release's file)",
                        f.path
                    );
                } else if let Some(key) = table.get(name) {
                    let how = if k.starts_with('+') {
                        "added to"
                    } else {
                        "changed in"
                    };
                    *c = format!("{name} {how} {}: now {}", f.path, key.origin.describe());
                }
            }
        }
    }
}

/// The control services whose instance count CHANGES.md's attention part watches: with one left,
/// the cluster stops when that host does.
const CONTROL_SERVICES: &[&str] = &[
    "eureka",
    "gateway",
    "publicservice",
    "linkismanager",
    "entrance",
];
