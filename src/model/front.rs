//! The front door and the hosts' firewall: HTTPS at nginx (`gateway.web.tls`), the VRRP address
//! that moves between the web hosts (`gateway.web.vip`), and the nftables table of every host
//! (`security.firewall`). Every value the nginx site, the keepalived configs and the nftables
//! files need is decided here.

use std::net::IpAddr;

use serde::Serialize;

use super::Host;
use crate::spec::{self, Service};

/// Where the web hosts keep the TLS files that the role installs (certificate copied from the
/// control node, key from the vault).
pub const TLS_DIR: &str = "/etc/nginx/linkis-tls";

/// Where the hosts keep the Linkis nftables table (`linkis.nft`): a directory of linkis-gen's
/// own, so that the host's /etc/nftables.conf and its other files are never touched.
pub const FIREWALL_DIR: &str = "/etc/linkis-firewall";

/// keepalived's directory on the web hosts (its config, the track script, the interface include).
pub const KEEPALIVED_DIR: &str = "/etc/keepalived";

/// The port nginx serves the front on (HTTPS with TLS), which the track script probes.
pub fn web_port(web: &super::Web) -> u16 {
    web.tls.as_ref().map_or(web.listen, |t| t.listen)
}

/// HTTPS at the nginx front.
#[derive(Debug, Clone, Serialize)]
pub struct Tls {
    /// The HTTPS port.
    pub listen: u16,
    /// A plain port that only answers 301 to https.
    pub http_redirect: Option<u16>,
    /// The certificate on the control node, relative to OUT; None when it is already on the hosts.
    pub certificate_src: Option<String>,
    /// The certificate chain's path on the web hosts (nginx `ssl_certificate`).
    pub certificate: String,
    /// The vault variable that holds the key's PEM text; None when the key is a host path.
    pub key_var: Option<String>,
    /// The key's path on the web hosts (nginx `ssl_certificate_key`).
    pub key: String,
}

/// One web host in the VRRP group.
#[derive(Debug, Clone, Serialize)]
pub struct VipMember {
    pub host: String,
    pub address: String,
    /// Higher wins: the first web host in spec order has the highest.
    pub priority: u16,
    /// The local gateway's port, for the track script's health probe.
    pub gateway_port: u16,
    /// The other members' addresses (unicast VRRP peers).
    pub peers: Vec<String>,
}

/// `gateway.web.vip`: keepalived on the web hosts.
#[derive(Debug, Clone, Serialize)]
pub struct Vip {
    pub address: String,
    /// The prefix length written with the address (32 for IPv4, 128 for IPv6).
    pub prefix: u8,
    /// The VRRP router id, 1-255.
    pub vrid: u16,
    pub ipv6: bool,
    /// The web hosts in spec order.
    pub members: Vec<VipMember>,
}

/// The nftables table of one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostFirewall {
    pub host: String,
    /// The Linkis ports of this host open only to the cluster and `allow_from`, sorted:
    /// `9001` or a range `30000-31000` (the ECM's engines).
    pub restricted: Vec<String>,
    /// The ports left open to everyone on this host (ssh, the web front), for the file's comment.
    pub open: Vec<u16>,
}

/// `security.firewall`: who may reach Linkis' service ports.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Firewall {
    /// IPv4 sources allowed to the service ports: the cluster's hosts, then `allow_from`, then
    /// `extra_sources`.
    pub sources4: Vec<String>,
    pub sources6: Vec<String>,
    /// Further sources other sections add (e.g. the metrics scrapers); kept apart to say why.
    pub extra_sources: Vec<String>,
    pub hosts: Vec<HostFirewall>,
}

/// `files/x.crt` stays relative to OUT; an absolute path is on the hosts already.
pub fn tls(spec: &spec::Spec) -> Option<Tls> {
    let t = spec.gateway.web.tls.as_ref()?;
    let name = &spec.cluster.name;
    let (certificate_src, certificate) = if t.certificate.starts_with('/') {
        (None, t.certificate.clone())
    } else {
        (Some(t.certificate.clone()), format!("{TLS_DIR}/{name}.crt"))
    };
    let (key_var, key) = match &t.key {
        spec::TlsKey::Vault(v) => (Some(v.vault.clone()), format!("{TLS_DIR}/{name}.key")),
        spec::TlsKey::Path(p) => (None, p.clone()),
    };
    Some(Tls {
        listen: t.listen,
        http_redirect: t.http_redirect,
        certificate_src,
        certificate,
        key_var,
        key,
    })
}

/// The default VRRP router id: a stable hash (FNV-1a) of the cluster name folded into 1-255,
/// so two clusters on one network rarely collide and a re-render never changes it.
pub fn default_vrid(cluster: &str) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    for b in cluster.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h % 255) as u16 + 1
}

/// The web hosts: those that run a gateway (the inventory's `linkis_web` group).
pub fn vip(spec: &spec::Spec, hosts: &[Host]) -> Option<Vip> {
    let address = spec.gateway.web.vip.clone()?;
    let ipv6 = address.contains(':');
    let web: Vec<&Host> = hosts.iter().filter(|h| h.runs(Service::Gateway)).collect();
    let members = web
        .iter()
        .enumerate()
        .map(|(i, h)| VipMember {
            host: h.name.clone(),
            address: h.address.clone(),
            priority: 150u16.saturating_sub(10 * i as u16).max(1),
            gateway_port: h.instance(Service::Gateway).map(|g| g.port).unwrap_or(0),
            peers: web
                .iter()
                .filter(|o| o.name != h.name)
                .map(|o| o.address.clone())
                .collect(),
        })
        .collect();
    Some(Vip {
        address,
        prefix: if ipv6 { 128 } else { 32 },
        vrid: spec
            .gateway
            .web
            .vrid
            .unwrap_or_else(|| default_vrid(&spec.cluster.name)),
        ipv6,
        members,
    })
}

/// The URL of the nginx front on `address` (the VIP or the first web host): https on the TLS
/// port, else http on `gateway.web.listen`; the default port of the scheme is left out.
pub fn front_url(web: &spec::Web, address: &str) -> String {
    let (scheme, port, default) = match &web.tls {
        Some(t) => ("https", t.listen, 443),
        None => ("http", web.listen, 80),
    };
    if port == default {
        format!("{scheme}://{}", spec::url_host(address))
    } else {
        format!("{scheme}://{}", spec::host_port(address, port))
    }
}

/// The gateway URL the services and linkis-cli use when the spec sets none: with a VIP, the
/// gateway on the VIP's holder (every web host runs one, and the track script moves the VIP
/// away from a host whose gateway is down) when all gateways share one port, else the nginx
/// front on the VIP; without a VIP, the first gateway.
pub fn default_gateway_url(web: &spec::Web, gateways: &[(String, u16)]) -> String {
    match (&web.vip, gateways.first()) {
        (Some(vip), Some((_, port))) if gateways.iter().all(|(_, p)| p == port) => {
            format!("http://{}", spec::host_port(vip, *port))
        }
        (Some(vip), _) => front_url(web, vip),
        (None, Some((address, port))) => format!("http://{}", spec::host_port(address, *port)),
        (None, None) => String::new(),
    }
}

/// The nftables table of every host: its Linkis service ports, and on ECM hosts the engines'
/// port range, restricted to the cluster's own addresses, `allow_from` and `extra_sources`.
pub fn firewall(
    spec: &spec::Spec,
    hosts: &[Host],
    engine_ports: Option<&str>,
    web_ports: &[u16],
    extra_sources: Vec<String>,
) -> Option<Firewall> {
    if !spec.security.firewall {
        return None;
    }
    let mut sources4 = Vec::new();
    let mut sources6 = Vec::new();
    let all = hosts
        .iter()
        .map(|h| h.address.clone())
        .chain(spec.security.allow_from.iter().cloned())
        .chain(extra_sources.iter().cloned());
    for s in all {
        let addr = s.split('/').next().unwrap_or_default();
        let list = match addr.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => &mut sources6,
            _ => &mut sources4,
        };
        if !list.contains(&s) {
            list.push(s);
        }
    }
    let hosts = hosts
        .iter()
        .map(|h| {
            let mut ports: Vec<u16> = h.instances.iter().map(|i| i.port).collect();
            ports.sort_unstable();
            ports.dedup();
            let mut restricted: Vec<String> = ports.iter().map(u16::to_string).collect();
            if h.runs(Service::Engineconnmanager)
                && let Some(r) = engine_ports
            {
                restricted.push(r.trim().replace(' ', ""));
            }
            let mut open = vec![h.ssh_port];
            if h.runs(Service::Gateway) {
                open.extend(web_ports);
            }
            open.sort_unstable();
            open.dedup();
            HostFirewall {
                host: h.name.clone(),
                restricted,
                open,
            }
        })
        .collect();
    Some(Firewall {
        sources4,
        sources6,
        extra_sources,
        hosts,
    })
}

/// The ports of the nginx front: the plain listener, or with TLS the HTTPS port and the redirect.
pub fn web_ports(web: &spec::Web) -> Vec<u16> {
    match &web.tls {
        Some(t) => std::iter::once(t.listen).chain(t.http_redirect).collect(),
        None => vec![web.listen],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_vrid_is_stable_and_in_range() {
        for name in ["demo", "prod", "a", "linkis-cluster-with-a-long-name"] {
            let v = default_vrid(name);
            assert!((1..=255).contains(&v), "{name}: {v}");
            assert_eq!(v, default_vrid(name));
        }
        assert_ne!(default_vrid("prod"), default_vrid("test"));
    }

    #[test]
    fn the_front_url_brackets_ipv6_and_leaves_out_the_default_port() {
        let mut web = spec::Web {
            listen: 80,
            ..spec::Web::default()
        };
        assert_eq!(front_url(&web, "10.0.0.1"), "http://10.0.0.1");
        assert_eq!(front_url(&web, "fd00::1"), "http://[fd00::1]");
        web.listen = 8088;
        assert_eq!(front_url(&web, "fd00::1"), "http://[fd00::1]:8088");
        assert_eq!(front_url(&web, "10.0.0.1"), "http://10.0.0.1:8088");
    }

    #[test]
    fn the_vip_is_the_gateway_url_when_gateways_share_a_port() {
        let mut web = spec::Web {
            vip: Some("10.0.0.100".into()),
            ..spec::Web::default()
        };
        let gws = vec![
            ("10.0.0.1".to_string(), 9001),
            ("10.0.0.2".to_string(), 9001),
        ];
        assert_eq!(default_gateway_url(&web, &gws), "http://10.0.0.100:9001");
        let split = vec![
            ("10.0.0.1".to_string(), 9001),
            ("10.0.0.2".to_string(), 9002),
        ];
        assert_eq!(default_gateway_url(&web, &split), "http://10.0.0.100:8088");
        web.vip = None;
        assert_eq!(default_gateway_url(&web, &gws), "http://10.0.0.1:9001");
    }
}
