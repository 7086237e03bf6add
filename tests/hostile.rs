//! Hostile specs: each must end in a clean error (exit 1, a named error, no panic) within a bounded
//! time and memory. The inputs are generated here rather than stored, some being megabytes.
//! Time and memory are bounds on the child process (a deadline and `ulimit -v`), not benchmarks.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address-space limit for the child, KiB: far above what a real spec needs, far below a blow-up.
const MEMORY_LIMIT_KIB: u64 = 1024 * 1024;
const DEADLINE: Duration = Duration::from_secs(20);

fn run_validate(name: &str, bytes: &[u8]) -> (Option<i32>, String) {
    let path = std::env::temp_dir().join(format!(
        "linkis-gen-hostile-{}-{name}.yaml",
        std::process::id()
    ));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    let script = format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" validate \"$1\"",);
    let mut child = Command::new("sh")
        .args([
            "-c",
            &script,
            env!("CARGO_BIN_EXE_linkis-gen"),
            path.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain stderr while the child runs, so a large message cannot block it on a full pipe.
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        use std::io::Read;
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(status.is_some(), "{name}: still running after {DEADLINE:?}");
    (status.unwrap().code(), stderr)
}

fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/guide-50-users.yaml"
    ))
    .unwrap();
    let mut cases: Vec<(&'static str, Vec<u8>)> = Vec::new();
    // Deep nesting, block and flow.
    cases.push((
        "deep-flow",
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
    ));
    let mut block = String::new();
    for i in 0..5_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    cases.push(("deep-block", block.into_bytes()));
    cases.push((
        "deep-in-overrides",
        format!(
            "{base}overrides:\n  linkis.properties:\n    k: {}1{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        )
        .into_bytes(),
    ));
    // Billion laughs: aliases of aliases.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, c) in "bcdefghi".chars().enumerate() {
        let prev = (b'a' + i as u8) as char;
        laughs.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    cases.push(("billion-laughs", laughs.clone().into_bytes()));
    cases.push((
        "laughs-in-overrides",
        format!(
            "{base}x-bomb: &z {}\noverrides:\n  linkis.properties:\n    k: *z\n",
            laughs
                .lines()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        )
        .into_bytes(),
    ));
    // Huge sequences and maps.
    let mut hosts = base.clone();
    for i in 0..20_000 {
        hosts.push_str(&format!(
            "  - {{ name: h{i}, address: 10.{}.{}.{} }}\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    cases.push(("huge-host-list", hosts.into_bytes()));
    cases.push((
        "huge-flow-seq",
        format!("hosts: [{}]\n", "1,".repeat(900_000)).into_bytes(),
    ));
    // Very long strings and keys.
    cases.push((
        "long-string",
        base.replace(
            "name: guide-50",
            &format!("name: {}", "a".repeat(1_500_000)),
        )
        .into_bytes(),
    ));
    cases.push((
        "over-size-limit",
        base.replace(
            "name: guide-50",
            &format!("name: {}", "a".repeat(5_000_000)),
        )
        .into_bytes(),
    ));
    cases.push((
        "long-key",
        format!("{}: 1\n{base}", "k".repeat(1_000_000)).into_bytes(),
    ));
    // Non-UTF-8, NUL bytes, control characters, a BOM in the middle.
    let mut latin1 = base.clone().into_bytes();
    latin1.extend_from_slice(b"# caf\xe9\n");
    cases.push(("latin1", latin1));
    cases.push((
        "nul-bytes",
        base.replace("name: guide-50", "name: gui\0de").into_bytes(),
    ));
    cases.push((
        "control-chars",
        base.replace("10.0.0.5", "10.0.0.5\x07\x1b[31m")
            .into_bytes(),
    ));
    cases.push(("only-bom", b"\xef\xbb\xbf".to_vec()));
    // Numbers at and beyond every limit.
    cases.push((
        "huge-int",
        base.replace("concurrent_users: 50", "concurrent_users: 1e30")
            .into_bytes(),
    ));
    cases.push((
        "u64-max",
        base.replace(
            "concurrent_users: 50",
            "concurrent_users: 18446744073709551615",
        )
        .into_bytes(),
    ));
    cases.push((
        "huge-size",
        base.replace("memory: 64G", "memory: 99999999999999999999999T")
            .into_bytes(),
    ));
    cases.push((
        "negative-port",
        base.replace(
            "{ name: s1, address: 10.0.1.1 }",
            "{ name: s1, address: 10.0.1.1, ssh_port: -1 }",
        )
        .into_bytes(),
    ));
    cases.push((
        "nan",
        base.replace("concurrent_users: 50", "concurrent_users: .nan")
            .into_bytes(),
    ));
    // Tags and odd YAML.
    cases.push((
        "tags",
        base.replace("version: 1", "version: !!binary aGVsbG8=")
            .into_bytes(),
    ));
    cases.push((
        "custom-tag",
        base.replace("cores: 32", "cores: !Ref x").into_bytes(),
    ));
    cases.push(("complex-key", format!("? [a, b]\n: 1\n{base}").into_bytes()));
    cases
}

#[test]
fn hostile_specs_end_in_a_clean_error_within_bounds() {
    for (name, bytes) in hostile() {
        let (code, stderr) = run_validate(name, &bytes);
        assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
        assert!(
            !stderr.contains("memory allocation"),
            "{name} ran out of memory:\n{stderr}"
        );
        assert_eq!(
            code,
            Some(1),
            "{name}: exit code {code:?}\n{}",
            &stderr[..stderr.len().min(2000)]
        );
        assert!(
            stderr.starts_with("error["),
            "{name}:\n{}",
            &stderr[..stderr.len().min(2000)]
        );
        // Messages stay readable: no multi-megabyte echo of the input.
        assert!(
            stderr.len() < 64 * 1024,
            "{name}: {} bytes of stderr",
            stderr.len()
        );
    }
}
