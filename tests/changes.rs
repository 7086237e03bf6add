//! Changes to a running cluster (issue 10): state.json, sticky placement against applied.json,
//! and the change plan (CHANGES.md, changes.yml, the restart set), over the scenarios of
//! docs/operations.md. "Applied" is always the state.json of an earlier render, as the playbooks
//! copy it.
//!
//! With `CHANGES_SCENARIOS_DIR` set, each scenario's rendered tree is also written there, so that
//! `.ci/changes.sh` checks every changes.yml these tests produce with ansible-playbook
//! --syntax-check and ansible-lint.

mod conf_common;
use conf_common::get;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use linkis_gen::load::Source;
use linkis_gen::model::Model;
use linkis_gen::plan::changes::{self, ChangePlan};
use linkis_gen::render::{self, OutFile, RenderOptions};
use linkis_gen::state::{self, State};

fn model_of(name: &str, text: &str, applied: Option<State>) -> Model {
    let src = Source::new(name, text.as_bytes().to_vec());
    linkis_gen::model_with(&src, applied).unwrap_or_else(|d| panic!("{name}: {d:#?}"))
}

fn state_of(files: &[OutFile]) -> State {
    State::from_json(get(files, state::STATE)).expect("state.json parses")
}

/// One rendered step of a scenario: its plan, files and (against the previous step) changes.
struct Step {
    model: Model,
    files: Vec<OutFile>,
    changes: Option<ChangePlan>,
}

impl Step {
    fn changes(&self) -> &ChangePlan {
        self.changes
            .as_ref()
            .expect("rendered against an applied state")
    }
    fn md(&self) -> &str {
        get(&self.files, "CHANGES.md")
    }
    fn yml(&self) -> &str {
        get(&self.files, "changes.yml")
    }
    /// `service@host` of the instances of one kind.
    fn kind(&self, kind: &str) -> Vec<String> {
        self.changes()
            .instances
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| format!("{}@{}", i.service, i.host))
            .collect()
    }
    fn restart_set(&self) -> Vec<String> {
        self.changes()
            .restart
            .iter()
            .flat_map(|r| r.hosts.iter().map(move |h| format!("{}@{h}", r.service)))
            .collect()
    }
}

fn step(name: &str, text: &str, applied: Option<State>) -> Step {
    let model = model_of(name, text, applied);
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    let changes = changes::of(&model, &state_of(&files));
    Step {
        model,
        files,
        changes,
    }
}

/// Renders each spec against the state of the one before; the first is a new cluster.
fn scenario(name: &str, specs: &[&str]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for (i, text) in specs.iter().enumerate() {
        let applied = steps.last().map(|s| state_of(&s.files));
        steps.push(step(&format!("{name}-{i}.yaml"), text, applied));
    }
    if let Ok(dir) = std::env::var("CHANGES_SCENARIOS_DIR") {
        write_tree(&Path::new(&dir).join(name), &steps.last().unwrap().files);
    }
    steps
}

fn write_tree(dir: &Path, files: &[OutFile]) {
    let _ = std::fs::remove_dir_all(dir);
    for f in files {
        let p = dir.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.contents).unwrap();
    }
}

fn example(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn with_hosts(text: &str, extra: &[(&str, &str)]) -> String {
    let mut t = text.trim_end().to_string();
    for (name, address) in extra {
        t.push_str(&format!("\n  - {{ name: {name}, address: {address} }}"));
    }
    t.push('\n');
    t
}

fn without_host(text: &str, name: &str) -> String {
    let line = format!("  - {{ name: {name}, ");
    let out: Vec<&str> = text.lines().filter(|l| !l.starts_with(&line)).collect();
    assert_eq!(out.len() + 1, text.lines().count(), "{name} is in the spec");
    out.join("\n") + "\n"
}

/// A fresh scratch directory of this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lg-changes-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the linkis-gen binary: `linkis-gen ARGS...`.
fn cli<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .output()
        .unwrap()
}

/// The index of the first occurrence of `needle` in `hay`, which must hold it.
fn at(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{hay}"))
}

const G50: &str = "examples/guide-50-users.yaml";
const G300: &str = "examples/guide-300-users.yaml";
const CONTROL: [&str; 5] = [
    "eureka",
    "gateway",
    "publicservice",
    "linkismanager",
    "entrance",
];

/// Appending two hosts: no control service moves, only the new ECMs are added, the existing ECMs
/// restart only because their sizing keys change (named), one at a time.
fn assert_scale_out(name: &str, spec: &str, old_ecms: &[&str], new: [(&str, &str); 2]) {
    let before = example(spec);
    let after = with_hosts(&before, &new);
    let steps = scenario(name, &[&before, &after]);
    let s = &steps[1];
    let c = s.changes();

    // Sticky placement: the control services stay on the last two hosts of before.
    let control_hosts: Vec<&str> = s
        .model
        .hosts
        .iter()
        .filter(|h| h.control)
        .map(|h| h.name.as_str())
        .collect();
    let n = old_ecms.len();
    assert_eq!(
        control_hosts,
        [format!("s{}", n + 1), format!("s{}", n + 2)],
        "{name}"
    );
    let added: Vec<String> = new
        .iter()
        .map(|(h, _)| format!("engineconnmanager@{h}"))
        .collect();
    assert_eq!(
        s.kind("added"),
        added,
        "{name}: only the new ECMs are added"
    );
    assert!(s.kind("removed").is_empty(), "{name}");
    for svc in CONTROL {
        assert!(
            !c.instances
                .iter()
                .any(|i| i.service == svc && i.kind != "unchanged"),
            "{name}: {svc} changes"
        );
    }
    // Existing ECMs restart because their share of cores and instances changes.
    let expected: Vec<String> = old_ecms
        .iter()
        .map(|h| format!("engineconnmanager@{h}"))
        .collect();
    assert_eq!(s.restart_set(), expected, "{name}");
    for i in c.instances.iter().filter(|i| i.kind == "reconfigured") {
        assert_eq!(i.files.len(), 1, "{name}: {:?}", i.files);
        assert_eq!(
            i.files[0].path,
            "conf/linkis-cg-engineconnmanager.properties"
        );
        assert_eq!(
            i.files[0].keys,
            [
                "wds.linkis.ecm.cores.max",
                "wds.linkis.ecm.engineconn.instances.max"
            ],
            "{name}: memory.max stays (same host memory)"
        );
    }
    assert!(c.nginx.is_none() && c.new_vault_variables.is_empty());

    // CHANGES.md and PLAN.md say so.
    let md = s.md();
    assert!(md.contains(&format!("### {} (new host)", new[0].0)), "{md}");
    assert!(md.contains(
        "`conf/linkis-cg-engineconnmanager.properties` changed: `wds.linkis.ecm.cores.max`, \
         `wds.linkis.ecm.engineconn.instances.max`"
    ));
    assert!(
        md.contains("every engineconnmanager instance restarts"),
        "{md}"
    );
    assert!(md.contains("- unchanged: eureka, gateway, publicservice, linkismanager, entrance"));
    let plan_md = get(&s.files, "PLAN.md");
    assert!(plan_md.contains("## What stays put"), "{plan_md}");
    assert!(plan_md.contains(&format!(
        "| {} | engineconnmanager | eureka, gateway, publicservice, linkismanager, entrance | new to the running cluster: ECM role |",
        new[1].0
    )));

    // changes.yml: prepare the new hosts, start their ECMs, restart the old ones one at a time.
    let yml = s.yml();
    let hosts = format!("hosts: {}:{}\n", new[0].0, new[1].0);
    assert!(yml.contains(&format!("- name: Preflight the new hosts\n  {hosts}")));
    assert!(yml.contains(&format!(
        "- name: \"Start the new engineconnmanager instances ({}, {})\"\n  {hosts}",
        new[0].0, new[1].0
    )));
    let restart = at(
        yml,
        "- name: \"Restart engineconnmanager one instance at a time",
    );
    assert!(yml[restart..].contains(&format!("hosts: {}\n  serial: 1\n", old_ecms.join(":"))));
    assert!(at(yml, "Start the new engineconnmanager") < restart);
    assert!(!yml.contains("clear-server.sh") && !yml.contains("role: linkis_change"));
    assert!(!yml.contains("Restart eureka") && !yml.contains("Restart gateway"));
    // Last: applied.json, only when the run was whole and every host reached its end.
    let record = at(yml, "- name: Record what runs now");
    assert!(
        record > restart
            && yml[record..].contains("dest: \"{{ playbook_dir }}/.linkis-gen/applied.json\"")
    );
    assert!(yml[record..].contains(
        "when: inventory_hostname == ansible_play_hosts[0] and linkis_record_why_not | length == 0"
    ));
    assert!(at(yml, "- name: Mark each host that this run reached") < record);
}

#[test]
fn appending_two_hosts_to_the_4_host_guide_layout_adds_two_ecms_and_moves_nothing() {
    assert_scale_out(
        "scale-out-4",
        G50,
        &["s1", "s2"],
        [("s5", "10.0.1.5"), ("s6", "10.0.1.6")],
    );
}

#[test]
fn appending_two_hosts_to_the_12_host_guide_layout_adds_two_ecms_and_moves_nothing() {
    let ecms: Vec<String> = (1..=10).map(|i| format!("s{i}")).collect();
    let ecms: Vec<&str> = ecms.iter().map(String::as_str).collect();
    assert_scale_out(
        "scale-out-12",
        G300,
        &ecms,
        [("s13", "10.0.1.13"), ("s14", "10.0.1.14")],
    );
}

#[test]
fn without_applied_json_the_default_placement_moves_the_control_plane_and_no_plan_is_written() {
    // The unsafe first-edition behaviour this stage fixes, kept as the reference.
    let six = with_hosts(&example(G50), &[("s5", "10.0.1.5"), ("s6", "10.0.1.6")]);
    let s = step("six.yaml", &six, None);
    assert!(s.model.hosts[4].control && s.model.hosts[5].control);
    assert!(s.changes.is_none() && s.model.sticky.is_empty());
    for p in [
        "CHANGES.md",
        "changes.yml",
        "roles/linkis_change/tasks/main.yml",
    ] {
        assert!(!s.files.iter().any(|f| f.path == p), "{p}");
    }
    assert!(s.files.iter().any(|f| f.path == state::STATE));
}

#[test]
fn removing_an_ecm_host_drains_stops_and_removes_its_ecm() {
    let four = example(G50);
    let six = with_hosts(&four, &[("s5", "10.0.1.5"), ("s6", "10.0.1.6")]);
    let five = without_host(&six, "s5");
    let steps = scenario("remove-ecm-host", &[&four, &six, &five]);
    let s = &steps[2];
    let c = s.changes();
    assert_eq!(s.kind("removed"), ["engineconnmanager@s5"]);
    assert!(s.kind("added").is_empty());
    assert_eq!(
        c.hosts_removed
            .iter()
            .map(|h| (h.name.as_str(), h.address.as_str()))
            .collect::<Vec<_>>(),
        [("s5", "10.0.1.5")]
    );
    assert_eq!(
        s.restart_set(),
        [
            "engineconnmanager@s1",
            "engineconnmanager@s2",
            "engineconnmanager@s6"
        ]
    );
    let md = s.md();
    assert!(md.contains("### s5 (removed from the spec)"), "{md}");
    assert!(md.contains(
        "- `engineconnmanager` (linkis-cg-engineconnmanager, port 9102): **removed**: drained \
         (marked unhealthy in the manager, so no new engine goes there; its engines end, up to a \
         timeout), stopped, disabled, unit file deleted"
    ));
    let yml = s.yml();
    // s5 is no longer in the inventory: changes.yml reaches it by its recorded address, and
    // gives it the linkis_url_host the inventory gives every host.
    assert!(
        yml.contains("- { name: s5, address: \"10.0.1.5\", url_host: \"10.0.1.5\", ssh_port: 22 }"),
        "{yml}"
    );
    assert!(yml.contains("        linkis_url_host: \"{{ item.url_host }}\"\n"));
    let remove = at(
        yml,
        "- name: \"Drain, stop and remove the instances no longer placed (hosts removed from the spec)\"\n  \
         hosts: s5\n  serial: 1\n",
    );
    // s5 may be dead: its removal is skipped when unreachable; any other failure stops the run.
    assert!(yml[remove..].contains("  ignore_unreachable: true\n"));
    assert!(yml[remove..].contains("  any_errors_fatal: true\n"));
    assert!(yml[remove..].contains(
        "- { host: s5, service: engineconnmanager, unit: linkis-cg-engineconnmanager, port: 9102, drain: ecm }"
    ));
    assert!(at(yml, "Restart engineconnmanager") < remove);
    assert!(!yml.contains("Preflight the new hosts") && !yml.contains("clear-server.sh"));
    // The ECM is marked unhealthy in a manager that stays, under the name its registration in a
    // Eureka node that stays gives, after an admin login at a gateway that stays.
    assert!(
        yml.contains("linkis_change_manager: \"10.0.1.3:9101\"\n"),
        "{yml}"
    );
    assert!(
        yml.contains("linkis_change_registry: \"10.0.1.3:20303\"\n"),
        "{yml}"
    );
    assert!(yml.contains("linkis_change_admin_password: \"{{ vault_linkis_admin_password }}\"\n"));
    // The role that removes it: mark unhealthy, wait for the engines, stop + disable, delete the
    // unit file.
    let role = get(&s.files, "roles/linkis_change/tasks/remove.yml");
    let login = at(role, "/api/rest_j/v1/user/login");
    let mark = at(role, "/api/rest_j/v1/linkisManager/modifyEMInfo");
    assert!(role[mark..].contains("emStatus: UnHealthy"));
    let drain = at(
        role,
        "pgrep -f org.apache.linkis.engineconn.launch.EngineConnServer",
    );
    let stop = at(role, "state: stopped\n    enabled: false");
    let delete = at(role, "state: absent");
    assert!(login < mark && mark < drain && drain < stop && stop < delete);
}

#[test]
fn replacing_a_control_host_starts_its_services_on_the_new_host_before_the_old_ones_stop() {
    let four = example(G50);
    let replaced = without_host(&four, "s4").trim_end().to_string()
        + "\n  - { name: s5, address: 10.0.1.5, roles: [control] }\n";
    let steps = scenario("replace-control-host", &[&four, &replaced]);
    let s = &steps[1];
    let c = s.changes();
    let moved: Vec<String> = CONTROL.iter().map(|svc| format!("{svc}@s5")).collect();
    assert_eq!(s.kind("added"), moved);
    let gone: Vec<String> = CONTROL.iter().map(|svc| format!("{svc}@s4")).collect();
    assert_eq!(s.kind("removed"), gone);
    assert!(
        c.instances
            .iter()
            .filter(|i| i.kind == "added")
            .all(|i| i.moved.as_deref() == Some("s4"))
    );
    assert_eq!(c.counts.moved, 5);
    // s1, s2 keep their ECMs and s3 its control services (sticky), though s1..s3 declare nothing.
    assert_eq!(s.model.hosts[0].instances.len(), 1);
    assert!(s.model.hosts[2].control && !s.model.hosts[1].control);
    // A new Eureka peer changes every defaultZone: every running instance restarts.
    let mut restart = s.restart_set();
    restart.sort();
    let mut expected: Vec<String> = CONTROL.iter().map(|svc| format!("{svc}@s3")).collect();
    expected.extend(["engineconnmanager@s1".into(), "engineconnmanager@s2".into()]);
    expected.sort();
    assert_eq!(restart, expected);
    let eureka_s3 = c
        .instances
        .iter()
        .find(|i| i.service == "eureka" && i.host == "s3")
        .unwrap();
    assert!(
        eureka_s3
            .causes
            .iter()
            .any(|c| c.contains("the Eureka peers changed")),
        "{:?}",
        eureka_s3.causes
    );
    // s3's control services restart while s4's and s5's run: only the ECMs all restart.
    assert_eq!(
        c.attention,
        [
            "every engineconnmanager instance restarts (s1, s2, one at a time, each back in the \
          registry before the next)"
        ]
    );
    let md = s.md();
    assert!(md.contains("**added**, moved here from s4"), "{md}");
    assert!(md.contains("eureka.client.serviceUrl.defaultZone"), "{md}");
    // Order: s5 prepared, its services started and registered, restarts, then s4 drained.
    let yml = s.yml();
    let prepare = at(yml, "- name: Preflight the new hosts\n  hosts: s5\n");
    let start_eureka = at(yml, "- name: \"Start the new eureka instances (s5)\"");
    let start_entrance = at(yml, "- name: \"Start the new entrance instances (s5)\"");
    let registered = at(
        yml,
        "Check that every new instance is registered before anything stops",
    );
    let restart_eureka = at(yml, "- name: \"Restart eureka one instance at a time (s3)");
    let remove = at(
        yml,
        "- name: \"Drain, stop and remove the instances no longer placed (hosts removed from the spec)\"\n  hosts: s4\n",
    );
    assert!(prepare < start_eureka && start_eureka < start_entrance);
    assert!(start_entrance < registered && registered < restart_eureka && restart_eureka < remove);
    // Before anything stops, only the Eureka node that ran before is asked: s5's Eureka hears of
    // registrations once s3 restarts with it as a peer (found on the test bed, where asking s5
    // failed the change). The final check asks both.
    assert!(
        yml[registered..restart_eureka].contains("linkis_verify_eureka_nodes: [s3]\n"),
        "{}",
        &yml[registered..restart_eureka]
    );
    assert_eq!(yml.matches("linkis_verify_eureka_nodes:").count(), 1);
    assert!(
        md.contains("must be listed in Eureka (on s3, the nodes that run now)"),
        "{md}"
    );
    assert!(yml[remove..].contains("drain: entrance }"));
    // linkis_units runs before the new instances start: it must not remove s4's units itself.
    let units = at(yml, "    - role: linkis_units\n");
    assert!(yml[units..].starts_with(
        "    - role: linkis_units\n      vars:\n        # Units no longer placed are removed later"
    ));
    assert!(yml[units..].contains("linkis_units_remove_stale: false\n"));
    assert!(units < start_eureka);
    assert!(!yml.contains("clear-server.sh") && !yml.contains("clear_server"));
    // The gateway on s5 joins the nginx upstream, the one on s4 leaves it.
    let nginx = c.nginx.as_ref().expect("nginx changes");
    assert_eq!(nginx.added, ["10.0.1.5:9001"]);
    assert_eq!(nginx.removed, ["10.0.1.4:9001"]);
    let reload = at(yml, "- name: Reload nginx with the new gateway upstreams");
    assert!(restart_eureka < reload && reload < remove);
}

#[test]
fn a_gateway_port_change_restarts_the_gateways_and_every_reader_of_the_gateway_url_one_at_a_time() {
    let four = example(G50);
    let moved = four
        .replace(
            "{ name: s3, address: 10.0.1.3 }",
            "{ name: s3, address: 10.0.1.3, ports: { gateway: 9011 } }",
        )
        .replace(
            "{ name: s4, address: 10.0.1.4 }",
            "{ name: s4, address: 10.0.1.4, ports: { gateway: 9011 } }",
        );
    let steps = scenario("gateway-port", &[&four, &moved]);
    let s = &steps[1];
    let c = s.changes();
    assert!(s.kind("added").is_empty() && s.kind("removed").is_empty());
    let gw: Vec<&str> = c
        .restart
        .iter()
        .find(|r| r.service == "gateway")
        .map(|r| r.hosts.iter().map(String::as_str).collect())
        .unwrap();
    assert_eq!(gw, ["s3", "s4"]);
    let gw3 = c
        .instances
        .iter()
        .find(|i| i.service == "gateway" && i.host == "s3")
        .unwrap();
    assert_eq!(gw3.causes[0], "its port changes from 9001 to 9011");
    // wds.linkis.gateway.url is in linkis.properties, which every service reads.
    let readers: BTreeSet<String> = c
        .instances
        .iter()
        .filter(|i| {
            i.files.iter().any(|f| {
                f.path == "conf/linkis.properties"
                    && f.keys.iter().any(|k| k == "wds.linkis.gateway.url")
            })
        })
        .map(|i| format!("{}@{}", i.service, i.host))
        .collect();
    assert_eq!(readers.len(), 12, "{readers:?}");
    assert_eq!(s.restart_set().len(), 12);
    assert!(
        c.instances
            .iter()
            .filter(|i| i.kind == "reconfigured")
            .all(|i| i
                .causes
                .iter()
                .any(|c| c.contains("the gateway URL changed")))
    );
    // One at a time per service, and nginx reloaded with the new upstream ports.
    let yml = s.yml();
    assert_eq!(yml.matches("  serial: 1\n").count(), c.restart.len());
    assert_eq!(c.restart.len(), 6);
    let nginx = c.nginx.as_ref().unwrap();
    assert_eq!(nginx.added, ["10.0.1.3:9011", "10.0.1.4:9011"]);
    assert_eq!(nginx.removed, ["10.0.1.3:9001", "10.0.1.4:9001"]);
    assert!(
        yml.contains("- name: Reload nginx with the new gateway upstreams\n  hosts: linkis_web\n")
    );
    assert!(at(yml, "Restart gateway one instance at a time (s3 → s4)") < at(yml, "Reload nginx"));
    // Each restart play verifies only the instance it restarted: Eureka restarts first, when s3's
    // gateway still listens on 9001, so checking every port of s3 then would wait for 9011 in
    // vain (found on the test bed, where it failed the change).
    for r in &c.restart {
        let play = &yml[at(
            yml,
            &format!("- name: \"Restart {} one instance", r.service),
        )..];
        let play = &play[..play[1..].find("\n- name: ").map_or(play.len(), |e| e + 1)];
        assert!(
            play.contains(&format!(
                "        linkis_verify_services: [{}]\n",
                r.service
            )),
            "{play}"
        );
        // linkis_start has waited for the restarted port: verify does not probe the host again.
        assert!(
            play.contains("        linkis_verify_ports: false\n"),
            "{play}"
        );
        // A gateway leaves nginx's upstream before it stops and comes back, at its new port,
        // after it is verified; no other service touches nginx.
        let down = play.find("linkis_upstream_state: down");
        let up = play.find("linkis_upstream_state: up");
        if r.service == "gateway" {
            let (down, up) = (down.unwrap(), up.unwrap());
            assert!(down < at(play, "role: linkis_start") && at(play, "role: linkis_verify") < up);
        } else {
            assert!(down.is_none() && up.is_none(), "{play}");
        }
    }
    let md = s.md();
    assert!(
        md.contains("upstream servers added: 10.0.1.3:9011, 10.0.1.4:9011"),
        "{md}"
    );
    assert!(
        md.contains("every gateway instance restarts (s3, s4, one at a time"),
        "{md}"
    );
    assert!(
        md.contains("Each gateway leaves nginx's upstream on every web host"),
        "{md}"
    );
}

#[test]
fn a_no_op_re_render_is_an_empty_plan() {
    let four = example(G50);
    let steps = scenario("no-op", &[&four, &four]);
    let s = &steps[1];
    let c = s.changes();
    assert!(changes::is_empty(c));
    assert_eq!(c.counts.unchanged, 12);
    assert!(c.restart.is_empty() && c.attention.is_empty() && s.model.sticky.is_empty());
    assert!(s.md().contains("**No changes**"), "{}", s.md());
    let yml = s.yml();
    for play in [
        "Preflight",
        "Start the new",
        "Restart",
        "Drain",
        "Reload nginx",
        "Gather facts",
    ] {
        assert!(!yml.contains(play), "{play}:\n{yml}");
    }
    assert!(yml.contains("Copy state.json to applied.json"));
    // The same tree as without applied.json, but for the change plan.
    let fresh = step("fresh.yaml", &four, None);
    let plain = |files: &[OutFile]| -> Vec<(String, String)> {
        files
            .iter()
            .filter(|f| !render::changes::is_change_file(&f.path))
            .map(|f| {
                (
                    f.path.clone(),
                    f.contents.replace("no-op-1.yaml", "fresh.yaml"),
                )
            })
            .collect()
    };
    assert_eq!(plain(&s.files), plain(&fresh.files));
}

#[test]
fn state_json_digests_do_not_depend_on_the_specs_path_and_name_every_file_an_instance_reads() {
    let four = example(G50);
    let a = state_of(&step("a.yaml", &four, None).files);
    let b = state_of(&step("elsewhere/b.yaml", &four, None).files);
    assert_eq!(a, b);
    let gw = &a.hosts["s3"].services["gateway"];
    assert_eq!(gw.port, 9001);
    assert_eq!(
        gw.reads,
        [
            "conf/application-engineconn.yml",
            "conf/application-linkis.yml",
            "conf/linkis-env.sh",
            "conf/linkis-mg-gateway.properties",
            "conf/linkis.properties",
            "systemd/linkis-mg-gateway.service"
        ]
    );
    for r in &gw.reads {
        assert!(a.hosts["s3"].files.contains_key(r), "{r}");
    }
    assert!(
        a.vault_variables
            .contains(&"vault_linkis_db_password".to_string())
    );
    // No value is recorded, only digests: the DB address is not in the state.
    assert!(!a.to_json().contains("10.0.0.5"));
}

/// On disk, through the command line: render, "apply" (copy state.json), change the spec, render
/// twice; the plan stays the same, the writer keeps applied.json, `--check` does not report it.
#[test]
fn rendering_twice_before_applying_keeps_the_same_plan_and_applied_json() {
    let dir = scratch("cli");
    let out = dir.join("out");
    let run = |spec: &Path, extra: &[&str]| {
        let mut a = vec![Path::new("render"), spec, Path::new("-o"), &out];
        a.extend(extra.iter().map(Path::new));
        let o = cli(a);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    };
    let four = dir.join("cluster.yaml");
    std::fs::write(&four, example(G50)).unwrap();
    assert_eq!(run(&four, &[]).0, Some(0));
    assert!(!out.join("CHANGES.md").exists() && !out.join(state::APPLIED).exists());
    std::fs::copy(out.join(state::STATE), out.join(state::APPLIED)).unwrap();
    let applied = std::fs::read(out.join(state::APPLIED)).unwrap();

    std::fs::write(
        &four,
        with_hosts(&example(G50), &[("s5", "10.0.1.5"), ("s6", "10.0.1.6")]),
    )
    .unwrap();
    let (code, first) = run(&four, &[]);
    assert_eq!(code, Some(0), "{first}");
    assert!(first.contains("changes against applied.json: 2 added, 0 removed (0 moved), 2 reconfigured (restart), 10 unchanged"), "{first}");
    let md1 = std::fs::read_to_string(out.join("CHANGES.md")).unwrap();
    let yml1 = std::fs::read_to_string(out.join("changes.yml")).unwrap();
    let (code, second) = run(&four, &[]);
    assert_eq!(code, Some(0));
    assert!(second.contains(": 0 written,"), "{second}");
    assert_eq!(
        std::fs::read_to_string(out.join("CHANGES.md")).unwrap(),
        md1
    );
    assert_eq!(
        std::fs::read_to_string(out.join("changes.yml")).unwrap(),
        yml1
    );
    assert_eq!(std::fs::read(out.join(state::APPLIED)).unwrap(), applied);

    // --check: up to date (applied.json is not drift), and it prints the same summary.
    let (code, check) = run(&four, &["--check"]);
    assert_eq!(code, Some(0), "{check}");
    assert!(check.contains("2 added, 0 removed"), "{check}");
    // `plan --out` prints it too.
    let o = cli([Path::new("plan"), &four, Path::new("--out"), &out]);
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(plan.contains("## What stays put"), "{plan}");
    assert!(
        plan.contains("changes against applied.json: 2 added"),
        "{plan}"
    );
    // A broken applied.json is an error that names it, never a panic.
    std::fs::write(out.join(state::APPLIED), "{ not json").unwrap();
    let o = cli([Path::new("render"), &four, Path::new("-o"), &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("applied.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn moving_a_control_service_takes_a_services_pin_and_moves_only_that_service() {
    let four = example(G50);
    let six = with_hosts(&four, &[("s5", "10.0.1.5"), ("s6", "10.0.1.6")]);
    // entrance leaves s4 for a new host s7: s4 pins what else it runs, s7 pins entrance.
    let moved = six.replace(
        "{ name: s4, address: 10.0.1.4 }",
        "{ name: s4, address: 10.0.1.4, services: [eureka, gateway, publicservice, linkismanager] }",
    ) + "  - { name: s7, address: 10.0.1.7, services: [entrance] }\n";
    let steps = scenario("move-entrance", &[&four, &six, &moved]);
    let s = &steps[2];
    let c = s.changes();
    assert_eq!(s.kind("added"), ["entrance@s7"]);
    assert_eq!(s.kind("removed"), ["entrance@s4"]);
    assert_eq!(c.counts.moved, 1);
    // No other instance reads anything that changed (s4's linkis-env.sh loses ENTRANCE_HEAP_SIZE,
    // which only the entrance reads): nothing restarts.
    assert!(s.restart_set().is_empty(), "{:?}", s.restart_set());
    let yml = s.yml();
    let start = at(yml, "- name: \"Start the new entrance instances (s7)\"");
    let remove = at(
        yml,
        "- name: \"Drain, stop and remove the instances no longer placed\"\n  hosts: s4\n",
    );
    // s4 stays in the spec: no unreachable host is forgiven there.
    assert!(!yml[remove..].contains("ignore_unreachable"));
    assert!(start < remove);
    assert!(yml[remove..].contains(
        "- { host: s4, service: entrance, unit: linkis-cg-entrance, port: 9104, drain: entrance }"
    ));
    // The drain is linkis_entrance's (the catalog's offline API, the model's bound): the role
    // linkis_change includes it and takes no switch of its own for it.
    assert!(!yml.contains("linkis_change_entrance_offline_api"), "{yml}");
    // The drain logs in as the spec's admin, with its vault password.
    assert!(
        yml.contains("linkis_change_admin_user: \"hadoop\"\n"),
        "{yml}"
    );
    assert!(yml.contains("linkis_change_admin_password: \"{{ vault_linkis_admin_password }}\"\n"));
    let md = s.md();
    assert!(md.contains("**removed**, moves to s7: drained (marked offline until its running jobs end), stopped, disabled, unit file deleted"), "{md}");
}

#[test]
fn sizing_is_checked_on_the_sticky_layout() {
    // s5 (32G) appended to the running guide-50 cluster becomes an ECM (30G for engines): with
    // 80 users (160G) the sticky layout falls short, though the default placement (s5 a control
    // host, s3 an ECM of 62G) would carry them.
    let four = example(G50);
    let applied = state_of(&step("four.yaml", &four, None).files);
    let grown = four.replace("concurrent_users: 50", "concurrent_users: 80")
        + "  - { name: s5, address: 10.0.1.5, memory: 32G }\n";
    let src = Source::new("grown.yaml", grown.as_bytes().to_vec());
    assert!(
        linkis_gen::model(&src).is_ok(),
        "the default placement carries it"
    );
    let errors =
        linkis_gen::model_with(&src, Some(applied)).expect_err("short on the sticky layout");
    let capacity = errors
        .iter()
        .find(|d| d.check == "ecm-capacity")
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(
        capacity
            .message
            .contains("the 3 ECM hosts give 154G (s1 62G + s2 62G + s5 30G)"),
        "{}",
        capacity.message
    );
}

/// `validate --out` and `plan --out` place against applied.json as `render` does: a spec that
/// only the default placement carries is an error on the running layout, for all three.
#[test]
fn validate_and_plan_with_out_check_the_layout_render_places() {
    let dir = scratch("validate");
    let out = dir.join("out");
    let cmd = |args: &[&str], spec: &Path, with_out: bool| {
        let mut a = vec![Path::new(args[0]), spec];
        a.extend(args[1..].iter().map(Path::new));
        if with_out {
            a.extend([Path::new("--out"), &out]);
        }
        let o = cli(a);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let spec = dir.join("cluster.yaml");
    std::fs::write(&spec, example(G50)).unwrap();
    let o = cli([Path::new("render"), &spec, Path::new("-o"), &out]);
    assert!(o.status.success());
    std::fs::copy(out.join(state::STATE), out.join(state::APPLIED)).unwrap();
    // As in sizing_is_checked_on_the_sticky_layout: s5 appended, 80 users.
    let grown = example(G50).replace("concurrent_users: 50", "concurrent_users: 80")
        + "  - { name: s5, address: 10.0.1.5, memory: 32G }\n";
    std::fs::write(&spec, grown).unwrap();

    let (code, text) = cmd(&["validate"], &spec, false);
    assert_eq!(code, Some(0), "the default placement carries it: {text}");
    for args in [&["validate"][..], &["plan"][..], &["render", "--check"][..]] {
        let (code, text) = cmd(args, &spec, true);
        assert_eq!(code, Some(1), "{args:?}: {text}");
        assert!(
            text.contains("error[ecm-capacity]")
                && text.contains("the 3 ECM hosts give 154G (s1 62G + s2 62G + s5 30G)"),
            "{args:?}: {text}"
        );
    }
    // The spec that runs: validate --out says it placed against applied.json.
    std::fs::write(&spec, example(G50)).unwrap();
    let (code, text) = cmd(&["validate"], &spec, true);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("(placed against applied.json, as render places it)"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Removing a control host of guide-50 leaves one instance of each control service: CHANGES.md
/// says so at the top of its attention part, before the restarts (issue 21).
#[test]
fn a_change_that_leaves_one_control_instance_is_at_the_top_of_the_attention_part() {
    let four = example(G50);
    let steps = scenario("lose-ha", &[&four, &without_host(&four, "s4")]);
    let md = steps[1].md();
    let attention = &md[at(md, "## Attention")..at(md, "## Summary")];
    let items: Vec<&str> = attention.lines().filter(|l| l.starts_with("- ")).collect();
    let services = [
        "eureka",
        "gateway",
        "publicservice",
        "linkismanager",
        "entrance",
    ];
    for (i, service) in services.iter().enumerate() {
        assert_eq!(
            items[i],
            format!(
                "- **after this change one {service} instance runs (s3, 2 before): no high \
                 availability, {service} stops when s3 does**"
            ),
            "{attention}"
        );
    }
    assert!(
        items.len() > services.len(),
        "and the restarts follow: {attention}"
    );
    // The summary that render --check and plan print says it too.
    let summary = changes::summary(steps[1].changes());
    assert!(
        summary.contains("attention: after this change one gateway instance runs (s3, 2 before)"),
        "{summary}"
    );
    // Scaling out loses nothing: no such item.
    let grown = scenario(
        "keep-ha",
        &[&four, &with_hosts(&four, &[("s5", "10.0.1.5")])],
    );
    assert!(!grown[1].md().contains("after this change one"));
}

/// security.firewall through a change (the bed's scale-out and scale-in, found there): every
/// table is loaded as rendered before anything of a new host runs (its address among the
/// sources of the old hosts, or its services could not register), a removed host stays allowed
/// until its instances are drained and stopped (the drain logs in at a gateway from it), then
/// every table is reloaded as rendered and the removed host's table unloaded.
#[test]
fn with_the_firewall_new_hosts_are_allowed_before_they_start_and_removed_ones_until_they_stop() {
    let four = example(G50).replacen(
        "\ncluster:",
        "\nsecurity:\n  firewall: true\nstorage:\n  engine_ports: 30000-31000\ncluster:",
        1,
    );
    let six = with_hosts(&four, &[("s5", "10.0.1.5"), ("s6", "10.0.1.6")]);
    let five = without_host(&six, "s5");
    let steps = scenario("firewall-scale", &[&four, &six, &five]);

    // Scale-out: the tables first, then the new hosts' preflight, install and start.
    let out = steps[1].yml();
    let fw = at(
        out,
        "- name: \"Firewall: the rendered tables, the new hosts allowed",
    );
    assert!(fw < at(out, "- name: Preflight the new hosts"), "{out}");
    assert!(
        fw < at(out, "- name: \"Start the new engineconnmanager"),
        "{out}"
    );
    assert!(out[fw..].starts_with("- name: \"Firewall: the rendered tables, the new hosts allowed before anything of theirs runs\"\n  hosts: linkis\n"), "{out}");
    // Nothing removed: the loaded tables are final; no removed host to keep or unload.
    assert!(!out.contains("post_tasks"), "{out}");
    assert!(!out.contains("every table reloaded"), "{out}");

    // Scale-in: s5 kept allowed until its ECM is removed, then every table reloaded.
    let inn = steps[2].yml();
    let fw = at(inn, "- name: \"Firewall: the rendered tables");
    let keep = at(
        inn,
        "argv: [/usr/sbin/nft, \"add element inet linkis sources4 { 10.0.1.5 }\"]",
    );
    let drain = at(
        inn,
        "- name: \"Drain, stop and remove the instances no longer placed",
    );
    let reload = at(inn, "- name: \"Firewall: every table reloaded as rendered");
    let unload = at(
        inn,
        "- name: \"Firewall: the removed hosts keep no Linkis table\"\n  hosts: linkis_removed\n",
    );
    let record = at(inn, "- name: Mark each host that this run reached");
    assert!(
        fw < keep && keep < drain && drain < reload && reload < unload && unload < record,
        "{inn}"
    );
    // No host added: the removed hosts' tables need no new source.
    assert!(
        !inn.contains("allow the new hosts until they are removed"),
        "{inn}"
    );
    // The hosts' tables: s5 no longer among the sources.
    let table = get(&steps[2].files, "hosts/s1/nftables/linkis.nft");
    assert!(
        table.contains("10.0.1.6") && !table.contains("10.0.1.5"),
        "{table}"
    );

    // Without the firewall, changes.yml has no firewall play.
    let plain = scenario(
        "no-firewall-scale",
        &[
            &example(G50),
            &with_hosts(&example(G50), &[("s5", "10.0.1.5")]),
        ],
    );
    assert!(!plain[1].yml().contains("Firewall"), "{}", plain[1].yml());
}

/// The play of changes.yml that restarts `service`, up to the next play.
fn restart_play<'a>(yml: &'a str, service: &str) -> &'a str {
    let play = &yml[at(yml, &format!("- name: \"Restart {service} one instance"))..];
    &play[..play[1..].find("\n- name: ").map_or(play.len(), |e| e + 1)]
}

/// A change that restarts the entrances (the gateway URL changes) on a release with `backonline`
/// (1.5.0), one without (1.3.2: the restart itself brings it back) and one with no drain at all
/// (1.1.3): each entrance is marked offline and its running jobs waited for (bounded, said in
/// CHANGES.md) before it stops, and put back online after it is registered where the release can.
#[test]
fn a_restarted_entrance_is_drained_first_and_put_back_online_where_the_release_can() {
    let mut snap = String::new();
    for (version, offline, backonline) in [
        ("1.5.0", true, true),
        ("1.3.2", true, false),
        ("1.1.3", false, false),
    ] {
        let four = example(G50).replace(
            "linkis_version: \"1.3.2\"",
            &format!("linkis_version: \"{version}\""),
        );
        let moved = four.replace(
            "{ name: s3, address: 10.0.1.3 }",
            "{ name: s3, address: 10.0.1.3, ports: { gateway: 9011 } }",
        );
        let steps = scenario(&format!("entrance-drain-{version}"), &[&four, &moved]);
        let s = &steps[1];
        let hosts = &s
            .changes()
            .restart
            .iter()
            .find(|r| r.service == "entrance")
            .expect("the entrances restart")
            .hosts;
        assert_eq!(hosts, &["s3", "s4"], "{version}");
        let yml = s.yml();
        let play = restart_play(yml, "entrance");
        assert!(play.contains("  serial: 1\n"), "{play}");
        // offline < stop/start < registered < online, in the one play of the entrances.
        let off = at(play, "linkis_entrance_state: offline");
        let on = at(play, "linkis_entrance_state: online");
        assert!(off < at(play, "role: linkis_start"), "{play}");
        assert!(at(play, "role: linkis_verify") < on, "{play}");
        // No other service's restart touches an entrance.
        for r in &s.changes().restart {
            if r.service != "entrance" {
                assert!(!restart_play(yml, &r.service).contains("linkis_entrance"));
            }
        }
        // The role knows what the release offers, from the catalog.
        let defaults = get(&s.files, "roles/linkis_entrance/defaults/main.yml");
        assert!(
            defaults.contains(&format!("linkis_entrance_offline_api: {offline}\n")),
            "{defaults}"
        );
        assert!(
            defaults.contains(&format!("linkis_entrance_backonline_api: {backonline}\n")),
            "{defaults}"
        );
        assert!(defaults.contains("linkis_entrance_drain_timeout: 600\n"));
        let tasks = get(&s.files, "roles/linkis_entrance/tasks/main.yml");
        for api in [
            "/label/markoffline",
            "/metrics/runningtask",
            "/label/backonline",
        ] {
            assert!(tasks.contains(api), "{api}");
        }
        // restart.yml drains the entrance of each host the same way.
        let restart = get(&s.files, "restart.yml");
        let off = at(restart, "linkis_entrance_state: offline");
        assert!(off < at(restart, "role: linkis_start"));
        assert!(at(restart, "role: linkis_verify") < at(restart, "linkis_entrance_state: online"));
        // CHANGES.md states the bound and what happens when it is reached, per release.
        let md = s.md();
        let para = &md[at(md, "Reconfigured instances restart")..];
        let para = &para[..at(para, "\n3. ")];
        if offline {
            assert!(para.contains("at most 600 s"), "{para}");
            assert!(
                para.contains("the run stops before that entrance stops and no job is lost"),
                "{para}"
            );
            assert_eq!(para.contains("(`backonline`)"), backonline, "{para}");
            assert_eq!(
                para.contains("Its restart brings it back online"),
                !backonline,
                "{para}"
            );
        } else {
            assert!(para.contains("cannot be drained"), "{para}");
        }
        snap.push_str(&format!(
            "==> {version}: CHANGES.md\n{para}\n==> {version}: changes.yml\n{play}\n"
        ));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("changes_entrance_drain", snap);
    });
}

/// An entrance whose own port changes is drained at the port it listens on until it restarts.
#[test]
fn an_entrance_whose_port_changes_is_drained_at_its_old_port() {
    let four = example(G50);
    let moved = four.replace(
        "{ name: s3, address: 10.0.1.3 }",
        "{ name: s3, address: 10.0.1.3, ports: { entrance: 9114 } }",
    );
    let steps = scenario("entrance-port", &[&four, &moved]);
    let play = restart_play(steps[1].yml(), "entrance");
    assert!(
        play.contains(
            "        linkis_entrance_port: \"{{ {'s3': 9104}[inventory_hostname] | default(linkis_ports.entrance) }}\"\n"
        ),
        "{play}"
    );
    assert!(at(play, "linkis_entrance_port:") < at(play, "role: linkis_start"));
}

/// linkis-env.sh sets `SERVER_JAVA_OPTS` in `case` arms on `SERVER_NAME` (with `logs:` or a
/// service's `java_opts`): its keys come from the key table, so a change to one service's arm
/// restarts that service only, and a change to the GC log's arms every service.
#[test]
fn a_services_java_opts_restart_it_alone_and_the_gc_logs_rotation_every_service() {
    let every = example("examples/every-field.yaml");
    let opts = every.replace("-XX:MaxGCPauseMillis=200", "-XX:MaxGCPauseMillis=300");
    assert_ne!(opts, every);
    let steps = scenario("java-opts", &[&every, &opts]);
    let s = &steps[1];
    assert_eq!(s.restart_set(), ["gateway@ctl-1", "gateway@ctl-2"]);
    assert!(
        s.md()
            .contains("`conf/linkis-env.sh` changed: `SERVER_JAVA_OPTS[*linkis-mg-gateway]`"),
        "{}",
        s.md()
    );
    // The GC log's files are sized from logs.max_size: every service's JVM options change.
    let gc = every.replace("max_size: 2G", "max_size: 4G");
    assert_ne!(gc, every);
    let steps = scenario("gc-log", &[&every, &gc]);
    let s = &steps[1];
    let c = s.changes();
    assert_eq!(c.counts.unchanged, 0, "{}", s.md());
    assert!(s.md().contains("LINKIS_GC_OPTS["), "{}", s.md());
}

/// An applied.json whose instance digests another linkis-gen took (over fewer keys) plans no
/// restart while every file the instance reads is the same, byte for byte.
#[test]
fn a_digest_taken_by_another_linkis_gen_over_the_same_files_restarts_nothing() {
    let every = example("examples/every-field.yaml");
    let first = step("first.yaml", &every, None);
    let mut applied = state_of(&first.files);
    for hs in applied.hosts.values_mut() {
        for is in hs.services.values_mut() {
            is.digest = "0".repeat(64);
        }
    }
    let again = step("again.yaml", &every, Some(applied.clone()));
    assert!(changes::is_empty(again.changes()), "{}", again.md());
    // A file that did change still restarts its readers.
    let opts = every.replace("-XX:MaxGCPauseMillis=200", "-XX:MaxGCPauseMillis=300");
    let changed = step("changed.yaml", &opts, Some(applied));
    assert_eq!(changed.restart_set(), ["gateway@ctl-1", "gateway@ctl-2"]);
}
