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

/// The diagnostic's `--> fuzz.yaml:LINE:COL` names a line of the input and a column on it (at
/// most one past its end), or says it has no position.
fn assert_in_file(shown: &str, lines: &[&str]) {
    let arrow = shown
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .unwrap_or_else(|| panic!("no location line\n{shown}"));
    if arrow == "fuzz.yaml (no position: this concerns the whole file)" {
        return;
    }
    let (l, c) = arrow
        .strip_prefix("fuzz.yaml:")
        .and_then(|lc| lc.split_once(':'))
        .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
        .unwrap_or_else(|| panic!("not FILE:LINE:COL\n{shown}"));
    assert!(
        l >= 1 && l <= lines.len(),
        "line {l} of {}\n{shown}",
        lines.len()
    );
    let width = lines[l - 1].chars().count();
    assert!(
        c >= 1 && c <= width + 1,
        "column {c} on a line of {width}\n{shown}"
    );
}

/// The first diagnostic points at exactly (line, col).
fn first_at(bytes: Vec<u8>, line: usize, col: usize) {
    let src = Source::new("fuzz.yaml", bytes);
    let diags = linkis_gen::plan(&src).expect_err("a planted mistake is found");
    let shown = diags[0].render(&src);
    assert!(
        shown.contains(&format!("--> fuzz.yaml:{line}:{col}\n")),
        "expected {line}:{col}\n{shown}"
    );
}

fn never_panics(bytes: Vec<u8>) {
    let src = Source::new("fuzz.yaml", bytes.clone());
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
            // YAML breaks lines at LF, CRLF and a lone CR.
            let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
            let lines: Vec<&str> = text.split(['\n', '\r']).collect();
            for d in &diags {
                let shown = d.render(&src);
                assert_in_file(&shown, &lines);
            }
        }
    }
}

/// Found by `arbitrary_bytes` in CI: a lone tag with no line break made the scanner report the
/// document on line 2 of a one-line file. It is located just after the tag.
#[test]
fn a_lone_tag_is_located_inside_the_text() {
    never_panics(b"!".to_vec());
    first_at(b"!".to_vec(), 1, 2);
    never_panics(b"!x".to_vec());
    // A flow collection left open at the end of the input: the scanner reports line 2 of a
    // one-line file (CI's fuzz found `{ `).
    for open in [&b"{ "[..], b"[ ", b"{", b"a: [", b"a: {b: ", b"a:\n  - [x,"] {
        never_panics(open.to_vec());
    }
    first_at(b"{ ".to_vec(), 1, 3);
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

    /// A control character planted anywhere in a real example is reported at its own line and
    /// column (counted here, not by the loader).
    #[test]
    fn planted_control_character_is_located(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        c in prop::sample::select(vec![0u8, 1, 7, 8, 0x0b, 0x0c, 0x1b, 0x7f]),
    ) {
        let all = example_bytes();
        let mut bytes = all[which.index(all.len())].clone();
        // At a character boundary: inside a UTF-8 sequence it would be a not-utf8 error instead.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let mut i = at.index(bytes.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        bytes.insert(i, c);
        let before = &bytes[..i];
        let line = 1 + before.iter().filter(|b| **b == b'\n').count();
        let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |j| j + 1);
        let col = 1 + String::from_utf8_lossy(&before[start..]).chars().count();
        first_at(bytes, line, col);
    }

    /// A line of a real example that sets a scalar key, repeated right after itself, is reported
    /// as a duplicate key at the copy's key.
    #[test]
    fn planted_duplicate_key_is_located(
        which in any::<prop::sample::Index>(),
        pick in any::<prop::sample::Index>(),
    ) {
        let all = example_bytes();
        let text = String::from_utf8(all[which.index(all.len())].clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // `  key: value` lines of block mappings (not list items, not comments).
        let candidates: Vec<usize> = (0..lines.len())
            .filter(|&i| {
                let t = lines[i].trim_start();
                !t.starts_with('-') && !t.starts_with('#') && !t.starts_with('{')
                    && t.split_once(": ").is_some_and(|(k, v)| {
                        !k.is_empty()
                            && k.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                            && !v.trim().is_empty()
                            && !v.trim().starts_with('#')
                    })
            })
            .collect();
        prop_assume!(!candidates.is_empty());
        let i = candidates[pick.index(candidates.len())];
        let mut out: Vec<&str> = lines.clone();
        out.insert(i + 1, lines[i]);
        let indent = lines[i].len() - lines[i].trim_start().len();
        first_at(format!("{}\n", out.join("\n")).into_bytes(), i + 2, indent + 1);
    }
}
