//! The cluster-wide facts: identity and paths, discovery, the gateway, sessions, the web front.

use serde::Serialize;

use crate::size::Plan;
use crate::spec::{self, Service};

/// Who and where the cluster is.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    pub version: &'static str,
    /// The release line id ("1.3.2"), as templates and snapshots name it.
    pub line: &'static str,
    /// `LINKIS_HOME`, without a trailing slash (`/` stays `/`).
    pub install_dir: String,
    pub deploy_user: String,
    pub package: String,
    pub prefer_ip: bool,
    /// The jar whose name says which release an install holds (`catalog::RELEASE_JAR`): its
    /// directory under LINKIS_HOME, and its name before and after the version.
    pub release_jar: [&'static str; 3],
}

/// One service instance as other hosts reach it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub address: String,
    pub port: u16,
}

impl Endpoint {
    /// `http://ADDRESS:PORT` (`http://[ADDRESS]:PORT` for IPv6).
    pub fn url(&self) -> String {
        format!(
            "http://{}",
            crate::spec::host_port(&self.address, self.port)
        )
    }
}

/// How services find each other: Eureka (run by the cluster) or Nacos (outside it).
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// `eureka` or `nacos`.
    pub kind: &'static str,
    /// The cluster runs Eureka (false under Nacos).
    pub eureka: bool,
    /// `HOST:PORT` of Nacos; empty with Eureka.
    pub nacos_address: String,
    /// The Eureka nodes (none under Nacos).
    pub eurekas: Vec<Endpoint>,
    /// `eureka.client.serviceUrl.defaultZone`: every Eureka node's `/eureka/` URL, comma-separated.
    pub eureka_zone: String,
    /// `linkis.discovery.server-address`: one URL.
    pub server_address: String,
    /// `linkis.discovery.prefer-ip-address`: Linkis' installer switches it on with Nacos too.
    pub prefer_ip_property: bool,
}

/// The gateway instances and the URL services use to reach one.
#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub endpoints: Vec<Endpoint>,
    /// `wds.linkis.gateway.url`: `cluster.gateway_url`, else the VIP, else the first gateway.
    pub url: String,
}

/// Where gateway login sessions live: pinned by nginx `ip_hash`, or shared in Redis.
#[derive(Debug, Clone, Serialize)]
pub struct Sessions {
    /// nginx pins each client to one gateway (no Redis).
    pub ip_hash: bool,
    pub redis: Option<Redis>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Redis {
    pub host: String,
    pub port: u16,
    /// The vault variable of the Redis password, if it has one.
    pub password_var: Option<String>,
}

/// The nginx front.
#[derive(Debug, Clone, Serialize)]
pub struct Web {
    pub listen: u16,
    pub server_name: String,
    /// HTTPS (`gateway.web.tls`).
    pub tls: Option<super::front::Tls>,
    /// keepalived's VRRP address (`gateway.web.vip`).
    pub vip: Option<super::front::Vip>,
    /// The URL operators open: the front on the VIP, else on the first web host.
    pub url: String,
}

/// One normalisation of the install directory for every file.
pub fn install_dir(raw: &str) -> String {
    match raw.trim_end_matches('/') {
        "" if raw.starts_with('/') => "/".to_string(),
        t => t.to_string(),
    }
}

pub fn cluster(plan: &Plan) -> Cluster {
    let c = &plan.spec.cluster;
    Cluster {
        name: c.name.clone(),
        version: plan.release.version,
        line: plan.release.line.id,
        install_dir: install_dir(&c.install_dir),
        deploy_user: c.deploy_user.clone(),
        package: c.package.clone(),
        prefer_ip: c.prefer_ip,
        release_jar: {
            let (dir, prefix, suffix) = crate::catalog::RELEASE_JAR;
            [dir, prefix, suffix]
        },
    }
}

/// The endpoints of a service on the placed hosts.
pub fn endpoints(plan: &Plan, s: Service) -> Vec<Endpoint> {
    plan.hosts_with(s)
        .filter_map(|h| {
            h.service(s).map(|p| Endpoint {
                host: h.name.clone(),
                address: h.address.clone(),
                port: p.port,
            })
        })
        .collect()
}

pub fn discovery(plan: &Plan) -> Discovery {
    let c = &plan.spec.cluster;
    let nacos = c.discovery == spec::Discovery::Nacos;
    let eurekas = if nacos {
        Vec::new()
    } else {
        endpoints(plan, Service::Eureka)
    };
    let eureka_zone = eurekas
        .iter()
        .map(|e| format!("{}/eureka/", e.url()))
        .collect::<Vec<_>>()
        .join(",");
    let nacos_address = c.nacos_address.clone().unwrap_or_default();
    let server_address = if nacos {
        format!("http://{nacos_address}")
    } else {
        eurekas.first().map(Endpoint::url).unwrap_or_default()
    };
    Discovery {
        kind: if nacos { "nacos" } else { "eureka" },
        eureka: !nacos,
        nacos_address,
        eurekas,
        eureka_zone,
        server_address,
        prefer_ip_property: c.prefer_ip || nacos,
    }
}

pub fn gateway(plan: &Plan) -> Gateway {
    let endpoints = endpoints(plan, Service::Gateway);
    let pairs: Vec<(String, u16)> = endpoints
        .iter()
        .map(|e| (e.address.clone(), e.port))
        .collect();
    Gateway {
        url: super::front::default_gateway_url(&plan.spec.gateway.web, &pairs),
        endpoints,
    }
}

pub fn sessions(g: &spec::Gateway) -> Sessions {
    let redis = match (&g.sessions, &g.redis) {
        (spec::Sessions::Redis, Some(r)) => Some(Redis {
            host: r.host.clone(),
            port: r.port,
            password_var: r.password.as_ref().map(|v| v.vault.clone()),
        }),
        _ => None,
    };
    Sessions {
        ip_hash: g.sessions != spec::Sessions::Redis,
        redis,
    }
}

pub fn web(spec: &spec::Spec, hosts: &[super::Host]) -> Web {
    let g = &spec.gateway;
    let front = g.web.vip.clone().or_else(|| {
        hosts
            .iter()
            .find(|h| h.runs(Service::Gateway))
            .map(|h| h.address.clone())
    });
    Web {
        listen: g.web.listen,
        server_name: g.web.server_name.clone(),
        tls: super::front::tls(spec),
        vip: super::front::vip(spec, hosts),
        url: front
            .map(|a| super::front::front_url(&g.web, &a))
            .unwrap_or_default(),
    }
}
