//! Fuzzing load → validate → size with proptest (cargo-fuzz needs a nightly toolchain, which this
//! project's machines do not have). Three generators: arbitrary bytes, YAML assembled from the
//! spec's own keys and odd values, and real examples with bytes mutated. The property: the pipeline
//! returns Ok or located diagnostics, and never panics. Case count: PROPTEST_CASES (default 256;
//! .ci/output.sh runs many more, bounded in time).

use linkis_gen::load::Source;
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "version",
    "cluster",
    "name",
    "linkis_version",
    "install_dir",
    "deploy_user",
    "package",
    "discovery",
    "nacos_address",
    "prefer_ip",
    "database",
    "type",
    "host",
    "port",
    "user",
    "password",
    "vault",
    "gateway",
    "sessions",
    "redis",
    "web",
    "listen",
    "server_name",
    "sizing",
    "concurrent_users",
    "max_concurrency_per_user",
    "engines",
    "spark",
    "memory",
    "cores",
    "service_memory",
    "publicservice_memory",
    "reserve_memory",
    "host_defaults",
    "ssh_port",
    "hosts",
    "address",
    "roles",
    "services",
    "ports",
    "overrides",
    "<<",
    "x-a",
    "linkis.properties",
];
const VALUES: &[&str] = &[
    "1",
    "0",
    "-1",
    "1.3.2",
    "\"1.3.2\"",
    "\"1.1.3\"",
    "\"1.8.0\"",
    "64G",
    "64",
    "1e30",
    "~",
    "null",
    "true",
    "[]",
    "{}",
    "[control]",
    "[ecm]",
    "[eureka, gateway]",
    "{ vault: v }",
    "nacos",
    "redis",
    "postgresql",
    "auto",
    "&a x",
    "*a",
    "!!binary aGk=",
    "\"\\u0000\"",
    "''",
    "10.0.0.1",
    "s1",
    "18446744073709551616",
    "-9223372036854775809",
    ".inf",
    "0x10",
    "0o17",
];

fn yamlish() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(VALUES).prop_map(str::to_string);
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec((prop::sample::select(KEYS), inner.clone()), 0..6).prop_map(
                |kv| {
                    let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{ {} }}", body.join(", "))
                }
            ),
            prop::collection::vec(inner, 0..6).prop_map(|v| format!("[{}]", v.join(", "))),
        ]
    })
}

fn top_level() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS), yamlish()), 0..10)
        .prop_map(|kv| kv.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
}

fn example_bytes() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    v.sort();
    v
}

fn never_panics(bytes: Vec<u8>) {
    let src = Source::new("fuzz.yaml", bytes);
    match linkis_gen::plan(&src) {
        Ok(plan) => {
            // A spec that plans renders too.
            let opts = linkis_gen::render::RenderOptions::default();
            linkis_gen::render::render(&linkis_gen::model::resolve(&plan), &opts)
                .expect("a planned spec renders");
        }
        Err(diags) => {
            assert!(
                diags.iter().any(|d| d.is_error()),
                "failure without an error"
            );
            for d in &diags {
                let text = d.render(&src);
                assert!(text.contains("fuzz.yaml"), "{text}");
            }
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(bytes);
    }

    #[test]
    fn yaml_from_spec_keys(text in top_level()) {
        never_panics(text.into_bytes());
    }

    #[test]
    fn mutated_examples(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let all = example_bytes();
        let mut bytes = all[which.index(all.len())].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        never_panics(bytes);
    }
}
