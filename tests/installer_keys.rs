//! Key for key with Linkis' own installer: for 1.1.3, 1.3.2 and 1.8.0, single node and four hosts,
//! a spec that sets the second-edition sections to the installer's inputs renders, on every host
//! that has the file, every conf/ key `bin/install.sh` writes with the installer's value (secrets
//! excepted: those are vault references). The facts are tests/fixtures/installer/*.keys,
//! derived from each release's install.sh and deploy-config/linkis-env.sh.

mod conf_common;

use std::collections::BTreeMap;

use conf_common::*;
use linkis_gen::render::OutFile;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/installer");

struct Fact {
    line: usize,
    file: String,
    key: String,
    value: String,
}

fn facts(name: &str) -> Vec<Fact> {
    let path = format!("{DIR}/{name}.keys");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let mut parts = l.splitn(3, ' ');
            let (file, key) = (parts.next().unwrap(), parts.next().expect("a key"));
            Fact {
                line: i + 1,
                file: file.to_string(),
                key: key.to_string(),
                value: parts.next().unwrap_or_default().to_string(),
            }
        })
        .collect()
}

/// The value a rendered file gives a key, in that file's own format.
fn value_in(file: &str, text: &str, key: &str) -> Option<String> {
    if file.ends_with(".properties") {
        return prop(text, key);
    }
    if file.ends_with(".yml") {
        let path: Vec<&str> = key.split('.').collect();
        return yaml_at(text, &path).map(|v| match v {
            serde_norway::Value::String(s) => s,
            serde_norway::Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        });
    }
    // linkis-env.sh: `export NAME=value` or `NAME=value`, the value one shell word.
    text.lines().find_map(|l| {
        let l = l.trim_start();
        let l = l.strip_prefix("export ").unwrap_or(l);
        let v = l.strip_prefix(key)?.strip_prefix('=')?;
        Some(v.trim_matches('\'').trim_matches('"').to_string())
    })
}

fn is_vault_ref(v: &str) -> bool {
    v.strip_prefix("{{ vault_")
        .and_then(|r| r.strip_suffix(" }}"))
        .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The one known difference with PROMETHEUS_ENABLE=true: the installer rewrites the actuator
/// exposure to `refresh,info,health,metrics,prometheus`; linkis-gen exposes only what something
/// calls (src/catalog.rs, ACTUATOR_EXPOSED): `health` and `prometheus`. Allowed for this key only,
/// and only as exactly that narrower list, each entry one the installer exposes too.
const NARROWED_EXPOSURE: (&str, &[&str]) = (
    "management.endpoints.web.exposure.include",
    &["health", "prometheus"],
);

fn allowed_difference(key: &str, want: &str, got: &str) -> bool {
    let (k, narrowed) = NARROWED_EXPOSURE;
    let got: Vec<&str> = got.split(',').collect();
    key == k
        && got == narrowed
        && want == linkis_gen::catalog::INSTALLER_PROMETHEUS_EXPOSURE
        && got.iter().all(|g| want.split(',').any(|w| w == *g))
}

/// Checks every fact on every host that has the fact's file; returns the number of facts and of
/// checks made.
fn check(release: &str, layout: &str) -> (usize, usize) {
    check_with(release, layout, &[], "")
}

/// `check` with more facts files (`{DIR}/<name>.keys`) and text appended to the spec.
fn check_with(release: &str, layout: &str, more: &[&str], spec_tail: &str) -> (usize, usize) {
    let input = std::fs::read_to_string(format!("{DIR}/inputs-{layout}.yaml")).unwrap();
    let spec = input.replace("@VERSION@", release) + spec_tail;
    let files: BTreeMap<String, OutFile> = host_files(&format!("{release}-{layout}.yaml"), &spec);
    let hosts: Vec<String> = files
        .keys()
        .filter_map(|p| {
            p.strip_prefix("hosts/")?
                .split('/')
                .next()
                .map(String::from)
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut all = facts(&format!("{release}-{layout}"));
    for m in more {
        all.extend(facts(m));
    }
    let count = all.len();
    for f in all {
        let mut seen = 0;
        for h in &hosts {
            let Some(out) = files.get(&format!("hosts/{h}/conf/{}", f.file)) else {
                continue;
            };
            seen += 1;
            checked += 1;
            let got = value_in(&f.file, &out.contents, &f.key);
            let ok = match (&got, f.value.as_str()) {
                (Some(v), "<vault>") => is_vault_ref(v),
                (Some(v), want) => v == want || allowed_difference(&f.key, want, v),
                (None, _) => false,
            };
            if !ok {
                failures.push(format!(
                    "{release}-{layout}.keys:{}: {h} conf/{} {}: want `{}`, rendered {:?}",
                    f.line, f.file, f.key, f.value, got
                ));
            }
        }
        if seen == 0 {
            failures.push(format!(
                "{release}-{layout}.keys:{}: no host has conf/{}",
                f.line, f.file
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (count, checked)
}

/// One host: every fact checked once.
fn single(release: &str) {
    let (facts, checked) = check(release, "single");
    assert!(facts >= 50, "{facts} facts");
    assert_eq!(checked, facts);
}

/// Four hosts: linkis.properties, linkis-env.sh and the yml files are checked on every host.
fn four(release: &str) {
    let (facts, checked) = check(release, "four");
    assert!(checked > facts + 60, "{checked} checks of {facts} facts");
}

#[test]
fn release_1_1_3_single_node() {
    single("1.1.3");
}

#[test]
fn release_1_1_3_four_hosts() {
    four("1.1.3");
}

#[test]
fn release_1_3_2_single_node() {
    single("1.3.2");
}

#[test]
fn release_1_3_2_four_hosts() {
    four("1.3.2");
}

#[test]
fn release_1_8_0_single_node() {
    single("1.8.0");
}

#[test]
fn release_1_8_0_four_hosts() {
    four("1.8.0");
}

/// PROMETHEUS_ENABLE=true against `monitoring.prometheus: true`: every fact of the single-node
/// installer still holds, and the keys the installer's Prometheus block writes too.
fn prometheus(release: &str) {
    let name = format!("{release}-prometheus");
    let (facts, checked) = check_with(
        release,
        "single",
        &[&name],
        "monitoring:\n  prometheus: true\n",
    );
    assert_eq!(checked, facts);
    assert!(facts >= 53, "{facts} facts");
}

#[test]
fn release_1_1_3_prometheus() {
    prometheus("1.1.3");
}

#[test]
fn release_1_3_2_prometheus() {
    prometheus("1.3.2");
}

#[test]
fn release_1_8_0_prometheus() {
    prometheus("1.8.0");
}

#[test]
fn only_the_named_exposure_difference_is_allowed() {
    let key = "management.endpoints.web.exposure.include";
    let want = "refresh,info,health,metrics,prometheus";
    assert!(allowed_difference(key, want, "health,prometheus"));
    assert!(!allowed_difference(key, want, "health"));
    assert!(!allowed_difference(key, want, "health,prometheus,env"));
    assert!(!allowed_difference(
        key,
        "refresh,info,health,metrics",
        "health,prometheus"
    ));
    assert!(!allowed_difference(
        "wds.linkis.prometheus.enable",
        "true",
        "health,prometheus"
    ));
}

#[test]
fn the_check_fails_on_a_wrong_value() {
    let input = std::fs::read_to_string(format!("{DIR}/inputs-single.yaml")).unwrap();
    let spec = input.replace("@VERSION@", "1.3.2");
    let files = host_files("x.yaml", &spec);
    let props = &files["hosts/node1/conf/linkis.properties"].contents;
    assert_eq!(
        value_in("linkis.properties", props, "hadoop.config.dir").as_deref(),
        Some("/etc/hadoop/conf")
    );
    assert_ne!(
        value_in("linkis.properties", props, "hadoop.config.dir").as_deref(),
        Some("/appcom/config/hadoop-config")
    );
    assert!(!is_vault_ref("hunter2"));
    assert!(is_vault_ref("{{ vault_linkis_admin_password }}"));
    let env = &files["hosts/node1/conf/linkis-env.sh"].contents;
    assert_eq!(
        value_in("linkis-env.sh", env, "SPARK_HOME").as_deref(),
        Some("/opt/spark")
    );
}

#[test]
fn the_prometheus_facts_fail_without_monitoring() {
    let off = std::panic::catch_unwind(|| check_with("1.3.2", "single", &["1.3.2-prometheus"], ""));
    assert!(
        off.is_err(),
        "monitoring off must not pass the PROMETHEUS_ENABLE facts"
    );
}
