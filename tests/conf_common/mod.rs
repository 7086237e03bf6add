//! Helpers shared by the conf-tree tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};
use linkis_gen::size::Plan;

pub fn plan_of(name: &str, text: &str) -> Plan {
    let src = Source::new(name, text.as_bytes().to_vec());
    match linkis_gen::plan(&src) {
        Ok(p) => p,
        Err(d) => panic!("{name} does not plan: {d:#?}"),
    }
}

/// The deployment guide's five layouts (examples/), relative to the crate root.
pub const GUIDES: [&str; 5] = [
    "examples/guide-50-users.yaml",
    "examples/guide-100-users.yaml",
    "examples/guide-300-users.yaml",
    "examples/guide-500-users.yaml",
    "examples/guide-800-users.yaml",
];

pub fn example(name: &str) -> String {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The per-host files (hosts/...) of a rendered spec, by path.
pub fn host_files(name: &str, text: &str) -> BTreeMap<String, OutFile> {
    let plan = plan_of(name, text);
    let files = render::render(
        &linkis_gen::model::resolve(&plan),
        &RenderOptions::default(),
    )
    .expect("renders");
    files
        .into_iter()
        .filter(|f| {
            f.path.starts_with("hosts/") && (f.path.contains("/conf/") || f.path.contains("/sbin/"))
        })
        .map(|f| (f.path.clone(), f))
        .collect()
}

pub fn file<'a>(files: &'a BTreeMap<String, OutFile>, path: &str) -> &'a str {
    &files
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not rendered; have: {:?}", files.keys()))
        .contents
}

/// `key=value` pairs of a properties text, in order (comments skipped).
/// The contents of a rendered file of a whole tree, by its path; panics naming a missing one.
pub fn get<'a>(files: &'a [OutFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not rendered"))
        .contents
}

pub fn props(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.trim().to_string(), v.to_string())
        })
        .collect()
}

pub fn prop(text: &str, key: &str) -> Option<String> {
    props(text)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The value at a dotted path of a YAML text (keys with dots inside are not supported).
pub fn yaml_at(text: &str, path: &[&str]) -> Option<serde_norway::Value> {
    let mut v: serde_norway::Value = serde_norway::from_str(text).expect("generated YAML parses");
    for k in path {
        v = v.get(*k)?.clone();
    }
    Some(v)
}

/// The daemons a start/stop script hands to linkis-daemon.sh, in order.
pub fn script_daemons(text: &str, verb: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{verb} ")))
        .map(str::to_string)
        .collect()
}

/// A minimal valid spec; `extra_cluster` and `tail` are spliced in.
pub fn spec(version: &str, extra_cluster: &str, hosts: &str, tail: &str) -> String {
    format!(
        r#"version: 1
cluster:
  name: t
  linkis_version: "{version}"
  package: files/linkis.tar.gz
{extra_cluster}
database:
  host: 10.0.0.5
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
sizing:
  concurrent_users: 10
  engines:
    spark: {{ memory: 1G, cores: 1 }}
host_defaults:
  memory: 64G
  cores: 32
hosts:
{hosts}
{tail}
"#
    )
}

/// Every file of a rendered tree under `dir`: relative path → (bytes, mode). Not the stamp,
/// which records this checkout's mtimes (src/write.rs): two renders of one spec compare equal.
pub fn rendered_tree(dir: &std::path::Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && !e.path().ends_with(linkis_gen::write::STAMP))
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mode = e.metadata().unwrap().permissions().mode() & 0o7777;
            (rel, (std::fs::read(e.path()).unwrap(), mode))
        })
        .collect()
}

/// `linkis-gen ARGS` run from the crate root, to its end.
pub fn bin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run linkis-gen")
}

/// A fresh (removed) path under the temporary directory, unique to this test process.
pub fn tmp_dir(prefix: &str, name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `linkis-gen ARGS` running, with its standard input, output and error piped (to feed it
/// standard input, then `wait_with_output`).
pub fn spawn_piped(args: &[&str]) -> std::process::Child {
    use std::process::Stdio;
    std::process::Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run linkis-gen")
}
