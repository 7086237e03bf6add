//! The fuzz target, as property tests (cargo-fuzz needs a nightly toolchain): load → validate →
//! plan → render never panics, whatever the bytes, and a refusal always carries an error.
//!
//! Three generators: arbitrary bytes; YAML-ish documents built from the spec's own keys and
//! tricky scalars (so inputs get past the YAML parser into the typed stages); and mutations of the
//! valid examples (so inputs get past validation into sizing and rendering). The case count comes
//! from PROPTEST_CASES (256 by default; .ci/output.sh runs many more for a bounded time).

use proptest::prelude::*;

use linkis_gen::diag::Severity;
use linkis_gen::load::Source;
use linkis_gen::render::{RenderOptions, render};

/// Runs the whole pipeline in memory; panics (= a proptest failure) only on a contract breach.
fn pipeline(bytes: Vec<u8>) {
    let src = Source::new("fuzz.yaml", bytes);
    match linkis_gen::plan(&src) {
        Ok(plan) => {
            assert!(
                plan.warnings
                    .iter()
                    .all(|d| d.severity == Severity::Warning),
                "an error travelled as a warning"
            );
            let opts = RenderOptions {
                templates: None,
                spec_name: "fuzz.yaml".into(),
            };
            if let Ok(files) = render(&plan, &opts) {
                for f in &files {
                    assert!(
                        f.contents.ends_with('\n'),
                        "{} has no final newline",
                        f.path
                    );
                }
            }
        }
        Err(diags) => {
            assert!(
                diags.iter().any(|d| d.severity == Severity::Error),
                "refused without an error: {diags:?}"
            );
            // Rendering the diagnostics must not panic either.
            let _ = linkis_gen::diag::render_all(&diags, &src);
        }
    }
}

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
    "hive",
    "python",
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
    "linkis.properties",
    "<<",
    "x-a",
];

const SCALARS: &[&str] = &[
    "1",
    "0",
    "-1",
    "1.3.2",
    "\"1.3.2\"",
    "1.1.3",
    "1.8.0",
    "64G",
    "512M",
    "1T",
    "0G",
    "64",
    "1e30",
    "1000000000000000000000000000000",
    "18446744073709551615",
    "~",
    "null",
    "true",
    "''",
    "\"\"",
    "eureka",
    "gateway",
    "mg-gateway",
    "engineconnmanager",
    "control",
    "ecm",
    "ip_hash",
    "redis",
    "nacos",
    "mysql",
    "postgresql",
    "s1",
    "10.0.0.1",
    "{ vault: v }",
    "[control, ecm]",
    "[eureka, gateway]",
    "{ gateway: 9001 }",
    "&a x",
    "*a",
    "!!binary AAAA",
    "\"\\u0000\"",
    "\"a\\nb\"",
    "'--> #}'",
];

/// A YAML-ish block document of spec keys and tricky scalars, nested up to a few levels.
fn yamlish() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(SCALARS).prop_map(|s| s.to_string());
    let tree = leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec((prop::sample::select(KEYS), inner.clone()), 0..8).prop_map(
                |kvs| {
                    let mut s = String::from("\n");
                    for (k, v) in kvs {
                        s.push_str(&format!("{k}: {}\n", indent(&v)));
                    }
                    s
                }
            ),
            prop::collection::vec(inner, 0..6).prop_map(|items| {
                let mut s = String::from("\n");
                for v in items {
                    s.push_str(&format!("- {}\n", indent(&v)));
                }
                s
            }),
        ]
    });
    prop::collection::vec((prop::sample::select(KEYS), tree), 1..10).prop_map(|kvs| {
        let mut s = String::new();
        for (k, v) in kvs {
            s.push_str(&format!("{k}: {}\n", indent(&v)));
        }
        s
    })
}

fn indent(v: &str) -> String {
    v.trim_end().replace('\n', "\n  ")
}

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v.into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value after the first `:` of a line with a scalar.
    Value(usize, &'static str),
    /// Replace a key with another spec key.
    Key(usize, &'static str),
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Insert `key: scalar` at an indentation.
    Insert(usize, usize, &'static str, &'static str),
    /// Flip one byte.
    Byte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), prop::sample::select(SCALARS)).prop_map(|(l, s)| Mutation::Value(l, s)),
        2 => (any::<usize>(), prop::sample::select(KEYS)).prop_map(|(l, k)| Mutation::Key(l, k)),
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        2 => (any::<usize>(), 0usize..8, prop::sample::select(KEYS), prop::sample::select(SCALARS))
            .prop_map(|(l, i, k, s)| Mutation::Insert(l, i, k, s)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
    ]
}

fn mutate(text: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut bytes_flips = Vec::new();
    for m in muts {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match m {
            Mutation::Value(l, s) => {
                let line = &mut lines[l % n];
                if let Some(i) = line.find(": ") {
                    line.truncate(i + 2);
                    line.push_str(s);
                }
            }
            Mutation::Key(l, k) => {
                let line = &mut lines[l % n];
                let start = line.len() - line.trim_start_matches([' ', '-']).len();
                if let Some(i) = line.find(':').filter(|i| *i >= start) {
                    line.replace_range(start..i, k);
                }
            }
            Mutation::DeleteLine(l) => {
                lines.remove(l % n);
            }
            Mutation::DuplicateLine(l) => {
                let line = lines[l % n].clone();
                lines.insert(l % n, line);
            }
            Mutation::Insert(l, i, k, s) => {
                lines.insert(l % (n + 1), format!("{}{k}: {s}", " ".repeat(*i)));
            }
            Mutation::Byte(i, b) => bytes_flips.push((*i, *b)),
        }
    }
    let mut bytes = (lines.join("\n") + "\n").into_bytes();
    for (i, b) in bytes_flips {
        let len = bytes.len();
        bytes[i % len] = b;
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        pipeline(bytes);
    }

    #[test]
    fn yamlish_documents_never_panic(doc in yamlish()) {
        pipeline(doc.into_bytes());
    }

    #[test]
    fn mutated_examples_never_panic(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let examples = examples();
        let text = &examples[which.index(examples.len())];
        pipeline(mutate(text, &muts));
    }
}

#[test]
fn mutations_reach_the_later_stages() {
    // The mutation generator is only useful if some mutated specs still plan (and so render):
    // a value swapped for one that parses keeps the spec valid.
    let examples = examples();
    let text = examples
        .iter()
        .find(|t| t.contains("concurrent_users: 100\n"))
        .expect("an example with 100 users");
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("concurrent_users:"))
        .unwrap();
    let bytes = mutate(text, &[Mutation::Value(line, "1")]);
    let plan = linkis_gen::plan(&Source::new("m.yaml", bytes)).expect("still valid");
    assert_eq!(plan.spec.sizing.concurrent_users, 1);
}
