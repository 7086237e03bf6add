//! rotate-tokens.yml (issue 21): rendered for every spec, it sets the token rows (when linkis-gen
//! bootstraps the database), redeploys the conf files and restarts through restart.yml's own play,
//! on the hosts whose files changed only. With ansible-playbook and ansible-lint on PATH (CI), the
//! rendered playbook passes --syntax-check and ansible-lint --profile production. Its database
//! part runs against a real MariaDB in tests/rotate_e2e.rs.

use std::path::PathBuf;
use std::process::Command;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};

const SPECS: &[&str] = &[
    "examples/guide-100-users.yaml",
    "examples/two-server-1.1.3.yaml",
    "examples/single-node-1.8.0-nacos-redis.yaml",
    "examples/production-1.4.0.yaml",
];

fn render_file(path: &str) -> Vec<OutFile> {
    let text = std::fs::read_to_string(path).unwrap();
    let plan = linkis_gen::plan(&Source::new(path, text.into_bytes()))
        .unwrap_or_else(|d| panic!("{path}: {d:?}"));
    render::render(
        &linkis_gen::model::resolve(&plan),
        &RenderOptions::default(),
    )
    .expect("renders")
}

fn get<'a>(files: &'a [OutFile], path: &str) -> &'a str {
    let f = files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not rendered"));
    &f.contents
}

#[test]
fn rotate_tokens_is_routed_and_reuses_restart_yml() {
    let r = linkis_gen::render::routes::route("rotate-tokens.yml.j2").expect("a route");
    assert_eq!(r.out, "rotate-tokens.yml");
    let files = render_file("examples/guide-100-users.yaml");
    let pb = get(&files, "rotate-tokens.yml");
    // restart.yml's play, not a copy of it, on the hosts whose files changed.
    assert!(pb.contains("ansible.builtin.import_playbook: restart.yml\n"));
    assert!(!pb.contains("linkis_start"));
    assert!(
        pb.contains("linkis_restart_hosts: \"linkis_control:linkis_ecm:&linkis_rotated_True\"")
    );
    assert!(
        get(&files, "restart.yml")
            .contains("linkis_restart_hosts | default('linkis_control:linkis_ecm')")
    );
    // The conf files through linkis_configure; the rows, after a dump, in one transaction.
    assert!(pb.contains("- role: linkis_configure\n"));
    assert!(pb.contains("START TRANSACTION;") && pb.contains("COMMIT;"));
    assert!(pb.find("Dump linkis_mg_gateway_auth_token") < pb.find("Update the token rows"));
    assert!(pb.contains("tags: [database]") && pb.contains("tags: [configure]"));
    // Every task that handles a secret: the probe, the quoting, the dump, the update.
    for name in [
        "Quote each token's new and previous value for SQL",
        "Count the rows that hold each token's new and previous value",
        "Update the token rows (one transaction, checked before it commits)",
    ] {
        let task = pb
            .split(name)
            .nth(1)
            .unwrap()
            .split("- name:")
            .next()
            .unwrap();
        assert!(task.contains("no_log: true"), "{name}:\n{task}");
    }
    // No value, only variable names.
    assert!(pb.contains("var: vault_linkis_token_bml }"));
}

/// A tool from PATH, or None (outside CI).
fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have {name} on PATH"
        );
        eprintln!("skipped: no {name} on PATH");
    }
    found
}

#[test]
fn rotate_tokens_passes_syntax_check_and_ansible_lint_production() {
    if !tool("ansible-playbook") || !tool("ansible-lint") {
        return;
    }
    for spec in SPECS {
        let files = render_file(spec);
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "linkis-gen-rotate-{}-{}",
            std::process::id(),
            spec.replace('/', "_")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for f in &files {
            let p = dir.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &f.contents).unwrap();
        }
        let check = |args: &[&str]| {
            let out = Command::new(args[0])
                .current_dir(&dir)
                .args(&args[1..])
                .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible-local"))
                .env("ANSIBLE_NOCOLOR", "1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{spec}: {args:?}\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        check(&[
            "ansible-playbook",
            "--syntax-check",
            "-i",
            "inventory/hosts.yml",
            "rotate-tokens.yml",
        ]);
        check(&[
            "ansible-lint",
            "--offline",
            "--strict",
            "--profile",
            "production",
            "--nocolor",
            "-q",
            "rotate-tokens.yml",
            "restart.yml",
        ]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
