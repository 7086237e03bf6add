//! The platform around Linkis, resolved: the second edition's `hadoop:`, `hive:`, `spark:`,
//! `storage:`, `auth:`, engine versions and `cluster.gateway_url`/`java_home`/`env`, normalised
//! once from the spec and the release's catalog facts into the values the renderers write.
//!
//! What `bin/install.sh` of each release writes (checked against the apache/linkis tags, see
//! tests/fixtures/installer/): `hadoop.config.dir`/`hive.config.dir`/`spark.config.dir`, the
//! storage roots and the BML store, the engine versions the spec names, Kerberos keytabs into
//! linkis.properties; the admin account and LDAP into the gateway's own file (whose shipped empty
//! LDAP keys would otherwise shadow linkis.properties); the engines' root into the ECM's file; the
//! result-set root into the entrance's file; the Hive metastore into publicservice's file (1.1.x:
//! also the data source manager's). Secrets are `{{ vault_... }}` references, never values.

use std::collections::BTreeMap;

use serde::Serialize;

use super::keys::Origin;
use crate::catalog::{CLI_CONF, CLI_TOKEN_KEY, Release, token_vault_var};
use crate::spec::{Service, Spec};

/// The common file every service reads first.
pub const COMMON: &str = "linkis.properties";

/// The resolved platform of one spec and release.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Platform {
    /// `cluster.gateway_url`; None: the first gateway host (the placement decides).
    pub gateway_url: Option<String>,
    /// Variables every service gets, in this order (linkis-env.sh and the systemd units):
    /// HADOOP_HOME, HADOOP_CONF_DIR, HIVE_HOME, HIVE_CONF_DIR, SPARK_HOME, SPARK_CONF_DIR,
    /// JAVA_HOME when set, then `cluster.env`.
    pub env: Vec<(String, String)>,
    /// The same variables with their origins (linkis-env.sh's key table).
    pub env_keys: Vec<PlatformKey>,
    /// `cluster.java_home`.
    pub java_home: Option<String>,
    /// Keys this module computes, per conf file (relative to conf/), in output order, each with
    /// its origin (the spec field or rule that decides it, written beside the code that sets it).
    pub keys: BTreeMap<String, Vec<PlatformKey>>,
    /// The engine versions in use: the spec's, else the release's (`spark` → `3.2.1`).
    pub engine_versions: BTreeMap<String, String>,
    /// `HADOOP_VERSION`: the spec's, else the release's installer default.
    pub hadoop_version: Option<String>,
    /// The engines' working directory (`storage.engine_root`), created on every ECM host.
    pub engine_root: String,
    /// `storage.workspace`, `storage.hdfs_root` (and the BML store), `storage.result_sets`.
    pub workspace: String,
    pub hdfs_root: String,
    pub result_sets: String,
    /// `storage.engine_ports` where the release has a key for it.
    pub engine_ports: Option<String>,
    /// LDAP logins are on (`auth.ldap`).
    pub ldap: bool,
    /// Local directories install.sh creates (file:// roots, without the scheme).
    pub local_dirs: Vec<String>,
    /// HDFS directories install.sh creates with `hdfs dfs -mkdir -p` (hdfs:// roots, as written).
    pub hdfs_dirs: Vec<String>,
    /// The admin user and the vault variable of the admin password.
    pub admin_user: String,
    pub admin_password_var: String,
    /// The vault variable of linkis-cli's token, when the release ships conf/linkis-cli.
    pub cli_token_var: Option<String>,
    /// What the database seed needs about YARN (install.sh's `@YARN_*` placeholders).
    pub yarn: Yarn,
    /// `database.driver_jar`: the JDBC driver on the control node.
    pub driver_jar: Option<String>,
    /// `database.bootstrap: auto`.
    pub bootstrap: bool,
}

/// The YARN resource provider as the database seed writes it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Yarn {
    /// `@YARN_RESTFUL_URL`.
    pub url: String,
    /// `@YARN_AUTH_USER`, and the vault variable of `@YARN_AUTH_PWD`; None: `@YARN_AUTH_ENABLE=false`.
    pub auth_user: Option<String>,
    pub auth_password_var: Option<String>,
    /// `@YARN_PRINCIPAL_NAME`, `@YARN_KEYTAB_PATH`, `@YARN_KRB5_PATH`; None:
    /// `@YARN_KERBEROS_ENABLE=false`.
    pub kerberos: Option<YarnKerberos>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct YarnKerberos {
    pub principal: String,
    pub keytab_dir: String,
    pub krb5_conf: String,
}

/// One key the platform sets in a conf file, with the origin the key table gives it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlatformKey {
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// A key set from one spec field.
fn from_spec(k: &str, v: impl Into<String>, path: &str) -> PlatformKey {
    PlatformKey {
        key: k.to_string(),
        value: v.into(),
        origin: Origin::spec(path),
    }
}

/// A key set by a rule, with its inputs.
fn from_rule(k: &str, v: impl Into<String>, name: &str, inputs: Vec<String>) -> PlatformKey {
    PlatformKey {
        key: k.to_string(),
        value: v.into(),
        origin: Origin::rule(name, inputs),
    }
}

fn vault(name: &str) -> String {
    format!("{{{{ {name} }}}}")
}

/// `file:///tmp/linkis/` → `/tmp/linkis`: the local directory of a file:// root.
pub fn local_path(url: &str) -> Option<String> {
    url.strip_prefix("file://")
        .map(|p| p.trim_end_matches('/').to_string())
        .map(|p| if p.is_empty() { "/".to_string() } else { p })
}

impl Platform {
    /// Resolves the platform of a spec for its release.
    pub fn resolve(spec: &Spec, release: &Release) -> Platform {
        let facts = release.platform();
        let (h, st, au) = (&spec.hadoop, &spec.storage, &spec.auth);
        let env_keys = env_keys(spec);
        let env: Vec<(String, String)> = env_keys
            .iter()
            .map(|k| (k.key.clone(), k.value.clone()))
            .collect();
        let engine_versions = engine_versions(spec, release);

        let mut keys: BTreeMap<String, Vec<PlatformKey>> = BTreeMap::new();
        keys.insert(COMMON.to_string(), common_keys(spec));
        let admin_user = au
            .admin_user
            .clone()
            .unwrap_or_else(|| spec.cluster.deploy_user.clone());
        keys.entry(file_of(release, Service::Gateway))
            .or_default()
            .extend(gateway_keys(spec, &admin_user));
        storage_keys(spec, release, &mut keys);
        metastore_keys(spec, release, &mut keys);
        let cli_token_var = cli_token(release, &mut keys);
        let (local_dirs, hdfs_dirs) = storage_dirs(spec);

        Platform {
            gateway_url: spec
                .cluster
                .gateway_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            env,
            env_keys,
            java_home: spec.cluster.java_home.clone(),
            keys,
            engine_versions,
            hadoop_version: h
                .version
                .clone()
                .or_else(|| facts.hadoop_version.map(str::to_string)),
            engine_root: st.engine_root.clone(),
            workspace: st.workspace.clone(),
            hdfs_root: st.hdfs_root.clone(),
            result_sets: st.result_sets.clone(),
            engine_ports: st
                .engine_ports
                .as_ref()
                .filter(|_| facts.engine_port_range_key.is_some())
                .map(|r| r.trim().to_string()),
            ldap: au.ldap.is_some(),
            local_dirs,
            hdfs_dirs,
            admin_user,
            admin_password_var: au.admin_password.vault.clone(),
            cli_token_var,
            yarn: yarn(spec),
            driver_jar: spec.database.driver_jar.clone(),
            bootstrap: spec.database.bootstrap == crate::spec::Bootstrap::Auto,
        }
    }

    /// The keys computed for one conf file (relative to conf/).
    pub fn keys_for(&self, file: &str) -> &[PlatformKey] {
        self.keys.get(file).map_or(&[], |v| v.as_slice())
    }
}

/// The variables every service gets: Hadoop's, Hive's, Spark's, JAVA_HOME, then `cluster.env`.
fn env_keys(spec: &Spec) -> Vec<PlatformKey> {
    let (h, hv, sp) = (&spec.hadoop, &spec.hive, &spec.spark);
    let mut env_keys = vec![
        from_spec("HADOOP_HOME", &h.home, "hadoop.home"),
        from_spec("HADOOP_CONF_DIR", &h.conf_dir, "hadoop.conf_dir"),
        from_spec("HIVE_HOME", &hv.home, "hive.home"),
        from_spec("HIVE_CONF_DIR", &hv.conf_dir, "hive.conf_dir"),
        from_spec("SPARK_HOME", &sp.home, "spark.home"),
        from_spec("SPARK_CONF_DIR", &sp.conf_dir, "spark.conf_dir"),
    ];
    if let Some(j) = &spec.cluster.java_home {
        env_keys.push(from_spec("JAVA_HOME", j, "cluster.java_home"));
    }
    env_keys.extend(
        spec.cluster
            .env
            .iter()
            .map(|(k, v)| from_spec(k, v, &crate::diag::join_key("cluster.env", k))),
    );
    env_keys
}

/// The engine versions in use: the spec's, else the release's.
fn engine_versions(spec: &Spec, release: &Release) -> BTreeMap<String, String> {
    let mut engine_versions = BTreeMap::new();
    for (name, e) in &spec.sizing.engines {
        let v = e
            .version
            .clone()
            .or_else(|| release.engine_version(name).map(str::to_string));
        if let Some(v) = v {
            engine_versions.insert(name.clone(), v);
        }
    }
    engine_versions
}

/// The common file's keys: conf dirs, Kerberos, storage roots, the BML store, engine versions.
fn common_keys(spec: &Spec) -> Vec<PlatformKey> {
    let (h, hv, sp, st) = (&spec.hadoop, &spec.hive, &spec.spark, &spec.storage);
    let mut common = Vec::new();
    common.push(from_spec(
        "hadoop.config.dir",
        &h.conf_dir,
        "hadoop.conf_dir",
    ));
    common.push(from_spec("hive.config.dir", &hv.conf_dir, "hive.conf_dir"));
    common.push(from_spec(
        "spark.config.dir",
        &sp.conf_dir,
        "spark.conf_dir",
    ));
    if let Some(k) = &h.kerberos {
        common.push(from_rule(
            "wds.linkis.keytab.enable",
            "true",
            "Kerberos keytabs on when hadoop.kerberos is set",
            vec!["hadoop.kerberos=set".into()],
        ));
        common.push(from_spec(
            "wds.linkis.keytab.file",
            &k.keytab_dir,
            "hadoop.kerberos.keytab_dir",
        ));
    }
    common.push(from_spec(
        "wds.linkis.filesystem.root.path",
        &st.workspace,
        "storage.workspace",
    ));
    common.push(from_spec(
        "wds.linkis.filesystem.hdfs.root.path",
        &st.hdfs_root,
        "storage.hdfs_root",
    ));
    common.extend(bml_keys(spec));
    // Only the versions the spec names: the installer uncomments a version key only when its
    // variable is set, and the release's code default is the same version anyway.
    for (name, e) in &spec.sizing.engines {
        if let Some(v) = &e.version {
            common.push(from_spec(
                &format!("wds.linkis.{name}.engine.version"),
                v,
                &format!("sizing.engines.{name}.version"),
            ));
        }
    }
    common
}

/// The BML store's keys: on HDFS unless `storage.hdfs_root` is a file:// root.
fn bml_keys(spec: &Spec) -> [PlatformKey; 2] {
    let st = &spec.storage;
    let bml_rule = |on: &str| {
        from_rule(
            "wds.linkis.bml.is.hdfs",
            on,
            "the BML store is on HDFS unless storage.hdfs_root is a file:// root",
            vec![format!("storage.hdfs_root={}", st.hdfs_root)],
        )
    };
    if st.hdfs_root.starts_with("file://") {
        [
            bml_rule("false"),
            from_spec(
                "wds.linkis.bml.local.prefix",
                &st.hdfs_root,
                "storage.hdfs_root",
            ),
        ]
    } else {
        [
            bml_rule("true"),
            from_spec(
                "wds.linkis.bml.hdfs.prefix",
                &st.hdfs_root,
                "storage.hdfs_root",
            ),
        ]
    }
}

/// The gateway's keys: the admin account, then LDAP.
fn gateway_keys(spec: &Spec, admin_user: &str) -> Vec<PlatformKey> {
    let au = &spec.auth;
    let mut gw = Vec::new();
    gw.push(if au.admin_user.is_some() {
        from_spec("wds.linkis.admin.user", admin_user, "auth.admin_user")
    } else {
        from_rule(
            "wds.linkis.admin.user",
            admin_user,
            "auth.admin_user, else cluster.deploy_user",
            vec![format!("admin={admin_user}")],
        )
    });
    gw.push(from_spec(
        "wds.linkis.admin.password",
        vault(&au.admin_password.vault),
        "auth.admin_password",
    ));
    gw.extend(ldap_keys(spec));
    gw
}

/// The gateway's LDAP keys: `auth.ldap`'s, else empty (the shipped ones would shadow them).
fn ldap_keys(spec: &Spec) -> Vec<PlatformKey> {
    match &spec.auth.ldap {
        Some(l) => vec![
            from_spec("wds.linkis.ldap.proxy.url", &l.url, "auth.ldap.url"),
            from_spec(
                "wds.linkis.ldap.proxy.baseDN",
                &l.base_dn,
                "auth.ldap.base_dn",
            ),
            from_spec(
                "wds.linkis.ldap.proxy.userNameFormat",
                l.user_name_format.clone().unwrap_or_default(),
                "auth.ldap.user_name_format",
            ),
        ],
        None => [
            "wds.linkis.ldap.proxy.url",
            "wds.linkis.ldap.proxy.baseDN",
            "wds.linkis.ldap.proxy.userNameFormat",
        ]
        .into_iter()
        .map(|k| {
            from_rule(
                k,
                "",
                "LDAP logins off (no auth.ldap): empty",
                vec!["auth.ldap=absent".into()],
            )
        })
        .collect(),
    }
}

/// The storage keys of the ECM's file (the engines' root, ports) and the entrance's (result sets).
fn storage_keys(spec: &Spec, release: &Release, keys: &mut BTreeMap<String, Vec<PlatformKey>>) {
    let st = &spec.storage;
    let ecm = keys
        .entry(file_of(release, Service::Engineconnmanager))
        .or_default();
    ecm.push(from_spec(
        "wds.linkis.engineconn.root.dir",
        &st.engine_root,
        "storage.engine_root",
    ));
    if let (Some(range), Some(key)) = (&st.engine_ports, release.platform().engine_port_range_key) {
        ecm.push(from_spec(key, range.trim(), "storage.engine_ports"));
    }

    keys.entry(file_of(release, Service::Entrance))
        .or_default()
        .push(from_spec(
            "wds.linkis.resultSet.store.path",
            &st.result_sets,
            "storage.result_sets",
        ));
}

/// The Hive metastore's keys, into publicservice's file (1.1.x: the data source manager's too).
fn metastore_keys(spec: &Spec, release: &Release, keys: &mut BTreeMap<String, Vec<PlatformKey>>) {
    let Some(m) = &spec.hive.metastore else {
        return;
    };
    let mut files = vec![file_of(release, Service::Publicservice)];
    // 1.1.x's installer writes them into the data source manager's file as well.
    if release.has(Service::Datasourcemanager)
        && release
            .stock(&file_of(release, Service::Datasourcemanager))
            .iter()
            .any(|(k, _)| *k == "hive.meta.url")
    {
        files.push(file_of(release, Service::Datasourcemanager));
    }
    for f in files {
        let e = keys.entry(f).or_default();
        e.push(from_spec("hive.meta.url", &m.url, "hive.metastore.url"));
        e.push(from_spec("hive.meta.user", &m.user, "hive.metastore.user"));
        e.push(from_spec(
            "hive.meta.password",
            vault(&m.password.vault),
            "hive.metastore.password",
        ));
    }
}

/// linkis-cli's token key, when the release ships conf/linkis-cli: its vault variable.
fn cli_token(release: &Release, keys: &mut BTreeMap<String, Vec<PlatformKey>>) -> Option<String> {
    let cli_token_var = release
        .cli_token()
        .filter(|_| release.has_cli_conf())
        .map(|t| token_vault_var(t).to_string());
    if let Some(var) = &cli_token_var {
        keys.entry(CLI_CONF.to_string())
            .or_default()
            .push(from_rule(
                CLI_TOKEN_KEY,
                vault(var),
                "the release's linkis-cli token, a vault variable",
                vec![format!("vault={var}")],
            ));
    }
    cli_token_var
}

/// The directories install.sh creates for the storage roots: local (file://) and HDFS.
fn storage_dirs(spec: &Spec) -> (Vec<String>, Vec<String>) {
    let st = &spec.storage;
    let mut local_dirs = Vec::new();
    let mut hdfs_dirs = Vec::new();
    for root in [&st.workspace, &st.hdfs_root, &st.result_sets] {
        if let Some(p) = local_path(root) {
            if !local_dirs.contains(&p) {
                local_dirs.push(p);
            }
        } else if root.starts_with("hdfs://") && !hdfs_dirs.contains(root) {
            hdfs_dirs.push(root.clone());
        }
    }
    (local_dirs, hdfs_dirs)
}

/// What the database seed needs about YARN: its URL, auth and Kerberos.
fn yarn(spec: &Spec) -> Yarn {
    let h = &spec.hadoop;
    Yarn {
        url: h.yarn_url.clone(),
        auth_user: h.yarn_auth.as_ref().map(|a| a.user.clone()),
        auth_password_var: h.yarn_auth.as_ref().map(|a| a.password.vault.clone()),
        kerberos: h.kerberos.as_ref().map(|k| YarnKerberos {
            principal: k.principal.clone(),
            keytab_dir: k.keytab_dir.clone(),
            krb5_conf: k.krb5_conf.clone(),
        }),
    }
}

/// The conf file of a service in a release (every service the platform writes to exists in every
/// release; the fallback is the file name of the current releases).
fn file_of(release: &Release, s: Service) -> String {
    release.service(s).map_or_else(
        || format!("linkis-{}.properties", s.name()),
        |i| i.conf_file.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_drop_the_scheme_and_trailing_slash() {
        assert_eq!(
            local_path("file:///tmp/linkis/").as_deref(),
            Some("/tmp/linkis")
        );
        assert_eq!(local_path("file:///").as_deref(), Some("/"));
        assert_eq!(local_path("hdfs:///tmp/linkis"), None);
    }
}
