//! Per-host Linkis trees: `hosts/<host>/conf/...` (that host's `LINKIS_HOME/conf`) and
//! `hosts/<host>/sbin/linkis-{start,stop}-all.sh`.
//!
//! Each file comes from the template of the same path under `templates/hosts/_host_/`, rendered
//! with one context per host built here from the `Plan` and the release's catalog entry. Templates
//! read catalog switches (`f.*`) and lists (tokens, start order), never version strings.
//!
//! `.properties` files are completed after rendering: the settings the release ships in that file
//! and that the template did not set are appended (so each file is a complete drop-in for its
//! release), then the spec's `overrides:` for that file are applied (a key already present is
//! replaced in place, a new key appended).
//!
//! Secrets are Ansible variable references (`{{ vault_... }}`): a file that holds one is an Ansible
//! template for the apply side, which installs it with mode 0640 (docs/conf.md). In OUT every
//! file is 0644 and every script 0755: OUT never holds a secret value.

use std::collections::BTreeMap;

use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::{OutFile, RenderError, Templates};
use crate::catalog::{CLI_CONF, CRYPT_KEY_VAULT_VAR, Step, token_vault_var};
use crate::platform::Platform;
use crate::size::{PlacedHost, Plan};
use crate::spec::{DbType, Discovery, Service, Sessions, Size};

/// Where the templates of this module live, relative to `templates/`.
const TEMPLATE_DIR: &str = "hosts/_host_";

/// Renders the conf/ and sbin/ trees of every host.
pub fn render(
    plan: &Plan,
    platform: &Platform,
    templates: &Templates,
) -> Result<Vec<OutFile>, RenderError> {
    let cluster = ClusterCtx::new(plan, platform);
    let mut files = Vec::new();
    for host in &plan.hosts {
        files.extend(render_host(plan, platform, &cluster, host, templates)?);
    }
    Ok(files)
}

/// The gateway URL every host uses: `cluster.gateway_url`, else the first gateway host.
pub fn gateway_url(plan: &Plan, platform: &Platform) -> String {
    if let Some(u) = &platform.gateway_url {
        return u.clone();
    }
    plan.hosts_with(Service::Gateway)
        .find_map(|h| h.service(Service::Gateway).map(|p| (h, p.port)))
        .map(|(h, port)| format!("http://{}:{port}", h.address))
        .unwrap_or_default()
}

/// The conf files a host gets, in output order: `(file name, service it belongs to)`.
pub fn conf_files(plan: &Plan, host: &PlacedHost) -> Vec<(&'static str, Option<Service>)> {
    let f = plan.release.features();
    let mut out = vec![
        ("linkis.properties", None),
        ("linkis-env.sh", None),
        ("application-linkis.yml", None),
    ];
    if f.engineconn_yml {
        out.push(("application-engineconn.yml", None));
    }
    for p in &host.services {
        out.push((p.info.conf_file, Some(p.service)));
    }
    if plan.release.has_cli_conf() {
        out.push((CLI_CONF, None));
    }
    out
}

fn render_host(
    plan: &Plan,
    platform: &Platform,
    cluster: &ClusterCtx,
    host: &PlacedHost,
    templates: &Templates,
) -> Result<Vec<OutFile>, RenderError> {
    let ctx = HostCtx::new(plan, cluster, host);
    let mut out = Vec::new();
    for (file, svc) in conf_files(plan, host) {
        let svc_ctx = svc.and_then(|s| ctx.host.services.iter().find(|p| p.service == s));
        let value = Value::from(Serde(FileCtx {
            host: &ctx,
            svc: svc_ctx,
        }));
        let name = format!("{TEMPLATE_DIR}/conf/{file}.j2");
        let mut text = templates.render(&name, value)?;
        if file.ends_with(".properties") {
            text = set_keys(&text, platform.keys_for(file), PLATFORM_HEADING);
            text = complete_properties(plan, file, &text);
        }
        out.push(out_file(&host.name, &format!("conf/{file}"), text));
    }
    for script in ["linkis-start-all.sh", "linkis-stop-all.sh"] {
        let value = Value::from(Serde(FileCtx {
            host: &ctx,
            svc: None,
        }));
        let text = templates.render(&format!("{TEMPLATE_DIR}/sbin/{script}.j2"), value)?;
        out.push(out_file(&host.name, &format!("sbin/{script}"), text));
    }
    Ok(out)
}

/// (Every file's single trailing newline is ensured once, for the whole tree, by `render`.)
fn out_file(host: &str, rel: &str, text: String) -> OutFile {
    OutFile::new(format!("hosts/{host}/{rel}"), text)
}

/// Whether the apply side must render a file with Ansible's `template` module: it holds a Jinja
/// expression (only ever a `{{ vault_... }}` reference, written by linkis-gen).
pub fn is_ansible_template(contents: &str) -> bool {
    contents.contains("{{ ")
}

/// The heading of the platform keys a template did not place itself.
const PLATFORM_HEADING: &str =
    "# The platform around Linkis (the spec's hadoop, hive, spark, storage and auth sections)";

/// Sets `keys` in a properties text: a key already present is replaced in place, the others are
/// appended under `heading`.
fn set_keys(text: &str, keys: &[(String, String)], heading: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut appended = Vec::new();
    for (key, value) in keys {
        let line = format!("{key}={value}");
        match lines
            .iter()
            .position(|l| prop_key(l).as_deref() == Some(key))
        {
            Some(i) => lines[i] = line,
            None => appended.push(line),
        }
    }
    if !appended.is_empty() {
        lines.push(String::new());
        lines.push(heading.to_string());
        lines.extend(appended);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Appends the release's shipped settings the template did not set, then applies `overrides:`.
fn complete_properties(plan: &Plan, file: &str, rendered: &str) -> String {
    let mut lines: Vec<String> = rendered.lines().map(str::to_string).collect();
    let set: Vec<String> = lines.iter().filter_map(|l| prop_key(l)).collect();
    let stock: Vec<(&str, &str)> = plan
        .release
        .stock(file)
        .into_iter()
        .filter(|(k, _)| !set.iter().any(|s| s == k))
        .collect();
    if !stock.is_empty() {
        lines.push(String::new());
        lines.push(format!(
            "# Linkis {} ships these settings in {file}; linkis-gen keeps them as they are",
            plan.release.version
        ));
        lines.extend(stock.iter().map(|(k, v)| format!("{k}={v}")));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    match plan.spec.overrides.get(file) {
        Some(over) => {
            let over: Vec<(String, String)> =
                over.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
            set_keys(&text, &over, "# overrides: from the spec")
        }
        None => text,
    }
}

/// The key of a `key=value` line (not of a comment or blank line).
pub fn prop_key(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || t.starts_with('!') {
        return None;
    }
    Some(t.split_once('=').map_or(t, |(k, _)| k).trim().to_string())
}

fn vault(name: &str) -> String {
    format!("{{{{ {name} }}}}")
}

/// What is the same on every host.
#[derive(Debug, Clone, Serialize)]
struct ClusterCtx {
    version: &'static str,
    line: &'static str,
    f: crate::catalog::Features,
    cluster: String,
    home: String,
    deploy_user: String,
    discovery: &'static str,
    nacos_address: String,
    prefer_ip: bool,
    /// `linkis.discovery.prefer-ip-address`: "true" or "false".
    prefer_ip_property: &'static str,
    /// Every Eureka node's URL, comma-separated (empty with Nacos).
    eureka_zone: String,
    /// `linkis.discovery.server-address`: one URL.
    discovery_address: String,
    gateway_url: String,
    db: DbCtx,
    tokens: Vec<TokenCtx>,
    redis: Option<RedisCtx>,
    crypt_key: String,
    public_module: &'static str,
    heap_default: String,
    engineconn_root_dir: String,
    /// `export NAME=value` lines of the platform's environment (linkis-env.sh).
    env_exports: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct DbCtx {
    url: String,
    user: String,
    password: String,
    dialect: &'static str,
    /// Keys that depend on the database type (PostgreSQL driver and mappers).
    extra: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct TokenCtx {
    key: &'static str,
    token: &'static str,
    value: String,
}

#[derive(Debug, Clone, Serialize)]
struct RedisCtx {
    host: String,
    port: u16,
    password: String,
}

impl ClusterCtx {
    fn new(plan: &Plan, platform: &Platform) -> ClusterCtx {
        let spec = &plan.spec;
        let release = plan.release;
        let nacos = spec.cluster.discovery == Discovery::Nacos;
        let eureka_urls: Vec<String> = plan
            .hosts_with(Service::Eureka)
            .filter_map(|h| h.service(Service::Eureka).map(|p| (h, p.port)))
            .map(|(h, port)| format!("http://{}:{port}", h.address))
            .collect();
        let eureka_zone = eureka_urls
            .iter()
            .map(|u| format!("{u}/eureka/"))
            .collect::<Vec<_>>()
            .join(",");
        let nacos_address = spec.cluster.nacos_address.clone().unwrap_or_default();
        let discovery_address = if nacos {
            format!("http://{nacos_address}")
        } else {
            eureka_urls.first().cloned().unwrap_or_default()
        };
        let gateway_url = gateway_url(plan, platform);
        let d = &spec.database;
        let db = match d.kind {
            DbType::Mysql => DbCtx {
                url: format!(
                    "jdbc:mysql://{}:{}/{}?characterEncoding=UTF-8",
                    d.host,
                    d.port(),
                    d.name
                ),
                user: d.user.clone(),
                password: vault(&d.password.vault),
                dialect: "mysql",
                extra: BTreeMap::new(),
            },
            DbType::Postgresql => DbCtx {
                url: format!(
                    "jdbc:postgresql://{}:{}/{}?stringtype=unspecified",
                    d.host,
                    d.port(),
                    d.name
                ),
                user: d.user.clone(),
                password: vault(&d.password.vault),
                dialect: "postgresql",
                extra: BTreeMap::from([
                    (
                        "wds.linkis.server.mybatis.datasource.driver-class-name",
                        "org.postgresql.Driver",
                    ),
                    (
                        "wds.linkis.server.mybatis.mapperLocations",
                        "classpath*:mapper/common/*.xml,classpath*:mapper/postgresql/*.xml",
                    ),
                    ("linkis.server.mybatis.pagehelper.dialect", "postgresql"),
                ]),
            },
        };
        let tokens = release
            .line
            .conf
            .tokens
            .iter()
            .map(|t| TokenCtx {
                key: t.key,
                token: t.token,
                value: vault(token_vault_var(t.token)),
            })
            .collect();
        let redis = match (&spec.gateway.sessions, &spec.gateway.redis) {
            (Sessions::Redis, Some(r)) => Some(RedisCtx {
                host: r.host.clone(),
                port: r.port,
                password: r
                    .password
                    .as_ref()
                    .map_or(String::new(), |v| vault(&v.vault)),
            }),
            _ => None,
        };
        ClusterCtx {
            version: release.version,
            line: release.line.id,
            f: release.features(),
            cluster: spec.cluster.name.clone(),
            home: spec.cluster.install_dir.clone(),
            deploy_user: spec.cluster.deploy_user.clone(),
            discovery: if nacos { "nacos" } else { "eureka" },
            nacos_address,
            prefer_ip: spec.cluster.prefer_ip,
            // Linkis' installer switches it on with Nacos too.
            prefer_ip_property: if spec.cluster.prefer_ip || nacos {
                "true"
            } else {
                "false"
            },
            eureka_zone,
            discovery_address,
            gateway_url,
            db,
            tokens,
            redis,
            crypt_key: vault(CRYPT_KEY_VAULT_VAR),
            public_module: release.line.conf.public_module,
            heap_default: Size(plan.heaps.service).to_string(),
            engineconn_root_dir: platform.engine_root.clone(),
            env_exports: platform
                .env
                .iter()
                .map(|(k, v)| format!("export {k}={}", sh_quote(v)))
                .collect(),
        }
    }
}

/// A value as one shell word: bare when it is made of safe characters, else single-quoted.
pub fn sh_quote(v: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c);
    if !v.is_empty() && v.chars().all(safe) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// One host's view: the cluster context plus the host, its services and its scripts.
#[derive(Debug, Clone, Serialize)]
struct HostCtx {
    #[serde(flatten)]
    cluster: ClusterCtx,
    header: String,
    host: HostInfo,
    start: Vec<StepCtx>,
    stop: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
struct HostInfo {
    name: String,
    address: String,
    services: Vec<SvcCtx>,
    eureka_port: Option<u16>,
    ecm: Option<crate::size::EcmShare>,
}

#[derive(Debug, Clone, Serialize)]
struct SvcCtx {
    #[serde(skip)]
    service: Service,
    name: &'static str,
    daemon: &'static str,
    port: u16,
    /// JVM heap as `-Xmx` takes it: `2G`.
    heap: String,
    heap_var: Option<&'static str>,
    conf_file: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct StepCtx {
    daemon: Option<&'static str>,
    wait: Option<u32>,
}

#[derive(Serialize)]
struct FileCtx<'a> {
    #[serde(flatten)]
    host: &'a HostCtx,
    svc: Option<&'a SvcCtx>,
}

impl HostCtx {
    fn new(plan: &Plan, cluster: &ClusterCtx, host: &PlacedHost) -> HostCtx {
        let services: Vec<SvcCtx> = host
            .services
            .iter()
            .map(|p| SvcCtx {
                service: p.service,
                name: p.service.name(),
                daemon: p.info.daemon,
                port: p.port,
                heap: Size(p.heap).to_string(),
                heap_var: p.info.heap_var,
                conf_file: p.info.conf_file,
            })
            .collect();
        let conf = plan.release.line.conf;
        let daemon = |s: Service| host.service(s).map(|p| p.info.daemon);
        HostCtx {
            cluster: cluster.clone(),
            header: format!(
                "Host {} of cluster {} (Linkis {}).",
                host.name, plan.spec.cluster.name, plan.release.version
            ),
            start: host_steps(conf.start, daemon),
            stop: conf.stop.iter().filter_map(|s| daemon(*s)).collect(),
            host: HostInfo {
                name: host.name.clone(),
                address: host.address.clone(),
                eureka_port: host.service(Service::Eureka).map(|p| p.port),
                ecm: host.ecm,
                services,
            },
        }
    }
}

/// Linkis' start order restricted to one host: the starts of its services, and a wait only
/// between two of them (waits in a row add up).
fn host_steps(steps: &[Step], daemon: impl Fn(Service) -> Option<&'static str>) -> Vec<StepCtx> {
    let mut out: Vec<StepCtx> = Vec::new();
    let mut pending = 0u32;
    for step in steps {
        match *step {
            Step::Wait(n) => {
                if !out.is_empty() {
                    pending += n;
                }
            }
            Step::Start(s) => {
                if let Some(d) = daemon(s) {
                    if pending > 0 {
                        out.push(StepCtx {
                            daemon: None,
                            wait: Some(pending),
                        });
                        pending = 0;
                    }
                    out.push(StepCtx {
                        daemon: Some(d),
                        wait: None,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Service::*;

    #[test]
    fn waits_only_between_two_starts_of_the_host() {
        let steps = [
            Step::Start(Eureka),
            Step::Start(Gateway),
            Step::Wait(15),
            Step::Start(Linkismanager),
            Step::Wait(20),
            Step::Start(Engineconnmanager),
        ];
        let only = |set: &'static [Service]| move |s: Service| set.contains(&s).then_some(s.name());
        let ecm = host_steps(&steps, only(&[Engineconnmanager]));
        assert_eq!(ecm.len(), 1);
        assert_eq!(ecm[0].daemon, Some("engineconnmanager"));
        let both = host_steps(&steps, only(&[Gateway, Engineconnmanager]));
        assert_eq!(both[1].wait, Some(35));
        let none = host_steps(&steps, only(&[]));
        assert!(none.is_empty());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(sh_quote("/appcom/Install/hadoop"), "/appcom/Install/hadoop");
        assert_eq!(sh_quote("Asia/Shanghai"), "Asia/Shanghai");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn set_keys_replaces_in_place_and_appends_the_rest() {
        let keys = vec![
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ];
        let out = set_keys("x=0\na=9\n", &keys, "# h");
        assert_eq!(out, "x=0\na=1\n\n# h\nc=3\n");
    }

    #[test]
    fn prop_keys_skip_comments() {
        assert_eq!(prop_key("a.b=c=d").as_deref(), Some("a.b"));
        assert_eq!(prop_key("# a=b"), None);
        assert_eq!(prop_key("  "), None);
    }
}
