//! applied.json is what runs (issue 21): only a whole run that reached every host of the spec
//! (and every host removed from it, unless named gone) and failed nowhere writes it. Not after an
//! unreachable or a failed host, not with `--limit`, `--tags` or `--skip-tags`; the run says why.
//!
//! Real ansible-core runs the rendered plays that decide it (the last two of site.yml and
//! changes.yml, and changes.yml's play that adds the removed hosts), from the tree's directory
//! with its own ansible.cfg, against this machine: the hosts of the spec are mapped to
//! `ansible_connection: local` by an extra inventory, except the one the test leaves at
//! 127.0.0.2, ssh port 1, where nothing listens (unreachable at once). In front of those plays
//! the test puts one of its own that fails on the hosts named in `-e record_test_fail=...`, as a
//! failed task of any earlier play does: the host takes no part in the plays after it.
//!
//! Needs `ansible-playbook` on PATH (the CI venv), so it is ignored by default; `.ci/truth.sh`
//! runs it:
//!   cargo test --release --test record_gate -- --ignored

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// guide-50 (s1, s2: ECM; s3, s4: control) with s2 where nothing listens, and memory enough
/// for one ECM host.
fn spec() -> String {
    fs::read_to_string("examples/guide-50-users.yaml")
        .unwrap()
        .replace("memory: 64G", "memory: 128G")
        .replace(
            "{ name: s2, address: 10.0.1.2 }",
            "{ name: s2, address: 127.0.0.2, ssh_port: 1 }",
        )
}

const MARK: &str = "\n# applied.json is what runs:";

/// OUT/record-test.yml: the test's failing play, then the given plays of the rendered playbook.
fn test_playbook(out: &Path, playbook: &str, with_add_host: bool) {
    let text = fs::read_to_string(out.join(playbook)).unwrap();
    let tail = &text[text
        .find(MARK)
        .unwrap_or_else(|| panic!("{playbook}: no record plays"))..];
    let mut pb = String::from("---\n");
    if with_add_host {
        let start = text
            .find("- name: Reach the hosts removed from the spec")
            .expect("changes.yml adds the removed hosts");
        let end = start + text[start..].find("\n\n").unwrap();
        pb.push_str(&text[start..end]);
        pb.push('\n');
    }
    pb.push_str(
        "- name: \"Test: fail where asked\"\n  hosts: linkis\n  gather_facts: false\n  tasks:\n    \
         - name: Fail\n      ansible.builtin.fail:\n        msg: asked\n      \
         when: inventory_hostname in (record_test_fail | default('')).split(',')\n",
    );
    pb.push_str(tail);
    fs::write(out.join("record-test.yml"), pb).unwrap();
}

/// The extra inventory: these hosts run here (local connection); the others keep the address
/// the spec gives them.
fn local_inventory(tmp: &Path, hosts: &[&str]) -> PathBuf {
    let mut s = String::from("all:\n  hosts:\n");
    for h in hosts {
        s.push_str(&format!(
            "    {h}: {{ ansible_connection: local, ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\" }}\n"
        ));
    }
    let p = tmp.join(format!("local-{}.yml", hosts.join("-")));
    fs::write(&p, s).unwrap();
    p
}

struct Run {
    code: i32,
    stdout: String,
}

fn run(tmp: &Path, out: &Path, local: &[&str], args: &[&str]) -> Run {
    let o: Output = Command::new("ansible-playbook")
        .current_dir(out)
        .arg("-i")
        .arg("inventory/hosts.yml")
        .arg("-i")
        .arg(local_inventory(tmp, local))
        .arg("record-test.yml")
        .args(args)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-local"))
        .output()
        .expect("ansible-playbook runs");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).to_string(),
    }
}

fn applied(out: &Path) -> Option<Vec<u8>> {
    fs::read(out.join(".linkis-gen/applied.json")).ok()
}

fn state(out: &Path) -> Vec<u8> {
    fs::read(out.join(".linkis-gen/state.json")).unwrap()
}

/// Not recorded: applied.json as before, and the run says why.
fn assert_not_recorded(r: &Run, out: &Path, before: &Option<Vec<u8>>, why: &str) {
    assert_eq!(&applied(out), before, "recorded:\n{}", r.stdout);
    let said = r
        .stdout
        .lines()
        .find(|l| l.contains("NOT RECORDED"))
        .unwrap_or_else(|| panic!("no NOT RECORDED line:\n{}", r.stdout));
    assert!(said.contains(why), "{why:?} not in {said}");
}

fn render(tmp: &Path, spec: &str, out: &Path) {
    let path = tmp.join("cluster.yaml");
    fs::write(&path, spec).unwrap();
    let _ = fs::remove_file(out.join("record-test.yml"));
    let o = Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("render")
        .arg(&path)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
#[ignore = "needs ansible-playbook; run by .ci/truth.sh"]
fn applied_json_is_written_only_by_a_whole_run_that_failed_nowhere() {
    let tmp = std::env::temp_dir().join(format!("linkis-gen-record-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let out = tmp.join("out");
    let all = ["s1", "s2", "s3", "s4"];

    // site.yml of a new cluster.
    render(&tmp, &spec(), &out);
    test_playbook(&out, "site.yml", false);
    assert_eq!(applied(&out), None);

    let r = run(&tmp, &out, &["s1", "s3", "s4"], &[]);
    assert_eq!(r.code, 4, "an unreachable host: {}", r.stdout);
    assert_not_recorded(&r, &out, &None, "failed or unreachable): s2");

    let r = run(&tmp, &out, &all, &["-e", "record_test_fail=s3"]);
    assert_eq!(r.code, 2, "a failed host: {}", r.stdout);
    assert_not_recorded(&r, &out, &None, "failed or unreachable): s3");

    // A partial run succeeds, and says why it does not record.
    for (option, value) in [
        ("--limit", "s1"),
        ("--tags", "record"),
        ("--skip-tags", "verify"),
    ] {
        let r = run(&tmp, &out, &all, &[option, value]);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_not_recorded(&r, &out, &None, &format!("it ran with {option} {value}"));
    }

    // The whole run records; run again, it converges (nothing changes).
    let r = run(&tmp, &out, &all, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("NOT RECORDED"), "{}", r.stdout);
    assert_eq!(applied(&out), Some(state(&out)), "{}", r.stdout);
    assert!(
        r.stdout.contains("changed: [s1 -> localhost]")
            || r.stdout.contains("changed: [localhost]"),
        "{}",
        r.stdout
    );
    let r = run(&tmp, &out, &all, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("changed:"), "{}", r.stdout);
    let site_applied = applied(&out);

    // changes.yml: s2 removed from the spec, and not reachable.
    let without_s2: String = spec()
        .lines()
        .filter(|l| !l.contains("name: s2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    render(&tmp, &without_s2, &out);
    assert_ne!(
        Some(state(&out)),
        site_applied,
        "removing s2 changes the state"
    );
    test_playbook(&out, "changes.yml", true);
    let ok = ["s1", "s3", "s4"];
    let r = run(&tmp, &out, &ok, &[]);
    assert_not_recorded(
        &r,
        &out,
        &site_applied,
        "failed or unreachable): s2 (a host removed from the spec that is gone for good: -e linkis_change_gone=HOST",
    );
    let r = run(&tmp, &out, &ok, &["-e", "record_test_fail=s4"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_not_recorded(&r, &out, &site_applied, "failed or unreachable): s4, s2");
    // Named gone: its removal is skipped and the change is recorded.
    let r = run(&tmp, &out, &ok, &["-e", "linkis_change_gone=s2"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("NOT RECORDED"), "{}", r.stdout);
    assert_eq!(applied(&out), Some(state(&out)));

    let _ = fs::remove_dir_all(&tmp);
}
