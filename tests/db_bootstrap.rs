//! The platform side of the rendered playbook, per release and spec: the database bootstrap's
//! files, seed and token rows, the JDBC driver check, the ECM preflight lists and the storage
//! directories, read back from the rendered `inventory/group_vars/all/main.yml` and `site.yml`.
//! (tests/apply_e2e.rs runs them against a real MariaDB.)

mod conf_common;
use conf_common::get;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};
use serde_norway::Value;
use std::fs;

fn render_spec(text: &str) -> Vec<OutFile> {
    let src = Source::new("spec.yaml", text.as_bytes().to_vec());
    let plan = linkis_gen::plan(&src).unwrap_or_else(|d| panic!("{d:?}"));
    render::render(
        &linkis_gen::model::resolve(&plan),
        &RenderOptions::default(),
    )
    .expect("renders")
}

fn group_vars(files: &[OutFile]) -> Value {
    serde_norway::from_str(get(files, "inventory/group_vars/all/main.yml")).unwrap()
}

fn spec(version: &str, extra: &str) -> String {
    format!(
        r#"version: 1
cluster: {{ name: t, linkis_version: "{version}", package: files/linkis.tar.gz }}
database:
  host: db1
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
{extra}
sizing:
  concurrent_users: 2
  engines:
    spark: {{ memory: 1G, cores: 1, version: "3.3.0" }}
    hive: {{ memory: 1G, cores: 1 }}
    python: {{ memory: 1G, cores: 1, version: python3 }}
host_defaults: {{ memory: 64G, cores: 8 }}
hosts:
  - {{ name: s1, address: 10.0.0.1 }}
"#
    )
}

/// `find -> value` pairs of linkis_db_seed.
fn seed(gv: &Value) -> Vec<(String, String)> {
    let finds = strings(gv, "linkis_db_seed", "find");
    finds
        .into_iter()
        .zip(strings(gv, "linkis_db_seed", "value"))
        .collect()
}

/// One field of every entry of a list in group_vars.
fn strings(gv: &Value, key: &str, field: &str) -> Vec<String> {
    gv[key]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| d[field].as_str().unwrap().to_string())
        .collect()
}

fn seed_of<'a>(seed: &'a [(String, String)], find: &str) -> Option<&'a str> {
    seed.iter()
        .find(|(f, _)| f == find)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_1_3_2_mysql_bootstrap_seeds_yarn_kerberos_tokens_and_the_spec_engine_versions() {
    let files = render_spec(&spec(
        "1.3.2",
        r#"hadoop:
  version: "2.7.7"
  yarn_url: http://rm1:8088;http://rm2:8088
  yarn_auth: { user: yarn, password: { vault: vault_yarn_password } }
  kerberos: { principal: hadoop/_HOST@EXAMPLE.COM, keytab_dir: /etc/keytabs/ }"#,
    ));
    let gv = group_vars(&files);
    let seed = seed(&gv);
    assert_eq!(
        seed_of(&seed, "@YARN_RESTFUL_URL"),
        Some("http://rm1:8088;http://rm2:8088")
    );
    assert_eq!(seed_of(&seed, "@HADOOP_VERSION"), Some("2.7.7"));
    assert_eq!(seed_of(&seed, "@YARN_AUTH_ENABLE"), Some("true"));
    assert_eq!(seed_of(&seed, "@YARN_AUTH_USER"), Some("yarn"));
    // The password is never a seed value: it is set from the vault after loading.
    assert_eq!(seed_of(&seed, "@YARN_AUTH_PWD"), None);
    assert_eq!(
        gv["linkis_db_yarn_password"].as_str(),
        Some("{{ vault_yarn_password }}")
    );
    let vault: Vec<&str> = gv["linkis_vault_variables"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(vault.contains(&"vault_yarn_password"), "{vault:?}");
    assert_eq!(seed_of(&seed, "@YARN_KERBEROS_ENABLE"), Some("true"));
    assert_eq!(
        seed_of(&seed, "@YARN_PRINCIPAL_NAME"),
        Some("hadoop/_HOST@EXAMPLE.COM")
    );
    assert_eq!(
        seed_of(&seed, "@YARN_KEYTAB_PATH"),
        Some("/etc/keytabs/hadoop.keytab")
    );
    assert_eq!(seed_of(&seed, "@YARN_KRB5_PATH"), Some("/etc/krb5.conf"));
    // 1.3.2's labels are spark-2.4.3 / hive-2.3.3 / python-python2: spark and python follow the
    // spec, hive keeps the release's.
    assert_eq!(seed_of(&seed, "spark-2.4.3"), Some("spark-3.3.0"));
    assert_eq!(seed_of(&seed, "python-python2"), Some("python-python3"));
    assert_eq!(seed_of(&seed, "hive-2.3.3"), None);
    let tokens: Vec<(&str, &str)> = gv["linkis_db_tokens"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|t| (t["token"].as_str().unwrap(), t["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tokens,
        [
            ("BML-AUTH", "{{ vault_linkis_token_bml }}"),
            ("LINKIS_CLI_TEST", "{{ vault_linkis_token_cli_test }}"),
            ("WS-AUTH", "{{ vault_linkis_token_ws }}"),
            ("DSM-AUTH", "{{ vault_linkis_token_dsm }}"),
        ]
    );
    // The same variables the conf files carry.
    let props = get(&files, "hosts/s1/conf/linkis.properties");
    for (_, v) in &tokens {
        assert!(props.contains(v), "{v} not in linkis.properties");
    }

    let db = get(&files, "roles/linkis_db/tasks/main.yml");
    assert!(db.contains("mysql --version"));
    assert!(db.contains("db/linkis_dml.seeded.sql"));
    let sql = get(&files, "roles/linkis_db/templates/bootstrap.sql.j2");
    assert!(sql.contains("source {{ linkis_install_dir }}/db/linkis_ddl.sql\n"));
    assert!(sql.contains("UPDATE linkis_mg_gateway_auth_token SET token_name = "));
    let site = get(&files, "site.yml");
    assert!(site.contains("    - role: linkis_db\n"));
    assert!(site.find("role: linkis_install") < site.find("role: linkis_db"));
    // clear-server.sh runs from its own role (since the bed's merge), after the bootstrap.
    assert!(site.contains("    - role: linkis_clear_server\n"));
    assert!(site.find("role: linkis_db") < site.find("role: linkis_clear_server"));
    // The password only in a private option file, the client's first option, never in its
    // environment; every task that carries it is no_log.
    let defaults = get(&files, "roles/linkis_db/defaults/main.yml");
    assert!(
        defaults.contains(
            "  - mysql\n  # An option file of the client's own: the first option, or the client ignores it.\n  - \"--defaults-extra-file={{ linkis_db_private.path }}/client.cnf\"\n"
        ),
        "{defaults}"
    );
    assert!(!defaults.contains("MYSQL_PWD") && !defaults.contains("linkis_db_password"));
    assert!(db.contains("mode: \"0600\"") && db.contains("mode: \"0700\""));
    assert!(db.contains("  always:\n    - name: Remove the private directory"));
    let mut task = String::new();
    let mut secret_tasks = 0;
    for line in db.lines().chain(["- name: end"]) {
        if line.trim_start().starts_with("- name:") {
            if task.contains("linkis_db_password") {
                assert!(task.contains("no_log: true"), "{task}");
                secret_tasks += 1;
            }
            task.clear();
        }
        task.push_str(line);
        task.push('\n');
    }
    assert_eq!(secret_tasks, 1, "one task writes the option file");
    // clear-server: the release's DELETEs, from the catalog, not Linkis' script.
    let clear = get(&files, "roles/linkis_clear_server/tasks/main.yml");
    assert!(!clear.contains("clear-server.sh\""), "{clear}");
    assert!(!clear.contains("MYSQL_PASSWORD"));
    assert!(clear.contains("DELETE FROM linkis_cg_manager_engine_em;"));
    assert!(clear.contains("ENGINE_CLASS: org.apache.linkis.engineconn.launch.EngineConnServer"));
}

#[test]
fn a_1_8_postgresql_bootstrap_uses_the_pg_files_psql_and_the_single_gateway_token() {
    let files = render_spec(
        &spec("1.8.0", "").replace("  user: linkis\n", "  user: linkis\n  type: postgresql\n"),
    );
    let gv = group_vars(&files);
    let seed = seed(&gv);
    // 1.8's defaults: Hadoop 3.3.4, spark-3.2.1 labels; no YARN auth or Kerberos.
    assert_eq!(seed_of(&seed, "@HADOOP_VERSION"), Some("3.3.4"));
    assert_eq!(seed_of(&seed, "@YARN_AUTH_ENABLE"), Some("false"));
    assert_eq!(seed_of(&seed, "@YARN_AUTH_PWD"), Some(""));
    assert_eq!(seed_of(&seed, "spark-3.2.1"), Some("spark-3.3.0"));
    assert!(gv.get("linkis_db_yarn_password").is_none());
    assert_eq!(
        gv["linkis_db_tokens"][0]["token"].as_str(),
        Some("LINKIS-UNAVAILABLE-TOKEN")
    );
    assert_eq!(
        gv["linkis_db_tokens"][0]["value"].as_str(),
        Some("{{ vault_linkis_token_linkis }}")
    );
    assert_eq!(
        gv["linkis_db_driver_patterns"][0].as_str(),
        Some("postgresql-*.jar")
    );
    let sql = get(&files, "roles/linkis_db/templates/bootstrap.sql.j2");
    assert!(sql.contains("\\i {{ linkis_install_dir }}/db/linkis_ddl_pg.sql\n"));
    assert!(sql.contains("\\i {{ linkis_install_dir }}/db/linkis_dml_pg.seeded.sql\n"));
    // PostgreSQL strings take backslashes literally: only quotes are doubled.
    assert!(!sql.contains(r"replace('\\', '\\\\')"), "{sql}");
    let defaults = get(&files, "roles/linkis_db/defaults/main.yml");
    assert!(defaults.contains("  - psql\n") && !defaults.contains("PGPASSWORD"));
    assert!(defaults.contains("PGPASSFILE: \"{{ linkis_db_private.path }}/pgpass\""));
    let db = get(&files, "roles/linkis_db/tasks/main.yml");
    assert!(
        db.contains(
            "*:*:*:*:{{ linkis_db_password\n                       | replace(linkis_db_private_bs, linkis_db_private_bs ~ linkis_db_private_bs)\n                       | replace(':', linkis_db_private_bs ~ ':') }}\n"
        ),
        "{db}"
    );
}

#[test]
fn bootstrap_off_renders_no_db_play() {
    let files = render_spec(
        &spec("1.3.2", "").replace("  user: linkis\n", "  user: linkis\n  bootstrap: off\n"),
    );
    assert!(!get(&files, "site.yml").contains("role: linkis_db"));
    assert!(group_vars(&files).get("linkis_db_seed").is_none());
}

#[test]
fn the_driver_jar_storage_dirs_and_ecm_checks_follow_the_spec() {
    let files = render_spec(&spec(
        "1.3.2",
        r#"  driver_jar: files/mysql-connector-j-8.0.33.jar
storage:
  workspace: file:///data/ws/
  hdfs_root: hdfs://ns1/linkis
  result_sets: file:///data/results
auth: { admin_user: admin }"#,
    ));
    let gv = group_vars(&files);
    assert_eq!(
        gv["linkis_db_driver_jar"].as_str(),
        Some("files/mysql-connector-j-8.0.33.jar")
    );
    assert_eq!(
        gv["linkis_db_driver_patterns"].as_sequence().unwrap().len(),
        1
    );
    let dirs = |key: &str| -> Vec<(String, String)> {
        let paths = strings(&gv, key, "path");
        paths.into_iter().zip(strings(&gv, key, "mode")).collect()
    };
    let pair = |p: &str, m: &str| (p.to_string(), m.to_string());
    assert_eq!(
        dirs("linkis_storage_local_dirs"),
        [
            pair("/data/results", "0777"),
            pair("/data/results/hadoop", "0775"),
            pair("/data/ws/hadoop", "0775"),
        ]
    );
    assert_eq!(
        dirs("linkis_storage_hdfs_dirs"),
        [pair("hdfs://ns1/linkis/hadoop", "775")]
    );
    assert!(get(&files, "roles/linkis_storage/tasks/main.yml").contains("delegate_to: s1"));
    let names = |key: &str| strings(&gv, key, "name");
    assert_eq!(
        names("linkis_ecm_dirs"),
        [
            "HADOOP_HOME",
            "HADOOP_CONF_DIR",
            "HIVE_HOME",
            "HIVE_CONF_DIR",
            "SPARK_HOME",
            "SPARK_CONF_DIR"
        ]
    );
    assert_eq!(
        names("linkis_ecm_clients"),
        ["hadoop", "hdfs", "hive", "spark-submit"]
    );
    assert_eq!(gv["linkis_ecm_python"].as_str(), Some("python3"));
    assert_eq!(gv["linkis_job_users"][0].as_str(), Some("admin"));
}

// ---------------------------------------------------------------------------------------------
// Against a real MariaDB (tests/e2e_common): the password reaches the client through a private
// 0600 option file only, whatever it contains, and never a command line or an environment.

#[allow(dead_code)] // stub_release, read_request: the other e2e tests'
mod e2e_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Every character the brief names (`\ $ # ' " % ; & | { }`) and spaces, one of them leading; a
/// backslash last, where an option file's closing quote would be escaped by a careless writer.
const HOSTILE_PASSWORD: &str = r#" p\w $HOME #c 'q' "d" %s ; & | { } end\"#;

use e2e_common::E2E_PORTS;

/// What a sampler of /proc saw while it ran.
#[derive(Default)]
struct Seen {
    samples: usize,
    /// Command lines of database clients that carried an option file.
    clients: Vec<String>,
    /// `pid: where` of every process whose command line or environment held the secret.
    leaks: Vec<String>,
}

/// Reads /proc/*/cmdline and /proc/*/environ of every process, again and again, until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(secret: &'static str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (s, n) = (stop.clone(), seen.clone());
        let me = std::process::id().to_string();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok(dir) = fs::read_dir("/proc") else {
                    return;
                };
                for e in dir.flatten() {
                    let pid = e.file_name().to_string_lossy().to_string();
                    if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                        continue;
                    }
                    for what in ["cmdline", "environ"] {
                        let Ok(bytes) = fs::read(e.path().join(what)) else {
                            continue;
                        };
                        let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
                        let mut seen = n.lock().unwrap();
                        if text.contains(secret) {
                            seen.leaks.push(format!("{pid} {what}: {text}"));
                        }
                        if what == "cmdline"
                            && text.contains("mysql")
                            && text.contains("--defaults-extra-file=")
                        {
                            seen.clients.push(text);
                        }
                    }
                }
                n.lock().unwrap().samples += 1;
            }
        });
        Sampler {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

struct Local {
    tmp: PathBuf,
}

impl Local {
    /// One host, h1, on a local connection: a 1.3.2 spec whose database user is `linkis` at
    /// 127.0.0.1:`db_port`, LINKIS_HOME with the fixture's db/ files (the install role is not
    /// run), the vault values in an extra-vars file.
    fn new(name: &str, db_port: u16) -> Local {
        let tmp = std::env::temp_dir().join(format!("linkis-gen-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(tmp.join("private")).unwrap();
        fs::create_dir_all(tmp.join("systemd")).unwrap();
        let home = tmp.join("home");
        let fixture = |f: &str| fs::read_to_string(Path::new("tests/db_fixture").join(f)).unwrap();
        e2e_common::write(
            &home.join("db/linkis_ddl.sql"),
            &(fixture("linkis_ddl.sql") + &fixture("linkis_manager_ddl.sql")),
            0o644,
        );
        e2e_common::write(
            &home.join("db/linkis_dml.sql"),
            &fixture("linkis_dml.sql"),
            0o644,
        );
        fs::create_dir_all(home.join("conf")).unwrap();
        let spec = format!(
            r#"version: 1
cluster: {{ name: t, linkis_version: "1.3.2", package: files/linkis.tar.gz, deploy_user: root, prefer_ip: true }}
database:
  host: 127.0.0.1
  port: {db_port}
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
sizing:
  concurrent_users: 2
  engines:
    python: {{ memory: 1G, cores: 1, version: python3 }}
host_defaults: {{ memory: 64G, cores: 8 }}
hosts:
  - {{ name: h1, address: 127.0.0.1, ports: {E2E_PORTS} }}
"#
        );
        fs::write(tmp.join("spec.yaml"), spec).unwrap();
        e2e_common::sh(
            Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
                .arg("render")
                .arg(tmp.join("spec.yaml"))
                .arg("-o")
                .arg(tmp.join("out")),
        );
        let group = e2e_common::sh(Command::new("id").arg("-gn"));
        let vars = [
            ("ansible_connection", "local".to_string()),
            (
                "ansible_python_interpreter",
                "\"{{ ansible_playbook_python }}\"".to_string(),
            ),
            ("linkis_install_dir", home.display().to_string()),
            ("linkis_deploy_group", group),
            (
                "linkis_systemd_dir",
                tmp.join("systemd").display().to_string(),
            ),
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
        let mut secrets = BTreeMap::new();
        for n in e2e_common::vault_names(&tmp.join("out")) {
            let v = if n == "vault_linkis_db_password" {
                HOSTILE_PASSWORD.to_string()
            } else {
                format!("e2e-{n}")
            };
            secrets.insert(n, serde_json::Value::String(v));
        }
        fs::write(
            tmp.join("secrets.json"),
            serde_json::to_string(&secrets).unwrap(),
        )
        .unwrap();
        fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
        Local { tmp }
    }

    /// site.yml with `args`; (succeeded, stdout + stderr).
    fn site(&self, args: &[&str]) -> (bool, String) {
        let out = e2e_common::run(
            e2e_common::ansible_playbook(&self.tmp, &self.tmp.join("out"), "site.yml")
                .args(args)
                .arg("-e")
                .arg(format!("@{}", self.tmp.join("secrets.json").display())),
        );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    /// The private directories left behind (none, after any run).
    fn private_left(&self) -> Vec<String> {
        fs::read_dir(self.tmp.join("private"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect()
    }
}

/// The password in an SQL string literal (MariaDB's default sql_mode: backslash escapes).
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

#[test]
#[ignore = "needs root, ansible-core, mariadbd and mysql; run by .ci/hardening.sh"]
fn a_hostile_password_bootstraps_a_real_mariadb_and_never_shows_on_a_command_line() {
    let db_dir = std::env::temp_dir().join(format!("linkis-gen-dbpw-db-{}", std::process::id()));
    let _ = fs::remove_dir_all(&db_dir);
    let db = e2e_common::MariaDb::start(&db_dir);
    db.root(&format!(
        "CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY {}; GRANT ALL ON *.* TO 'linkis'@'127.0.0.1';",
        sql_literal(HOSTILE_PASSWORD)
    ));
    let env = Local::new("dbpw", db.port);

    // The bootstrap, watched: -vvv prints every command Ansible runs, the sampler every process.
    let sampler = Sampler::start(HOSTILE_PASSWORD);
    let (ok, stdout) = env.site(&["--tags", "db", "-vvv"]);
    let seen = sampler.finish();
    assert!(ok, "{stdout}");
    assert!(
        seen.leaks.is_empty(),
        "the password on a command line or in an environment: {:?}",
        seen.leaks
    );
    assert!(
        seen.samples > 10,
        "the sampler hardly ran: {}",
        seen.samples
    );
    assert!(
        !seen.clients.is_empty(),
        "the sampler never caught a mysql client ({} samples): it proves nothing",
        seen.samples
    );
    assert!(
        !stdout.contains(HOSTILE_PASSWORD),
        "-vvv shows the password"
    );
    assert!(!stdout.contains("MYSQL_PWD"), "{stdout}");
    assert_eq!(env.private_left(), Vec::<String>::new());

    // The client logged in with exactly that password: the schema and seed are in.
    assert_eq!(
        db.root("SELECT COUNT(*) FROM linkis.linkis_mg_gateway_auth_token"),
        "5"
    );
    assert_eq!(
        db.root("SELECT token_name FROM linkis.linkis_mg_gateway_auth_token WHERE id = 2"),
        "e2e-vault_linkis_token_bml"
    );

    // clear-server: rows of a cluster that ran. An engine (a java process whose command line
    // names EngineConnServer) outlived its ECM: the rows stay.
    let rows = fs::read_to_string("tests/db_fixture/linkis_manager_rows.sql").unwrap();
    db.root(&format!("USE linkis; {rows}"));
    let count = || {
        db.root(
            "SELECT (SELECT COUNT(*) FROM linkis.linkis_cg_manager_service_instance), \
             (SELECT COUNT(*) FROM linkis.linkis_cg_manager_label_value_relation), \
             (SELECT COUNT(*) FROM linkis.linkis_cg_manager_lock), \
             (SELECT COUNT(*) FROM linkis.linkis_cg_manager_label WHERE label_key IN ('engineInstance', 'emInstance'))",
        )
    };
    assert_eq!(count(), "2\t4\t1\t2");
    let java = env.tmp.join("bin/java");
    e2e_common::write(&java, "#!/bin/bash\nsleep 600\n", 0o755);
    // Its own process group, so that its sleep goes with it.
    let mut engine = std::os::unix::process::CommandExt::process_group(
        Command::new(&java).args([
            "-Xmx1g",
            "org.apache.linkis.engineconn.launch.EngineConnServer",
            "--engineconn-conf",
        ]),
        0,
    )
    .spawn()
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (ok, stdout) = env.site(&["--tags", "clear-server"]);
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--"])
        .arg(format!("-{}", engine.id()))
        .status();
    let _ = engine.wait();
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains("Linkis still runs on h1 (engines 1)"),
        "{stdout}"
    );
    assert_eq!(count(), "2\t4\t1\t2", "rows deleted under a running engine");

    // Nothing runs: the rows of clear-server.sh go, the others stay; the password again only in
    // the private file, removed afterwards.
    let sampler = Sampler::start(HOSTILE_PASSWORD);
    let (ok, stdout) = env.site(&["--tags", "clear-server", "-vvv"]);
    let seen = sampler.finish();
    assert!(ok, "{stdout}");
    assert!(seen.leaks.is_empty(), "{:?}", seen.leaks);
    assert!(!stdout.contains(HOSTILE_PASSWORD));
    assert_eq!(count(), "0\t1\t0\t0", "{stdout}");
    assert_eq!(
        db.root("SELECT label_value_key FROM linkis.linkis_cg_manager_label_value_relation"),
        "kept"
    );
    assert_eq!(env.private_left(), Vec::<String>::new());

    // A failing client still leaves no password file behind (the block's always).
    let (ok, stdout) = env.site(&["--tags", "clear-server", "-e", "linkis_db_name=no_such_db"]);
    assert!(!ok, "{stdout}");
    assert_eq!(env.private_left(), Vec::<String>::new());

    drop(db);
    let _ = fs::remove_dir_all(&db_dir);
    let _ = fs::remove_dir_all(&env.tmp);
}
