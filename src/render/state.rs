//! Builds `OUT/.linkis-gen/state.json` (the types and rules: src/state.rs) from the model and the
//! files as they are built, before their generated-file headers.
//!
//! Each file a service reads, and nginx's, has its state taken as it passes on its way out
//! (src/render/mod.rs `Prep`: `file_state_with`, carried beside the files as `Built`); a host's
//! job, which builds the host's conf files and units, puts the host's state together (`host_of`);
//! `with_hosts` adds the cluster's part and nginx's. Value digests go through `Digests`, a memo: a cluster's thousand hosts hold the
//! same few hundred values, each hashed once. A `.yml` file's keys come from a line scanner for
//! the block mappings the templates write, each scalar read by serde_norway once per distinct
//! text (so a value means what a YAML reader reads); anything else (sequences, flow collections,
//! block scalars, anchors, duplicate keys) goes through the whole-file YAML parser as before, so
//! the digests are the same whatever a template writes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::model::Model;
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

/// The state of one host: its instances and the files they read, whose states are taken from
/// `built` (removed from it). Render's per-host jobs call it with the host's own files (its
/// conf/ and its units), as soon as they are built.
pub fn host_of(h: &crate::model::Host, heap: &[(Service, &str)], built: &mut Built) -> HostState {
    let prefix = format!("hosts/{}/", h.name);
    let mut host_files: BTreeMap<String, FileState> = BTreeMap::new();
    let mut services = BTreeMap::new();
    for inst in &h.instances {
        let mut reads: Vec<String> = inst.reads.iter().map(|f| format!("conf/{f}")).collect();
        reads.push(format!("systemd/{}.service", inst.unit));
        reads.sort();
        let ignores: Vec<String> = heap
            .iter()
            .filter(|(svc, _)| *svc != inst.service)
            .map(|(_, v)| v.to_string())
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
    let mut pairs = keys_of(path, text, memo);
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

/// Key → value of a file in file order, by its format (a key may repeat: its values are joined
/// by a newline); an unknown format has no keys (its digest still counts).
fn keys_of<'a>(path: &str, text: &'a str, memo: &mut Digests) -> Vec<(String, Cow<'a, str>)> {
    let mut out: Vec<(String, Cow<'a, str>)> = Vec::new();
    if path.ends_with(".properties") {
        for l in text.lines() {
            if let Some(k) = super::conf::prop_key(l) {
                let v = l.split_once('=').map_or("", |(_, v)| v.trim());
                out.push((k, Cow::Borrowed(v)));
            }
        }
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        match yaml_lines(text, memo) {
            Some(pairs) => out = pairs,
            None => {
                let mut add = |k: String, v: &str| out.push((k, Cow::Owned(v.to_string())));
                match serde_norway::from_str::<serde_norway::Value>(text) {
                    Ok(v) => flatten_yaml("", &v, &mut add),
                    Err(_) => add("(unparsed)".into(), text),
                }
            }
        }
    } else if path.ends_with(".sh") {
        for l in text.lines() {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t);
            if let Some((k, v)) = t.split_once('=') {
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.push((k.to_string(), Cow::Borrowed(v)));
                }
            }
        }
    } else if path.ends_with(".service") {
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

/// The flattened keys of a YAML text made only of block mappings with plain keys and one-line
/// scalar values (what the conf templates write), in file order, each value as serde_norway
/// reads and writes it back; None for anything else, which then takes the whole-file parser.
fn yaml_lines<'a>(text: &str, memo: &mut Digests) -> Option<Vec<(String, Cow<'a, str>)>> {
    struct Frame {
        indent: usize,
        path: String,
        /// The indentation of its keys, once the first one is seen.
        child: Option<usize>,
        keys: Vec<String>,
    }
    let mut stack = vec![Frame {
        indent: 0,
        path: String::new(),
        child: Some(0),
        keys: Vec::new(),
    }];
    // A key with nothing after its colon: a parent if more-indented keys follow, else null.
    let mut pending: Option<(usize, String)> = None;
    let mut out: Vec<(String, Cow<'a, str>)> = Vec::new();
    if text.contains('\r') {
        return None;
    }
    for line in text.lines() {
        if line.contains('\t') {
            return None;
        }
        let t = line.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - t.len();
        let (key, rest) = match t.find(": ") {
            Some(i) => (&t[..i], t[i + 2..].trim_matches(' ')),
            None => (t.strip_suffix(':')?, ""),
        };
        if !plain_key(key) {
            return None;
        }
        if let Some((pi, ppath)) = pending.take() {
            if indent > pi {
                stack.push(Frame {
                    indent: pi,
                    path: ppath,
                    child: None,
                    keys: Vec::new(),
                });
            } else {
                out.push((ppath, Cow::Borrowed("null")));
            }
        }
        while stack.len() > 1 && stack.last().is_some_and(|f| f.indent >= indent) {
            stack.pop();
        }
        let parent = stack.last_mut()?;
        match parent.child {
            None => parent.child = Some(indent),
            Some(c) if c != indent => return None,
            Some(_) => {}
        }
        if parent.keys.iter().any(|k| k == key) {
            return None;
        }
        parent.keys.push(key.to_string());
        let path = if parent.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", parent.path)
        };
        if rest.is_empty() || rest.starts_with('#') {
            pending = Some((indent, path));
            continue;
        }
        if rest.starts_with([
            '|', '>', '&', '*', '!', '[', '{', '@', '`', '%', '?', ',', '-',
        ]) || rest.starts_with("...")
        {
            return None;
        }
        out.push((path, Cow::Owned(memo.yaml_scalar(rest)?)));
    }
    if let Some((_, ppath)) = pending {
        out.push((ppath, Cow::Borrowed("null")));
    }
    (!out.is_empty()).then_some(out)
}

/// A mapping key that serde_norway reads as that same string.
fn plain_key(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !matches!(
            k,
            "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        )
}

fn flatten_yaml(prefix: &str, v: &serde_norway::Value, add: &mut impl FnMut(String, &str)) {
    use serde_norway::Value as Y;
    match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s.clone(),
                    other => serde_norway::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                let path = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_yaml(&path, v, add);
            }
        }
        other => {
            let text = serde_norway::to_string(other).unwrap_or_default();
            add(prefix.to_string(), text.trim());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key → value (repeated keys joined), as the digests are taken of them.
    fn keys(path: &str, text: &str) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in keys_of(path, text, &mut Digests::default()) {
            m.entry(k)
                .and_modify(|o| {
                    o.push('\n');
                    o.push_str(&v);
                })
                .or_insert_with(|| v.into_owned());
        }
        m
    }

    /// The whole-file parser's keys (what every YAML file went through before the scanner).
    fn parsed(text: &str) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        let mut add = |k: String, v: &str| {
            m.entry(k)
                .and_modify(|o| {
                    o.push('\n');
                    o.push_str(v);
                })
                .or_insert_with(|| v.to_string());
        };
        match serde_norway::from_str::<serde_norway::Value>(text) {
            Ok(v) => flatten_yaml("", &v, &mut add),
            Err(_) => add("(unparsed)".into(), text),
        }
        m
    }

    #[test]
    fn keys_by_format() {
        let p = keys("conf/a.properties", "# c\na.b=1\nc = x=y\n");
        assert_eq!(p["a.b"], "1");
        assert_eq!(p["c"], "x=y");
        let y = keys(
            "conf/a.yml",
            "eureka:\n  client:\n    serviceUrl:\n      defaultZone: http://a/\n",
        );
        assert_eq!(y["eureka.client.serviceUrl.defaultZone"], "http://a/");
        let u = keys(
            "systemd/x.service",
            "[Service]\nEnvironment=A=1\nEnvironment=B=2\n# X=1\n",
        );
        assert_eq!(u["[Service] Environment"], "A=1\nB=2");
        let s = keys("conf/linkis-env.sh", "export JAVA_HOME=/j\nX=1\n# Y=2\n");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn the_yaml_scanner_reads_what_the_yaml_parser_reads() {
        let cases = [
            "a:\n  b: 1\n  c: \"1.3.2\"\nd: x # comment\n",
            "spring:\n  application:\n    name: linkis\n  servlet:\n    multipart:\n      max: 500MB\n",
            "m:\n  p: ${prometheus.path:${prometheus.endpoint}}\n  q: '${a:/b/c}'\n",
            "a:\nb:\n  # nothing\nc: ~\nd: null\ne: true\nf: 'yes'\ng: 0x1F\nh: 010\ni: .inf\n",
            "a: 1\na: 2\n",
            "a:\n  - 1\n  - 2\n",
            "a: [1, 2]\nb: {c: 1}\n",
            "a: |\n  text\n",
            "a: &x 1\nb: *x\n",
            "a: x\n  y\n",
            "a:\n    b: 1\n  c: 2\n",
            "  a: 1\n",
            "a: \"x\n  y\"\n",
            "a: b: c\n",
            "'q': 1\nnull: 2\n",
            "a: 1\n---\nb: 2\n",
            "a:\tb\n",
            "# only a comment\n",
            "",
            "a: 1\r\nb: 2\r\n",
            "k: \"a # b\" # c\nl: 'it''s'\nm: -1\nn: \"\"\n",
            "x.y: 1\nx:\n  y: 2\n",
        ];
        for text in cases {
            assert_eq!(keys("c/a.yml", text), parsed(text), "{text:?}");
        }
    }

    #[test]
    fn digests_are_memoised_and_the_same_as_without() {
        let text = "a=1\nb=1\nc=2\n";
        let mut memo = Digests::default();
        let fs = file_state_with("x.properties", text, &mut memo);
        assert_eq!(fs, file_state("x.properties", text));
        assert_eq!(fs.keys["a"], sha256_short(b"1"));
        assert_eq!(memo.short.len(), 2);
    }
}
