//! The state of a rendered tree: `OUT/.linkis-gen/state.json`, and what runs: `applied.json`.
//!
//! `render` (src/render/state.rs builds it) records per host its address and services with their ports, and per service
//! instance the files it reads (its conf files and its systemd unit) with a digest of each file
//! and of each key in it, and one digest over all of them. An instance is reconfigured exactly
//! when its digest changes; the per-file and per-key digests let the change plan (src/plan/changes.rs)
//! say which files and keys changed. Values are never stored, only their digests (they are vault
//! references where secret anyway).
//!
//! `applied.json` is a byte copy of `state.json` made by the last successful `site.yml` or
//! `changes.yml` run, on the control node. `render` never writes it; it reads it, when present,
//! for sticky placement (src/size.rs) and the change plan.
//!
//! Digests are taken of the files before their generated-file header, which names the spec's
//! path: rendering the same spec from another path changes nothing that runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::Service;

/// Where the rendered state goes, relative to OUT.
pub const STATE: &str = ".linkis-gen/state.json";
/// What runs, relative to OUT: written by the playbooks, never by `render`.
pub const APPLIED: &str = ".linkis-gen/applied.json";
/// The shared file that holds per-service keys (heap sizes).
pub const ENV_FILE: &str = "conf/linkis-env.sh";
/// The format of state.json; a newer one is refused rather than misread.
pub const FORMAT: u32 = 1;

// Every struct's fields are declared in the sorted order of their JSON names: state.json is
// serialized directly (no intermediate `serde_json::Value`), and its objects' keys must stay
// sorted, byte for byte as before (`tests::direct_json_is_the_sorted_json` holds that).

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub cluster: String,
    /// The database rows linkis-gen seeded (`database.bootstrap: auto`), by a stable id
    /// (`yarn rmWebAddress`, `label *-IDE,spark`): absent in a state written before they were
    /// recorded, and without the bootstrap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub db_rows: BTreeMap<String, DbRow>,
    /// `eureka` or `nacos`.
    pub discovery: String,
    pub format: u32,
    pub hosts: BTreeMap<String, HostState>,
    /// The nginx front (`nginx/linkis.conf`): its digest and its upstream servers.
    pub nginx: FileState,
    pub release: String,
    /// The Ansible (vault) variables the rendered tree references.
    pub vault_variables: Vec<String>,
}

/// One value linkis-gen seeded into Linkis' database: not secret (a secret's row would hold its
/// vault variable's name; none is recorded today: the YARN password is set from the vault only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbRow {
    /// The column that holds it.
    pub column: String,
    /// true: `value` is a part of the column (a `"field":value` of a JSON column); false: the
    /// whole column.
    pub fragment: bool,
    /// The spec path that decides it (`hadoop.yarn_url`).
    pub source: String,
    pub table: String,
    /// The text linkis-gen wrote (the whole column, or the JSON fragment).
    pub value: String,
    /// The row's key, as SQL (`resource_type = 'Yarn' AND name = 'default'`); a whole-column
    /// row is also found by its value.
    #[serde(rename = "where")]
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostState {
    pub address: String,
    /// Every file an instance of this host reads, by path relative to `hosts/<host>/`.
    pub files: BTreeMap<String, FileState>,
    /// Service name (`gateway`) → instance.
    pub services: BTreeMap<String, InstanceState>,
    pub ssh_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileState {
    /// Key → digest of its value, from the model (src/render/state.rs): properties keys, YAML
    /// paths, shell variables (a case arm's `NAME[PATTERN]`), a unit's `[Section] Key`; the nginx
    /// front's `upstream ADDR:PORT`, each with its gateway host's name.
    pub keys: BTreeMap<String, String>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceState {
    /// The daemon name Linkis registers it under (`mg-gateway`).
    pub daemon: String,
    /// One digest over the files it reads (path and digest of each).
    pub digest: String,
    /// Keys of those files that only other services read (their heap variables in
    /// linkis-env.sh): left out of its digest, so that they do not restart it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignores: Vec<String>,
    pub port: u16,
    /// The files it reads, paths relative to `hosts/<host>/`.
    pub reads: Vec<String>,
    /// The systemd unit, without `.service`.
    pub unit: String,
}

/// One host's entry in state.json's `hosts`, as `write_json` writes it (`"name": {...}`, indented
/// to its depth), without the separator before it. Render's per-host jobs make it as soon as
/// the host's state is taken (`State::write_json_hosts` writes them).
pub fn host_json(name: &str, host: &HostState) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(10_000);
    host_json_into(&mut out, &mut Vec::with_capacity(10_000), name, host)?;
    Ok(out)
}

/// `host_json` appended to `out` (`one`: a buffer to reuse).
fn host_json_into(
    out: &mut Vec<u8>,
    one: &mut Vec<u8>,
    name: &str,
    host: &HostState,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, name).map_err(std::io::Error::other)?;
    out.extend_from_slice(b": ");
    one.clear();
    serde_json::to_writer_pretty(&mut *one, host).map_err(std::io::Error::other)?;
    for part in one.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(part);
        if part.ends_with(b"\n") {
            out.extend_from_slice(b"    ");
        }
    }
    Ok(())
}

/// A host-less state's JSON, split where its hosts go (inside `"hosts": {}`).
fn split_at_hosts(bare: &str) -> std::io::Result<(&str, &str)> {
    const AT: &str = "\n  \"hosts\": {}";
    let i = bare
        .find(AT)
        .ok_or_else(|| std::io::Error::other("no hosts key"))?
        + AT.len()
        - 2;
    Ok((&bare[..i], &bare[i + 2..]))
}

impl State {
    /// Pretty JSON with sorted keys and a final newline.
    pub fn to_json(&self) -> String {
        // About 8.5 KB per host: sized once.
        let mut buf = Vec::with_capacity(4096 + 9000 * self.hosts.len());
        self.write_json(&mut buf).expect("a state serializes");
        String::from_utf8(buf).expect("serde_json writes UTF-8")
    }

    /// `to_json` into a writer (no text of the whole state in memory).
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        use std::io::Write as _;
        // Straight from the structs, whose fields are declared in sorted order (see above); maps
        // are BTreeMaps.
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        serde_json::to_writer_pretty(&mut w, self).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        w.flush()
    }

    /// `write_json` with the hosts serialized on every core, in runs of hosts written in order:
    /// the same bytes (each host's object is serialized alone and indented to its depth; JSON
    /// strings hold no raw newline), for a large state.
    pub fn write_json_parallel(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::sync::atomic::{AtomicUsize, Ordering};
        const RUN: usize = 32;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        if self.hosts.len() < 2 * RUN || threads < 2 {
            return self.write_json(w);
        }
        // The state without its hosts, split where they go.
        let bare = self.bare().to_json();
        let (head, tail) = split_at_hosts(&bare)?;
        let hosts: Vec<(&String, &HostState)> = self.hosts.iter().collect();
        let runs: Vec<&[(&String, &HostState)]> = hosts.chunks(RUN).collect();
        let run_json = |k: usize| -> std::io::Result<Vec<u8>> {
            let mut out = Vec::with_capacity(RUN * 10_000);
            let mut one = Vec::with_capacity(10_000);
            for (j, (name, host)) in runs[k].iter().enumerate() {
                out.extend_from_slice(if k == 0 && j == 0 {
                    b"\n    "
                } else {
                    b",\n    "
                });
                host_json_into(&mut out, &mut one, name, host)?;
            }
            Ok(out)
        };
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        w.write_all(head.as_bytes())?;
        w.write_all(b"{")?;
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| -> std::io::Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel(2 * threads);
            for _ in 0..threads {
                let (tx, next, run_json) = (tx.clone(), &next, &run_json);
                let n = runs.len();
                scope.spawn(move || {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n || tx.send((k, run_json(k))).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(tx);
            let mut waiting = BTreeMap::new();
            let mut due = 0;
            for (k, r) in rx {
                waiting.insert(k, r?);
                while let Some(bytes) = waiting.remove(&due) {
                    w.write_all(&bytes)?;
                    due += 1;
                }
            }
            Ok(())
        })?;
        w.write_all(b"\n  }")?;
        w.write_all(tail.as_bytes())?;
        w.flush()
    }

    /// `write_json` of a state whose hosts were serialized already (`host_json`), given in
    /// host-name order in place of its `hosts` (which are not read): the same bytes. With none
    /// given, its own `hosts` are written (`write_json_parallel`).
    pub fn write_json_hosts(
        &self,
        hosts: &[(String, Vec<u8>)],
        w: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        if hosts.is_empty() {
            return self.write_json_parallel(w);
        }
        let bare = self.bare().to_json();
        let (head, tail) = split_at_hosts(&bare)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
        w.write_all(head.as_bytes())?;
        w.write_all(b"{")?;
        for (i, (_, json)) in hosts.iter().enumerate() {
            w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            w.write_all(json)?;
        }
        w.write_all(b"\n  }")?;
        w.write_all(tail.as_bytes())?;
        w.flush()
    }

    /// The state without its hosts.
    fn bare(&self) -> State {
        State {
            cluster: self.cluster.clone(),
            db_rows: self.db_rows.clone(),
            discovery: self.discovery.clone(),
            format: self.format,
            hosts: BTreeMap::new(),
            nginx: self.nginx.clone(),
            release: self.release.clone(),
            vault_variables: self.vault_variables.clone(),
        }
    }

    pub fn from_json(text: &str) -> Result<State, String> {
        let state: State = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if state.format != FORMAT {
            return Err(format!(
                "format {} is not the one this linkis-gen reads ({FORMAT})",
                state.format
            ));
        }
        // Names and addresses of hosts no longer in the spec go into changes.yml as they are:
        // only what a render could have written is accepted.
        let word = |s: &str, extra: &str| {
            !s.is_empty()
                && s.len() <= 253
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(c))
        };
        for (name, h) in &state.hosts {
            if !word(name, "_") || !word(&h.address, ".:[]") {
                return Err(format!(
                    "host {name:?} at {:?} is not a host a render writes",
                    h.address
                ));
            }
            for (svc, i) in &h.services {
                if !word(svc, "") || !word(&i.unit, "") || !word(&i.daemon, "") {
                    return Err(format!(
                        "service {svc:?} of host {name} is not one a render writes"
                    ));
                }
            }
        }
        Ok(state)
    }

    /// Reads `OUT/.linkis-gen/applied.json`: None when absent (a new cluster).
    pub fn read_applied(out: &Path) -> Result<Option<State>, String> {
        Ok(State::read_applied_text(out)?.map(|(state, _)| state))
    }

    /// `read_applied`, with the text the state was read from.
    pub fn read_applied_text(out: &Path) -> Result<Option<(State, String)>, String> {
        let path = out.join(APPLIED);
        match std::fs::read_to_string(&path) {
            Ok(text) => State::from_json(&text)
                .map(|state| Some((state, text)))
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The services a host runs, by name (empty for an unknown host).
    pub fn services_of(&self, host: &str) -> Vec<&str> {
        self.hosts
            .get(host)
            .map(|h| h.services.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// The SHA-256 of a file's contents, as lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The first 16 hex digits of a SHA-256: enough to tell two values apart in a change plan.
pub fn sha256_short(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes)[..8])
}

/// Lowercase hex of bytes, through a table (`write!("{b:02x}")` per byte cost 8% of a render).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Sticky placement of a host that declares neither `roles:` nor `services:`, when the cluster
/// runs: the services it runs now (those this release has), or, for a host that runs none (new to
/// the cluster), `ecm`. The bool says whether the host is new.
pub fn sticky_services(
    applied: &State,
    host: &str,
    ecm: &[Service],
    in_release: impl Fn(Service) -> bool,
) -> (Vec<Service>, bool) {
    let mut kept: Vec<Service> = applied
        .services_of(host)
        .into_iter()
        .filter_map(service_named)
        .filter(|s| in_release(*s))
        .collect();
    kept.sort();
    if kept.is_empty() {
        (ecm.to_vec(), !applied.hosts.contains_key(host))
    } else {
        (kept, false)
    }
}

/// The spec's name of a service recorded in a state, if this build knows it.
pub fn service_named(name: &str) -> Option<Service> {
    Service::ALL.iter().copied().find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_json_round_trips_with_sorted_keys() {
        let st = State {
            db_rows: BTreeMap::new(),
            format: FORMAT,
            cluster: "c".into(),
            release: "1.3.2".into(),
            discovery: "eureka".into(),
            hosts: BTreeMap::new(),
            nginx: FileState {
                sha256: "0".repeat(64),
                keys: BTreeMap::from([("upstream 1.2.3.4:9001".into(), "ab".into())]),
            },
            vault_variables: vec!["v".into()],
        };
        let text = st.to_json();
        let i = |k: &str| text.find(k).unwrap();
        assert!(i("\"cluster\"") < i("\"discovery\"") && i("\"discovery\"") < i("\"format\""));
        assert_eq!(State::from_json(&text).unwrap(), st);
        assert!(State::from_json("{").is_err());
        assert!(State::from_json(&text.replace("\"format\": 1", "\"format\": 9")).is_err());
        let mut evil = st.clone();
        evil.hosts.insert(
            "s9".into(),
            HostState {
                address: "1.2.3.4, ssh_port: 1 }".into(),
                ssh_port: 22,
                files: BTreeMap::new(),
                services: BTreeMap::new(),
            },
        );
        assert!(State::from_json(&evil.to_json()).is_err());
    }

    /// The JSON a state had when it went through a `serde_json::Value` (sorted keys).
    fn sorted_json(st: &State) -> String {
        let value = serde_json::to_value(st).unwrap();
        let mut s = serde_json::to_string_pretty(&value).unwrap();
        s.push('\n');
        s
    }

    #[test]
    fn direct_json_is_the_sorted_json() {
        let file = FileState {
            keys: BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]),
            sha256: sha256(b"x"),
        };
        let inst = |ignores: Vec<String>| InstanceState {
            daemon: "mg-gateway".into(),
            digest: sha256(b"d"),
            ignores,
            port: 9001,
            reads: vec!["conf/a.properties".into()],
            unit: "linkis-mg-gateway".into(),
        };
        let st = State {
            db_rows: BTreeMap::new(),
            cluster: "c".into(),
            discovery: "eureka".into(),
            format: FORMAT,
            hosts: BTreeMap::from([(
                "s1".into(),
                HostState {
                    address: "10.0.0.1".into(),
                    files: BTreeMap::from([("conf/a.properties".into(), file.clone())]),
                    services: BTreeMap::from([
                        ("gateway".into(), inst(vec!["X_HEAP".into()])),
                        ("eureka".into(), inst(vec![])),
                    ]),
                    ssh_port: 22,
                },
            )]),
            nginx: file,
            release: "1.3.2".into(),
            vault_variables: vec!["v".into()],
        };
        assert_eq!(st.to_json(), sorted_json(&st));
    }

    #[test]
    fn parallel_json_is_the_json() {
        let file = FileState {
            keys: BTreeMap::from([("k\"ey".into(), "2".into()), ("a".into(), "1".into())]),
            sha256: sha256(b"x"),
        };
        let inst = InstanceState {
            daemon: "mg-gateway".into(),
            digest: sha256(b"d"),
            ignores: vec!["X".into()],
            port: 9001,
            reads: vec!["conf/a.properties".into()],
            unit: "linkis-mg-gateway".into(),
        };
        let hosts = (0..150)
            .map(|i| {
                let h = HostState {
                    address: format!("10.0.0.{i}"),
                    files: BTreeMap::from([("conf/a\nb.properties".into(), file.clone())]),
                    services: BTreeMap::from([("gateway".into(), inst.clone())]),
                    ssh_port: 22,
                };
                (format!("h{i}"), h)
            })
            .collect();
        let st = State {
            db_rows: BTreeMap::new(),
            cluster: "c \"hosts\": {}".into(),
            discovery: "eureka".into(),
            format: FORMAT,
            hosts,
            nginx: file,
            release: "1.3.2".into(),
            vault_variables: vec!["v".into()],
        };
        let mut par = Vec::new();
        st.write_json_parallel(&mut par).unwrap();
        assert_eq!(String::from_utf8(par).unwrap(), st.to_json());
        // Hosts serialized one at a time (render's per-host jobs), given in name order.
        let each: Vec<(String, Vec<u8>)> = st
            .hosts
            .iter()
            .map(|(n, h)| (n.clone(), host_json(n, h).unwrap()))
            .collect();
        let mut spliced = Vec::new();
        st.write_json_hosts(&each, &mut spliced).unwrap();
        assert_eq!(String::from_utf8(spliced).unwrap(), st.to_json());
    }

    #[test]
    fn hex_is_lowercase_and_short_digests_are_prefixes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(sha256_short(b"abc"), sha256(b"abc")[..16]);
    }
}
