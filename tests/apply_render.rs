//! The apply side of the rendered tree: inventory, playbooks, roles, systemd units, nginx.

mod conf_common;
use conf_common::{GUIDES, get};

use std::collections::BTreeMap;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};

fn render_text(name: &str, text: &str) -> Vec<OutFile> {
    let src = Source::new(name, text.as_bytes().to_vec());
    let plan = linkis_gen::plan(&src).unwrap_or_else(|d| panic!("{name}: {d:?}"));
    render::render(
        &linkis_gen::model::resolve(&plan),
        &RenderOptions::default(),
    )
    .expect("renders")
}

fn render_file(path: &str) -> Vec<OutFile> {
    let text = std::fs::read_to_string(path).unwrap();
    render_text(path, &text)
}

fn by_path(files: &[OutFile]) -> BTreeMap<&str, &OutFile> {
    files.iter().map(|f| (f.path.as_str(), f)).collect()
}

/// The files this module renders.
fn is_apply(path: &str) -> bool {
    matches!(
        path,
        "site.yml"
            | "stop.yml"
            | "restart.yml"
            | "rotate-tokens.yml"
            | "status.yml"
            | "adopt.yml"
            | "ansible.cfg"
    ) || path.starts_with("inventory/")
        || path.starts_with("roles/")
        || path.starts_with("filter_plugins/")
        || path.starts_with("nginx/")
        || (path.starts_with("hosts/") && path.contains("/systemd/"))
}

const TWO_SERVERS: &str = "tests/specs/two-servers-1.1.3-ssh-port.yaml";

#[test]
fn the_300_user_layout_renders_this_ansible_tree() {
    let files = render_file("examples/guide-300-users.yaml");
    let mut all = String::new();
    for f in files.iter().filter(|f| is_apply(&f.path)) {
        all.push_str(&format!("==> {} ({:o})\n{}\n", f.path, f.mode, f.contents));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("apply_tree_guide_300", all);
    });
}

#[test]
fn every_placed_service_gets_one_unit_run_as_the_deploy_user() {
    for spec in GUIDES.iter().chain([&TWO_SERVERS]) {
        let text = std::fs::read_to_string(spec).unwrap();
        let src = Source::new(*spec, text.into_bytes());
        let plan = linkis_gen::plan(&src).unwrap();
        let files = render::render(
            &linkis_gen::model::resolve(&plan),
            &RenderOptions::default(),
        )
        .unwrap();
        let units: Vec<&OutFile> = files
            .iter()
            .filter(|f| f.path.starts_with("hosts/") && f.path.ends_with(".service"))
            .collect();
        let placed: usize = plan.hosts.iter().map(|h| h.services.len()).sum();
        assert_eq!(units.len(), placed, "{spec}");
        for h in &plan.hosts {
            for s in &h.services {
                let path = format!("hosts/{}/systemd/linkis-{}.service", h.name, s.info.daemon);
                let unit = get(&files, &path);
                assert!(
                    unit.contains(&format!("User={}\n", plan.spec.cluster.deploy_user)),
                    "{path}"
                );
                assert!(
                    unit.contains(&format!(
                        "ExecStart=/bin/bash {}/sbin/linkis-daemon.sh start {}\n",
                        plan.spec.cluster.install_dir, s.info.daemon
                    )),
                    "{path}"
                );
                assert!(unit.contains("Restart=on-failure\n"), "{path}");
                assert!(unit.contains("SuccessExitStatus=143\n"), "{path}");
                assert!(unit.contains("TimeoutStopSec=60\n"), "{path}");
                assert!(unit.contains("LimitNOFILE="), "{path}");
                let ecm = s.info.daemon == "cg-engineconnmanager";
                assert_eq!(unit.contains("KillMode=process\n"), ecm, "{path}");
                let foreground = plan.release.features().foreground && !ecm;
                assert_eq!(unit.contains("Type=simple\n"), foreground, "{path}");
                assert_eq!(
                    unit.contains("Environment=RUN_IN_FOREGROUND=true\n"),
                    foreground,
                    "{path}"
                );
                assert_eq!(unit.contains("Type=forking\n"), !foreground, "{path}");
                assert_eq!(
                    unit.contains(&format!(
                        "PIDFile={}/pid/linkis_{}.pid\n",
                        plan.spec.cluster.install_dir, s.info.daemon
                    )),
                    !foreground,
                    "{path}"
                );
            }
        }
    }
}

#[test]
fn units_order_after_the_same_hosts_earlier_stages() {
    let files = render_file(TWO_SERVERS);
    let gw = get(&files, "hosts/a/systemd/linkis-mg-gateway.service");
    assert!(gw.contains("After=network-online.target linkis-mg-eureka.service\n"));
    assert!(gw.contains("Wants=network-online.target linkis-mg-eureka.service\n"));
    let ecm = get(
        &files,
        "hosts/b/systemd/linkis-cg-engineconnmanager.service",
    );
    let after = ecm.lines().find(|l| l.starts_with("After=")).unwrap();
    for u in [
        "linkis-mg-eureka",
        "linkis-mg-gateway",
        "linkis-cg-linkismanager",
        "linkis-cg-entrance",
    ] {
        assert!(after.contains(&format!(" {u}.service")), "{after}");
    }
    // Eureka waits for nothing but the network; services of one stage do not wait for each other.
    let eureka = get(&files, "hosts/a/systemd/linkis-mg-eureka.service");
    assert!(eureka.contains("After=network-online.target\n"));
    assert!(!get(&files, "hosts/a/systemd/linkis-ps-cs.service").contains("publicservice"));
}

#[test]
fn inventory_has_every_host_and_a_group_per_service_and_role() {
    let files = render_file(TWO_SERVERS);
    let inv: serde_norway::Value =
        serde_norway::from_str(get(&files, "inventory/hosts.yml")).unwrap();
    let linkis = &inv["all"]["children"]["linkis"];
    let b = &linkis["hosts"]["b"];
    assert_eq!(b["ansible_host"].as_str(), Some("10.0.2.2"));
    assert_eq!(b["ansible_port"].as_u64(), Some(2222));
    assert_eq!(b["linkis_ports"]["engineconnmanager"].as_u64(), Some(9102));
    assert_eq!(b["linkis_ports"]["cs"].as_u64(), Some(9108));
    let members = |g: &str| -> Vec<String> {
        linkis["children"][g]["hosts"]
            .as_mapping()
            .map(|m| m.keys().map(|k| k.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    for g in [
        "linkis_eureka",
        "linkis_gateway",
        "linkis_publicservice",
        "linkis_cs",
        "linkis_datasourcemanager",
        "linkis_metadatamanager",
        "linkis_linkismanager",
        "linkis_engineplugin",
        "linkis_entrance",
        "linkis_control",
    ] {
        assert_eq!(members(g), ["a", "b"], "{g}");
    }
    assert_eq!(members("linkis_engineconnmanager"), ["b"]);
    assert_eq!(members("linkis_ecm"), ["b"]);

    // 1.3.2 has no cs / engineplugin groups.
    let files = render_file("examples/guide-50-users.yaml");
    let inv = get(&files, "inventory/hosts.yml");
    assert!(!inv.contains("linkis_cs:"));
    assert!(!inv.contains("linkis_engineplugin:"));
    assert!(inv.contains("linkis_linkismanager:"));
}

#[test]
fn group_vars_carry_secret_references_only() {
    let files = render_file("examples/guide-300-users.yaml");
    let vars = get(&files, "inventory/group_vars/all/main.yml");
    assert!(vars.contains("linkis_db_password: \"{{ vault_linkis_db_password }}\"\n"));
    assert!(vars.contains("linkis_install_dir: /appcom/Install/LinkisInstall\n"));
    assert!(vars.contains("linkis_engineconn_root_dir: /appcom/tmp\n"));
    assert!(vars.contains("  - { app: LINKIS-CG-ENGINECONNMANAGER, host: s10, port: 9102, service: engineconnmanager }\n"));
    // The vault variables: the spec's, and every one the conf trees reference.
    let listed: Vec<&str> = vars
        .split("linkis_vault_variables:\n")
        .nth(1)
        .unwrap()
        .lines()
        .map_while(|l| l.strip_prefix("  - "))
        .collect();
    assert!(listed.contains(&"vault_linkis_db_password"), "{listed:?}");
    for f in files.iter().filter(|f| f.path.starts_with("hosts/")) {
        for (i, _) in f.contents.match_indices("{{ ") {
            let name = f.contents[i + 3..].split(" }}").next().unwrap();
            assert!(
                listed.contains(&name),
                "{} references {name}, not listed",
                f.path
            );
        }
    }
    let expected = vars.matches("  - { app: LINKIS-").count();
    assert_eq!(
        expected,
        10 + 2 * 5,
        "ECM on s1..s10, five services on s11 and s12"
    );
}

#[test]
fn site_yml_starts_stage_by_stage_and_stop_yml_follows_linkis_stop_order() {
    let files = render_file(TWO_SERVERS);
    let site = get(&files, "site.yml");
    let at = |text: &str, needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    let order = [
        "hosts: linkis_eureka\n",
        "hosts: linkis_gateway:linkis_publicservice:linkis_cs:linkis_datasourcemanager:linkis_metadatamanager\n",
        "hosts: linkis_linkismanager:linkis_engineplugin\n",
        "hosts: linkis_entrance\n",
        "hosts: linkis_engineconnmanager\n",
    ];
    let pos: Vec<usize> = order.iter().map(|n| at(site, n)).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    // stop.yml: one play per service, in the line's linkis-stop-all.sh order (1.1.x here:
    // gateway first, Eureka last), each on that service's hosts.
    let plays = |stop: &str| -> Vec<String> {
        stop.lines()
            .filter_map(|l| l.strip_prefix("  hosts: linkis_"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        plays(get(&files, "stop.yml")),
        [
            "gateway",
            "cs",
            "datasourcemanager",
            "metadatamanager",
            "engineconnmanager",
            "entrance",
            "engineplugin",
            "publicservice",
            "linkismanager",
            "eureka"
        ]
    );
    assert_eq!(
        plays(get(
            &render_file("examples/guide-50-users.yaml"),
            "stop.yml"
        )),
        [
            "gateway",
            "engineconnmanager",
            "entrance",
            "publicservice",
            "linkismanager",
            "eureka"
        ]
    );
    for tag in ["preflight", "install", "configure", "services", "verify"] {
        assert!(site.contains(&format!("tags: [{tag}")), "{tag}");
    }
    // 1.1.3 has no clear-server.sh; for 1.3.2 the role deletes the same rows once, from
    // linkis_clear_server_host, only when every host of the cluster is in the run and none runs
    // Linkis (a cold start), never running the script (it puts the password on a command line).
    assert!(!site.contains("role: linkis_clear_server"));
    let files = render_file("examples/guide-300-users.yaml");
    let site = get(&files, "site.yml").to_string();
    assert!(site.contains("    - role: linkis_clear_server\n"));
    let clear = get(&files, "roles/linkis_clear_server/tasks/main.yml");
    assert_eq!(clear.matches("clear-server.sh\"").count(), 0);
    assert!(clear.contains("delegate_to: \"{{ linkis_clear_server_host }}\"\n"));
    assert!(
        get(&files, "inventory/group_vars/all/main.yml")
            .contains("linkis_clear_server_host: s11\n")
    );
    assert!(
        clear.contains(
            "(linkis_clear_server_outside + linkis_clear_server_busy) | length == 0 }}\"\n"
        )
    );
    assert!(!clear.contains("linkis_install_fresh"));
    assert!(!clear.contains("MYSQL_PASSWORD"));
    assert!(
        clear.contains(
            "\"--defaults-extra-file={{ linkis_clear_server_private.path }}/client.cnf\"\n"
        )
    );
    assert!(!get(&files, "roles/linkis_configure/templates/db.sh.j2").contains("MYSQL_PASSWORD"));
    assert!(get(&files, "ansible.cfg").contains("\npipelining = True\n"));
    let restart = get(&files, "restart.yml");
    assert!(restart.contains("serial: 1\n"));
    assert!(restart.contains("linkis_start_state: restarted\n"));
    assert!(restart.contains("- role: linkis_verify\n"));
}

const REDIS_NACOS: &str = r#"version: 1
cluster:
  name: nacos-redis
  linkis_version: "1.5.0"
  package: /srv/apache-linkis-1.5.0-bin.tar.gz
  discovery: nacos
  nacos_address: 10.0.0.9:8848
database:
  host: 10.0.0.5
  name: linkis
  user: linkis
  password: { vault: vault_db }
gateway:
  sessions: redis
  redis:
    host: 10.0.0.6
    password: { vault: vault_redis }
  web:
    listen: 80
    server_name: linkis.example.com
sizing:
  concurrent_users: 10
  engines:
    spark: { memory: 1G }
host_defaults:
  memory: 64G
  cores: 16
hosts:
  - { name: e1, address: 10.0.3.1 }
  - { name: c1, address: 10.0.3.2, ports: { gateway: 9011 } }
  - { name: c2, address: 10.0.3.3 }
"#;

#[test]
fn nginx_fronts_every_gateway_with_ip_hash_unless_sessions_are_in_redis() {
    let files = render_file("examples/guide-300-users.yaml");
    let ngx = get(&files, "nginx/linkis.conf");
    assert!(ngx.contains("    ip_hash;\n"));
    assert!(ngx.contains("    server 10.0.1.11:9001 "));
    assert!(ngx.contains("    server 10.0.1.12:9001 "));
    assert!(ngx.contains("    listen 8088;\n"));
    assert!(ngx.contains("proxy_set_header Upgrade $http_upgrade;"));
    assert!(ngx.contains("proxy_read_timeout 600s;"));

    let files = render_text("nacos-redis.yaml", REDIS_NACOS);
    let ngx = get(&files, "nginx/linkis.conf");
    assert!(!ngx.contains("ip_hash"));
    assert!(ngx.contains("    server 10.0.3.2:9011 "));
    assert!(ngx.contains("    server 10.0.3.3:9001 "));
    assert!(ngx.contains("    listen 80;\n    server_name linkis.example.com;\n"));
    let vars = get(&files, "inventory/group_vars/all/main.yml");
    assert!(vars.contains("linkis_db_password: \"{{ vault_db }}\"\n"));
    assert!(vars.contains("linkis_redis_password: \"{{ vault_redis }}\"\n"));
}

#[test]
fn with_nacos_there_is_no_eureka_to_start_or_ask() {
    let files = render_text("nacos-redis.yaml", REDIS_NACOS);
    let map = by_path(&files);
    assert!(!get(&files, "inventory/hosts.yml").contains("linkis_eureka"));
    assert!(!get(&files, "site.yml").contains("linkis_eureka"));
    let verify = get(&files, "roles/linkis_verify/tasks/main.yml");
    assert!(!verify.contains("/eureka/apps"));
    assert!(verify.contains("/actuator/health"));
    assert!(!map.keys().any(|p| p.ends_with("linkis-mg-eureka.service")));
    // The gateway port override reaches the inventory.
    assert!(get(&files, "inventory/hosts.yml").contains("            gateway: 9011\n"));
    // With Eureka, verify asks every node for /eureka/apps and names what is missing.
    let files = render_file("examples/guide-300-users.yaml");
    let verify = get(&files, "roles/linkis_verify/tasks/main.yml");
    assert!(verify.contains("/eureka/apps"));
    assert!(verify.contains("Not registered in Eureka: "));
}

#[test]
fn rendering_twice_gives_identical_files() {
    let a = render_file("examples/guide-500-users.yaml");
    let b = render_file("examples/guide-500-users.yaml");
    assert_eq!(a, b);
    for f in a.iter().filter(|f| is_apply(&f.path)) {
        assert!(f.contents.ends_with('\n'), "{}", f.path);
        assert!(!f.contents.contains("[="), "{}", f.path);
        assert!(!f.contents.contains("[%"), "{}", f.path);
    }
}

/// status.yml probes and reports every instance of the model: the per-host probe and the report
/// both iterate over group_vars' `linkis_expected_instances`, which lists exactly the placed
/// instances (service x host, port, unit) of each guide layout.
#[test]
fn status_yml_covers_every_instance_of_the_guides() {
    for spec in GUIDES {
        let text = std::fs::read_to_string(spec).unwrap();
        let plan = linkis_gen::plan(&Source::new(spec, text.into_bytes())).unwrap();
        let model = linkis_gen::model::resolve(&plan);
        let files = render::render(&model, &RenderOptions::default()).unwrap();
        let gv: serde_norway::Value =
            serde_norway::from_str(get(&files, "inventory/group_vars/all/main.yml")).unwrap();
        let mut listed: Vec<(String, String, u64, String)> = gv["linkis_expected_instances"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["host"].as_str().unwrap().to_string(),
                    i["service"].as_str().unwrap().to_string(),
                    i["port"].as_u64().unwrap(),
                    // status.yml names the unit `app | lower`.
                    i["app"].as_str().unwrap().to_ascii_lowercase(),
                )
            })
            .collect();
        let mut placed: Vec<(String, String, u64, String)> = model
            .hosts
            .iter()
            .flat_map(|h| {
                h.instances.iter().map(move |i| {
                    (
                        h.name.clone(),
                        i.name.to_string(),
                        u64::from(i.port),
                        i.unit.clone(),
                    )
                })
            })
            .collect();
        listed.sort();
        placed.sort();
        assert_eq!(listed, placed, "{spec}");
        assert!(placed.len() >= 10, "{spec}: {}", placed.len());

        let status = get(&files, "status.yml");
        let plays: Vec<serde_norway::Value> = serde_norway::from_str(status).unwrap();
        assert_eq!(plays.len(), 2, "{spec}");
        assert_eq!(plays[0]["hosts"].as_str(), Some("linkis"));
        assert_eq!(plays[1]["hosts"].as_str(), Some("localhost"));
        // One probe per host: exactly one shell task, over this host's instances.
        let tasks = plays[0]["tasks"].as_sequence().unwrap();
        let shells: Vec<&serde_norway::Value> = tasks
            .iter()
            .filter(|t| t.get("ansible.builtin.shell").is_some())
            .collect();
        assert_eq!(shells.len(), 1, "{spec}");
        let env = &shells[0]["environment"];
        assert!(
            env["INSTANCES"].as_str().unwrap().contains(
                "{% for i in linkis_expected_instances if i.host == inventory_hostname %}"
            ),
            "{spec}"
        );
        assert!(env["FILES"].as_str().unwrap().contains("hash('sha1')"));
        // The report has a row for each of them, and fails on any problem or drift.
        let report = plays[1]["tasks"].as_sequence().unwrap();
        let rows = report
            .iter()
            .find(|t| t["name"].as_str() == Some("Collect one row per instance"))
            .unwrap();
        assert_eq!(
            rows["loop"].as_str(),
            Some("{{ hostvars[groups['linkis'][0]].linkis_expected_instances }}")
        );
        assert!(
            report
                .iter()
                .any(|t| t.get("ansible.builtin.fail").is_some())
        );
        // Eureka is asked once per node, from one host.
        let apps = tasks
            .iter()
            .find(|t| t.get("ansible.builtin.uri").is_some())
            .unwrap();
        assert_eq!(apps["run_once"].as_bool(), Some(true));
        assert_eq!(apps["loop"].as_str(), Some("{{ groups['linkis_eureka'] }}"));
    }
}

/// The units role's stale-unit probe and clear-server's "what of Linkis runs" probe list the
/// Linkis service units only: the firewall's `linkis-nftables.service` and the scheduled dump's
/// `linkis-db-backup.service` are linkis-gen's too, but no service's. Found on the bed: with
/// `linkis-*.service`, every site.yml stopped and deleted the firewall's unit (unloading the
/// table) right after the firewall play installed it, and a running firewall unit counted as
/// "Linkis still runs" for clear-server. The globs, expanded by real bash over such a directory.
#[test]
fn the_service_unit_probes_never_take_the_firewall_or_backup_unit_for_a_service() {
    let files = render_file("examples/every-field.yaml");
    let dir = std::env::temp_dir().join(format!("lg-unit-glob-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for u in [
        "linkis-nftables.service",
        "linkis-db-backup.service",
        "linkis-db-backup.timer",
        "linkis-mg-eureka.service",
        "linkis-ps-publicservice.service",
        "linkis-cg-engineconnmanager.service",
    ] {
        std::fs::write(dir.join(u), "").unwrap();
    }
    for (role, var) in [
        ("roles/linkis_units/tasks/main.yml", "\"${DIR}\"/"),
        (
            "roles/linkis_clear_server/tasks/main.yml",
            "\"$SYSTEMD_DIR\"/",
        ),
    ] {
        let text = get(&files, role);
        assert!(!text.contains("linkis-*.service"), "{role}");
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("for ") && l.contains(var))
            .unwrap_or_else(|| panic!("{role}: no loop over the systemd directory"));
        let glob = line.split(var).nth(1).unwrap().split(';').next().unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "cd '{}' && for f in {glob}; do [ -e \"$f\" ] && echo \"$f\"; done; true",
                dir.display()
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "linkis-cg-engineconnmanager.service\nlinkis-mg-eureka.service\nlinkis-ps-publicservice.service\n",
            "{role}: {glob}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// ansible-core 2.19 templates a task's `delegate_to` even when its loop is empty (a host whose
/// role `when` is false: restart.yml's non-gateway hosts in linkis_upstream), and a bare `item`
/// there fails the run ("'item' is undefined"; found by the bed's token rotation). Every
/// `delegate_to` that reads the loop item has a default.
#[test]
fn every_delegate_to_on_a_loop_item_has_a_default() {
    let mut seen = 0;
    for f in render_file("examples/guide-300-users.yaml") {
        for (n, line) in f.contents.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("delegate_to:") && l.contains("item") {
                seen += 1;
                assert!(
                    l.contains("| default("),
                    "{}:{}: a delegate_to on the loop item without a default: {line}",
                    f.path,
                    n + 1
                );
            }
        }
    }
    assert!(
        seen >= 3,
        "linkis_upstream delegates on its loop items ({seen})"
    );
}
