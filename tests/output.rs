//! The output tree as an infra repo sees it: deterministic, drift-checked, safe to re-render,
//! never half-written, with the right modes and no secrets.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run linkis-gen")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linkis-gen-out-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn render(spec: &str, out: &Path) -> Output {
    bin(&["render", spec, "-o", out.to_str().unwrap()])
}

/// Every file under `dir`: relative path → (bytes, mode).
fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
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
                    // the vault reference) for that file.
                    let v = value.trim();
                    if v.starts_with("\"{{ linkis_db_password") && path.starts_with("roles/") {
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
