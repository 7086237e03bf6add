//! End-to-end: the seeded database rows of a running cluster change with the spec (issue 21).
//! A real MariaDB is bootstrapped by site.yml (tag db) from a spec; the spec's YARN address and
//! spark version change; the rendered changes.yml (tag database: the linkis_db_rows play only; the
//! restarts need systemd) updates exactly those rows, after a dump of the touched tables; a
//! second run changes nothing; every other row and table is as before.
//!
//! Real: Debian's mariadbd on its own datadir (tests/e2e_common), ansible-core, mysql and
//! mysqldump. The host is this machine (`ansible_connection: local`). The schema is the stand-in
//! of tests/db_fixture/ plus a table of our own holding the same texts, which must not change.
//!
//! Needs root (the role hands its private directory to the deploy user), so it is ignored by
//! default; .ci/keep.sh runs it:
//!   cargo test --release --test db_rows_e2e -- --ignored --test-threads=1

#[allow(dead_code)] // the fixtures of the other end-to-end tests
mod e2e_common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_common::{MariaDb, local_spec, recap, run, sh, vault_names, write};

/// A password with what option files and shells treat specially.
const PASSWORD: &str = r#"r"ow\s#p'w d:x;$y"#;

fn spec(port: u16, yarn_url: &str, spark: &str) -> String {
    local_spec("1.3.2", "", port, yarn_url, spark)
}

struct Env {
    tmp: PathBuf,
}

impl Env {
    fn render(&self, text: &str) {
        fs::write(self.tmp.join("spec.yaml"), text).unwrap();
        sh(Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
            .arg("render")
            .arg(self.tmp.join("spec.yaml"))
            .arg("-o")
            .arg(self.tmp.join("out")));
        let mut secrets = BTreeMap::new();
        for n in vault_names(&self.tmp.join("out")) {
            let v = if n == "vault_linkis_db_password" {
                PASSWORD.to_string()
            } else {
                format!("e2e-{n}")
            };
            secrets.insert(n, v);
        }
        fs::write(
            self.tmp.join("secrets.json"),
            serde_json::to_string(&secrets).unwrap(),
        )
        .unwrap();
    }

    /// A playbook of the tree that must succeed; its stdout (never showing the password).
    fn play(&self, playbook: &str, args: &[&str]) -> String {
        let o = run(
            e2e_common::ansible_playbook(&self.tmp, &self.tmp.join("out"), playbook)
                .args(args)
                .arg("-e")
                .arg(format!("@{}", self.tmp.join("secrets.json").display())),
        );
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

    /// The dumps linkis_db_rows wrote.
    fn dumps(&self) -> Vec<PathBuf> {
        let dir = self.tmp.join("home/db/changes-backup");
        let mut v: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn setup(port: u16) -> Env {
    setup_with(
        port,
        "linkis-gen-dbrows",
        "linkis_ddl.sql",
        "linkis_dml.sql",
        "\nCREATE TABLE `linkis_ps_other` (`id` INT PRIMARY KEY, `v` VARCHAR(200));\n",
    )
}

fn setup_with(port: u16, name: &str, ddl: &str, dml: &str, other: &str) -> Env {
    let tmp = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let home = tmp.join("home");
    let fixture = |f: &str| {
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/db_fixture")
                .join(f),
        )
        .unwrap()
    };
    // The stand-in schema, and a table of our own that holds the same texts as the seeded rows.
    write(&home.join("db").join(ddl), &(fixture(ddl) + other), 0o644);
    write(&home.join("db").join(dml), &fixture(dml), 0o644);
    fs::create_dir_all(home.join("conf")).unwrap();
    fs::create_dir_all(tmp.join("private")).unwrap();
    let group = sh(Command::new("id").arg("-gn"));
    let vars = [
        ("ansible_connection", "local".to_string()),
        (
            "ansible_python_interpreter",
            "\"{{ ansible_playbook_python }}\"".to_string(),
        ),
        ("linkis_install_dir", home.display().to_string()),
        ("linkis_deploy_group", group),
        (
            "linkis_private_tmp",
            tmp.join("private").display().to_string(),
        ),
    ];
    let mut local = String::from("all:\n  hosts:\n    h1:\n");
    for (k, v) in vars {
        local.push_str(&format!("      {k}: {v}\n"));
    }
    fs::write(tmp.join("local.yml"), local).unwrap();
    fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
    let _ = port;
    Env { tmp }
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

#[test]
#[ignore = "needs root, ansible-core, mariadbd, mysql and mysqldump; run by .ci/keep.sh"]
fn a_yarn_address_and_an_engine_version_change_update_exactly_their_rows() {
    let db_dir = std::env::temp_dir().join(format!("linkis-gen-dbrows-db-{}", std::process::id()));
    let _ = fs::remove_dir_all(&db_dir);
    let db = MariaDb::start(&db_dir);
    db.root(&format!(
        "CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY {}; GRANT ALL ON linkis.* TO 'linkis'@'127.0.0.1';",
        sql_literal(PASSWORD)
    ));
    let env = setup(db.port);

    // The bootstrap, from the first spec.
    env.render(&spec(db.port, "http://10.0.0.9:8088", "3.2.1"));
    env.play("site.yml", &["--tags", "db"]);
    db.root(
        "INSERT INTO linkis.linkis_ps_other VALUES \
         (1, '*-IDE,spark-3.2.1'), (2, '{\"rmWebAddress\":\"http://10.0.0.9:8088\"}')",
    );
    let config = || {
        let text = db.root(
            "SELECT config FROM linkis.linkis_cg_rm_external_resource_provider WHERE name = 'default'",
        );
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    let labels =
        || db.root("SELECT id, label_value FROM linkis.linkis_cg_manager_label ORDER BY id");
    let before = config();
    assert_eq!(before["rmWebAddress"], "http://10.0.0.9:8088");
    let labels_before = labels();
    assert!(
        labels_before.contains("*-IDE,spark-3.2.1"),
        "{labels_before}"
    );
    // Everything but the two tables the change touches.
    let others =
        || db.root("CHECKSUM TABLE linkis.linkis_mg_gateway_auth_token, linkis.linkis_ps_other");
    let others_before = others();

    // What runs is what was rendered; the spec changes: the YARN address, the spark version.
    let out = env.tmp.join("out");
    fs::copy(
        out.join(".linkis-gen/state.json"),
        out.join(".linkis-gen/applied.json"),
    )
    .unwrap();
    env.render(&spec(db.port, "http://10.0.0.19:8088", "3.3.0"));
    let changes = fs::read_to_string(out.join("CHANGES.md")).unwrap();
    assert!(changes.contains("## Database rows"), "{changes}");
    let first = env.play("changes.yml", &["--tags", "database"]);
    assert!(recap(&first)["h1"] > 0, "{first}");

    let after = config();
    assert_eq!(after["rmWebAddress"], "http://10.0.0.19:8088");
    // Every other field of the row as it was.
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("rmWebAddress");
        v
    };
    assert_eq!(strip(after), strip(before));
    let labels_after = labels();
    assert_eq!(
        labels_after,
        labels_before.replace("spark-3.2.1", "spark-3.3.0")
    );
    assert_ne!(labels_after, labels_before);
    assert_eq!(
        others(),
        others_before,
        "a table the change does not name changed"
    );
    let dumps = env.dumps();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    let dump = fs::read_to_string(&dumps[0]).unwrap();
    assert!(dump.contains("http://10.0.0.9:8088") && dump.contains("*-IDE,spark-3.2.1"));
    assert!(!dump.contains("linkis_ps_other") && !dump.contains("linkis_mg_gateway_auth_token"));
    assert_eq!(fs::read_dir(env.tmp.join("private")).unwrap().count(), 0);

    // A second run: nothing to do, no dump.
    let second = env.play("changes.yml", &["--tags", "database"]);
    assert_eq!(recap(&second)["h1"], 0, "{second}");
    assert_eq!(env.dumps().len(), 1);
    assert_eq!(labels(), labels_after);

    // A row edited by hand since: the run fails and rolls back (the labels stay as they are).
    db.root(
        "UPDATE linkis.linkis_cg_rm_external_resource_provider \
         SET config = REPLACE(config, '10.0.0.19', '10.9.9.9')",
    );
    fs::copy(
        out.join(".linkis-gen/state.json"),
        out.join(".linkis-gen/applied.json"),
    )
    .unwrap();
    env.render(&spec(db.port, "http://10.0.0.29:8088", "3.4.0"));
    let o = run(e2e_common::ansible_playbook(&env.tmp, &out, "changes.yml")
        .args(["--tags", "database"])
        .arg("-e")
        .arg(format!("@{}", env.tmp.join("secrets.json").display())));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{stdout}");
    assert_eq!(
        labels(),
        labels_after,
        "the transaction was not rolled back:\n{stdout}"
    );
    assert_eq!(config()["rmWebAddress"], "http://10.9.9.9:8088");

    drop(db);
    let _ = fs::remove_dir_all(&db_dir);
    let _ = fs::remove_dir_all(&env.tmp);
}

#[test]
#[ignore = "needs root, ansible-core, a PostgreSQL server, psql and pg_dump; run by .ci/changes.sh"]
fn postgresql_a_yarn_address_and_an_engine_version_change_update_exactly_their_rows() {
    let base = std::env::temp_dir().join(format!("linkis-gen-dbrows-pgdb-{}", std::process::id()));
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
    let env = setup_with(
        pg.port,
        "linkis-gen-dbrows-pg",
        "linkis_ddl_pg.sql",
        "linkis_dml_pg.sql",
        "\nCREATE TABLE linkis_ps_other (id INT PRIMARY KEY, v VARCHAR(200));\n",
    );
    let pgspec =
        |url: &str, spark: &str| local_spec("1.8.0", "\n  type: postgresql", pg.port, url, spark);
    env.render(&pgspec("http://10.0.0.9:8088", "3.2.1"));
    env.play("site.yml", &["--tags", "db"]);
    pg.sql(
        "linkis",
        "INSERT INTO linkis_ps_other VALUES (1, '*-IDE,spark-3.2.1'), (2, 'http://10.0.0.9:8088')",
    );
    let config = || {
        let text = pg.sql(
            "linkis",
            "SELECT config FROM linkis_cg_rm_external_resource_provider",
        );
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    let labels = || {
        pg.sql(
            "linkis",
            "SELECT id || ' ' || label_value FROM linkis_cg_manager_label ORDER BY id",
        )
    };
    let others = || {
        pg.sql(
            "linkis",
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \
             (SELECT row(o.*)::text AS t FROM linkis_ps_other o UNION ALL \
              SELECT row(a.*)::text FROM linkis_mg_gateway_auth_token a) x",
        )
    };
    let (before, labels_before, others_before) = (config(), labels(), others());
    assert_eq!(before["rmWebAddress"], "http://10.0.0.9:8088");

    let out = env.tmp.join("out");
    fs::copy(
        out.join(".linkis-gen/state.json"),
        out.join(".linkis-gen/applied.json"),
    )
    .unwrap();
    env.render(&pgspec("http://10.0.0.19:8088", "3.3.0"));
    let first = env.play("changes.yml", &["--tags", "database"]);
    assert!(recap(&first)["h1"] > 0, "{first}");
    let after = config();
    assert_eq!(after["rmWebAddress"], "http://10.0.0.19:8088");
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("rmWebAddress");
        v
    };
    assert_eq!(strip(after), strip(before));
    assert_eq!(
        labels(),
        labels_before.replace("spark-3.2.1", "spark-3.3.0")
    );
    assert_ne!(labels(), labels_before);
    assert_eq!(others(), others_before);
    assert_eq!(env.dumps().len(), 1);

    let second = env.play("changes.yml", &["--tags", "database"]);
    assert_eq!(recap(&second)["h1"], 0, "{second}");
    assert_eq!(env.dumps().len(), 1);

    drop(pg);
    let _ = fs::remove_dir_all(&base);
    let _ = fs::remove_dir_all(&env.tmp);
}
