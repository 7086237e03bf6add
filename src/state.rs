//! The state of a rendered tree: `OUT/.linkis-gen/state.json`, and what runs: `applied.json`.
//!
//! `render` (src/render/state.rs builds it) records per host its address and services with their ports, and per service
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
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use crate::spec::Service;

/// Where the rendered state goes, relative to OUT.
pub const STATE: &str = ".linkis-gen/state.json";
/// What runs, relative to OUT: written by the playbooks, never by `render`.
pub const APPLIED: &str = ".linkis-gen/applied.json";
/// The shared file that holds per-service keys (heap sizes).
pub const ENV_FILE: &str = "conf/linkis-env.sh";
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

/// The SHA-256 of a file's contents, as lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        let _ = write!(s, "{b:02x}");
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
}
