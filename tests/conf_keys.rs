//! Every properties key linkis-gen writes for a release is one that release of Linkis reads: it is
//! in the release's shipped conf files (src/catalog/stock, from the apache/linkis tags) or its
//! source reads it (src/catalog/keys.txt, with the file, from tools/verify-keys.sh).

mod conf_common;

use conf_common::*;
use linkis_gen::catalog::Release;

/// Spec variants that switch on every optional key the release supports.
fn variants(r: &Release) -> Vec<String> {
    let f = r.features();
    let hosts = "  - { name: a, address: 10.0.0.1 }\n  - { name: b, address: 10.0.0.2 }\n  - { name: c, address: 10.0.0.3 }";
    let mut out = vec![
        spec(r.version, "", hosts, ""),
        spec(r.version, "  prefer_ip: true", hosts, ""),
    ];
    if f.redis_sessions {
        out.push(spec(
            r.version,
            "",
            hosts,
            "gateway:\n  sessions: redis\n  redis: { host: 10.0.0.6, password: { vault: vault_redis } }",
        ));
    }
    if f.nacos {
        out.push(spec(
            r.version,
            "  discovery: nacos\n  nacos_address: 10.0.0.9:8848",
            hosts,
            "",
        ));
    }
    if f.postgresql {
        out.push(
            spec(r.version, "", hosts, "")
                .replace("database:\n", "database:\n  type: postgresql\n"),
        );
    }
    out
}

#[test]
fn every_written_key_is_read_by_its_release() {
    let mut checked = 0;
    for r in Release::all() {
        for (i, text) in variants(&r).iter().enumerate() {
            let files = host_files(&format!("{}-{i}.yaml", r.version), text);
            for (path, f) in &files {
                if !path.ends_with(".properties") {
                    continue;
                }
                for (key, _) in props(&f.contents) {
                    assert!(
                        r.reads_key(&key),
                        "Linkis {} does not read `{key}` (written to {path}); check the catalog and tools/verify-keys.sh",
                        r.version
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "checked {checked} keys");
}

#[test]
fn the_key_check_catches_a_key_of_another_release() {
    let old = Release::find("1.1.3").unwrap();
    let new = Release::find("1.3.2").unwrap();
    assert!(old.reads_key("wds.linkis.eureka.defaultZone"));
    assert!(!new.reads_key("wds.linkis.eureka.defaultZone"));
    assert!(new.reads_key("linkis.discovery.server-address"));
    assert!(!old.reads_key("linkis.discovery.server-address"));
    assert!(!old.reads_key("linkis.session.redis.host"));
    assert!(new.reads_key("wds.linkis.ecm.memory.max"));
}

#[test]
fn token_keys_come_from_the_catalog_per_release() {
    for r in Release::all() {
        for t in r.line.conf.tokens {
            assert!(r.reads_key(t.key), "{} {}", r.version, t.key);
        }
        // 1.3.2+ ship the token keys in linkis.properties with their placeholders: the catalog
        // lists exactly those.
        let shipped: Vec<(&str, &str)> = r
            .stock("linkis.properties")
            .into_iter()
            .filter(|(_, v)| {
                [
                    "BML-AUTH",
                    "WS-AUTH",
                    "DSM-AUTH",
                    "LINKIS_CLI_TEST",
                    "LINKIS-AUTH",
                    "LINKIS-UNAVAILABLE-TOKEN",
                ]
                .contains(v)
            })
            .collect();
        if !shipped.is_empty() {
            let listed: Vec<(&str, &str)> = r
                .line
                .conf
                .tokens
                .iter()
                .map(|t| (t.key, t.token))
                .collect();
            assert_eq!(listed, shipped, "{}", r.version);
        }
    }
}
