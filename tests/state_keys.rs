//! state.json's per-key digests of the conf files and systemd units come from the model's key
//! tables (src/render/state.rs `table_state`), the nginx front's from the model's gateways, never
//! from reading the rendered text back. These tests read the text back, as state.json did before
//! the tables held every key, and check that it says the same keys with the same values in every
//! conf file and unit of every example and test spec.

use std::collections::BTreeMap;

use linkis_gen::load::Source;
use linkis_gen::render::Templates;
use linkis_gen::render::apply::Units;
use linkis_gen::render::conf::PerHost;
use linkis_gen::render::state::{Digests, table_state};
use linkis_gen::state::sha256_short;

/// Key → value the text says, in file order (a repeated key's values joined by a newline): a
/// `.properties` line's text after its first `=`, trimmed; a YAML value as serde_norway reads the
/// whole file and writes the scalar back; a shell assignment's text after its `=`.
fn text_keys(path: &str, text: &str) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |k: String, v: &str| {
        m.entry(k)
            .and_modify(|o| {
                o.push('\n');
                o.push_str(v);
            })
            .or_insert_with(|| v.to_string());
    };
    if path.ends_with(".properties") {
        for l in text.lines() {
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') || t.starts_with('!') {
                continue;
            }
            let (k, v) = t.split_once('=').unwrap_or((t, ""));
            add(k.trim().to_string(), v.trim());
        }
    } else if path.ends_with(".yml") {
        let v: serde_norway::Value = serde_norway::from_str(text).expect("a conf YAML file parses");
        flatten_yaml("", &v, &mut add);
    } else if path.ends_with(".sh") {
        for l in text.lines() {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t);
            if let Some((k, v)) = t.split_once('=')
                && !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                add(k.to_string(), v);
            }
        }
    } else if path.ends_with(".service") {
        let mut section = "";
        for l in text.lines() {
            let t = l.trim();
            if t.starts_with('[') && t.ends_with(']') {
                section = t;
            } else if !t.starts_with('#')
                && let Some((k, v)) = t.split_once('=')
            {
                add(format!("{section} {k}"), v);
            }
        }
    } else if path.ends_with(".xml") {
        xml_values(text, &mut add);
    } else {
        panic!("{path}: not a format with keys");
    }
    m
}

/// The values of a log4j2.xml by the names the key table gives them: `property[NAME]` (the
/// element's text), `logger[NAME]@level`, `Element@attribute` (every attribute but a `name`).
fn xml_values(text: &str, add: &mut impl FnMut(String, &str)) {
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with(['?', '!', '/']) {
            continue;
        }
        let end = rest.find('>').unwrap();
        let tag = rest[..end].trim_end_matches('/');
        let (element, mut attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        while let Some((name, after)) = attrs.split_once("=\"") {
            let (value, more) = after.split_once('"').unwrap();
            pairs.push((name.trim(), value));
            attrs = more;
        }
        let named = pairs.iter().find(|(n, _)| *n == "name").map(|(_, v)| *v);
        match (element, named) {
            ("property", Some(n)) => {
                let body = &rest[end + 1..];
                add(format!("property[{n}]"), &body[..body.find('<').unwrap()]);
            }
            (e, Some(n)) => {
                for (a, v) in pairs.iter().filter(|(a, _)| *a != "name") {
                    add(format!("{e}[{n}]@{a}"), v);
                }
            }
            (e, None) => {
                for (a, v) in &pairs {
                    add(format!("{e}@{a}"), v);
                }
            }
        }
        rest = &rest[end..];
    }
}

fn flatten_yaml(prefix: &str, v: &serde_norway::Value, add: &mut impl FnMut(String, &str)) {
    use serde_norway::Value as Y;
    match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s.clone(),
                    other => serde_norway::to_string(other).unwrap().trim().to_string(),
                };
                let path = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_yaml(&path, v, add);
            }
        }
        other => add(
            prefix.to_string(),
            serde_norway::to_string(other).unwrap().trim(),
        ),
    }
}

fn specs() -> Vec<String> {
    let mut specs: Vec<String> = ["examples", "tests/specs"]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    specs.sort();
    specs
}

/// The text says the table's keys with the table's values, but for the variables of a `case`
/// arm (`NAME[PATTERN]`), which only the table names (a line scanner took `PATTERN) NAME` for
/// no variable at all).
#[test]
fn the_tables_keys_are_the_keys_the_text_says() {
    let templates = Templates::load(None).unwrap();
    let (mut files, mut keys, mut arms, mut unit_files) = (0, 0, 0, 0);
    for spec in specs() {
        let src = Source::new(&spec, std::fs::read(&spec).unwrap());
        let model = linkis_gen::model(&src).unwrap_or_else(|d| panic!("{spec}: {d:?}"));
        let per_host = PerHost::new(&model, &templates);
        let units = Units::new(&model, &templates, per_host.whole());
        for h in &model.hosts {
            let (mut out, mut tables) = per_host.render(h).unwrap();
            out.extend(units.render(h, &mut tables).unwrap());
            for f in out {
                let Some(table) = tables.remove(&f.path) else {
                    continue;
                };
                let from_table = table_state(&table, &f.contents, &mut Digests::default());
                assert_eq!(
                    from_table.sha256,
                    linkis_gen::state::sha256(f.contents.as_bytes())
                );
                let mut table_keys = from_table.keys.clone();
                table_keys.retain(|k, _| {
                    let arm = f.path.ends_with(".sh") && k.contains('[');
                    arms += usize::from(arm);
                    !arm
                });
                let said: BTreeMap<String, String> = text_keys(&f.path, &f.contents)
                    .into_iter()
                    .map(|(k, v)| (k, sha256_short(v.as_bytes())))
                    .collect();
                assert_eq!(table_keys, said, "{spec}: {}", f.path);
                keys += said.len();
                files += 1;
                unit_files += usize::from(f.path.ends_with(".service"));
            }
            assert!(tables.is_empty(), "{spec}: tables of no file: {tables:?}");
        }
    }
    assert!(files > 600 && keys > 9_000, "{files} files, {keys} keys");
    assert!(unit_files > 100, "{unit_files} units");
    assert!(arms > 10, "{arms} case-arm keys");
}

/// The nginx front's keys are the model's gateways, and they are the upstream servers its text
/// lists.
#[test]
fn the_fronts_upstream_keys_are_the_servers_its_text_lists() {
    let mut fronts = 0;
    for spec in specs() {
        let src = Source::new(&spec, std::fs::read(&spec).unwrap());
        let model = linkis_gen::model(&src).unwrap_or_else(|d| panic!("{spec}: {d:?}"));
        let files = linkis_gen::render::render(&model, &Default::default()).unwrap();
        let text = |p: &str| &files.iter().find(|f| f.path == p).unwrap().contents;
        let state = linkis_gen::state::State::from_json(text(".linkis-gen/state.json")).unwrap();
        let said: Vec<String> = text("nginx/linkis.conf")
            .lines()
            .filter_map(|l| l.trim().strip_prefix("server "))
            .filter_map(|r| r.split_whitespace().next())
            .filter(|a| a.contains(':'))
            .map(|a| format!("upstream {}", a.trim_end_matches(';')))
            .collect();
        let keys: Vec<&String> = state.nginx.keys.keys().collect();
        let mut said_sorted: Vec<&String> = said.iter().collect();
        said_sorted.sort();
        assert_eq!(keys, said_sorted, "{spec}");
        assert_eq!(keys.len(), model.gateway.endpoints.len(), "{spec}");
        fronts += 1;
    }
    assert!(fronts >= 10);
}
