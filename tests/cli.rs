//! The command line as a user meets it: every example validates, exit codes are the documented
//! ones, and `schema` describes the same format the loader reads.

use std::path::Path;
use std::process::{Command, Output};

mod conf_common;
use conf_common::{rendered_tree, spawn_piped};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run linkis-gen")
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| format!("examples/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_validates_with_exit_0() {
    let all = examples();
    for required in [
        "examples/guide-50-users.yaml",
        "examples/guide-100-users.yaml",
        "examples/guide-300-users.yaml",
        "examples/guide-500-users.yaml",
        "examples/guide-800-users.yaml",
        "examples/single-node.yaml",
        "examples/every-field.yaml",
    ] {
        assert!(all.iter().any(|e| e == required), "{required} is missing");
    }
    for ex in all {
        let out = run(&["validate", &ex]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{ex}:\n{stderr}");
        assert!(!stderr.contains("error["), "{ex}:\n{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with(&format!("{ex}: ok: ")), "{ex}: {stdout}");
    }
}

#[test]
fn every_example_opens_with_a_comment_that_documents_it() {
    for ex in examples() {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&ex)).unwrap();
        let comment_lines = text.lines().take_while(|l| l.starts_with('#')).count();
        assert!(
            comment_lines >= 2,
            "{ex} needs a comment at its top saying what it shows"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    let out = run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["render", "examples/single-node.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "render without -o is a usage error"
    );
    // init's numbers and release out of range are usage errors (README: exit 2), not invalid specs.
    for args in [
        &["init", "--users", "0"][..],
        &["init", "--users", "100001"],
        &["init", "--users", "5", "--concurrency", "0"],
        &["init", "--users", "5", "--version", "9.9.9"],
        &["init", "--users", "5", "--host-memory", "64"],
        &["init", "--users", "5", "--engines", "spark"],
        &["plan", "examples/single-node.yaml", "--format", "xml"],
    ] {
        let out = run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Hosts too small to carry anything: no spec can be sized (exit 1).
    let out = run(&["init", "--users", "5", "--host-memory", "2G"]);
    assert_eq!(out.status.code(), Some(1));
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Exit codes:") && text.contains("  1  the spec is invalid"),
        "{text}"
    );
}

#[test]
fn stdin_is_read_for_dash() {
    use std::io::Write;
    let mut child = spawn_piped(&["validate", "-"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"version: [1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--> -:"));
}

#[test]
fn schema_is_json_of_the_spec_types_and_rejects_unknown_keys() {
    let out = run(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema is JSON");
    let props = schema["properties"]
        .as_object()
        .expect("top-level properties");
    for key in [
        "version",
        "cluster",
        "database",
        "gateway",
        "sizing",
        "host_defaults",
        "hosts",
        "overrides",
        "monitoring",
        "logs",
        "services",
        "security",
    ] {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
    // The front door's third-edition fields, and a TLS key that is a vault reference or a path.
    let web = &schema["$defs"]["Web"]["properties"];
    for key in ["tls", "vip", "vrid"] {
        assert!(web.get(key).is_some(), "schema lacks gateway.web.{key}");
    }
    assert_eq!(
        schema["$defs"]["TlsKey"]["anyOf"][0]["$ref"],
        "#/$defs/VaultRef"
    );
    assert_eq!(schema["$defs"]["TlsKey"]["anyOf"][1]["type"], "string");
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["version", "cluster", "database", "sizing", "hosts"]
    );
    // Every name the loader accepts for a service, and exactly the catalog's releases.
    let services: Vec<&str> = schema["$defs"]["Service"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (alias, _) in linkis_gen::spec::Service::ALIASES {
        assert!(
            services.contains(alias),
            "schema lacks service alias {alias}"
        );
    }
    for name in ["ecm", "mg-gateway", "linkis-mg-gateway", "gateway"] {
        assert!(services.contains(&name), "{name}");
    }
    let releases: Vec<&str> = schema["$defs"]["LinkisVersion"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let catalog: Vec<&str> = linkis_gen::catalog::Release::all()
        .map(|r| r.version)
        .collect();
    assert_eq!(releases, catalog);
    assert_eq!(
        schema["$defs"]["Scalar"]["type"],
        serde_json::json!(["string", "number", "boolean"])
    );
    let host = &schema["$defs"]["Host"]["properties"];
    assert!(
        host["ports"].is_object() && host["roles"].is_object(),
        "{host}"
    );
}

#[test]
fn init_writes_the_guides_concurrency_and_says_the_specs_default_differs() {
    let out = run(&["init", "--users", "50"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("max_concurrency_per_user:"))
        .expect("init writes max_concurrency_per_user explicitly");
    assert!(line.contains("max_concurrency_per_user: 2 "), "{line}");
    assert!(line.contains("guide") && line.contains("gets 1"), "{line}");
}

/// Runs linkis-gen in `dir`; it must succeed.
fn render_in(dir: &Path, args: &[&str]) {
    let r = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{args:?}\n{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

/// Headers name the spec by its file name: however the path is typed, the tree is the same bytes,
/// and `render --check` passes.
#[test]
fn the_spec_path_as_typed_does_not_change_the_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = std::env::temp_dir().join(format!("linkis-gen-cli-paths-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::copy(
        Path::new(root).join("examples/single-node.yaml"),
        tmp.join("spec.yaml"),
    )
    .unwrap();
    let abs = tmp.join("spec.yaml").display().to_string();
    let mut trees = Vec::new();
    for (i, typed) in ["spec.yaml", "./spec.yaml", abs.as_str()]
        .iter()
        .enumerate()
    {
        let out = format!("out{i}");
        render_in(&tmp, &["render", typed, "-o", &out]);
        trees.push(rendered_tree(&tmp.join(&out)));
    }
    assert!(trees[0].len() > 10);
    assert!(
        trees[0]
            .values()
            .any(|(b, _)| String::from_utf8_lossy(b)
                .contains("Generated by linkis-gen from spec.yaml.")),
        "headers name the file"
    );
    assert!(
        trees[0] == trees[1] && trees[0] == trees[2],
        "the trees differ"
    );
    // The tree rendered from `spec.yaml` is up to date for `./spec.yaml` and the absolute path.
    for typed in ["./spec.yaml", abs.as_str()] {
        render_in(&tmp, &["render", typed, "-o", "out0", "--check"]);
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
