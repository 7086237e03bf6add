//! Builds `OUT/.linkis-gen/state.json` (the types and rules: src/state.rs) from the model and the
//! files as they are built, before their generated-file headers.
//!
//! Each file a service reads, and nginx's, has its state taken as it passes on its way out
//! (src/render/mod.rs `Prep`, carried beside the files as `Built`); a host's job, which builds
//! the host's conf files and units, puts the host's state together (`host_of`); `with_hosts` adds
//! the cluster's part and nginx's.
//!
//! A file's digest is of its text. A conf file's and a systemd unit's keys come from their key
//! tables (src/model/keys.rs, `table_state`): each key's digest is of its value as the file
//! writes it, never read back from the text (tests/state_keys.rs reads the text back and finds
//! the same keys and values). The nginx front's keys are the model's gateways
//! (`upstream_keys`). Value digests go through `Digests`, a memo: a cluster's thousand hosts hold
//! the same few hundred values, each hashed once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::model::Model;
use crate::model::keys::{FileKeys, Place, Syntax};
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
/// nginx front (its digest from `built`, its keys from the model: `upstream_keys`).
pub fn with_hosts(model: &Model, hosts: BTreeMap<String, HostState>, mut built: Built) -> State {
    let nginx = match built.remove(NGINX) {
        Some(f) => FileState {
            sha256: f.sha256,
            keys: upstream_keys(model),
        },
        None => FileState {
            sha256: String::new(),
            keys: BTreeMap::new(),
        },
    };
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

/// The nginx front's keys: the gateways the model puts behind its upstream, `upstream ADDR:PORT`
/// (what a reload adds and removes, src/plan/changes.rs), each with the digest of its host's
/// name. Anything else of the file (its listen, TLS) changes its digest only.
fn upstream_keys(model: &Model) -> BTreeMap<String, String> {
    model
        .gateway
        .endpoints
        .iter()
        .map(|e| {
            (
                format!("upstream {}", crate::spec::host_port(&e.address, e.port)),
                sha256_short(e.host.as_bytes()),
            )
        })
        .collect()
}

/// The nginx front's file, whose state is the state's `nginx`.
const NGINX: &str = "nginx/linkis.conf";

/// The paths (relative to OUT) of every file whose state is recorded: the files each service
/// instance reads and the nginx front, each taken as it passes (src/render/mod.rs `Prep`).
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

/// The state of a file no key table holds (log4j2.xml, the nginx front): its digest.
pub fn file_state(text: &str) -> FileState {
    FileState {
        sha256: sha256(text.as_bytes()),
        keys: BTreeMap::new(),
    }
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
            let name = match k.place {
                Place::Directive { section } => format!("[{section}] {}", k.key),
                _ => k.key.clone(),
            };
            (name, Cow::Owned(v))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: &str, value: &str, syntax: Syntax, place: Place) -> crate::model::keys::Key {
        crate::model::keys::Key {
            key: key.into(),
            value: value.into(),
            origin: crate::model::keys::Origin::spec("x"),
            syntax,
            place,
            service: None,
            replaced: Vec::new(),
        }
    }

    fn table(keys: Vec<crate::model::keys::Key>) -> FileKeys {
        FileKeys {
            file: "f".into(),
            blocks: vec![(crate::model::keys::Block::Template("t"), keys)],
        }
    }

    #[test]
    fn digests_are_memoised_and_a_repeated_directive_is_joined_in_file_order() {
        let d = |v| Place::Directive { section: v };
        let t = table(vec![
            key("Type", "forking", Syntax::Directive, d("Service")),
            key("Environment", "A=1", Syntax::Directive, d("Service")),
            key("Environment", "B=2", Syntax::Directive, d("Service")),
            key("User", "forking", Syntax::Directive, d("Service")),
        ]);
        let mut memo = Digests::default();
        let fs = table_state(&t, "text", &mut memo);
        assert_eq!(fs.sha256, sha256(b"text"));
        assert_eq!(fs.keys["[Service] Environment"], sha256_short(b"A=1\nB=2"));
        assert_eq!(fs.keys["[Service] Type"], fs.keys["[Service] User"]);
        assert_eq!(fs.keys.len(), 3);
        assert_eq!(memo.short.len(), 2, "forking, and the joined environment");
    }

    #[test]
    fn a_yaml_value_is_digested_as_a_yaml_reader_reads_it() {
        let y = |v, s| key("a.b", v, s, Place::Line);
        let mut memo = Digests::default();
        let quoted = table_state(&table(vec![y("1.8.0", Syntax::YamlQuoted)]), "", &mut memo);
        let plain = table_state(&table(vec![y("1.8.0", Syntax::Yaml)]), "", &mut memo);
        assert_eq!(quoted.keys, plain.keys);
        let word = table_state(&table(vec![y("true", Syntax::YamlQuoted)]), "", &mut memo);
        let boolean = table_state(&table(vec![y("true", Syntax::Yaml)]), "", &mut memo);
        assert_ne!(word.keys, boolean.keys, "a string is not a boolean");
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
