//! The key table (src/model/keys.rs) and `linkis-gen explain`: every rendered `.properties` key of
//! every example is in the table with its value and an origin, and explain answers for each origin
//! kind, in text and JSON, with located spec lines; a key, file or host that is not there is an
//! error with a hint (exit 1), never a panic.

use std::path::Path;
use std::process::{Command, Output};

use linkis_gen::load::Source;
use linkis_gen::model::keys::{self, Origin};
use linkis_gen::render::{self, RenderOptions};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run linkis-gen")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The `key=value` lines of a properties text, as (key text, value text), in order.
fn props(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('!')
        })
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect()
}

/// How a walk compares a conf file's rendered keys with the model's key table.
struct Walk {
    /// Values written with an escape (`\\`) are not the table's text: skip their comparison.
    escaped_values_differ: bool,
    /// Spec and override paths must be non-empty, and an override's path in the spec.
    paths_in_spec: bool,
}

/// Every example rendered: for each `hosts/<host>/conf/<file>` whose (key, value) pairs `read`
/// gives, the rendered keys are the table's keys in its order, with its values, and each origin
/// is located (a spec path in the spec, a release that is the cluster's and this file). Returns
/// the origin kinds seen and the number of keys walked.
fn walk_examples(
    walk: Walk,
    mut read: impl FnMut(&str, &str) -> Option<Vec<(String, String)>>,
) -> (std::collections::BTreeSet<&'static str>, usize) {
    let mut kinds = std::collections::BTreeSet::new();
    let mut keys_seen = 0;
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let src = Source::new(path.clone(), text.into_bytes());
        let model = linkis_gen::model(&src).unwrap_or_else(|d| panic!("{path}: {d:?}"));
        let files = render::render(&model, &RenderOptions::default()).expect("renders");
        for f in &files {
            let Some((host, file)) = f
                .path
                .strip_prefix("hosts/")
                .and_then(|r| r.split_once("/conf/"))
            else {
                continue;
            };
            let Some(rendered) = read(file, &f.contents) else {
                continue;
            };
            let table = keys::host_file_keys(&model, host, file)
                .unwrap_or_else(|| panic!("{path}: {} has no key table", f.path));
            let table_keys: Vec<&keys::Key> = table.keys().collect();
            assert_eq!(
                rendered.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                table_keys
                    .iter()
                    .map(|k| k.key.as_str())
                    .collect::<Vec<_>>(),
                "{path}: {}: the rendered keys are the table's, in its order",
                f.path
            );
            for ((k, v), key) in rendered.iter().zip(&table_keys) {
                // A value written with an escape is not the same text; the others are.
                if !(walk.escaped_values_differ && v.contains('\\')) {
                    assert_eq!(v, &key.value, "{path}: {}: {k}", f.path);
                }
                match &key.origin {
                    Origin::Spec { path: p } | Origin::Override { path: p } => {
                        if walk.paths_in_spec {
                            assert!(!p.is_empty(), "{path}: {k}: an empty spec path");
                        }
                        assert!(
                            src.position(p, linkis_gen::diag::Anchor::Key).is_some(),
                            "{path}: {k}: {p} is not located"
                        );
                    }
                    Origin::Rule { name, .. } => assert!(!name.is_empty()),
                    Origin::Release { release, file: rf } => {
                        assert_eq!(release, model.cluster.version);
                        assert_eq!(rf, file);
                    }
                }
                if let (true, Origin::Override { path: p }) = (walk.paths_in_spec, &key.origin) {
                    assert!(src.has_path(p), "{path}: {k}: override {p} not in the spec");
                }
                kinds.insert(key.origin.kind());
                keys_seen += 1;
            }
        }
    }
    (kinds, keys_seen)
}

#[test]
fn every_rendered_properties_key_of_every_example_is_in_the_table_with_an_origin() {
    let mut files_seen = 0;
    let walk = Walk {
        escaped_values_differ: true,
        paths_in_spec: true,
    };
    let (kinds, keys_seen) = walk_examples(walk, |file, text| {
        file.ends_with(".properties").then(|| {
            files_seen += 1;
            props(text)
        })
    });
    assert!(files_seen > 100, "only {files_seen} files walked");
    assert!(keys_seen > 2000, "only {keys_seen} keys walked");
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["override", "release", "rule", "spec"],
        "the examples show every origin kind"
    );
}

const EVERY: &str = "examples/every-field.yaml";

#[test]
fn explains_a_spec_field_with_its_line() {
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis.properties:hadoop.config.dir",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("hosts/ctl-1/conf/linkis.properties:hadoop.config.dir = "),
        "{out}"
    );
    assert!(out.contains("from spec field hadoop.conf_dir"), "{out}");
    // Located as diagnostics locate: FILE:LINE:COLUMN, the source line and a caret.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EVERY)).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("conf_dir:"))
        .expect("every-field sets hadoop.conf_dir");
    assert!(
        out.contains(&format!("--> {EVERY}:{}:", n + 1)),
        "{out}\nwant line {}",
        n + 1
    );
    assert!(out.contains(&format!("{} | {line}", n + 1)), "{out}");
    assert!(out.contains('^'), "{out}");
}

#[test]
fn explains_an_override_and_the_release_default_it_replaced() {
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis-mg-gateway.properties:wds.linkis.server.web.session.timeout",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("= 2h\n"), "{out}");
    assert!(
        out.contains("from override overrides[\"linkis-mg-gateway.properties\"]"),
        "{out}"
    );
    assert!(
        out.contains("wds.linkis.server.web.session.timeout: 2h"),
        "the override's line is shown: {out}"
    );
    assert!(
        out.contains("replacing 1h from the release default: Linkis 1.8.0 ships it in linkis-mg-gateway.properties"),
        "{out}"
    );
}

#[test]
fn explains_a_release_default_and_a_rule() {
    let o = run(&[
        "explain",
        "examples/single-node.yaml",
        "hosts/linkis1/conf/linkis-cg-engineconnmanager.properties",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("wds.linkis.ecm.memory.max = ")
            && out.contains("from rule: sizing: this host's share of the engine demand"),
        "{out}"
    );
    assert!(out.contains("from the release default: Linkis "), "{out}");
    assert!(out.contains("spring.server.port = "), "{out}");
}

#[test]
fn json_is_one_document_with_located_origins() {
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis-mg-gateway.properties",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["explain"], 1);
    assert_eq!(v["host"], "ctl-1");
    assert_eq!(v["file"], "linkis-mg-gateway.properties");
    let keys = v["keys"].as_array().unwrap();
    let by = |k: &str| {
        keys.iter()
            .find(|x| x["key"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let t = by("wds.linkis.server.web.session.timeout");
    assert_eq!(t["value"], "2h");
    assert_eq!(t["origin"]["kind"], "override");
    assert_eq!(t["origin"]["at"]["file"], EVERY);
    assert_eq!(t["origin"]["at"]["written"], true);
    assert!(t["origin"]["at"]["line"].as_u64().unwrap() > 1);
    assert_eq!(t["replaced"][0]["origin"]["kind"], "release");
    assert_eq!(t["replaced"][0]["value"], "1h");
    let u = by("wds.linkis.admin.user");
    assert_eq!(u["origin"]["kind"], "spec");
    assert_eq!(u["origin"]["path"], "auth.admin_user");
    assert_eq!(u["replaced"][0]["origin"]["kind"], "rule");
    let p = by("spring.server.port");
    assert_eq!(p["origin"]["kind"], "rule");
    assert!(
        p["origin"]["inputs"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    assert!(p["origin"].get("at").is_none(), "a rule has no spec line");
    // Stable: the same answer twice.
    let again = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis-mg-gateway.properties",
        "--format",
        "json",
    ]);
    assert_eq!(o.stdout, again.stdout);
}

#[test]
fn a_spec_default_points_at_the_nearest_written_field() {
    // single-node.yaml leaves storage: out; the engines' root is its default.
    let o = run(&[
        "explain",
        "examples/single-node.yaml",
        "hosts/linkis1/conf/linkis-cg-engineconnmanager.properties:wds.linkis.engineconn.root.dir",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let k = &v["keys"][0];
    assert_eq!(k["origin"]["path"], "storage.engine_root");
    assert_ne!(k["origin"]["at"]["written"], true);
}

#[test]
fn a_missing_key_file_or_host_is_an_error_with_a_hint() {
    let cases = [
        (
            "hosts/ctl-1/conf/linkis.properties:wds.linkis.gatway.url",
            "no key `wds.linkis.gatway.url`",
            "closest keys: wds.linkis.gateway.url",
        ),
        (
            "hosts/ctl-1/conf/linkis.propertes",
            "has no conf/linkis.propertes",
            "closest files of ctl-1: linkis.properties",
        ),
        (
            "hosts/ctl-9/conf/linkis.properties",
            "no host `ctl-9`",
            "hosts: ctl-1",
        ),
        (
            "hosts/ecm-1/systemd/linkis-cg-engineconnmanager.service:Typo",
            "systemd/linkis-cg-engineconnmanager.service has no key `Typo`",
            "closest keys: Type",
        ),
        (
            "hosts/ecm-1/systemd/linkis-mg-gateway.service",
            "host ecm-1 has no systemd/linkis-mg-gateway.service",
            "closest units of ecm-1: linkis-cg-engineconnmanager.service",
        ),
    ];
    for (target, what, hint) in cases {
        let o = run(&["explain", EVERY, target]);
        assert_eq!(o.status.code(), Some(1), "{target}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(what), "{target}: {err}");
        assert!(err.contains(&format!("hint: {hint}")), "{target}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&o).is_empty());
    }
    for bad in ["linkis.properties", "hosts//conf/x", "hosts/a/conf/f:", ""] {
        let o = run(&["explain", EVERY, bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("hint: write hosts/<host>/conf/<file>"));
    }
}

#[test]
fn out_places_against_applied_json_like_render() {
    // Without applied.json in OUT, the answer is the fresh layout's.
    let dir = std::env::temp_dir().join(format!("linkis-gen-explain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis.properties:wds.linkis.home",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("from spec field cluster.install_dir"));
    // A broken applied.json is reported as render reports it.
    std::fs::create_dir_all(dir.join(".linkis-gen")).unwrap();
    std::fs::write(dir.join(".linkis-gen/applied.json"), "{").unwrap();
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis.properties:wds.linkis.home",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot read what runs"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn changes_md_says_why_a_key_changed_from_the_same_origins() {
    let dir = std::env::temp_dir().join(format!("linkis-gen-explain-ch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EVERY)).unwrap();
    let spec = dir.join("spec.yaml");
    std::fs::write(&spec, &text).unwrap();
    let out = dir.join("out");
    let (s, o) = (spec.to_str().unwrap(), out.to_str().unwrap());
    assert!(run(&["render", s, "-o", o]).status.success());
    // What runs is what was rendered; then the spec becomes `next`: CHANGES.md.
    let step = |next: &str| -> String {
        std::fs::copy(
            out.join(".linkis-gen/state.json"),
            out.join(".linkis-gen/applied.json"),
        )
        .unwrap();
        std::fs::write(&spec, next).unwrap();
        let r = run(&["render", s, "-o", o]);
        assert!(r.status.success(), "{}", stderr(&r));
        std::fs::read_to_string(out.join("CHANGES.md")).unwrap()
    };
    let changed = text.replace(
        "wds.linkis.entrance.runningjob.min: 8",
        "wds.linkis.entrance.runningjob.min: 9",
    );
    // A YAML key's "why" reads the same table.
    let changed = changed.replace("10.0.0.9:8848", "10.0.0.8:8848");
    assert_ne!(changed, text);
    let md = step(&changed);
    assert!(
        md.contains("wds.linkis.entrance.runningjob.min changed in linkis-cg-entrance.properties: now override overrides[\"linkis-cg-entrance.properties\"][\"wds.linkis.entrance.runningjob.min\"]")
            || md.contains("wds.linkis.entrance.runningjob.min changed in conf/linkis-cg-entrance.properties: now override overrides[\"linkis-cg-entrance.properties\"][\"wds.linkis.entrance.runningjob.min\"]"),
        "{md}"
    );
    assert!(
        md.contains("spring.cloud.nacos.discovery.server-addr changed in conf/application-linkis.yml: now spec field cluster.nacos_address"),
        "{md}"
    );
    // A key an override adds, then removes: the same origins (`+key`/`-key` in the plan).
    let added = changed.replace(
        "wds.linkis.entrance.runningjob.min: 9",
        "wds.linkis.entrance.runningjob.min: 9\n    wds.linkis.explain.added.key: v1",
    );
    assert_ne!(added, changed);
    let md = step(&added);
    assert!(
        md.contains("wds.linkis.explain.added.key added to conf/linkis-cg-entrance.properties: now override overrides[\"linkis-cg-entrance.properties\"][\"wds.linkis.explain.added.key\"]"),
        "{md}"
    );
    let md = step(&changed);
    assert!(
        md.contains("wds.linkis.explain.added.key removed from conf/linkis-cg-entrance.properties: nothing sets it any more"),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The leaf keys of a YAML text as (dotted path, scalar text without its double quotes), read by
/// indentation, comments skipped; and the same text parsed by a YAML parser, which must give
/// each leaf that value.
fn yaml_leaves(text: &str) -> Vec<(String, String)> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - t.len();
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let (k, v) = t.split_once(':').expect("a YAML key");
        let v = v.trim();
        if v.is_empty() {
            stack.push((indent, k.to_string()));
            continue;
        }
        let mut path: Vec<&str> = stack.iter().map(|(_, s)| s.as_str()).collect();
        path.push(k);
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        out.push((path.join("."), v.to_string()));
    }
    let doc: serde_norway::Value = serde_norway::from_str(text).expect("valid YAML");
    for (path, v) in &out {
        // Walk the parsed document along the path (a segment may hold dots: try the longest).
        let parts: Vec<&str> = path.split('.').collect();
        fn find<'a>(
            node: &'a serde_norway::Value,
            parts: &[&str],
        ) -> Option<&'a serde_norway::Value> {
            if parts.is_empty() {
                return Some(node);
            }
            for n in (1..=parts.len()).rev() {
                let key = parts[..n].join(".");
                if let Some(child) = node.get(key.as_str())
                    && let Some(found) = find(child, &parts[n..])
                {
                    return Some(found);
                }
            }
            None
        }
        let node = find(&doc, &parts).unwrap_or_else(|| panic!("{path} not in the parsed YAML"));
        let parsed = match node {
            serde_norway::Value::String(s) => s.clone(),
            serde_norway::Value::Bool(b) => b.to_string(),
            serde_norway::Value::Number(n) => n.to_string(),
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(&parsed, v, "{path}");
    }
    out
}

/// The variables a shell text sets, as (name, value text without its quotes): `NAME=v` and
/// `export NAME=v` lines, and `PATTERN) [export ]NAME=v ;;` case arms as `NAME[PATTERN]`.
fn sh_assignments(text: &str) -> Vec<(String, String)> {
    let assign = |s: &str| -> Option<(String, String)> {
        let s = s.strip_prefix("export ").unwrap_or(s);
        let (name, v) = s.split_once('=')?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        Some((name.to_string(), v.to_string()))
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.starts_with("case ") || t.starts_with("if ") {
            continue;
        }
        if let Some(body) = t.strip_suffix(" ;;") {
            let (pattern, rest) = body.split_once(") ").expect("a case arm");
            let (name, v) = assign(rest).expect("an arm sets a variable");
            out.push((format!("{name}[{pattern}]"), v));
        } else if let Some(kv) = assign(t) {
            out.push(kv);
        }
    }
    out
}

#[test]
fn every_rendered_yml_and_env_key_of_every_example_is_in_the_table_with_an_origin() {
    let (mut yml_files, mut sh_files) = (0, 0);
    let walk = Walk {
        escaped_values_differ: false,
        paths_in_spec: false,
    };
    let (kinds, keys_seen) = walk_examples(walk, |file, text| {
        if file.ends_with(".yml") {
            yml_files += 1;
            Some(yaml_leaves(text))
        } else if file.ends_with(".sh") {
            sh_files += 1;
            Some(sh_assignments(text))
        } else {
            None
        }
    });
    assert!(yml_files > 30, "only {yml_files} YAML files walked");
    assert!(sh_files > 20, "only {sh_files} linkis-env.sh walked");
    assert!(keys_seen > 1000, "only {keys_seen} keys walked");
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["release", "rule", "spec"],
        "YAML and linkis-env.sh keys come from the release, a rule or a spec field"
    );
}

#[test]
fn explains_yml_and_env_keys_in_text_and_json() {
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/application-linkis.yml:spring.cloud.nacos.discovery.server-addr",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "hosts/ctl-1/conf/application-linkis.yml:spring.cloud.nacos.discovery.server-addr = "
        ),
        "{out}"
    );
    assert!(
        out.contains("from spec field cluster.nacos_address"),
        "{out}"
    );
    assert!(out.contains("--> examples/every-field.yaml:"), "{out}");
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis-env.sh",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(v["file"], "linkis-env.sh");
    let keys = v["keys"].as_array().unwrap();
    let key = |name: &str| {
        keys.iter()
            .find(|k| k["key"] == name)
            .unwrap_or_else(|| panic!("{name} in {keys:?}"))
    };
    assert_eq!(key("HADOOP_HOME")["origin"]["kind"], "spec");
    assert_eq!(key("HADOOP_HOME")["origin"]["path"], "hadoop.home");
    assert_eq!(key("LINKIS_PUBLIC_MODULE")["origin"]["kind"], "release");
    let gc = key("LINKIS_GC_OPTS[*]");
    assert_eq!(gc["origin"]["kind"], "rule");
    assert!(
        gc["value"].as_str().unwrap().contains("filecount=5"),
        "{gc}"
    );
    // A key of a case arm is named by its arm; the plain name is not a key.
    let o = run(&[
        "explain",
        EVERY,
        "hosts/ctl-1/conf/linkis-env.sh:SERVER_JAVA_OPTS",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("hint: closest keys: SERVER_JAVA_OPTS["),
        "{}",
        stderr(&o)
    );
}

/// A rule's inputs are its formula with this cluster's numbers, which add up to the value.
#[test]
fn rule_inputs_give_the_formula_with_the_numbers() {
    let o = run(&[
        "explain",
        "examples/single-node.yaml",
        "hosts/linkis1/conf/linkis-cg-engineconnmanager.properties:wds.linkis.ecm.memory.max",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let key = &v["keys"][0];
    let inputs: Vec<&str> = key["origin"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    let formula = inputs[0];
    // "host linkis1 memory 64G − heaps 9G (...) − reserve 4G (control host) = 51G"
    assert!(formula.starts_with("host linkis1 memory "), "{formula}");
    assert!(
        formula.contains(" − heaps ") && formula.contains(" − reserve "),
        "{formula}"
    );
    let gib = |t: &str| -> u64 { t.trim_end_matches('G').parse().expect("whole GiB") };
    let word = |after: &str| {
        formula
            .split(after)
            .nth(1)
            .unwrap()
            .split([' ', ')'])
            .next()
            .unwrap()
    };
    let (mem, heaps, reserve, result) = (
        gib(word("memory ")),
        gib(word("heaps ")),
        gib(word("reserve ")),
        gib(formula.rsplit("= ").next().unwrap()),
    );
    assert_eq!(mem - heaps - reserve, result, "{formula}");
    let value: u64 = key["value"].as_str().unwrap().parse().unwrap();
    assert_eq!(value, result << 30, "the formula gives the value");
    let o = run(&[
        "explain",
        "examples/single-node.yaml",
        "hosts/linkis1/conf/linkis.properties:wds.linkis.gateway.url",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("the first gateway host of the placement")
            && out.contains("first gateway host=linkis1 (http://"),
        "{out}"
    );
}

/// A unit's directives are in the key table too: a spec field, a rule with its inputs, a
/// repeated directive (every one of that name), and the JSON names the unit's directory.
#[test]
fn explains_a_units_directives() {
    const UNIT: &str = "hosts/ecm-1/systemd/linkis-cg-engineconnmanager.service";
    let o = run(&["explain", EVERY, &format!("{UNIT}:User")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "{UNIT}:User = linkis\n  from spec field cluster.deploy_user"
        )),
        "{out}"
    );
    let o = run(&["explain", EVERY, &format!("{UNIT}:ReadWritePaths")]);
    let out = stdout(&o);
    assert!(
        out.contains("from rule: hardening: the paths the service writes"),
        "{out}"
    );
    assert!(
        out.contains("/data/linkis/engines]"),
        "the engine root is an input: {out}"
    );
    let o = run(&[
        "explain",
        EVERY,
        &format!("{UNIT}:Environment"),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["dir"], "systemd");
    assert_eq!(j["file"], "linkis-cg-engineconnmanager.service");
    let keys = j["keys"].as_array().unwrap();
    assert!(keys.len() > 5, "LINKIS_HOME and the platform's: {keys:?}");
    assert!(keys.iter().all(|k| k["key"] == "Environment"));
    assert_eq!(keys[1]["value"], "\"HADOOP_HOME=/opt/hadoop\"");
    assert_eq!(keys[1]["origin"]["path"], "hadoop.home");
    // Every directive of every unit of every example has an origin, and the whole unit is
    // explained in file order.
    let o = run(&["explain", EVERY, UNIT]);
    let out = stdout(&o);
    let first = out.find(":Description = ").unwrap();
    let last = out.find(":WantedBy = multi-user.target").unwrap();
    assert!(first < last, "{out}");
    assert_eq!(
        out.matches("\n  from ").count(),
        out.matches(&format!("{UNIT}:")).count()
    );
}

/// log4j2.xml's values are in the key table: the retention from the spec's logs:, the sizes by
/// the rule that splits logs.max_size, the layout as the release ships it.
#[test]
fn explains_the_log4j2_retention() {
    const LOG4J2: &str = "hosts/ctl-1/conf/log4j2.xml";
    let o = run(&["explain", EVERY, &format!("{LOG4J2}:IfLastModified@age")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("from spec field logs.keep_days"), "{out}");
    assert!(out.contains("keep_days:"), "the spec line is shown: {out}");
    let o = run(&[
        "explain",
        EVERY,
        &format!("{LOG4J2}:IfAccumulatedFileSize@exceeds"),
    ]);
    let out = stdout(&o);
    assert!(out.contains("logs.max_size=2048MB"), "{out}");
    let o = run(&["explain", EVERY, LOG4J2, "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let kinds: Vec<&str> = j["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["origin"]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"release") && kinds.contains(&"rule") && kinds.contains(&"spec"));
}
