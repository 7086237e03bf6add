//! Builds `OUT/.linkis-gen/state.json` (the types and rules: src/state.rs) from the model and the
//! files as they are built, before their generated-file headers.
//!
//! Each file a service reads, and nginx's, has its state taken as it passes on its way out
//! (src/render/mod.rs `Prep`, carried beside the files as `Built`); a host's job, which builds
//! the host's conf files and units, puts the host's state together (`host_of`); `with_hosts` adds
//! the cluster's part and nginx's.
//!
//! A file's digest is of its text. A conf file's keys come from its key table
//! (src/model/keys.rs, `table_state`): each key's digest is of its value as the file writes it,
//! never read back from the text (tests/state_keys.rs reads the text back and finds the same
//! keys and values). A systemd unit's and the nginx front's keys, which no table holds, come
//! from their lines (`keys_of`). Value digests go through `Digests`, a memo: a cluster's thousand
//! hosts hold the same few hundred values, each hashed once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::model::Model;
use crate::model::keys::{FileKeys, Syntax};
use crate::spec::Service;
use crate::state::{ENV_FILE, FORMAT, FileState, HostState, InstanceState, State};
use crate::state::{sha256, sha256_short};

/// The states of the files conf.rs built, by path relative to OUT.
pub type Built = HashMap<String, FileState>;

/// Memoised value digests (see the module docs). Bounded: cleared when it grows past `LIMIT`.
#[derive(Default)]
pub struct Digests {
    short: HashMap<String, String>,
    yaml: HashMap<String, Option<String>>,
}

impl Digests {
    const LIMIT: usize = 200_000;

    /// The short digest of a value (first 16 hex digits of its SHA-256).
    fn short(&mut self, v: &str) -> String {
        if let Some(d) = self.short.get(v) {
            return d.clone();
        }
        if self.short.len() >= Self::LIMIT {
            self.short.clear();
        }
        let d = sha256_short(v.as_bytes());
        self.short.insert(v.to_string(), d.clone());
        d
    }

    /// A YAML scalar's text as the whole-file path writes it (serde_norway's reading of it,
    /// written back), or None when the text is not one scalar.
    fn yaml_scalar(&mut self, raw: &str) -> Option<String> {
        if let Some(v) = self.yaml.get(raw) {
            return v.clone();
        }
        if self.yaml.len() >= Self::LIMIT {
            self.yaml.clear();
        }
        use serde_norway::Value as Y;
        let v = match serde_norway::from_str::<Y>(raw) {
            Ok(v @ (Y::Null | Y::Bool(_) | Y::Number(_) | Y::String(_))) => Some(
                serde_norway::to_string(&v)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            ),
            _ => None,
        };
        self.yaml.insert(raw.to_string(), v.clone());
        v
    }
}

/// The heap variables of linkis-env.sh, each with the service that reads it.
pub fn heap_vars(model: &Model) -> Vec<(Service, &'static str)> {
    model
        .release
        .line
        .services
        .iter()
        .filter_map(|i| i.heap_var.map(|v| (i.service, v)))
        .collect()
}

/// The keys of linkis-env.sh that one service reads and the host's others ignore: the release's
/// heap variables, then the keys of the host's table read by one service only (`Key::service`:
/// a heap or `SERVER_JAVA_OPTS` case arm).
pub fn owned_keys(heap: &[(Service, &str)], env: Option<&FileKeys>) -> Vec<(Service, String)> {
    let mut owned: Vec<(Service, String)> = heap.iter().map(|(s, v)| (*s, v.to_string())).collect();
    for k in env.iter().flat_map(|t| t.keys()) {
        if let Some(s) = k.service
            && !owned.iter().any(|(_, v)| *v == k.key)
        {
            owned.push((s, k.key.clone()));
        }
    }
    owned
}

/// The state of one host: its instances and the files they read, whose states are taken from
/// `built` (removed from it). Render's per-host jobs call it with the host's own files (its
/// conf/ and its units), as soon as they are built; `owned` from `owned_keys`.
pub fn host_of(
    h: &crate::model::Host,
    owned: &[(Service, String)],
    built: &mut Built,
) -> HostState {
    let prefix = format!("hosts/{}/", h.name);
    let mut host_files: BTreeMap<String, FileState> = BTreeMap::new();
    let mut services = BTreeMap::new();
    for inst in &h.instances {
        let mut reads: Vec<String> = inst.reads.iter().map(|f| format!("conf/{f}")).collect();
        reads.push(format!("systemd/{}.service", inst.unit));
        reads.sort();
        let ignores: Vec<String> = owned
            .iter()
            .filter(|(svc, _)| *svc != inst.service)
            .map(|(_, v)| v.clone())
            .collect();
        let mut all = String::new();
        for r in &reads {
            if !host_files.contains_key(r) {
                let path = format!("{prefix}{r}");
                let Some(fs) = built.remove(&path) else {
                    continue;
                };
                host_files.insert(r.clone(), fs);
            }
            let fs = &host_files[r];
            if r == ENV_FILE && !ignores.is_empty() {
                // The keys it reads, not the whole file.
                for (k, v) in fs.keys.iter().filter(|(k, _)| !ignores.contains(k)) {
                    push_line(&mut all, &[r, " ", k, " ", v]);
                }
            } else {
                push_line(&mut all, &[r, " ", &fs.sha256]);
            }
        }
        let ignores = if reads.iter().any(|r| r == ENV_FILE) {
            ignores
        } else {
            Vec::new()
        };
        services.insert(
            inst.name.to_string(),
            InstanceState {
                port: inst.port,
                unit: inst.unit.clone(),
                daemon: inst.daemon.to_string(),
                reads,
                ignores,
                digest: sha256(all.as_bytes()),
            },
        );
    }
    HostState {
        address: h.address.clone(),
        ssh_port: h.ssh_port,
        files: host_files,
        services,
    }
}

/// The state of a tree whose hosts' states are taken (`host_of`): the cluster's part and the
/// nginx front (from `built`).
pub fn with_hosts(model: &Model, hosts: BTreeMap<String, HostState>, mut built: Built) -> State {
    let nginx = built.remove(NGINX).unwrap_or(FileState {
        sha256: String::new(),
        keys: BTreeMap::new(),
    });
    State {
        format: FORMAT,
        cluster: model.cluster.name.clone(),
        db_rows: model.setup.dbboot.rows.clone(),
        release: model.cluster.version.to_string(),
        discovery: model.discovery.kind.to_string(),
        hosts,
        nginx,
        vault_variables: model.vault_vars.clone(),
    }
}

/// The nginx front's file, whose state is the state's `nginx`.
const NGINX: &str = "nginx/linkis.conf";

/// The paths (relative to OUT) of every file whose state `of` records: the files each service
/// instance reads and the nginx front. A flow that does not keep the rendered texts takes the
/// state of each of these as it passes (`file_state_with`) and gives them to `of` as `built`.
pub fn wanted(model: &Model) -> std::collections::HashSet<String> {
    let mut paths = std::collections::HashSet::new();
    for h in &model.hosts {
        for inst in &h.instances {
            for f in &inst.reads {
                paths.insert(format!("hosts/{}/conf/{f}", h.name));
            }
            paths.insert(format!("hosts/{}/systemd/{}.service", h.name, inst.unit));
        }
    }
    paths.insert(NGINX.to_string());
    paths
}

fn push_line(s: &mut String, parts: &[&str]) {
    for p in parts {
        s.push_str(p);
    }
    s.push('\n');
}

/// A file's digest and its keys, by the file's format.
pub fn file_state(path: &str, text: &str) -> FileState {
    file_state_with(path, text, &mut Digests::default())
}

/// `file_state` with a shared memo of value digests.
pub fn file_state_with(path: &str, text: &str, memo: &mut Digests) -> FileState {
    let pairs = keys_of(path, text);
    state_of(pairs, text, memo)
}

/// A conf file's state from its key table (src/model/keys.rs): the digest of its text, and each
/// key's digest of its value as the file writes it (`conf::written_value`), a YAML value as a
/// YAML reader reads it (the scalar written back by serde_norway): the values the model holds,
/// never read back from the text.
pub fn table_state(table: &FileKeys, text: &str, memo: &mut Digests) -> FileState {
    let pairs: Vec<(String, Cow<'_, str>)> = table
        .keys()
        .map(|k| {
            let written = super::conf::written_value(k);
            let v = match k.syntax {
                Syntax::Yaml | Syntax::YamlQuoted => memo.yaml_scalar(&written).unwrap_or(written),
                _ => written,
            };
            (k.key.clone(), Cow::Owned(v))
        })
        .collect();
    state_of(pairs, text, memo)
}

/// A file's state from its keys in file order: a repeated key's values are joined.
fn state_of(mut pairs: Vec<(String, Cow<'_, str>)>, text: &str, memo: &mut Digests) -> FileState {
    // A repeated key's values, joined in file order: the sort is stable.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut keys: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    let mut it = pairs.into_iter().peekable();
    while let Some((k, v)) = it.next() {
        let digest = if it.peek().is_some_and(|(next, _)| *next == k) {
            let mut joined = v.into_owned();
            while let Some((_, more)) = it.next_if(|(next, _)| *next == k) {
                joined.push('\n');
                joined.push_str(&more);
            }
            memo.short(&joined)
        } else {
            memo.short(&v)
        };
        keys.push((k, digest));
    }
    FileState {
        sha256: sha256(text.as_bytes()),
        // Sorted and unique: built in bulk.
        keys: keys.into_iter().collect(),
    }
}

/// Key → value of a file that has no key table, in file order (a key may repeat: its values are
/// joined by a newline): a systemd unit's `[Section] Key` lines, the nginx front's upstream
/// servers and listen; any other file has no keys (its digest still counts). The conf files'
/// keys come from their tables (`table_state`).
fn keys_of<'a>(path: &str, text: &'a str) -> Vec<(String, Cow<'a, str>)> {
    let mut out: Vec<(String, Cow<'a, str>)> = Vec::new();
    if path.ends_with(".service") {
        let mut section = "";
        for l in text.lines() {
            let t = l.trim();
            if t.starts_with('[') && t.ends_with(']') {
                section = t;
            } else if !t.starts_with('#') {
                if let Some((k, v)) = t.split_once('=') {
                    out.push((format!("{section} {k}"), Cow::Borrowed(v)));
                }
            }
        }
    } else if path.ends_with(".conf") {
        // nginx: the upstream servers (what a reload changes for the gateways), and the listen.
        for l in text.lines() {
            let t = l.trim();
            if let Some(rest) = t.strip_prefix("server ") {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                if addr.contains(':') {
                    out.push((
                        format!("upstream {}", addr.trim_end_matches(';')),
                        Cow::Borrowed(t),
                    ));
                }
            } else if let Some(rest) = t.strip_prefix("listen ") {
                out.push(("listen".into(), Cow::Borrowed(rest)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_keys_are_its_sections_lines_and_nginxs_its_upstreams_and_listen() {
        let u = file_state(
            "systemd/x.service",
            "[Service]\nEnvironment=A=1\nEnvironment=B=2\n# X=1\n",
        );
        assert_eq!(u.keys["[Service] Environment"], sha256_short(b"A=1\nB=2"));
        assert_eq!(u.keys.len(), 1);
        let n = file_state(
            "nginx/linkis.conf",
            "upstream g {\n  server 10.0.0.1:9001 max_fails=3;\n}\nserver {\n  listen 80;\n}\n",
        );
        let names: Vec<&String> = n.keys.keys().collect();
        assert_eq!(names, ["listen", "upstream 10.0.0.1:9001"]);
        assert!(
            file_state("conf/log4j2.xml", "<x a=\"1\"/>")
                .keys
                .is_empty()
        );
    }

    #[test]
    fn digests_are_memoised_and_the_same_as_without() {
        let text = "[Service]\nA=1\nB=1\nC=2\n";
        let mut memo = Digests::default();
        let fs = file_state_with("x.service", text, &mut memo);
        assert_eq!(fs, file_state("x.service", text));
        assert_eq!(fs.keys["[Service] A"], sha256_short(b"1"));
        assert_eq!(memo.short.len(), 2);
    }

    /// A `.properties` key is named as `java.util.Properties` reads it, whatever its escaping.
    #[test]
    fn an_escaped_properties_key_is_named_as_java_reads_it() {
        let table = FileKeys {
            file: "linkis.properties".into(),
            blocks: vec![(
                crate::model::keys::Block::Overrides,
                vec![crate::model::keys::Key {
                    key: "a=b c:d".into(),
                    value: " v\\".into(),
                    origin: crate::model::keys::Origin::spec("overrides"),
                    syntax: Syntax::Data,
                    place: crate::model::keys::Place::Line,
                    service: None,
                    replaced: Vec::new(),
                }],
            )],
        };
        let fs = table_state(&table, "", &mut Digests::default());
        assert_eq!(
            fs.keys.keys().collect::<Vec<_>>(),
            ["a=b c:d"],
            "the text scanner read `a\\` here"
        );
        assert_eq!(fs.keys["a=b c:d"], sha256_short(br"\ v\\"));
    }
}
