//! Stage 2, validate: a typed `Spec` → a `Validated` spec, or every problem found.
//!
//! Validation is a list of named checks (in the manner of TiUP's `validate.go`): each looks at one
//! concern, reports with its own name and message, and all of them run, so one run shows every error.
//! Checks that need the placement (port clashes, HA, capacity) run in the size stage.

use std::collections::BTreeMap;

use crate::catalog::{Feature, Release, supported_list};
use crate::diag::{Diagnostic, join_index, join_key};
use crate::spec::{DbType, Discovery, GIB, MIB, Service, Sessions, Spec, TIB, VaultRef};

/// A spec that passed every check, with its release resolved.
#[derive(Debug, Clone)]
pub struct Validated {
    pub spec: Spec,
    pub release: Release,
    pub warnings: Vec<Diagnostic>,
}

/// What every check sees.
pub struct Ctx<'a> {
    pub spec: &'a Spec,
    /// None when `linkis_version` is unsupported (that check reports it).
    pub release: Option<Release>,
}

type Check = fn(&Ctx, &mut Vec<Diagnostic>);

/// Every check, in the order they run. The ids users see are the `check` of the diagnostics they
/// push; docs/output.md ("Check ids") lists them, and tests/check_ids.rs keeps that list equal to
/// the ids in src/.
pub const CHECKS: &[Check] = &[
    format_version,
    cluster_name,
    linkis_version,
    cluster_fields,
    discovery,
    database,
    sessions,
    vault_names,
    sizing_ranges,
    host_names,
    duplicate_hosts,
    host_resources,
    host_placement,
    services_in_version,
    overrides,
];

/// Limits that no real cluster reaches; above them a number is a typo.
pub const MAX_USERS: u64 = 100_000;
pub const MAX_CONCURRENCY: u64 = 1_000;
pub use crate::spec::MAX_HOSTS;
pub const MAX_CORES: u64 = 100_000;

pub fn validate(spec: Spec) -> Result<Validated, Vec<Diagnostic>> {
    let release = Release::find(&spec.cluster.linkis_version.0);
    let ctx = Ctx {
        spec: &spec,
        release,
    };
    let mut diags = Vec::new();
    for check in CHECKS {
        check(&ctx, &mut diags);
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Validated {
        release: release.expect("an unsupported version is reported as an error"),
        spec,
        warnings: diags,
    })
}

fn format_version(c: &Ctx, d: &mut Vec<Diagnostic>) {
    if c.spec.version != 1 {
        d.push(
            Diagnostic::error(
                "format-version",
                "version",
                format!("spec format version {} is not supported", c.spec.version),
            )
            .hint("this linkis-gen reads `version: 1`"),
        );
    }
}

/// `[a-z0-9-]{1,max}`, not starting or ending with `-`.
fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn cluster_name(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let n = &c.spec.cluster.name;
    if !is_dns_label(n, 40) {
        d.push(
            Diagnostic::error(
                "cluster-name",
                "cluster.name",
                format!("cluster name `{n}` must be 1 to 40 of a-z, 0-9 and `-`"),
            )
            .hint("e.g. `prod-bj`; it names files and Ansible groups"),
        );
    }
}

fn linkis_version(c: &Ctx, d: &mut Vec<Diagnostic>) {
    if c.release.is_none() {
        d.push(
            Diagnostic::error(
                "unsupported-version",
                "cluster.linkis_version",
                format!("Linkis {} is not supported", c.spec.cluster.linkis_version),
            )
            .hint(format!("supported releases: {}", supported_list())),
        );
    }
}

/// Characters that are safe in paths, user names and addresses written into shell and YAML.
fn is_safe_word(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b))
}

fn cluster_fields(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let cl = &c.spec.cluster;
    if !cl.install_dir.starts_with('/')
        || !is_safe_word(&cl.install_dir, b"/")
        || cl.install_dir.contains("..")
    {
        d.push(
            Diagnostic::error(
                "install-dir",
                "cluster.install_dir",
                format!("install_dir `{}` must be an absolute path of letters, digits, `/`, `.`, `_` and `-`", cl.install_dir),
            )
            .hint("e.g. /appcom/Install/LinkisInstall; it is written into shell scripts and units"),
        );
    }
    let u = &cl.deploy_user;
    let user_ok = u.len() <= 32
        && u.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !user_ok {
        d.push(
            Diagnostic::error(
                "deploy-user",
                "cluster.deploy_user",
                format!("`{u}` is not a valid Unix user name"),
            )
            .hint(
                "lowercase letters, digits, `_` and `-`, starting with a letter; default `hadoop`",
            ),
        );
    }
    if cl.package.trim().is_empty() || cl.package.contains(['\n', '"', '\'', '`', '$']) {
        d.push(
            Diagnostic::error("package", "cluster.package", "package must be the path of the Linkis release tarball")
                .hint("e.g. files/apache-linkis-1.3.2-bin.tar.gz, relative to where ansible-playbook runs"),
        );
    }
}

/// A spec asks for a feature its release lacks: "Linkis 1.3.2 has no Nacos discovery (it came in
/// 1.5.0)", with the catalog's first release that has it.
fn too_old(
    check: &'static str,
    path: &str,
    release: Release,
    feature: Feature,
    lacks: &str,
    instead: &str,
) -> Diagnostic {
    Diagnostic::error(
        check,
        path,
        format!(
            "Linkis {} {lacks} (it came in {})",
            release.version,
            feature.first_release()
        ),
    )
    .hint(format!(
        "use `{instead}`, or linkis_version {}",
        feature.releases_text()
    ))
}

fn discovery(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let cl = &c.spec.cluster;
    if cl.discovery == Discovery::Nacos {
        if let Some(r) = c.release
            && !r.features().nacos
        {
            d.push(too_old(
                "nacos-version",
                "cluster.discovery",
                r,
                Feature::Nacos,
                "has no Nacos discovery",
                "discovery: eureka",
            ));
        }
        match &cl.nacos_address {
            None => d.push(
                Diagnostic::error(
                    "nacos-address",
                    "cluster.discovery",
                    "`discovery: nacos` needs `nacos_address`",
                )
                .hint("add `nacos_address: HOST:8848` under cluster"),
            ),
            Some(a) if !is_host_port(a) => d.push(
                Diagnostic::error(
                    "nacos-address",
                    "cluster.nacos_address",
                    format!("`{a}` is not HOST:PORT"),
                )
                .hint("e.g. 10.0.0.9:8848"),
            ),
            _ => {}
        }
        for (i, h) in c.spec.hosts.iter().enumerate() {
            if let Some(j) = h
                .services
                .iter()
                .flatten()
                .position(|s| *s == Service::Eureka)
            {
                d.push(
                    Diagnostic::error(
                        "eureka-with-nacos",
                        join_index(&join_key(&join_index("hosts", i), "services"), j),
                        "Eureka does not run when `discovery: nacos`",
                    )
                    .hint("remove eureka from this host's services"),
                );
            }
        }
    } else if cl.nacos_address.is_some() {
        d.push(
            Diagnostic::warning(
                "nacos-address",
                "cluster.nacos_address",
                "nacos_address is ignored with `discovery: eureka`",
            )
            .hint("remove it, or set `discovery: nacos`")
            .at_key(),
        );
    }
}

fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((h, p)) => is_safe_word(h, b"") && p.parse::<u16>().is_ok_and(|p| p > 0),
        None => false,
    }
}

fn database(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let db = &c.spec.database;
    if db.kind == DbType::Postgresql
        && let Some(r) = c.release
        && !r.features().postgresql
    {
        d.push(too_old(
            "postgresql-version",
            "database.type",
            r,
            Feature::Postgresql,
            "cannot use PostgreSQL for its metadata",
            "type: mysql",
        ));
    }
    for (key, v) in [("host", &db.host), ("name", &db.name), ("user", &db.user)] {
        if !is_safe_word(v, b"") {
            d.push(
                Diagnostic::error(
                    "database-field",
                    join_key("database", key),
                    format!("database {key} `{v}` has characters that are not allowed"),
                )
                .hint("letters, digits, `.`, `_` and `-`"),
            );
        }
    }
    if db.port == Some(0) {
        d.push(
            Diagnostic::error("port-range", "database.port", "port 0 is not a port")
                .hint("ports are 1 to 65535"),
        );
    }
}

fn sessions(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let g = &c.spec.gateway;
    if g.sessions == Sessions::Redis {
        if let Some(r) = c.release
            && !r.features().redis_sessions
        {
            d.push(too_old(
                "redis-sessions-version",
                "gateway.sessions",
                r,
                Feature::RedisSessions,
                "cannot keep gateway sessions in Redis",
                "sessions: ip_hash",
            ));
        }
        match &g.redis {
            None => d.push(
                Diagnostic::error("redis", "gateway.sessions", "`sessions: redis` needs a `redis:` block")
                    .hint("add `redis: { host: ..., port: 6379, password: { vault: vault_linkis_redis_password } }` under gateway"),
            ),
            Some(r) => {
                if !is_safe_word(&r.host, b"") {
                    d.push(Diagnostic::error("redis", "gateway.redis.host", format!("`{}` is not a host name or address", r.host))
                        .hint("write the Redis server's DNS name or IP address, e.g. redis1 or 10.0.0.5"));
                }
                if r.port == 0 {
                    d.push(Diagnostic::error("port-range", "gateway.redis.port", "port 0 is not a port").hint("ports are 1 to 65535"));
                }
            }
        }
    } else if g.redis.is_some() {
        d.push(
            Diagnostic::warning(
                "redis",
                "gateway.redis",
                "the redis block is ignored with `sessions: ip_hash`",
            )
            .hint("remove it, or set `sessions: redis`")
            .at_key(),
        );
    }
    if g.web.listen == 0 {
        d.push(
            Diagnostic::error("port-range", "gateway.web.listen", "port 0 is not a port")
                .hint("ports are 1 to 65535"),
        );
    }
    let sn = &g.web.server_name;
    if sn != "_" && !sn.split_whitespace().all(|w| is_safe_word(w, b"*")) {
        d.push(
            Diagnostic::error(
                "server-name",
                "gateway.web.server_name",
                format!("`{sn}` is not an nginx server_name"),
            )
            .hint("host names separated by spaces, e.g. linkis.example.com, or `_` for any"),
        );
    }
}

fn vault_names(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let mut refs: Vec<(&str, &VaultRef)> = vec![("database.password", &c.spec.database.password)];
    if let Some(r) = &c.spec.gateway.redis
        && let Some(p) = &r.password
    {
        refs.push(("gateway.redis.password.vault", p));
    }
    for (path, r) in refs {
        let ok = r
            .vault
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && r.vault
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            d.push(
                Diagnostic::error(
                    "vault-name",
                    path,
                    format!("`{}` is not an Ansible variable name", r.vault),
                )
                .hint("letters, digits and `_`, e.g. vault_linkis_db_password"),
            );
        }
    }
}

fn range_u64(d: &mut Vec<Diagnostic>, path: &str, v: u64, min: u64, max: u64, what: &str) {
    if v < min || v > max {
        d.push(
            Diagnostic::error(
                "out-of-range",
                path,
                format!("{what} {v} is out of range ({min} to {max})"),
            )
            .hint(if v < min {
                "it must be at least 1"
            } else {
                "a number this large is a typo"
            }),
        );
    }
}

fn size_range(d: &mut Vec<Diagnostic>, path: &str, v: u64, min: u64, max: u64, what: &str) {
    if v < min || v > max {
        d.push(
            Diagnostic::error(
                "out-of-range",
                path,
                format!(
                    "{what} {} is out of range ({} to {})",
                    crate::spec::Size(v),
                    crate::spec::Size(min),
                    crate::spec::Size(max)
                ),
            )
            .hint("check the unit: M, G and T are binary"),
        );
    }
}

fn sizing_ranges(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = &c.spec.sizing;
    range_u64(
        d,
        "sizing.concurrent_users",
        s.concurrent_users,
        1,
        MAX_USERS,
        "concurrent_users",
    );
    range_u64(
        d,
        "sizing.max_concurrency_per_user",
        s.max_concurrency_per_user,
        1,
        MAX_CONCURRENCY,
        "max_concurrency_per_user",
    );
    if s.engines.is_empty() {
        d.push(
            Diagnostic::error(
                "no-engines",
                "sizing.engines",
                "at least one engine type is needed",
            )
            .hint("e.g. `spark: { memory: 1G, cores: 1 }`"),
        );
    }
    for (name, e) in &s.engines {
        let p = join_key("sizing.engines", name);
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || name.is_empty()
        {
            d.push(
                Diagnostic::error(
                    "engine-name",
                    &p,
                    format!("engine type `{name}` must be lowercase letters, digits and `_`"),
                )
                .hint("e.g. spark, hive, python, shell, jdbc")
                .at_key(),
            );
        }
        size_range(
            d,
            &join_key(&p, "memory"),
            e.memory.bytes(),
            64 * MIB,
            TIB,
            "engine memory",
        );
        range_u64(d, &join_key(&p, "cores"), e.cores, 1, 1024, "engine cores");
    }
    size_range(
        d,
        "sizing.service_memory",
        s.service_memory.bytes(),
        256 * MIB,
        256 * GIB,
        "service_memory",
    );
    if let crate::spec::AutoSize::Size(z) = s.publicservice_memory {
        size_range(
            d,
            "sizing.publicservice_memory",
            z.bytes(),
            256 * MIB,
            256 * GIB,
            "publicservice_memory",
        );
    }
    size_range(
        d,
        "sizing.reserve_memory",
        s.reserve_memory.bytes(),
        0,
        TIB,
        "reserve_memory",
    );
}

fn host_names(c: &Ctx, d: &mut Vec<Diagnostic>) {
    if c.spec.hosts.is_empty() {
        d.push(
            Diagnostic::error("no-hosts", "hosts", "the spec lists no hosts")
                .hint("add at least one `- name: ... address: ...`"),
        );
    }
    if c.spec.hosts.len() > MAX_HOSTS {
        d.push(
            Diagnostic::error(
                "too-many-hosts",
                "hosts",
                format!(
                    "{} hosts is more than the {MAX_HOSTS} linkis-gen supports",
                    c.spec.hosts.len()
                ),
            )
            .hint("split the cluster, or check that the list is what you meant"),
        );
    }
    for (i, h) in c.spec.hosts.iter().enumerate() {
        let p = join_index("hosts", i);
        if !is_dns_label(&h.name, 63) {
            d.push(
                Diagnostic::error("host-name", join_key(&p, "name"), format!("host name `{}` must be 1 to 63 of a-z, 0-9 and `-`", h.name))
                    .hint("it names inventory entries and output directories, e.g. `s1` or `linkis-ecm-01`"),
            );
        }
        if !is_safe_word(&h.address, b":") {
            d.push(
                Diagnostic::error(
                    "host-address",
                    join_key(&p, "address"),
                    format!("`{}` is not an IP address or DNS name", h.address),
                )
                .hint("e.g. 10.0.0.11 or s1.example.com"),
            );
        }
    }
}

fn duplicate_hosts(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut addresses: BTreeMap<String, usize> = BTreeMap::new();
    for (i, h) in c.spec.hosts.iter().enumerate() {
        let p = join_index("hosts", i);
        if let Some(first) = names.insert(&h.name, i) {
            names.insert(&h.name, first);
            d.push(
                Diagnostic::error(
                    "duplicate-host-name",
                    join_key(&p, "name"),
                    format!("host name `{}` is already used by hosts[{first}]", h.name),
                )
                .hint("every host needs its own name"),
            );
        }
        let addr = h.address.to_ascii_lowercase();
        if let Some(first) = addresses.insert(addr.clone(), i) {
            addresses.insert(addr, first);
            d.push(
                Diagnostic::error(
                    "duplicate-host-address",
                    join_key(&p, "address"),
                    format!("address `{}` is already used by hosts[{first}] ({})", h.address, c.spec.hosts[first].name),
                )
                .hint("one entry per server; to run more services on a server, list them on its one entry"),
            );
        }
    }
}

fn host_resources(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let hd = &c.spec.host_defaults;
    if let Some(m) = hd.memory {
        size_range(
            d,
            "host_defaults.memory",
            m.bytes(),
            GIB,
            64 * TIB,
            "host memory",
        );
    }
    if let Some(n) = hd.cores {
        range_u64(d, "host_defaults.cores", n, 1, MAX_CORES, "cores");
    }
    if hd.ssh_port == Some(0) {
        d.push(
            Diagnostic::error(
                "port-range",
                "host_defaults.ssh_port",
                "port 0 is not a port",
            )
            .hint("ports are 1 to 65535"),
        );
    }
    for (i, h) in c.spec.hosts.iter().enumerate() {
        let p = join_index("hosts", i);
        match (h.memory, hd.memory) {
            (None, None) => d.push(
                Diagnostic::error(
                    "host-memory-missing",
                    &p,
                    format!("host {} has no memory size", h.name),
                )
                .hint("set `memory:` on the host or in host_defaults, e.g. 64G"),
            ),
            (Some(m), _) => size_range(
                d,
                &join_key(&p, "memory"),
                m.bytes(),
                GIB,
                64 * TIB,
                "host memory",
            ),
            _ => {}
        }
        if let Some(n) = h.cores {
            range_u64(d, &join_key(&p, "cores"), n, 1, MAX_CORES, "cores");
        }
        if h.ssh_port == Some(0) {
            d.push(
                Diagnostic::error(
                    "port-range",
                    join_key(&p, "ssh_port"),
                    "port 0 is not a port",
                )
                .hint("ports are 1 to 65535"),
            );
        }
        for (svc, port) in &h.ports {
            if *port == 0 {
                d.push(
                    Diagnostic::error(
                        "port-range",
                        join_key(&join_key(&p, "ports"), svc.name()),
                        "port 0 is not a port",
                    )
                    .hint("ports are 1 to 65535"),
                );
            }
        }
    }
}

fn host_placement(c: &Ctx, d: &mut Vec<Diagnostic>) {
    for (i, h) in c.spec.hosts.iter().enumerate() {
        let p = join_index("hosts", i);
        if h.roles.is_some() && h.services.is_some() {
            d.push(
                Diagnostic::error(
                    "roles-and-services",
                    &p,
                    format!("host {} sets both `roles:` and `services:`", h.name),
                )
                .hint("`services:` pins the exact set; keep one of the two"),
            );
        }
        if h.roles.as_ref().is_some_and(Vec::is_empty) {
            d.push(
                Diagnostic::error("empty-roles", join_key(&p, "roles"), "`roles:` is empty")
                    .hint("use [control], [ecm] or [control, ecm], or remove the key for the default placement"),
            );
        }
        if h.services.as_ref().is_some_and(Vec::is_empty) {
            d.push(
                Diagnostic::error(
                    "empty-services",
                    join_key(&p, "services"),
                    "`services:` is empty",
                )
                .hint("list the services to pin, or remove the key for the default placement"),
            );
        }
    }
}

fn services_in_version(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(r) = c.release else { return };
    let missing = |svc: Service, path: String| {
        let with = Release::releases_with(svc);
        Diagnostic::error(
            "service-not-in-version",
            path,
            format!("Linkis {} has no {svc} service", r.version),
        )
        .hint(if with.is_empty() {
            "remove it".to_string()
        } else {
            format!(
                "{svc} exists in Linkis {}; remove it or change linkis_version",
                with.join(", ")
            )
        })
    };
    for (i, h) in c.spec.hosts.iter().enumerate() {
        let p = join_index("hosts", i);
        for (j, svc) in h.services.iter().flatten().enumerate() {
            if !r.has(*svc) {
                d.push(missing(*svc, join_index(&join_key(&p, "services"), j)));
            }
        }
        for svc in h.ports.keys() {
            if !r.has(*svc) {
                d.push(missing(*svc, join_key(&join_key(&p, "ports"), svc.name())).at_key());
            }
        }
    }
}

/// The conf files `overrides:` may name for a release: linkis.properties and each service's
/// properties file.
pub fn overridable_files(r: &Release) -> Vec<&'static str> {
    let mut files = vec!["linkis.properties"];
    files.extend(
        r.line
            .services
            .iter()
            .map(|s| s.conf_file)
            .filter(|f| f.ends_with(".properties")),
    );
    files
}

fn overrides(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(r) = c.release else { return };
    let files = overridable_files(&r);
    for (file, keys) in &c.spec.overrides {
        let p = join_key("overrides", file);
        if !files.contains(&file.as_str()) {
            let near = crate::diag::nearest(file, files.iter().copied());
            d.push(
                Diagnostic::error(
                    "override-file",
                    &p,
                    format!(
                        "Linkis {} has no conf file `{file}` that overrides can change",
                        r.version
                    ),
                )
                .hint(match near {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!("overridable files: {}", files.join(", ")),
                })
                .at_key(),
            );
        }
        for key in keys.keys() {
            let lower = key.to_ascii_lowercase();
            if lower.contains("password")
                || lower.contains("secret")
                || lower.ends_with("crypt.key")
            {
                d.push(
                    Diagnostic::error("literal-secret", join_key(&p, key), format!("`{key}` holds a secret; overrides are written to the output in clear"))
                        .hint("secrets come from vault references in the spec (database.password, gateway.redis.password)")
                        .at_key(),
                );
            }
            if key.is_empty() || key.contains(['\n', '=', ' ']) {
                d.push(
                    Diagnostic::error(
                        "override-key",
                        join_key(&p, key),
                        format!("`{key}` is not a properties key"),
                    )
                    .hint("a Linkis properties key is one word without spaces, `=` or line breaks, e.g. wds.linkis.server.version")
                    .at_key(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Source, parse};

    const BASE: &str = r#"
version: 1
cluster: { name: demo, linkis_version: "1.3.2", package: files/linkis.tar.gz }
database: { host: db1, name: linkis, user: linkis, password: { vault: vault_db } }
sizing:
  concurrent_users: 10
  engines: { spark: { memory: 1G } }
host_defaults: { memory: 64G, cores: 32 }
hosts:
  - { name: s1, address: 10.0.0.1 }
  - { name: s2, address: 10.0.0.2 }
"#;

    /// Parses BASE with `edit` applied to the typed spec, validates, and returns the check names.
    fn checks(edit: impl FnOnce(&mut Spec)) -> Vec<&'static str> {
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).expect("BASE parses");
        edit(&mut spec);
        match validate(spec) {
            Ok(v) => v.warnings.iter().map(|d| d.check).collect(),
            Err(d) => d.iter().map(|d| d.check).collect(),
        }
    }

    fn host(name: &str, address: &str) -> crate::spec::Host {
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).unwrap();
        let mut h = spec.hosts.remove(0);
        h.name = name.into();
        h.address = address.into();
        h
    }

    #[test]
    fn the_base_spec_is_clean() {
        assert_eq!(checks(|_| {}), Vec::<&str>::new());
    }

    #[test]
    fn format_version_must_be_1() {
        assert_eq!(checks(|s| s.version = 2), ["format-version"]);
    }

    #[test]
    fn cluster_name_syntax() {
        assert_eq!(
            checks(|s| s.cluster.name = "Prod_BJ".into()),
            ["cluster-name"]
        );
        assert_eq!(
            checks(|s| s.cluster.name = "a".repeat(41)),
            ["cluster-name"]
        );
        assert_eq!(checks(|s| s.cluster.name = "-x".into()), ["cluster-name"]);
    }

    #[test]
    fn unsupported_version_lists_the_supported_ones() {
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).unwrap();
        spec.cluster.linkis_version.0 = "9.9.9".into();
        let err = validate(spec).unwrap_err();
        assert_eq!(err[0].check, "unsupported-version");
        assert!(err[0].hint.as_deref().unwrap().contains("1.3.2"));
    }

    #[test]
    fn install_dir_and_deploy_user_are_shell_safe() {
        assert_eq!(
            checks(|s| s.cluster.install_dir = "relative/dir".into()),
            ["install-dir"]
        );
        assert_eq!(
            checks(|s| s.cluster.install_dir = "/opt/$(reboot)".into()),
            ["install-dir"]
        );
        assert_eq!(
            checks(|s| s.cluster.deploy_user = "Root User".into()),
            ["deploy-user"]
        );
    }

    #[test]
    fn nacos_needs_1_5_and_an_address() {
        let nacos = |s: &mut Spec| s.cluster.discovery = Discovery::Nacos;
        assert_eq!(checks(nacos), ["nacos-version", "nacos-address"]);
        assert_eq!(
            checks(|s| {
                nacos(s);
                s.cluster.linkis_version.0 = "1.5.0".into();
                s.cluster.nacos_address = Some("10.0.0.9:8848".into());
            }),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(|s| {
                nacos(s);
                s.cluster.linkis_version.0 = "1.5.0".into();
                s.cluster.nacos_address = Some("nacos-without-port".into());
            }),
            ["nacos-address"]
        );
    }

    #[test]
    fn postgresql_needs_1_8() {
        assert_eq!(
            checks(|s| s.database.kind = DbType::Postgresql),
            ["postgresql-version"]
        );
        assert_eq!(
            checks(|s| {
                s.database.kind = DbType::Postgresql;
                s.cluster.linkis_version.0 = "1.8.0".into();
            }),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn redis_sessions_need_1_3_0_and_a_redis_block() {
        assert_eq!(checks(|s| s.gateway.sessions = Sessions::Redis), ["redis"]);
        assert_eq!(
            checks(|s| {
                s.gateway.sessions = Sessions::Redis;
                s.cluster.linkis_version.0 = "1.1.3".into();
            }),
            ["redis-sessions-version", "redis"]
        );
    }

    #[test]
    fn vault_names_are_ansible_variables() {
        assert_eq!(
            checks(|s| s.database.password.vault = "my-secret".into()),
            ["vault-name"]
        );
    }

    #[test]
    fn sizing_ranges_catch_zero_and_absurd_numbers() {
        assert_eq!(checks(|s| s.sizing.concurrent_users = 0), ["out-of-range"]);
        assert_eq!(
            checks(|s| s.sizing.concurrent_users = MAX_USERS + 1),
            ["out-of-range"]
        );
        assert_eq!(
            checks(|s| s.sizing.max_concurrency_per_user = 0),
            ["out-of-range"]
        );
        assert_eq!(checks(|s| s.sizing.engines.clear()), ["no-engines"]);
        assert_eq!(
            checks(|s| s.sizing.service_memory = crate::spec::Size(1024)),
            ["out-of-range"]
        );
    }

    #[test]
    fn host_names_and_addresses() {
        assert_eq!(checks(|s| s.hosts[1].name = "S2".into()), ["host-name"]);
        assert_eq!(
            checks(|s| s.hosts[1].address = "10.0.0.2; rm -rf /".into()),
            ["host-address"]
        );
        assert_eq!(checks(|s| s.hosts.clear()), ["no-hosts"]);
    }

    #[test]
    fn duplicate_names_and_addresses_name_the_first_use() {
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).unwrap();
        spec.hosts.push(host("s1", "10.0.0.1"));
        let err = validate(spec).unwrap_err();
        let got: Vec<_> = err.iter().map(|d| (d.check, d.path.as_str())).collect();
        assert_eq!(
            got,
            [
                ("duplicate-host-name", "hosts[2].name"),
                ("duplicate-host-address", "hosts[2].address")
            ]
        );
        assert!(err[0].message.contains("hosts[0]"));
    }

    #[test]
    fn host_memory_comes_from_the_host_or_its_defaults() {
        assert_eq!(
            checks(|s| s.host_defaults.memory = None),
            ["host-memory-missing", "host-memory-missing"]
        );
        assert_eq!(
            checks(|s| s.hosts[0].memory = Some(crate::spec::Size(1024))),
            ["out-of-range"]
        );
        assert_eq!(checks(|s| s.hosts[0].ssh_port = Some(0)), ["port-range"]);
    }

    #[test]
    fn roles_and_services_are_exclusive_and_not_empty() {
        use crate::spec::Role;
        assert_eq!(
            checks(|s| {
                s.hosts[0].roles = Some(vec![Role::Ecm]);
                s.hosts[0].services = Some(vec![Service::Gateway]);
            }),
            ["roles-and-services"]
        );
        assert_eq!(checks(|s| s.hosts[0].roles = Some(vec![])), ["empty-roles"]);
        assert_eq!(
            checks(|s| s.hosts[0].services = Some(vec![])),
            ["empty-services"]
        );
    }

    #[test]
    fn a_service_missing_from_the_version_names_the_version() {
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).unwrap();
        spec.hosts[0].services = Some(vec![Service::Eureka, Service::Cs]);
        spec.hosts[1].ports.insert(Service::Engineplugin, 9999);
        let err = validate(spec).unwrap_err();
        assert_eq!(err.len(), 2);
        assert!(err.iter().all(|d| d.check == "service-not-in-version"));
        assert!(
            err[0].message.contains("Linkis 1.3.2 has no cs"),
            "{}",
            err[0].message
        );
        assert_eq!(err[0].path, "hosts[0].services[1]");
        assert_eq!(err[1].path, "hosts[1].ports.engineplugin");
    }

    #[test]
    fn overrides_name_real_files_and_hold_no_secrets() {
        use crate::spec::Scalar;
        let set = |file: &str, key: &str| {
            let (file, key) = (file.to_string(), key.to_string());
            move |s: &mut Spec| {
                s.overrides
                    .entry(file)
                    .or_default()
                    .insert(key, Scalar("x".into()));
            }
        };
        assert_eq!(
            checks(set("linkis.properties", "wds.linkis.x")),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(set("linkis-cg-entrance.properties", "a.b")),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(set("linkis-ps-cs.properties", "a.b")),
            ["override-file"]
        );
        assert_eq!(
            checks(set(
                "linkis.properties",
                "wds.linkis.server.mybatis.datasource.password"
            )),
            ["literal-secret"]
        );
    }

    #[test]
    fn ignored_blocks_are_warnings() {
        assert_eq!(
            checks(|s| s.cluster.nacos_address = Some("n:1".into())),
            ["nacos-address"]
        );
        let mut spec = parse(&Source::new("t", BASE.as_bytes().to_vec())).unwrap();
        spec.cluster.nacos_address = Some("n:1".into());
        assert!(validate(spec).is_ok(), "a warning does not fail validation");
    }
}
