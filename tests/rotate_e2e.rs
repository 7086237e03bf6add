//! End-to-end: rotating a gateway token (issue 21). A real MariaDB is bootstrapped by site.yml
//! (tag db); the vault's BML-AUTH value changes, its old value kept as `_previous`; the rendered
//! rotate-tokens.yml (tag database: its check and its database play only; the conf files and the
//! restarts need the hosts and systemd) sets that token's row to the new value after a dump of
//! the token table; no other row changes; the log holds no secret; a second run changes nothing.
//! The same on PostgreSQL (1.8.0, its one gateway token).
//!
//! Real: Debian's mariadbd on its own datadir (tests/e2e_common), ansible-core, mysql and
//! mysqldump; the host is this machine (`ansible_connection: local`). The vault is the test's
//! secrets file, passed with `-e @` as the vault's variables are.
//!
//! Needs root (the play hands its private directory to the deploy user), so it is ignored by
//! default; .ci/changes.sh runs it:
//!   cargo test --release --test rotate_e2e -- --ignored --test-threads=1

#[allow(dead_code)] // the fixtures of the other end-to-end tests
mod e2e_common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_common::{MariaDb, local_spec, recap, run, sh, vault_names, write};

const PASSWORD: &str = r#"r"ow\s#p'w d:x;$y"#;
/// The old and the new BML-AUTH value: quotes and a backslash, as a token may hold.
const OLD: &str = r#"old-b'ml\tok"#;
const NEW: &str = r#"new-b'ml\tok"2"#;

struct Env {
    tmp: PathBuf,
}

impl Env {
    fn vault(&self, secrets: &BTreeMap<String, String>) {
        fs::write(
            self.tmp.join("secrets.json"),
            serde_json::to_string(secrets).unwrap(),
        )
        .unwrap();
    }

    /// A playbook run that must succeed; its stdout, which must hold no secret.
    fn play(&self, playbook: &str, args: &[&str]) -> String {
        let o = run(
            e2e_common::ansible_playbook(&self.tmp, &self.tmp.join("out"), playbook)
                .args(args)
                .arg("-e")
                .arg(format!("@{}", self.tmp.join("secrets.json").display())),
        );
        let stdout = String::from_utf8_lossy(&o.stdout).to_string();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{playbook} failed:\n{stdout}\n{stderr}");
        for secret in [PASSWORD, OLD, NEW, "e2e-vault_linkis_token_ws"] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "a secret in the log:\n{stdout}\n{stderr}"
            );
        }
        stdout
    }

    fn dumps(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.tmp.join("home/db/changes-backup"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// The database side of one scenario: the server's port, a query as its admin, the fixture's
/// file names, the release, `database.type`, and the token variable rotated.
struct Db<'a> {
    port: u16,
    query: &'a dyn Fn(&str) -> String,
    ddl: &'a str,
    dml: &'a str,
    version: &'a str,
    db_type: &'a str,
    var: &'a str,
}

fn scenario(base: &Path, db: Db) {
    let tmp = base.join("t");
    let home = tmp.join("home");
    let fixture = |f: &str| {
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/db_fixture")
                .join(f),
        )
        .unwrap()
    };
    write(&home.join("db").join(db.ddl), &fixture(db.ddl), 0o644);
    write(&home.join("db").join(db.dml), &fixture(db.dml), 0o644);
    fs::create_dir_all(tmp.join("private")).unwrap();
    let group = sh(Command::new("id").arg("-gn"));
    fs::write(
        tmp.join("local.yml"),
        format!(
            "all:\n  hosts:\n    h1:\n      ansible_connection: local\n      \
             ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n      \
             linkis_install_dir: {}\n      linkis_deploy_group: {group}\n      \
             linkis_private_tmp: {}\n",
            home.display(),
            tmp.join("private").display()
        ),
    )
    .unwrap();
    fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
    fs::write(
        tmp.join("spec.yaml"),
        local_spec(
            db.version,
            db.db_type,
            db.port,
            "http://10.0.0.9:8088",
            "3.2.1",
        ),
    )
    .unwrap();
    sh(Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("render")
        .arg(tmp.join("spec.yaml"))
        .arg("-o")
        .arg(tmp.join("out")));
    let env = Env { tmp: tmp.clone() };

    // The bootstrap, with the old value.
    let mut secrets = BTreeMap::new();
    for n in vault_names(&tmp.join("out")) {
        let v = if n == "vault_linkis_db_password" {
            PASSWORD.to_string()
        } else if n == db.var {
            OLD.to_string()
        } else {
            format!("e2e-{n}")
        };
        secrets.insert(n, v);
    }
    assert!(secrets.contains_key(db.var), "{secrets:?}");
    env.vault(&secrets);
    env.play("site.yml", &["--tags", "db"]);
    let rows = || (db.query)("SELECT id, token_name FROM linkis_mg_gateway_auth_token ORDER BY id");
    let others = || {
        (db.query)(
            "SELECT COUNT(*), MAX(label_value) FROM linkis_cg_manager_label \
             UNION ALL SELECT COUNT(*), MAX(config) FROM linkis_cg_rm_external_resource_provider",
        )
    };
    let before = rows();
    assert!(before.contains(OLD), "{before}");
    let others_before = others();

    // The vault: a new value, the old one kept as _previous.
    secrets.insert(db.var.into(), NEW.into());
    secrets.insert(format!("{}_previous", db.var), OLD.into());
    env.vault(&secrets);
    let first = env.play("rotate-tokens.yml", &["--tags", "database"]);
    assert!(recap(&first)["h1"] > 0, "{first}");
    let after = rows();
    assert_eq!(after, before.replace(OLD, NEW), "{after}");
    assert_ne!(after, before);
    assert_eq!(others(), others_before, "another table changed");
    let dumps = env.dumps();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    let dump = fs::read_to_string(&dumps[0]).unwrap();
    assert!(
        dump.contains("linkis_mg_gateway_auth_token") && dump.contains("old-b"),
        "{dump}"
    );
    assert!(!dump.contains("linkis_cg_manager_label"), "{dump}");
    assert_eq!(fs::read_dir(tmp.join("private")).unwrap().count(), 0);

    // The conf files: the host's files carry the new value (tag configure; the restarts need
    // systemd).
    fs::create_dir_all(home.join("conf")).unwrap();
    let conf = env.play("rotate-tokens.yml", &["--tags", "configure"]);
    assert!(recap(&conf)["h1"] > 0, "{conf}");
    let carried = fs::read_dir(home.join("conf")).unwrap().flatten().any(|e| {
        fs::read_to_string(e.path())
            .unwrap_or_default()
            .contains("new-b")
    });
    assert!(carried, "no conf file carries the new value");

    // A second run with the same vault: nothing changes, no dump, no file, no restart (the
    // restart play matches no host: it would fail here without systemd).
    let second = env.play(
        "rotate-tokens.yml",
        &["--tags", "database,configure,services"],
    );
    assert!(second.contains("skipping: no hosts matched"), "{second}");
    assert_eq!(recap(&second)["h1"], 0, "{second}");
    assert_eq!(env.dumps().len(), 1);
    assert_eq!(rows(), after);

    // A _previous value no row holds, nor the new value: the run fails, nothing changes.
    secrets.insert(db.var.into(), "third".into());
    secrets.insert(format!("{}_previous", db.var), "not-in-the-table".into());
    env.vault(&secrets);
    let o = run(
        e2e_common::ansible_playbook(&tmp, &tmp.join("out"), "rotate-tokens.yml")
            .args(["--tags", "database"])
            .arg("-e")
            .arg(format!("@{}", tmp.join("secrets.json").display())),
    );
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(rows(), after);
    assert_eq!(env.dumps().len(), 1);
}

#[test]
#[ignore = "needs root, ansible-core, mariadbd, mysql and mysqldump; run by .ci/changes.sh"]
fn a_rotated_token_changes_its_row_only_once() {
    let base = std::env::temp_dir().join(format!("linkis-gen-rotate-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let db = MariaDb::start(&base.join("db"));
    db.root(&format!(
        "CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY {}; GRANT ALL ON linkis.* TO 'linkis'@'127.0.0.1';",
        sql_literal(PASSWORD)
    ));
    let query = |q: &str| db.root(&format!("USE linkis; {q}"));
    scenario(
        &base,
        Db {
            port: db.port,
            query: &query,
            ddl: "linkis_ddl.sql",
            dml: "linkis_dml.sql",
            version: "1.3.2",
            db_type: "",
            var: "vault_linkis_token_bml",
        },
    );
    drop(db);
    let _ = fs::remove_dir_all(&base);
}

#[test]
#[ignore = "needs root, ansible-core, a PostgreSQL server, psql and pg_dump; run by .ci/changes.sh"]
fn postgresql_a_rotated_token_changes_its_row_only_once() {
    let base = std::env::temp_dir().join(format!("linkis-gen-rotate-pg-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let pg = e2e_common::Postgres::start(&base.join("pg"));
    pg.sql(
        "postgres",
        &format!(
            "CREATE ROLE linkis LOGIN CREATEDB PASSWORD '{}'",
            PASSWORD.replace('\'', "''")
        ),
    );
    let query = |q: &str| pg.sql("linkis", q);
    scenario(
        &base,
        Db {
            port: pg.port,
            query: &query,
            ddl: "linkis_ddl_pg.sql",
            dml: "linkis_dml_pg.sql",
            version: "1.8.0",
            db_type: "\n  type: postgresql",
            var: "vault_linkis_token_linkis",
        },
    );
    drop(pg);
    let _ = fs::remove_dir_all(&base);
}
