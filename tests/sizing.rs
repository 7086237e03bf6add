//! The sizing engine against the Linkis deployment guide: the five reference layouts, the guide's
//! first example, the capacity error's arithmetic, port clashes, HA and core warnings, the
//! placement rule for mixed specs, and the plan report (text, JSON, PLAN.md).

use std::path::Path;
use std::process::Command;

use linkis_gen::diag::{Diagnostic, Severity};
use linkis_gen::load::Source;
use linkis_gen::size::Plan;
use linkis_gen::spec::{GIB, Service};

const HEAD: &str = r#"version: 1
cluster:
  name: test
  linkis_version: "1.3.2"
  package: files/apache-linkis-1.3.2-bin.tar.gz
database:
  host: 10.0.0.5
  name: linkis
  user: linkis
  password: { vault: vault_linkis_db_password }
"#;

/// A spec: HEAD + a sizing block + host_defaults of 64G/32 cores + the given hosts block.
fn spec(sizing: &str, hosts: &str) -> String {
    format!("{HEAD}sizing:\n{sizing}host_defaults:\n  memory: 64G\n  cores: 32\nhosts:\n{hosts}")
}

/// `n` plain hosts s1..sn.
fn plain_hosts(n: usize) -> String {
    (1..=n)
        .map(|i| format!("  - {{ name: s{i}, address: 10.0.1.{i} }}\n"))
        .collect()
}

fn guide_sizing(users: u64) -> String {
    format!(
        "  concurrent_users: {users}\n  max_concurrency_per_user: 2\n  engines:\n    spark: {{ memory: 1G, cores: 1 }}\n"
    )
}

fn plan_of(text: &str) -> Result<Plan, Vec<Diagnostic>> {
    linkis_gen::plan(&Source::new("spec.yaml", text.as_bytes().to_vec()))
}

fn ok(text: &str) -> Plan {
    match plan_of(text) {
        Ok(p) => p,
        Err(d) => panic!("expected a plan, got {d:#?}\n{text}"),
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match plan_of(text) {
        Ok(_) => panic!("expected errors\n{text}"),
        Err(d) => d.into_iter().filter(Diagnostic::is_error).collect(),
    }
}

fn example(name: &str) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let bytes = std::fs::read(&path).expect("example");
    linkis_gen::plan(&Source::new(name, bytes)).expect("example plans")
}

const GUIDE: [(u64, usize, u64); 5] = [
    (50, 4, 100),
    (100, 6, 200),
    (300, 12, 600),
    (500, 20, 1000),
    (800, 34, 1600),
];

#[test]
fn the_five_reference_layouts_place_exactly_as_the_guide() {
    for (users, servers, demand_g) in GUIDE {
        let plan = example(&format!("guide-{users}-users.yaml"));
        assert_eq!(plan.hosts.len(), servers, "{users} users");
        assert_eq!(plan.demand.memory, demand_g * GIB, "{users} users: demand");
        let control = [
            Service::Eureka,
            Service::Gateway,
            Service::Publicservice,
            Service::Linkismanager,
            Service::Entrance,
        ];
        for (i, h) in plan.hosts.iter().enumerate() {
            let placed: Vec<Service> = h.services.iter().map(|p| p.service).collect();
            assert_eq!(h.name, format!("s{}", i + 1));
            if i + 2 < servers {
                assert_eq!(placed, [Service::Engineconnmanager], "{users}: {}", h.name);
                let e = h.ecm.expect("ECM share");
                assert_eq!(e.memory_max, 66_571_993_088, "{users}: {} = 62 GiB", h.name);
            } else {
                assert_eq!(placed, control, "{users}: {}", h.name);
                assert!(h.ecm.is_none());
            }
        }
        assert_eq!(plan.ecm_hosts().count(), servers - 2);
        assert_eq!(plan.capacity_memory, (servers as u64 - 2) * 62 * GIB);
        // `plan` shows the demand with the formula filled in.
        let text = linkis_gen::render::plan_text(&linkis_gen::model::resolve(&plan));
        assert!(
            text.contains(&format!("= {users} × (spark 1G) × 2 = {demand_g}G")),
            "{text}"
        );
        assert!(text.contains("Same placement as the guide"), "{text}");
    }
}

#[test]
fn the_guides_first_example_needs_150g_and_150_cores() {
    let sizing = "  concurrent_users: 50\n  max_concurrency_per_user: 1\n  engines:\n    spark: { memory: 1G, cores: 1 }\n    hive: { memory: 1G, cores: 1 }\n    python: { memory: 1G, cores: 1 }\n";
    let plan = ok(&spec(sizing, &plain_hosts(5)));
    assert_eq!(plan.demand.memory, 150 * GIB);
    assert_eq!(plan.demand.cores, 150);
    assert_eq!(plan.demand.engines, 150);
    let text = linkis_gen::render::plan_text(&linkis_gen::model::resolve(&plan));
    assert!(
        text.contains("= 50 × (hive 1G + python 1G + spark 1G) × 1 = 150G"),
        "{text}"
    );
    assert!(
        text.contains("= 50 × (hive 1 + python 1 + spark 1) × 1 = 150"),
        "{text}"
    );
}

#[test]
fn three_hundred_users_on_six_hosts_are_refused_with_the_arithmetic() {
    let errs = errors(&spec(&guide_sizing(300), &plain_hosts(6)));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    assert_eq!(e.check, "ecm-capacity");
    assert_eq!(e.path, "sizing.concurrent_users");
    for part in [
        "600G",
        "300 users × 1G × 2",
        "4 ECM hosts give 248G",
        "62G each",
        "352G short",
    ] {
        assert!(e.message.contains(part), "{part}: {}", e.message);
    }
    let hint = e.hint.as_deref().unwrap();
    assert!(hint.starts_with("add 6 more ECM hosts of 64G"), "{hint}");
    assert!(hint.contains("6 × 62G = 372G ≥ 352G"), "{hint}");
}

#[test]
fn the_missing_host_count_closes_the_gap_exactly() {
    // For each too-small layout, the hint's count of extra ECM hosts makes it fit, one fewer doesn't.
    for (users, hosts) in [(300, 6), (500, 12), (800, 3), (100, 5), (51, 3)] {
        let errs = errors(&spec(&guide_sizing(users), &plain_hosts(hosts)));
        let hint = errs[0].hint.clone().unwrap();
        let more: usize = hint
            .strip_prefix("add ")
            .and_then(|h| h.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{hint}"));
        assert!(ok_count(users, hosts + more), "{users} users: {hint}");
        assert!(!ok_count(users, hosts + more - 1), "{users} users: {hint}");
    }
}

fn ok_count(users: u64, hosts: usize) -> bool {
    plan_of(&spec(&guide_sizing(users), &plain_hosts(hosts))).is_ok()
}

#[test]
fn control_hosts_must_hold_their_heaps_and_reserve() {
    let hosts = "  - { name: s1, address: 10.0.1.1, memory: 16G }\n";
    let errs = errors(&spec(&guide_sizing(1), hosts));
    let e = errs
        .iter()
        .find(|e| e.check == "host-memory")
        .expect("host-memory");
    assert_eq!(e.path, "hosts[0]");
    assert!(
        e.message.contains("16G")
            && e.message
                .contains("10G control heaps + 10G reserve + 2G ECM heap"),
        "{}",
        e.message
    );
}

#[test]
fn core_demand_above_physical_cores_is_one_warning() {
    let plan = example("guide-800-users.yaml");
    let cores: Vec<_> = plan
        .warnings
        .iter()
        .filter(|w| w.check == "ecm-cores")
        .collect();
    assert_eq!(cores.len(), 1, "{:#?}", plan.warnings);
    assert_eq!(cores[0].severity, Severity::Warning);
    assert!(
        cores[0].message.contains("1600 cores") && cores[0].message.contains("32 hosts"),
        "{}",
        cores[0].message
    );
    // Enough physical cores: no warning.
    let text = spec(&guide_sizing(50), &plain_hosts(4)).replace("cores: 32", "cores: 64");
    assert!(ok(&text).warnings.iter().all(|w| w.check != "ecm-cores"));
}

#[test]
fn one_eureka_or_one_gateway_is_a_no_ha_warning() {
    let one = ok(&spec(&guide_sizing(10), &plain_hosts(1)));
    let w: Vec<_> = one.warnings.iter().filter(|w| w.check == "no-ha").collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("eureka and gateway"),
        "{}",
        w[0].message
    );
    let two = ok(&spec(&guide_sizing(10), &plain_hosts(2)));
    assert!(two.warnings.iter().all(|w| w.check != "no-ha"));
    let hosts = "  - { name: e1, address: 10.0.1.1, roles: [ecm] }\n  - { name: c1, address: 10.0.1.2, services: [eureka, publicservice, linkismanager, entrance] }\n  - { name: g, address: 10.0.1.3, services: [gateway] }\n";
    let p = ok(&spec(&guide_sizing(10), hosts));
    let w: Vec<_> = p.warnings.iter().filter(|w| w.check == "no-ha").collect();
    assert_eq!(w.len(), 1, "{:#?}", p.warnings);
    assert!(
        w[0].message
            .starts_with("eureka and gateway run on one host"),
        "{}",
        w[0].message
    );
}

#[test]
fn port_clashes_are_errors_that_name_both_services_and_the_host() {
    let hosts = plain_hosts(4).replace(
        "  - { name: s4, address: 10.0.1.4 }",
        "  - { name: s4, address: 10.0.1.4, ports: { gateway: 9101 } }",
    );
    let errs = errors(&spec(&guide_sizing(50), &hosts));
    let e = errs
        .iter()
        .find(|e| e.check == "port-clash")
        .expect("port-clash");
    assert_eq!(e.path, "hosts[3].ports.gateway");
    assert!(
        e.message.contains("gateway")
            && e.message.contains("linkismanager")
            && e.message.contains("s4")
            && e.message.contains("9101"),
        "{}",
        e.message
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("give gateway another port")
    );
    // A clash on a host that does not run the overridden service is no clash, but a warning.
    let hosts = plain_hosts(4).replace(
        "  - { name: s1, address: 10.0.1.1 }",
        "  - { name: s1, address: 10.0.1.1, ports: { gateway: 9102 } }",
    );
    let p = ok(&spec(&guide_sizing(50), &hosts));
    let w = p
        .warnings
        .iter()
        .find(|w| w.check == "unused-port")
        .expect("unused-port");
    assert_eq!(w.path, "hosts[0].ports.gateway");
    // Two overrides onto one port: the path names the later service.
    let hosts = plain_hosts(4).replace(
        "  - { name: s4, address: 10.0.1.4 }",
        "  - { name: s4, address: 10.0.1.4, ports: { gateway: 9500, entrance: 9500 } }",
    );
    let errs = errors(&spec(&guide_sizing(50), &hosts));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].path, "hosts[3].ports.entrance");
}

#[test]
fn pinned_then_roles_then_defaults_among_the_undeclared_hosts() {
    // p1 pins gateway+eureka; r1 is an ECM by role; u1..u4 declare nothing: among themselves
    // they are 4 hosts, so u1, u2 = ECM and u3, u4 = control.
    let hosts = "  - { name: p1, address: 10.0.3.1, services: [eureka, gateway] }\n  - { name: u1, address: 10.0.3.2 }\n  - { name: r1, address: 10.0.3.3, roles: [ecm] }\n  - { name: u2, address: 10.0.3.4 }\n  - { name: u3, address: 10.0.3.5 }\n  - { name: u4, address: 10.0.3.6 }\n";
    let p = ok(&spec(&guide_sizing(50), hosts));
    let by = |n: &str| -> Vec<Service> {
        p.hosts
            .iter()
            .find(|h| h.name == n)
            .unwrap()
            .services
            .iter()
            .map(|s| s.service)
            .collect()
    };
    assert_eq!(by("p1"), [Service::Eureka, Service::Gateway]);
    assert_eq!(by("r1"), [Service::Engineconnmanager]);
    assert_eq!(by("u1"), [Service::Engineconnmanager]);
    assert_eq!(by("u2"), [Service::Engineconnmanager]);
    assert_eq!(by("u3").len(), 5);
    assert!(!by("u4").contains(&Service::Engineconnmanager));
    // Two undeclared hosts: first control, second control + ECM (the guide's two-server example).
    let hosts = "  - { name: a, address: 10.0.3.1 }\n  - { name: e, address: 10.0.3.2, roles: [ecm] }\n  - { name: b, address: 10.0.3.3 }\n";
    let p = ok(&spec(&guide_sizing(20), hosts));
    assert!(!p.hosts[0].runs(Service::Engineconnmanager) && p.hosts[0].is_control());
    assert!(p.hosts[2].runs(Service::Engineconnmanager) && p.hosts[2].is_control());
}

#[test]
fn a_service_nobody_runs_is_an_error() {
    let hosts = "  - { name: a, address: 10.0.3.1, roles: [control] }\n  - { name: b, address: 10.0.3.2, services: [eureka] }\n";
    let errs = errors(&spec(&guide_sizing(20), hosts));
    assert!(
        errs.iter()
            .any(|e| e.check == "service-not-placed" && e.message.contains("engineconnmanager")),
        "{errs:#?}"
    );
}

#[test]
fn unequal_ecm_hosts_share_cores_and_instances_by_engine_memory() {
    let hosts = "  - { name: big, address: 10.0.3.1, memory: 130G, roles: [ecm] }\n  - { name: small, address: 10.0.3.2, roles: [ecm] }\n  - { name: c1, address: 10.0.3.3, roles: [control] }\n  - { name: c2, address: 10.0.3.4, roles: [control] }\n";
    // 75 users × 2 = 150 engines of 1G; big gives 128G, small 62G (190G).
    let p = ok(&spec(&guide_sizing(75), hosts));
    let big = p.hosts[0].ecm.unwrap();
    let small = p.hosts[1].ecm.unwrap();
    assert_eq!(big.memory_max, 128 * GIB);
    assert_eq!(small.memory_max, 62 * GIB);
    // By memory: ceil(150 × 128 / 190) = 102 and ceil(150 × 62 / 190) = 49; spec-v1 puts a floor
    // of the even share under each, ceil(150 / 2) = 75. (memory.max still caps the small host.)
    assert_eq!((big.instances_max, small.instances_max), (102, 75));
    assert!(big.instances_max + small.instances_max >= 150);
}

#[test]
fn plan_json_is_the_report_and_stable() {
    let out = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(["plan", "--format", "json", "examples/guide-50-users.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["formula"]["memory"]["bytes"], 100 * GIB);
    assert_eq!(v["formula"]["memory"]["text"], "100G");
    assert_eq!(v["capacity"]["memory"]["bytes"], 124 * GIB);
    assert_eq!(v["hosts"][0]["ecm"]["memory_max"], 66_571_993_088u64);
    assert_eq!(v["hosts"][3]["role"], "control");
    assert_eq!(v["guide"]["same_layout"], true);
    assert!(v.get("templates_overridden").is_none());
    // Keys in a fixed order, byte-identical on a second run.
    let again = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(["plan", "--format", "json", "examples/guide-50-users.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
    let text = String::from_utf8(out.stdout).unwrap();
    let keys: Vec<usize> = [
        "\"cluster\"",
        "\"formula\"",
        "\"capacity\"",
        "\"hosts\"",
        "\"guide\"",
        "\"warnings\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
}

#[test]
fn plan_text_shows_formula_capacity_hosts_guide_and_warnings() {
    let out = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(["plan", "examples/guide-300-users.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        description => "linkis-gen plan examples/guide-300-users.yaml",
    }, {
        insta::assert_snapshot!("plan-guide-300-users", text);
    });
    for part in [
        "= 300 × (spark 1G) × 2 = 600G",
        "| engine memory | 600G | 620G | 20G spare |",
        "| s1 | 10.0.1.1 | 64G | ecm | engineconnmanager 2G | 2G | 62G | 66571993088 | 60 | 60 |",
        "| ECM hosts | S1–S10 (10 × 64G = 640G) |",
        "`ecm-cores`",
    ] {
        assert!(text.contains(part), "{part}\n{text}");
    }
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
}

#[test]
fn render_writes_the_same_report_as_plan_md_with_the_template_list() {
    let plan = example("guide-100-users.yaml");
    let files = linkis_gen::render::plan_md(
        &linkis_gen::model::resolve(&plan),
        &["hosts/_host_/conf/linkis.properties.j2".into()],
    );
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, "PLAN.md");
    let md = &files[0].contents;
    let text = linkis_gen::render::plan_text(&linkis_gen::model::resolve(&plan));
    assert!(
        md.starts_with(text.trim_end()),
        "PLAN.md starts with the plan report"
    );
    assert!(
        md.contains("## Templates") && md.contains("- `hosts/_host_/conf/linkis.properties.j2`"),
        "{md}"
    );
    let none = linkis_gen::render::plan_md(&linkis_gen::model::resolve(&plan), &[]);
    assert!(none[0].contents.contains("All embedded"));
    assert!(!text.contains("## Templates"));
}

#[test]
fn a_guide_row_is_chosen_for_every_user_count() {
    use linkis_gen::report::guide_row;
    assert_eq!(guide_row(1).servers, 4);
    assert_eq!(guide_row(50).servers, 4);
    assert_eq!(guide_row(51).servers, 6);
    assert_eq!(guide_row(300).servers, 12);
    assert_eq!(guide_row(301).servers, 20);
    assert_eq!(guide_row(500).servers, 20);
    assert_eq!(guide_row(100_000).servers, 34);
}

#[test]
fn plan_of_a_spec_that_cannot_carry_its_users_exits_1_with_the_arithmetic() {
    let out = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(["plan", "tests/bad/sizing-300-users-on-6-hosts.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no report for a refused spec");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[ecm-capacity]") && stderr.contains("add 6 more ECM hosts of 64G"),
        "{stderr}"
    );
}

#[test]
fn sizes_in_messages_are_exact() {
    use linkis_gen::size::gib;
    assert_eq!(gib(62 * GIB as u128), "62G");
    assert_eq!(gib(1600 * GIB as u128), "1600G");
    assert_eq!(gib(512 * 1024 * 1024), "512M");
    assert_eq!(gib(1536 * 1024 * 1024), "1536M");
}

#[test]
fn an_ecm_host_smaller_than_one_engine_is_a_warning() {
    let sizing = "  concurrent_users: 10\n  engines:\n    spark: { memory: 4G, cores: 1 }\n";
    let hosts = format!(
        "{}  - {{ name: tiny, address: 10.0.9.1, memory: 5G, roles: [ecm] }}\n",
        plain_hosts(4)
    );
    let p = ok(&spec(sizing, &hosts));
    let w = p
        .warnings
        .iter()
        .find(|w| w.check == "ecm-too-small")
        .expect("ecm-too-small");
    assert_eq!(w.path, "hosts[4]");
    assert!(
        w.message.contains("tiny") && w.message.contains("4G"),
        "{}",
        w.message
    );
    // Its share of instances is the even share spec-v1 asks for: ceil(10 engines / 3 ECM hosts).
    assert_eq!(p.hosts[4].ecm.unwrap().instances_max, 4);
}

#[test]
fn a_plan_md_template_from_templates_dir_is_used_and_listed() {
    let dir = std::env::temp_dir().join(format!("linkis-gen-plan-tpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("PLAN.md.j2"),
        "custom [= cluster =]: [= formula.memory.text =] [% for t in templates_overridden %][= t =][% endfor %]\n",
    )
    .unwrap();
    let templates = linkis_gen::render::Templates::load(Some(&dir)).unwrap();
    let plan = example("guide-50-users.yaml");
    let files =
        linkis_gen::render::plan_md_with(&templates, &linkis_gen::model::resolve(&plan)).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(files[0].contents, "custom guide-50: 100G PLAN.md.j2\n");
}
