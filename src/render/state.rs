//! Builds `OUT/.linkis-gen/state.json` (the types and rules: src/state.rs) from the model and the
//! rendered files, before their generated-file headers.

use std::collections::BTreeMap;

use super::OutFile;
use crate::model::Model;
use crate::spec::Service;
use crate::state::sha256;
use crate::state::{ENV_FILE, FORMAT, FileState, HostState, InstanceState, State};

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
            if let Some(k) = super::conf::prop_key(l) {
                let v = l.split_once('=').map_or("", |(_, v)| v.trim());
                add(k, v);
            }
        }
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        match serde_norway::from_str::<serde_norway::Value>(text) {
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
}
