//! The spec model: format version 1 of `../shared/spec-v1.md`, as Rust types.
//!
//! These types are the single source of truth for the format: serde reads them, `linkis-gen schema`
//! prints their JSON Schema (schemars), and the unknown-key check walks that schema. Defaults live in
//! `#[serde(default = ...)]` functions so that the schema shows them too.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A whole cluster spec.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The spec format version; only `1` exists.
    pub version: u32,
    pub cluster: Cluster,
    /// The Linkis metadata database.
    pub database: Database,
    #[serde(default)]
    pub gateway: Gateway,
    /// The Hadoop side: HADOOP_HOME, HADOOP_CONF_DIR, YARN.
    #[serde(default)]
    pub hadoop: Hadoop,
    /// The Hive side: HIVE_HOME, HIVE_CONF_DIR, the metastore.
    #[serde(default)]
    pub hive: Hive,
    /// The Spark side: SPARK_HOME, SPARK_CONF_DIR.
    #[serde(default)]
    pub spark: Spark,
    /// Where workspaces, BML files, result sets and engines live.
    #[serde(default)]
    pub storage: Storage,
    /// The admin account and LDAP.
    #[serde(default)]
    pub auth: Auth,
    pub sizing: Sizing,
    #[serde(default)]
    pub host_defaults: HostDefaults,
    /// The servers; order matters for default placement.
    pub hosts: Vec<Host>,
    /// Extra or replaced keys per Linkis conf file, applied last: `file -> key -> value`.
    #[serde(default)]
    pub overrides: BTreeMap<String, BTreeMap<String, Scalar>>,
    /// Prometheus metrics and alert rules.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// How long and how big the services' logs may grow.
    #[serde(default)]
    pub logs: Option<Logs>,
    /// Per service (short or daemon names): heap and extra JVM options.
    #[serde(default)]
    pub services: BTreeMap<Service, ServiceSettings>,
    /// The hosts' firewall (nftables) and who may reach Linkis' service ports.
    #[serde(default)]
    pub security: Security,
    /// Scheduled dumps of Linkis' database (third edition).
    #[serde(default)]
    pub backup: Option<Backup>,
}

/// The top-level keys, in the order sections are read.
pub const SECTIONS: &[&str] = &[
    "version",
    "cluster",
    "database",
    "gateway",
    "hadoop",
    "hive",
    "spark",
    "storage",
    "auth",
    "sizing",
    "host_defaults",
    "hosts",
    "overrides",
    "monitoring",
    "logs",
    "services",
    "security",
    "backup",
];

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// `[a-z0-9-]{1,40}`.
    pub name: String,
    /// Selects the service catalog and config keys, e.g. "1.3.2" (quote it).
    pub linkis_version: LinkisVersion,
    /// LINKIS_HOME, identical on every host.
    #[serde(default = "default_install_dir")]
    pub install_dir: String,
    #[serde(default = "default_deploy_user")]
    pub deploy_user: String,
    /// Release tarball on the Ansible control node.
    pub package: String,
    #[serde(default)]
    pub discovery: Discovery,
    /// `HOST:PORT` of Nacos; required when `discovery: nacos`.
    #[serde(default)]
    pub nacos_address: Option<String>,
    /// Register instances by IP instead of hostname.
    #[serde(default)]
    pub prefer_ip: bool,
    /// `wds.linkis.gateway.url` of every host (a VIP or load balancer in front of the gateways),
    /// an http:// or https:// URL; default: the first gateway host.
    #[serde(default)]
    pub gateway_url: Option<String>,
    /// JAVA_HOME of every service (linkis-env.sh and the units); absolute path.
    #[serde(default)]
    pub java_home: Option<String>,
    /// Extra environment variables exported to every service: `{ TZ: Asia/Shanghai }`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

fn default_install_dir() -> String {
    "/appcom/Install/LinkisInstall".to_string()
}
fn default_deploy_user() -> String {
    "hadoop".to_string()
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Discovery {
    #[default]
    Eureka,
    /// Linkis >= 1.5 only.
    Nacos,
}

impl Discovery {
    /// Whether a service of the release runs under this discovery: every one, except Eureka
    /// under Nacos (the one place that rule is written).
    pub fn runs(self, s: Service) -> bool {
        !(self == Discovery::Nacos && s == Service::Eureka)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Database {
    #[serde(default, rename = "type")]
    pub kind: DbType,
    pub host: String,
    /// Default 3306 (5432 for postgresql).
    #[serde(default)]
    pub port: Option<u16>,
    pub name: String,
    pub user: String,
    pub password: VaultRef,
    /// The JDBC driver jar on the Ansible control node, installed into every host's
    /// `lib/linkis-commons/public-module/` (Apache releases ship no MySQL driver).
    #[serde(default)]
    pub driver_jar: Option<String>,
    /// `auto`: create and seed the schema when the database holds none of Linkis' tables.
    #[serde(default)]
    pub bootstrap: Bootstrap,
}

/// Whether the playbook creates and seeds an empty Linkis database.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Bootstrap {
    /// Create the schema from the release's db/ files when the database has none of Linkis' tables.
    #[default]
    Auto,
    /// Never touch the database.
    Off,
}

impl Database {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.kind {
            DbType::Mysql => 3306,
            DbType::Postgresql => 5432,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DbType {
    #[default]
    Mysql,
    /// Linkis >= 1.8 only.
    Postgresql,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    #[serde(default)]
    pub sessions: Sessions,
    /// Required when `sessions: redis`.
    #[serde(default)]
    pub redis: Option<Redis>,
    #[serde(default)]
    pub web: Web,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sessions {
    /// nginx sticks a client to one gateway.
    #[default]
    IpHash,
    /// Shared sessions in Redis (Linkis >= 1.3.0).
    Redis,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Redis {
    pub host: String,
    #[serde(default = "default_redis_port")]
    pub port: u16,
    #[serde(default)]
    pub password: Option<VaultRef>,
}

fn default_redis_port() -> u16 {
    6379
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Web {
    #[serde(default = "default_web_listen")]
    pub listen: u16,
    #[serde(default = "default_server_name")]
    pub server_name: String,
    /// HTTPS at the nginx front.
    #[serde(default)]
    pub tls: Option<WebTls>,
    /// One address that moves between the web hosts (keepalived, VRRP); the default
    /// `cluster.gateway_url` and the operators' URL point at it.
    #[serde(default)]
    pub vip: Option<String>,
    /// The VRRP router id, 1-255; default derived from `cluster.name`.
    #[serde(default)]
    pub vrid: Option<u16>,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: default_web_listen(),
            server_name: default_server_name(),
            tls: None,
            vip: None,
            vrid: None,
        }
    }
}

fn default_web_listen() -> u16 {
    8088
}
fn default_server_name() -> String {
    "_".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sizing {
    /// People online at the same time.
    pub concurrent_users: u64,
    /// Engines one user may run at once of each type.
    #[serde(default = "default_one")]
    pub max_concurrency_per_user: u64,
    /// Engine types in use, at least one: `spark: { memory: 1G, cores: 1 }`.
    pub engines: BTreeMap<String, Engine>,
    /// Heap of each microservice JVM.
    #[serde(default = "default_service_memory")]
    pub service_memory: Size,
    /// `auto` = 6G above 100 concurrent users, else service_memory.
    #[serde(default)]
    pub publicservice_memory: AutoSize,
    /// Buffer kept free on every host that runs the control services.
    #[serde(default = "default_reserve_memory")]
    pub reserve_memory: Size,
}

fn default_one() -> u64 {
    1
}
fn default_service_memory() -> Size {
    Size(2 * GIB)
}
fn default_reserve_memory() -> Size {
    Size(10 * GIB)
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    pub memory: Size,
    #[serde(default = "default_one")]
    pub cores: u64,
    /// The engine's version (`wds.linkis.<engine>.engine.version` and its label, e.g. "3.2.1",
    /// python: "python3"); default: the release's own.
    #[serde(default)]
    pub version: Option<String>,
}

/// The Hadoop side (defaults: Linkis' deploy-config/linkis-env.sh).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hadoop {
    /// HADOOP_HOME; absolute path.
    #[serde(default = "default_hadoop_home")]
    pub home: String,
    /// HADOOP_CONF_DIR: `hadoop.config.dir` and every service's environment; absolute path.
    #[serde(default = "default_hadoop_conf_dir")]
    pub conf_dir: String,
    /// The Hadoop version seeded into the YARN resource provider; default: the release's own.
    #[serde(default)]
    pub version: Option<String>,
    /// YARN ResourceManager REST address(es), http:// or https://; several separated by `;`.
    #[serde(default = "default_yarn_url")]
    pub yarn_url: String,
    /// Basic auth of the YARN REST interface.
    #[serde(default)]
    pub yarn_auth: Option<YarnAuth>,
    /// Kerberos for HDFS and YARN.
    #[serde(default)]
    pub kerberos: Option<Kerberos>,
}

impl Default for Hadoop {
    fn default() -> Self {
        Hadoop {
            home: default_hadoop_home(),
            conf_dir: default_hadoop_conf_dir(),
            version: None,
            yarn_url: default_yarn_url(),
            yarn_auth: None,
            kerberos: None,
        }
    }
}

fn default_hadoop_home() -> String {
    "/appcom/Install/hadoop".to_string()
}
fn default_hadoop_conf_dir() -> String {
    "/appcom/config/hadoop-config".to_string()
}
fn default_yarn_url() -> String {
    "http://127.0.0.1:8088".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct YarnAuth {
    pub user: String,
    pub password: VaultRef,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Kerberos {
    /// The principal seeded for YARN, e.g. `hadoop@EXAMPLE.COM`.
    pub principal: String,
    /// `wds.linkis.keytab.file`: a directory of `<user>.keytab` on every host; absolute path.
    #[serde(default = "default_keytab_dir")]
    pub keytab_dir: String,
    /// The krb5.conf of every host; absolute path.
    #[serde(default = "default_krb5_conf")]
    pub krb5_conf: String,
}

fn default_keytab_dir() -> String {
    "/appcom/keytab/".to_string()
}
fn default_krb5_conf() -> String {
    "/etc/krb5.conf".to_string()
}

/// The Hive side.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hive {
    /// HIVE_HOME; absolute path.
    #[serde(default = "default_hive_home")]
    pub home: String,
    /// HIVE_CONF_DIR: `hive.config.dir` and every service's environment; absolute path.
    #[serde(default = "default_hive_conf_dir")]
    pub conf_dir: String,
    /// Hive's metastore database, read by the metadata query service.
    #[serde(default)]
    pub metastore: Option<Metastore>,
}

impl Default for Hive {
    fn default() -> Self {
        Hive {
            home: default_hive_home(),
            conf_dir: default_hive_conf_dir(),
            metastore: None,
        }
    }
}

fn default_hive_home() -> String {
    "/appcom/Install/hive".to_string()
}
fn default_hive_conf_dir() -> String {
    "/appcom/config/hive-config".to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Metastore {
    /// A `jdbc:` URL, e.g. `jdbc:mysql://10.0.0.7:3306/hive`.
    pub url: String,
    pub user: String,
    pub password: VaultRef,
}

/// The Spark side.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spark {
    /// SPARK_HOME; absolute path.
    #[serde(default = "default_spark_home")]
    pub home: String,
    /// SPARK_CONF_DIR: `spark.config.dir` and every service's environment; absolute path.
    #[serde(default = "default_spark_conf_dir")]
    pub conf_dir: String,
}

impl Default for Spark {
    fn default() -> Self {
        Spark {
            home: default_spark_home(),
            conf_dir: default_spark_conf_dir(),
        }
    }
}

fn default_spark_home() -> String {
    "/appcom/Install/spark".to_string()
}
fn default_spark_conf_dir() -> String {
    "/appcom/config/spark-config".to_string()
}

/// Where workspaces, BML files, result sets and engines live.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// User workspaces (`wds.linkis.filesystem.root.path`): a file:// or hdfs:// URL.
    #[serde(default = "default_workspace")]
    pub workspace: String,
    /// The users' HDFS root (`wds.linkis.filesystem.hdfs.root.path`) and the BML store:
    /// a file:// or hdfs:// URL.
    #[serde(default = "default_hdfs_root")]
    pub hdfs_root: String,
    /// Job result sets (`wds.linkis.resultSet.store.path`): a file:// or hdfs:// URL.
    #[serde(default = "default_result_sets")]
    pub result_sets: String,
    /// Engines' working directory on the ECM hosts (`wds.linkis.engineconn.root.dir`); absolute path.
    #[serde(default = "default_engine_root")]
    pub engine_root: String,
    /// `wds.linkis.engineconn.port.range`, `LOW-HIGH`, e.g. `30000-31000`.
    #[serde(default)]
    pub engine_ports: Option<String>,
    /// true: every file:// root above is one mount shared by all hosts.
    #[serde(default)]
    pub shared_mount: bool,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            workspace: default_workspace(),
            hdfs_root: default_hdfs_root(),
            result_sets: default_result_sets(),
            engine_root: default_engine_root(),
            engine_ports: None,
            shared_mount: false,
        }
    }
}

fn default_workspace() -> String {
    "file:///tmp/linkis/".to_string()
}
fn default_hdfs_root() -> String {
    "hdfs:///tmp/linkis".to_string()
}
fn default_result_sets() -> String {
    "hdfs:///tmp/linkis".to_string()
}
fn default_engine_root() -> String {
    "/appcom/tmp".to_string()
}

/// The admin account and LDAP.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// `wds.linkis.admin.user`; default: `cluster.deploy_user`.
    #[serde(default)]
    pub admin_user: Option<String>,
    /// `wds.linkis.admin.password`: always a vault reference, never absent.
    #[serde(default = "default_admin_password")]
    pub admin_password: VaultRef,
    /// LDAP login, written into the gateway's own properties file.
    #[serde(default)]
    pub ldap: Option<Ldap>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            admin_user: None,
            admin_password: default_admin_password(),
            ldap: None,
        }
    }
}

fn default_admin_password() -> VaultRef {
    VaultRef {
        vault: "vault_linkis_admin_password".to_string(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ldap {
    /// An ldap:// or ldaps:// URL.
    pub url: String,
    pub base_dn: String,
    /// e.g. `uid=%s,ou=people,dc=example,dc=com`.
    #[serde(default)]
    pub user_name_format: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostDefaults {
    #[serde(default)]
    pub memory: Option<Size>,
    #[serde(default)]
    pub cores: Option<u64>,
    #[serde(default)]
    pub ssh_port: Option<u16>,
    /// Cluster-wide port of a service: `{ gateway: 9011 }`; a host's own `ports:` still win.
    #[serde(default)]
    pub ports: BTreeMap<Service, u16>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Unique; `[a-z0-9-]`; used in inventory and output paths.
    pub name: String,
    /// Unique IP or resolvable DNS name.
    pub address: String,
    #[serde(default)]
    pub memory: Option<Size>,
    #[serde(default)]
    pub cores: Option<u64>,
    #[serde(default)]
    pub ssh_port: Option<u16>,
    /// Role sets for this host: control and/or ecm.
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// Pins exactly these services on this host.
    #[serde(default)]
    pub services: Option<Vec<Service>>,
    /// Per-host port override: `{ gateway: 9011 }`.
    #[serde(default)]
    pub ports: BTreeMap<Service, u16>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every microservice except the ECM.
    Control,
    /// The EngineConnManager.
    Ecm,
}

/// A Linkis microservice. The declaration order is Linkis' start order.
///
/// Written by its own name or by Linkis' daemon names (`mg-gateway`, `linkis-mg-gateway`, `ecm`):
/// `Service::ALIASES` is the one list that reading and the JSON Schema both use.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Eureka,
    Gateway,
    Publicservice,
    Cs,
    Datasourcemanager,
    Metadatamanager,
    Linkismanager,
    Engineplugin,
    Entrance,
    Engineconnmanager,
}

impl<'de> Deserialize<'de> for Service {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Service::from_name(&text).ok_or_else(|| de::Error::unknown_variant(&text, &Service::NAMES))
    }
}

impl JsonSchema for Service {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Service".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Service::NAMES
            .iter()
            .copied()
            .chain(Service::ALIASES.iter().map(|(a, _)| *a))
            .collect();
        schemars::json_schema!({
            "type": "string",
            "description": "A Linkis microservice, by its name or a Linkis daemon name (mg-gateway, linkis-mg-gateway, ecm, ...).",
            "enum": names
        })
    }
}

impl Service {
    /// The spec's own names, in `ALL`'s order.
    pub const NAMES: [&'static str; 10] = [
        "eureka",
        "gateway",
        "publicservice",
        "cs",
        "datasourcemanager",
        "metadatamanager",
        "linkismanager",
        "engineplugin",
        "entrance",
        "engineconnmanager",
    ];

    /// Other accepted names: Linkis' daemon names, with and without `linkis-`, and `ecm`.
    pub const ALIASES: &'static [(&'static str, Service)] = &[
        ("mg-eureka", Service::Eureka),
        ("linkis-mg-eureka", Service::Eureka),
        ("mg-gateway", Service::Gateway),
        ("linkis-mg-gateway", Service::Gateway),
        ("ps-publicservice", Service::Publicservice),
        ("linkis-ps-publicservice", Service::Publicservice),
        ("ps-cs", Service::Cs),
        ("linkis-ps-cs", Service::Cs),
        ("ps-data-source-manager", Service::Datasourcemanager),
        ("linkis-ps-data-source-manager", Service::Datasourcemanager),
        ("ps-metadatamanager", Service::Metadatamanager),
        ("linkis-ps-metadatamanager", Service::Metadatamanager),
        ("ps-metadataquery", Service::Metadatamanager),
        ("linkis-ps-metadataquery", Service::Metadatamanager),
        ("cg-linkismanager", Service::Linkismanager),
        ("linkis-cg-linkismanager", Service::Linkismanager),
        ("cg-engineplugin", Service::Engineplugin),
        ("linkis-cg-engineplugin", Service::Engineplugin),
        ("cg-entrance", Service::Entrance),
        ("linkis-cg-entrance", Service::Entrance),
        ("ecm", Service::Engineconnmanager),
        ("cg-engineconnmanager", Service::Engineconnmanager),
        ("linkis-cg-engineconnmanager", Service::Engineconnmanager),
    ];

    /// A service by its name or an alias.
    pub fn from_name(text: &str) -> Option<Service> {
        Service::ALL
            .iter()
            .copied()
            .find(|s| s.name() == text)
            .or_else(|| {
                Service::ALIASES
                    .iter()
                    .find(|(a, _)| *a == text)
                    .map(|(_, s)| *s)
            })
    }

    pub const ALL: [Service; 10] = [
        Service::Eureka,
        Service::Gateway,
        Service::Publicservice,
        Service::Cs,
        Service::Datasourcemanager,
        Service::Metadatamanager,
        Service::Linkismanager,
        Service::Engineplugin,
        Service::Entrance,
        Service::Engineconnmanager,
    ];

    /// The spec's own name for the service.
    pub fn name(self) -> &'static str {
        Service::NAMES[self as usize]
    }

    pub fn role(self) -> Role {
        match self {
            Service::Engineconnmanager => Role::Ecm,
            _ => Role::Control,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reference to an Ansible (Vault) variable: `{ vault: vault_linkis_db_password }`.
/// A literal string is refused, so that no secret is ever written into the spec or the output.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VaultRef {
    /// Name of the Ansible variable holding the secret.
    pub vault: String,
}

impl<'de> Deserialize<'de> for VaultRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            vault: String,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VaultRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a vault reference `{ vault: NAME }`")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<VaultRef, A::Error> {
                let raw = Raw::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(VaultRef { vault: raw.vault })
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<VaultRef, E> {
                Err(E::custom(LITERAL_SECRET))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<VaultRef, E> {
                Err(E::custom(LITERAL_SECRET))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<VaultRef, E> {
                Err(E::custom(LITERAL_SECRET))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<VaultRef, E> {
                Err(E::custom(LITERAL_SECRET))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<VaultRef, E> {
                Err(E::custom(LITERAL_SECRET))
            }
        }
        d.deserialize_any(V)
    }
}

/// Marker message of a literal secret; `load` turns it into the `literal-secret` diagnostic.
/// The literal itself is never repeated in any message.
pub const LITERAL_SECRET: &str = "a literal secret is not allowed here";

/// More hosts than this is a mistake, not a cluster.
pub const MAX_HOSTS: usize = 10_000;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;
pub const TIB: u64 = 1024 * GIB;

/// A memory size in bytes, written with a binary unit: `512M`, `2G`, `64GiB`, `1T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

impl Size {
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// Parses `64G`, `64g`, `64GiB`, `512M`, `1T`, `1024K`, `100B`. A bare number is refused.
    ///
    /// ```
    /// use linkis_gen::spec::{Size, GIB};
    /// assert_eq!(Size::parse("64G"), Ok(Size(64 * GIB)));
    /// assert_eq!(Size::parse("1536M").unwrap().to_string(), "1536M");
    /// assert!(Size::parse("64").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Size, String> {
        let t = s.trim();
        let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(digits_end);
        if num.is_empty() {
            return Err(format!(
                "`{t}` is not a size; write a whole number and a unit, e.g. 2G"
            ));
        }
        if unit.is_empty() {
            return Err(format!("{BARE_SIZE}: `{t}`"));
        }
        let mult = match unit.to_ascii_lowercase().as_str() {
            "b" => 1,
            "k" | "kb" | "ki" | "kib" => KIB,
            "m" | "mb" | "mi" | "mib" => MIB,
            "g" | "gb" | "gi" | "gib" => GIB,
            "t" | "tb" | "ti" | "tib" => TIB,
            _ => {
                return Err(format!(
                    "`{t}` has an unknown unit `{unit}`; use K, M, G or T (binary: 1G = 1024M), e.g. 1536M"
                ));
            }
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{t}` is too large to be a size"))?;
        n.checked_mul(mult)
            .map(Size)
            .ok_or_else(|| format!("`{t}` is too large to be a size"))
    }
}

/// Marker message of a bare number where a size is needed; `load` adds the hint.
pub const BARE_SIZE: &str = "a bare number is not a size";

impl fmt::Display for Size {
    /// The largest binary unit that divides the size exactly: `64G`, `1536M`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, m) in [("T", TIB), ("G", GIB), ("M", MIB), ("K", KIB)] {
            if b >= m && b % m == 0 {
                return write!(f, "{}{unit}", b / m);
            }
        }
        write!(f, "{b}B")
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads a size; with `auto: true`, also the word `auto` (then `Ok(None)`).
struct SizeVisitor {
    auto: bool,
}

impl<'de> Visitor<'de> for SizeVisitor {
    type Value = Option<Size>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.auto {
            f.write_str("`auto` or a size like 6G")
        } else {
            f.write_str("a size with a binary unit, like 2G or 512M")
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Size>, E> {
        if self.auto && v.trim() == "auto" {
            return Ok(None);
        }
        Size::parse(v).map(Some).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Size>, E> {
        Err(E::custom(format!("{BARE_SIZE}: `{v}`")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Size>, E> {
        Err(E::custom(format!("{BARE_SIZE}: `{v}`")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Size>, E> {
        Err(E::custom(format!("{BARE_SIZE}: `{v}`")))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SizeVisitor { auto: false })
            .map(|s| s.unwrap_or(Size(0)))
    }
}

impl JsonSchema for Size {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A memory size with a binary unit: 512M, 2G, 64G, 64GiB, 1T.",
            "pattern": "^[0-9]+([KkMmGgTt]([Ii]?[Bb])?|[Bb])$"
        })
    }
}

/// `auto` or a size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AutoSize {
    #[default]
    Auto,
    Size(Size),
}

impl Serialize for AutoSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AutoSize::Auto => s.serialize_str("auto"),
            AutoSize::Size(z) => z.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AutoSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(d.deserialize_any(SizeVisitor { auto: true })?
            .map_or(AutoSize::Auto, AutoSize::Size))
    }
}

impl JsonSchema for AutoSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AutoSize".into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let size = g.subschema_for::<Size>();
        schemars::json_schema!({ "anyOf": [ { "const": "auto" }, size ] })
    }
}

/// A Linkis release, written as a quoted string: "1.3.2".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LinkisVersion(pub String);

impl JsonSchema for LinkisVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LinkisVersion".into()
    }
    /// `schema::spec_schema` adds the supported releases from the catalog (spec does not depend on
    /// the catalog).
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A supported Linkis release, quoted: \"1.3.2\"."
        })
    }
}

impl<'de> Deserialize<'de> for LinkisVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LinkisVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Linkis version string like \"1.3.2\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LinkisVersion, E> {
                Ok(LinkisVersion(v.trim().to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LinkisVersion, E> {
                Err(E::custom(format!(
                    "YAML reads {v} as a number, not a version; write it in full and quoted, e.g. \"1.5.0\""
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LinkisVersion, E> {
                Err(E::custom(format!(
                    "YAML reads {v} as a number, not a version; write it in full and quoted, e.g. \"1.5.0\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LinkisVersion, E> {
                self.visit_u64(v.unsigned_abs())
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for LinkisVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A scalar value of an override (string, number or boolean), kept as the text Linkis will read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Scalar(pub String);

impl JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A properties value: a string, number or boolean, written into the file as typed.",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `monitoring:` (third edition).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Turns on `wds.linkis.prometheus.enable`, exposes the actuator's `prometheus` endpoint and
    /// writes `OUT/monitoring/` (a scrape config of every instance and alert rules).
    #[serde(default)]
    pub prometheus: bool,
    /// Who scrapes: addresses or CIDRs, the only non-cluster sources of the metrics endpoints.
    #[serde(default)]
    pub scrapers: Vec<String>,
}

/// `logs:` (third edition): every service's logs and the engines' working directories are kept at
/// most `keep_days` days and `max_size` per service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    /// Days a rolled log file (and an engine's working directory) is kept.
    #[serde(default = "default_keep_days")]
    pub keep_days: u32,
    /// The most one service's rolled logs may take on disk, e.g. `2G`.
    #[serde(default = "default_logs_max_size")]
    pub max_size: Size,
}

fn default_keep_days() -> u32 {
    14
}
fn default_logs_max_size() -> Size {
    Size(2 * GIB)
}

/// One service's JVM settings under `services:`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// The service's heap (`-Xmx`), counted by the sizing check against the host's memory.
    #[serde(default)]
    pub heap: Option<Size>,
    /// JVM options appended to the release's own default options.
    #[serde(default)]
    pub java_opts: Option<String>,
}

/// `ADDRESS:PORT` wherever a port follows an address (URLs, nginx upstreams, Eureka's
/// defaultZone): an IPv6 address in brackets, `[fd00::11]:9001` (spec-v1, "Addresses"). The one
/// place that decides it; the model, computed keys and templates (`host_port` filter) use it.
pub fn host_port(address: &str, port: u16) -> String {
    format!("{}:{port}", url_host(address))
}

/// An address as the host part of a URL: an IPv6 address in brackets (`[fd00::11]`), any other
/// as it is. `host_port` with the port left out (a URL on its scheme's default port).
pub fn url_host(address: &str) -> std::borrow::Cow<'_, str> {
    if address.contains(':') {
        format!("[{address}]").into()
    } else {
        address.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(Size::parse("64G"), Ok(Size(64 * GIB)));
        assert_eq!(Size::parse("64g"), Ok(Size(64 * GIB)));
        assert_eq!(Size::parse("64GiB"), Ok(Size(64 * GIB)));
        assert_eq!(Size::parse("512M"), Ok(Size(512 * MIB)));
        assert_eq!(Size::parse("1T"), Ok(Size(TIB)));
        assert!(Size::parse("64").unwrap_err().contains(BARE_SIZE));
        assert!(Size::parse("1.5G").is_err());
        assert!(Size::parse("G").is_err());
        assert!(Size::parse("99999999999999999999T").is_err());
        assert!(Size::parse("16777216T").is_err());
    }

    #[test]
    fn sizes_display_in_the_largest_exact_unit() {
        assert_eq!(Size(64 * GIB).to_string(), "64G");
        assert_eq!(Size(1536 * MIB).to_string(), "1536M");
        assert_eq!(Size(5).to_string(), "5B");
    }

    #[test]
    fn service_aliases_are_linkis_daemon_names() {
        for (text, svc) in [
            ("gateway", Service::Gateway),
            ("mg-gateway", Service::Gateway),
            ("linkis-mg-gateway", Service::Gateway),
            ("ps-metadataquery", Service::Metadatamanager),
            ("ecm", Service::Engineconnmanager),
        ] {
            let got: Service = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(got, svc, "{text}");
        }
    }
}

/// `gateway.web.tls`: HTTPS at the nginx front.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebTls {
    /// The PEM certificate chain: a path relative to OUT (copied from the control node), or an
    /// absolute path already on every web host.
    pub certificate: String,
    /// The PEM key: a vault reference `{ vault: NAME }` (installed root:root 0600), or an absolute
    /// path already on every web host.
    pub key: TlsKey,
    /// The HTTPS port; default 443.
    #[serde(default = "default_tls_listen")]
    pub listen: u16,
    /// A plain HTTP port that only redirects to https (301).
    #[serde(default)]
    pub http_redirect: Option<u16>,
}

fn default_tls_listen() -> u16 {
    443
}

/// The TLS key: a vault reference, or an absolute path on the web hosts.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum TlsKey {
    Vault(VaultRef),
    /// An absolute path already on every web host.
    Path(String),
}

impl<'de> Deserialize<'de> for TlsKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TlsKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a vault reference `{ vault: NAME }` or an absolute path")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<TlsKey, A::Error> {
                VaultRef::deserialize(de::value::MapAccessDeserializer::new(map)).map(TlsKey::Vault)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TlsKey, E> {
                Ok(TlsKey::Path(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `security:`: the hosts' firewall.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// true: nftables on every host; Linkis' service ports, the engine port range and Eureka open
    /// only to the cluster's own hosts and `allow_from`; ssh and the web front open to all.
    #[serde(default)]
    pub firewall: bool,
    /// Sources (IPv4/IPv6 addresses or CIDRs) also allowed to reach the service ports.
    #[serde(default)]
    pub allow_from: Vec<String>,
}

/// `backup:`: scheduled dumps of Linkis' database on one host, by a systemd timer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// The host (by name) where the dump runs and is kept; default: the first control host.
    #[serde(default)]
    pub host: Option<String>,
    /// Where the dumps are kept on that host: created root:root 0700 when absent.
    #[serde(default = "default_backup_dir")]
    pub dir: String,
    /// A systemd OnCalendar expression (`daily`, `*-*-* 02:30:00`, `Mon..Fri 01:00`).
    #[serde(default = "default_backup_schedule")]
    pub schedule: String,
    /// How many dumps are kept; the oldest is removed after each new dump.
    #[serde(default = "default_backup_keep")]
    pub keep: u64,
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            host: None,
            dir: default_backup_dir(),
            schedule: default_backup_schedule(),
            keep: default_backup_keep(),
        }
    }
}

fn default_backup_dir() -> String {
    "/data/linkis-backup".to_string()
}
fn default_backup_schedule() -> String {
    "daily".to_string()
}
fn default_backup_keep() -> u64 {
    7
}
