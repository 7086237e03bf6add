//! The corpus of broken specs under tests/bad/ (one mistake per file): each must exit 1 with a
//! located, named message and never panic. The exact text a user sees is kept as an insta snapshot
//! per file under snapshots/diagnostics/, so a reviewer reads every message.

use std::path::Path;
use std::process::Command;

fn validate(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("validate")
        .arg(path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run linkis-gen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn corpus() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/bad")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_broken_spec_fails_with_a_located_named_message() {
    let files = corpus();
    assert!(files.len() >= 20, "the corpus shrank: {}", files.len());
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/bad/{name}.yaml");
        let (code, stderr) = validate(Path::new(&rel));
        assert_eq!(code, 1, "{name}: exit code\n{stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        assert!(
            stderr.starts_with("error["),
            "{name}: no named error first:\n{stderr}"
        );
        assert!(stderr.contains("= hint: "), "{name}: no hint:\n{stderr}");
        if name != "empty" {
            let located = format!("--> {rel}:");
            assert!(
                stderr.contains(&located),
                "{name}: no FILE:LINE:COL:\n{stderr}"
            );
        }
        insta::with_settings!({
            snapshot_path => "../snapshots/diagnostics",
            prepend_module_to_snapshot => false,
            description => format!("linkis-gen validate {rel}"),
        }, {
            insta::assert_snapshot!(name, format!("exit code: {code}\n\n{stderr}"));
        });
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let (code, stderr) = validate(Path::new("tests/bad/does-not-exist.yaml"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read tests/bad/does-not-exist.yaml"),
        "{stderr}"
    );
}
