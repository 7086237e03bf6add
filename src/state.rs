//! The state of a rendered tree: `OUT/.linkis-gen/state.json`, and what runs: `applied.json`.
//!
//! `render` records per host its address and services with their ports, and per service
//! instance the files it reads (its conf files and its systemd unit) with a digest of each file
//! and of each key in it, and one digest over all of them. An instance is reconfigured exactly
//! when its digest changes; the per-file and per-key digests let the change plan (src/changes.rs)
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

use crate::model::Model;
use crate::render::OutFile;
use crate::spec::Service;
use crate::write::sha256;

/// Where the rendered state goes, relative to OUT.
pub const STATE: &str = ".linkis-gen/state.json";
/// What runs, relative to OUT: written by the playbooks, never by `render`.
pub const APPLIED: &str = ".linkis-gen/applied.json";
/// The shared file that holds per-service keys (heap sizes).
const ENV_FILE: &str = "conf/linkis-env.sh";
/// The format of state.json; a newer one is refused rather than misread.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format: u32,
    pub cluster: String,
    pub release: String,
    /// `eureka` or `nacos`.
    pub discovery: String,
    pub hosts: BTreeMap<String, HostState>,
    /// The nginx front (`nginx/linkis.conf`): its digest and its upstream servers.
    pub nginx: FileState,
    /// The Ansible (vault) variables the rendered tree references.
    pub vault_variables: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostState {
    pub address: String,
    pub ssh_port: u16,
    /// Every file an instance of this host reads, by path relative to `hosts/<host>/`.
    pub files: BTreeMap<String, FileState>,
    /// Service name (`gateway`) → instance.
    pub services: BTreeMap<String, InstanceState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileState {
    pub sha256: String,
    /// Key → digest of its value (properties keys, YAML paths, shell variables, unit
    /// `[Section] Key`, nginx upstream servers).
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceState {
    pub port: u16,
    /// The systemd unit, without `.service`.
    pub unit: String,
    /// The daemon name Linkis registers it under (`mg-gateway`).
    pub daemon: String,
    /// The files it reads, paths relative to `hosts/<host>/`.
    pub reads: Vec<String>,
    /// Keys of those files that only other services read (their heap variables in
    /// linkis-env.sh): left out of its digest, so that they do not restart it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignores: Vec<String>,
    /// One digest over the files it reads (path and digest of each).
    pub digest: String,
}

impl State {
    /// Pretty JSON with sorted keys and a final newline.
    pub fn to_json(&self) -> String {
        // Through a `Value`, whose maps are sorted, so that every object's keys are.
        let value = serde_json::to_value(self).expect("a state serializes");
        let mut s = serde_json::to_string_pretty(&value).expect("a value serializes");
        s.push('\n');
        s
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
        let path = out.join(APPLIED);
        match std::fs::read_to_string(&path) {
            Ok(text) => State::from_json(&text)
                .map(Some)
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

/// First 16 hex digits of a SHA-256: enough to tell two values apart in a change plan.
fn short(bytes: &[u8]) -> String {
    sha256(bytes)[..16].to_string()
}

/// The state of a rendered tree. `files` are the rendered files before their headers.
pub fn of(model: &Model, files: &[OutFile]) -> State {
    let by_path: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.path.as_str(), f.contents.as_str()))
        .collect();
    let heap_vars: Vec<(Service, &str)> = model
        .release
        .line
        .services
        .iter()
        .filter_map(|i| i.heap_var.map(|v| (i.service, v)))
        .collect();
    let mut hosts = BTreeMap::new();
    for h in &model.hosts {
        let prefix = format!("hosts/{}/", h.name);
        let mut host_files = BTreeMap::new();
        let mut services = BTreeMap::new();
        for inst in &h.instances {
            let mut reads: Vec<String> = inst.reads.iter().map(|f| format!("conf/{f}")).collect();
            reads.push(format!("systemd/{}.service", inst.unit));
            reads.sort();
            let ignores: Vec<String> = heap_vars
                .iter()
                .filter(|(svc, _)| *svc != inst.service)
                .map(|(_, v)| v.to_string())
                .collect();
            let mut all = String::new();
            for r in &reads {
                let Some(text) = by_path.get(format!("{prefix}{r}").as_str()) else {
                    continue;
                };
                let fs = host_files
                    .entry(r.clone())
                    .or_insert_with(|| file_state(r, text));
                if r == ENV_FILE && !ignores.is_empty() {
                    // The keys it reads, not the whole file.
                    for (k, v) in fs.keys.iter().filter(|(k, _)| !ignores.contains(k)) {
                        all.push_str(&format!("{r} {k} {v}\n"));
                    }
                } else {
                    all.push_str(&format!("{r} {}\n", fs.sha256));
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
        hosts.insert(
            h.name.clone(),
            HostState {
                address: h.address.clone(),
                ssh_port: h.ssh_port,
                files: host_files,
                services,
            },
        );
    }
    let nginx = by_path
        .get("nginx/linkis.conf")
        .map(|t| file_state("nginx/linkis.conf", t))
        .unwrap_or(FileState {
            sha256: String::new(),
            keys: BTreeMap::new(),
        });
    State {
        format: FORMAT,
        cluster: model.cluster.name.clone(),
        release: model.cluster.version.to_string(),
        discovery: model.discovery.kind.to_string(),
        hosts,
        nginx,
        vault_variables: model.vault_vars.clone(),
    }
}

/// A file's digest and its keys, by the file's format.
pub fn file_state(path: &str, text: &str) -> FileState {
    FileState {
        sha256: sha256(text.as_bytes()),
        keys: keys_of(path, text)
            .into_iter()
            .map(|(k, v)| (k, short(v.as_bytes())))
            .collect(),
    }
}

/// Key → value of a file, by its format; an unknown format has no keys (its digest still counts).
fn keys_of(path: &str, text: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |k: String, v: &str| {
        out.entry(k)
            .and_modify(|old| {
                old.push('\n');
                old.push_str(v);
            })
            .or_insert_with(|| v.to_string());
    };
    if path.ends_with(".properties") {
        for l in text.lines() {
            if let Some(k) = crate::render::conf::prop_key(l) {
                let v = l.split_once('=').map_or("", |(_, v)| v.trim());
                add(k, v);
            }
        }
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Ok(v) => flatten_yaml("", &v, &mut add),
            Err(_) => add("(unparsed)".into(), text),
        }
    } else if path.ends_with(".sh") {
        for l in text.lines() {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t);
            if let Some((k, v)) = t.split_once('=') {
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    add(k.to_string(), v);
                }
            }
        }
    } else if path.ends_with(".service") {
        let mut section = String::new();
        for l in text.lines() {
            let t = l.trim();
            if t.starts_with('[') && t.ends_with(']') {
                section = t.to_string();
            } else if !t.starts_with('#') {
                if let Some((k, v)) = t.split_once('=') {
                    add(format!("{section} {k}"), v);
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
                    add(format!("upstream {}", addr.trim_end_matches(';')), t);
                }
            } else if let Some(rest) = t.strip_prefix("listen ") {
                add("listen".into(), rest);
            }
        }
    }
    out
}

fn flatten_yaml(prefix: &str, v: &serde_yaml::Value, add: &mut impl FnMut(String, &str)) {
    use serde_yaml::Value as Y;
    match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
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
            let text = serde_yaml::to_string(other).unwrap_or_default();
            add(prefix.to_string(), text.trim());
        }
    }
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
    fn keys_by_format() {
        let p = keys_of("conf/a.properties", "# c\na.b=1\nc = x=y\n");
        assert_eq!(p["a.b"], "1");
        assert_eq!(p["c"], "x=y");
        let y = keys_of(
            "conf/a.yml",
            "eureka:\n  client:\n    serviceUrl:\n      defaultZone: http://a/\n",
        );
        assert_eq!(y["eureka.client.serviceUrl.defaultZone"], "http://a/");
        let u = keys_of(
            "systemd/x.service",
            "[Service]\nEnvironment=A=1\nEnvironment=B=2\n# X=1\n",
        );
        assert_eq!(u["[Service] Environment"], "A=1\nB=2");
        let s = keys_of("conf/linkis-env.sh", "export JAVA_HOME=/j\nX=1\n# Y=2\n");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn state_json_round_trips_with_sorted_keys() {
        let st = State {
            format: FORMAT,
            cluster: "c".into(),
            release: "1.3.2".into(),
            discovery: "eureka".into(),
            hosts: BTreeMap::new(),
            nginx: file_state("nginx/linkis.conf", "server 1.2.3.4:9001;\n"),
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
}
