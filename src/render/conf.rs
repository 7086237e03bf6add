//! Per-host Linkis trees: `hosts/<host>/conf/...` (that host's `LINKIS_HOME/conf`) and
//! `hosts/<host>/sbin/linkis-{start,stop}-all.sh`.
//!
//! Each file comes from the template of the same path under `templates/hosts/_host_/`, rendered
//! with one context per host built here from the `Model` (the whole model is also there as `model`). Templates
//! read catalog switches (`f.*`) and lists (tokens, start order), never version strings.
//!
//! `.properties` files are completed after rendering: the settings the release ships in that file
//! and that the template did not set are appended (so each file is a complete drop-in for its
//! release), then the spec's `overrides:` for that file are applied (a key already present is
//! replaced in place, a new key appended).
//!
//! Secrets are Ansible variable references (`{{ vault_... }}`): the apply side fills them in with
//! its `linkis_fill` filter, never Ansible's templating, and installs the file with mode 0640
//! (docs/conf.md). In OUT every
//! file is 0644 and every script 0755: OUT never holds a secret value.

use std::collections::BTreeMap;

use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::{OutFile, RenderError, Templates, escape};
use crate::catalog::Step;
use crate::model::keys::{self, Block, FileKeys, Key, Place, ShQuote, Syntax};
use crate::model::{Host, Model};
use crate::spec::Service;

/// Where the templates of this module live, relative to `templates/`.
pub const TEMPLATE_DIR: &str = "hosts/_host_";

/// The scripts of a host's `sbin/`.
pub const SCRIPTS: [&str; 2] = ["linkis-start-all.sh", "linkis-stop-all.sh"];

/// The key tables of a host's conf files, by the file's path relative to OUT: render's state
/// (src/render/state.rs `table_state`) takes their keys from here, not from the text.
pub type Tables = std::collections::HashMap<String, FileKeys>;

fn render_host(
    model: &Model,
    (cluster_value, whole): (&Value, &Value),
    host: &Host,
    templates: &Templates,
) -> Result<(Vec<OutFile>, Tables), RenderError> {
    let ctx = HostCtx::new(model, host);
    // The host's part, once per host; a file's context is model, svc, host and cluster (the
    // names do not overlap), merged lazily rather than converted again per file.
    let host_value = Value::from(Serde(&ctx));
    let value = |svc: Option<&SvcCtx>, keys: Value, table: Option<&FileKeys>| {
        let file = minijinja::context! {
            model => whole.clone(),
            svc => Value::from(Serde(svc)),
            keys => keys,
            value => table.map_or(Value::UNDEFINED, values),
        };
        minijinja::value::merge_maps([cluster_value.clone(), host_value.clone(), file])
    };
    let mut out = Vec::new();
    let mut tables = Tables::new();
    for cf in &host.conf_files {
        let svc = cf
            .service
            .and_then(|s| ctx.host.services.iter().find(|p| p.service == s));
        let file = cf.file;
        let name = format!("{TEMPLATE_DIR}/conf/{file}.j2");
        let table = keys::file_keys(model, host, file);
        let text = templates.render(&name, value(svc, sections(table.as_ref()), table.as_ref()))?;
        let text = match &table {
            Some(t) if file.ends_with(".properties") => append_blocks(model, t, &text),
            _ => text,
        };
        let f = out_file(&host.name, &format!("conf/{file}"), text);
        if let Some(t) = table {
            tables.insert(f.path.clone(), t);
        }
        out.push(f);
    }
    for script in SCRIPTS {
        let text = templates.render(
            &format!("{TEMPLATE_DIR}/sbin/{script}.j2"),
            value(None, Value::UNDEFINED, None),
        )?;
        out.push(out_file(&host.name, &format!("sbin/{script}"), text));
    }
    Ok((out, tables))
}

/// (Every file's single trailing newline is ensured once, for the whole tree, by `render`.)
fn out_file(host: &str, rel: &str, text: String) -> OutFile {
    OutFile::new(format!("hosts/{host}/{rel}"), text)
}

/// Whether the apply side fills in vault references in a file (the configure role's `linkis_fill`
/// filter, never Ansible's templating): it holds a `{{ vault_... }}` reference, written by
/// linkis-gen (spec text never holds `{{` in a `.properties` file, render/escape.rs).
pub fn is_ansible_template(contents: &str) -> bool {
    contents.contains("{{ ")
}

/// The heading of the platform keys a template did not place itself.
const PLATFORM_HEADING: &str =
    "# The platform around Linkis (the spec's hadoop, hive, spark, storage and auth sections)";

/// The heading of the monitoring keys a template did not place itself.
const MONITORING_HEADING: &str =
    "# Prometheus metrics (the spec's monitoring section): on, and scraped without a login";

/// The template sections every conf template may read as `keys.<name>`: each a list of lines,
/// written in the syntax of their key (the values are the model's, src/model/keys.rs): the
/// `.properties` files' sections, the YAML files' one (`yaml`), linkis-env.sh's.
const SECTIONS: [&str; 18] = [
    "discovery",
    "database",
    "tokens",
    "sessions",
    "port",
    "engine_root",
    "ecm",
    "auth",
    "gateway",
    "token",
    "yaml",
    "release",
    "env",
    "heaps",
    "prefer_ip",
    "log_dir",
    "gc_opts",
    "java_opts",
];

/// The `keys` of a file's template context.
fn sections(table: Option<&FileKeys>) -> Value {
    sections_of(&SECTIONS, table)
}

/// The `keys` of a template's context: each of `names` (empty when the table has none of it),
/// a list of lines written in the syntax of their key.
pub fn sections_of(names: &[&str], table: Option<&FileKeys>) -> Value {
    let mut map: BTreeMap<&str, Vec<Value>> = names.iter().map(|s| (*s, Vec::new())).collect();
    if let Some(t) = table {
        for (block, keys) in &t.blocks {
            if let Block::Template(name) = block {
                map.entry(name)
                    .or_default()
                    .extend(block_lines(keys).into_iter().map(Value::from_safe_string));
            }
        }
    }
    let map: BTreeMap<String, Value> = map
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
    Value::from(map)
}

/// The values of a file's XML keys by name (`value.<key>`), escaped for XML: the template
/// writes the elements around them.
fn values(table: &FileKeys) -> Value {
    let map: BTreeMap<String, Value> = table
        .keys()
        .filter(|k| k.syntax == Syntax::Xml)
        .map(|k| (k.key.clone(), Value::from_safe_string(written_value(k))))
        .collect();
    Value::from(map)
}

/// The lines of a block of keys: a YAML key is nested under the parents the key before it did
/// not open (with its comment above it), a shell variable of a `case` arm written in its arm.
fn block_lines(keys: &[Key]) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: &[String] = &[];
    for k in keys {
        match &k.place {
            Place::Yaml { path, note } => {
                let (leaf, parents) = path.split_last().expect("a YAML key has a name");
                let common = open.iter().zip(parents).take_while(|(a, b)| a == b).count();
                for (depth, p) in parents.iter().enumerate().skip(common) {
                    out.push(format!("{}{p}:", "  ".repeat(depth)));
                }
                let indent = "  ".repeat(parents.len());
                if let Some(n) = note {
                    out.push(format!("{indent}# {n}"));
                }
                out.push(format!("{indent}{leaf}: {}", value_text(k)));
                open = parents;
            }
            Place::Arm { name, pattern } => {
                out.push(format!("{pattern}) {} ;;", assignment(k, name)));
            }
            Place::Line | Place::Directive { .. } => out.push(line(k)),
        }
    }
    out
}

/// A YAML or shell key's value as its syntax writes it.
fn value_text(k: &Key) -> String {
    match k.syntax {
        Syntax::YamlQuoted
        | Syntax::Shell {
            quote: ShQuote::Double,
            ..
        } => format!("\"{}\"", k.value),
        Syntax::Shell {
            quote: ShQuote::Word,
            ..
        } => sh_quote(&k.value),
        _ => k.value.clone(),
    }
}

/// A key's value as its line writes it (a `.properties` value escaped, then trimmed as
/// `java.util.Properties` trims it; a YAML or shell value quoted as its syntax quotes it): what
/// state.json's key digest is taken of (src/render/state.rs), from the table, never the text.
pub fn written_value(k: &Key) -> String {
    match k.syntax {
        Syntax::Model => escape::prop_model_value(&k.value).trim().to_string(),
        Syntax::Data => escape::prop_data_value(&k.value).trim().to_string(),
        Syntax::Stock => k.value.trim().to_string(),
        Syntax::Directive => k.value.clone(),
        Syntax::Xml => xml_escape(&k.value),
        Syntax::Shell { .. } | Syntax::Yaml | Syntax::YamlQuoted => value_text(k),
    }
}

/// A value in an XML attribute or text: `&`, `<`, `>` and `"` as entities.
fn xml_escape(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `[export ]NAME=value`.
fn assignment(k: &Key, name: &str) -> String {
    let export = matches!(k.syntax, Syntax::Shell { export: true, .. });
    format!(
        "{}{name}={}",
        if export { "export " } else { "" },
        value_text(k)
    )
}

/// A key's `key=value` line, as `java.util.Properties` reads it back (render/escape.rs): spec
/// text is data throughout (no `{{` survives), the model's own values may be exactly a vault
/// reference, the release's stock lines are written as they ship.
fn line(k: &Key) -> String {
    match k.syntax {
        Syntax::Model => format!(
            "{}={}",
            escape::prop_key(&k.key),
            escape::prop_model_value(&k.value)
        ),
        Syntax::Data => format!(
            "{}={}",
            escape::prop_data_key(&k.key),
            escape::prop_data_value(&k.value)
        ),
        Syntax::Stock | Syntax::Directive => format!("{}={}", k.key, k.value),
        Syntax::Xml => format!("{}={}", k.key, xml_escape(&k.value)),
        Syntax::Shell { .. } => assignment(k, &k.key),
        Syntax::Yaml | Syntax::YamlQuoted => format!("{}: {}", k.key, value_text(k)),
    }
}

/// The rendered template followed by the table's appended blocks, each under its heading.
fn append_blocks(model: &Model, table: &FileKeys, rendered: &str) -> String {
    let mut lines: Vec<String> = rendered.lines().map(str::to_string).collect();
    for (block, keys) in &table.blocks {
        let heading = match block {
            Block::Template(_) => continue,
            Block::Platform => PLATFORM_HEADING.to_string(),
            Block::Monitoring => MONITORING_HEADING.to_string(),
            Block::Release => format!(
                "# Linkis {} ships these settings in {}; linkis-gen keeps them as they are",
                model.cluster.version, table.file
            ),
            Block::Overrides => OVERRIDES_HEADING.to_string(),
        };
        lines.push(String::new());
        lines.push(heading);
        lines.extend(keys.iter().map(line));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The heading of the overrides that set keys not already in the file.
const OVERRIDES_HEADING: &str = "# overrides: from the spec";

/// The key of a `key=value` line (not of a comment or blank line).
pub fn prop_key(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || t.starts_with('!') {
        return None;
    }
    Some(t.split_once('=').map_or(t, |(k, _)| k).trim().to_string())
}

/// What is the same on every host: the few layout switches the conf and sbin templates read
/// (every value of a conf file comes from the key table, `keys`).
#[derive(Debug, Clone, Serialize)]
struct ClusterCtx {
    version: &'static str,
    f: crate::catalog::Features,
    /// `LINKIS_HOME`'s default in the sbin scripts.
    home: String,
    /// Gateway sessions are shared through Redis (linkis.properties' sessions heading).
    redis: bool,
}

impl ClusterCtx {
    fn new(m: &Model) -> ClusterCtx {
        ClusterCtx {
            version: m.cluster.version,
            f: m.features,
            home: m.cluster.install_dir.clone(),
            redis: m.sessions.redis.is_some(),
        }
    }
}

/// A value as one shell word: bare when it is made of safe characters, else single-quoted.
pub fn sh_quote(v: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c);
    if !v.is_empty() && v.chars().all(safe) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// One host's view: the host, its services and its scripts (beside the cluster context).
#[derive(Debug, Clone, Serialize)]
struct HostCtx {
    header: String,
    host: HostInfo,
    start: Vec<StepCtx>,
    stop: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct HostInfo {
    name: String,
    services: Vec<SvcCtx>,
    /// `SERVER_JAVA_OPTS` per instance where linkis-gen sets it (logs:, services: java_opts).
    java_opts: Vec<crate::model::logs::JavaOpts>,
}

#[derive(Debug, Clone, Serialize)]
struct SvcCtx {
    #[serde(skip)]
    service: Service,
    daemon: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct StepCtx {
    daemon: Option<&'static str>,
    wait: Option<u32>,
}

impl HostCtx {
    fn new(m: &Model, host: &Host) -> HostCtx {
        let services: Vec<SvcCtx> = host
            .instances
            .iter()
            .map(|i| SvcCtx {
                service: i.service,
                daemon: i.daemon,
            })
            .collect();
        let conf = m.release.line.conf;
        let daemon = |s: Service| host.instance(s).map(|i| i.daemon);
        HostCtx {
            header: format!(
                "Host {} of cluster {} (Linkis {}).",
                host.name, m.cluster.name, m.cluster.version
            ),
            start: host_steps(conf.start, daemon),
            stop: conf.stop.iter().filter_map(|s| daemon(*s)).collect(),
            host: HostInfo {
                name: host.name.clone(),
                services,
                java_opts: host.java_opts.clone(),
            },
        }
    }
}

/// Linkis' start order restricted to one host: the starts of its services, and a wait only
/// between two of them (waits in a row add up).
fn host_steps(steps: &[Step], daemon: impl Fn(Service) -> Option<&'static str>) -> Vec<StepCtx> {
    let mut out: Vec<StepCtx> = Vec::new();
    let mut pending = 0u32;
    for step in steps {
        match *step {
            Step::Wait(n) => {
                if !out.is_empty() {
                    pending += n;
                }
            }
            Step::Start(s) => {
                if let Some(d) = daemon(s) {
                    if pending > 0 {
                        out.push(StepCtx {
                            daemon: None,
                            wait: Some(pending),
                        });
                        pending = 0;
                    }
                    out.push(StepCtx {
                        daemon: Some(d),
                        wait: None,
                    });
                }
            }
        }
    }
    out
}

/// The conf/ and sbin/ files of one host at a time, for render's per-host flow (src/render/mod.rs
/// writes each host's files as they come instead of holding the whole tree): the cluster's part
/// of every context converted once.
pub struct PerHost<'a> {
    model: &'a Model,
    templates: &'a Templates,
    cluster: Value,
    whole: Value,
}

impl<'a> PerHost<'a> {
    pub fn new(model: &'a Model, templates: &'a Templates) -> PerHost<'a> {
        PerHost {
            model,
            templates,
            cluster: Value::from(Serde(&ClusterCtx::new(model))),
            whole: Value::from(Serde(model)),
        }
    }

    /// The model as a template value (`model` in every context), converted once.
    pub fn whole(&self) -> Value {
        self.whole.clone()
    }

    /// The files of one host, in the order `render` gives them, and the key tables of its conf
    /// files.
    pub fn render(&self, host: &Host) -> Result<(Vec<OutFile>, Tables), RenderError> {
        render_host(
            self.model,
            (&self.cluster, &self.whole),
            host,
            self.templates,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Service::*;

    #[test]
    fn waits_only_between_two_starts_of_the_host() {
        let steps = [
            Step::Start(Eureka),
            Step::Start(Gateway),
            Step::Wait(15),
            Step::Start(Linkismanager),
            Step::Wait(20),
            Step::Start(Engineconnmanager),
        ];
        let only = |set: &'static [Service]| move |s: Service| set.contains(&s).then_some(s.name());
        let ecm = host_steps(&steps, only(&[Engineconnmanager]));
        assert_eq!(ecm.len(), 1);
        assert_eq!(ecm[0].daemon, Some("engineconnmanager"));
        let both = host_steps(&steps, only(&[Gateway, Engineconnmanager]));
        assert_eq!(both[1].wait, Some(35));
        let none = host_steps(&steps, only(&[]));
        assert!(none.is_empty());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(sh_quote("/appcom/Install/hadoop"), "/appcom/Install/hadoop");
        assert_eq!(sh_quote("Asia/Shanghai"), "Asia/Shanghai");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn prop_keys_skip_comments() {
        assert_eq!(prop_key("a.b=c=d").as_deref(), Some("a.b"));
        assert_eq!(prop_key("# a=b"), None);
        assert_eq!(prop_key("  "), None);
    }
}
