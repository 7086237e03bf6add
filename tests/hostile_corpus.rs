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

/// Where the first error must point: the line and column (1-based, in characters) of the byte that
/// holds the mistake, or `None` when the mistake is in no one place and the diagnostic must say so.
type Loc = Option<(usize, usize)>;

/// Valid UTF-8, but no YAML a spec could be.
fn noise_text(scale: usize) -> String {
    String::from_utf8_lossy(&noise(64 * 1024 * scale, 42)).replace('\u{FFFD}', "\u{2603}")
}

/// 1-based line and column (in characters) of a byte offset, counted here independently of the
/// loader.
fn line_col_at(bytes: &[u8], offset: usize) -> (usize, usize) {
    // YAML breaks lines at LF, CRLF and a lone CR.
    let before = &bytes[..offset];
    let breaks: Vec<usize> = (0..offset)
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .collect();
    let line = 1 + breaks.len();
    let start = breaks.last().map_or(0, |i| i + 1);
    (
        line,
        1 + String::from_utf8_lossy(&before[start..]).chars().count(),
    )
}

/// Where the first C0/C1 control character other than tab, line feed and carriage return is.
fn first_control(text: &str) -> Loc {
    let (i, _) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))?;
    Some(line_col_at(text.as_bytes(), i))
}

/// The generated inputs: (file name, contents, the check the first error carries, its location).
fn generated() -> Vec<(&'static str, Vec<u8>, &'static str, Loc)> {
    // Large, yet under the 2 MiB limit (over it, every input would end in spec-too-large).
    let scale = 1;
    let deep = 100_000 * scale;
    let hosts = 20_000 * scale;
    let mut v: Vec<(&'static str, Vec<u8>, &'static str, Loc)> = vec![
        (
            "deep-flow-sequences.yaml",
            format!(
                "version: 1\ncluster: {}{}\n",
                "[".repeat(deep),
                "]".repeat(deep)
            )
            .into(),
            // The 128th `[` (the top-level mapping is the first level).
            "too-deep",
            Some((2, 9 + 128)),
        ),
        (
            "deep-flow-mappings.yaml",
            format!(
                "version: 1\ncluster: {}1{}\n",
                "{a: ".repeat(deep),
                "}".repeat(deep)
            )
            .into(),
            // The 128th `{`.
            "too-deep",
            Some((2, 10 + 127 * 4)),
        ),
        (
            "deep-unclosed.yaml",
            format!("version: 1\ncluster: {}\n", "[{".repeat(deep)).into(),
            // The 128th bracket.
            "too-deep",
            Some((2, 9 + 128)),
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
            // The first key of the 128th nested mapping: line 2 + 128, after 128 spaces.
            "too-deep",
            Some((130, 129)),
        ),
        (
            "deep-block-sequences.yaml",
            format!("version: 1\nhosts: {}x\n", "- ".repeat(deep * 5)).into(),
            "yaml-syntax",
            Some((2, 8)),
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
            None,
        ),
        (
            "long-string.yaml",
            format!(
                "version: 1\ncluster:\n  name: {}\n",
                "a".repeat(1024 * 1024 * scale)
            )
            .into(),
            "missing-section",
            None,
        ),
        (
            "long-key.yaml",
            // YAML limits a plain key to 1024 characters.
            format!("version: 1\n{}: 1\n", "k".repeat(1024 * 1024 * scale)).into(),
            "yaml-syntax",
            Some((2, 1)),
        ),
        (
            "too-large.yaml",
            {
                let mut s = b"version: 1\n".to_vec();
                s.resize(linkis_gen::load::MAX_SPEC_BYTES + 1, b'#');
                s
            },
            "spec-too-large",
            None,
        ),
        (
            "binary-noise.yaml",
            noise(64 * 1024 * scale, 0x9E37_79B9_7F4A_7C15),
            "not-utf8",
            {
                let bytes = noise(64 * 1024 * scale, 0x9E37_79B9_7F4A_7C15);
                let bad = std::str::from_utf8(&bytes).unwrap_err().valid_up_to();
                Some(line_col_at(&bytes, bad))
            },
        ),
        (
            "utf8-noise.yaml",
            // Valid UTF-8, but no YAML a spec could be.
            noise_text(scale).into_bytes(),
            // It holds control characters, which YAML forbids: the first one is the mistake.
            "control-character",
            first_control(&noise_text(scale)),
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
            None,
        ),
    ];
    v.sort_by_key(|(n, _, _, _)| *n);
    v
}

/// The committed inputs under tests/hostile/, the check the first error carries and where it
/// points (read off each file by hand: the byte that holds the mistake).
const CORPUS: &[(&str, &str, Loc)] = &[
    // The first alias, where expansion starts.
    ("billion-laughs.yaml", "alias-bomb", Some((4, 10))),
    // The tab that indents `name:`.
    ("bom-and-crlf.yaml", "yaml-syntax", Some((4, 1))),
    // The override value holding a `\n` escape (refused at load, in any string of the spec).
    ("escaped-controls.yaml", "control-character", Some((10, 19))),
    // The value of concurrent_users.
    (
        "huge-numbers-valid-types.yaml",
        "out-of-range",
        Some((5, 28)),
    ),
    ("huge-numbers.yaml", "number-too-large", Some((2, 10))),
    // The install_dir value holding Jinja.
    ("jinja-in-paths.yaml", "install-dir", Some((4, 75))),
    ("laughs-in-hosts.yaml", "alias-bomb", Some((3, 10))),
    ("merge-key-bomb.yaml", "alias-bomb", Some((3, 16))),
    // The second `---`.
    ("multi-doc-flood.yaml", "multiple-documents", Some((4, 1))),
    // The Latin-1 é of `café`.
    ("non-utf8.yaml", "not-utf8", Some((4, 12))),
    // The NUL after `version: 1`.
    ("nul-bytes.yaml", "control-character", Some((2, 11))),
    // The `*a` inside `&a [...]`.
    ("self-alias.yaml", "recursive-alias", Some((2, 5))),
    // What concerns the whole file (no `database:` section) comes first; then, in line order,
    // `version: !!binary AAAA` and the complex key `[a, b]`.
    ("tags-and-binary.yaml", "missing-section", None),
];

/// Every `-->` line names the file with a line and column inside it, or says it has no position;
/// the first one points at `expected`.
fn assert_located(name: &str, p: &str, stderr: &str, expected: Loc) {
    let arrows: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .collect();
    assert!(!arrows.is_empty(), "{name}: no location\n{stderr}");
    let unlocated = format!("{p} (no position: this concerns the whole file)");
    for a in &arrows {
        let ok = *a == unlocated
            || a.strip_prefix(&format!("{p}:")).is_some_and(|lc| {
                lc.split_once(':').is_some_and(|(l, c)| {
                    l.parse::<usize>().is_ok_and(|l| l >= 1)
                        && c.parse::<usize>().is_ok_and(|c| c >= 1)
                })
            });
        assert!(ok, "{name}: malformed location `{a}`\n{stderr}");
    }
    let want = match expected {
        Some((l, c)) => format!("{p}:{l}:{c}"),
        None => unlocated,
    };
    assert_eq!(
        arrows[0], want,
        "{name}: the first error is not located at the mistake\n{stderr}"
    );
}

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
fn assert_clean_error(path: &Path, check: &str, loc: Loc, out: &Path) {
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
    assert_located(&name, p, &r.stderr, loc);
    // docs/output.md: every diagnostic carries a hint.
    let diags = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .count();
    let hints = r
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("= hint: "))
        .count();
    assert_eq!(
        diags, hints,
        "{name}: a diagnostic without a hint\n{}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with(&format!("error[{check}]")),
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
    let listed: Vec<String> = CORPUS.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "every file in tests/hostile/ has an expectation"
    );
    let scratch = scratch("corpus");
    let out = prepared_out(&scratch);
    for (name, check, loc) in CORPUS {
        assert_clean_error(&dir.join(name), check, *loc, &out);
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn generated_hostile_specs_end_in_clean_errors() {
    let scratch = scratch("generated");
    let out = prepared_out(&scratch);
    for (name, bytes, check, loc) in generated() {
        let path = scratch.join(name);
        std::fs::write(&path, &bytes).unwrap();
        assert_clean_error(&path, check, loc, &out);
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_dir_all(scratch).unwrap();
}
