//! adopt.yml (issue 21): taking over a cluster installed by hand. Its plays in order: the reading
//! and the plan (before anything changes), the install without the database, one handover play
//! per service in Linkis' start order (one instance at a time), verify and the record gate.
//! With ansible-playbook on PATH (CI), the rendered playbook passes --syntax-check; .ci/apply.sh
//! also runs ansible-lint on it. The bed (tests/bed, scenario `adopt`) runs it over ssh.

mod conf_common;
use conf_common::get;

use std::path::PathBuf;
use std::process::Command;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};
use serde_norway::Value;

const SPECS: [&str; 5] = [
    "examples/guide-50-users.yaml",
    "examples/guide-300-users.yaml",
    "examples/two-server-1.1.3.yaml",
    "examples/production-1.4.0.yaml",
    "examples/single-node-1.8.0-nacos-redis.yaml",
];

fn render_file(path: &str) -> Vec<OutFile> {
    let text = std::fs::read_to_string(path).unwrap();
    let plan = linkis_gen::plan(&Source::new(path, text.into_bytes()))
        .unwrap_or_else(|d| panic!("{path}: {d:?}"));
    render::render(
        &linkis_gen::model::resolve(&plan),
        &RenderOptions::default(),
    )
    .expect("renders")
}

fn plays(files: &[OutFile], playbook: &str) -> Vec<Value> {
    serde_norway::from_str::<Value>(get(files, playbook))
        .unwrap()
        .as_sequence()
        .unwrap()
        .clone()
}

fn roles(play: &Value) -> Vec<String> {
    play["roles"]
        .as_sequence()
        .map(|r| {
            r.iter()
                .map(|r| r["role"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn name(play: &Value) -> &str {
    play["name"].as_str().unwrap()
}

/// The services site.yml starts, in its order: (service, group).
fn start_order(files: &[OutFile]) -> Vec<(String, String)> {
    let site = plays(files, "site.yml");
    let mut order = Vec::new();
    for play in site.iter().filter(|p| name(p).starts_with("Start stage")) {
        for s in play["roles"][0]["vars"]["linkis_start_services"]
            .as_sequence()
            .unwrap()
        {
            order.push((
                s["service"].as_str().unwrap().to_string(),
                s["group"].as_str().unwrap().to_string(),
            ));
        }
    }
    order
}

#[test]
fn adopt_yml_reads_and_plans_first_never_touches_the_database_and_hands_over_one_instance_at_a_time()
 {
    for spec in SPECS {
        let files = render_file(spec);
        let adopt = plays(&files, "adopt.yml");
        let all_roles: Vec<String> = adopt.iter().flat_map(roles).collect();
        for never in [
            "linkis_db",
            "linkis_clear_server",
            "linkis_change",
            "linkis_upgrade",
        ] {
            assert!(
                !all_roles.iter().any(|r| r == never),
                "{spec}: adopt.yml runs {never}"
            );
        }
        // Read (probe, conf compared in check mode) and plan before the first play that installs.
        let first_install = adopt
            .iter()
            .position(|p| roles(p).iter().any(|r| r == "linkis_install"))
            .unwrap();
        let plan = adopt
            .iter()
            .position(|p| p["roles"][0]["vars"]["linkis_adopt_phase"].as_str() == Some("plan"))
            .unwrap();
        let compare = adopt
            .iter()
            .position(|p| p["check_mode"].as_bool() == Some(true))
            .unwrap();
        assert_eq!(roles(&adopt[compare]), ["linkis_configure"], "{spec}");
        assert!(
            compare < plan && plan < first_install,
            "{spec}: the plan comes after the reading, before the install"
        );
        for p in &adopt[..first_install] {
            assert_eq!(p["tags"][0].as_str(), Some("read"), "{spec}: {}", name(p));
        }
        // The backup of the host's files runs before the configure role installs the render.
        let install = adopt
            .iter()
            .find(|p| roles(p).iter().any(|r| r == "linkis_configure") && p["check_mode"].is_null())
            .unwrap();
        assert_eq!(
            roles(install)[..2],
            ["linkis_adopt", "linkis_configure"],
            "{spec}"
        );
        assert_eq!(
            install["roles"][0]["vars"]["linkis_adopt_phase"].as_str(),
            Some("backup")
        );
        // Units installed, none started before the handover.
        let units = adopt
            .iter()
            .position(|p| roles(p).iter().any(|r| r == "linkis_units"))
            .unwrap();
        let first_start = adopt
            .iter()
            .position(|p| roles(p).iter().any(|r| r == "linkis_start"))
            .unwrap();
        assert!(units < first_start, "{spec}");
        // One handover play per service, in site.yml's start order, serial 1 over its group.
        let handovers: Vec<&Value> = adopt
            .iter()
            .filter(|p| p["tags"][0].as_str() == Some("handover"))
            .collect();
        let order = start_order(&files);
        assert_eq!(handovers.len(), order.len(), "{spec}");
        for (play, (service, group)) in handovers.iter().zip(&order) {
            assert_eq!(play["hosts"].as_str(), Some(group.as_str()), "{spec}");
            assert_eq!(play["serial"].as_u64(), Some(1), "{spec}: {service}");
            assert_eq!(play["any_errors_fatal"].as_bool(), Some(true));
            let r = roles(play);
            let core: Vec<&str> = r
                .iter()
                .map(String::as_str)
                .filter(|r| *r != "linkis_upstream" && *r != "linkis_entrance")
                .collect();
            assert_eq!(
                core,
                ["linkis_adopt", "linkis_start", "linkis_verify"],
                "{spec}: {service}"
            );
            let adopt_role = play["roles"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|r| r["role"].as_str() == Some("linkis_adopt"))
                .unwrap();
            assert_eq!(
                adopt_role["vars"]["linkis_adopt_phase"].as_str(),
                Some("handover")
            );
            assert_eq!(
                adopt_role["vars"]["linkis_adopt_svc"]["service"].as_str(),
                Some(service.as_str())
            );
            // Gateways leave nginx's upstream around their move; entrances are drained (marked
            // offline, running jobs waited for) before Linkis' script stops them, and put back
            // online after.
            let around = match service.as_str() {
                "gateway" => Some(("linkis_upstream", "linkis_upstream_state", "down", "up")),
                "entrance" => Some((
                    "linkis_entrance",
                    "linkis_entrance_state",
                    "offline",
                    "online",
                )),
                _ => None,
            };
            let seq = play["roles"].as_sequence().unwrap();
            match around {
                Some((role, var, before, after)) => {
                    assert_eq!(
                        r.first().map(String::as_str),
                        Some(role),
                        "{spec}: {service}"
                    );
                    assert_eq!(
                        r.last().map(String::as_str),
                        Some(role),
                        "{spec}: {service}"
                    );
                    assert_eq!(
                        seq[0]["vars"][var].as_str(),
                        Some(before),
                        "{spec}: {service}"
                    );
                    assert_eq!(seq[seq.len() - 1]["vars"][var].as_str(), Some(after));
                }
                None => assert!(
                    !r.iter()
                        .any(|r| r == "linkis_upstream" || r == "linkis_entrance"),
                    "{spec}: {service}"
                ),
            }
        }
        // applied.json only through the record gate, last.
        assert!(
            name(adopt.last().unwrap()).starts_with("Record what runs now"),
            "{spec}"
        );
        // The role's files are in the tree.
        for f in ["read", "plan", "backup", "handover", "main"] {
            get(&files, &format!("roles/linkis_adopt/tasks/{f}.yml"));
        }
    }
}

#[test]
fn the_probe_reads_pid_files_by_either_name_and_service_name_processes() {
    let files = render_file("examples/guide-50-users.yaml");
    let read = get(&files, "roles/linkis_adopt/tasks/read.yml");
    assert!(read.contains("\"${PID_DIR}\"/linkis_*.pid"), "{read}");
    assert!(read.contains("-DserviceName=linkis-"), "{read}");
    let defaults = get(&files, "roles/linkis_adopt/defaults/main.yml");
    assert!(defaults.contains("linkis_adopt_pid_dir: \"{{ linkis_install_dir }}/pid\""));
    assert!(defaults.contains("linkis_adopt_accept: false"));
    let handover = get(&files, "roles/linkis_adopt/tasks/handover.yml");
    assert!(
        handover.contains("sbin/linkis-daemon.sh\" stop"),
        "{handover}"
    );
    // The conf comparison knows content from owner or mode: the configure role keeps each sum.
    let configure = get(&files, "roles/linkis_configure/tasks/main.yml");
    assert!(configure.contains("'sum': linkis_configure_sum"));
}

#[test]
fn adopt_yml_passes_ansible_playbook_syntax_check() {
    let has_ansible = Command::new("ansible-playbook")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_ansible {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have ansible-playbook on PATH"
        );
        eprintln!("skipped: no ansible-playbook on PATH");
        return;
    }
    for spec in SPECS {
        let files = render_file(spec);
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "linkis-gen-adopt-{}-{}",
            std::process::id(),
            spec.replace('/', "_")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for f in &files {
            let p = dir.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        let out = Command::new("ansible-playbook")
            .current_dir(&dir)
            .args(["--syntax-check", "-i", "inventory/hosts.yml", "adopt.yml"])
            .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-local"))
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "{spec}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The probe's shell script, as rendered (the `shell:` block of read.yml's first task).
fn probe_script(files: &[OutFile]) -> String {
    let tasks: Value =
        serde_norway::from_str(get(files, "roles/linkis_adopt/tasks/read.yml")).unwrap();
    tasks[0]["ansible.builtin.shell"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_probe_reads_the_release_from_the_installs_linkis_rpc_jar() {
    let files = render_file("examples/guide-50-users.yaml");
    let defaults = get(&files, "roles/linkis_adopt/defaults/main.yml");
    assert!(
        defaults.contains(
            r#"linkis_adopt_release_jar: ["lib/linkis-commons/public-module", "linkis-rpc-", ".jar"]"#
        ),
        "{defaults}"
    );
    let script = probe_script(&files);
    let home = std::env::temp_dir().join(format!("linkis-gen-adopt-probe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let jars = home.join("lib/linkis-commons/public-module");
    std::fs::create_dir_all(&jars).unwrap();
    std::fs::create_dir_all(home.join("pid")).unwrap();
    let probe = || {
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("HOME_DIR", &home)
            .env("PID_DIR", home.join("pid"))
            .env("ALIASES", "")
            .env("DAEMONS", "")
            .env("PLACED", "")
            .env("JAR_DIR", "lib/linkis-commons/public-module")
            .env("JAR_PREFIX", "linkis-rpc-")
            .env("JAR_SUFFIX", ".jar")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("release") || l.starts_with("home"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // No jar: no release line (the role names that as a difference).
    assert_eq!(probe(), ["home dir"]);
    // linkis-common beside linkis-rpc does not count; the version is the name's middle.
    std::fs::write(jars.join("linkis-common-1.3.2.jar"), "").unwrap();
    std::fs::write(jars.join("linkis-rpc-1.3.2.jar"), "").unwrap();
    assert_eq!(probe(), ["home dir", "release 1.3.2"]);
    // Two releases' jars in one directory (a botched hand upgrade): both said.
    std::fs::write(jars.join("linkis-rpc-1.4.0.jar"), "").unwrap();
    assert_eq!(probe(), ["home dir", "release 1.3.2", "release 1.4.0"]);
    let _ = std::fs::remove_dir_all(&home);
}
