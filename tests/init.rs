//! `linkis-gen init`: the starter specs validate, carry their users with the guide's host counts,
//! and mark every placeholder.

use std::process::Command;

use linkis_gen::init::{InitOptions, parse_engines, starter_spec};
use linkis_gen::load::Source;
use linkis_gen::spec::{GIB, Size};

/// The plan of a starter spec once its placeholders are set (their markers dropped: an untouched
/// one is an error, see placeholders_are_marked_and_no_secret_is_written).
fn plan(text: &str) -> linkis_gen::size::Plan {
    let text = text.replace("PLACEHOLDER", "set");
    linkis_gen::plan(&Source::new("init.yaml", text.as_bytes().to_vec()))
        .unwrap_or_else(|d| panic!("{d:#?}\n{text}"))
}

#[test]
fn the_guides_user_counts_get_the_guides_ecm_host_counts() {
    for (users, ecm) in [(50, 2), (100, 4), (300, 10), (500, 17), (800, 26)] {
        let text = starter_spec(&InitOptions {
            users,
            ..InitOptions::default()
        })
        .unwrap();
        let p = plan(&text);
        assert_eq!(p.ecm_hosts().count(), ecm, "{users} users");
        assert_eq!(p.hosts.len(), ecm + 2, "{users} users");
        assert!(p.capacity_memory >= p.demand.memory);
        assert_eq!(p.demand.memory, users * 2 * GIB);
        // The smallest: one ECM host fewer does not carry the users.
        assert!(
            p.capacity_memory - 62 * GIB < p.demand.memory,
            "{users} users"
        );
        // The last two are the control pair.
        assert!(p.hosts[ecm].is_control() && p.hosts[ecm + 1].is_control());
        assert!(p.warnings.iter().all(|w| w.check != "no-ha"));
    }
}

#[test]
fn placeholders_are_marked_and_no_secret_is_written() {
    let text = starter_spec(&InitOptions {
        users: 100,
        ..InitOptions::default()
    })
    .unwrap();
    for line in text.lines().filter(|l| l.contains("address:")) {
        assert!(
            line.contains("# ") && line.contains("PLACEHOLDER: set the real address"),
            "{line}"
        );
    }
    assert!(
        text.contains("host: 10.0.255.1")
            && text
                .lines()
                .any(|l| l.contains("host: 10.0.255.1") && l.contains("PLACEHOLDER"))
    );
    assert!(text.lines().any(|l| l.contains("{ vault: vault_linkis_db_password }") && l.contains("PLACEHOLDER")));
    assert!(text.starts_with("# linkis-gen starter spec: 100 concurrent users"));
    // It is YAML a YAML parser reads, not just text linkis-gen happens to accept.
    let v: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(v["sizing"]["concurrent_users"].as_u64(), Some(100));
    assert_eq!(v["hosts"].as_sequence().unwrap().len(), 6);
    // Left as init wrote it, it is an error naming each placeholder address, in line order.
    let errors = linkis_gen::plan(&Source::new("init.yaml", text.as_bytes().to_vec()))
        .expect_err("placeholders left");
    let named: Vec<&str> = errors
        .iter()
        .filter(|d| d.check == "placeholder" && d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(named.len(), 7, "{errors:#?}");
    assert!(named[0].contains("database host `10.0.255.1`"), "{named:?}");
    for i in 1..=6 {
        assert!(
            named
                .iter()
                .any(|m| m.contains(&format!("host s{i}: the address `10.0.0.{i}`"))),
            "{named:?}"
        );
    }
}

#[test]
fn few_users_get_one_or_two_hosts() {
    let one = starter_spec(&InitOptions {
        users: 10,
        ..InitOptions::default()
    })
    .unwrap();
    let p = plan(&one);
    assert_eq!(p.hosts.len(), 1);
    assert!(p.hosts[0].is_control() && p.ecm_hosts().count() == 1);
    assert!(one.contains("no HA"));
}

#[test]
fn engines_memory_and_version_options_are_used() {
    let text = starter_spec(&InitOptions {
        users: 50,
        host_memory: Size(128 * GIB),
        engines: parse_engines("spark:2G:2,hive:1G").unwrap(),
        concurrency: 1,
        version: "1.1.3".into(),
    })
    .unwrap();
    let p = plan(&text);
    assert_eq!(p.release.version, "1.1.3");
    assert_eq!(p.demand.memory, 150 * GIB);
    assert_eq!(p.demand.cores, 150);
    // 150G over 126G per ECM host: 2 ECM hosts + the control pair.
    assert_eq!(p.hosts.len(), 4);
    assert!(p.hosts.iter().all(|h| h.memory == 128 * GIB));
}

#[test]
fn bad_engine_lists_are_refused() {
    for bad in [
        "",
        "spark",
        "Spark:1G",
        "spark:1G,spark:2G",
        "spark:64",
        "spark:1G:x",
        "a:b:c:d",
    ] {
        assert!(parse_engines(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_engines("spark:1G").unwrap()[0].cores, 1);
}

#[test]
fn hosts_too_small_for_the_control_services_are_an_error_not_a_spec() {
    let e = starter_spec(&InitOptions {
        users: 50,
        host_memory: Size(16 * GIB),
        ..InitOptions::default()
    })
    .unwrap_err();
    assert!(e.contains("16G") && e.contains("control heaps"), "{e}");
    let e = starter_spec(&InitOptions {
        users: 100_000,
        concurrency: 1000,
        ..InitOptions::default()
    })
    .unwrap_err();
    assert!(e.contains("more than the 10000 hosts"), "{e}");
}

#[test]
fn the_cli_prints_a_spec_that_validates() {
    let bin = env!("CARGO_BIN_EXE_linkis-gen");
    let out = Command::new(bin)
        .args(["init", "--users", "300", "--version", "1.3.2"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = plan(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(p.hosts.len(), 12);
    let bad = Command::new(bin)
        .args(["init", "--users", "5", "--host-memory", "64"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bare number"));
    let unsupported = Command::new(bin)
        .args(["init", "--users", "5", "--version", "9.9.9"])
        .output()
        .unwrap();
    // An unsupported --version is a bad option value: a usage error (README: exit 2).
    assert_eq!(unsupported.status.code(), Some(2));
    assert!(unsupported.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unsupported.stderr).contains("not supported"));
}

/// The starter spec shows the second edition's sections (platform, storage, auth, the day-1 keys
/// of cluster and database), set to install.sh's defaults, and they reach the plan: a new operator
/// sees them without reading docs/spec.md, and the storage does not trip the split-storage rule.
#[test]
fn the_starter_spec_shows_the_platform_storage_and_auth_sections() {
    for version in ["1.1.3", "1.3.2", "1.8.0"] {
        let text = starter_spec(&InitOptions {
            users: 50,
            version: version.to_string(),
            ..InitOptions::default()
        })
        .unwrap();
        for line in [
            "\nhadoop:",
            "\n  yarn_url: http://127.0.0.1:8088 # PLACEHOLDER",
            "\nhive:",
            "\nspark:",
            "\nstorage:",
            "\n  result_sets: hdfs:///tmp/linkis",
            "\nauth:",
            "\n  admin_password: { vault: vault_linkis_admin_password }",
            "\n  bootstrap: auto",
            "\n  # driver_jar: ",
            "\n  # gateway_url: ",
            "\n  # java_home: ",
        ] {
            assert!(text.contains(line), "{version}: no {line:?}\n{text}");
        }
        let p = plan(&text);
        assert_eq!(p.spec.hadoop.conf_dir, "/appcom/config/hadoop-config");
        assert_eq!(p.spec.storage.result_sets, "hdfs:///tmp/linkis");
        let diags = p.warnings;
        assert!(
            !diags.iter().any(|d| d.check == "local-storage-split"),
            "{version}: {diags:?}"
        );
    }
}
