//! The writer's guarantees at the edges, on synthetic trees: a failure while staging leaves OUT
//! exactly as it was (even when OUT did not exist), a damaged manifest cannot make linkis-gen
//! remove anything outside its own files, an unchanged tree is not rewritten, and `check` reports
//! missing, extra and manifest drift as unified diffs.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use linkis_gen::render::OutFile;
use linkis_gen::write::{self, Drift, MANIFEST, WriteError};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linkis-gen-writer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every entry under `dir` (files with bytes and mode, directories as None).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<(Vec<u8>, u32)>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let v = e.file_type().is_file().then(|| {
                (
                    std::fs::read(e.path()).unwrap(),
                    e.metadata().unwrap().permissions().mode() & 0o7777,
                )
            });
            (rel, v)
        })
        .collect()
}

fn files(host_count: usize) -> Vec<OutFile> {
    let mut v = vec![OutFile::new("PLAN.md", "plan\n")];
    for i in 1..=host_count {
        v.push(OutFile::new(
            format!("hosts/s{i}/conf/a.properties"),
            format!("a={i}\n"),
        ));
        v.push(OutFile::new(
            format!("hosts/s{i}/sbin/start.sh"),
            "#!/bin/sh\n",
        ));
    }
    v
}

#[test]
fn a_staging_failure_removes_everything_it_created_even_out_itself() {
    let root = tmp("stage-fail");
    let out = root.join("new/out");
    let mut fs = files(2);
    // A file name longer than NAME_MAX fails when its temporary file is created, after the
    // files sorted before it were staged.
    fs.push(OutFile::new(format!("zz/{}", "x".repeat(300)), "x\n"));
    let r = write::write(&out, &fs);
    assert!(matches!(r, Err(WriteError::Io { .. })), "{r:?}");
    assert!(!root.join("new").exists(), "{:?}", snapshot(&root));

    // Over an existing tree: byte-for-byte what it was, no temporary files left.
    let out = root.join("out");
    write::write(&out, &files(3)).unwrap();
    std::fs::write(out.join("NOTES.md"), "mine\n").unwrap();
    let before = snapshot(&out);
    let mut changed = files(4);
    for f in &mut changed {
        f.contents.push_str("# changed\n");
    }
    changed.push(OutFile::new(format!("zz/{}", "x".repeat(300)), "x\n"));
    assert!(write::write(&out, &changed).is_err());
    assert_eq!(snapshot(&out), before);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_directory_where_a_file_goes_is_an_error_that_changes_nothing() {
    let out = tmp("dir-in-way");
    write::write(&out, &files(1)).unwrap();
    std::fs::remove_file(out.join("PLAN.md")).unwrap();
    std::fs::create_dir_all(out.join("PLAN.md/user")).unwrap();
    let before = snapshot(&out);
    let r = write::write(&out, &files(1));
    assert!(matches!(r, Err(WriteError::Io { .. })), "{r:?}");
    assert_eq!(snapshot(&out), before);
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn a_damaged_manifest_never_removes_files_outside_out_or_in_git() {
    let root = tmp("manifest-escape");
    let out = root.join("out");
    write::write(&out, &files(1)).unwrap();
    std::fs::write(root.join("victim"), "keep\n").unwrap();
    std::fs::create_dir_all(out.join(".git")).unwrap();
    std::fs::write(out.join(".git/config"), "keep\n").unwrap();
    let h = "0".repeat(64);
    let mut m = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    for p in [
        "../victim",
        "/etc/hostname",
        ".git/config",
        "a/../../victim",
    ] {
        m.push_str(&format!("0644 {h} {p}\n"));
    }
    std::fs::write(out.join(MANIFEST), m).unwrap();
    write::write(&out, &files(0)).unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("victim")).unwrap(),
        "keep\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join(".git/config")).unwrap(),
        "keep\n"
    );
    assert!(std::path::Path::new("/etc/hostname").exists());
    // The stale host's files were removed, with the directories that left empty.
    assert!(!out.join("hosts").exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn an_unchanged_tree_is_not_rewritten_and_the_manifest_hashes_are_sha256() {
    let out = tmp("unchanged");
    let fs = files(3);
    let first = write::write(&out, &fs).unwrap();
    assert_eq!(first.written, fs.len());
    let mtime = |p: &str| std::fs::metadata(out.join(p)).unwrap().modified().unwrap();
    let before = mtime("hosts/s1/conf/a.properties");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = write::write(&out, &fs).unwrap();
    assert_eq!((again.written, again.unchanged), (0, fs.len()));
    assert_eq!(mtime("hosts/s1/conf/a.properties"), before);
    // Every manifest line is `mode sha256 path` of a file as it is on disk.
    let manifest = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
    let lines: Vec<&str> = manifest.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), fs.len());
    for l in lines {
        let parts: Vec<&str> = l.splitn(3, ' ').collect();
        let meta = std::fs::metadata(out.join(parts[2])).unwrap();
        assert_eq!(
            parts[0],
            format!("{:04o}", meta.permissions().mode() & 0o7777)
        );
        assert_eq!(
            parts[1],
            write::sha256(&std::fs::read(out.join(parts[2])).unwrap())
        );
    }
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn check_reports_missing_extra_and_manifest_drift_as_diffs() {
    let out = tmp("check");
    write::write(&out, &files(2)).unwrap();
    assert_eq!(write::check(&out, &files(2)).unwrap(), vec![]);

    // One host fewer: its two files are extra, and the manifest would change.
    let drift = write::check(&out, &files(1)).unwrap();
    let paths: Vec<&str> = drift.iter().map(Drift::path).collect();
    assert_eq!(
        paths,
        vec![
            MANIFEST,
            "hosts/s2/conf/a.properties",
            "hosts/s2/sbin/start.sh"
        ]
    );
    let report = write::drift_report(&drift);
    assert!(
        report.contains("--- a/hosts/s2/conf/a.properties\n+++ /dev/null\n"),
        "{report}"
    );
    assert!(report.contains("\n-a=2\n"), "{report}");

    // One host more: its files are missing, shown as new files.
    let drift = write::check(&out, &files(3)).unwrap();
    let report = write::drift_report(&drift);
    assert!(
        report.contains("--- /dev/null\n+++ b/hosts/s3/conf/a.properties\n"),
        "{report}"
    );
    assert!(report.contains("\n+a=3\n"), "{report}");

    // No manifest (e.g. .linkis-gen/ left out of the infra repo) is drift too.
    std::fs::remove_file(out.join(MANIFEST)).unwrap();
    let drift = write::check(&out, &files(2)).unwrap();
    assert!(
        matches!(drift.as_slice(), [Drift::Manifest { .. }]),
        "{drift:?}"
    );

    // A mode change alone is drift.
    write::write(&out, &files(2)).unwrap();
    let script = out.join("hosts/s1/sbin/start.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let drift = write::check(&out, &files(2)).unwrap();
    assert_eq!(
        drift,
        vec![Drift::Mode {
            path: "hosts/s1/sbin/start.sh".into(),
            have: 0o644,
            want: 0o755
        }]
    );
    std::fs::remove_dir_all(out).unwrap();
}

/// A file under hosts/<host>/ that linkis-gen did not write would be deployed by the configure
/// role: `render --check` names it (issue 21). Outside a rendered host's conf/, sbin/ and systemd/
/// (e.g. a README, the operator's vault.yml) a file of one's own is not drift.
#[test]
fn check_reports_a_stray_file_in_a_hosts_tree() {
    let out = tmp("stray");
    write::write(&out, &files(2)).unwrap();
    std::fs::write(out.join("hosts/s1/conf/extra.properties"), "x=1\n").unwrap();
    std::fs::create_dir_all(out.join("hosts/s2/conf/sub")).unwrap();
    std::fs::write(out.join("hosts/s2/conf/sub/more.xml"), "<x/>\n").unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    std::fs::write(out.join("hosts/s1/README"), "mine\n").unwrap();
    let drift = write::check(&out, &files(2)).unwrap();
    assert_eq!(
        drift,
        vec![
            Drift::Stray {
                path: "hosts/s1/conf/extra.properties".into()
            },
            Drift::Stray {
                path: "hosts/s2/conf/sub/more.xml".into()
            },
        ]
    );
    let report = write::drift_report(&drift);
    assert!(
        report.contains("stray: hosts/s1/conf/extra.properties was not written by linkis-gen, and the configure role would deploy it"),
        "{report}"
    );
    // A file of an earlier render stays `extra`, not `stray`.
    let drift = write::check(&out, &files(1)).unwrap();
    assert!(
        drift.iter().any(
            |d| matches!(d, Drift::Extra { path, .. } if path == "hosts/s2/conf/a.properties")
        ),
        "{drift:?}"
    );
    std::fs::remove_dir_all(out).unwrap();
}
