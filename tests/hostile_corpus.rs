//! Hostile specs: each ends in a clean, located error (exit 1 or 2, no panic) within a bounded
//! time and address space, and a `render` of it leaves OUT untouched.
//!
//! The small inputs are files under tests/hostile/ (each says what it is in its first comment);
//! the large ones are generated here, each under the 2 MiB spec limit (and one just over it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hang guard, not a speed assertion: the slowest input takes well under a second in release.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// Address space for one run (`ulimit -v`), in KiB.
const MEMORY_LIMIT_KIB: u64 = 2 * 1024 * 1024;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linkis-gen-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A deterministic byte generator (xorshift), so generated inputs are the same every run.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// The generated inputs: (file name, contents, a check name the error must carry).
fn generated() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    // Large, yet under the 2 MiB limit (over it, every input would end in spec-too-large).
    let scale = 1;
    let deep = 100_000 * scale;
    let hosts = 20_000 * scale;
    let mut v: Vec<(&'static str, Vec<u8>, &'static str)> = vec![
        (
            "deep-flow-sequences.yaml",
            format!(
                "version: 1\ncluster: {}{}\n",
                "[".repeat(deep),
                "]".repeat(deep)
            )
            .into(),
            "too-deep",
        ),
        (
            "deep-flow-mappings.yaml",
            format!(
                "version: 1\ncluster: {}1{}\n",
                "{a: ".repeat(deep),
                "}".repeat(deep)
            )
            .into(),
            "too-deep",
        ),
        (
            "deep-unclosed.yaml",
            format!("version: 1\ncluster: {}\n", "[{".repeat(deep)).into(),
            "too-deep",
        ),
        (
            "deep-block-mappings.yaml",
            {
                let mut s = String::from("version: 1\ncluster:\n");
                for i in 1..2_000 {
                    s.push_str(&" ".repeat(i));
                    s.push_str("a:\n");
                }
                s.into_bytes()
            },
            "too-deep",
        ),
        (
            "deep-block-sequences.yaml",
            format!("version: 1\nhosts: {}x\n", "- ".repeat(deep * 5)).into(),
            "yaml-syntax",
        ),
        (
            "huge-host-list.yaml",
            {
                // Every section but `cluster`: the list is read in full before that is found.
                let mut s = String::from("version: 1\nhosts:\n");
                for i in 0..hosts {
                    s.push_str(&format!(
                        "  - {{name: h{i}, address: 10.{}.{}.{}}}\n",
                        i / 65536 % 256,
                        i / 256 % 256,
                        i % 256
                    ));
                }
                s.into_bytes()
            },
            "missing-section",
        ),
        (
            "long-string.yaml",
            format!(
                "version: 1\ncluster:\n  name: {}\n",
                "a".repeat(1024 * 1024 * scale)
            )
            .into(),
            "missing-section",
        ),
        (
            "long-key.yaml",
            // YAML limits a plain key to 1024 characters.
            format!("version: 1\n{}: 1\n", "k".repeat(1024 * 1024 * scale)).into(),
            "yaml-syntax",
        ),
        (
            "too-large.yaml",
            {
                let mut s = b"version: 1\n".to_vec();
                s.resize(linkis_gen::load::MAX_SPEC_BYTES + 1, b'#');
                s
            },
            "spec-too-large",
        ),
        (
            "binary-noise.yaml",
            noise(64 * 1024 * scale, 0x9E37_79B9_7F4A_7C15),
            "not-utf8",
        ),
        (
            "utf8-noise.yaml",
            // Valid UTF-8, but no YAML a spec could be.
            String::from_utf8_lossy(&noise(64 * 1024 * scale, 42))
                .replace('\u{FFFD}', "\u{2603}")
                .into_bytes(),
            "",
        ),
        (
            "many-override-keys.yaml",
            {
                let mut s = String::from("version: 1\noverrides:\n  linkis.properties:\n");
                for i in 0..hosts * 2 {
                    s.push_str(&format!("    key.{i}: v\n"));
                }
                s.into_bytes()
            },
            "missing-section",
        ),
    ];
    v.sort_by_key(|(n, _, _)| *n);
    v
}

/// The committed inputs under tests/hostile/ and the check each must end in.
const CORPUS: &[(&str, &str)] = &[
    ("billion-laughs.yaml", "alias-bomb"),
    ("bom-and-crlf.yaml", "yaml-syntax"),
    ("huge-numbers-valid-types.yaml", "out-of-range"),
    ("huge-numbers.yaml", "number-too-large"),
    ("laughs-in-hosts.yaml", "alias-bomb"),
    ("merge-key-bomb.yaml", "alias-bomb"),
    ("multi-doc-flood.yaml", "multiple-documents"),
    ("non-utf8.yaml", "not-utf8"),
    ("nul-bytes.yaml", "yaml-syntax"),
    ("self-alias.yaml", "too-deep"),
    ("tags-and-binary.yaml", "unknown-key"),
];

struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

/// Runs linkis-gen under `ulimit -v`, killing it after TIME_LIMIT.
fn run_bounded(args: &[&str]) -> Run {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run linkis-gen");
    let mut stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            panic!("linkis-gen {args:?} ran past {TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    Run {
        code: status.code(),
        stderr,
        elapsed,
    }
}

/// The contract for one hostile file: a clean error from `validate`, and `render` leaves OUT as it
/// was.
fn assert_clean_error(path: &Path, check: &str, out: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let p = path.to_str().unwrap();
    let r = run_bounded(&["validate", p]);
    eprintln!(
        "{name}: exit {:?} in {:.3} s",
        r.code,
        r.elapsed.as_secs_f64()
    );
    assert!(
        matches!(r.code, Some(1) | Some(2)),
        "{name}: exit {:?} (a signal means a crash or the memory limit)\n{}",
        r.code,
        r.stderr
    );
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack overflow",
        "memory allocation",
    ] {
        assert!(!r.stderr.contains(bad), "{name}: {bad}\n{}", r.stderr);
    }
    assert!(
        r.stderr.contains("error["),
        "{name}: no diagnostic\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("--> {p}")),
        "{name}: the error is not located in the file\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("error[{check}")),
        "{name}: expected error[{check}...]\n{}",
        r.stderr
    );
    // The stderr of a hostile spec stays readable: snippets are cut, nothing is echoed in bulk.
    assert!(
        r.stderr.len() < 64 * 1024,
        "{name}: {} bytes of diagnostics",
        r.stderr.len()
    );

    let r = run_bounded(&["render", p, "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, Some(1), "{name}: render\n{}", r.stderr);
    let entries: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["NOTES.md".to_string()], "{name}: OUT changed");
    assert_eq!(
        std::fs::read(out.join("NOTES.md")).unwrap(),
        b"mine\n",
        "{name}"
    );
}

fn prepared_out(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("NOTES.md"), "mine\n").unwrap();
    out
}

#[test]
fn the_committed_corpus_ends_in_clean_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let listed: Vec<String> = CORPUS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "every file in tests/hostile/ has an expectation"
    );
    let scratch = scratch("corpus");
    let out = prepared_out(&scratch);
    for (name, check) in CORPUS {
        assert_clean_error(&dir.join(name), check, &out);
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn generated_hostile_specs_end_in_clean_errors() {
    let scratch = scratch("generated");
    let out = prepared_out(&scratch);
    for (name, bytes, check) in generated() {
        let path = scratch.join(name);
        std::fs::write(&path, &bytes).unwrap();
        assert_clean_error(&path, check, &out);
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_dir_all(scratch).unwrap();
}
