//! Stage 3, size/place: a validated spec → a `Plan`: which services run on which host, with which
//! ports and heaps, and how much engine memory, cores and instances each ECM may hand out.
//!
//! Rules: `../shared/spec-v1.md` (Roles and default placement; Sizing). All arithmetic is exact, on
//! bytes, in u128 so that no spec can overflow it.

use serde::Serialize;

use crate::catalog::{Release, ServiceInfo};
use crate::diag::{Diagnostic, join_index};
use crate::spec::{AutoSize, Discovery, GIB, Role, Service, Size, Spec};
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
        .filter(|s| !(discovery == Discovery::Nacos && *s == Service::Eureka))
        .collect()
}

/// Places services and sizes the cluster. Errors carry the arithmetic that failed.
pub fn place(v: Validated) -> Result<Plan, Vec<Diagnostic>> {
    let Validated {
        spec,
        release,
        mut warnings,
    } = v;
    let mut errors = Vec::new();
    let s = &spec.sizing;

    let heaps = Heaps {
        service: s.service_memory.bytes(),
        publicservice: match s.publicservice_memory {
            AutoSize::Size(z) => z.bytes(),
            AutoSize::Auto if s.concurrent_users > 100 => 6 * GIB,
            AutoSize::Auto => s.service_memory.bytes(),
        },
    };

    let engine_memory_sum: u128 = s.engines.values().map(|e| e.memory.bytes() as u128).sum();
    let engine_cores_sum: u128 = s.engines.values().map(|e| e.cores as u128).sum();
    let users = s.concurrent_users as u128;
    let conc = s.max_concurrency_per_user as u128;
    let types = s.engines.len() as u128;
    let demand = Demand {
        users: s.concurrent_users,
        concurrency: s.max_concurrency_per_user,
        engine_types: s.engines.len() as u64,
        engine_memory_sum: clamp(engine_memory_sum),
        engine_cores_sum: clamp(engine_cores_sum),
        memory: clamp(users * engine_memory_sum * conc),
        cores: clamp(users * engine_cores_sum * conc),
        engines: clamp(users * conc * types),
    };

    // Placement: pinned services, then roles, then defaults among the hosts that declare neither.
    let undeclared: Vec<usize> = spec
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.services.is_none() && h.roles.is_none())
        .map(|(i, _)| i)
        .collect();
    let defaults = default_roles(undeclared.len());
    let mut hosts = Vec::with_capacity(spec.hosts.len());
    for (i, h) in spec.hosts.iter().enumerate() {
        let mut services: Vec<Service> = if let Some(pinned) = &h.services {
            pinned.clone()
        } else {
            let roles = match &h.roles {
                Some(r) => r.clone(),
                None => {
                    let k = undeclared.iter().position(|u| *u == i).unwrap_or(0);
                    defaults[k].clone()
                }
            };
            role_services(&release, spec.cluster.discovery, &roles)
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
                    port: h.ports.get(svc).copied().unwrap_or(info.default_port),
                    heap: heaps.of(*svc),
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

    // Every service of the release runs somewhere.
    for svc in role_services(
        &release,
        spec.cluster.discovery,
        &[Role::Control, Role::Ecm],
    ) {
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

    // Memory per host: engine memory on ECM hosts, heaps + reserve on control hosts.
    let reserve = s.reserve_memory.bytes() as u128;
    for h in &mut hosts {
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
            errors.push(
                Diagnostic::error(
                    "host-memory",
                    join_index("hosts", h.index),
                    format!(
                        "{} has {} of memory but its services need {}: {}",
                        h.name,
                        gib(h.memory as u128),
                        gib(fixed),
                        breakdown(control_heaps, reserve * u128::from(h.is_control()), ecm_heap)
                    ),
                )
                .hint("give the host more memory, move services elsewhere, or lower service_memory / reserve_memory"),
            );
            continue;
        }
        if h.runs(Service::Engineconnmanager) {
            h.engine_memory = clamp(mem - fixed);
        }
    }

    let ecm_count = hosts
        .iter()
        .filter(|h| h.runs(Service::Engineconnmanager))
        .count() as u128;
    let capacity: u128 = hosts.iter().map(|h| h.engine_memory as u128).sum();
    if ecm_count > 0 && errors.is_empty() && capacity < demand.memory as u128 {
        let gap = demand.memory as u128 - capacity;
        let per_host = spec.host_defaults.memory.map_or(
            hosts.iter().map(|h| h.memory).max().unwrap_or(0),
            Size::bytes,
        ) as u128;
        let per_host_engines = per_host.saturating_sub(heaps.service as u128);
        let hint = if per_host_engines > 0 {
            let more = gap.div_ceil(per_host_engines);
            format!(
                "add {more} more ECM host{} of {} (each gives {} to engines), or lower concurrent_users, \
                 max_concurrency_per_user or engine memory",
                if more == 1 { "" } else { "s" },
                gib(per_host),
                gib(per_host_engines)
            )
        } else {
            "add ECM hosts with more memory, or lower concurrent_users".to_string()
        };
        errors.push(
            Diagnostic::error(
                "ecm-capacity",
                "sizing.concurrent_users",
                format!(
                    "engines need {} ({} users × {} × {} concurrent) but the {} ECM host{} can give {}, {} short",
                    gib(demand.memory as u128),
                    demand.users,
                    gib(engine_memory_sum),
                    demand.concurrency,
                    ecm_count,
                    if ecm_count == 1 { "" } else { "s" },
                    gib(capacity),
                    gib(gap)
                ),
            )
            .hint(hint),
        );
    }

    if !errors.is_empty() {
        return Err(errors);
    }

    // Each ECM's share of cores and instances.
    let ecm_count = ecm_count.max(1);
    let cores_share = clamp((demand.cores as u128).div_ceil(ecm_count)).max(1);
    let instances_share = clamp((demand.engines as u128).div_ceil(ecm_count)).max(1);
    for h in &mut hosts {
        if h.runs(Service::Engineconnmanager) {
            h.ecm = Some(EcmShare {
                memory_max: h.engine_memory,
                cores_max: cores_share,
                instances_max: instances_share,
            });
            if h.cores > 0 && cores_share > h.cores {
                warnings.push(
                    Diagnostic::warning(
                        "ecm-cores",
                        join_index("hosts", h.index),
                        format!(
                            "{}'s share of engine cores is {cores_share} but it has {} physical cores",
                            h.name, h.cores
                        ),
                    )
                    .hint("Linkis counts logical cores, so this runs; engines will share the CPUs"),
                );
            }
        }
    }

    Ok(Plan {
        capacity_memory: clamp(capacity),
        spec,
        release,
        hosts,
        heaps,
        demand,
        warnings,
    })
}

fn clamp(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A byte count in GiB for messages: `62G`, or `1.5G` when not whole.
pub fn gib(b: u128) -> String {
    let g = GIB as u128;
    if b % g == 0 {
        format!("{}G", b / g)
    } else {
        format!("{:.2}G", b as f64 / g as f64)
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
