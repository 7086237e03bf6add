//! The output tree as an infra repo sees it: deterministic, drift-checked, safe to re-render,
//! never half-written, with the right modes and no secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod conf_common;
use conf_common::{bin, rendered_tree as tree, spawn_piped};

fn tmp(name: &str) -> PathBuf {
    conf_common::tmp_dir("linkis-gen-out", name)
}

fn render(spec: &str, out: &Path) -> Output {
    bin(&["render", spec, "-o", out.to_str().unwrap()])
}

#[test]
fn two_renders_give_identical_trees() {
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    for spec in ["examples/guide-300-users.yaml", "examples/every-field.yaml"] {
        assert!(render(spec, &a).status.success());
        assert!(render(spec, &b).status.success());
        let (ta, tb) = (tree(&a), tree(&b));
        assert!(ta.len() > 10, "{spec}: {} files", ta.len());
        assert_eq!(ta, tb, "{spec}");
    }
    for d in [a, b] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn modes_are_0755_for_scripts_and_0644_otherwise() {
    let out = tmp("modes");
    assert!(
        render("examples/guide-50-users.yaml", &out)
            .status
            .success()
    );
    for (path, (bytes, mode)) in tree(&out) {
        let want = if path.ends_with(".sh") { 0o755 } else { 0o644 };
        assert_eq!(mode, want, "{path}");
        assert!(bytes.ends_with(b"\n"), "{path} ends without a newline");
    }
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn check_is_clean_on_a_fresh_tree_and_names_a_hand_edited_file() {
    let out = tmp("check");
    let spec = "examples/guide-50-users.yaml";
    assert!(render(spec, &out).status.success());
    let o = out.to_str().unwrap();
    let clean = bin(&["render", "--check", spec, "-o", o]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let before = tree(&out);

    let edited = out.join("hosts/s3/conf/linkis.properties");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text = text.replacen(
        "wds.linkis.gateway.url=",
        "wds.linkis.gateway.url=http://hand-edit",
        1,
    );
    std::fs::write(&edited, &text).unwrap();
    std::fs::remove_file(out.join("hosts/s1/sbin/linkis-stop-all.sh")).unwrap();
    let drift = bin(&["render", "--check", spec, "-o", o]);
    assert_eq!(drift.status.code(), Some(1));
    let report = String::from_utf8_lossy(&drift.stdout);
    assert!(
        report.contains("--- a/hosts/s3/conf/linkis.properties"),
        "{report}"
    );
    assert!(
        report.contains("-wds.linkis.gateway.url=http://hand-edit"),
        "{report}"
    );
    assert!(
        report.contains("missing: hosts/s1/sbin/linkis-stop-all.sh"),
        "{report}"
    );
    // --check wrote nothing.
    let mut expected = before;
    expected
        .get_mut("hosts/s3/conf/linkis.properties")
        .unwrap()
        .0 = text.into_bytes();
    expected.remove("hosts/s1/sbin/linkis-stop-all.sh");
    assert_eq!(tree(&out), expected);
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn a_smaller_spec_removes_stale_hosts_and_keeps_user_files() {
    let out = tmp("stale");
    assert!(
        render("examples/guide-100-users.yaml", &out)
            .status
            .success()
    );
    assert!(out.join("hosts/s6/conf/linkis.properties").exists());
    std::fs::write(out.join("NOTES.md"), "ours\n").unwrap();
    std::fs::create_dir_all(out.join(".git")).unwrap();
    std::fs::write(out.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(out.join("hosts/s6/README"), "a user's note in a host dir\n").unwrap();

    let o = render("examples/guide-50-users.yaml", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !out.join("hosts/s5").exists(),
        "s5 is gone with its directory"
    );
    assert!(
        !out.join("hosts/s6/conf").exists(),
        "s6's generated files are gone"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("hosts/s6/README")).unwrap(),
        "a user's note in a host dir\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).unwrap(),
        "ours\n"
    );
    assert!(out.join(".git/HEAD").exists());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("removed"), "{stdout}");
    let check = bin(&[
        "render",
        "--check",
        "examples/guide-50-users.yaml",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(0));
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn a_failing_render_leaves_out_byte_for_byte_unchanged() {
    let out = tmp("atomic");
    assert!(
        render("examples/guide-50-users.yaml", &out)
            .status
            .success()
    );
    let before = tree(&out);
    // An invalid spec, a spec that cannot be sized, a broken template: each fails, writes nothing.
    assert_eq!(
        render("tests/bad/duplicate-host.yaml", &out).status.code(),
        Some(1)
    );
    assert_eq!(
        render("tests/bad/sizing-300-users-on-6-hosts.yaml", &out)
            .status
            .code(),
        Some(1)
    );
    let tpl = tmp("atomic-tpl");
    std::fs::create_dir_all(tpl.join("hosts/_host_/conf")).unwrap();
    std::fs::write(
        tpl.join("hosts/_host_/conf/linkis.properties.j2"),
        "[= no_such_variable.x =]\n",
    )
    .unwrap();
    let o = bin(&[
        "render",
        "examples/guide-100-users.yaml",
        "-o",
        out.to_str().unwrap(),
        "--templates",
        tpl.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(tree(&out), before);
    for d in [out, tpl] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn a_file_linkis_gen_did_not_write_is_never_overwritten() {
    let out = tmp("foreign");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("PLAN.md"), "my own plan\n").unwrap();
    let o = render("examples/guide-50-users.yaml", &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("PLAN.md"));
    assert_eq!(
        std::fs::read_to_string(out.join("PLAN.md")).unwrap(),
        "my own plan\n"
    );
    assert_eq!(tree(&out).len(), 1, "nothing else was written");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn no_generated_file_holds_a_secret_or_a_well_known_token() {
    let examples: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
            .unwrap()
            .map(|e| format!("examples/{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
    // The well-known tokens Linkis ships, from the catalog (every line's token keys).
    let tokens: std::collections::BTreeSet<&str> = linkis_gen::catalog::LINES
        .iter()
        .flat_map(|l| l.conf.tokens.iter().map(|t| t.token))
        .collect();
    assert!(
        tokens.contains("LINKIS-AUTH") && tokens.len() >= 6,
        "{tokens:?}"
    );
    let token_keys: std::collections::BTreeSet<String> = linkis_gen::catalog::LINES
        .iter()
        .flat_map(|l| l.conf.tokens.iter().map(|t| t.key.to_ascii_lowercase()))
        .collect();
    let mut redis_password_lines = 0;
    let out = tmp("secrets");
    for ex in examples {
        let _ = std::fs::remove_dir_all(&out);
        assert!(render(&ex, &out).status.success(), "{ex}");
        for (path, (bytes, _)) in tree(&out) {
            let text = String::from_utf8_lossy(&bytes);
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                for token in &tokens {
                    let as_value = line
                        .split_once(['=', ':'])
                        .is_some_and(|(_, v)| v.trim().trim_matches('"') == *token);
                    assert!(
                        !as_value,
                        "{ex}: {path}: well-known token as a value: {line}"
                    );
                }
                let lower = line.to_ascii_lowercase();
                if let Some((key, value)) = lower.split_once('=')
                    && (key.contains("password")
                        || key.ends_with("token.value")
                        || key.contains("crypt.key")
                        || token_keys.contains(key.trim()))
                    && !value.trim().is_empty()
                {
                    // The whole value is one vault reference, not a literal beside one; or
                    // the DB client's option-file line, which escapes linkis_db_password (itself
                    // the vault reference) for that file: in the roles, and in rotate-tokens.yml,
                    // whose database play includes the same credentials fragment.
                    let v = value.trim();
                    if v.starts_with("\"{{ linkis_db_password")
                        && (path.starts_with("roles/") || path == "rotate-tokens.yml")
                    {
                        continue;
                    }
                    assert!(
                        v.starts_with("{{ vault_")
                            && v.ends_with(" }}")
                            && v.matches("{{").count() == 1,
                        "{ex}: {path}: secret not from the vault: {line}"
                    );
                    if key.trim() == "linkis.session.redis.password" {
                        redis_password_lines += 1;
                    }
                }
            }
        }
    }
    // The Redis secret is among the values checked (the 1.8.0 example runs Redis sessions).
    assert!(
        redis_password_lines > 0,
        "no linkis.session.redis.password was checked"
    );
    let _ = std::fs::remove_dir_all(&out);
    // A spec with a literal password renders nothing at all.
    let o = render("tests/bad/literal-password.yaml", &out);
    assert_eq!(o.status.code(), Some(1));
    assert!(!out.exists());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("s3cr3t-Passw0rd"));
}

/// Every entry under `dir` with symbolic links as links (for "nothing was written").
fn entries(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let bytes = e
                .file_type()
                .is_file()
                .then(|| std::fs::read(e.path()).unwrap());
            (rel, bytes)
        })
        .collect()
}

#[test]
fn a_re_render_of_the_same_inputs_is_a_no_op_and_check_still_compares_content() {
    let out = tmp("noop");
    let spec = "examples/guide-100-users.yaml";
    let first = render(spec, &out);
    assert!(first.status.success());
    let stamp = std::fs::read_to_string(out.join(linkis_gen::write::STAMP)).unwrap();
    assert!(
        stamp.contains("\ninputs ") && stamp.contains(" 0644 PLAN.md\n"),
        "{stamp}"
    );
    // The re-render stops after validation: no template is even loaded (the phase timers of
    // LINKIS_GEN_TIMINGS show it), and it says the same as a render that compared every file.
    let timed = |spec: &str| {
        Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
            .args(["render", spec, "-o", out.to_str().unwrap()])
            .env("LINKIS_GEN_TIMINGS", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    };
    let again = timed(spec);
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("timing: templates"));
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.contains(" 0 written, "), "{said}");

    // A hand edit that keeps the size and the mtime may escape the fast path (as it escapes make
    // and git), but `--check` compares content and finds it.
    let plan = out.join("PLAN.md");
    let text = std::fs::read_to_string(&plan).unwrap();
    let mtime = std::fs::metadata(&plan).unwrap().modified().unwrap();
    std::fs::write(&plan, text.replacen("Linkis plan", "Linkis PLAN", 1)).unwrap();
    let f = std::fs::File::options().write(true).open(&plan).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    let check = bin(&["render", spec, "-o", out.to_str().unwrap(), "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("changed: PLAN.md"));

    // An edit that changes the mtime is rendered over; so is any change of the inputs.
    std::fs::write(&plan, "edited\n").unwrap();
    let o = timed(spec);
    assert!(String::from_utf8_lossy(&o.stderr).contains("timing: templates"));
    assert!(String::from_utf8_lossy(&o.stdout).contains(" 1 written, "));
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), text);
    let o = render("examples/guide-300-users.yaml", &out);
    assert!(!String::from_utf8_lossy(&o.stdout).contains(" 0 written, "));
    // What runs changes the inputs too: the change summary is printed, and again when nothing
    // else changed (from the stamp).
    let state = out.join(".linkis-gen/state.json");
    std::fs::copy(&state, out.join(".linkis-gen/applied.json")).unwrap();
    let a = render("examples/guide-300-users.yaml", &out);
    let b = render("examples/guide-300-users.yaml", &out);
    let (a, b) = (
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout),
    );
    assert!(a.starts_with("changes against applied.json"), "{a}");
    assert_eq!(a.lines().next(), b.lines().next());
    assert!(b.contains(" 0 written, "), "{b}");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn symbolic_links_in_out_are_refused_and_nothing_is_written() {
    let root = tmp("links");
    let out = root.join("out");
    let spec = "examples/guide-50-users.yaml";
    assert!(render(spec, &out).status.success());
    let elsewhere = root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep"), "keep\n").unwrap();

    // A directory of OUT replaced by a link: written paths go through it.
    std::fs::rename(out.join("hosts"), root.join("hosts-moved")).unwrap();
    std::os::unix::fs::symlink("../elsewhere", out.join("hosts")).unwrap();
    let before = (
        entries(&root),
        std::fs::read(out.join(".linkis-gen/manifest")).unwrap(),
    );
    for args in [vec![], vec!["--check"]] {
        let mut a = vec!["render", spec, "-o", out.to_str().unwrap()];
        a.extend(args);
        let o = bin(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("hosts is a symbolic link (to ../elsewhere)"),
            "{err}"
        );
    }
    let after = (
        entries(&root),
        std::fs::read(out.join(".linkis-gen/manifest")).unwrap(),
    );
    assert_eq!(before, after, "nothing written");

    // A path only removed (a host gone from the spec) behind a link: refused too, nothing
    // deleted in the link's target.
    std::fs::remove_file(out.join("hosts")).unwrap();
    std::fs::rename(root.join("hosts-moved"), out.join("hosts")).unwrap();
    let s1 = out.join("hosts/s1");
    std::fs::rename(&s1, elsewhere.join("s1")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("s1"), &s1).unwrap();
    let before = entries(&root);
    let o = render("examples/single-node.yaml", &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("s1 is a symbolic link"));
    assert_eq!(entries(&root), before, "nothing removed through the link");

    // OUT itself a link: refused (give the real directory).
    let link = root.join("out-link");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    let o = render(spec, &link);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("out-link is a symbolic link"));
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_huge_spec_on_stdin_is_refused_after_reading_only_the_limit() {
    use std::io::Write as _;
    let out = tmp("huge-stdin");
    let mut child = spawn_piped(&["validate", "-"]);
    let mut stdin = child.stdin.take().unwrap();
    // 1 GiB offered; the writer stops when linkis-gen closes the pipe.
    let writer = std::thread::spawn(move || {
        let block = vec![b'#'; 1 << 20];
        let mut sent = 0usize;
        while sent < 1 << 30 {
            if stdin.write_all(&block).is_err() {
                break;
            }
            sent += block.len();
        }
        sent
    });
    let o = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[spec-too-large]") && err.contains("reading stopped"),
        "{err}"
    );
    // Read up to the limit (2 MiB) and then stopped: the rest was never taken from the pipe.
    assert!(sent < 16 << 20, "{sent} bytes were read");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn the_speed_table_is_the_benchmarks_and_docs_include_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/output.md")).unwrap();
    assert!(
        doc.contains("(bench/render-scale.md)"),
        "docs/output.md links the table"
    );
    let table = std::fs::read_to_string(root.join("docs/bench/render-scale.md")).unwrap();
    assert!(
        table.starts_with("<!-- Written by benches/render-scale.sh"),
        "written by the script"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("| 2000 |"))
        .expect("a 2,000-host row");
    assert_eq!(row.matches('|').count(), 11, "{row}");
    assert!(table.contains("At 2,000 hosts: fresh "), "{table}");
}
