//! The platform side of the rendered playbook, per release and spec: the database bootstrap's
//! files, seed and token rows, the JDBC driver check, the ECM preflight lists and the storage
//! directories, read back from the rendered `inventory/group_vars/all/main.yml` and `site.yml`.
//! (tests/apply_e2e.rs runs them against a real MariaDB.)

mod conf_common;
use conf_common::get;

use linkis_gen::load::Source;
use linkis_gen::render::{self, OutFile, RenderOptions};
use serde_norway::Value;

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
    // Every task that carries the DB password is no_log.
    let mut task = String::new();
    for line in db.lines().chain(["- name: end"]) {
        if line.starts_with("- name:") || line.starts_with("    - name:") {
            if task.contains("linkis_db_client_env") {
                assert!(task.contains("no_log: true"), "{task}");
            }
            task.clear();
        }
        task.push_str(line);
        task.push('\n');
    }
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
    assert!(defaults.contains("  - psql\n") && defaults.contains("PGPASSWORD"));
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
