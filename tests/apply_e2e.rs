//! End-to-end: real ansible-core applies a rendered playbook to this machine.
//!
//! Every host of a small spec is mapped to `ansible_connection: local` and a directory of its own
//! (an extra inventory layered over the rendered one), the release is a small stub tarball, and
//! the phases that need a running systemd and Linkis (`services`, `verify`) are skipped by tag.
//! The test asserts that each host's files landed with the right content and modes, then that a
//! second run reports `changed=0`.
//!
//! The secrets follow docs/apply.md literally: an `ansible-vault encrypt`ed
//! `inventory/group_vars/all/vault.yml` beside the rendered `main.yml`, and a password file.
//! The database is a real MariaDB (tests/e2e_common: Debian's `mariadbd`, its own datadir under
//! the temp dir, on 127.0.0.1 and a free port, stopped by PID), bootstrapped from a schema
//! fixture of our own (tests/db_fixture/, not Linkis' files) packed into the stub release's `db/`.
//! Hadoop and Spark cannot exist here: their homes hold stub clients, and a stub `hdfs` keeps
//! "HDFS" in a local directory and logs every call, so the HDFS directories the playbook creates
//! can be checked.
//!
//! Needs `ansible-playbook` (ansible-core) and `sudo` on PATH, and root (the playbook uses
//! `become`), so it is ignored by default; `.ci/apply.sh` runs it:
//!   cargo test --release --test apply_e2e -- --ignored

#[allow(dead_code)] // local_spec, E2E_PORTS: the database e2e tests'
mod e2e_common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_common::{MariaDb, mode, recap, sh, stub_release, vault_names, write};

const DB_PASSWORD: &str = "e2e-db-secret";
/// A YARN password and a token with characters that must be escaped in SQL and JSON.
const YARN_PASSWORD: &str = r#"e2e-yarn-p'a"ss\word"#;
const WS_TOKEN: &str = "e2e-ws-it's";

/// The vault variables the rendered inventory lists, each with the value the test gives it.
fn vault_vars(out: &Path) -> BTreeMap<String, String> {
    let names = vault_names(out);
    assert!(
        names.iter().any(|n| n == "vault_linkis_db_password"),
        "{names:?}"
    );
    names
        .into_iter()
        .map(|n| {
            let v = match n.as_str() {
                "vault_linkis_db_password" => DB_PASSWORD.to_string(),
                "vault_yarn_password" => YARN_PASSWORD.to_string(),
                "vault_linkis_token_ws" => WS_TOKEN.to_string(),
                _ => format!("e2e-{n}"),
            };
            (n, v)
        })
        .collect()
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out
}

fn ansible(tmp: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    ansible_playbook(tmp, out, "site.yml", args)
}

fn ansible_playbook(tmp: &Path, out: &Path, pb: &str, args: &[&str]) -> std::process::Output {
    e2e_common::ansible_playbook(tmp, out, pb)
        .args(args)
        .arg("--vault-password-file")
        .arg(tmp.join("vault-pass"))
        .output()
        .expect("ansible-playbook runs")
}

/// Runs site.yml without the parts that need systemd and running services: installing and
/// starting units, and verify. The manager-table cleanup (clear-server.sh) does run.
fn playbook(tmp: &Path, out: &Path) -> String {
    let output = ansible(tmp, out, &["--skip-tags", "units,start,verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "ansible-playbook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A temp dir with a rendered two-host spec (h1 = control, h2 = control + ECM, 1.3.2), a stub
/// release (with the schema fixture in its db/), JDK, Hadoop and Spark, a JDBC driver jar, the
/// encrypted vault file, and the inventory that maps both hosts to this machine.
fn setup(name: &str, db_port: u16) -> (PathBuf, PathBuf) {
    let tmp = std::env::temp_dir().join(format!("linkis-gen-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let user = sh(Command::new("id").arg("-un"));
    let group = sh(Command::new("id").arg("-gn"));

    // A stub release: LINKIS_HOME under linkis-package/, plus what must not be unpacked.
    // The release's db/ files: our own small schema and seed (tests/db_fixture/).
    let fixture = |f: &str| fs::read_to_string(Path::new("tests/db_fixture").join(f)).unwrap();
    // The DDL with the manager tables clear-server empties (linkis_clear_server deletes from them).
    let (ddl, dml) = (
        fixture("linkis_ddl.sql") + &fixture("linkis_manager_ddl.sql"),
        fixture("linkis_dml.sql"),
    );
    let tarball = stub_release(
        &tmp,
        "stub",
        &[
            ("linkis-package/lib/linkis-commons/stub.jar", "jar", 0o644),
            ("bin/install.sh", "#!/bin/sh\nexit 1\n", 0o755),
            // Linkis' script, which the role must never run (it deletes the rows itself).
            (
                "linkis-package/sbin/clear-server.sh",
                "#!/bin/bash\necho ran >> \"${LINKIS_HOME}/cleared\"\n",
                0o755,
            ),
            ("linkis-package/db/linkis_ddl.sql", &ddl, 0o644),
            ("linkis-package/db/linkis_dml.sql", &dml, 0o644),
        ],
    );

    // A stub linkis-web tarball: the static files under dist/, the installer beside it.
    let web = tmp.join("web-release");
    write(&web.join("dist/index.html"), "<html>stub</html>\n", 0o644);
    write(&web.join("install.sh"), "#!/bin/sh\nexit 1\n", 0o755);
    sh(Command::new("tar")
        .arg("-czf")
        .arg(tmp.join("apache-linkis-stub-web-bin.tar.gz"))
        .arg("-C")
        .arg(&web)
        .arg("dist")
        .arg("install.sh"));

    // A stub JDK for the preflight's Java check.
    write(
        &tmp.join("jdk/bin/java"),
        "#!/bin/sh\necho 'openjdk version \"1.8.0-stub\"' >&2\n",
        0o755,
    );

    // Stubs for what cannot run here: Hadoop and Spark clients (they only need to exist), and an
    // hdfs client that keeps "HDFS" under hdfs-root/, refuses to run without HADOOP_CONF_DIR,
    // and logs each call.
    write(&tmp.join("hadoop/bin/hadoop"), "#!/bin/sh\nexit 0\n", 0o755);
    write(
        &tmp.join("hadoop/etc/core-site.xml"),
        "<configuration/>\n",
        0o644,
    );
    write(
        &tmp.join("hadoop/bin/hdfs"),
        &format!(
            r#"#!/bin/bash
set -eu
[ -f "$HADOOP_CONF_DIR/core-site.xml" ] || {{ echo "no HADOOP_CONF_DIR" >&2; exit 2; }}
echo "$*" >> {log}
[ "$1" = dfs ] || exit 2
local_path() {{ case "$1" in hdfs://*) echo "{root}/${{1#hdfs://}}" ;; *) exit 2 ;; esac; }}
case "$2" in
  -test) [ "$3" = -d ] && [ -d "$(local_path "$4")" ] ;;
  -mkdir) [ "$3" = -p ] && mkdir -p "$(local_path "$4")" ;;
  -chmod) chmod "$3" "$(local_path "$4")" ;;
  *) exit 2 ;;
esac
"#,
            log = tmp.join("hdfs.log").display(),
            root = tmp.join("hdfs-root").display()
        ),
        0o755,
    );
    write(
        &tmp.join("spark/bin/spark-submit"),
        "#!/bin/sh\nexit 0\n",
        0o755,
    );
    write(&tmp.join("spark/conf/spark-defaults.conf"), "\n", 0o644);
    write(
        &tmp.join("files/mysql-connector-j-8.0.33.jar"),
        "stub driver",
        0o644,
    );

    let spec = format!(
        r#"version: 1
cluster:
  name: e2e
  linkis_version: "1.3.2"
  deploy_user: {user}
  package: {tarball}
  prefer_ip: true
database:
  host: 127.0.0.1
  port: {db_port}
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
  driver_jar: {tmp}/files/mysql-connector-j-8.0.33.jar
hadoop:
  home: {tmp}/hadoop
  conf_dir: {tmp}/hadoop/etc
  version: "3.3.4"
  yarn_url: http://rm.e2e.example:8088
  yarn_auth: {{ user: yarn, password: {{ vault: vault_yarn_password }} }}
spark:
  home: {tmp}/spark
  conf_dir: {tmp}/spark/conf
storage:
  workspace: file://{tmp}/storage/workspace/
  hdfs_root: hdfs:///e2e/users
  result_sets: file://{tmp}/storage/results
  shared_mount: true
sizing:
  concurrent_users: 2
  engines:
    spark: {{ memory: 1G, cores: 1, version: "3.2.1" }}
    python: {{ memory: 1G, cores: 1, version: python3 }}
host_defaults:
  memory: 64G
  cores: 8
hosts:
  - {{ name: h1, address: 127.0.0.1 }}
  - {{ name: h2, address: 127.0.0.2 }}
"#,
        tarball = tarball.display(),
        tmp = tmp.display(),
    );
    let spec_path = tmp.join("spec.yaml");
    fs::write(&spec_path, spec).unwrap();
    let out = tmp.join("out");
    sh(Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("render")
        .arg(&spec_path)
        .arg("-o")
        .arg(&out));

    // The per-host conf trees come from another module; make sure each host has at least one
    // secret-bearing file, one plain file, one script and one subdirectory, all host-specific.
    for h in ["h1", "h2"] {
        let hd = out.join("hosts").join(h);
        write(
            &hd.join("conf/e2e-secret.properties"),
            &format!("host={h}\npassword={{{{ vault_linkis_db_password }}}}\n"),
            0o644,
        );
        write(
            &hd.join("conf/e2e/plain.yml"),
            &format!("host: {h}\n"),
            0o644,
        );
        write(
            &hd.join("sbin/e2e-hello.sh"),
            &format!("#!/bin/sh\necho {h}\n"),
            0o755,
        );
    }

    // Host variables: they take precedence over the rendered inventory/group_vars/all/main.yml.
    let mut local = String::from("all:\n  hosts:\n");
    for h in ["h1", "h2"] {
        let d = tmp.join("hosts").join(h);
        let vars = [
            ("ansible_connection", "local".to_string()),
            (
                "ansible_python_interpreter",
                "\"{{ ansible_playbook_python }}\"".to_string(),
            ),
            (
                "linkis_install_dir",
                d.join("LinkisInstall").display().to_string(),
            ),
            (
                "linkis_engineconn_root_dir",
                d.join("engine").display().to_string(),
            ),
            ("linkis_web_root", d.join("web/dist").display().to_string()),
            (
                "linkis_nginx_conf_dir",
                d.join("nginx").display().to_string(),
            ),
            ("linkis_deploy_group", group.clone()),
            ("linkis_java_home", tmp.join("jdk").display().to_string()),
            ("linkis_min_free_disk_mb", "1".to_string()),
            ("linkis_web_install_nginx", "false".to_string()),
            ("linkis_web_reload", "false".to_string()),
            ("linkis_clear_server_check_mysql", "false".to_string()),
            (
                "linkis_web_package",
                tmp.join("apache-linkis-stub-web-bin.tar.gz")
                    .display()
                    .to_string(),
            ),
        ];
        local.push_str(&format!("    {h}:\n"));
        for (k, v) in vars {
            local.push_str(&format!("      {k}: {v}\n"));
        }
    }
    fs::write(tmp.join("local.yml"), local).unwrap();
    // Every vault variable the rendered tree asks for, with a made-up value, the way
    // docs/apply.md says: encrypted, in inventory/group_vars/all/vault.yml.
    fs::write(tmp.join("vault-pass"), "e2e-vault-password\n").unwrap();
    write_vault(&tmp, &out, &vault_vars(&out));
    fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
    (tmp, out)
}

/// Writes the vault variables into OUT/inventory/group_vars/all/vault.yml, encrypted with
/// `ansible-vault encrypt` and the password file.
fn write_vault(tmp: &Path, out: &Path, vars: &BTreeMap<String, String>) {
    let text: String = vars
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", serde_json::to_string(v).unwrap()))
        .collect();
    let path = out.join("inventory/group_vars/all/vault.yml");
    fs::write(&path, text).unwrap();
    sh(Command::new("ansible-vault")
        .arg("encrypt")
        .arg("--vault-password-file")
        .arg(tmp.join("vault-pass"))
        .arg(&path));
    let head = fs::read_to_string(&path).unwrap();
    assert!(head.starts_with("$ANSIBLE_VAULT;"), "{head}");
}

#[test]
#[ignore = "needs ansible-core, sudo and root; run by .ci/apply.sh"]
fn site_yml_installs_each_hosts_files_and_a_second_run_changes_nothing() {
    let db_dir = std::env::temp_dir().join(format!("linkis-gen-e2e-db-{}", std::process::id()));
    let _ = fs::remove_dir_all(&db_dir);
    let db = MariaDb::start(&db_dir);
    // The user the spec names, with no database yet.
    db.root(&format!(
        "CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}'; \
         GRANT ALL ON *.* TO 'linkis'@'127.0.0.1';"
    ));
    let (tmp, out) = setup("e2e", db.port);
    // The database does not exist yet: the bootstrap creates it (the user may).
    assert_eq!(db.root("SHOW DATABASES LIKE 'linkis'"), "");
    let first = playbook(&tmp, &out);
    let changed = recap(&first);
    assert_eq!(
        changed.keys().cloned().collect::<Vec<_>>(),
        // localhost: the last play decides on the control node whether to record applied.json.
        vec!["h1".to_string(), "h2".to_string(), "localhost".to_string()],
        "{first}"
    );
    assert!(
        changed["h1"] > 0 && changed["h2"] > 0,
        "first run: {changed:?}"
    );
    // Units, start and verify skipped: part of the cluster is not what is rendered, so the run
    // does not record it, and says so (tests/record_gate.rs covers every case).
    assert!(
        !out.join(".linkis-gen/applied.json").exists(),
        "a run with --skip-tags recorded applied.json"
    );
    assert!(
        first.lines().any(|l| l.contains("NOT RECORDED")
            && l.contains("it ran with --skip-tags")
            && ["units", "start", "verify"].iter().all(|t| l.contains(t))),
        "{first}"
    );

    let secrets = vault_vars(&out);
    assert!(
        secrets.len() > 1,
        "the conf trees reference tokens too: {secrets:?}"
    );
    for h in ["h1", "h2"] {
        let hd = out.join("hosts").join(h);
        let home = tmp.join("hosts").join(h).join("LinkisInstall");
        // The release: only linkis-package/ is unpacked, owned by the deploy user.
        assert!(home.join("sbin/linkis-daemon.sh").is_file());
        assert!(home.join("lib/linkis-commons/stub.jar").is_file());
        assert!(!home.join("bin/install.sh").exists());
        assert!(!home.join("linkis-package").exists());
        assert_eq!(
            mode(&home.join("sbin/ext/linkis-common-start")) & 0o700,
            0o700
        );

        // This host's conf/ and sbin/ files, secrets filled in at apply time.
        let mut n = 0;
        for sub in ["conf", "sbin"] {
            for rel in files_under(&hd.join(sub)) {
                let src = hd.join(sub).join(&rel);
                let dest = home.join(sub).join(&rel);
                let text = fs::read_to_string(&src).unwrap();
                let got = fs::read_to_string(&dest)
                    .unwrap_or_else(|e| panic!("{h}: {} not installed: {e}", dest.display()));
                let exec = mode(&src) & 0o100 != 0;
                if text.contains("{{ ") {
                    let mut want = text.clone();
                    // Filled in by the configure role's linkis_fill, escaped as
                    // java.util.Properties reads it (these values need only `\` doubled).
                    for (k, v) in &secrets {
                        assert!(v.is_ascii() && !v.starts_with(' '), "{v}");
                        want = want.replace(&format!("{{{{ {k} }}}}"), &v.replace('\\', "\\\\"));
                    }
                    assert_eq!(got, want, "{h}: {}", rel.display());
                    let m = if exec { 0o750 } else { 0o640 };
                    assert_eq!(mode(&dest), m, "{h}: {}", rel.display());
                } else {
                    assert_eq!(got, text, "{h}: {}", rel.display());
                    let m = if exec { 0o755 } else { 0o644 };
                    assert_eq!(mode(&dest), m, "{h}: {}", rel.display());
                }
                n += 1;
            }
        }
        assert!(n >= 3, "{h}: only {n} files checked");
        assert_eq!(
            fs::read_to_string(home.join("conf/e2e-secret.properties")).unwrap(),
            format!("host={h}\npassword={DB_PASSWORD}\n")
        );
        assert!(
            fs::read_to_string(home.join("conf/linkis-systemd.env"))
                .unwrap()
                .contains(&format!("JAVA_HOME={}", tmp.join("jdk").display()))
        );
        // The stock file the conf tree replaces, unless the conf tree has none.
        if hd.join("conf/linkis.properties").exists() {
            assert_ne!(
                fs::read_to_string(home.join("conf/linkis.properties")).unwrap(),
                "# stock\n"
            );
        }
        // Every rendered host runs a gateway here, so every host is a web front.
        let web_root = tmp.join("hosts").join(h).join("web/dist");
        assert_eq!(
            fs::read_to_string(web_root.join("index.html")).unwrap(),
            "<html>stub</html>\n"
        );
        assert!(!web_root.join("install.sh").exists());
        assert_eq!(
            fs::read_to_string(tmp.join("hosts").join(h).join("nginx/linkis.conf")).unwrap(),
            fs::read_to_string(out.join("nginx/linkis.conf")).unwrap()
        );
    }
    // Nothing of Linkis runs (a cold start): the role emptied the manager's tables itself (over a
    // private option file); Linkis' clear-server.sh, which puts the password on mysql's command
    // line, never ran.
    let cleared = |h: &str| tmp.join("hosts").join(h).join("LinkisInstall/cleared");
    assert!(!cleared("h1").exists() && !cleared("h2").exists());
    assert_eq!(
        db.root("SELECT COUNT(*) FROM linkis.linkis_cg_manager_service_instance"),
        "0"
    );
    assert_eq!(mode(&tmp.join("hosts/h1/LinkisInstall/conf/db.sh")), 0o640);
    let db_sh = fs::read_to_string(tmp.join("hosts/h1/LinkisInstall/conf/db.sh")).unwrap();
    assert!(db_sh.contains("MYSQL_HOST=127.0.0.1\n"), "{db_sh}");
    assert!(!db_sh.contains(DB_PASSWORD), "{db_sh}");
    // The engines' working directory only on the ECM host (h2 in a two-host spec).
    let engine = |h: &str| tmp.join("hosts").join(h).join("engine");
    assert!(!engine("h1").exists());
    assert_eq!(mode(&engine("h2")), 0o1777);

    // The database: created, the fixture's schema loaded, and seeded from the spec and vault.
    let tokens = db.root("SELECT token_name FROM linkis.linkis_mg_gateway_auth_token ORDER BY id");
    assert_eq!(
        tokens.lines().collect::<Vec<_>>(),
        vec![
            "QML-AUTH", // not a token of the conf files: left as shipped
            secrets["vault_linkis_token_bml"].as_str(),
            WS_TOKEN,
            secrets["vault_linkis_token_dsm"].as_str(),
            secrets["vault_linkis_token_cli_test"].as_str(),
        ]
    );
    let yarn = db.root("SELECT config FROM linkis.linkis_cg_rm_external_resource_provider");
    let yarn: serde_json::Value = serde_json::from_str(&yarn)
        .unwrap_or_else(|e| panic!("the YARN row is not JSON ({e}): {yarn}"));
    assert_eq!(
        yarn,
        serde_json::json!({
            "rmWebAddress": "http://rm.e2e.example:8088", "hadoopVersion": "3.3.4",
            "authorEnable": true, "user": "yarn", "pwd": YARN_PASSWORD,
            "kerberosEnable": false, "principalName": "", "keytabPath": "", "krb5Path": ""
        })
    );
    let labels = db.root("SELECT label_value FROM linkis.linkis_cg_manager_label ORDER BY id");
    assert_eq!(
        labels.lines().collect::<Vec<_>>(),
        // spark and python: the spec's versions; hive is not an engine of the spec.
        vec![
            "*-*,spark-3.2.1",
            "*-IDE,spark-3.2.1",
            "*-*,hive-2.3.3",
            "*-*,python-python3"
        ]
    );
    // The seeded DML copy stays on the bootstrap host (h1, the first manager) for audit, and
    // holds no secret: the tokens and the YARN password never went into a file.
    let seeded = tmp.join("hosts/h1/LinkisInstall/db/linkis_dml.seeded.sql");
    let text = fs::read_to_string(&seeded).unwrap();
    assert!(text.contains("http://rm.e2e.example:8088") && text.contains("spark-3.2.1"));
    assert!(text.contains("@YARN_AUTH_PWD") && text.contains("'BML-AUTH'"));
    for (k, v) in &secrets {
        assert!(!text.contains(v.as_str()), "{k} in {}", seeded.display());
    }
    assert_eq!(mode(&seeded), 0o640);
    assert!(
        !tmp.join("hosts/h2/LinkisInstall/db/linkis_dml.seeded.sql")
            .exists()
    );

    // The JDBC driver on every host; storage directories as install.sh makes them.
    for h in ["h1", "h2"] {
        let jar = tmp
            .join("hosts")
            .join(h)
            .join("LinkisInstall/lib/linkis-commons/public-module/mysql-connector-j-8.0.33.jar");
        assert_eq!(fs::read_to_string(&jar).unwrap(), "stub driver", "{h}");
        assert_eq!(
            mode(&tmp.join("hosts").join(h).join("LinkisInstall/logs")),
            0o755
        );
    }
    let user = sh(Command::new("id").arg("-un"));
    let storage = tmp.join("storage");
    assert_eq!(mode(&storage.join("workspace").join(&user)), 0o775);
    assert_eq!(mode(&storage.join("results")), 0o777);
    assert_eq!(mode(&storage.join("results").join(&user)), 0o775);
    // HDFS: the users' root, created once (run_once), with HADOOP_CONF_DIR set.
    assert_eq!(mode(&tmp.join("hdfs-root/e2e/users").join(&user)), 0o775);
    let hdfs_log = || fs::read_to_string(tmp.join("hdfs.log")).unwrap();
    assert_eq!(
        hdfs_log()
            .lines()
            .filter(|l| l.starts_with("dfs -mkdir"))
            .collect::<Vec<_>>(),
        vec![format!("dfs -mkdir -p hdfs:///e2e/users/{user}")]
    );

    let dump_before = db.dump("linkis");
    let counts = || db.fixture_counts();
    let counts_before = counts();
    assert_eq!(counts_before, "5\t1\t4");

    // A Linkis port of h2 answers (a service runs): not a cold start, the tables are left alone.
    let eureka =
        std::net::TcpListener::bind(("127.0.0.2", 20303)).expect("port 20303 on 127.0.0.2");
    let second = playbook(&tmp, &out);
    drop(eureka);
    let changed = recap(&second);
    assert_eq!(counts(), counts_before);
    assert_eq!(
        db.dump("linkis"),
        dump_before,
        "the second run touched the database"
    );
    assert!(
        second.contains("of Linkis' tables: not touched"),
        "{second}"
    );
    assert_eq!(
        hdfs_log()
            .lines()
            .filter(|l| l.starts_with("dfs -mkdir"))
            .count(),
        1,
        "HDFS directories created again"
    );
    assert!(
        second.contains(
            "Manager rows not cleared (clear-server): Linkis still runs on h2 (port 20303)"
        ),
        "{second}"
    );
    assert!(!cleared("h1").exists());
    assert!(
        changed.values().all(|c| *c == 0),
        "second run changed something: {changed:?}\n{second}"
    );

    // A vault variable the configuration needs but nobody defined stops the preflight, by name.
    let missing = secrets.keys().last().unwrap().clone();
    let partial: BTreeMap<String, String> = secrets
        .iter()
        .filter(|(k, _)| **k != missing)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    write_vault(&tmp, &out, &partial);
    let pre = ansible(&tmp, &out, &["--tags", "preflight"]);
    let stdout = String::from_utf8_lossy(&pre.stdout);
    assert!(!pre.status.success(), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("Define these variables") && l.contains(&missing)),
        "{missing} not named:\n{stdout}"
    );
    write_vault(&tmp, &out, &secrets);

    // A database that already has Linkis' tables is never touched: byte-identical afterwards,
    // even though its rows still carry the shipped placeholders the bootstrap would fill.
    db.root("CREATE DATABASE linkis_existing");
    for f in ["linkis_ddl.sql", "linkis_dml.sql"] {
        let path = std::env::current_dir()
            .unwrap()
            .join("tests/db_fixture")
            .join(f);
        db.root(&format!("USE linkis_existing; SOURCE {};", path.display()));
    }
    let before = db.dump("linkis_existing");
    assert!(before.contains("@YARN_RESTFUL_URL"));
    let run = ansible(
        &tmp,
        &out,
        &["--tags", "db", "-e", "linkis_db_name=linkis_existing"],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(
        stdout.contains("of Linkis' tables: not touched"),
        "{stdout}"
    );
    assert_eq!(recap(&stdout).values().sum::<u32>(), 0, "{stdout}");
    assert_eq!(db.dump("linkis_existing"), before);

    // Without a driver jar, a host whose release has no MySQL driver fails, saying what to do.
    let run = ansible(
        &tmp,
        &out,
        &[
            "--tags",
            "jdbc",
            "-e",
            r#"{"linkis_db_driver_jar": "", "linkis_db_driver_patterns": ["mysql-connector-java-*.jar"]}"#,
        ],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(!run.status.success(), "{stdout}");
    assert!(
        stdout.contains("has no MySQL JDBC driver") && stdout.contains("database.driver_jar"),
        "{stdout}"
    );

    drop(db);
    let _ = fs::remove_dir_all(&db_dir);
    let _ = fs::remove_dir_all(&tmp);
}

/// A stand-in for the running cluster: every port of the rendered inventory answers, Eureka's
/// `/eureka/apps` lists the instances given, `/actuator/health` says UP.
struct FakeCluster {
    /// (app, address, port) of the registered instances.
    registered: std::sync::Arc<std::sync::Mutex<Vec<(String, String, u16)>>>,
    /// Set on drop: each listener's thread ends at its next connection (drop makes one), and so
    /// releases its port for the next test of this process (the tests run one at a time).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    listening: Vec<(String, u16, std::thread::JoinHandle<()>)>,
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for (addr, port, handle) in self.listening.drain(..) {
            let _ = std::net::TcpStream::connect((addr.as_str(), port));
            let _ = handle.join();
        }
    }
}

impl FakeCluster {
    fn start(listen: &[(&str, u16)]) -> FakeCluster {
        use std::io::Write;
        let registered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut listening = Vec::new();
        for (addr, port) in listen {
            let l = std::net::TcpListener::bind((*addr, *port))
                .unwrap_or_else(|e| panic!("cannot listen on {addr}:{port}: {e}"));
            let reg = registered.clone();
            let stopped = stop.clone();
            let handle = std::thread::spawn(move || {
                for conn in l.incoming() {
                    if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut c) = conn else { continue };
                    let req = e2e_common::read_request(&mut c);
                    let body = if req.starts_with("GET /eureka/apps") {
                        let list: Vec<(String, String, u16)> = reg.lock().unwrap().clone();
                        let apps: Vec<String> = list
                            .iter()
                            .map(|(app, ip, port)| {
                                format!(
                                    r#"{{"name":"{app}","instance":[{{"instanceId":"{ip}:{port}","hostName":"{ip}","app":"{app}","ipAddr":"{ip}","status":"UP","port":{{"$":{port},"@enabled":"true"}}}}]}}"#
                                )
                            })
                            .collect();
                        format!(
                            r#"{{"applications":{{"versions__delta":"1","application":[{}]}}}}"#,
                            apps.join(",")
                        )
                    } else if req.starts_with("GET ") {
                        r#"{"status":"UP"}"#.to_string()
                    } else {
                        continue;
                    };
                    let _ = write!(
                        c,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
            listening.push((addr.to_string(), *port, handle));
        }
        FakeCluster {
            registered,
            stop,
            listening,
        }
    }
}

type Listen = Vec<(&'static str, u16)>;
type Registered = Vec<(String, String, u16)>;

/// The instances of the two-host default placement (h1 = 127.0.0.1: control; h2 = 127.0.0.2:
/// control + ECM) at Linkis' default ports: where each listens, and each as Eureka lists it
/// (application, address, port).
fn two_host_instances() -> (Listen, Registered) {
    let control = [
        ("LINKIS-MG-EUREKA", 20303),
        ("LINKIS-MG-GATEWAY", 9001),
        ("LINKIS-PS-PUBLICSERVICE", 9105),
        ("LINKIS-CG-LINKISMANAGER", 9101),
        ("LINKIS-CG-ENTRANCE", 9104),
    ];
    let mut listen = Vec::new();
    let mut all = Vec::new();
    for ip in ["127.0.0.1", "127.0.0.2"] {
        for (app, port) in control {
            listen.push((ip, port));
            all.push((app.to_string(), ip.to_string(), port));
        }
    }
    listen.push(("127.0.0.2", 9102));
    all.push((
        "LINKIS-CG-ENGINECONNMANAGER".to_string(),
        "127.0.0.2".to_string(),
        9102,
    ));
    (listen, all)
}

#[test]
#[ignore = "needs ansible-core and free ports 9001-9105, 20303 on 127.0.0.1/2; run by .ci/apply.sh"]
fn verify_names_the_instances_eureka_does_not_list() {
    // The database is not reached by the verify phase: any port does.
    let (tmp, out) = setup("verify", 3306);
    let (listen, all) = two_host_instances();
    let fake = FakeCluster::start(&listen);
    let args = ["--tags", "verify", "-e", "linkis_register_timeout=10"];

    *fake.registered.lock().unwrap() = all.clone();
    let ok = ansible(&tmp, &out, &args);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "verify failed on a full registry:\n{stdout}"
    );
    assert!(
        stdout.contains("Eureka lists all 11 expected instances"),
        "{stdout}"
    );

    // The ECM of h2 and h1's entrance never registered.
    let partial: Vec<_> = all
        .iter()
        .filter(|(app, ip, _)| {
            app != "LINKIS-CG-ENGINECONNMANAGER"
                && !(app == "LINKIS-CG-ENTRANCE" && ip == "127.0.0.1")
        })
        .cloned()
        .collect();
    *fake.registered.lock().unwrap() = partial;
    let bad = ansible(&tmp, &out, &args);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(
        !bad.status.success(),
        "verify passed a partial registry:\n{stdout}"
    );
    let msg = stdout
        .lines()
        .find(|l| l.contains("Not registered in Eureka: "))
        .unwrap_or_else(|| panic!("no failure message in:\n{stdout}"));
    for missing in [
        "LINKIS-CG-ENGINECONNMANAGER on h2 port 9102 (Eureka on h1)",
        "LINKIS-CG-ENGINECONNMANAGER on h2 port 9102 (Eureka on h2)",
        "LINKIS-CG-ENTRANCE on h1 port 9104 (Eureka on h1)",
    ] {
        assert!(msg.contains(missing), "{missing} not named in: {msg}");
    }
    assert!(!msg.contains("GATEWAY"), "{msg}");
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
#[ignore = "needs ansible-core, root and free ports 9001-9105, 20303 on 127.0.0.1/2; run by .ci/apply.sh"]
fn status_yml_reports_every_instance_then_names_a_stopped_unit_and_an_edited_file() {
    // The database is not reached: its plays are skipped.
    let (tmp, out) = setup("status", 3306);
    playbook_with(&tmp, &out, "units,start,verify,db,clear-server");
    // What linkis_units installs (it needs systemd): each host's units in a directory of its own;
    // systemctl is a stub that says every unit is active and enabled unless the host's `stopped`
    // file names it (systemd cannot be PID 1 here).
    let stub = tmp.join("systemctl");
    write(
        &stub,
        "#!/bin/bash\nstopped=\"${LINKIS_HOME}/../stopped\"\ncase \"$1\" in\n  is-active) if grep -qx \"$2\" \"$stopped\" 2>/dev/null; then echo inactive; exit 3; fi; echo active ;;\n  is-enabled) echo enabled ;;\n  show) echo 'Sun 2026-12-06 10:00:00 UTC' ;;\nesac\n",
        0o755,
    );
    let mut local = fs::read_to_string(tmp.join("local.yml")).unwrap();
    for h in ["h1", "h2"] {
        let units = tmp.join("hosts").join(h).join("systemd");
        fs::create_dir_all(&units).unwrap();
        for e in fs::read_dir(out.join("hosts").join(h).join("systemd")).unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), units.join(e.file_name())).unwrap();
        }
        local = local.replacen(
            &format!("    {h}:\n"),
            &format!(
                "    {h}:\n      linkis_systemd_dir: {}\n      linkis_status_systemctl: {}\n",
                units.display(),
                stub.display()
            ),
            1,
        );
    }
    fs::write(tmp.join("local.yml"), local).unwrap();
    // Every instance listens, answers its health and is registered with both Eureka nodes.
    let (listen, all) = two_host_instances();
    let fake = FakeCluster::start(&listen);
    *fake.registered.lock().unwrap() = all;

    let ok = ansible_playbook(&tmp, &out, "status.yml", &[]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "status.yml failed on a healthy cluster:\n{stdout}"
    );
    let table: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("\"h1 ") || l.trim_start().starts_with("\"h2 "))
        .collect();
    assert_eq!(table.len(), 11, "{stdout}");
    assert!(
        table
            .iter()
            .all(|l| l.contains(" active ") && l.contains(" yes ") && l.contains("h1,h2")),
        "{table:#?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join(".linkis-gen/status.json")).unwrap())
            .unwrap();
    let rows = json["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 11);
    assert!(
        rows.iter()
            .all(|r| r["problems"].as_array().unwrap().is_empty()
                && r["drift"].as_array().unwrap().is_empty()),
        "{json}"
    );
    assert!(
        rows.iter()
            .all(|r| r["release"].as_str().unwrap().contains("LinkisInstall")),
        "{json}"
    );

    // h1's publicservice stopped, h2's linkis.properties edited by hand.
    let home = |h: &str| tmp.join("hosts").join(h).join("LinkisInstall");
    fs::write(home("h1").join("../stopped"), "linkis-ps-publicservice\n").unwrap();
    let props = home("h2").join("conf/linkis.properties");
    let mut text = fs::read_to_string(&props).unwrap();
    text.push_str("wds.linkis.hand.edit=true\n");
    fs::write(&props, text).unwrap();
    let bad = ansible_playbook(&tmp, &out, "status.yml", &[]);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success(), "{stdout}");
    let msg = stdout
        .lines()
        .find(|l| l.contains("Fail naming") || l.contains("FAILED!"))
        .map(|_| {
            stdout
                .split("FAILED!")
                .nth(1)
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_else(|| panic!("no failure in:\n{stdout}"));
    assert!(
        msg.contains("publicservice on h1 port 9105: unit inactive"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "files changed on h2: {}",
            home("h2").join("conf/linkis.properties").display()
        )) || msg.contains("files changed on h2: ") && msg.contains("conf/linkis.properties"),
        "{msg}"
    );
    assert!(
        !msg.contains("on h2 port"),
        "only h1's publicservice is down: {msg}"
    );
    let _ = fs::remove_dir_all(&tmp);
}

/// Runs site.yml skipping `skip` (comma-separated tags); it must succeed.
fn playbook_with(tmp: &Path, out: &Path, skip: &str) -> String {
    let output = ansible(tmp, out, &["--skip-tags", skip]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "ansible-playbook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
