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
    platform_urls,
    platform_paths,
    platform_words,
    environment,
    storage_roots,
    engine_ports,
    default_ports,
    monitoring,
    web_tls,
    web_vip,
    firewall,
    backup,
    system_paths,
    addresses,
    logs,
    service_settings,
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
    // Any text: it reaches only Ansible's own file arguments, as data (render/escape.rs).
    if cl.package.trim().is_empty() {
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

/// `HOST:PORT`, an IPv6 address written `[addr]:PORT`.
fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((h, p)) => is_url_host(h) && p.parse::<u16>().is_ok_and(|p| p > 0),
        None => false,
    }
}

/// An address (spec-v1, "Addresses"): IPv4, IPv6, or a DNS name (labels of letters, digits, `-`
/// and `_`, none starting or ending with `-`); never a text starting with `-`, which a command
/// line (ssh's `-oProxyCommand=`) would read as an option.
pub fn is_address(s: &str) -> bool {
    if s.parse::<std::net::Ipv4Addr>().is_ok() || s.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        // Four numbers that are no IPv4 address are a typo, not a name.
        && !name.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// The host of a URL or `HOST:PORT`: an IPv4 address or DNS name, or `[IPv6]`.
fn is_url_host(h: &str) -> bool {
    match h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => !h.contains(':') && is_address(h),
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
        if !(if key == "host" {
            is_address(v)
        } else {
            is_safe_word(v, b"") && !v.starts_with('-')
        }) {
            d.push(
                Diagnostic::error(
                    "database-field",
                    join_key("database", key),
                    format!("database {key} `{v}` has characters that are not allowed"),
                )
                .hint(if key == "host" {
                    "an IPv4 or IPv6 address or a DNS name, e.g. 10.0.0.5 or db1.example.com"
                } else {
                    "letters, digits, `.`, `_` and `-`, not starting with `-`"
                }),
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
                if !is_address(&r.host) {
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
    let s = c.spec;
    let mut refs: Vec<(&str, &VaultRef)> = vec![
        ("database.password", &s.database.password),
        ("auth.admin_password", &s.auth.admin_password),
    ];
    if let Some(r) = &s.gateway.redis
        && let Some(p) = &r.password
    {
        refs.push(("gateway.redis.password.vault", p));
    }
    if let Some(a) = &s.hadoop.yarn_auth {
        refs.push(("hadoop.yarn_auth.password", &a.password));
    }
    if let Some(m) = &s.hive.metastore {
        refs.push(("hive.metastore.password", &m.password));
    }
    if let Some(t) = &s.gateway.web.tls
        && let crate::spec::TlsKey::Vault(v) = &t.key
    {
        refs.push(("gateway.web.tls.key.vault", v));
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
        if !is_address(&h.address) {
            d.push(
                Diagnostic::error(
                    "host-address",
                    join_key(&p, "address"),
                    format!("`{}` is not an IP address or DNS name", h.address),
                )
                .hint("e.g. 10.0.0.11, fd00::11 or s1.example.com"),
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

/// The conf files `overrides:` may name for a release: linkis.properties, each service's
/// properties file and linkis-cli's (1.2.0+).
pub fn overridable_files(r: &Release) -> Vec<&'static str> {
    let mut files = vec!["linkis.properties"];
    files.extend(
        r.line
            .services
            .iter()
            .map(|s| s.conf_file)
            .filter(|f| f.ends_with(".properties")),
    );
    if r.has_cli_conf() {
        files.push(crate::catalog::CLI_CONF);
    }
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

/// Text that Ansible would template: every file with a vault reference is rendered by Ansible's
/// `template` module, so a value holding `{{` or `{%` would be evaluated there.
fn has_jinja(v: &str) -> bool {
    v.contains("{{") || v.contains("{%") || v.contains("{#")
}

/// Characters a URL, DN or JDBC address may carry into properties files and shell.
fn is_plain_text(v: &str) -> bool {
    !v.trim().is_empty()
        && !has_jinja(v)
        && !v
            .chars()
            .any(|ch| ch.is_control() || ch.is_whitespace() || "\"'`$\\".contains(ch))
}

/// `scheme://host[:port][/path]` with one of `schemes`; `host_required` refuses `scheme:///path`.
fn url_ok(v: &str, schemes: &[&str], host_required: bool) -> bool {
    if !is_plain_text(v) {
        return false;
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    if !schemes.contains(&scheme) {
        return false;
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host_required && host.is_empty() {
        return false;
    }
    if host.is_empty() {
        return true;
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => {
            is_url_host(h) && p.parse::<u16>().is_ok_and(|p| p > 0)
        }
        _ => is_url_host(host),
    }
}

fn platform_urls(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = c.spec;
    let bad = |d: &mut Vec<Diagnostic>, path: &str, v: &str, what: &str, hint: &str| {
        d.push(
            Diagnostic::error("url", path, format!("`{v}` is not {what}")).hint(hint.to_string()),
        );
    };
    if let Some(u) = &s.cluster.gateway_url
        && !url_ok(u, &["http", "https"], true)
    {
        bad(
            d,
            "cluster.gateway_url",
            u,
            "an http:// or https:// URL",
            "e.g. http://10.0.0.100:9001, the address in front of the gateways",
        );
    }
    let yarn = &s.hadoop.yarn_url;
    if yarn
        .split(';')
        .any(|u| !url_ok(u, &["http", "https"], true))
    {
        bad(
            d,
            "hadoop.yarn_url",
            yarn,
            "an http:// or https:// URL (several separated by `;`)",
            "e.g. http://10.0.0.5:8088, or http://rm1:8088;http://rm2:8088 with ResourceManager HA",
        );
    }
    if let Some(l) = &s.auth.ldap {
        if !url_ok(&l.url, &["ldap", "ldaps"], true) {
            bad(
                d,
                "auth.ldap.url",
                &l.url,
                "an ldap:// or ldaps:// URL",
                "e.g. ldap://10.0.0.8:389/",
            );
        }
        if l.base_dn.trim().is_empty() || has_jinja(&l.base_dn) || l.base_dn.contains('\n') {
            d.push(
                Diagnostic::error("ldap", "auth.ldap.base_dn", "base_dn must be an LDAP DN")
                    .hint("e.g. dc=example,dc=com"),
            );
        }
        if let Some(f) = &l.user_name_format
            && (!f.contains("%s") || has_jinja(f) || f.contains('\n'))
        {
            d.push(
                Diagnostic::error(
                    "ldap",
                    "auth.ldap.user_name_format",
                    format!("`{f}` must contain `%s`, where the user name goes"),
                )
                .hint("e.g. uid=%s,ou=people,dc=example,dc=com"),
            );
        }
    }
    if let Some(m) = &s.hive.metastore
        && (!m.url.starts_with("jdbc:") || !is_plain_text(&m.url))
    {
        bad(
            d,
            "hive.metastore.url",
            &m.url,
            "a JDBC URL",
            "e.g. jdbc:mysql://10.0.0.7:3306/hive",
        );
    }
}

/// An absolute path of safe characters: written into shell, units and properties.
fn is_abs_path(v: &str) -> bool {
    v.starts_with('/') && is_safe_word(v, b"/") && !v.split('/').any(|p| p == "..")
}

fn platform_paths(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = c.spec;
    let mut paths: Vec<(&str, &str)> = vec![
        ("hadoop.home", &s.hadoop.home),
        ("hadoop.conf_dir", &s.hadoop.conf_dir),
        ("hive.home", &s.hive.home),
        ("hive.conf_dir", &s.hive.conf_dir),
        ("spark.home", &s.spark.home),
        ("spark.conf_dir", &s.spark.conf_dir),
        ("storage.engine_root", &s.storage.engine_root),
    ];
    if let Some(j) = &s.cluster.java_home {
        paths.push(("cluster.java_home", j));
    }
    if let Some(k) = &s.hadoop.kerberos {
        paths.push(("hadoop.kerberos.keytab_dir", &k.keytab_dir));
        paths.push(("hadoop.kerberos.krb5_conf", &k.krb5_conf));
    }
    for (path, v) in paths {
        if !is_abs_path(v) {
            d.push(
                Diagnostic::error(
                    "absolute-path",
                    path,
                    format!("`{v}` must be an absolute path of letters, digits, `/`, `.`, `_` and `-`"),
                )
                .hint("e.g. /appcom/config/hadoop-config; it is written into shell scripts, units and conf files"),
            );
        }
    }
    if let Some(j) = &s.database.driver_jar
        && (!j.ends_with(".jar") || !is_safe_word(j, b"/+"))
    {
        d.push(
            Diagnostic::error(
                "driver-jar",
                "database.driver_jar",
                format!("`{j}` must be the path of a .jar file on the control node"),
            )
            .hint(
                "e.g. files/mysql-connector-j-8.0.33.jar, relative to where ansible-playbook runs",
            ),
        );
    }
}

fn platform_words(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = c.spec;
    let mut words: Vec<(String, &str, &[u8])> = Vec::new();
    if let Some(v) = &s.hadoop.version {
        words.push(("hadoop.version".into(), v, b""));
    }
    if let Some(a) = &s.hadoop.yarn_auth {
        words.push(("hadoop.yarn_auth.user".into(), &a.user, b""));
    }
    if let Some(k) = &s.hadoop.kerberos {
        words.push(("hadoop.kerberos.principal".into(), &k.principal, b"@/"));
    }
    if let Some(m) = &s.hive.metastore {
        words.push(("hive.metastore.user".into(), &m.user, b""));
    }
    if let Some(u) = &s.auth.admin_user {
        words.push(("auth.admin_user".into(), u, b"@"));
    }
    for (name, e) in &s.sizing.engines {
        if let Some(v) = &e.version {
            words.push((
                join_key(&join_key(&join_key("sizing", "engines"), name), "version"),
                v,
                b"",
            ));
        }
    }
    for (path, v, extra) in words {
        if !is_safe_word(v, extra) {
            d.push(
                Diagnostic::error(
                    "platform-word",
                    path,
                    format!("`{v}` has characters that are not allowed here"),
                )
                .hint("letters, digits, `.`, `_` and `-`"),
            );
        }
    }
}

/// Variables linkis-gen sets itself from other fields.
const PLATFORM_VARS: &[(&str, &str)] = &[
    ("HADOOP_HOME", "hadoop.home"),
    ("HADOOP_CONF_DIR", "hadoop.conf_dir"),
    ("HIVE_HOME", "hive.home"),
    ("HIVE_CONF_DIR", "hive.conf_dir"),
    ("SPARK_HOME", "spark.home"),
    ("SPARK_CONF_DIR", "spark.conf_dir"),
    ("JAVA_HOME", "cluster.java_home"),
    ("LINKIS_HOME", "cluster.install_dir"),
];

fn environment(c: &Ctx, d: &mut Vec<Diagnostic>) {
    for (k, v) in &c.spec.cluster.env {
        let path = join_key("cluster.env", k);
        let name_ok = k
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            d.push(
                Diagnostic::error(
                    "env-name",
                    &path,
                    format!("`{k}` is not an environment variable name"),
                )
                .hint("letters, digits and `_`, not starting with a digit, e.g. TZ")
                .at_key(),
            );
        } else if let Some((_, field)) = PLATFORM_VARS.iter().find(|(n, _)| n == k) {
            d.push(
                Diagnostic::error("env-name", &path, format!("{k} is set from `{field}`"))
                    .hint(format!("set `{field}` instead"))
                    .at_key(),
            );
        }
        if v.chars().any(char::is_control) || has_jinja(v) {
            d.push(
                Diagnostic::error(
                    "env-value",
                    &path,
                    format!("the value of {k} holds control characters or `{{{{`"),
                )
                .hint("one line of plain text"),
            );
        }
    }
}

fn storage_roots(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let st = &c.spec.storage;
    for (key, v) in [
        ("workspace", &st.workspace),
        ("hdfs_root", &st.hdfs_root),
        ("result_sets", &st.result_sets),
    ] {
        let ok = if let Some(p) = v.strip_prefix("file://") {
            // `file:///` passes here; system_paths refuses it with its own message.
            is_abs_path(p.trim_end_matches('/')) || p == "/"
        } else {
            url_ok(v, &["hdfs"], false)
                && v.strip_prefix("hdfs://").is_some_and(|r| r.contains('/'))
        };
        if !ok {
            d.push(
                Diagnostic::error(
                    "storage-root",
                    join_key("storage", key),
                    format!("`{v}` must be a file:///absolute/path or hdfs:///path URL"),
                )
                .hint("e.g. hdfs:///tmp/linkis, hdfs://nameservice1/linkis or file:///data/linkis"),
            );
        }
    }
}

/// `LOW-HIGH` → the two ports.
fn port_range(v: &str) -> Option<(u16, u16)> {
    let (lo, hi) = v.trim().split_once('-')?;
    let (lo, hi) = (
        lo.trim().parse::<u16>().ok()?,
        hi.trim().parse::<u16>().ok()?,
    );
    (lo >= 1024 && lo < hi).then_some((lo, hi))
}

fn engine_ports(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(v) = &c.spec.storage.engine_ports else {
        return;
    };
    if port_range(v).is_none() {
        d.push(
            Diagnostic::error(
                "engine-ports",
                "storage.engine_ports",
                format!("`{v}` is not a port range LOW-HIGH with 1024 <= LOW < HIGH <= 65535"),
            )
            .hint("e.g. 30000-31000: the ports engines listen on, to open between hosts"),
        );
    } else if let Some(r) = c.release
        && r.platform().engine_port_range_key.is_none()
    {
        d.push(
            Diagnostic::error(
                "engine-ports",
                "storage.engine_ports",
                format!(
                    "Linkis {} has no setting for the engines' port range",
                    r.version
                ),
            )
            .hint("remove engine_ports, or use Linkis 1.1.3 or later"),
        );
    }
}

fn default_ports(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let p = "host_defaults.ports";
    for (svc, port) in &c.spec.host_defaults.ports {
        let path = join_key(p, svc.name());
        if *port == 0 {
            d.push(
                Diagnostic::error("port-range", &path, "port 0 is not a port")
                    .hint("ports are 1 to 65535"),
            );
        }
        if let Some(r) = c.release
            && !r.has(*svc)
        {
            d.push(
                Diagnostic::error(
                    "service-not-in-version",
                    path,
                    format!("Linkis {} has no {svc} service", r.version),
                )
                .hint("remove it, or change linkis_version")
                .at_key(),
            );
        }
    }
}

/// `monitoring:`: Prometheus only on a release that has it; scrapers are addresses or CIDRs.
fn monitoring(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let m = &c.spec.monitoring;
    if m.prometheus
        && let Some(r) = c.release
        && !r.features().prometheus
    {
        d.push(too_old(
            "prometheus-version",
            "monitoring.prometheus",
            r,
            Feature::Prometheus,
            "has no Prometheus metrics",
            "prometheus: false",
        ));
    }
    for (i, a) in m.scrapers.iter().enumerate() {
        if !is_address_or_cidr(a) {
            d.push(
                Diagnostic::error(
                    "scraper-address",
                    join_index("monitoring.scrapers", i),
                    format!("`{a}` is not an IP address, a CIDR or a DNS name"),
                )
                .hint("e.g. 10.0.0.50, 10.0.0.0/24 or 2001:db8::/64"),
            );
        }
    }
    if !m.prometheus && !m.scrapers.is_empty() {
        d.push(
            Diagnostic::warning(
                "scrapers-unused",
                "monitoring.scrapers",
                "scrapers are listed but `monitoring.prometheus` is off: nothing serves metrics",
            )
            .hint("set `prometheus: true` under monitoring, or remove `scrapers`"),
        );
    }
}

/// `logs:`: a retention of at least a day and at most ten years; a size that leaves every part
/// of a service's logs (log4j2, GC, stdout) at least a few MB.
fn logs(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(l) = &c.spec.logs else { return };
    range_u64(d, "logs.keep_days", u64::from(l.keep_days), 1, 3650, "days");
    let size = l.max_size.bytes();
    if !(100 * MIB..=TIB).contains(&size) {
        d.push(
            Diagnostic::error(
                "out-of-range",
                "logs.max_size",
                format!(
                    "`{}` is outside 100M to 1T: one service's logs, GC logs and stdout file share it",
                    l.max_size
                ),
            )
            .hint("e.g. 2G"),
        );
    }
}

/// `services:`: a service the release has, a heap Java takes (whole MiB, at least 128M), and
/// JVM options that stay data: they are written into linkis-env.sh inside double quotes, so
/// quotes, `$`, backquotes, backslashes and the shell's separators are refused.
fn service_settings(c: &Ctx, d: &mut Vec<Diagnostic>) {
    for (svc, set) in &c.spec.services {
        let p = join_key("services", svc.name());
        if let Some(r) = c.release
            && !r.has(*svc)
        {
            d.push(
                Diagnostic::error(
                    "service-not-in-version",
                    &p,
                    format!("Linkis {} has no {svc} service", r.version),
                )
                .hint("remove it, or change linkis_version")
                .at_key(),
            );
        }
        if let Some(h) = set.heap
            && (h.bytes() < 128 * MIB || h.bytes() % MIB != 0 || h.bytes() > TIB)
        {
            d.push(
                Diagnostic::error(
                    "service-heap",
                    join_key(&p, "heap"),
                    format!("`{h}` is not a heap Java takes here: whole megabytes from 128M to 1T"),
                )
                .hint("e.g. 2G or 1536M"),
            );
        }
        if let Some(o) = &set.java_opts
            && let Some(bad) = o.chars().find(|ch| !is_java_opt_char(*ch))
        {
            d.push(
                Diagnostic::error(
                    "java-opts",
                    join_key(&p, "java_opts"),
                    format!("{bad:?} is not allowed in java_opts"),
                )
                .hint(
                    "JVM options separated by spaces: letters, digits and - _ . : = / , + % @ ( )",
                ),
            );
        } else if let Some(o) = &set.java_opts
            && o.split_whitespace().any(|w| !w.starts_with('-'))
        {
            d.push(
                Diagnostic::error(
                    "java-opts",
                    join_key(&p, "java_opts"),
                    "every word of java_opts must be a JVM option starting with `-`".to_string(),
                )
                .hint("e.g. \"-XX:+UseG1GC -XX:MaxGCPauseMillis=200\""),
            );
        }
    }
}

fn is_java_opt_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " -_.:=/,+%@()".contains(c)
}

/// An IPv4 or IPv6 address, optionally with a `/prefix`, or a DNS name.
pub fn is_address_or_cidr(s: &str) -> bool {
    is_addr_or_cidr(s) || is_dns_name(s)
}

/// A DNS name: dot-separated labels of letters, digits and `-`, none starting or ending with `-`.
fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A path the nginx site and the role write: safe characters only, no `..`, no leading `-`.
fn is_tls_path(v: &str) -> bool {
    is_safe_word(v, b"/+@")
        && !v.starts_with('-')
        && !v.split('/').any(|c| c == "..")
        && !v.ends_with('/')
}

/// An IPv4 or IPv6 address, or a CIDR `ADDR/LEN` whose length fits the family.
pub fn is_addr_or_cidr(v: &str) -> bool {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len {
        None => true,
        Some(l) => {
            (1..=3).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_digit())
                && l.parse::<u8>().is_ok_and(|n| n <= max)
        }
    }
}

/// `gateway.web.tls`: the certificate and key paths, the ports.
fn web_tls(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(t) = &c.spec.gateway.web.tls else {
        return;
    };
    let cert = &t.certificate;
    if !is_tls_path(cert) {
        d.push(
            Diagnostic::error(
                "web-tls",
                "gateway.web.tls.certificate",
                format!("`{cert}` is not a usable certificate path"),
            )
            .hint("a path relative to OUT (files/linkis-web.crt) or an absolute path on every web host; letters, digits and ._-/+@ only, no `..`"),
        );
    }
    if let crate::spec::TlsKey::Path(k) = &t.key
        && (!k.starts_with('/') || !is_tls_path(k))
    {
        d.push(
            Diagnostic::error(
                "web-tls",
                "gateway.web.tls.key",
                format!("`{k}` is neither a vault reference nor an absolute path"),
            )
            .hint("`{ vault: vault_linkis_web_tls_key }` (installed root:root 0600), or an absolute path already on every web host"),
        );
    }
    for (path, port) in [
        ("gateway.web.tls.listen", Some(t.listen)),
        ("gateway.web.tls.http_redirect", t.http_redirect),
    ] {
        if port == Some(0) {
            d.push(
                Diagnostic::error("port-range", path, "port 0 is not a port")
                    .hint("ports are 1 to 65535"),
            );
        }
    }
    if t.http_redirect == Some(t.listen) {
        d.push(
            Diagnostic::error(
                "port-clash",
                "gateway.web.tls.http_redirect",
                format!(
                    "the redirect and HTTPS would both listen on port {}",
                    t.listen
                ),
            )
            .hint("e.g. listen: 443 and http_redirect: 80"),
        );
    }
}

/// `gateway.web.vip` and `vrid`.
fn web_vip(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let w = &c.spec.gateway.web;
    if let Some(v) = w.vrid
        && !(1..=255).contains(&v)
    {
        d.push(
            Diagnostic::error(
                "web-vip",
                "gateway.web.vrid",
                format!("VRRP router id {v} is outside 1-255"),
            )
            .hint("any 1-255 not used by another VRRP group on the web hosts' network; leave it out to derive one from cluster.name"),
        );
    }
    if w.vrid.is_some() && w.vip.is_none() {
        d.push(
            Diagnostic::warning(
                "web-vip",
                "gateway.web.vrid",
                "vrid is ignored without a vip",
            )
            .hint("set gateway.web.vip, or remove vrid")
            .at_key(),
        );
    }
    let Some(vip) = &w.vip else { return };
    let ip = vip.parse::<std::net::IpAddr>();
    match ip {
        Err(_) => d.push(
            Diagnostic::error(
                "web-vip",
                "gateway.web.vip",
                format!("`{vip}` is not an IPv4 or IPv6 address"),
            )
            .hint("a free address in the web hosts' subnet, e.g. 10.0.0.100"),
        ),
        Ok(std::net::IpAddr::V6(_)) => d.push(
            Diagnostic::error(
                "web-vip",
                "gateway.web.vip",
                format!("`{vip}` is IPv6; the VIP is IPv4 for now"),
            )
            .hint("a free IPv4 address in the web hosts' subnet"),
        ),
        Ok(ip) if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() => d.push(
            Diagnostic::error(
                "web-vip",
                "gateway.web.vip",
                format!("`{vip}` cannot be a virtual address"),
            )
            .hint("a free unicast address in the web hosts' subnet"),
        ),
        Ok(ip) => {
            if let Some(i) =
                c.spec.hosts.iter().position(|h| {
                    h.address == *vip || h.address.parse::<std::net::IpAddr>() == Ok(ip)
                })
            {
                d.push(
                    Diagnostic::error(
                        "web-vip",
                        "gateway.web.vip",
                        format!("`{vip}` is the address of host {}", c.spec.hosts[i].name),
                    )
                    .hint("the VIP must be a free address that keepalived moves between the web hosts"),
                );
            }
        }
    }
}

/// `security:`: allow_from entries; the firewall's needs (IP host addresses, an engine range).
fn firewall(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = &c.spec.security;
    for (i, a) in s.allow_from.iter().enumerate() {
        if !is_addr_or_cidr(a) {
            d.push(
                Diagnostic::error(
                    "firewall",
                    join_index("security.allow_from", i),
                    format!("`{a}` is not an IPv4/IPv6 address or CIDR"),
                )
                .hint("e.g. 10.0.0.50, 10.0.0.0/24 or fd00::/64"),
            );
        }
    }
    if !s.firewall {
        if !s.allow_from.is_empty() {
            d.push(
                Diagnostic::warning(
                    "firewall",
                    "security.allow_from",
                    "allow_from is ignored without `firewall: true`",
                )
                .hint("set security.firewall: true, or remove allow_from")
                .at_key(),
            );
        }
        return;
    }
    for (i, h) in c.spec.hosts.iter().enumerate() {
        if h.address.parse::<std::net::IpAddr>().is_err() {
            d.push(
                Diagnostic::error(
                    "firewall",
                    join_key(&join_index("hosts", i), "address"),
                    format!(
                        "`{}` is a name; the firewall's rules need the host's IP address",
                        h.address
                    ),
                )
                .hint("write the host's IPv4/IPv6 address, or set security.firewall: false"),
            );
        }
    }
    for (i, a) in c.spec.monitoring.scrapers.iter().enumerate() {
        if !is_addr_or_cidr(a) {
            d.push(
                Diagnostic::error(
                    "firewall",
                    join_index("monitoring.scrapers", i),
                    format!("`{a}` is a name; the firewall lets scrapers in by IP address or CIDR"),
                )
                .hint("write the scraper's IPv4/IPv6 address or CIDR, or set security.firewall: false"),
            );
        }
    }
    if c.spec.storage.engine_ports.is_none() {
        d.push(
            Diagnostic::error(
                "firewall",
                "security.firewall",
                "the firewall needs the engines' port range: engines listen on ports other hosts must reach",
            )
            .hint("set storage.engine_ports, e.g. 30000-31000 (opened to the cluster's hosts only)"),
        );
    }
}

/// `backup:`: the host is one of the spec's, the dir a path of its own, the schedule one line of
/// systemd calendar text, at least one dump kept.
fn backup(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let Some(b) = &c.spec.backup else { return };
    if let Some(h) = &b.host
        && !c.spec.hosts.iter().any(|x| &x.name == h)
    {
        let names: Vec<&str> = c.spec.hosts.iter().map(|x| x.name.as_str()).collect();
        d.push(
            Diagnostic::error(
                "backup",
                "backup.host",
                format!("backup.host `{h}` is not a host of the spec"),
            )
            .hint(format!("one of: {}", names.join(", "))),
        );
    }
    // The path rules (`path_problem`: `/`, a system directory, `/lib*`, however written) on top
    // of the characters an absolute path may have here.
    if !is_abs_path(&b.dir) || path_problem(&b.dir, false).is_some() {
        d.push(
            Diagnostic::error(
                "backup",
                "backup.dir",
                format!("backup.dir `{}` must be an absolute path of letters, digits, `/`, `.`, `_` and `-`, and a directory of its own", b.dir),
            )
            .hint("e.g. /data/linkis-backup; never `/` or a system directory such as /var or /tmp"),
        );
    }
    // systemd reads the value to the end of the line; `%` would be a unit specifier, `\` an
    // escape, `;` and quotes have no place in a calendar expression.
    if b.schedule.trim().is_empty()
        || !b
            .schedule
            .bytes()
            .all(|x| x.is_ascii_alphanumeric() || b" *:,./~+-_".contains(&x))
    {
        d.push(
            Diagnostic::error(
                "backup",
                "backup.schedule",
                format!(
                    "backup.schedule `{}` is not a systemd calendar expression",
                    b.schedule.escape_debug()
                ),
            )
            .hint(
                "e.g. daily, `*-*-* 02:30:00` or `Mon..Fri 01:00` (see `systemd-analyze calendar`)",
            ),
        );
    }
    range_u64(d, "backup.keep", b.keep, 1, 1000, "backup.keep");
}

/// System directories (spec-v1, "Paths"): a path field or path-valued override that is one of
/// them, or `/`, would hand it to the deploy user (owner, mode 01777 for the engines' root).
const SYSTEM_DIRS: &[&str] = &[
    "/", "/etc", "/usr", "/bin", "/sbin", "/boot", "/dev", "/proc", "/sys", "/run", "/var",
    "/root", "/home", "/tmp",
];

/// Why a local path breaks the path rules, if it does: not absolute, a `..` (only when `whole`:
/// the spec's own path fields have their own checks for those), `/` or a system directory itself
/// (`/lib*` included).
fn path_problem(v: &str, whole: bool) -> Option<String> {
    if whole && !v.starts_with('/') {
        return Some("is not an absolute path".into());
    }
    if whole && v.split('/').any(|p| p == "..") {
        return Some("holds `..`".into());
    }
    if !v.starts_with('/') {
        return None;
    }
    let norm: String = {
        let parts: Vec<&str> = v
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        format!("/{}", parts.join("/"))
    };
    if SYSTEM_DIRS.contains(&norm.as_str())
        || (norm.starts_with("/lib") && !norm[1..].contains('/'))
    {
        return Some(if norm == "/" {
            "is the root directory".to_string()
        } else if norm == v {
            "is a system directory".to_string()
        } else {
            format!("is {norm}, a system directory")
        });
    }
    None
}

/// The path rules for every path field and path-valued override (catalog::PATH_KEYS).
fn system_paths(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let s = c.spec;
    let mut paths: Vec<(String, &str)> = vec![
        ("cluster.install_dir".into(), &s.cluster.install_dir),
        ("storage.engine_root".into(), &s.storage.engine_root),
        ("hadoop.home".into(), &s.hadoop.home),
        ("hadoop.conf_dir".into(), &s.hadoop.conf_dir),
        ("hive.home".into(), &s.hive.home),
        ("hive.conf_dir".into(), &s.hive.conf_dir),
        ("spark.home".into(), &s.spark.home),
        ("spark.conf_dir".into(), &s.spark.conf_dir),
    ];
    if let Some(j) = &s.cluster.java_home {
        paths.push(("cluster.java_home".into(), j));
    }
    if let Some(k) = &s.hadoop.kerberos {
        paths.push(("hadoop.kerberos.keytab_dir".into(), &k.keytab_dir));
    }
    for (key, v) in [
        ("workspace", &s.storage.workspace),
        ("hdfs_root", &s.storage.hdfs_root),
        ("result_sets", &s.storage.result_sets),
    ] {
        if let Some(p) = v.strip_prefix("file://") {
            paths.push((join_key("storage", key), p));
        }
    }
    let mut overrides: Vec<(String, &str)> = Vec::new();
    for (file, keys) in &s.overrides {
        for (key, v) in keys {
            if !crate::catalog::PATH_KEYS.contains(&key.as_str()) {
                continue;
            }
            let v = v.0.as_str();
            let local = match v.split_once("://") {
                Some(("file", p)) => p,
                Some(_) => continue,
                None => v,
            };
            overrides.push((join_key(&join_key("overrides", file), key), local));
        }
    }
    let fields = paths.into_iter().map(|(p, v)| (p, v, false));
    for (path, v, whole) in fields.chain(overrides.into_iter().map(|(p, v)| (p, v, true))) {
        if let Some(why) = path_problem(v, whole) {
            d.push(
                Diagnostic::error("system-dir", &path, format!("`{v}` {why}"))
                    .hint("give a directory of its own, e.g. /data/linkis/engines: linkis-gen's roles create it and hand it to the deploy user"),
            );
        }
    }
}

/// Addresses that reach command lines and URLs (spec-v1, "Addresses"): never starting with `-`.
/// (Host, database and Redis addresses are checked where their fields are; URLs in url_ok.)
fn addresses(c: &Ctx, d: &mut Vec<Diagnostic>) {
    let sn = &c.spec.gateway.web.server_name;
    if sn.split_whitespace().any(|w| w.starts_with('-')) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Source, parse};

    #[test]
    fn addresses_are_ip_or_dns_and_never_options() {
        for ok in [
            "10.0.0.11",
            "fd00::11",
            "s1",
            "s1.example.com",
            "db_1.local.",
        ] {
            assert!(is_address(ok), "{ok}");
        }
        for bad in [
            "-oProxyCommand=id",
            "a b",
            "",
            "999.1.1.1",
            "[fd00::1]",
            "a..b",
            "x-.y",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
        assert!(is_host_port("[fd00::9]:8848"));
        assert!(!is_host_port("fd00::9:8848"));
        assert!(url_ok("http://[fd00::12]:9001", &["http"], true));
        assert!(!url_ok("http://-x:9001", &["http"], true));
    }

    #[test]
    fn system_directories_are_refused() {
        for bad in ["/", "//", "/etc", "/usr/", "/lib64", "/tmp", "/./var"] {
            assert!(path_problem(bad, false).is_some(), "{bad}");
        }
        for ok in [
            "/tmp/linkis",
            "/etc/hadoop/conf",
            "/usr/lib/jvm/java",
            "/data/engines",
        ] {
            assert!(path_problem(ok, true).is_none(), "{ok}");
        }
        assert!(path_problem("rel/dir", true).is_some());
        assert!(path_problem("/a/../etc", true).is_some());
    }

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
    fn monitoring_needs_a_release_with_prometheus_and_real_scrapers() {
        assert_eq!(
            checks(|s| s.monitoring.prometheus = true),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(|s| {
                s.monitoring.prometheus = true;
                s.cluster.linkis_version.0 = "1.1.2".into();
            }),
            ["prometheus-version"]
        );
        assert_eq!(
            checks(|s| s.monitoring.scrapers = vec!["10.0.0.50".into()]),
            ["scrapers-unused"]
        );
        for ok in [
            "10.0.0.50",
            "10.0.0.0/24",
            "2001:db8::/64",
            "::1",
            "prom.example.com",
        ] {
            assert!(is_address_or_cidr(ok), "{ok}");
        }
        for bad in [
            "-10.0.0.1",
            "10.0.0.0/33",
            "10.0.0.0/",
            "::/129",
            "prom.example.com/8",
            "a b",
            "",
            "10.0.0.1\n",
        ] {
            assert!(!is_address_or_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn logs_and_service_settings_stay_in_range_and_data() {
        use crate::spec::{Logs, ServiceSettings, Size};
        let logs = |days, size| {
            checks(move |s| {
                s.logs = Some(Logs {
                    keep_days: days,
                    max_size: Size(size),
                })
            })
        };
        assert_eq!(logs(14, 2 * GIB), Vec::<&str>::new());
        assert_eq!(logs(0, 2 * GIB), ["out-of-range"]);
        assert_eq!(logs(14, 10 * MIB), ["out-of-range"]);
        let svc = |heap: Option<u64>, opts: Option<&str>| {
            let opts = opts.map(String::from);
            checks(move |s| {
                s.services.insert(
                    Service::Gateway,
                    ServiceSettings {
                        heap: heap.map(Size),
                        java_opts: opts,
                    },
                );
            })
        };
        assert_eq!(
            svc(Some(2 * GIB), Some("-XX:+UseG1GC -Dx=a/b")),
            Vec::<&str>::new()
        );
        assert_eq!(svc(Some(64 * MIB), None), ["service-heap"]);
        assert_eq!(svc(None, Some("-Dx=$(reboot)")), ["java-opts"]);
        assert_eq!(svc(None, Some("-Da=\"b\"")), ["java-opts"]);
        assert_eq!(svc(None, Some("-Xmx1g; reboot")), ["java-opts"]);
        assert_eq!(svc(None, Some("-Xmx1g reboot")), ["java-opts"]);
        assert_eq!(
            checks(|s| {
                s.services.insert(Service::Cs, ServiceSettings::default());
            }),
            ["service-not-in-version"]
        );
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

    #[test]
    fn platform_fields_are_checked_and_located() {
        assert_eq!(
            checks(|s| s.cluster.gateway_url = Some("10.0.0.1:9001".into())),
            ["url"]
        );
        assert_eq!(
            checks(|s| s.cluster.gateway_url = Some("https://lb.example.com".into())),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(|s| s.hadoop.yarn_url = "ftp://rm:8088".into()),
            ["url"]
        );
        assert_eq!(
            checks(|s| s.hadoop.yarn_url = "http://rm1:8088;http://rm2:8088".into()),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(|s| s.hadoop.conf_dir = "etc/hadoop".into()),
            ["absolute-path"]
        );
        assert_eq!(
            checks(|s| s.spark.home = "/opt/../spark".into()),
            ["absolute-path"]
        );
        assert_eq!(
            checks(|s| s.storage.workspace = "/tmp/linkis".into()),
            ["storage-root"]
        );
        assert_eq!(
            checks(|s| s.storage.hdfs_root = "s3://b/x".into()),
            ["storage-root"]
        );
        assert_eq!(
            checks(|s| s.storage.result_sets = "hdfs://ns1/linkis".into()),
            Vec::<&str>::new()
        );
        for bad in ["30000", "31000-30000", "80-90", "1-x"] {
            assert_eq!(
                checks(|s| s.storage.engine_ports = Some(bad.into())),
                ["engine-ports"],
                "{bad}"
            );
        }
        assert_eq!(
            checks(|s| s.storage.engine_ports = Some("30000-31000".into())),
            Vec::<&str>::new()
        );
        assert_eq!(
            checks(|s| {
                s.cluster.env.insert("HADOOP_HOME".into(), "/x".into());
                s.cluster.env.insert("1X".into(), "y".into());
                s.cluster.env.insert("TZ".into(), "{{ boom }}".into());
            }),
            ["env-name", "env-name", "env-value"]
        );
        assert_eq!(
            checks(|s| s.auth.admin_password.vault = "not a name".into()),
            ["vault-name"]
        );
        assert_eq!(
            checks(|s| {
                s.host_defaults.ports.insert(Service::Cs, 9999);
            }),
            ["service-not-in-version"]
        );
    }

    #[test]
    fn port_ranges_need_low_below_high() {
        assert_eq!(port_range("30000-31000"), Some((30000, 31000)));
        assert_eq!(port_range("31000-30000"), None);
        assert_eq!(port_range("0-10"), None);
    }

    #[test]
    fn backup_host_dir_schedule_and_keep() {
        let with = |b: crate::spec::Backup| checks(move |s| s.backup = Some(b));
        assert_eq!(with(crate::spec::Backup::default()), Vec::<&str>::new());
        for schedule in [
            "daily",
            "*-*-* 02:30:00",
            "Mon..Fri 01:00",
            "hourly",
            "*:0/15",
        ] {
            let b = crate::spec::Backup {
                host: Some("s2".into()),
                schedule: schedule.into(),
                ..Default::default()
            };
            assert_eq!(with(b), Vec::<&str>::new(), "{schedule}");
        }
        for schedule in ["", " ", "daily\n", "daily %h", "daily;reboot", "'daily'"] {
            let b = crate::spec::Backup {
                schedule: schedule.into(),
                ..Default::default()
            };
            assert_eq!(with(b), ["backup"], "{schedule:?}");
        }
        for dir in [
            "/",
            "/var",
            "/tmp/",
            "data",
            "/data/../etc",
            "/data/x y",
            "/lib64",
            "//var",
        ] {
            let b = crate::spec::Backup {
                dir: dir.into(),
                ..Default::default()
            };
            assert_eq!(with(b), ["backup"], "{dir}");
        }
        let b = crate::spec::Backup {
            host: Some("s9".into()),
            keep: 0,
            ..Default::default()
        };
        assert_eq!(with(b), ["backup", "out-of-range"]);
    }
}
