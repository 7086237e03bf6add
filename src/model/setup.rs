//! The platform around the Linkis services that `site.yml` sets up as Linkis' own `bin/install.sh`
//! does: the metadata database (created and seeded from the release's `db/` files, once, only when
//! it holds none of Linkis' tables), the JDBC driver, the Hadoop/Hive/Spark side the ECM hosts
//! need (checked), and the storage directories (local ones, and HDFS ones from one host).
//!
//! Data only (templates see it as `setup`): the roles `linkis_db`, `linkis_jdbc`,
//! `linkis_preflight_ecm` and `linkis_storage` read it from `inventory/group_vars/all/main.yml`
//! and the play list of `site.yml`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::platform::Platform;
use crate::catalog::{
    LABEL_CREATORS, LABEL_ROW_KEY, LABEL_TABLE, YARN_JSON_FIELDS, YARN_ROW_KEY, token_vault_var,
};
use crate::size::Plan;
use crate::spec::{DbType, Service};
use crate::state::DbRow;

#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub dbboot: DbBootCtx,
    pub jdbc: JdbcCtx,
    pub ecm_check: EcmCheckCtx,
    pub storage: StorageCtx,
    pub clear_server: ClearServerCtx,
}

/// The database bootstrap: the release's SQL files and the seed.
#[derive(Debug, Clone, Serialize)]
pub struct DbBootCtx {
    /// `database.bootstrap: auto`: site.yml runs the `linkis_db` role.
    pub enabled: bool,
    /// The host that runs it: the first linkismanager host (it has the client clear-server.sh
    /// uses, and reaches the database like every service does).
    pub host: String,
    /// `mysql` or `postgresql`.
    pub kind: &'static str,
    /// The command-line client: `mysql` or `psql`.
    pub client: &'static str,
    /// Under the install dir (LINKIS_HOME).
    pub dir: &'static str,
    pub ddl: &'static str,
    pub dml: &'static str,
    /// The copy of the DML the seed values are substituted into (kept for audit).
    pub seeded: String,
    /// `linkis_`: every Linkis table name starts with it.
    pub table_prefix: &'static str,
    /// `linkis\_%`: the LIKE pattern of Linkis' tables.
    pub table_prefix_like: String,
    pub token_table: &'static str,
    pub yarn_table: &'static str,
    /// Non-secret substitutions in the DML copy, as SQL text.
    pub seed: Vec<Seed>,
    /// Gateway token rows renamed to the vault values.
    pub tokens: Vec<TokenSeed>,
    /// The vault variable of the YARN REST password, when `hadoop.yarn_auth` is set.
    pub yarn_password_var: Option<String>,
    /// The rows the seed decides, as they are recorded in state.json (empty without the
    /// bootstrap): a change to one is a planned change (src/plan/changes.rs).
    #[serde(skip)]
    pub rows: BTreeMap<String, DbRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Seed {
    /// The text of the release's DML to replace: a placeholder or an engine label.
    pub find: String,
    /// What replaces it, escaped for where it sits (a JSON string inside an SQL string).
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenSeed {
    pub token: &'static str,
    pub var: &'static str,
}

/// The JDBC driver: installed from `database.driver_jar`, else looked for in the release's lib.
#[derive(Debug, Clone, Serialize)]
pub struct JdbcCtx {
    pub driver_jar: Option<String>,
    /// File name patterns of a driver for the database type (the jar's own name when given).
    pub patterns: Vec<String>,
    /// `MySQL` / `PostgreSQL`, for messages.
    pub db_label: &'static str,
    /// `lib/linkis-commons/public-module`, under the install dir.
    pub public_module: &'static str,
}

/// What the ECM hosts need for the spec's engines and storage.
#[derive(Debug, Clone, Serialize)]
pub struct EcmCheckCtx {
    pub dirs: Vec<NamedPath>,
    pub clients: Vec<NamedPath>,
    /// The interpreter the python engine runs (`python2`, `python3`), if the spec has one.
    pub python: Option<String>,
    /// The users engines are started as, checked with `sudo -n su - USER` as the deploy user.
    pub job_users: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedPath {
    pub name: String,
    pub path: String,
}

/// The storage directories install.sh creates.
#[derive(Debug, Clone, Serialize)]
pub struct StorageCtx {
    /// Local directories (file:// roots), on every host.
    pub local: Vec<Dir>,
    /// HDFS directories (hdfs:// roots), created from `hdfs_host` with `hdfs dfs -mkdir -p`.
    pub hdfs: Vec<Dir>,
    /// The first ECM host (it has the Hadoop client, checked by the ECM preflight).
    pub hdfs_host: Option<String>,
    /// `HADOOP_HOME/bin/hdfs`.
    pub hdfs_client: String,
    pub hadoop_conf_dir: String,
    /// A kerberized Hadoop (`hadoop.kerberos`): `hdfs` runs with a ticket of the deploy user,
    /// from `<keytab_dir>/<user>.keytab` with the user's name as principal, as Linkis' services
    /// log in (`wds.linkis.keytab.file`, host principals off).
    pub kerberos: Option<StorageKerberos>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StorageKerberos {
    pub keytab: String,
    pub principal: String,
    pub krb5_conf: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dir {
    pub path: String,
    pub mode: &'static str,
}

/// A value as it must appear inside a JSON string inside an SQL string literal of the DML.
fn sql_json(kind: DbType, s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    let inner = &json[1..json.len() - 1];
    match kind {
        DbType::Mysql => inner.replace('\\', "\\\\").replace('\'', "''"),
        DbType::Postgresql => inner.replace('\'', "''"),
    }
}

/// The file a Kerberos principal's keytab has in a keytab directory: `<primary>.keytab`.
fn keytab_file(dir: &str, principal: &str) -> String {
    let primary = principal.split(['/', '@']).next().unwrap_or(principal);
    format!("{}/{primary}.keytab", dir.trim_end_matches('/'))
}

/// The database bootstrap: the YARN placeholders' seed and rows, the engine labels', the DDL/DML.
fn db_boot(plan: &Plan, pf: &Platform) -> DbBootCtx {
    let facts = plan.release.db_seed();
    let kind = plan.spec.database.kind;
    let files = match kind {
        DbType::Postgresql => facts.postgresql.unwrap_or(facts.mysql),
        DbType::Mysql => facts.mysql,
    };
    let y = &pf.yarn;
    let mut seed = Vec::new();
    let mut rows = BTreeMap::new();
    yarn_seed(plan, pf, &mut seed, &mut rows);
    engine_label_seed(plan, pf, &mut seed, &mut rows);
    DbBootCtx {
        enabled: pf.bootstrap,
        host: plan
            .hosts_with(Service::Linkismanager)
            .next()
            .or(plan.hosts.first())
            .map(|h| h.name.clone())
            .unwrap_or_default(),
        kind: match kind {
            DbType::Mysql => "mysql",
            DbType::Postgresql => "postgresql",
        },
        client: match kind {
            DbType::Mysql => "mysql",
            DbType::Postgresql => "psql",
        },
        dir: facts.dir,
        ddl: files.ddl,
        dml: files.dml,
        seeded: format!("{}.seeded.sql", files.dml.trim_end_matches(".sql")),
        table_prefix: facts.table_prefix,
        table_prefix_like: format!("{}%", facts.table_prefix.replace('_', "\\_")),
        token_table: facts.token_table,
        yarn_table: facts.yarn_table,
        seed,
        tokens: plan
            .release
            .db_tokens()
            .into_iter()
            .map(|token| TokenSeed {
                token,
                var: token_vault_var(token),
            })
            .collect(),
        yarn_password_var: y.auth_password_var.clone(),
        rows: if pf.bootstrap { rows } else { BTreeMap::new() },
    }
}

/// The YARN placeholders of the DML: each one's seed value, and its row of the YARN JSON.
fn yarn_seed(plan: &Plan, pf: &Platform, seed: &mut Vec<Seed>, rows: &mut BTreeMap<String, DbRow>) {
    let facts = plan.release.db_seed();
    let kind = plan.spec.database.kind;
    let y = &pf.yarn;
    let auth = y.auth_user.as_ref();
    let krb = y.kerberos.as_ref();
    for p in plan.release.db_yarn_placeholders() {
        let v: String = match p {
            "@YARN_RESTFUL_URL" => y.url.clone(),
            "@HADOOP_VERSION" => pf.hadoop_version.clone().unwrap_or_default(),
            "@YARN_AUTH_ENABLE" => auth.is_some().to_string(),
            "@YARN_AUTH_USER" => auth.cloned().unwrap_or_default(),
            // With auth, the password is set after loading, from the vault, never in a file.
            "@YARN_AUTH_PWD" if y.auth_password_var.is_some() => continue,
            "@YARN_KERBEROS_ENABLE" => krb.is_some().to_string(),
            "@YARN_PRINCIPAL_NAME" => krb.map(|k| k.principal.clone()).unwrap_or_default(),
            "@YARN_KEYTAB_PATH" => krb
                .map(|k| keytab_file(&k.keytab_dir, &k.principal))
                .unwrap_or_default(),
            "@YARN_KRB5_PATH" => krb.map(|k| k.krb5_conf.clone()).unwrap_or_default(),
            _ => String::new(),
        };
        if let Some((_, field, quoted)) = YARN_JSON_FIELDS.iter().find(|(q, _, _)| *q == p) {
            let sep = if facts.yarn_json_spaced.contains(field) {
                ": "
            } else {
                ":"
            };
            let json = if *quoted {
                serde_json::to_string(&v).unwrap_or_default()
            } else {
                v.clone()
            };
            rows.insert(
                format!("yarn {field}"),
                DbRow {
                    column: "config".into(),
                    fragment: true,
                    source: yarn_source(p).into(),
                    table: facts.yarn_table.into(),
                    value: format!("\"{field}\"{sep}{json}"),
                    key: YARN_ROW_KEY.into(),
                },
            );
        }
        seed.push(Seed {
            find: p.to_string(),
            value: sql_json(kind, &v),
        });
    }
}

/// The engine labels (`spark-2.4.3`): each creator's row, the seed of a version the spec changes.
fn engine_label_seed(
    plan: &Plan,
    pf: &Platform,
    seed: &mut Vec<Seed>,
    rows: &mut BTreeMap<String, DbRow>,
) {
    let spec = &plan.spec;
    let kind = spec.database.kind;
    for (engine, default) in plan.release.platform().engine_versions {
        let label = match pf
            .engine_versions
            .get(*engine)
            .filter(|_| spec.sizing.engines.contains_key(*engine))
        {
            Some(v) => format!("{engine}-{v}"),
            None => format!("{engine}-{default}"),
        };
        for creator in LABEL_CREATORS {
            rows.insert(
                format!("label {creator},{engine}"),
                DbRow {
                    column: "label_value".into(),
                    fragment: false,
                    source: format!("sizing.engines.{engine}.version"),
                    table: LABEL_TABLE.into(),
                    value: format!("{creator},{label}"),
                    key: LABEL_ROW_KEY.into(),
                },
            );
        }
        if let Some(v) = pf
            .engine_versions
            .get(*engine)
            .filter(|v| v != default && spec.sizing.engines.contains_key(*engine))
        {
            seed.push(Seed {
                find: format!("{engine}-{default}"),
                value: sql_json(kind, &format!("{engine}-{v}")),
            });
        }
    }
}

/// The spec path behind a YARN placeholder of the DML.
fn yarn_source(placeholder: &str) -> &'static str {
    match placeholder {
        "@YARN_RESTFUL_URL" => "hadoop.yarn_url",
        "@HADOOP_VERSION" => "hadoop.version",
        "@YARN_AUTH_ENABLE" | "@YARN_AUTH_USER" | "@YARN_AUTH_PWD" => "hadoop.yarn_auth",
        _ => "hadoop.kerberos",
    }
}

/// Driver jar names that carry a JDBC driver for MySQL (Connector/J, old and new names, or
/// MariaDB's, which speaks to MySQL too) and PostgreSQL.
const MYSQL_DRIVERS: &[&str] = &[
    "mysql-connector-java-*.jar",
    "mysql-connector-j-*.jar",
    "mariadb-java-client-*.jar",
];
const PG_DRIVERS: &[&str] = &["postgresql-*.jar"];

fn jdbc(plan: &Plan, pf: &Platform) -> JdbcCtx {
    let db = &plan.spec.database;
    let jar = pf.driver_jar.clone();
    let patterns = match (&jar, db.kind) {
        (Some(j), _) => vec![j.rsplit('/').next().unwrap_or(j).to_string()],
        (None, DbType::Mysql) => MYSQL_DRIVERS.iter().map(|s| s.to_string()).collect(),
        (None, DbType::Postgresql) => PG_DRIVERS.iter().map(|s| s.to_string()).collect(),
    };
    JdbcCtx {
        driver_jar: jar,
        patterns,
        db_label: match db.kind {
            DbType::Mysql => "MySQL",
            DbType::Postgresql => "PostgreSQL",
        },
        public_module: plan.release.line.conf.public_module,
    }
}

fn is_hdfs(url: &str) -> bool {
    url.starts_with("hdfs://")
}

fn ecm_check(plan: &Plan, pf: &Platform) -> EcmCheckCtx {
    let spec = &plan.spec;
    let engines = &spec.sizing.engines;
    let hdfs = [&pf.workspace, &pf.hdfs_root, &pf.result_sets]
        .iter()
        .any(|u| is_hdfs(u));
    let (spark, hive) = (engines.contains_key("spark"), engines.contains_key("hive"));
    let mut dirs = Vec::new();
    let mut clients = Vec::new();
    let named = |name: &str, path: String| NamedPath {
        name: name.to_string(),
        path,
    };
    if spark || hive || hdfs {
        dirs.push(named("HADOOP_HOME", spec.hadoop.home.clone()));
        dirs.push(named("HADOOP_CONF_DIR", spec.hadoop.conf_dir.clone()));
        clients.push(named("hadoop", format!("{}/bin/hadoop", spec.hadoop.home)));
    }
    if hdfs {
        clients.push(named("hdfs", format!("{}/bin/hdfs", spec.hadoop.home)));
    }
    if hive {
        dirs.push(named("HIVE_HOME", spec.hive.home.clone()));
        dirs.push(named("HIVE_CONF_DIR", spec.hive.conf_dir.clone()));
        clients.push(named("hive", format!("{}/bin/hive", spec.hive.home)));
    }
    if spark {
        dirs.push(named("SPARK_HOME", spec.spark.home.clone()));
        dirs.push(named("SPARK_CONF_DIR", spec.spark.conf_dir.clone()));
        clients.push(named(
            "spark-submit",
            format!("{}/bin/spark-submit", spec.spark.home),
        ));
    }
    let python = engines
        .contains_key("python")
        .then(|| pf.engine_versions.get("python").cloned())
        .flatten();
    EcmCheckCtx {
        dirs,
        clients,
        python,
        job_users: vec![pf.admin_user.clone()],
    }
}

fn storage(plan: &Plan, pf: &Platform) -> StorageCtx {
    let spec = &plan.spec;
    let user = &spec.cluster.deploy_user;
    // path -> mode; the first mode given for a path wins, parents sort first.
    let mut local: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut hdfs: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut add = |url: &str, user_dir: bool, root_mode: Option<&'static str>| {
        let (map, root) = if let Some(p) = super::platform::local_path(url) {
            (&mut local, p)
        } else if is_hdfs(url) {
            (&mut hdfs, url.trim_end_matches('/').to_string())
        } else {
            return;
        };
        if let Some(m) = root_mode {
            map.entry(root.clone()).or_insert(m);
        }
        if user_dir {
            map.entry(format!("{root}/{user}")).or_insert("0775");
        }
    };
    // As install.sh: the workspace and the users' root get a directory of the deploy user; the
    // result set root is open to every job user (0777 locally), with the deploy user's inside.
    add(&pf.workspace, true, None);
    add(&pf.hdfs_root, true, None);
    add(
        &pf.result_sets,
        pf.result_sets.starts_with("file://"),
        Some("0777"),
    );
    let to_dirs = |m: BTreeMap<String, &'static str>, hdfs: bool| -> Vec<Dir> {
        m.into_iter()
            .map(|(path, mode)| Dir {
                path,
                // HDFS: `hdfs dfs -chmod 775`; result sets 775 there, as install.sh leaves them.
                mode: if hdfs { "775" } else { mode },
            })
            .collect()
    };
    let hdfs = to_dirs(hdfs, true);
    StorageCtx {
        local: to_dirs(local, false),
        hdfs_host: if hdfs.is_empty() {
            None
        } else {
            plan.ecm_hosts().next().map(|h| h.name.clone())
        },
        hdfs,
        hdfs_client: format!("{}/bin/hdfs", spec.hadoop.home),
        hadoop_conf_dir: spec.hadoop.conf_dir.clone(),
        kerberos: pf.yarn.kerberos.as_ref().map(|k| StorageKerberos {
            keytab: keytab_file(&k.keytab_dir, user),
            principal: user.clone(),
            krb5_conf: k.krb5_conf.clone(),
        }),
    }
}

pub fn resolve(plan: &Plan, pf: &Platform) -> Setup {
    Setup {
        dbboot: db_boot(plan, pf),
        jdbc: jdbc(plan, pf),
        ecm_check: ecm_check(plan, pf),
        storage: storage(plan, pf),
        clear_server: clear_server(plan),
    }
}

/// What linkis_clear_server does on a cold start: the release's clear-server.sh deletes, as SQL
/// statements (catalog data, no spec text), and the engines' main class it looks for first.
#[derive(Debug, Clone, Serialize)]
pub struct ClearServerCtx {
    pub deletes: Vec<String>,
    pub engine_main_class: &'static str,
}

fn clear_server(plan: &Plan) -> ClearServerCtx {
    let conf = plan.release.line.conf;
    ClearServerCtx {
        deletes: conf
            .clear_server_deletes
            .iter()
            .map(|d| match d.filter {
                Some(f) => format!("DELETE FROM {} WHERE {f};", d.table),
                None => format!("DELETE FROM {};", d.table),
            })
            .collect(),
        engine_main_class: conf.engine_main_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values_are_escaped_for_a_json_string_in_an_sql_string() {
        assert_eq!(sql_json(DbType::Mysql, "http://a:8088"), "http://a:8088");
        assert_eq!(sql_json(DbType::Mysql, r#"a'b"c\d"#), r#"a''b\\"c\\\\d"#);
        assert_eq!(sql_json(DbType::Postgresql, r#"a'b"c"#), r#"a''b\"c"#);
        assert_eq!(sql_json(DbType::Mysql, ""), "");
    }

    #[test]
    fn the_yarn_keytab_is_the_principals_primary_in_the_keytab_dir() {
        assert_eq!(
            keytab_file("/appcom/keytab/", "hadoop@EXAMPLE.COM"),
            "/appcom/keytab/hadoop.keytab"
        );
        assert_eq!(
            keytab_file("/k", "yarn/rm1.example.com@EX"),
            "/k/yarn.keytab"
        );
    }
}
