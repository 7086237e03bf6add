//! Stage 3, size/place: a validated spec → a `Plan`: which services run on which host, with which
//! ports and heaps, and how much engine memory, cores and instances each ECM may hand out.
//!
//! Rules: `../shared/spec-v1.md` (Roles and default placement; Sizing). All arithmetic is exact, on
//! bytes, in u128 so that no spec can overflow it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Release, ServiceInfo};
use crate::diag::{Diagnostic, join_index, join_key};
use crate::spec::{AutoSize, Discovery, GIB, Role, Service, Size, Spec, Storage};
use crate::validate::Validated;

/// Everything the render stage needs: the spec, its release, and the placement with its numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub spec: Spec,
    pub release: Release,
    pub hosts: Vec<PlacedHost>,
    pub heaps: Heaps,
    pub demand: Demand,
    /// Σ engine memory over the ECM hosts, bytes.
    pub capacity_memory: u64,
    /// Warnings from validation and sizing; they do not stop rendering.
    pub warnings: Vec<Diagnostic>,
    /// Hosts placed against `applied.json` rather than by the default placement (sticky).
    pub sticky: Vec<Sticky>,
    /// What runs (`OUT/.linkis-gen/applied.json`), when the cluster was applied before: the base
    /// of the change plan.
    #[serde(skip)]
    pub applied: Option<crate::state::State>,
    /// The upgrade from what runs to this plan's release or discovery (src/plan/upgrade.rs), decided
    /// once by `linkis_gen::plan_with` and read by everything after it.
    #[serde(skip)]
    pub upgrade: Option<crate::plan::upgrade::Upgrade>,
}

/// A host whose services come from what runs there, not from the default placement.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sticky {
    pub host: String,
    /// Not in applied.json: a host added to a running cluster, which gets the ECM role.
    pub new_host: bool,
    /// The services it runs (kept, or the ECM of a new host).
    pub services: Vec<Service>,
    /// What the default placement would have given it.
    pub default: Vec<Service>,
}

/// JVM heap sizes, bytes.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Heaps {
    /// Every microservice except publicservice (and the ECM's own JVM).
    pub service: u64,
    pub publicservice: u64,
}

impl Heaps {
    pub fn of(&self, s: Service) -> u64 {
        match s {
            Service::Publicservice => self.publicservice,
            _ => self.service,
        }
    }
}

/// The deployment guide's formula, with the spec's numbers.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Demand {
    pub users: u64,
    pub concurrency: u64,
    pub engine_types: u64,
    /// Σ engine memory of one engine of each type, bytes.
    pub engine_memory_sum: u64,
    pub engine_cores_sum: u64,
    /// users × Σ engine memory × concurrency, bytes.
    pub memory: u64,
    /// users × Σ engine cores × concurrency.
    pub cores: u64,
    /// users × concurrency × engine types.
    pub engines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlacedHost {
    /// Index in `spec.hosts`, for diagnostics (`hosts[3]`).
    pub index: usize,
    pub name: String,
    pub address: String,
    pub ssh_port: u16,
    /// Physical memory, bytes.
    pub memory: u64,
    pub cores: u64,
    /// The host's services in Linkis' start order.
    pub services: Vec<PlacedService>,
    /// Memory this host's ECM may give to engines, bytes (0 without an ECM).
    pub engine_memory: u64,
    /// The ECM resource keys, when the host runs an ECM.
    pub ecm: Option<EcmShare>,
}

impl PlacedHost {
    pub fn runs(&self, s: Service) -> bool {
        self.services.iter().any(|p| p.service == s)
    }

    /// Runs at least one control service.
    pub fn is_control(&self) -> bool {
        self.services
            .iter()
            .any(|p| p.service.role() == Role::Control)
    }

    pub fn service(&self, s: Service) -> Option<&PlacedService> {
        self.services.iter().find(|p| p.service == s)
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlacedService {
    pub service: Service,
    pub info: &'static ServiceInfo,
    /// The port on this host (default or per-host override).
    pub port: u16,
    /// JVM heap, bytes.
    pub heap: u64,
}

/// What one ECM may hand out: `linkis-cg-engineconnmanager.properties` on that host.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct EcmShare {
    /// `wds.linkis.ecm.memory.max`, bytes.
    pub memory_max: u64,
    /// `wds.linkis.ecm.cores.max`.
    pub cores_max: u64,
    /// `wds.linkis.ecm.engineconn.instances.max`.
    pub instances_max: u64,
}

impl Plan {
    /// The hosts that run a service, in spec order.
    pub fn hosts_with(&self, s: Service) -> impl Iterator<Item = &PlacedHost> {
        self.hosts.iter().filter(move |h| h.runs(s))
    }

    pub fn ecm_hosts(&self) -> impl Iterator<Item = &PlacedHost> {
        self.hosts_with(Service::Engineconnmanager)
    }
}

/// The role sets of the hosts that declare neither `roles:` nor `services:`, by position among them.
pub fn default_roles(n: usize) -> Vec<Vec<Role>> {
    match n {
        0 => vec![],
        1 => vec![vec![Role::Control, Role::Ecm]],
        2 => vec![vec![Role::Control], vec![Role::Control, Role::Ecm]],
        _ => (0..n)
            .map(|i| {
                if i + 2 >= n {
                    vec![Role::Control]
                } else {
                    vec![Role::Ecm]
                }
            })
            .collect(),
    }
}

/// The services a role set stands for in this release.
pub fn role_services(release: &Release, discovery: Discovery, roles: &[Role]) -> Vec<Service> {
    release
        .line
        .services
        .iter()
        .map(|i| i.service)
        .filter(|s| roles.contains(&s.role()))
        .filter(|s| discovery.runs(*s))
        .collect()
}

/// The guide's memory formula: users × Σ engine memory (one engine of each type) × concurrency,
/// bytes.
pub fn memory_demand(
    users: u64,
    concurrency: u64,
    engine_memory: impl Iterator<Item = u64>,
) -> u128 {
    users as u128 * engine_memory.map(u128::from).sum::<u128>() * concurrency as u128
}

/// The publicservice heap, bytes, and the rule that gave it (for the plan report).
/// "Raise publicservice to 6G for many users": above 100 concurrent users, never below
/// service_memory.
pub fn publicservice_heap(s: &crate::spec::Sizing) -> (u64, &'static str) {
    match s.publicservice_memory {
        AutoSize::Size(z) => (z.bytes(), "set in the spec"),
        AutoSize::Auto if s.concurrent_users > 100 => (
            (6 * GIB).max(s.service_memory.bytes()),
            "auto: 6G above 100 concurrent users, never below service_memory",
        ),
        AutoSize::Auto => (
            s.service_memory.bytes(),
            "auto: service_memory up to 100 concurrent users, 6G above",
        ),
    }
}

/// Places services and sizes the cluster. Errors carry the arithmetic that failed.
pub fn place(v: Validated) -> Result<Plan, Vec<Diagnostic>> {
    place_with(v, None)
}

/// `place`, against what runs when the cluster was applied before (sticky placement, spec-v1
/// "The state of a rendered tree"): a host that declares neither `roles:` nor `services:` keeps
/// the services it runs, and a host not in `applied` gets the ECM role. Sizing is then checked
/// on that layout.
pub fn place_with(
    v: Validated,
    applied: Option<crate::state::State>,
) -> Result<Plan, Vec<Diagnostic>> {
    let Validated {
        spec,
        release,
        mut warnings,
    } = v;
    let mut errors = Vec::new();
    let s = &spec.sizing;
    let heaps = Heaps {
        service: s.service_memory.bytes(),
        publicservice: publicservice_heap(s).0,
    };
    let demand = demand_of(s);
    let (mut hosts, sticky) = place_services(&spec, &release, &heaps, applied.as_ref());
    unplaced_services(&spec, &release, &hosts, &mut errors);
    port_clashes(&spec, &hosts, &mut errors, &mut warnings);
    web_port_clashes(&spec, &hosts, &mut errors);
    vip_hosts(&spec, &hosts, &mut errors);
    storage_rule(&spec, &hosts, &mut errors, &mut warnings);
    let memory_errors = engine_memory(s, &spec.services, &mut hosts, &mut errors);

    let ecm: Vec<&PlacedHost> = hosts
        .iter()
        .filter(|h| h.runs(Service::Engineconnmanager))
        .collect();
    let capacity: u128 = ecm.iter().map(|h| h.engine_memory as u128).sum();
    if !ecm.is_empty() && !memory_errors && capacity < demand.memory as u128 {
        errors.push(capacity_error(&spec, &heaps, &demand, &ecm, capacity));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    ecm_shares(&mut hosts, &demand, capacity);
    let largest_engine = s
        .engines
        .values()
        .map(|e| e.memory.bytes())
        .max()
        .unwrap_or(0);
    sizing_warnings(&spec, &hosts, &demand, largest_engine, &mut warnings);

    Ok(Plan {
        capacity_memory: clamp(capacity),
        spec,
        release,
        hosts,
        heaps,
        demand,
        warnings,
        sticky,
        applied,
        upgrade: None,
    })
}

/// The guide's formula with the spec's numbers.
fn demand_of(s: &crate::spec::Sizing) -> Demand {
    let engine_memory_sum: u128 = s.engines.values().map(|e| e.memory.bytes() as u128).sum();
    let engine_cores_sum: u128 = s.engines.values().map(|e| e.cores as u128).sum();
    let users = s.concurrent_users as u128;
    let conc = s.max_concurrency_per_user as u128;
    let types = s.engines.len() as u128;
    Demand {
        users: s.concurrent_users,
        concurrency: s.max_concurrency_per_user,
        engine_types: s.engines.len() as u64,
        engine_memory_sum: clamp(engine_memory_sum),
        engine_cores_sum: clamp(engine_cores_sum),
        memory: clamp(memory_demand(
            s.concurrent_users,
            s.max_concurrency_per_user,
            s.engines.values().map(|e| e.memory.bytes()),
        )),
        cores: clamp(users * engine_cores_sum * conc),
        engines: clamp(users * conc * types),
    }
}

/// Placement: pinned services, then roles, then defaults among the hosts that declare neither
/// (or, when the cluster runs, what runs on them: sticky).
fn place_services(
    spec: &Spec,
    release: &Release,
    heaps: &Heaps,
    applied: Option<&crate::state::State>,
) -> (Vec<PlacedHost>, Vec<Sticky>) {
    let undeclared = spec
        .hosts
        .iter()
        .filter(|h| h.services.is_none() && h.roles.is_none())
        .count();
    let defaults = default_roles(undeclared);
    let mut hosts = Vec::with_capacity(spec.hosts.len());
    let mut next_default = defaults.iter();
    let mut sticky = Vec::new();
    for (i, h) in spec.hosts.iter().enumerate() {
        let mut services: Vec<Service> = if let Some(pinned) = &h.services {
            pinned.clone()
        } else {
            let roles = match &h.roles {
                Some(r) => r.clone(),
                None => next_default.next().cloned().unwrap_or_default(),
            };
            let mut default = role_services(release, spec.cluster.discovery, &roles);
            default.sort();
            match (&h.roles, applied) {
                (None, Some(a)) => {
                    let (kept, new_host) = crate::state::sticky_services(
                        a,
                        &h.name,
                        &role_services(release, spec.cluster.discovery, &[Role::Ecm]),
                        // A service of the release that still runs in it (not Eureka after
                        // a switch to Nacos: src/plan/upgrade.rs removes its units).
                        |s| release.service(s).is_some() && spec.cluster.discovery.runs(s),
                    );
                    if kept != default {
                        sticky.push(Sticky {
                            host: h.name.clone(),
                            new_host,
                            services: kept.clone(),
                            default,
                        });
                    }
                    kept
                }
                _ => default,
            }
        };
        services.sort();
        services.dedup();
        let placed: Vec<PlacedService> = services
            .iter()
            .filter_map(|svc| {
                let info = release.service(*svc)?;
                Some(PlacedService {
                    service: *svc,
                    info,
                    port: h
                        .ports
                        .get(svc)
                        .or(spec.host_defaults.ports.get(svc))
                        .copied()
                        .unwrap_or(info.default_port),
                    heap: heap_of(spec, heaps, *svc),
                })
            })
            .collect();
        let memory = h
            .memory
            .or(spec.host_defaults.memory)
            .map_or(0, Size::bytes);
        hosts.push(PlacedHost {
            index: i,
            name: h.name.clone(),
            address: h.address.clone(),
            ssh_port: h.ssh_port.or(spec.host_defaults.ssh_port).unwrap_or(22),
            memory,
            cores: h.cores.or(spec.host_defaults.cores).unwrap_or(0),
            services: placed,
            engine_memory: 0,
            ecm: None,
        });
    }
    (hosts, sticky)
}

/// Every service of the release runs somewhere.
fn unplaced_services(
    spec: &Spec,
    release: &Release,
    hosts: &[PlacedHost],
    errors: &mut Vec<Diagnostic>,
) {
    for svc in role_services(release, spec.cluster.discovery, &[Role::Control, Role::Ecm]) {
        if !hosts.iter().any(|h| h.runs(svc)) {
            errors.push(
                Diagnostic::error(
                    "service-not-placed",
                    "hosts",
                    format!("no host runs {svc}; Linkis {} needs it", release.version),
                )
                .hint(format!(
                    "add `{svc}` to a host's `services:`, or give a host the `{}` role",
                    match svc.role() {
                        Role::Control => "control",
                        Role::Ecm => "ecm",
                    }
                )),
            );
        }
    }
}

/// Memory per host: engine memory on ECM hosts, heaps + reserve on control hosts. Sets each ECM
/// host's `engine_memory`; true when a host has too little memory.
fn engine_memory(
    s: &crate::spec::Sizing,
    settings: &BTreeMap<Service, crate::spec::ServiceSettings>,
    hosts: &mut [PlacedHost],
    errors: &mut Vec<Diagnostic>,
) -> bool {
    let reserve = s.reserve_memory.bytes() as u128;
    let mut memory_errors = false;
    for h in hosts.iter_mut() {
        let control_heaps: u128 = h
            .services
            .iter()
            .filter(|p| p.service.role() == Role::Control)
            .map(|p| p.heap as u128)
            .sum();
        let needed_control = if h.is_control() {
            control_heaps + reserve
        } else {
            0
        };
        let ecm_heap = h
            .service(Service::Engineconnmanager)
            .map_or(0, |p| p.heap as u128);
        let fixed = needed_control + ecm_heap;
        let mem = h.memory as u128;
        if fixed > mem {
            memory_errors = true;
            // Heaps the spec set per service (`services:`) are named: they are what to lower.
            let set: Vec<String> = h
                .services
                .iter()
                .filter(|p| settings.get(&p.service).and_then(|v| v.heap).is_some())
                .map(|p| {
                    format!(
                        "services.{}.heap ({})",
                        p.service.name(),
                        gib(p.heap as u128)
                    )
                })
                .collect();
            let hint = if set.is_empty() {
                "give the host more memory, move services elsewhere, or lower service_memory / reserve_memory".to_string()
            } else {
                format!(
                    "give the host more memory, move services elsewhere, or lower {}",
                    set.join(", ")
                )
            };
            errors.push(
                Diagnostic::error(
                    "host-memory",
                    join_index("hosts", h.index),
                    format!(
                        "{} has {} of memory but its services need {}: {}",
                        h.name,
                        gib(mem),
                        gib(fixed),
                        breakdown(
                            control_heaps,
                            reserve * u128::from(h.is_control()),
                            ecm_heap
                        )
                    ),
                )
                .hint(hint),
            );
            continue;
        }
        if h.runs(Service::Engineconnmanager) {
            h.engine_memory = clamp(mem - fixed);
        }
    }
    memory_errors
}

/// Each ECM's share of cores and instances, in proportion to its engine memory, so that the
/// shares add up to the demand; instances are never below the even share spec-v1 requires
/// (users × concurrency × engine types / ECM hosts, rounded up).
fn ecm_shares(hosts: &mut [PlacedHost], demand: &Demand, capacity: u128) {
    let ecm_count = hosts
        .iter()
        .filter(|h| h.runs(Service::Engineconnmanager))
        .count() as u128;
    let even_instances = clamp((demand.engines as u128).div_ceil(ecm_count.max(1)));
    for h in hosts.iter_mut() {
        if h.runs(Service::Engineconnmanager) {
            let share = |total: u64| -> u64 {
                if capacity == 0 {
                    return 1;
                }
                clamp((total as u128 * h.engine_memory as u128).div_ceil(capacity)).max(1)
            };
            h.ecm = Some(EcmShare {
                memory_max: h.engine_memory,
                cores_max: share(demand.cores),
                instances_max: share(demand.engines).max(even_instances),
            });
        }
    }
}

/// The ECM capacity error: the demand, what the ECM hosts give, and how many more ECM hosts of
/// `host_defaults.memory` would close the gap.
fn capacity_error(
    spec: &Spec,
    heaps: &Heaps,
    demand: &Demand,
    ecm: &[&PlacedHost],
    capacity: u128,
) -> Diagnostic {
    let gap = demand.memory as u128 - capacity;
    let n = ecm.len();
    let each = {
        let first = ecm[0].engine_memory;
        if ecm.iter().all(|h| h.engine_memory == first) {
            format!("{} each", gib(first as u128))
        } else if n <= 6 {
            ecm.iter()
                .map(|h| format!("{} {}", h.name, gib(h.engine_memory as u128)))
                .collect::<Vec<_>>()
                .join(" + ")
        } else {
            let lo = ecm.iter().map(|h| h.engine_memory).min().unwrap_or(0);
            let hi = ecm.iter().map(|h| h.engine_memory).max().unwrap_or(0);
            format!("{} to {} each", gib(lo as u128), gib(hi as u128))
        }
    };
    let message = format!(
        "engines need {} ({} users × {} × {} concurrent) but the {n} ECM host{} give {} ({each}), {} short",
        gib(demand.memory as u128),
        demand.users,
        gib(demand.engine_memory_sum as u128),
        demand.concurrency,
        plural(n),
        gib(capacity),
        gib(gap)
    );
    let (per_host, source) = match spec.host_defaults.memory {
        Some(m) => (m.bytes() as u128, "host_defaults.memory"),
        None => (
            ecm.iter().map(|h| h.memory).max().unwrap_or(0) as u128,
            "the largest ECM host",
        ),
    };
    let per_host_engines =
        per_host.saturating_sub(heap_of(spec, heaps, Service::Engineconnmanager) as u128);
    let hint = if per_host_engines > 0 {
        let more = gap.div_ceil(per_host_engines);
        format!(
            "add {more} more ECM host{} of {} ({source}; each gives {} − {} ECM heap = {} to engines, \
             {more} × {} = {} ≥ {}): list them before the last two hosts or give them `roles: [ecm]`; \
             or lower concurrent_users, max_concurrency_per_user or engine memory",
            plural(more as usize),
            gib(per_host),
            gib(per_host),
            gib(heap_of(spec, heaps, Service::Engineconnmanager) as u128),
            gib(per_host_engines),
            gib(per_host_engines),
            gib(more * per_host_engines),
            gib(gap)
        )
    } else {
        "add ECM hosts with more memory, or lower concurrent_users".to_string()
    };
    Diagnostic::error("ecm-capacity", "sizing.concurrent_users", message).hint(hint)
}

/// Two placed services on one port of a host are an error; a port override for a service the
/// host does not run is a warning.
fn port_clashes(
    spec: &Spec,
    hosts: &[PlacedHost],
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    for h in hosts {
        let host_path = join_index("hosts", h.index);
        let ports_path = join_key(&host_path, "ports");
        let overrides = &spec.hosts[h.index].ports;
        let in_use = h
            .services
            .iter()
            .map(|p| format!("{} {}", p.service, p.port))
            .collect::<Vec<_>>()
            .join(", ");
        let mut taken: BTreeMap<u16, Service> = BTreeMap::new();
        for p in &h.services {
            let Some(first) = taken.get(&p.port).copied() else {
                taken.insert(p.port, p.service);
                continue;
            };
            let defaults = &spec.host_defaults.ports;
            let (path, moved) = if overrides.contains_key(&p.service) {
                (join_key(&ports_path, p.service.name()), p.service)
            } else if overrides.contains_key(&first) {
                (join_key(&ports_path, first.name()), first)
            } else if defaults.contains_key(&p.service) {
                (join_key("host_defaults.ports", p.service.name()), p.service)
            } else if defaults.contains_key(&first) {
                (join_key("host_defaults.ports", first.name()), first)
            } else {
                (host_path.clone(), p.service)
            };
            errors.push(
                Diagnostic::error(
                    "port-clash",
                    path,
                    format!(
                        "{first} and {} would both listen on port {} on {}",
                        p.service, p.port, h.name
                    ),
                )
                .hint(format!(
                    "give {moved} another port on this host in `ports:` (ports on {}: {in_use})",
                    h.name,
                )),
            );
        }
        for svc in overrides.keys() {
            if !h.runs(*svc) {
                warnings.push(
                    Diagnostic::warning(
                        "unused-port",
                        join_key(&ports_path, svc.name()),
                        format!("{} does not run {svc}, so this port is never used", h.name),
                    )
                    .hint("remove it, or place the service on this host")
                    .at_key(),
                );
            }
        }
    }
}

/// `file://` result sets or workspaces are local to each host: engines write results on their ECM
/// host and publicservice (and the entrance) read them on theirs. On a cluster where those are not
/// all one host, that only works when the root is one mount shared by every host.
fn storage_rule(
    spec: &Spec,
    hosts: &[PlacedHost],
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    let st = &spec.storage;
    if st.shared_mount {
        return;
    }
    let on = |svc: Service| -> Vec<&str> {
        hosts
            .iter()
            .filter(|h| h.runs(svc))
            .map(|h| h.name.as_str())
            .collect()
    };
    let (ecm, ps, entrance) = (
        on(Service::Engineconnmanager),
        on(Service::Publicservice),
        on(Service::Entrance),
    );
    let mut involved: Vec<&str> = ecm.iter().chain(&ps).chain(&entrance).copied().collect();
    involved.sort_unstable();
    involved.dedup();
    if involved.len() < 2 {
        return;
    }
    for (key, root) in [
        ("result_sets", &st.result_sets),
        ("workspace", &st.workspace),
    ] {
        if !root.starts_with("file://") {
            continue;
        }
        // The installer's default workspace is file:///tmp/linkis/ (user scripts, which
        // publicservice serves); left at that default it is a warning, so that first-edition specs
        // keep rendering. Anything the spec chooses itself is held to the rule.
        let default_workspace = key == "workspace" && *root == Storage::default().workspace;
        let message = format!(
            "`{root}` is a directory on each host, but engines write it on the ECM hosts ({}) \
             and publicservice reads it on {}{}",
            ecm.join(", "),
            ps.join(", "),
            if entrance.is_empty() {
                String::new()
            } else {
                format!(", the entrance on {}", entrance.join(", "))
            }
        );
        let path = join_key("storage", key);
        let (d, out) = if default_workspace {
            (
                Diagnostic::warning("local-storage-split", path, message),
                &mut *warnings,
            )
        } else {
            (
                Diagnostic::error("local-storage-split", path, message),
                &mut *errors,
            )
        };
        out.push(d.hint(
            "use an hdfs:// root, or set `storage.shared_mount: true` when it is one mount \
             (NFS, CephFS) shared by every host",
        ));
    }
}

/// Warnings that do not stop a render: no HA, engine cores above physical cores, ECM hosts too
/// small for the largest engine.
fn sizing_warnings(
    spec: &Spec,
    hosts: &[PlacedHost],
    demand: &Demand,
    largest_engine: u64,
    warnings: &mut Vec<Diagnostic>,
) {
    let count = |s: Service| hosts.iter().filter(|h| h.runs(s)).count();
    let mut single = Vec::new();
    if spec.cluster.discovery == Discovery::Eureka && count(Service::Eureka) < 2 {
        single.push(Service::Eureka);
    }
    if count(Service::Gateway) < 2 {
        single.push(Service::Gateway);
    }
    if !single.is_empty() {
        let names: Vec<&str> = single.iter().map(|s| s.name()).collect();
        warnings.push(
            Diagnostic::warning(
                "no-ha",
                "hosts",
                format!(
                    "{} run{} on one host only: no HA, the cluster stops when that host does",
                    names.join(" and "),
                    if single.len() == 1 { "s" } else { "" }
                ),
            )
            .hint("run eureka and gateway on two hosts; the default placement does so with 3 or more hosts")
            .at_key(),
        );
    }

    let over: Vec<&PlacedHost> = hosts
        .iter()
        .filter(|h| h.cores > 0 && h.ecm.is_some_and(|e| e.cores_max > h.cores))
        .collect();
    if let Some(first) = over.first() {
        let share = first.ecm.map_or(0, |e| e.cores_max);
        let same = over
            .iter()
            .all(|h| h.ecm.map(|e| e.cores_max) == Some(share) && h.cores == first.cores);
        let detail = if same {
            format!(
                "{share} each, {} physical core{} each",
                first.cores,
                plural(first.cores as usize)
            )
        } else {
            over.iter()
                .map(|h| {
                    format!(
                        "{} {} > {}",
                        h.name,
                        h.ecm.map_or(0, |e| e.cores_max),
                        h.cores
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        warnings.push(
            Diagnostic::warning(
                "ecm-cores",
                "sizing.engines",
                format!(
                    "engines need {} cores ({} users × {} core{} × {} concurrent); the ECM share{} on {} exceed{} the physical cores ({detail})",
                    demand.cores,
                    demand.users,
                    demand.engine_cores_sum,
                    plural(demand.engine_cores_sum as usize),
                    demand.concurrency,
                    if over.len() == 1 { "" } else { "s" },
                    host_list(over.iter().map(|h| h.name.as_str())),
                    if over.len() == 1 { "s" } else { "" },
                ),
            )
            .hint("Linkis counts logical cores, so this runs and engines share the CPUs; add ECM hosts or cores to avoid it")
            .at_key(),
        );
    }

    let small: Vec<&PlacedHost> = hosts
        .iter()
        .filter(|h| h.ecm.is_some() && h.engine_memory < largest_engine)
        .collect();
    if !small.is_empty() {
        warnings.push(
            Diagnostic::warning(
                "ecm-too-small",
                join_index("hosts", small[0].index),
                format!(
                    "the ECM on {} has less memory for engines than one {} engine: it can never start it",
                    host_list(small.iter().map(|h| h.name.as_str())),
                    gib(largest_engine as u128)
                ),
            )
            .hint("give the host more memory, or keep the ECM off it"),
        );
    }
}

/// `s1`, `s1, s2`, or `s1, s2, …, s10 (10 hosts)` for long lists.
pub fn host_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.len() <= 4 {
        v.join(", ")
    } else {
        format!(
            "{}, {}, …, {} ({} hosts)",
            v[0],
            v[1],
            v[v.len() - 1],
            v.len()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn clamp(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A byte count for messages, exact: `62G` in whole GiB (also above 1T, as the guide writes
/// `1600G`), else the largest exact unit: `512M`, `1536M`.
pub fn gib(b: u128) -> String {
    let g = GIB as u128;
    if b % g == 0 {
        format!("{}G", b / g)
    } else {
        match u64::try_from(b) {
            Ok(v) => Size(v).to_string(),
            Err(_) => format!("{b}B"),
        }
    }
}

fn breakdown(control: u128, reserve: u128, ecm: u128) -> String {
    let mut parts = Vec::new();
    if control > 0 {
        parts.push(format!("{} control heaps", gib(control)));
    }
    if reserve > 0 {
        parts.push(format!("{} reserve", gib(reserve)));
    }
    if ecm > 0 {
        parts.push(format!("{} ECM heap", gib(ecm)));
    }
    parts.join(" + ")
}

/// With `gateway.web.vip`, the web hosts speak VRRP to each other's addresses: IPv4 ones.
fn vip_hosts(spec: &Spec, hosts: &[PlacedHost], errors: &mut Vec<Diagnostic>) {
    if spec.gateway.web.vip.is_none() {
        return;
    }
    for h in hosts.iter().filter(|h| h.runs(Service::Gateway)) {
        if h.address.parse::<std::net::Ipv4Addr>().is_err() {
            errors.push(
                Diagnostic::error(
                    "web-vip",
                    join_key(&join_index("hosts", h.index), "address"),
                    format!(
                        "{} runs nginx and keepalived for the VIP; `{}` is not an IPv4 address",
                        h.name, h.address
                    ),
                )
                .hint("write the web hosts' IPv4 addresses (VRRP peers are addresses, not names)"),
            );
        }
    }
}

/// The nginx front's ports (the plain listener, or HTTPS and its redirect) on every web host
/// (the gateway hosts) against the host's Linkis ports and ssh.
fn web_port_clashes(spec: &Spec, hosts: &[PlacedHost], errors: &mut Vec<Diagnostic>) {
    let web = &spec.gateway.web;
    let fronts: Vec<(&str, u16)> = match &web.tls {
        Some(t) => std::iter::once(("gateway.web.tls.listen", t.listen))
            .chain(
                t.http_redirect
                    .map(|p| ("gateway.web.tls.http_redirect", p)),
            )
            .collect(),
        None => vec![("gateway.web.listen", web.listen)],
    };
    for h in hosts.iter().filter(|h| h.runs(Service::Gateway)) {
        for (path, port) in &fronts {
            let taken = h
                .services
                .iter()
                .find(|p| p.port == *port)
                .map(|p| p.service.to_string())
                .or_else(|| (h.ssh_port == *port).then(|| "ssh".to_string()));
            if let Some(other) = taken {
                errors.push(
                    Diagnostic::error(
                        "port-clash",
                        *path,
                        format!(
                            "nginx and {other} would both listen on port {port} on {}",
                            h.name
                        ),
                    )
                    .hint("give the web front another port (nginx runs on every gateway host)"),
                );
            }
        }
    }
}

/// A service's heap: `services.<svc>.heap` when the spec sets it, else the sizing's.
pub fn heap_of(spec: &crate::spec::Spec, heaps: &Heaps, s: Service) -> u64 {
    spec.services
        .get(&s)
        .and_then(|v| v.heap)
        .map_or_else(|| heaps.of(s), Size::bytes)
}
