//! The plan report: `linkis-gen plan` (text or JSON) and `OUT/PLAN.md`.
//!
//! `Report` is the report as data: a stable, serializable summary of a `Model` (no maps, so the
//! JSON keeps one order), with every size both in bytes and as text. The text form is rendered
//! (render/plan_md.rs) from the template `templates/PLAN.md.j2` with the report as its context,
//! so the JSON and the text can never disagree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Host, Model, Sizing};
use crate::size::{EcmShare, gib};
use crate::spec::{GIB, Service};

/// A size in bytes and as text (`62G`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mem {
    pub bytes: u64,
    pub text: String,
}

impl Mem {
    pub fn new(bytes: u64) -> Mem {
        Mem {
            bytes,
            text: gib(bytes as u128),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cluster: String,
    pub linkis_version: String,
    pub formula: Formula,
    pub heaps: HeapRules,
    pub capacity: Capacity,
    pub hosts: Vec<HostRow>,
    /// The deployment guide's reference layout for the spec's user count, beside the spec's.
    pub guide: GuideComparison,
    pub warnings: Vec<WarningRow>,
    /// Hosts placed by what runs there (applied.json), not by the default placement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sticky: Vec<StickyRow>,
    /// The platform around Linkis: what every service gets besides its placement.
    pub platform: Vec<PlatformRow>,
    /// Templates replaced with `render --templates` (PLAN.md only; absent from `plan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates_overridden: Option<Vec<String>>,
    /// The cluster as a picture (PLAN.md's Mermaid flowchart).
    pub topology: Topology,
}

/// A host placed against applied.json (src/size.rs, sticky placement).
#[derive(Debug, Clone, Serialize)]
pub struct StickyRow {
    pub host: String,
    pub new_host: bool,
    pub services: String,
    pub default: String,
}

/// The guide's formula with the spec's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Formula {
    pub users: u64,
    pub concurrency: u64,
    pub engines: Vec<EngineRow>,
    pub engine_memory_sum: Mem,
    pub engine_cores_sum: u64,
    /// users × Σ engine memory × concurrency.
    pub memory: Mem,
    /// users × Σ engine cores × concurrency.
    pub cores: u64,
    /// users × concurrency × engine types.
    pub instances: u64,
    /// The arithmetic as text: `300 × (spark 1G) × 2 = 600G`.
    pub memory_line: String,
    pub cores_line: String,
    pub instances_line: String,
}

impl Formula {
    /// The formula of a sizing, with its arithmetic as text.
    fn new(s: &Sizing) -> Formula {
        let d = &s.demand;
        let engines: Vec<EngineRow> = s
            .engines
            .iter()
            .map(|e| EngineRow {
                name: e.name.clone(),
                memory: Mem::new(e.memory),
                cores: e.cores,
            })
            .collect();
        let mem_terms = engines
            .iter()
            .map(|e| format!("{} {}", e.name, e.memory.text))
            .collect::<Vec<_>>()
            .join(" + ");
        let core_terms = engines
            .iter()
            .map(|e| format!("{} {}", e.name, e.cores))
            .collect::<Vec<_>>()
            .join(" + ");
        Formula {
            users: d.users,
            concurrency: d.concurrency,
            engine_memory_sum: Mem::new(d.engine_memory_sum),
            engine_cores_sum: d.engine_cores_sum,
            memory: Mem::new(d.memory),
            cores: d.cores,
            instances: d.engines,
            memory_line: format!(
                "{} × ({mem_terms}) × {} = {}",
                d.users,
                d.concurrency,
                gib(d.memory as u128)
            ),
            cores_line: format!(
                "{} × ({core_terms}) × {} = {}",
                d.users, d.concurrency, d.cores
            ),
            instances_line: format!(
                "{} × {} × {} type{} = {}",
                d.users,
                d.concurrency,
                d.engine_types,
                if d.engine_types == 1 { "" } else { "s" },
                d.engines
            ),
            engines,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EngineRow {
    pub name: String,
    pub memory: Mem,
    pub cores: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeapRules {
    /// Heap of every microservice JVM except publicservice (the ECM's own JVM included).
    pub service: Mem,
    pub publicservice: Mem,
    /// Why publicservice has its heap: `auto: 6G above 100 users` or `set in the spec`.
    pub publicservice_rule: String,
    /// Kept free on every host that runs control services.
    pub reserve: Mem,
}

/// What the ECM hosts offer against the demand.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub ecm_hosts: usize,
    /// Σ engine memory of the ECM hosts (= Σ wds.linkis.ecm.memory.max).
    pub memory: Mem,
    /// capacity − demand.
    pub memory_spare: Mem,
    /// Σ wds.linkis.ecm.cores.max.
    pub cores_max: u64,
    /// Σ physical cores of the ECM hosts; None when a host's cores are not given.
    pub physical_cores: Option<u64>,
    /// Σ wds.linkis.ecm.engineconn.instances.max.
    pub instances_max: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostRow {
    pub name: String,
    pub address: String,
    pub memory: Mem,
    /// Physical cores; None when not given.
    pub cores: Option<u64>,
    /// `control`, `ecm` or `control+ecm`.
    pub role: String,
    /// In Linkis' start order.
    pub services: Vec<ServiceRow>,
    /// Σ heaps of the host's JVMs.
    pub heaps: Mem,
    /// reserve_memory on hosts with control services, else 0.
    pub reserve: Mem,
    /// Memory the host's ECM may give to engines (0 without an ECM).
    pub engine_memory: Mem,
    /// `linkis-cg-engineconnmanager.properties` values, on ECM hosts.
    pub ecm: Option<EcmShare>,
}

impl HostRow {
    /// The row of a host; `reserve` is reserve_memory, bytes.
    fn new(h: &Host, reserve: u64) -> HostRow {
        HostRow {
            name: h.name.clone(),
            address: h.address.clone(),
            memory: Mem::new(h.memory),
            cores: (h.cores > 0).then_some(h.cores),
            role: h.role().to_string(),
            services: h
                .instances
                .iter()
                .map(|i| ServiceRow {
                    name: i.name.to_string(),
                    daemon: i.daemon.to_string(),
                    port: i.port,
                    heap: Mem::new(i.heap),
                })
                .collect(),
            heaps: Mem::new(h.instances.iter().map(|i| i.heap).sum()),
            reserve: Mem::new(if h.control { reserve } else { 0 }),
            engine_memory: Mem::new(h.engine_memory),
            ecm: h.ecm,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRow {
    pub name: String,
    pub daemon: String,
    pub port: u16,
    pub heap: Mem,
}

/// One row of the guide's table of reference layouts (64G hosts, 2 engines of 1G per user).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GuideRow {
    /// `100–300`.
    pub users: &'static str,
    /// The user count the layout is for (its upper end; 800 for the last row).
    pub max_users: u64,
    pub servers: usize,
    pub ecm_hosts: usize,
}

/// The guide's reference layouts, from the Linkis deployment guide (`linkis-facts.md`).
pub const GUIDE: [GuideRow; 5] = [
    GuideRow {
        users: "10–50",
        max_users: 50,
        servers: 4,
        ecm_hosts: 2,
    },
    GuideRow {
        users: "50–100",
        max_users: 100,
        servers: 6,
        ecm_hosts: 4,
    },
    GuideRow {
        users: "100–300",
        max_users: 300,
        servers: 12,
        ecm_hosts: 10,
    },
    GuideRow {
        users: "300–500",
        max_users: 500,
        servers: 20,
        ecm_hosts: 18,
    },
    GuideRow {
        users: "500+ (800)",
        max_users: 800,
        servers: 34,
        ecm_hosts: 32,
    },
];

/// Host memory in the guide's layouts.
pub const GUIDE_HOST_MEMORY: u64 = 64 * GIB;

/// The guide's row for a user count: the first whose range holds it, the last beyond 500.
pub fn guide_row(users: u64) -> GuideRow {
    GUIDE
        .iter()
        .copied()
        .find(|r| users <= r.max_users)
        .unwrap_or(GUIDE[GUIDE.len() - 1])
}

/// The guide's layout and the spec's, as table cells, and whether they match.
#[derive(Debug, Clone, Serialize)]
pub struct GuideComparison {
    pub row: GuideRow,
    /// Rows of the side-by-side table: (what, guide, this spec).
    pub rows: Vec<[String; 3]>,
    /// The spec places services exactly as the guide's table (same server count, ECM on all but
    /// the last two, everything else on the last two).
    pub same_layout: bool,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WarningRow {
    pub check: String,
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Report {
    /// The report of a resolved model.
    pub fn new(model: &Model) -> Report {
        let s = &model.sizing;
        let d = &s.demand;
        let formula = Formula::new(s);

        let heaps = HeapRules {
            service: Mem::new(s.heaps.service),
            publicservice: Mem::new(s.heaps.publicservice),
            publicservice_rule: s.publicservice_rule.to_string(),
            reserve: Mem::new(s.reserve),
        };

        let ecm: Vec<_> = model.ecm_hosts().collect();
        let capacity = Capacity {
            ecm_hosts: ecm.len(),
            memory: Mem::new(s.capacity_memory),
            memory_spare: Mem::new(s.capacity_memory.saturating_sub(d.memory)),
            cores_max: ecm.iter().filter_map(|h| h.ecm).map(|e| e.cores_max).sum(),
            physical_cores: if ecm.iter().all(|h| h.cores > 0) {
                Some(ecm.iter().map(|h| h.cores).sum())
            } else {
                None
            },
            instances_max: ecm
                .iter()
                .filter_map(|h| h.ecm)
                .map(|e| e.instances_max)
                .sum(),
        };

        let hosts = model
            .hosts
            .iter()
            .map(|h| HostRow::new(h, s.reserve))
            .collect();

        Report {
            cluster: model.cluster.name.clone(),
            linkis_version: model.cluster.version.to_string(),
            guide: compare_with_guide(model),
            formula,
            heaps,
            capacity,
            hosts,
            warnings: model
                .warnings
                .iter()
                .map(|w| WarningRow {
                    check: w.check.to_string(),
                    path: w.path.clone(),
                    message: w.message.clone(),
                    hint: w.hint.clone(),
                })
                .collect(),
            sticky: model
                .sticky
                .iter()
                .map(|s| StickyRow {
                    host: s.host.clone(),
                    new_host: s.new_host,
                    services: service_list(&s.services),
                    default: service_list(&s.default),
                })
                .collect(),
            platform: platform_rows(model),
            templates_overridden: None,
            topology: Topology::new(model),
        }
    }
}

/// `eureka, gateway, …` in full (PLAN.md's sticky table).
fn service_list(services: &[crate::spec::Service]) -> String {
    services
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of the platform table: what, and the value the tree carries.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformRow {
    pub what: &'static str,
    pub value: String,
}

fn platform_rows(model: &Model) -> Vec<PlatformRow> {
    let p = &model.platform;
    let env = |k: &str| {
        p.env
            .iter()
            .find(|(n, _)| n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let mut rows = vec![
        (
            "gateway URL (wds.linkis.gateway.url)",
            model.gateway.url.clone(),
        ),
        (
            "web console (the front operators open)",
            model.web.url.clone(),
        ),
        (
            "Java",
            p.java_home
                .clone()
                .unwrap_or_else(|| "the `java` on the PATH".to_string()),
        ),
        (
            "Hadoop (HADOOP_HOME, HADOOP_CONF_DIR)",
            format!("{}, {}", env("HADOOP_HOME"), env("HADOOP_CONF_DIR")),
        ),
        (
            "Hive (HIVE_HOME, HIVE_CONF_DIR)",
            format!("{}, {}", env("HIVE_HOME"), env("HIVE_CONF_DIR")),
        ),
        (
            "Spark (SPARK_HOME, SPARK_CONF_DIR)",
            format!("{}, {}", env("SPARK_HOME"), env("SPARK_CONF_DIR")),
        ),
        (
            "engine versions",
            p.engine_versions
                .iter()
                .map(|(e, v)| format!("{e} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("workspace", p.workspace.clone()),
        ("users' root and BML store", p.hdfs_root.clone()),
        ("result sets", p.result_sets.clone()),
        (
            "engines' working directory (ECM hosts)",
            p.engine_root.clone(),
        ),
    ];
    if let Some(r) = &p.engine_ports {
        rows.push(("engine ports", r.clone()));
    }
    rows.push((
        "admin (password from Ansible Vault)",
        format!("{} (`{}`)", p.admin_user, p.admin_password_var),
    ));
    rows.push(("LDAP logins", if p.ldap { "on" } else { "off" }.to_string()));
    rows.into_iter()
        .map(|(what, value)| PlatformRow { what, value })
        .collect()
}

/// `64G` when all memory sizes are equal, else `4 × 64G + 2 × 128G`.
fn memory_mix(sizes: impl Iterator<Item = u64>) -> String {
    let mut count: BTreeMap<u64, usize> = BTreeMap::new();
    for m in sizes {
        *count.entry(m).or_default() += 1;
    }
    count
        .iter()
        .map(|(m, n)| format!("{n} × {}", gib(*m as u128)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `s1, s2, s3` or `s1, s2, …, s10`.
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.len() <= 4 {
        v.join(", ")
    } else {
        format!("{}, {}, …, {}", v[0], v[1], v[v.len() - 1])
    }
}

fn compare_with_guide(model: &Model) -> GuideComparison {
    let s = &model.sizing;
    let demand = &s.demand;
    let row = guide_row(demand.users);
    let n = model.hosts.len();
    let ecm: Vec<_> = model.ecm_hosts().collect();
    let control: Vec<_> = model.hosts.iter().filter(|h| h.control).collect();
    let guide_ecm_mem = row.ecm_hosts as u64 * GUIDE_HOST_MEMORY;
    let engines_per_user = {
        let terms = s
            .engines
            .iter()
            .map(|e| format!("{} {}", e.name, e.memory_text))
            .collect::<Vec<_>>()
            .join(" + ");
        format!("{} × ({terms})", demand.concurrency)
    };
    let raw_ecm_mem: u64 = ecm.iter().map(|h| h.memory).sum();
    let rows = vec![
        [
            "concurrent users".to_string(),
            row.users.to_string(),
            demand.users.to_string(),
        ],
        [
            "engines per user".to_string(),
            "2 × 1G".to_string(),
            engines_per_user,
        ],
        [
            "ECM memory demand".to_string(),
            format!(
                "{} × 2 × 1G = {}",
                row.max_users,
                gib(row.max_users as u128 * 2 * GIB as u128)
            ),
            gib(demand.memory as u128),
        ],
        [
            "servers".to_string(),
            format!("{} × 64G", row.servers),
            memory_mix(model.hosts.iter().map(|h| h.memory)),
        ],
        [
            "ECM hosts".to_string(),
            format!(
                "S1–S{} ({} × 64G = {})",
                row.ecm_hosts,
                row.ecm_hosts,
                gib(guide_ecm_mem as u128)
            ),
            format!(
                "{} host{}: {} ({} host memory, {} for engines)",
                ecm.len(),
                if ecm.len() == 1 { "" } else { "s" },
                names(ecm.iter().map(|h| h.name.as_str())),
                gib(raw_ecm_mem as u128),
                gib(s.capacity_memory as u128)
            ),
        ],
        [
            "other services".to_string(),
            format!("S{}, S{} (Eureka HA)", row.servers - 1, row.servers),
            names(control.iter().map(|h| h.name.as_str())),
        ],
    ];
    let all_control = &s.control_services;
    let same_layout = n == row.servers
        && model.hosts.iter().enumerate().all(|(i, h)| {
            let placed: Vec<Service> = h.instances.iter().map(|p| p.service).collect();
            if i + 2 >= n {
                placed == *all_control
            } else {
                placed == [Service::Engineconnmanager]
            }
        });
    let verdict = if same_layout {
        format!(
            "Same placement as the guide: the ECM on the first {} hosts, every other service on the last two.",
            row.ecm_hosts
        )
    } else if demand.users > 800 {
        "The guide's largest layout is for 800 users; above it, the formula and the capacity check \
         above are what size the cluster."
            .to_string()
    } else {
        format!(
            "A different layout from the guide's ({} servers, ECM on {}); the capacity check above is what \
             decides whether it carries its users.",
            row.servers, row.ecm_hosts
        )
    };
    GuideComparison {
        row,
        rows,
        same_layout,
        verdict,
    }
}

/// The report as JSON (`linkis-gen plan --format json`).
pub fn json(model: &Model) -> String {
    let mut s = serde_json::to_string_pretty(&Report::new(model))
        .expect("the report has no maps with non-string keys");
    s.push('\n');
    s
}

/// What PLAN.md draws: each host with its services and ports, the nginx fronts, the discovery
/// peers. Node ids are generated (`h3`, `h3_gateway`), never spec text, so the diagram parses
/// whatever the host names are; labels are host names and addresses (checked safe words).
#[derive(Debug, Clone, Serialize)]
pub struct Topology {
    pub hosts: Vec<TopologyHost>,
    /// The nginx port of the web fronts.
    pub web_listen: u16,
    /// Node ids of the nginx fronts (one per gateway host).
    pub webs: Vec<String>,
    /// Node ids of the gateways, which every nginx front balances over.
    pub gateways: Vec<String>,
    /// Pairs of Eureka node ids that replicate to each other.
    pub peers: Vec<(String, String)>,
    /// `host:port` of Nacos when the cluster registers there.
    pub nacos: Option<String>,
    /// `ip_hash` stickiness at nginx (no Redis sessions).
    pub ip_hash: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopologyHost {
    pub id: String,
    pub name: String,
    pub address: String,
    /// Runs the nginx front (a gateway host).
    pub web: bool,
    pub services: Vec<TopologyService>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopologyService {
    pub id: String,
    pub name: &'static str,
    pub port: u16,
}

impl Topology {
    pub fn new(model: &Model) -> Topology {
        use crate::spec::Service;
        let hosts: Vec<TopologyHost> = model
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let id = format!("h{}", i + 1);
                TopologyHost {
                    web: h.runs(Service::Gateway),
                    services: h
                        .instances
                        .iter()
                        .map(|s| TopologyService {
                            id: format!("{id}_{}", s.name),
                            name: s.name,
                            port: s.port,
                        })
                        .collect(),
                    id,
                    name: h.name.clone(),
                    address: h.address.clone(),
                }
            })
            .collect();
        let ids_of = |svc: &str| -> Vec<String> {
            hosts
                .iter()
                .flat_map(|h| h.services.iter())
                .filter(|s| s.name == svc)
                .map(|s| s.id.clone())
                .collect()
        };
        let eurekas = ids_of("eureka");
        let mut peers = Vec::new();
        for (i, a) in eurekas.iter().enumerate() {
            for b in &eurekas[i + 1..] {
                peers.push((a.clone(), b.clone()));
            }
        }
        Topology {
            web_listen: model.web.listen,
            webs: hosts
                .iter()
                .filter(|h| h.web)
                .map(|h| format!("{}_nginx", h.id))
                .collect(),
            gateways: ids_of("gateway"),
            peers,
            nacos: (!model.discovery.eureka).then(|| model.discovery.nacos_address.clone()),
            ip_hash: model.sessions.ip_hash,
            hosts,
        }
    }
}
