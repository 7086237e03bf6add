//! Property tests of the sizing stage over random specs (random host counts, memory, users,
//! engines, roles, pinned services and port overrides): it never panics, and whenever a spec
//! places, the placement covers every service, capacity covers demand and the numbers add up.

use proptest::prelude::*;

use linkis_gen::catalog::Release;
use linkis_gen::init::{EngineType, InitOptions, starter_spec};
use linkis_gen::load::Source;
use linkis_gen::size::Plan;
use linkis_gen::spec::{GIB, MIB, Role, Service, Size};

const VERSIONS: [&str; 5] = ["1.1.3", "1.3.0", "1.3.1", "1.3.2", "1.5.0"];
const SIZES_G: [u64; 8] = [4, 8, 16, 24, 32, 64, 128, 256];

#[derive(Debug, Clone)]
enum Placement {
    Default,
    Roles(Vec<Role>),
    /// Indexes into the release's services.
    Pinned(Vec<usize>),
}

#[derive(Debug, Clone)]
struct HostGen {
    memory_g: Option<u64>,
    cores: Option<u64>,
    placement: Placement,
    /// (index into the release's services, port)
    port: Option<(usize, u16)>,
}

#[derive(Debug, Clone)]
struct SpecGen {
    version: &'static str,
    users: u64,
    concurrency: u64,
    engines: Vec<(u64, u64)>, // (memory MiB, cores)
    service_g: u64,
    publicservice_g: Option<u64>,
    reserve_g: u64,
    default_memory_g: u64,
    hosts: Vec<HostGen>,
}

fn placement() -> impl Strategy<Value = Placement> {
    prop_oneof![
        6 => Just(Placement::Default),
        1 => Just(Placement::Roles(vec![Role::Control])),
        1 => Just(Placement::Roles(vec![Role::Ecm])),
        1 => Just(Placement::Roles(vec![Role::Control, Role::Ecm])),
        1 => prop::collection::vec(0usize..10, 1..4).prop_map(Placement::Pinned),
    ]
}

fn host() -> impl Strategy<Value = HostGen> {
    (
        prop::option::weighted(0.1, prop::sample::select(SIZES_G.to_vec())),
        prop::option::weighted(0.3, 1u64..128),
        placement(),
        prop::option::weighted(
            0.03,
            (
                0usize..10,
                prop::sample::select(vec![9001u16, 9101, 9104, 9500, 20303]),
            ),
        ),
    )
        .prop_map(|(memory_g, cores, placement, port)| HostGen {
            memory_g,
            cores,
            placement,
            port,
        })
}

fn spec_gen() -> impl Strategy<Value = SpecGen> {
    (
        prop::sample::select(VERSIONS.to_vec()),
        1u64..600,
        1u64..4,
        prop::collection::vec(
            (
                prop::sample::select(vec![256u64, 512, 1024, 2048, 4096]),
                1u64..4,
            ),
            1..4,
        ),
        prop::sample::select(vec![1u64, 2, 3]),
        prop::option::weighted(0.3, prop::sample::select(vec![2u64, 4, 6, 8])),
        prop::sample::select(vec![0u64, 4, 10]),
        prop::sample::select(vec![32u64, 64, 128, 256]),
        prop::collection::vec(host(), 1..40),
    )
        .prop_map(
            |(
                version,
                users,
                concurrency,
                engines,
                service_g,
                publicservice_g,
                reserve_g,
                default_memory_g,
                hosts,
            )| SpecGen {
                version,
                users,
                concurrency,
                engines,
                service_g,
                publicservice_g,
                reserve_g,
                default_memory_g,
                hosts,
            },
        )
}

const ENGINE_NAMES: [&str; 3] = ["spark", "hive", "python"];

fn text(g: &SpecGen) -> String {
    let release = Release::find(g.version).unwrap();
    let services: Vec<Service> = release.line.services.iter().map(|i| i.service).collect();
    let mut s = format!(
        "version: 1\ncluster:\n  name: prop\n  linkis_version: \"{}\"\n  package: files/linkis.tar.gz\n\
         database:\n  host: 10.0.0.5\n  name: linkis\n  user: linkis\n  password: {{ vault: vault_db }}\n\
         sizing:\n  concurrent_users: {}\n  max_concurrency_per_user: {}\n  engines:\n",
        g.version, g.users, g.concurrency
    );
    for (i, (mem, cores)) in g.engines.iter().enumerate() {
        s.push_str(&format!(
            "    {}: {{ memory: {mem}M, cores: {cores} }}\n",
            ENGINE_NAMES[i]
        ));
    }
    s.push_str(&format!("  service_memory: {}G\n", g.service_g));
    if let Some(p) = g.publicservice_g {
        s.push_str(&format!("  publicservice_memory: {p}G\n"));
    }
    s.push_str(&format!(
        "  reserve_memory: {}G\nhost_defaults:\n  memory: {}G\nhosts:\n",
        g.reserve_g, g.default_memory_g
    ));
    for (i, h) in g.hosts.iter().enumerate() {
        s.push_str(&format!(
            "  - name: h{i}\n    address: 10.1.{}.{}\n",
            i / 200,
            i % 200 + 1
        ));
        if let Some(m) = h.memory_g {
            s.push_str(&format!("    memory: {m}G\n"));
        }
        if let Some(c) = h.cores {
            s.push_str(&format!("    cores: {c}\n"));
        }
        match &h.placement {
            Placement::Default => {}
            Placement::Roles(r) => {
                let names: Vec<&str> = r
                    .iter()
                    .map(|r| match r {
                        Role::Control => "control",
                        Role::Ecm => "ecm",
                    })
                    .collect();
                s.push_str(&format!("    roles: [{}]\n", names.join(", ")));
            }
            Placement::Pinned(idx) => {
                let mut names: Vec<&str> = idx
                    .iter()
                    .map(|i| services[i % services.len()].name())
                    .collect();
                names.dedup();
                s.push_str(&format!("    services: [{}]\n", names.join(", ")));
            }
        }
        if let Some((svc, port)) = h.port {
            s.push_str(&format!(
                "    ports: {{ {}: {port} }}\n",
                services[svc % services.len()].name()
            ));
        }
    }
    s
}

// Oracles: the expectations below are recomputed from the spec's numbers and docs/sizing.md's
// rules, not with the functions of src/size.rs they check.

/// docs/sizing.md's default placement among n undeclared hosts: (control, ecm) of the k-th.
fn oracle_roles(k: usize, n: usize) -> (bool, bool) {
    match n {
        1 => (true, true),
        2 => (true, k == 1),
        _ => (k + 2 >= n, k + 2 < n),
    }
}

/// The catalog's services of the release (data) that a host with these roles runs, in start order:
/// the ECM for `ecm`, every other service for `control`.
fn oracle_services(version: &str, control: bool, ecm: bool) -> Vec<Service> {
    Release::find(version)
        .unwrap()
        .line
        .services
        .iter()
        .map(|i| i.service)
        .filter(|s| match s {
            Service::Engineconnmanager => ecm,
            _ => control,
        })
        .collect()
}

/// A service's heap: publicservice's is its own size, or with `auto` 6G above 100 users (never
/// below service_memory); every other service gets service_memory.
fn oracle_heap(g: &SpecGen, svc: Service) -> u64 {
    match (svc, g.publicservice_g) {
        (Service::Publicservice, Some(p)) => p * GIB,
        (Service::Publicservice, None) if g.users > 100 => g.service_g.max(6) * GIB,
        _ => g.service_g * GIB,
    }
}

fn check_plan(g: &SpecGen, p: &Plan) {
    // Every service of the release runs somewhere.
    for svc in oracle_services(g.version, true, true) {
        assert!(p.hosts.iter().any(|h| h.runs(svc)), "{svc} not placed");
    }
    // The hosts that declare neither roles nor services follow the default placement among themselves.
    let undeclared: Vec<usize> = g
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| matches!(h.placement, Placement::Default))
        .map(|(i, _)| i)
        .collect();
    for (k, i) in undeclared.iter().enumerate() {
        let (control, ecm) = oracle_roles(k, undeclared.len());
        let expect = oracle_services(g.version, control, ecm);
        let got: Vec<Service> = p.hosts[*i].services.iter().map(|x| x.service).collect();
        assert_eq!(got, expect, "host h{i}");
    }
    // Demand is the guide's formula, exactly, from the generator's numbers.
    let mem_sum: u64 = g.engines.iter().map(|(mib, _)| mib * MIB).sum();
    let core_sum: u64 = g.engines.iter().map(|(_, c)| c).sum();
    assert_eq!(p.demand.memory, g.users * mem_sum * g.concurrency);
    assert_eq!(p.demand.cores, g.users * core_sum * g.concurrency);
    assert_eq!(
        p.demand.engines,
        g.users * g.concurrency * g.engines.len() as u64
    );
    // Capacity covers demand, and is the sum of the ECM keys.
    assert!(p.capacity_memory >= p.demand.memory);
    let ecm: Vec<_> = p.ecm_hosts().collect();
    assert!(!ecm.is_empty());
    let shares: Vec<_> = ecm.iter().map(|h| h.ecm.expect("ECM share")).collect();
    assert_eq!(
        shares.iter().map(|e| e.memory_max).sum::<u64>(),
        p.capacity_memory
    );
    assert!(shares.iter().map(|e| e.instances_max).sum::<u64>() >= p.demand.engines);
    assert!(shares.iter().map(|e| e.cores_max).sum::<u64>() >= p.demand.cores);
    let max_inst = shares.iter().map(|e| e.instances_max).max().unwrap();
    assert!(max_inst * ecm.len() as u64 >= p.demand.engines);
    // Every host's memory adds up: engine memory + heaps (+ reserve where control) = host memory,
    // with the host memory, heaps and reserve taken from the spec's numbers.
    for (h, hg) in p.hosts.iter().zip(&g.hosts) {
        assert_eq!(h.ecm.is_some(), h.runs(Service::Engineconnmanager));
        let memory = hg.memory_g.unwrap_or(g.default_memory_g) * GIB;
        assert_eq!(h.memory, memory, "{}", h.name);
        let heaps: u64 = h.services.iter().map(|x| oracle_heap(g, x.service)).sum();
        for x in &h.services {
            assert_eq!(
                x.heap,
                oracle_heap(g, x.service),
                "{}: {}",
                h.name,
                x.service
            );
        }
        let control = h
            .services
            .iter()
            .any(|x| x.service != Service::Engineconnmanager);
        let reserve = if control { g.reserve_g * GIB } else { 0 };
        if h.runs(Service::Engineconnmanager) {
            assert_eq!(h.engine_memory, memory - heaps - reserve, "{}", h.name);
            assert_eq!(h.ecm.unwrap().memory_max, h.engine_memory);
        } else {
            assert_eq!(h.engine_memory, 0);
            assert!(heaps + reserve <= h.memory, "{}", h.name);
        }
        // No two services of a host on one port.
        let mut ports: Vec<u16> = h.services.iter().map(|x| x.port).collect();
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), h.services.len(), "{}", h.name);
    }
    // The report renders, and its JSON sums agree with the plan.
    let text = linkis_gen::render::plan_text(&linkis_gen::model::resolve(p));
    for h in &p.hosts {
        assert!(text.contains(&format!("| {} |", h.name)));
    }
    let json: serde_json::Value =
        serde_json::from_str(&linkis_gen::report::json(&linkis_gen::model::resolve(p))).unwrap();
    assert_eq!(json["capacity"]["memory"]["bytes"], p.capacity_memory);
    assert_eq!(json["formula"]["memory"]["bytes"], p.demand.memory);
    assert_eq!(
        json["capacity"]["instances_max"],
        shares.iter().map(|e| e.instances_max).sum::<u64>()
    );
    assert!(p.warnings.iter().all(|w| !w.is_error()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn random_specs_place_soundly_or_fail_with_named_errors(g in spec_gen()) {
        let t = text(&g);
        match linkis_gen::plan(&Source::new("prop.yaml", t.clone().into_bytes())) {
            Ok(p) => check_plan(&g, &p),
            Err(diags) => {
                prop_assert!(diags.iter().any(|d| d.is_error()), "{t}");
                for d in diags.iter().filter(|d| d.is_error()) {
                    prop_assert!(
                        [
                            "ecm-capacity",
                            "host-memory",
                            "service-not-placed",
                            "port-clash",
                            "service-not-in-version",
                        ]
                        .contains(&d.check),
                        "unexpected {}: {}\n{t}",
                        d.check,
                        d.message
                    );
                }
                // A capacity error's hint names a number of hosts that would close the gap.
                if let Some(e) = diags.iter().find(|d| d.check == "ecm-capacity") {
                    prop_assert!(e.hint.as_deref().unwrap_or("").starts_with("add "));
                }
            }
        }
    }

    #[test]
    fn init_specs_always_place_and_are_the_smallest(
        users in 1u64..3000,
        memory_g in 24u64..512,
        engines in prop::collection::vec((prop::sample::select(vec![512u64, 1024, 2048]), 1u64..3), 1..4),
        concurrency in 1u64..4,
        version in prop::sample::select(VERSIONS.to_vec()),
    ) {
        let o = InitOptions {
            users,
            host_memory: Size(memory_g * GIB),
            engines: engines
                .iter()
                .enumerate()
                .map(|(i, (m, c))| EngineType { name: ENGINE_NAMES[i].into(), memory: Size(m * MIB), cores: *c })
                .collect(),
            concurrency,
            version: version.into(),
        };
        let text = match starter_spec(&o) {
            Ok(t) => t,
            Err(e) => {
                // Only hosts too small for the control services have no layout.
                prop_assert!(memory_g < 48 && e.contains("control heaps"), "{e}");
                return Ok(());
            }
        };
        // Its placeholders set (an untouched one is an error: tests/init.rs).
        let text = text.replace("PLACEHOLDER", "set");
        let p = linkis_gen::plan(&Source::new("init.yaml", text.into_bytes())).unwrap();
        // Recomputed from the inputs (docs/sizing.md): demand = users × concurrency × Σ engine
        // memory; an ECM-only host gives its memory less the ECM's 2G heap.
        let demand: u64 = users * concurrency * engines.iter().map(|(m, _)| m * MIB).sum::<u64>();
        prop_assert_eq!(p.demand.memory, demand);
        prop_assert!(p.capacity_memory >= demand);
        let n = p.hosts.len();
        if n >= 3 {
            let per_ecm = (memory_g - 2) * GIB;
            prop_assert_eq!(p.hosts[0].engine_memory, per_ecm);
            // The smallest count that carries the demand: one ECM host fewer would not.
            prop_assert_eq!(p.ecm_hosts().count() as u64, demand.div_ceil(per_ecm).max(1));
            prop_assert_eq!(p.ecm_hosts().count(), n - 2);
        }
    }
}
