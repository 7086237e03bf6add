//! The module graph of `src/`: no import cycles between top-level modules.
//!
//! Every `crate::NAME` reference in a file under `src/` (in `use` lines and paths, grouped
//! `use crate::{a, b::c}` included) is an edge from the file's top-level module to NAME. Test
//! modules count too: a cycle through a test is still a cycle to untangle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module of a file under src/: `src/render/apply.rs` → `render`.
fn module_of(rel: &Path) -> Option<String> {
    let mut parts = rel.components();
    let mut first = parts.next()?.as_os_str().to_str()?;
    if first == GROUP {
        // src/plan/ groups stage modules: each of its files is a module of the graph.
        first = parts.next()?.as_os_str().to_str()?;
    }
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main" && name != "mod").then(|| name.to_string())
}

/// The folder of stage modules beside `render` (the change plan and the upgrade): `crate::plan::X`
/// is the module X in the graph.
const GROUP: &str = "plan";

/// The top-level modules a source text names through `crate::`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(inner) = rest.strip_prefix(GROUP).and_then(|r| r.strip_prefix("::")) {
                rest = inner;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, d::{e, f}}`: the names at depth 0 of the group.
                let mut depth = 0;
                let mut start = 0;
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            out.insert(ident(group[start..j].trim()));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            out.insert(ident(group[start..j].trim()));
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
            } else {
                out.insert(ident(rest));
            }
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn graph(src: &Path) -> Graph {
    let mut g = Graph::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Some(from) = module_of(path.strip_prefix(src).unwrap()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let edges = g.entry(from.clone()).or_default();
            edges.extend(crate_refs(&text).into_iter().filter(|m| *m != from));
        }
    }
    g
}

/// A cycle of the graph, as the path of modules that closes it, if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

#[test]
fn src_has_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    if let Some(cycle) = find_cycle(&g) {
        panic!("import cycle in src/: {}\ngraph: {g:#?}", cycle.join(" → "));
    }
    // The parser sees the edges there are.
    assert!(
        g["render"].contains("model") && g["load"].contains("diag"),
        "{g:#?}"
    );
}

/// A line of code with its string literals blanked (`"..."` → `""`).
fn without_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_str {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_str = false;
                    out.push(c);
                }
                _ => escaped = false,
            }
        } else {
            in_str = c == '"';
            out.push(c);
        }
    }
    out
}

#[test]
fn renderers_read_the_model_not_the_spec_or_the_plan() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for file in [
        "render/mod.rs",
        "render/conf.rs",
        "render/apply.rs",
        "render/plan_md.rs",
        "report.rs",
    ] {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = without_strings(line.split("//").next().unwrap_or_default());
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .collect();
            assert!(
                !code.contains("spec.") && !words.iter().any(|w| *w == "Plan" || *w == "Spec"),
                "src/{file}:{}: a renderer reads the spec or the plan: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn the_checker_finds_a_cycle_and_grouped_imports() {
    assert_eq!(
        crate_refs("use crate::{a, b::{c, d}, e::F};\nlet x = crate::g::h(); // crate::z"),
        ["a", "b", "e", "g"].map(String::from).into()
    );
    let mut g = Graph::new();
    g.entry("diag".into()).or_default().insert("load".into());
    g.entry("load".into()).or_default().insert("diag".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["diag".to_string(), "load".into(), "diag".into()])
    );
    g.get_mut("load").unwrap().clear();
    assert_eq!(
        without_strings(r#"a("x.spec\"y", plan.z)"#),
        r#"a("", plan.z)"#
    );
    assert_eq!(find_cycle(&g), None);
}

/// The code of a file: comments and string literals dropped, line by line.
fn code_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| without_strings(l.split("//").next().unwrap_or_default()))
        .collect()
}

#[test]
fn no_renderer_decides_a_conf_value() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = graph(&root.join("src"));
    // The deciding modules are the model's: a renderer never calls them (it may name a type of
    // the sizing stage, `size::EcmShare`, that the model holds).
    for decider in ["platform", "computed", "load", "validate"] {
        assert!(
            !g["render"].contains(decider),
            "render/ uses crate::{decider}: values are decided in the model (src/model/keys.rs)"
        );
    }
    // The conf renderer writes the key table's lines; the layers of the table (the platform's
    // and monitoring's keys, the release's stock settings, overrides:) are read in the model only.
    let conf = std::fs::read_to_string(root.join("src/render/conf.rs")).unwrap();
    for (n, line) in code_lines(&conf).iter().enumerate() {
        for layer in [".stock(", "keys_for(", ".overrides", "override_of("] {
            assert!(
                !line.contains(layer),
                "src/render/conf.rs:{}: the renderer reads a layer of the key table itself ({layer}): {line}",
                n + 1
            );
        }
    }
    // A `.properties` template lays keys out (`keys.<section>`), it never writes one itself.
    let dir = root.join("templates/hosts/_host_/conf");
    let mut templates = Vec::new();
    for entry in walk(&dir) {
        if entry.to_string_lossy().ends_with(".properties.j2") {
            templates.push(entry);
        }
    }
    assert!(templates.len() >= 12, "{templates:?}");
    for t in templates {
        let text = std::fs::read_to_string(&t).unwrap();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim_start();
            let writes_key = !l.is_empty()
                && !l.starts_with('#')
                && !l.starts_with("[%")
                && !l.starts_with("[#")
                && l != "[= l =]";
            assert!(
                !writes_key,
                "{}:{}: a template writes a key itself: {line}",
                t.display(),
                n + 1
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn state_changes_and_explain_read_only_the_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = graph(&root.join("src"));
    for m in ["changes", "explain"] {
        for decider in ["platform", "computed", "size", "validate", "upgrade"] {
            assert!(
                !g[m].contains(decider),
                "src/{m} uses crate::{decider}: it reads the model (and the state), nothing that decides"
            );
        }
    }
    assert!(g["explain"].contains("model"), "{g:#?}");
    for file in [
        "plan/changes.rs",
        "render/state.rs",
        "render/changes.rs",
        "explain.rs",
    ] {
        let text = std::fs::read_to_string(root.join("src").join(file)).unwrap();
        for (n, line) in code_lines(&text).iter().enumerate() {
            // The key table's origin `Origin::Spec` names a spec path; it is not the spec.
            let code = line.replace("Origin::Spec", "");
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .collect();
            assert!(
                !code.contains("spec.") && !words.iter().any(|w| *w == "Plan" || *w == "Spec"),
                "src/{file}:{}: reads the spec or the plan, not the model: {line}",
                n + 1
            );
        }
    }
}

/// Where a call appears in the code of `src/` (comments and string literals left out), as
/// `file:line` relative to src/, sorted.
fn calls_in_src(needle: &str) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for path in walk(&src) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in code_lines(&text).iter().enumerate() {
            for _ in line.matches(needle) {
                out.push(format!("{rel}:{}", n + 1));
            }
        }
    }
    out
}

/// The files of `calls_in_src`'s places.
fn files_of(places: &[String]) -> Vec<&str> {
    places
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect()
}

#[test]
fn the_model_the_upgrade_and_the_change_plan_are_decided_once() {
    // The model: resolved in one place of the pipeline (lib.rs), which also takes the override
    // warnings from it; `plan_with` reads them from that same resolve.
    let resolve = calls_in_src("model::resolve(");
    assert_eq!(files_of(&resolve), ["lib.rs"], "{resolve:?}");
    // The upgrade: decided by the pipeline (lib.rs), read from `Model::upgrade` after.
    let upgrade = calls_in_src("upgrade::between(");
    assert_eq!(files_of(&upgrade), ["lib.rs"], "{upgrade:?}");
    // The change plan: computed once, by render_tree, from the model and the rendered state;
    // rendered from that value and handed back in `Rendered::changes` (main prints its summary).
    let of = calls_in_src("changes::of(");
    assert_eq!(files_of(&of), ["render/mod.rs"], "{of:?}");
    // `changes::diff` is private to it: `changes::of` is the only way to a plan.
    assert_eq!(files_of(&calls_in_src("fn diff(")), ["plan/changes.rs"]);
    assert!(calls_in_src("pub fn diff(").is_empty() && calls_in_src("changes::diff(").is_empty());
    let rendered = calls_in_src("changes::render(");
    assert_eq!(files_of(&rendered), ["render/mod.rs"], "{rendered:?}");
    forbid(
        "main.rs",
        &[
            "changes::of",
            "changes::diff",
            "model::resolve",
            "upgrade::between",
        ],
        "the command line decides again",
    );
}

/// The platform around Linkis is resolved in the model (src/model/platform.rs), and each of its
/// keys carries its origin from the code that sets it: no separate map from keys to spec paths.
#[test]
fn the_platform_is_in_the_model_with_its_origins_beside_its_keys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        !root.join("src/platform.rs").exists(),
        "src/platform.rs: the platform is resolved in the model (src/model/platform.rs)"
    );
    let platform = std::fs::read_to_string(root.join("src/model/platform.rs")).unwrap();
    assert!(
        platform.contains("pub origin: Origin"),
        "a platform key has its origin"
    );
    let g = graph(&root.join("src"));
    assert!(!g.contains_key("platform"), "{g:#?}");
    for (m, uses) in &g {
        assert!(!uses.contains("platform"), "src/{m} uses crate::platform");
    }
    for file in ["model/keys.rs", "explain.rs", "render/conf.rs"] {
        let text = std::fs::read_to_string(root.join("src").join(file)).unwrap();
        for (n, line) in code_lines(&text).iter().enumerate() {
            assert!(
                !line.contains("platform_origin") && !line.contains("fn origin_of"),
                "src/{file}:{}: origins of platform keys are decided beside their keys: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn the_change_plan_reads_only_the_model_and_the_states() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = graph(&root.join("src"));
    // The catalog's facts (health checks) and the spec's service names are types, not decisions.
    let allowed: BTreeSet<String> = ["catalog", "model", "spec", "state"]
        .map(String::from)
        .into();
    let extra: Vec<&String> = g["changes"].difference(&allowed).collect();
    assert!(
        extra.is_empty(),
        "src/plan/changes.rs uses {extra:?}: the change plan reads the model and the two states only"
    );
    // Its one entry point takes the model and the rendered state (applied.json is the model's).
    let text = std::fs::read_to_string(root.join("src/plan/changes.rs")).unwrap();
    assert!(
        text.contains("pub fn of(model: &Model, rendered: &State) -> Option<ChangePlan>"),
        "changes::of's signature changed: keep the plan computed from the model and the state"
    );
}

/// The YAML templates and linkis-env.sh lay the key table's lines out, as the `.properties`
/// templates do: a YAML template writes no key, linkis-env.sh's sets no variable itself.
#[test]
fn yml_and_env_templates_write_no_key_themselves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("templates/hosts/_host_/conf");
    let mut seen = 0;
    for t in walk(&dir) {
        let name = t.to_string_lossy().into_owned();
        let yml = name.ends_with(".yml.j2");
        if !yml && !name.ends_with("linkis-env.sh.j2") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&t).unwrap();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim_start();
            let layout = l.is_empty()
                || l.starts_with('#')
                || l.starts_with("[%")
                || l.starts_with("[#")
                || l == "[= l =]";
            let writes = if yml {
                !layout
            } else {
                // Shell structure (if, case, esac, fi) is layout; an assignment is a key.
                let word = l.split([' ', '=']).next().unwrap_or_default();
                !layout
                    && l.contains('=')
                    && !l.starts_with("if ")
                    && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
            assert!(
                !writes,
                "{}:{}: a template writes a key itself: {line}",
                t.display(),
                n + 1
            );
        }
    }
    assert_eq!(
        seen, 4,
        "three application-*.yml templates and linkis-env.sh"
    );
}

/// An address before a port is bracketed once, by the model (spec::url_host), and written into
/// the inventory as each host's `linkis_url_host`: no template brackets an address itself
/// (`regex_replace` on a colon, `'[' ~ ... ~ ']'`).
#[test]
fn templates_bracket_no_address_themselves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![root.clone()];
    let mut bad = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let squeezed: String = line.chars().filter(|c| !c.is_whitespace()).collect();
                if squeezed.contains("'['~")
                    || squeezed.contains("\"[\"~")
                    || squeezed.contains("'[\\\\1]'")
                    || squeezed.contains("(.*:.*)")
                {
                    bad.push(format!("{}:{}: {line}", p.display(), n + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "use linkis_url_host:\n{}", bad.join("\n"));
}

/// An entrance is drained in one place (the role linkis_entrance, bounded by the model's
/// ENTRANCE_DRAIN_TIMEOUT): before a restart and before a removal (linkis_change includes it).
#[test]
fn the_entrance_drain_is_written_once() {
    let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/roles");
    let mut stack = vec![roles.clone()];
    let mut at = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read_to_string(&p)
                .unwrap_or_default()
                .contains("label/markoffline")
            {
                at.push(p.strip_prefix(&roles).unwrap().display().to_string());
            }
        }
    }
    assert_eq!(at, ["linkis_entrance/tasks/main.yml.j2"]);
    let remove = std::fs::read_to_string(roles.join("linkis_change/tasks/remove.yml.j2")).unwrap();
    assert!(remove.contains("name: linkis_entrance"), "{remove}");
    let defaults =
        std::fs::read_to_string(roles.join("linkis_entrance/defaults/main.yml.j2")).unwrap();
    assert!(
        defaults.contains("linkis_entrance_drain_timeout: [= entrance_drain_timeout =]"),
        "{defaults}"
    );
    let change = std::fs::read_to_string(roles.join("linkis_change/defaults/main.yml.j2")).unwrap();
    assert!(!change.contains("linkis_change_drain_timeout"), "{change}");
}

/// state.json is taken from the model: src/render/state.rs never reads a rendered file's text
/// back (no line scanning, no parsing of a file); the one thing it parses is a YAML value of the
/// key table (`Digests::yaml_scalar`), to digest it as a YAML reader reads it. A file's text is
/// only hashed whole (`sha256(text`).
#[test]
fn state_reads_no_rendered_text_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("src/render/state.rs")).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap();
    for (n, line) in code_lines(code).iter().enumerate() {
        for reading in [
            ".lines()",
            ".split_once(",
            "strip_prefix(",
            "from_str::<",
            "find(",
        ] {
            let allowed = reading == "from_str::<" && line.contains("from_str::<Y>(raw)");
            assert!(
                allowed || !line.contains(reading),
                "src/render/state.rs:{}: reads text back ({reading}): {line}",
                n + 1
            );
        }
    }
    assert!(
        code.contains("from_str::<Y>(raw)"),
        "the one parse moved: update this test"
    );
}

/// Fails on every line of the code of `file` (under src/) that holds one of `needles`.
fn forbid(file: &str, needles: &[&str], what: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("src").join(file)).unwrap();
    for (n, line) in code_lines(&text).iter().enumerate() {
        for needle in needles {
            assert!(
                !line.contains(needle),
                "src/{file}:{}: {what} ({needle}): {line}",
                n + 1
            );
        }
    }
}

/// The change plan decides how changes.yml performs it (src/plan/changes.rs `Steps`: the hosts'
/// statuses, the start and removal plays, the instances that stay up for the drains); the
/// renderer of the change files lays it out and looks nothing up itself.
#[test]
fn the_change_files_renderer_decides_no_step() {
    forbid(
        "render/changes.rs",
        &[
            "catalog::",
            "per_service(",
            "i.kind",
            "hosts_removed",
            "hosts_added",
        ],
        "decides a step of the plan",
    );
}

/// The apply side's renderer groups and orders no hosts itself: the inventory's groups, the start
/// stages, the stop order, the expected registrations and the manager host are the model's
/// (src/model/order.rs), and the database has one shape (`model.database`).
#[test]
fn the_apply_renderer_orders_no_hosts() {
    forbid(
        "render/apply.rs",
        &["hosts_with(", "ecm_hosts(", "START_STAGES", "struct DbCtx"],
        "orders hosts itself",
    );
}

/// The code of a whole file, line for line: comments (`//`, nested `/* */`) dropped, string
/// literals (raw, byte and spanning lines too) and char literals blanked to their quotes. A
/// lifetime (`'a`) is code. `code_lines` reads a line at a time and keeps `'{'`: braces need this.
fn code_of(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut i = 0;
    // A literal or comment is skipped but its newlines are kept, so lines stay lines.
    let skip_to = |out: &mut String, from: usize, to: usize| {
        out.extend(chars[from..to].iter().filter(|c| **c == '\n'));
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev_ident = i > 0 && ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|c| *c == '\n')
                .map_or(chars.len(), |p| i + p);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (0, i);
            while j < chars.len() {
                match (chars[j], chars.get(j + 1)) {
                    ('/', Some('*')) => (depth, j) = (depth + 1, j + 2),
                    ('*', Some('/')) => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
                if depth == 0 {
                    break;
                }
            }
            skip_to(&mut out, i, j);
            i = j;
        } else if c == 'r'
            && (!prev_ident || (i == 1 || !ident(chars[i - 2])) && chars[i - 1] == 'b')
            && matches!(next, Some('"' | '#'))
        {
            // r"..", r#".."#, br#".."#: up to the quote followed by as many hashes.
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c); // a raw identifier, r#type
                i += 1;
                continue;
            }
            let body = i + 2 + hashes;
            let mut j = body;
            while j < chars.len()
                && !(chars[j] == '"'
                    && chars[j + 1..].iter().take_while(|c| **c == '#').count() >= hashes)
            {
                j += 1;
            }
            out.push_str("\"\"");
            skip_to(&mut out, body, j);
            i = j + 1 + hashes;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            skip_to(&mut out, i + 1, j.min(chars.len()));
            i = j + 1;
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{7d}'
            let close = chars[i + 3..].iter().position(|c| *c == '\'');
            out.push_str("''");
            i = close.map_or(chars.len(), |p| i + 3 + p + 1);
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            out.push_str("''");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.lines().map(String::from).collect()
}

/// The functions of a file's code (`code_of`): each `fn` with a body, free, in an impl or nested,
/// as (line, name, lines from the `fn` line to its closing brace). A signature that ends in `;`
/// has no body.
fn functions(code: &[String]) -> Vec<(usize, String, usize)> {
    let mut out = Vec::new();
    for (n, line) in code.iter().enumerate() {
        let mut from = 0;
        while let Some(p) = line[from..].find("fn ").map(|p| from + p) {
            from = p + 3;
            if p > 0 && line[..p].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = line[from..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                continue; // a `fn(..)` type
            }
            // The body's `{`: the first `{` or `;` outside the signature's () and [].
            let (mut depth, mut braces, mut end) = (0i32, 0i32, None);
            let mut col = from;
            'lines: for (k, l) in code[n..].iter().enumerate() {
                for c in l[col..].chars() {
                    match (braces, c) {
                        (0, '(' | '[') => depth += 1,
                        (0, ')' | ']') => depth -= 1,
                        (0, ';') if depth == 0 => break 'lines,
                        (0, '{') if depth > 0 => {}
                        (_, '{') => braces += 1,
                        (0, _) => {}
                        (_, '}') => {
                            braces -= 1;
                            if braces == 0 {
                                end = Some(k);
                                break 'lines;
                            }
                        }
                        _ => {}
                    }
                }
                col = 0;
            }
            if let Some(k) = end {
                out.push((n + 1, name, k + 1));
            }
        }
    }
    out
}

/// The functions of `src/` over `limit` lines, as `file:line: name (N lines)`, file by file.
fn long_functions(limit: usize) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for path in walk(&src) {
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, name, len) in functions(&code_of(&text)) {
            if len > limit {
                out.push(format!("src/{rel}:{line}: {name} ({len} lines)"));
            }
        }
    }
    out
}

/// No function hides its phases: a function of `src/` (free, in an impl or nested, tests too:
/// none of them is that long) is at most 100 lines from its `fn` line to its closing brace; a
/// longer one becomes a short one that names its phases, each a function of its own (issue 20).
#[test]
fn no_function_is_over_100_lines() {
    let long = long_functions(100);
    assert!(
        long.is_empty(),
        "functions over 100 lines: split each into its phases\n{}",
        long.join("\n")
    );
    // The walk sees the functions there are.
    assert!(long_functions(0).len() > 500);
}

#[test]
fn the_line_counter_counts_bodies_not_literals_or_comments() {
    let body = "    x += 1;\n".repeat(100);
    let text = format!(
        "fn short() {{\n    let s = \"}}\"; let c = '}}'; // }}\n}}\n\
         pub(crate) fn long<'a>(x: &'a [u8; 4]) -> Option<&'a str> {{\n{body}}}\n\
         trait T {{\n    fn declared(&self) -> [u8; 2];\n}}\n\
         fn outer() {{\n    let r = r#\"{{\n\"#; /* {{ */\n    fn inner(f: fn(u8)) {{ f(b'{{') }}\n}}\n"
    );
    let code = code_of(&text);
    assert_eq!(code.len(), text.lines().count());
    assert_eq!(code[1], "    let s = \"\"; let c = ''; ");
    assert_eq!(
        functions(&code),
        [
            (1, "short".to_string(), 3),
            (4, "long".into(), 102),
            (109, "outer".into(), 5),
            (112, "inner".into(), 1),
        ]
    );
}
