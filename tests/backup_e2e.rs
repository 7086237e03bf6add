//! End-to-end: backup.yml dumps a real database, the restore commands of docs/operations.md
//! ("Restoring the database", run verbatim but for the two paths) bring it back, and the dump
//! script keeps `backup.keep` dumps; for PostgreSQL also the 1.8 bootstrap into an empty database
//! and a second run that touches nothing.
//!
//! Real: the servers (Debian's `mariadbd` and PostgreSQL, each on its own datadir, 127.0.0.1 and a
//! free port: tests/e2e_common), ansible-core, mysqldump/pg_dump and the restore clients. The
//! backup host is this machine (`ansible_connection: local`); the paths the role writes outside
//! the backup dir (the credentials dir, the script, the units) are moved into the temp dir, and
//! enabling the timer (tag backup-timer) is skipped: systemd is not PID 1 here. The schema is a
//! stand-in of our own (tests/db_fixture/), not Linkis' files.
//!
//! Needs root (the role writes root-owned files; the PostgreSQL server runs as `nobody`), so it
//! is ignored by default; `.ci/keep.sh` runs it:
//!   cargo test --release --test backup_e2e -- --ignored --test-threads=1

#[allow(dead_code)] // the fixtures of the other end-to-end tests
mod e2e_common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use e2e_common::{MariaDb, Postgres, mode, recap, run, sh, vault_names, write};

/// A password with what option files, password files and shells treat specially.
const PASSWORD: &str = r#"b"ack\up#p'w d:x;$y"#;

fn temp(name: &str) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("linkis-gen-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    // The PostgreSQL server runs as nobody and needs to reach its directory below this one.
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).unwrap();
    tmp
}

/// Renders `spec` into TMP/out, and writes the inventory that maps every host to this machine,
/// the extra-vars file with every vault variable, and an ansible.cfg.
fn setup(tmp: &Path, spec: &str, hosts: &[&str], host_vars: &[(&str, String)]) -> PathBuf {
    let spec_path = tmp.join("spec.yaml");
    fs::write(&spec_path, spec).unwrap();
    let out = tmp.join("out");
    sh(Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("render")
        .arg(&spec_path)
        .arg("-o")
        .arg(&out));
    let mut local = String::from("all:\n  hosts:\n");
    for h in hosts {
        local.push_str(&format!(
            "    {h}:\n      ansible_connection: local\n      ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n"
        ));
        for (k, v) in host_vars {
            local.push_str(&format!("      {k}: {v}\n"));
        }
    }
    fs::write(tmp.join("local.yml"), local).unwrap();
    let vars: BTreeMap<String, String> = vault_names(&out)
        .into_iter()
        .map(|n| {
            let v = if n == "vault_linkis_db_password" {
                PASSWORD.to_string()
            } else {
                format!("e2e-{n}")
            };
            (n, v)
        })
        .collect();
    assert!(vars.contains_key("vault_linkis_db_password"), "{vars:?}");
    fs::write(tmp.join("vars.json"), serde_json::to_string(&vars).unwrap()).unwrap();
    fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
    out
}

fn ansible(tmp: &Path, out: &Path, playbook: &str, args: &[&str]) -> Output {
    run(e2e_common::ansible_playbook(tmp, out, playbook)
        .arg("-e")
        .arg(format!("@{}", tmp.join("vars.json").display()))
        .args(args))
}

/// Runs a playbook that must succeed; its stdout, which must never show the password.
fn playbook(tmp: &Path, out: &Path, playbook: &str, args: &[&str]) -> String {
    let o = ansible(tmp, out, playbook, args);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{playbook} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !stdout.contains(PASSWORD),
        "the password in the log:\n{stdout}"
    );
    stdout
}

/// The dumps in `dir` (file names, sorted), and asserts no partial dump is left.
fn dumps(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(
        !names.iter().any(|n| n.starts_with(".partial")),
        "a partial dump left: {names:?}"
    );
    for n in &names {
        assert!(
            n.starts_with("linkis-e2e-") && n.ends_with(ext),
            "not a dump: {n}"
        );
        assert_eq!(mode(&dir.join(n)), 0o600, "{n}");
    }
    names
}

/// The shell block of docs/operations.md's "Restoring the database" that contains `marker`.
fn restore_block(marker: &str) -> String {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
        .unwrap();
    let section = doc
        .split("\n## Restoring the database\n")
        .nth(1)
        .expect("docs/operations.md has a Restoring the database section");
    let section = section.split("\n## ").next().unwrap();
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains(marker))
        .unwrap_or_else(|| panic!("no restore block with {marker}"))
        .to_string()
}

/// Runs the documented restore commands, with this test's backup and credentials directories.
fn restore(marker: &str, dir: &Path, conf: &Path) {
    let block = restore_block(marker);
    assert!(block.starts_with("DIR=/data/linkis-backup\nCONF=/etc/linkis-backup\n"));
    let script = block
        .replacen(
            "DIR=/data/linkis-backup",
            &format!("DIR={}", dir.display()),
            1,
        )
        .replacen(
            "CONF=/etc/linkis-backup",
            &format!("CONF={}", conf.display()),
            1,
        );
    sh(Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(script));
}

fn spec(db: &str, version: &str, backup_dir: &Path) -> String {
    format!(
        r#"version: 1
cluster: {{ name: e2e, linkis_version: "{version}", package: files/linkis.tar.gz }}
database:
{db}
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
sizing:
  concurrent_users: 2
  engines:
    spark: {{ memory: 1G, cores: 1, version: "3.3.0" }}
host_defaults: {{ memory: 64G, cores: 8 }}
hosts:
  - {{ name: h1, address: 127.0.0.1 }}
backup:
  dir: {dir}
  schedule: "*-*-* 02:30:00"
  keep: 2
"#,
        dir = backup_dir.display()
    )
}

/// The role's paths outside the backup dir, inside the temp dir (the script's and the units'
/// directories exist, as /usr/local/sbin and /etc/systemd/system do on a host).
fn backup_vars(tmp: &Path) -> Vec<(&'static str, String)> {
    fs::create_dir_all(tmp.join("bin")).unwrap();
    fs::create_dir_all(tmp.join("systemd")).unwrap();
    vec![
        (
            "linkis_backup_conf_dir",
            tmp.join("etc").display().to_string(),
        ),
        (
            "linkis_backup_bin",
            tmp.join("bin/linkis-db-backup").display().to_string(),
        ),
        (
            "linkis_systemd_dir",
            tmp.join("systemd").display().to_string(),
        ),
    ]
}

/// Runs the installed dump script as the timer would (its settings from the environment the
/// playbook passes); its output.
fn dump_script(tmp: &Path, dir: &Path, conf: &Path) -> Output {
    run(Command::new(tmp.join("bin/linkis-db-backup"))
        .env("LINKIS_BACKUP_DIR", dir)
        .env("LINKIS_BACKUP_CONF", conf)
        .env("LINKIS_BACKUP_KEEP", "2"))
}

#[test]
#[ignore = "needs root, ansible-core and mariadbd; run by .ci/keep.sh"]
fn mariadb_dump_restore_and_keep() {
    let tmp = temp("backup-my");
    let db = MariaDb::start(&tmp.join("db"));
    db.root(&format!(
        "CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY '{}'; \
         GRANT ALL ON linkis.* TO 'linkis'@'127.0.0.1'; CREATE DATABASE linkis;",
        PASSWORD.replace('\\', "\\\\").replace('\'', "\\'")
    ));
    for f in ["linkis_ddl.sql", "linkis_dml.sql"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/db_fixture")
            .join(f);
        db.root(&format!("USE linkis; SOURCE {};", path.display()));
    }
    let dir = tmp.join("backup");
    let conf = tmp.join("etc");
    let out = setup(
        &tmp,
        &spec(
            &format!("  host: 127.0.0.1\n  port: {}", db.port),
            "1.3.2",
            &dir,
        ),
        &["h1"],
        &backup_vars(&tmp),
    );
    // The spec has backup: site.yml installs the timer on the backup host.
    assert!(
        fs::read_to_string(out.join("site.yml"))
            .unwrap()
            .contains("role: linkis_backup")
    );

    let first = playbook(&tmp, &out, "backup.yml", &["--skip-tags", "backup-timer"]);
    assert!(first.contains("linkis-db-backup: wrote "), "{first}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&conf), 0o700);
    assert_eq!(mode(&conf.join("client.cnf")), 0o600);
    assert_eq!(mode(&tmp.join("bin/linkis-db-backup")), 0o700);
    let timer = fs::read_to_string(tmp.join("systemd/linkis-db-backup.timer")).unwrap();
    assert!(
        timer.contains("\nOnCalendar=*-*-* 02:30:00\nPersistent=true\n"),
        "{timer}"
    );
    let script = fs::read_to_string(tmp.join("bin/linkis-db-backup")).unwrap();
    assert!(script.contains("mysqldump --defaults-extra-file=\"$conf/client.cnf\" \\\n"));
    assert!(!script.contains(PASSWORD));
    let first_dumps = dumps(&dir, ".sql.gz");
    assert_eq!(first_dumps.len(), 1, "{first_dumps:?}");

    let counts = || db.fixture_counts();
    let before = counts();
    assert_eq!(before, "5\t1\t4");
    let dump_before = db.dump("linkis");

    // The database gone: the documented commands bring it back, row for row.
    db.root("DROP DATABASE linkis");
    assert_eq!(db.root("SHOW DATABASES LIKE 'linkis'"), "");
    restore("mysql --defaults-extra-file", &dir, &conf);
    assert_eq!(counts(), before);
    assert_eq!(db.dump("linkis"), dump_before);

    // The manager tables emptied (the database kept): restored too.
    db.root("DELETE FROM linkis.linkis_cg_manager_label; DELETE FROM linkis.linkis_mg_gateway_auth_token");
    assert_eq!(counts(), "0\t1\t0");
    restore("mysql --defaults-extra-file", &dir, &conf);
    assert_eq!(counts(), before);

    // keep: 2. Two more dumps (keep + 1 in all): the first is removed, the newest two stay.
    for _ in 0..2 {
        let o = dump_script(&tmp, &dir, &conf);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let kept = dumps(&dir, ".sql.gz");
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&first_dumps[0]), "{kept:?}");

    // A dump that fails (a wrong password) leaves no file behind and removes no older dump.
    let bad = tmp.join("bad-etc");
    write(
        &bad.join("client.cnf"),
        &format!(
            "[client]\nhost=127.0.0.1\nport={}\nuser=linkis\npassword=wrong\n",
            db.port
        ),
        0o600,
    );
    let o = dump_script(&tmp, &dir, &bad);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Access denied"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(dumps(&dir, ".sql.gz"), kept);

    // A backup dir that is a file: the play stops, naming it, and leaves it alone.
    let file = tmp.join("not-a-dir");
    fs::write(&file, "x").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let o = ansible(
        &tmp,
        &out,
        "backup.yml",
        &[
            "--skip-tags",
            "backup-timer",
            "-e",
            &format!("linkis_backup_dir={}", file.display()),
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("{} exists and is not a directory", file.display())),
        "{stdout}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    assert_eq!(mode(&file), 0o644);

    drop(db);
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
#[ignore = "needs root, ansible-core and a PostgreSQL server; run by .ci/keep.sh"]
fn postgresql_bootstrap_second_run_dump_and_restore() {
    let tmp = temp("backup-pg");
    let pg = Postgres::start(&tmp.join("pg"));
    pg.sql(
        "postgres",
        &format!(
            "CREATE ROLE linkis LOGIN CREATEDB PASSWORD '{}'",
            PASSWORD.replace('\'', "''")
        ),
    );
    // The release's db/ files on the bootstrap host: the stand-in schema and seed.
    let home = tmp.join("home");
    for f in ["linkis_ddl_pg.sql", "linkis_dml_pg.sql"] {
        let text = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/db_fixture")
                .join(f),
        )
        .unwrap();
        write(&home.join("db").join(f), &text, 0o644);
    }
    let dir = tmp.join("backup");
    let conf = tmp.join("etc");
    let mut vars = backup_vars(&tmp);
    vars.push(("linkis_install_dir", home.display().to_string()));
    vars.push(("linkis_deploy_user", "root".to_string()));
    vars.push(("linkis_deploy_group", "root".to_string()));
    let out = setup(
        &tmp,
        &spec(
            &format!("  type: postgresql\n  host: 127.0.0.1\n  port: {}", pg.port),
            "1.8.0",
            &dir,
        ),
        &["h1"],
        &vars,
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT COUNT(*) FROM pg_database WHERE datname = 'linkis'"
        ),
        "0"
    );

    // The bootstrap: creates the database (the user may) and loads and seeds the schema.
    let first = playbook(&tmp, &out, "site.yml", &["--tags", "db"]);
    assert!(recap(&first)["h1"] > 0, "{first}");
    let counts = || {
        pg.sql(
            "linkis",
            "SELECT (SELECT COUNT(*) FROM linkis_mg_gateway_auth_token) || ' ' || \
             (SELECT COUNT(*) FROM linkis_cg_rm_external_resource_provider) || ' ' || \
             (SELECT COUNT(*) FROM linkis_cg_manager_label)",
        )
    };
    assert_eq!(counts(), "1 1 4");
    assert_eq!(
        pg.sql(
            "linkis",
            "SELECT token_name FROM linkis_mg_gateway_auth_token"
        ),
        "e2e-vault_linkis_token_linkis"
    );
    assert_eq!(
        pg.sql(
            "linkis",
            "SELECT label_value FROM linkis_cg_manager_label ORDER BY id LIMIT 1"
        ),
        "*-*,spark-3.3.0"
    );
    let yarn = pg.sql(
        "linkis",
        "SELECT config FROM linkis_cg_rm_external_resource_provider",
    );
    let yarn: serde_json::Value =
        serde_json::from_str(&yarn).unwrap_or_else(|e| panic!("not JSON ({e}): {yarn}"));
    assert_eq!(yarn["hadoopVersion"], "3.3.4");
    assert_eq!(
        pg.sql(
            "linkis",
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'linkis'"
        ),
        "linkis"
    );

    // A second run touches nothing.
    let dump_before = pg.dump("linkis");
    let second = playbook(&tmp, &out, "site.yml", &["--tags", "db"]);
    assert!(
        second.contains("of Linkis' tables: not touched"),
        "{second}"
    );
    assert_eq!(recap(&second)["h1"], 0, "{second}");
    assert_eq!(pg.dump("linkis"), dump_before);

    // A dump, the tables dropped (an empty database), the documented restore.
    let run1 = playbook(&tmp, &out, "backup.yml", &["--skip-tags", "backup-timer"]);
    assert!(run1.contains("linkis-db-backup: wrote "), "{run1}");
    assert_eq!(mode(&conf.join("pgpass")), 0o600);
    assert_eq!(dumps(&dir, ".dump").len(), 1);
    pg.sql(
        "linkis",
        "DROP TABLE linkis_mg_gateway_auth_token, linkis_cg_rm_external_resource_provider, \
         linkis_cg_manager_label",
    );
    assert_eq!(
        pg.sql(
            "linkis",
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ),
        "0"
    );
    restore("pg_restore", &dir, &conf);
    assert_eq!(counts(), "1 1 4");
    assert_eq!(pg.dump("linkis"), dump_before);

    // keep: 2, over keep + 1 dumps.
    let first_dump = dumps(&dir, ".dump")[0].clone();
    for _ in 0..2 {
        let o = dump_script(&tmp, &dir, &conf);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let kept = dumps(&dir, ".dump");
    assert_eq!(kept.len(), 2);
    assert!(!kept.contains(&first_dump));

    drop(pg);
    let _ = fs::remove_dir_all(&tmp);
}
