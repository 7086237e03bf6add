//! The key table: per host and conf file under `hosts/<h>/conf/`, and per systemd unit, the
//! ordered keys with their value and their origin — the one place that decides what these files
//! say. The `application-*.yml` files (by YAML path, keys/yaml.rs) and linkis-env.sh (by variable
//! name, keys/env.rs) are one template section each, in file order; log4j2.xml's values are read
//! by name (keys/log4j2.rs); a unit's directives are laid out by block (keys/unit.rs); a
//! `.properties` file's keys are
//! built in layers, each later one replacing a key in place (its earlier value
//! and origin kept in `replaced`) or appending it to its own block:
//!
//! 1. the template's sections (`Block::Template`): the keys the file's template lays out under its
//!    comments, in its order (the template reads them as `keys.<section>`);
//! 2. the platform's keys (src/model/platform.rs: the spec's hadoop, hive, spark, storage, auth),
//!    each with the origin the code that sets it gives it;
//! 3. the monitoring keys (src/model/monitoring.rs);
//! 4. the release's stock settings of that file the layers above did not set;
//! 5. the spec's `overrides:` (always last: an override wins).
//!
//! The renderer (src/render/conf.rs) writes the lines in this order and decides nothing; `linkis-gen
//! explain` prints a key's origin chain from here; the override warnings (`override_warnings`)
//! read the origins too.

mod env;
mod log4j2;
pub mod unit;
mod yaml;

use serde::Serialize;

use super::{Host, Instance, Model};
use crate::catalog::{CLI_CONF, CLI_GATEWAY_KEY, CLI_TOKEN_KEY};
use crate::diag::{Diagnostic, join_key};
use crate::spec::Service;

/// Where a key's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// The release's stock default: Linkis ships this setting in that file.
    Release { release: String, file: String },
    /// A spec field (a spec path such as `hadoop.conf_dir`).
    Spec { path: String },
    /// A rule of linkis-gen, with its inputs (`name=value` texts).
    Rule { name: String, inputs: Vec<String> },
    /// The spec's `overrides:` entry (its spec path, `overrides.<file>.<key>`).
    Override { path: String },
}

impl Origin {
    pub(crate) fn spec(path: &str) -> Origin {
        Origin::Spec {
            path: path.to_string(),
        }
    }

    pub(crate) fn rule(name: &str, inputs: Vec<String>) -> Origin {
        Origin::Rule {
            name: name.to_string(),
            inputs,
        }
    }

    /// The spec path this origin points at, if any (to locate it in the spec's text).
    pub fn spec_path(&self) -> Option<&str> {
        match self {
            Origin::Spec { path } | Origin::Override { path } => Some(path),
            _ => None,
        }
    }

    /// The origin in words: "spec field hadoop.conf_dir", "rule: NAME [INPUTS]", ...
    pub fn describe(&self) -> String {
        match self {
            Origin::Release { release, file } => {
                format!("the release default: Linkis {release} ships it in {file}")
            }
            Origin::Spec { path } => format!("spec field {path}"),
            Origin::Rule { name, inputs } if inputs.is_empty() => format!("rule: {name}"),
            Origin::Rule { name, inputs } => format!("rule: {name} [{}]", inputs.join(", ")),
            Origin::Override { path } => format!("override {path}"),
        }
    }

    /// `release`, `spec`, `rule` or `override`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Release { .. } => "release",
            Origin::Spec { .. } => "spec",
            Origin::Rule { .. } => "rule",
            Origin::Override { .. } => "override",
        }
    }
}

/// How the renderer writes a key's line (the syntax, never the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Syntax {
    /// A value linkis-gen holds: exactly a vault reference stays one, anything else is data.
    Model,
    /// Spec text (`overrides:`): data throughout, key included.
    Data,
    /// The release's line as it ships.
    Stock,
    /// A YAML scalar written as it is.
    Yaml,
    /// A YAML scalar in double quotes.
    YamlQuoted,
    /// A shell assignment, `[export ]NAME=value`.
    Shell { export: bool, quote: ShQuote },
    /// A systemd directive's value as it is (`Environment=` values quoted by the model).
    Directive,
    /// An XML attribute's or text's value, escaped for XML when written.
    Xml,
}

/// How a shell assignment writes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShQuote {
    /// One shell word: bare when safe, else single-quoted.
    Word,
    /// As it is (shell text of linkis-gen's: `${LINKIS_LOG_DIR:-...}`, `2G`).
    Raw,
    /// In double quotes (expanded by the shell: `${SERVER_NAME}`).
    Double,
}

/// Where a key's line sits, beyond its block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// A line of its own (`.properties`, a shell assignment).
    #[default]
    Line,
    /// A YAML key at this path (the key's name is the path joined with dots), with a comment
    /// line above it.
    Yaml {
        path: Vec<String>,
        note: Option<&'static str>,
    },
    /// A shell variable set in a `case` arm (the key's name is `NAME[PATTERN]`).
    Arm { name: String, pattern: String },
    /// A systemd directive of this section (`Service`): `Key=value`.
    Directive { section: &'static str },
}

/// One key of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Key {
    pub key: String,
    pub value: String,
    pub origin: Origin,
    #[serde(skip)]
    pub syntax: Syntax,
    #[serde(skip)]
    pub place: Place,
    /// The one service of the host that reads it (a heap variable, a `case` arm on
    /// `SERVER_NAME`); None when every service reading the file does. The others ignore it:
    /// its change restarts that service only (src/render/state.rs).
    #[serde(skip)]
    pub service: Option<Service>,
    /// The values an earlier layer gave this key, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<Replaced>,
}

/// A value a later layer replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replaced {
    pub value: String,
    pub origin: Origin,
}

/// Where a block of keys sits in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A section of the template (`keys.<name>`).
    Template(&'static str),
    /// Appended: the platform's keys the template did not place.
    Platform,
    /// Appended: the monitoring keys the template did not place.
    Monitoring,
    /// Appended: the release's stock settings the template did not set.
    Release,
    /// Appended: `overrides:` of keys not set above.
    Overrides,
}

/// The keys of one file, block by block in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileKeys {
    pub file: String,
    pub blocks: Vec<(Block, Vec<Key>)>,
}

impl FileKeys {
    /// Every key in file order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.blocks.iter().flat_map(|(_, k)| k.iter())
    }

    /// A key by name.
    pub fn get(&self, key: &str) -> Option<&Key> {
        self.keys().find(|k| k.key == key)
    }

    /// The keys of one block (empty when absent).
    pub fn block(&self, b: Block) -> &[Key] {
        self.blocks
            .iter()
            .find(|(x, _)| *x == b)
            .map_or(&[], |(_, k)| k.as_slice())
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds a key to a template section (no replacement: the template lays keys out once).
    fn put(&mut self, section: &'static str, key: &str, value: impl Into<String>, origin: Origin) {
        self.push(
            Block::Template(section),
            key,
            value.into(),
            origin,
            Syntax::Model,
        );
    }

    /// Appends a key to block `b` and gives it back (for its place or service).
    fn push(
        &mut self,
        b: Block,
        key: &str,
        value: String,
        origin: Origin,
        syntax: Syntax,
    ) -> &mut Key {
        let k = Key {
            key: key.to_string(),
            value,
            origin,
            syntax,
            place: Place::Line,
            service: None,
            replaced: Vec::new(),
        };
        let at = match self.blocks.iter().position(|(x, _)| *x == b) {
            Some(i) => i,
            None => {
                self.blocks.push((b, Vec::new()));
                self.blocks.len() - 1
            }
        };
        let keys = &mut self.blocks[at].1;
        keys.push(k);
        keys.last_mut().expect("just pushed")
    }

    /// Sets a key: replaced in place when present (the first occurrence), else appended to `b`.
    fn set(&mut self, b: Block, key: &str, value: &str, origin: Origin, syntax: Syntax) {
        let found = self
            .blocks
            .iter_mut()
            .flat_map(|(_, k)| k.iter_mut())
            .find(|k| k.key == key);
        match found {
            Some(k) => {
                let old = Replaced {
                    value: std::mem::replace(&mut k.value, value.to_string()),
                    origin: std::mem::replace(&mut k.origin, origin),
                };
                k.replaced.push(old);
                k.syntax = syntax;
            }
            None => {
                self.push(b, key, value.to_string(), origin, syntax);
            }
        }
    }
}

/// The keys of one conf file of a host (`file` relative to conf/: a `.properties` file, an
/// `application-*.yml` file, linkis-env.sh or log4j2.xml), or None when the host has no such
/// file or it is of no format the table knows.
pub fn file_keys(m: &Model, host: &Host, file: &str) -> Option<FileKeys> {
    let cf = host.conf_files.iter().find(|c| c.file == file)?;
    if file == "linkis-env.sh" {
        return Some(env::file_keys(m, host));
    }
    if file == "log4j2.xml" {
        return Some(log4j2::file_keys(m));
    }
    if file.ends_with(".yml") {
        return yaml::file_keys(m, host, file);
    }
    if !file.ends_with(".properties") {
        return None;
    }
    let mut fk = FileKeys {
        file: file.to_string(),
        blocks: Vec::new(),
    };
    if file == super::platform::COMMON {
        common(m, &mut fk);
    } else if file == CLI_CONF {
        fk.put(
            "gateway",
            CLI_GATEWAY_KEY,
            &m.gateway.url,
            gateway_origin(m),
        );
        fk.put(
            "token",
            CLI_TOKEN_KEY,
            "",
            Origin::rule(
                "placeholder, set from the release's linkis-cli token",
                vec![],
            ),
        );
    } else if let Some(inst) = cf.service.and_then(|s| host.instance(s)) {
        fk.put(
            "port",
            "spring.server.port",
            inst.port.to_string(),
            port_origin(inst),
        );
        service(m, host, inst.service, &mut fk);
    }
    for pk in m.platform.keys_for(file) {
        fk.set(
            Block::Platform,
            &pk.key,
            &pk.value,
            pk.origin.clone(),
            Syntax::Model,
        );
    }
    for (k, v) in m.monitoring.keys_for(file) {
        let origin = Origin::rule(
            "monitoring.prometheus: metrics on, scraped without a login",
            vec![format!("monitoring.prometheus={}", m.monitoring.prometheus)],
        );
        fk.set(Block::Monitoring, k, v, origin, Syntax::Model);
    }
    let stock: Vec<(&str, &str)> = m
        .release
        .stock(file)
        .into_iter()
        .filter(|(k, _)| !fk.has(k))
        .collect();
    for (k, v) in stock {
        let origin = Origin::Release {
            release: m.cluster.version.to_string(),
            file: file.to_string(),
        };
        fk.push(Block::Release, k, v.to_string(), origin, Syntax::Stock);
    }
    if let Some(over) = m.overrides.get(file) {
        for (k, v) in over {
            let path = join_key(&join_key("overrides", file), k);
            fk.set(
                Block::Overrides,
                k,
                v,
                Origin::Override { path },
                Syntax::Data,
            );
        }
    }
    Some(fk)
}

/// The keys of a host's file by name, whatever its format (None when not a `.properties` file the
/// host has).
pub fn host_file_keys(m: &Model, host: &str, file: &str) -> Option<FileKeys> {
    let h = m.hosts.iter().find(|h| h.name == host)?;
    file_keys(m, h, file)
}

fn port_origin(inst: &Instance) -> Origin {
    Origin::rule(
        "the service's port on this host (the host's ports:, else the release's default)",
        vec![format!("{}={}", inst.name, inst.port)],
    )
}

fn gateway_origin(m: &Model) -> Origin {
    if m.platform.gateway_url.is_some() {
        return Origin::spec("cluster.gateway_url");
    }
    let gws: Vec<String> = m
        .gateway
        .endpoints
        .iter()
        .map(|e| format!("{} {}", e.host, e.url()))
        .collect();
    let mut inputs = Vec::new();
    let name = match (&m.web.vip, m.gateway.endpoints.first()) {
        (Some(vip), _) => {
            inputs.push(format!("gateway.web.vip={}", vip.address));
            "the web front's VIP (on the gateways' port when they share one, else the front's URL)"
        }
        (None, Some(first)) => {
            inputs.push(format!(
                "first gateway host={} ({})",
                first.host,
                first.url()
            ));
            "the first gateway host of the placement (no cluster.gateway_url, no VIP)"
        }
        (None, None) => "no gateway in the cluster",
    };
    inputs.push(format!("gateways={}", gws.join(", ")));
    inputs.push(format!("= {}", m.gateway.url));
    Origin::rule(name, inputs)
}

/// The sizing formulas of an ECM host's share, with this cluster's numbers: (memory, cores,
/// engines) inputs of the three `wds.linkis.ecm.*` keys.
fn ecm_formulas(m: &Model, host: &Host, e: &crate::size::EcmShare) -> [Vec<String>; 3] {
    use crate::spec::Size;
    let s = |b: u64| Size(b).to_string();
    let heaps: Vec<String> = host
        .instances
        .iter()
        .map(|i| format!("{} {}", i.name, s(i.heap)))
        .collect();
    let heap_sum: u64 = host.instances.iter().map(|i| i.heap).sum();
    let reserve = if host.control { m.sizing.reserve } else { 0 };
    let mut memory = vec![format!(
        "host {} memory {} − heaps {} ({}){} = {}",
        host.name,
        s(host.memory),
        s(heap_sum),
        heaps.join(" + "),
        if host.control {
            format!(" − reserve {} (control host)", s(reserve))
        } else {
            String::new()
        },
        s(host.engine_memory)
    )];
    if host.memory.checked_sub(heap_sum + reserve) != Some(host.engine_memory) {
        // Never claim a formula the numbers do not add up to.
        memory = vec![
            format!("host.memory={}", s(host.memory)),
            format!("heaps={}", heaps.join(" + ")),
            format!("engine_memory={}", s(host.engine_memory)),
        ];
    }
    let d = &m.sizing.demand;
    let ecms = m.ecm_hosts().count();
    let share = format!(
        "× this host's engine memory {} ÷ all ECM hosts' {} ({ecms} hosts), rounded up",
        s(host.engine_memory),
        s(m.sizing.capacity_memory)
    );
    let cores = vec![
        format!(
            "demand cores {} = users {} × Σ engine cores {} × concurrency {}",
            d.cores, d.users, d.engine_cores_sum, d.concurrency
        ),
        format!("{} {share} = {}", d.cores, e.cores_max),
    ];
    let engines = vec![
        format!(
            "demand engines {} = users {} × concurrency {} × engine types {}",
            d.engines, d.users, d.concurrency, d.engine_types
        ),
        format!(
            "max({} {share}, the even share {} ÷ {ecms} rounded up) = {}",
            d.engines, d.engines, e.instances_max
        ),
    ];
    [memory, cores, engines]
}

/// linkis.properties: discovery, database, tokens, sessions.
fn common(m: &Model, fk: &mut FileKeys) {
    discovery_keys(m, fk);
    database_keys(m, fk);
    token_keys(m, fk);
    session_keys(m, fk);
}

/// linkis.properties' discovery section: the gateway URL, Eureka or Nacos, the install dir.
fn discovery_keys(m: &Model, fk: &mut FileKeys) {
    let d = &m.discovery;
    let f = &m.features;
    fk.put(
        "discovery",
        "wds.linkis.gateway.url",
        &m.gateway.url,
        gateway_origin(m),
    );
    if f.eureka_zone_property && !d.eureka_zone.is_empty() {
        let peers = d
            .eurekas
            .iter()
            .map(|e| format!("eureka={}", e.host))
            .collect();
        fk.put(
            "discovery",
            "wds.linkis.eureka.defaultZone",
            &d.eureka_zone,
            Origin::rule("every Eureka node of the placement", peers),
        );
    }
    if f.discovery_server_address {
        let origin = if d.eureka {
            Origin::rule(
                "the first Eureka node of the placement",
                d.eurekas
                    .first()
                    .map(|e| format!("eureka={}", e.host))
                    .into_iter()
                    .collect(),
            )
        } else {
            Origin::spec("cluster.nacos_address")
        };
        fk.put(
            "discovery",
            "linkis.discovery.server-address",
            &d.server_address,
            origin,
        );
        fk.put(
            "discovery",
            "linkis.discovery.prefer-ip-address",
            if d.prefer_ip_property {
                "true"
            } else {
                "false"
            },
            Origin::rule(
                "cluster.prefer_ip, always true with Nacos",
                vec![
                    format!("cluster.prefer_ip={}", m.cluster.prefer_ip),
                    format!("discovery={}", d.kind),
                ],
            ),
        );
    }
    fk.put(
        "discovery",
        "wds.linkis.home",
        &m.cluster.install_dir,
        Origin::spec("cluster.install_dir"),
    );
}

/// linkis.properties' database section: the JDBC URL, the account, the type's driver keys.
fn database_keys(m: &Model, fk: &mut FileKeys) {
    let db = &m.database;
    fk.put(
        "database",
        "wds.linkis.server.mybatis.datasource.url",
        &db.url,
        Origin::rule(
            "the JDBC URL of the database",
            vec![
                format!("database.type={}", db.kind),
                format!("database.host={}", db.host),
                format!("database.port={}", db.port),
                format!("database.name={}", db.name),
            ],
        ),
    );
    fk.put(
        "database",
        "wds.linkis.server.mybatis.datasource.username",
        &db.user,
        Origin::spec("database.user"),
    );
    fk.put(
        "database",
        "wds.linkis.server.mybatis.datasource.password",
        super::vault::reference(&db.password_var),
        Origin::spec("database.password"),
    );
    for (k, v) in &db.driver_keys {
        fk.put(
            "database",
            k,
            *v,
            Origin::rule(
                "the keys this database type needs",
                vec![format!("database.type={}", db.kind)],
            ),
        );
    }
}

/// linkis.properties' tokens section: the release's auth tokens, vault variables.
fn token_keys(m: &Model, fk: &mut FileKeys) {
    for t in &m.tokens {
        fk.put(
            "tokens",
            t.key,
            super::vault::reference(t.var),
            Origin::rule(
                "the release's auth token, a vault variable",
                vec![format!("token={}", t.token), format!("vault={}", t.var)],
            ),
        );
    }
}

/// linkis.properties' sessions section: shared through Redis, or Redis off where it has keys.
fn session_keys(m: &Model, fk: &mut FileKeys) {
    let sessions = || {
        Origin::rule(
            "gateway.sessions",
            vec![format!(
                "gateway.sessions={}",
                if m.sessions.redis.is_some() {
                    "redis"
                } else {
                    "ip_hash"
                }
            )],
        )
    };
    if let Some(r) = &m.sessions.redis {
        fk.put(
            "sessions",
            "linkis.session.redis.cache.enabled",
            "true",
            sessions(),
        );
        fk.put(
            "sessions",
            "linkis.session.redis.host",
            &r.host,
            Origin::spec("gateway.redis.host"),
        );
        fk.put(
            "sessions",
            "linkis.session.redis.port",
            r.port.to_string(),
            Origin::spec("gateway.redis.port"),
        );
        fk.put(
            "sessions",
            "linkis.session.redis.password",
            r.password_var
                .as_deref()
                .map_or(String::new(), super::vault::reference),
            Origin::spec("gateway.redis.password"),
        );
        fk.put(
            "sessions",
            "wds.linkis.crypt.key",
            super::vault::reference(m.crypt_key_var),
            Origin::rule(
                "sessions shared through Redis need one crypt key, a vault variable",
                vec![format!("vault={}", m.crypt_key_var)],
            ),
        );
    } else if m.features.redis_sessions {
        fk.put(
            "sessions",
            "linkis.session.redis.cache.enabled",
            "false",
            sessions(),
        );
        fk.put(
            "sessions",
            "linkis.session.redis.password",
            "",
            Origin::rule(
                "the placeholder password Linkis ships is not carried over",
                vec![],
            ),
        );
    }
}

/// A service's own file, after its port.
fn service(m: &Model, host: &Host, s: Service, fk: &mut FileKeys) {
    match s {
        Service::Engineconnmanager => {
            fk.put(
                "engine_root",
                "wds.linkis.engineconn.root.dir",
                &m.platform.engine_root,
                Origin::spec("storage.engine_root"),
            );
            if let Some(e) = &host.ecm {
                let [memory, cores, engines] = ecm_formulas(m, host, e);
                let rule = |what: &str, inputs: Vec<String>| {
                    Origin::rule(
                        &format!("sizing: this host's share of the engine demand ({what})"),
                        inputs,
                    )
                };
                fk.put(
                    "ecm",
                    "wds.linkis.ecm.memory.max",
                    e.memory_max.to_string(),
                    rule("memory, bytes", memory),
                );
                fk.put(
                    "ecm",
                    "wds.linkis.ecm.cores.max",
                    e.cores_max.to_string(),
                    rule("cores", cores),
                );
                fk.put(
                    "ecm",
                    "wds.linkis.ecm.engineconn.instances.max",
                    e.instances_max.to_string(),
                    rule("engines", engines),
                );
            }
        }
        Service::Gateway => {
            for k in [
                "wds.linkis.admin.user",
                "wds.linkis.admin.password",
                "wds.linkis.ldap.proxy.url",
                "wds.linkis.ldap.proxy.baseDN",
                "wds.linkis.ldap.proxy.userNameFormat",
            ] {
                fk.put(
                    "auth",
                    k,
                    "",
                    Origin::rule(
                        "placeholder in the gateway's own file (it ships empty LDAP keys that would shadow linkis.properties), set from auth:",
                        vec![],
                    ),
                );
            }
        }
        _ => {}
    }
}

/// The warnings for `overrides:` that replace a value linkis-gen decided (a spec field or a rule,
/// read from the key table's origins) or that a service's own file shadows (the key is in that
/// file's table, which its service reads after linkis.properties).
pub fn override_warnings(m: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (file, keys) in &m.overrides {
        let file_path = join_key("overrides", file);
        let tables: Vec<(&str, FileKeys)> = m
            .hosts
            .iter()
            .filter_map(|h| file_keys(m, h, file).map(|t| (h.name.as_str(), t)))
            .collect();
        for key in keys.keys() {
            let path = join_key(&file_path, key);
            // Per host, the value the override replaced when linkis-gen decided it.
            let decided: Vec<(&str, &Replaced)> = tables
                .iter()
                .filter_map(|(h, t)| {
                    t.get(key)
                        .and_then(|k| k.replaced.last())
                        .filter(|r| !matches!(r.origin, Origin::Release { .. }))
                        .map(|r| (*h, r))
                })
                .collect();
            if let Some((_, first)) = decided.first() {
                let same = decided.iter().all(|(_, r)| r.value == first.value);
                let per_host = !same
                    || (file != super::platform::COMMON
                        && file != CLI_CONF
                        && matches!(first.origin, Origin::Rule { .. }));
                let v = if per_host {
                    decided
                        .iter()
                        .map(|(h, r)| format!("{h} {}", r.value))
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    first.value.clone()
                };
                out.push(
                    Diagnostic::warning(
                        "override-computed",
                        &path,
                        format!(
                            "`{key}` is computed by linkis-gen ({}); this override replaces it",
                            if v.is_empty() { "empty" } else { v.as_str() }
                        ),
                    )
                    .hint("remove the override unless you mean to replace the computed value; the spec's own fields set most of these")
                    .at_key(),
                );
            }
            if file != super::platform::COMMON {
                continue;
            }
            let mut shadowing: Vec<&str> = Vec::new();
            for h in &m.hosts {
                for cf in &h.conf_files {
                    if cf.service.is_none()
                        || shadowing.contains(&cf.file)
                        || !cf.file.ends_with(".properties")
                    {
                        continue;
                    }
                    if file_keys(m, h, cf.file).is_some_and(|t| t.has(key)) {
                        shadowing.push(cf.file);
                    }
                }
            }
            // In the release's order of services, as the hint names the first.
            let order: Vec<&str> = m
                .release
                .line
                .services
                .iter()
                .map(|i| i.conf_file)
                .collect();
            shadowing.sort_by_key(|f| order.iter().position(|o| o == f));
            if !shadowing.is_empty() {
                out.push(
                    Diagnostic::warning(
                        "override-shadowed",
                        &path,
                        format!(
                            "`{key}` is also set in {}, which its service reads after linkis.properties: this value does not reach it",
                            shadowing.join(", ")
                        ),
                    )
                    .hint(format!("override `{key}` in {} instead", shadowing[0]))
                    .at_key(),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_layer_replaces_in_place_and_keeps_the_earlier_origin() {
        let mut fk = FileKeys::default();
        let rule = || Origin::rule("r", vec![]);
        fk.put("s", "x", "0", rule());
        fk.put("s", "a", "9", rule());
        fk.set(
            Block::Platform,
            "a",
            "1",
            Origin::spec("p.a"),
            Syntax::Model,
        );
        fk.set(
            Block::Platform,
            "c",
            "3",
            Origin::spec("p.c"),
            Syntax::Model,
        );
        fk.set(
            Block::Overrides,
            "c",
            "4",
            Origin::Override { path: "o".into() },
            Syntax::Data,
        );
        let keys: Vec<(&str, &str)> = fk
            .keys()
            .map(|k| (k.key.as_str(), k.value.as_str()))
            .collect();
        assert_eq!(keys, [("x", "0"), ("a", "1"), ("c", "4")]);
        assert_eq!(fk.block(Block::Platform).len(), 1);
        assert!(fk.block(Block::Overrides).is_empty());
        let c = fk.get("c").unwrap();
        assert_eq!(c.syntax, Syntax::Data);
        assert_eq!(c.replaced[0].value, "3");
        assert_eq!(c.replaced[0].origin, Origin::spec("p.c"));
        assert_eq!(fk.get("a").unwrap().replaced[0].origin, rule());
    }
}
