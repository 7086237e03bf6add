//! Per-host conf/ and sbin/ trees: what issue 4 says they must show.

mod conf_common;

use conf_common::*;

const FOUR_HOSTS: &str = "guide-50-users.yaml";

fn zone_list(v: serde_norway::Value) -> Vec<String> {
    v.as_str()
        .expect("defaultZone is a string")
        .split(',')
        .map(str::to_string)
        .collect()
}

const PEERS_50: [&str; 2] = [
    "http://10.0.1.3:20303/eureka/",
    "http://10.0.1.4:20303/eureka/",
];

#[test]
fn four_hosts_every_host_lists_both_eureka_peers() {
    let text = example(FOUR_HOSTS);
    let files = host_files(FOUR_HOSTS, &text);
    let plan = plan_of(FOUR_HOSTS, &text);
    assert_eq!(plan.hosts.len(), 4);
    let eureka_hosts: Vec<&str> = plan
        .hosts
        .iter()
        .filter(|h| h.runs(linkis_gen::spec::Service::Eureka))
        .map(|h| h.address.as_str())
        .collect();
    let peers: Vec<String> = eureka_hosts
        .iter()
        .map(|a| format!("http://{a}:20303/eureka/"))
        .collect();
    assert_eq!(
        peers, PEERS_50,
        "the guide's layout puts Eureka on S3 and S4"
    );
    for h in &plan.hosts {
        for yml in ["application-linkis.yml", "application-engineconn.yml"] {
            let text = file(&files, &format!("hosts/{}/conf/{yml}", h.name));
            let zone = yaml_at(text, &["eureka", "client", "serviceUrl", "defaultZone"])
                .unwrap_or_else(|| panic!("{} {yml}: no defaultZone", h.name));
            assert_eq!(zone_list(zone), peers, "{} {yml}", h.name);
        }
        let eureka = files.get(&format!("hosts/{}/conf/application-eureka.yml", h.name));
        if h.runs(linkis_gen::spec::Service::Eureka) {
            let text = &eureka
                .expect("Eureka host has application-eureka.yml")
                .contents;
            let zone = yaml_at(text, &["eureka", "client", "serviceUrl", "defaultZone"]).unwrap();
            assert_eq!(zone_list(zone), peers, "{}", h.name);
            let port = yaml_at(text, &["server", "port"]).unwrap();
            assert_eq!(port.as_u64(), Some(20303));
        } else {
            assert!(eureka.is_none(), "{} runs no Eureka", h.name);
        }
        let lp = file(&files, &format!("hosts/{}/conf/linkis.properties", h.name));
        assert_eq!(
            prop(lp, "linkis.discovery.server-address").as_deref(),
            Some("http://10.0.1.3:20303"),
            "one URL, not a list"
        );
        assert_eq!(
            prop(lp, "wds.linkis.gateway.url").as_deref(),
            Some("http://10.0.1.3:9001")
        );
        assert_eq!(
            prop(lp, "wds.linkis.eureka.defaultZone"),
            None,
            "1.3.2 has no such key"
        );
    }
}

#[test]
fn four_hosts_ecm_only_hosts_carry_no_gateway_or_eureka_service_config() {
    let text = example(FOUR_HOSTS);
    let files = host_files(FOUR_HOSTS, &text);
    for ecm in ["s1", "s2"] {
        let conf: Vec<&str> = files
            .keys()
            .filter(|p| p.starts_with(&format!("hosts/{ecm}/conf/")))
            .map(|p| p.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            conf,
            [
                "application-engineconn.yml",
                "application-linkis.yml",
                "linkis-cg-engineconnmanager.properties",
                "linkis-cli.properties",
                "linkis-env.sh",
                "linkis.properties"
            ],
            "{ecm}"
        );
        let start = file(&files, &format!("hosts/{ecm}/sbin/linkis-start-all.sh"));
        assert_eq!(script_daemons(start, "start"), ["cg-engineconnmanager"]);
        assert!(!start.contains("sleep"), "nothing to wait for on {ecm}");
        let stop = file(&files, &format!("hosts/{ecm}/sbin/linkis-stop-all.sh"));
        assert_eq!(script_daemons(stop, "stop"), ["cg-engineconnmanager"]);
        let env = file(&files, &format!("hosts/{ecm}/conf/linkis-env.sh"));
        assert!(env.contains("export ENGINECONNMANAGER_HEAP_SIZE=2G"));
        assert!(!env.contains("GATEWAY_HEAP_SIZE"));
        let ecm_props = file(
            &files,
            &format!("hosts/{ecm}/conf/linkis-cg-engineconnmanager.properties"),
        );
        // 64G host - 2G ECM heap, in bytes; 50 users x 1G x 2 / 2 hosts of cores and engines.
        assert_eq!(
            prop(ecm_props, "wds.linkis.ecm.memory.max").as_deref(),
            Some("66571993088")
        );
        assert_eq!(
            prop(ecm_props, "wds.linkis.ecm.cores.max").as_deref(),
            Some("50")
        );
        assert_eq!(
            prop(ecm_props, "wds.linkis.ecm.engineconn.instances.max").as_deref(),
            Some("50")
        );
        assert_eq!(
            prop(ecm_props, "wds.linkis.engineconn.root.dir").as_deref(),
            Some("/appcom/tmp")
        );
    }
    // The control pair starts in Linkis' order and stops in its stop order.
    let start = file(&files, "hosts/s3/sbin/linkis-start-all.sh");
    assert_eq!(
        script_daemons(start, "start"),
        [
            "mg-eureka",
            "mg-gateway",
            "ps-publicservice",
            "cg-linkismanager",
            "cg-entrance"
        ]
    );
    assert!(start.contains("sleep 15") && start.contains("sleep 20"));
    assert!(!start.contains("clear-server"), "never from start-all");
    assert!(!start.contains("ssh"), "this host only");
    let stop = file(&files, "hosts/s3/sbin/linkis-stop-all.sh");
    assert_eq!(
        script_daemons(stop, "stop"),
        [
            "mg-gateway",
            "cg-entrance",
            "ps-publicservice",
            "cg-linkismanager",
            "mg-eureka"
        ]
    );
}

#[test]
fn on_1_1_3_linkis_properties_names_both_peers_and_the_extra_services_run() {
    let name = "two-server-1.1.3.yaml";
    let files = host_files(name, &example(name));
    for h in ["a", "b"] {
        let lp = file(&files, &format!("hosts/{h}/conf/linkis.properties"));
        assert_eq!(
            prop(lp, "wds.linkis.eureka.defaultZone").as_deref(),
            Some("http://10.0.2.1:20303/eureka/,http://10.0.2.2:20303/eureka/"),
            "{h}"
        );
        assert_eq!(prop(lp, "linkis.discovery.server-address"), None, "{h}");
        assert!(!files.contains_key(&format!("hosts/{h}/conf/application-engineconn.yml")));
        for (conf, port) in [
            ("linkis-ps-cs.properties", "9108"),
            ("linkis-ps-data-source-manager.properties", "9109"),
            ("linkis-ps-metadatamanager.properties", "9110"),
            ("linkis-cg-engineplugin.properties", "9103"),
        ] {
            let p = file(&files, &format!("hosts/{h}/conf/{conf}"));
            assert_eq!(
                prop(p, "spring.server.port").as_deref(),
                Some(port),
                "{h} {conf}"
            );
            // the release's own wiring of the service is kept
            assert!(
                prop(p, "wds.linkis.server.restful.scan.packages").is_some()
                    || conf.contains("engineplugin"),
                "{h} {conf}"
            );
        }
        let started = script_daemons(
            file(&files, &format!("hosts/{h}/sbin/linkis-start-all.sh")),
            "start",
        );
        for d in [
            "ps-cs",
            "ps-data-source-manager",
            "ps-metadatamanager",
            "cg-engineplugin",
        ] {
            assert!(
                started.iter().any(|s| s == d),
                "{h} starts {d}: {started:?}"
            );
        }
        let env = file(&files, &format!("hosts/{h}/conf/linkis-env.sh"));
        assert!(env.contains("export EUREKA_PREFER_IP=false"));
        assert!(env.contains("*) export SERVER_HEAP_SIZE=2G ;;"));
        let zone = yaml_at(
            file(&files, &format!("hosts/{h}/conf/application-eureka.yml")),
            &["eureka", "client", "serviceUrl", "defaultZone"],
        )
        .unwrap();
        assert_eq!(zone_list(zone).len(), 2);
    }
    // The ECM is kept off A.
    assert!(!files.contains_key("hosts/a/conf/linkis-cg-engineconnmanager.properties"));
    assert!(files.contains_key("hosts/b/conf/linkis-cg-engineconnmanager.properties"));
    let a_start = script_daemons(file(&files, "hosts/a/sbin/linkis-start-all.sh"), "start");
    assert!(!a_start.iter().any(|d| d == "cg-engineconnmanager"));
}

#[test]
fn per_host_ports_reach_every_file_that_names_them() {
    let hosts = r#"  - { name: a, address: 10.0.0.1, services: [eureka, gateway, publicservice, linkismanager, entrance], ports: { eureka: 20304, gateway: 9011 } }
  - { name: b, address: 10.0.0.2, services: [eureka, gateway, publicservice, linkismanager, entrance] }
  - { name: c, address: 10.0.0.3, roles: [ecm] }"#;
    let text = spec("1.3.2", "", hosts, "");
    let files = host_files("ports.yaml", &text);
    let zone = "http://10.0.0.1:20304/eureka/,http://10.0.0.2:20303/eureka/";
    for h in ["a", "b", "c"] {
        let y = file(&files, &format!("hosts/{h}/conf/application-linkis.yml"));
        let got = yaml_at(y, &["eureka", "client", "serviceUrl", "defaultZone"]).unwrap();
        assert_eq!(got.as_str(), Some(zone), "{h}");
        let lp = file(&files, &format!("hosts/{h}/conf/linkis.properties"));
        assert_eq!(
            prop(lp, "wds.linkis.gateway.url").as_deref(),
            Some("http://10.0.0.1:9011")
        );
        assert_eq!(
            prop(lp, "linkis.discovery.server-address").as_deref(),
            Some("http://10.0.0.1:20304")
        );
    }
    let eureka_a = file(&files, "hosts/a/conf/application-eureka.yml");
    assert_eq!(
        yaml_at(eureka_a, &["server", "port"]).unwrap().as_u64(),
        Some(20304)
    );
    let gw_a = file(&files, "hosts/a/conf/linkis-mg-gateway.properties");
    assert_eq!(prop(gw_a, "spring.server.port").as_deref(), Some("9011"));
    // a key set by linkis-gen is written once, not again by the shipped settings
    assert_eq!(
        props(gw_a)
            .iter()
            .filter(|(k, _)| k == "spring.server.port")
            .count(),
        1
    );
    let gw_b = file(&files, "hosts/b/conf/linkis-mg-gateway.properties");
    assert_eq!(prop(gw_b, "spring.server.port").as_deref(), Some("9001"));
}

#[test]
fn overrides_replace_in_place_or_append() {
    let tail = r#"overrides:
  linkis.properties:
    wds.linkis.server.version: v2
    wds.linkis.server.web.session.timeout: 2h
  linkis-cg-engineconnmanager.properties:
    wds.linkis.engineconn.root.dir: /data/engines"#;
    let plain = host_files(
        "p.yaml",
        &spec("1.3.2", "", "  - { name: a, address: 10.0.0.1 }", ""),
    );
    let text = spec("1.3.2", "", "  - { name: a, address: 10.0.0.1 }", tail);
    let files = host_files("o.yaml", &text);
    let before = file(&plain, "hosts/a/conf/linkis.properties");
    let after = file(&files, "hosts/a/conf/linkis.properties");
    let pos = |t: &str, k: &str| props(t).iter().position(|(key, _)| key == k);
    assert_eq!(
        prop(after, "wds.linkis.server.version").as_deref(),
        Some("v2")
    );
    assert_eq!(
        pos(before, "wds.linkis.server.version"),
        pos(after, "wds.linkis.server.version"),
        "replaced in place"
    );
    assert_eq!(
        props(after).last().unwrap(),
        &(
            "wds.linkis.server.web.session.timeout".to_string(),
            "2h".to_string()
        )
    );
    assert_eq!(props(after).len(), props(before).len() + 1);
    let ecm = file(
        &files,
        "hosts/a/conf/linkis-cg-engineconnmanager.properties",
    );
    assert_eq!(
        prop(ecm, "wds.linkis.engineconn.root.dir").as_deref(),
        Some("/data/engines")
    );
    assert_eq!(
        props(ecm)
            .iter()
            .filter(|(k, _)| k == "wds.linkis.engineconn.root.dir")
            .count(),
        1
    );
}

/// YAML reads `1.50` as 1.5 and `0x10` as 16; Linkis reads the text, so overrides keep what the
/// user typed, character for character.
#[test]
fn override_values_are_kept_as_written() {
    let written = [
        ("wds.t.decimal", "1.50"),
        ("wds.t.bool", "true"),
        ("wds.t.yes", "yes"),
        ("wds.t.octal", "0777"),
        ("wds.t.hex", "0x10"),
        ("wds.t.exp", "1e3"),
        ("wds.t.word", "2h"),
    ];
    let mut tail = String::from("overrides:\n  linkis.properties:\n");
    for (k, v) in written {
        tail.push_str(&format!("    {k}: {v}\n"));
    }
    tail.push_str("    wds.t.quoted: \"1.50\"\n");
    let text = spec("1.3.2", "", "  - { name: a, address: 10.0.0.1 }", &tail);
    let files = host_files("o.yaml", &text);
    let conf = file(&files, "hosts/a/conf/linkis.properties");
    for (k, v) in written.into_iter().chain([("wds.t.quoted", "1.50")]) {
        assert_eq!(prop(conf, k).as_deref(), Some(v), "{k}");
    }
}

#[test]
fn prefer_ip_switches_follow_the_catalog() {
    let host = "  - { name: a, address: 10.0.0.1 }";
    let new = host_files("n.yaml", &spec("1.3.2", "  prefer_ip: true", host, ""));
    let y = file(&new, "hosts/a/conf/application-linkis.yml");
    assert_eq!(
        yaml_at(y, &["eureka", "instance", "prefer-ip-address"])
            .unwrap()
            .as_bool(),
        Some(true)
    );
    assert!(yaml_at(y, &["eureka", "instance", "instance-id"]).is_some());
    let e = file(&new, "hosts/a/conf/application-engineconn.yml");
    assert_eq!(
        yaml_at(e, &["eureka", "instance", "prefer-ip-address"])
            .unwrap()
            .as_bool(),
        Some(true)
    );
    let lp = file(&new, "hosts/a/conf/linkis.properties");
    assert_eq!(
        prop(lp, "linkis.discovery.prefer-ip-address").as_deref(),
        Some("true")
    );
    assert!(!file(&new, "hosts/a/conf/linkis-env.sh").contains("EUREKA_PREFER_IP"));

    let old = host_files("o.yaml", &spec("1.1.3", "  prefer_ip: true", host, ""));
    assert!(file(&old, "hosts/a/conf/linkis-env.sh").contains("export EUREKA_PREFER_IP=true"));
    let y = file(&old, "hosts/a/conf/application-linkis.yml");
    assert!(yaml_at(y, &["eureka", "instance", "prefer-ip-address"]).is_none());
}

#[test]
fn heaps_before_1_3_2_go_through_server_name() {
    let host = "  - { name: a, address: 10.0.0.1, memory: 128G }";
    let tail = "";
    let text = spec("1.3.1", "", host, tail).replace(
        "concurrent_users: 10",
        "concurrent_users: 10\n  publicservice_memory: 6G",
    );
    let files = host_files("h.yaml", &text);
    let env = file(&files, "hosts/a/conf/linkis-env.sh");
    assert!(
        env.contains("  *ps-publicservice) export SERVER_HEAP_SIZE=6G ;;"),
        "{env}"
    );
    assert!(env.contains("  *) export SERVER_HEAP_SIZE=2G ;;"));
}

#[test]
fn secrets_are_ansible_variables_and_tokens_never_defaults() {
    let cases = [
        ("guide-300-users.yaml", example("guide-300-users.yaml")),
        ("two-server-1.1.3.yaml", example("two-server-1.1.3.yaml")),
        (
            "single-node-1.8.0-nacos-redis.yaml",
            example("single-node-1.8.0-nacos-redis.yaml"),
        ),
    ];
    for (name, text) in cases {
        let files = host_files(name, &text);
        for (path, f) in &files {
            for (k, v) in props(&f.contents) {
                // The well-known tokens Linkis ships, from the catalog.
                for bad in linkis_gen::catalog::LINES
                    .iter()
                    .flat_map(|l| l.conf.tokens.iter().map(|t| t.token))
                {
                    assert_ne!(v, bad, "{path}: {k} keeps a well-known token");
                }
            }
            let jinja =
                f.contents.contains("{{") || f.contents.contains("{%") || f.contents.contains("{#");
            if jinja {
                // only `{{ vault_... }}` references, and the file is marked for the template module
                let mut rest = f.contents.as_str();
                while let Some(i) = rest.find('{') {
                    let tail = &rest[i..];
                    if tail.starts_with("{{") || tail.starts_with("{%") || tail.starts_with("{#") {
                        let end = tail.find("}}").expect("closed");
                        let inner = &tail[2..end];
                        assert!(
                            inner.starts_with(" vault_")
                                && inner.ends_with(' ')
                                && inner.trim().chars().all(|c| c.is_ascii_lowercase()
                                    || c == '_'
                                    || c.is_ascii_digit()),
                            "{path}: unexpected Jinja `{}`",
                            &tail[..end + 2]
                        );
                    }
                    rest = &tail[1..];
                }
            }
            if path.ends_with(".sh") {
                assert_eq!(f.mode, 0o755, "{path}");
            } else {
                assert_eq!(f.mode, 0o644, "{path}");
            }
        }
        for (path, f) in &files {
            if path.ends_with("/linkis.properties") {
                assert!(
                    f.contents
                        .contains("datasource.password={{ vault_linkis_db_password }}"),
                    "{path}"
                );
            }
        }
    }
}

#[test]
fn nacos_and_redis_on_1_8_0() {
    let name = "single-node-1.8.0-nacos-redis.yaml";
    let files = host_files(name, &example(name));
    assert!(!files.contains_key("hosts/linkis1/conf/application-eureka.yml"));
    let y = file(&files, "hosts/linkis1/conf/application-linkis.yml");
    assert!(yaml_at(y, &["eureka"]).is_none());
    assert_eq!(
        yaml_at(y, &["spring", "cloud", "nacos", "discovery", "server-addr"])
            .unwrap()
            .as_str(),
        Some("10.0.3.9:8848")
    );
    let e = file(&files, "hosts/linkis1/conf/application-engineconn.yml");
    assert_eq!(
        yaml_at(e, &["spring", "cloud", "nacos", "discovery", "server-addr"])
            .unwrap()
            .as_str(),
        Some("10.0.3.9:8848")
    );
    let lp = file(&files, "hosts/linkis1/conf/linkis.properties");
    assert_eq!(
        prop(lp, "linkis.discovery.server-address").as_deref(),
        Some("http://10.0.3.9:8848")
    );
    assert_eq!(
        prop(lp, "linkis.session.redis.cache.enabled").as_deref(),
        Some("true")
    );
    assert_eq!(
        prop(lp, "linkis.session.redis.host").as_deref(),
        Some("10.0.3.6")
    );
    assert_eq!(
        prop(lp, "linkis.session.redis.password").as_deref(),
        Some("{{ vault_linkis_redis_password }}")
    );
    assert_eq!(
        prop(lp, "wds.linkis.crypt.key").as_deref(),
        Some("{{ vault_linkis_crypt_key }}")
    );
    assert_eq!(
        prop(lp, "wds.linkis.gateway.access.token").as_deref(),
        Some("{{ vault_linkis_token_linkis }}")
    );
    let started = script_daemons(
        file(&files, "hosts/linkis1/sbin/linkis-start-all.sh"),
        "start",
    );
    assert_eq!(
        started,
        [
            "mg-gateway",
            "ps-publicservice",
            "cg-linkismanager",
            "cg-entrance",
            "cg-engineconnmanager"
        ]
    );
}

#[test]
fn rendering_is_deterministic() {
    let text = example("guide-300-users.yaml");
    let a = host_files("x.yaml", &text);
    let b = host_files("x.yaml", &text);
    assert_eq!(a, b);
    assert!(a.values().all(|f| f.contents.ends_with('\n')));
}

#[test]
fn snapshots_of_every_generated_file() {
    for name in [
        "guide-300-users.yaml",
        "two-server-1.1.3.yaml",
        "single-node-1.8.0-nacos-redis.yaml",
    ] {
        let files = host_files(name, &example(name));
        let plan = plan_of(name, &example(name));
        for h in &plan.hosts {
            let prefix = format!("hosts/{}/", h.name);
            let mut all = String::new();
            for (path, f) in files.iter().filter(|(p, _)| p.starts_with(&prefix)) {
                all.push_str(&format!(
                    "==> {path} (mode {:o}) <==\n{}\n",
                    f.mode, f.contents
                ));
            }
            let snap = format!("conf__{}__{}", name.trim_end_matches(".yaml"), h.name);
            insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(snap, all);
            });
        }
    }
}

#[test]
fn a_user_template_replaces_the_embedded_one_for_every_host() {
    let dir = std::env::temp_dir().join(format!("linkis-gen-conf-tpl-{}", std::process::id()));
    let sub = dir.join("hosts/_host_/sbin");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("linkis-start-all.sh.j2"),
        "#!/usr/bin/env bash\n# custom for [= host.name =]\n[% for s in start if s.daemon %]\necho [= s.daemon =]\n[% endfor %]\n",
    )
    .unwrap();
    let name = "two-server-1.1.3.yaml";
    let plan = plan_of(name, &example(name));
    let opts = linkis_gen::render::RenderOptions {
        templates: Some(dir.clone()),
        ..Default::default()
    };
    let files =
        linkis_gen::render::render(&linkis_gen::model::resolve(&plan), &opts).expect("renders");
    std::fs::remove_dir_all(&dir).unwrap();
    let get = |p: &str| &files.iter().find(|f| f.path == p).expect(p).contents;
    assert!(get("hosts/a/sbin/linkis-start-all.sh").starts_with(
        "#!/usr/bin/env bash\n# Generated by linkis-gen.\n\
                 # Do not edit: change the spec and render again.\n# custom for a\necho mg-eureka\n"
    ));
    assert!(get("hosts/b/sbin/linkis-start-all.sh").contains("echo cg-engineconnmanager"));
    assert!(get("PLAN.md").contains("hosts/_host_/sbin/linkis-start-all.sh.j2"));
    // the other templates stay the embedded ones
    assert!(get("hosts/a/sbin/linkis-stop-all.sh").contains("linkis-daemon.sh"));
}

#[test]
fn release_1_2_0_runs_ps_metadataquery_from_its_own_file() {
    let files = host_files(
        "12.yaml",
        &spec("1.2.0", "", "  - { name: a, address: 10.0.0.1 }", ""),
    );
    let mq = file(&files, "hosts/a/conf/linkis-ps-metadataquery.properties");
    assert_eq!(prop(mq, "spring.server.port").as_deref(), Some("9110"));
    assert!(!files.contains_key("hosts/a/conf/linkis-ps-metadatamanager.properties"));
    let started = script_daemons(file(&files, "hosts/a/sbin/linkis-start-all.sh"), "start");
    assert_eq!(started.last().map(String::as_str), Some("ps-metadataquery"));
    let lp = file(&files, "hosts/a/conf/linkis.properties");
    assert_eq!(
        prop(lp, "wds.linkis.server.dsm.auth.token.value").as_deref(),
        Some("{{ vault_linkis_token_dsm }}")
    );
    assert!(prop(lp, "wds.linkis.eureka.defaultZone").is_some());
}
