//! A render into an OUT that does not exist yet writes each file as it is rendered (hosts on
//! every core, src/render/mod.rs `render_each`, src/write.rs `Fresh`), never holding the tree:
//! the tree is the one the in-memory flow writes and `render --check` compares, and a failure
//! at any point (a template of the 70th host) leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::Output;

mod conf_common;
use conf_common::{bin, rendered_tree as tree};

fn tmp(name: &str) -> PathBuf {
    conf_common::tmp_dir("linkis-gen-stream", name)
}

/// A spec of `n` hosts (enough for the parallel flow, which starts at 64), as the bench writes.
fn spec(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from(
        "version: 1\ncluster:\n  name: stream\n  linkis_version: \"1.3.2\"\n  \
         package: files/apache-linkis-1.3.2-bin.tar.gz\ndatabase:\n  host: 10.0.0.5\n  \
         name: linkis\n  user: linkis\n  password: { vault: vault_linkis_db_password }\n",
    );
    s.push_str(&format!(
        "sizing:\n  concurrent_users: {}\n  max_concurrency_per_user: 2\n  engines:\n    \
         spark: {{ memory: 1G, cores: 1 }}\nhost_defaults:\n  memory: 64G\n  cores: 32\nhosts:\n",
        25 * (n - 2)
    ));
    for i in 1..=n {
        s.push_str(&format!(
            "  - {{ name: h{i}, address: 10.0.{}.{} }}\n",
            i / 256,
            i % 256
        ));
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("spec.yaml");
    std::fs::write(&path, s).unwrap();
    path
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_fresh_render_streams_the_tree_the_in_memory_flow_writes() {
    let work = tmp("same");
    let spec = spec(&work, 90);
    let spec = spec.to_str().unwrap();
    // Fresh (streamed), with directories above OUT to create.
    let fresh = work.join("a/b/out");
    let o = bin(&["render", spec, "-o", fresh.to_str().unwrap()]);
    ok(&o);
    let printed = String::from_utf8_lossy(&o.stdout);
    // Over an existing, empty OUT: every file rendered in memory first, then written.
    let over = work.join("over");
    std::fs::create_dir_all(&over).unwrap();
    ok(&bin(&["render", spec, "-o", over.to_str().unwrap()]));
    let (a, b) = (tree(&fresh), tree(&over));
    assert!(a.len() > 90 * 9, "{} files", a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a == b, "the streamed tree differs from the in-memory one");
    // The files counted (the manifest is not one of them) are all written.
    let n = a.len() - 1;
    assert!(
        printed.contains(&format!("{n} files in"))
            && printed.contains(&format!("{n} written, 0 unchanged, 0 removed")),
        "{printed}"
    );
    // `--check` renders in memory and compares content: clean.
    ok(&bin(&[
        "render",
        spec,
        "-o",
        fresh.to_str().unwrap(),
        "--check",
    ]));
    // The stamp the streamed render left makes the next render a no-op.
    let o = bin(&["render", spec, "-o", fresh.to_str().unwrap()]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains(" 0 written, "));
    // And the same tree again, fresh: deterministic whatever order the threads finished in.
    let again = work.join("again");
    ok(&bin(&["render", spec, "-o", again.to_str().unwrap()]));
    assert!(tree(&again) == a, "two fresh renders differ");
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_template_error_of_a_late_host_leaves_no_out_no_stage_and_no_parent() {
    let work = tmp("fail");
    let spec = spec(&work, 90);
    // The stop script of h70 only fails: by then other hosts' files are in the stage.
    let name = "hosts/_host_/sbin/linkis-stop-all.sh.j2";
    let stock = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name),
    )
    .unwrap();
    let tpl = work.join("tpl");
    std::fs::create_dir_all(tpl.join("hosts/_host_/sbin")).unwrap();
    std::fs::write(
        tpl.join(name),
        format!("[% if host.name == \"h70\" %][= no_such_variable.x =][% endif %]{stock}"),
    )
    .unwrap();
    let out = work.join("new/dirs/out");
    let render = || {
        bin(&[
            "render",
            spec.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--templates",
            tpl.to_str().unwrap(),
        ])
    };
    let o = render();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("linkis-stop-all.sh"), "{err}");
    // Nothing: not OUT, not the directories above it, not a staging directory.
    assert!(!work.join("new").exists(), "directories above OUT stayed");
    let left: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["spec.yaml", "tpl"]);
    // The same failure again gives the same error (the first failing host, whatever the threads).
    let o2 = render();
    assert_eq!(o2.stderr, o.stderr);
    std::fs::remove_dir_all(&work).unwrap();
}
