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
        assert_every_diagnostic_has_a_hint(&name, &stderr);
        for rust in [
            "u8", "u16", "u32", "u64", "i64", "usize", "struct ", "enum ", "Vec<",
        ] {
            let words: Vec<&str> = stderr
                .split(|c: char| !c.is_ascii_alphanumeric() && c != ' ' && c != '<')
                .collect();
            assert!(
                !words.iter().any(|w| w.split(' ').any(|t| t == rust.trim())
                    || (rust.ends_with(' ') && w.contains(rust))),
                "{name}: a Rust type name (`{rust}`) reaches the user:\n{stderr}"
            );
        }
        // A missing section or an empty file is in no one place: those say so; the rest point
        // at a line.
        let located = match name.as_str() {
            "empty" | "missing-section" => {
                format!("--> {rel} (no position: this concerns the whole file)\n")
            }
            _ => format!("--> {rel}:"),
        };
        assert!(
            stderr.contains(&located),
            "{name}: expected `{located}`:\n{stderr}"
        );
        insta::with_settings!({
            snapshot_path => "../snapshots/diagnostics",
            prepend_module_to_snapshot => false,
            description => format!("linkis-gen validate {rel}"),
        }, {
            insta::assert_snapshot!(name, format!("exit code: {code}\n\n{stderr}"));
        });
    }
}

/// docs/output.md promises a hint under every diagnostic: as many `= hint:` lines as diagnostics.
pub fn assert_every_diagnostic_has_a_hint(name: &str, stderr: &str) {
    let diags = stderr
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .count();
    let hints = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("= hint: "))
        .count();
    assert!(diags > 0, "{name}: no diagnostic\n{stderr}");
    assert_eq!(
        diags, hints,
        "{name}: a diagnostic without a hint\n{stderr}"
    );
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
