//! Keys linkis-gen computes, and `overrides:` that replace or miss them.
//!
//! An override always wins (it is applied last), but one that sets a key linkis-gen computes —
//! the ECM's sizing keys, the discovery and gateway addresses, the ports, the platform's keys —
//! silently undoes that computation, so it gets a warning naming the computed value. A key
//! overridden in linkis.properties that a service's own file also sets is shadowed there (each
//! service reads its own file after linkis.properties), so it gets a warning naming that file.

use std::collections::BTreeMap;

use crate::catalog::{CLI_CONF, CLI_GATEWAY_KEY, Release};
use crate::diag::{Diagnostic, join_key};
use crate::platform::{COMMON, Platform};
use crate::size::PlacedHost;
use crate::spec::{Discovery, Service, Spec, host_port};

/// `(file, key)` → the value linkis-gen writes there (several hosts' values joined).
pub fn computed_keys(
    spec: &Spec,
    release: &Release,
    hosts: &[PlacedHost],
) -> BTreeMap<(String, String), String> {
    let mut out: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut put = |file: &str, key: &str, value: String| {
        out.insert((file.to_string(), key.to_string()), value);
    };
    let platform = Platform::resolve(spec, release);
    for (file, keys) in &platform.keys {
        for (k, v) in keys {
            put(file, k, v.clone());
        }
    }
    let first = |svc: Service| {
        hosts
            .iter()
            .find_map(|h| {
                h.service(svc)
                    .map(|p| format!("http://{}", host_port(&h.address, p.port)))
            })
            .unwrap_or_default()
    };
    let gateways: Vec<(String, u16)> = hosts
        .iter()
        .filter_map(|h| {
            h.service(Service::Gateway)
                .map(|p| (h.address.clone(), p.port))
        })
        .collect();
    let gateway_url = platform
        .gateway_url
        .clone()
        .unwrap_or_else(|| crate::model::front::default_gateway_url(&spec.gateway.web, &gateways));
    if release.has_cli_conf() {
        put(CLI_CONF, CLI_GATEWAY_KEY, gateway_url.clone());
    }
    put(COMMON, "wds.linkis.gateway.url", gateway_url);
    let f = release.features();
    if spec.cluster.discovery == Discovery::Eureka {
        if f.eureka_zone_property {
            let zone: Vec<String> = hosts
                .iter()
                .filter_map(|h| {
                    h.service(Service::Eureka)
                        .map(|p| format!("http://{}/eureka/", host_port(&h.address, p.port)))
                })
                .collect();
            put(COMMON, "wds.linkis.eureka.defaultZone", zone.join(","));
        }
        if f.discovery_server_address {
            put(
                COMMON,
                "linkis.discovery.server-address",
                first(Service::Eureka),
            );
        }
    }
    for info in release.line.services {
        if !info.conf_file.ends_with(".properties") {
            continue;
        }
        let ports: Vec<String> = hosts
            .iter()
            .filter_map(|h| {
                h.service(info.service)
                    .map(|p| format!("{} {}", h.name, p.port))
            })
            .collect();
        if !ports.is_empty() {
            put(info.conf_file, "spring.server.port", ports.join(", "));
        }
    }
    if let Some(ecm) = release.service(Service::Engineconnmanager) {
        let per_host = |get: fn(&crate::size::EcmShare) -> u64| {
            hosts
                .iter()
                .filter_map(|h| h.ecm.as_ref().map(|e| format!("{} {}", h.name, get(e))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        put(
            ecm.conf_file,
            "wds.linkis.ecm.memory.max",
            per_host(|e| e.memory_max),
        );
        put(
            ecm.conf_file,
            "wds.linkis.ecm.cores.max",
            per_host(|e| e.cores_max),
        );
        put(
            ecm.conf_file,
            "wds.linkis.ecm.engineconn.instances.max",
            per_host(|e| e.instances_max),
        );
    }
    out
}

/// The warnings for `overrides:` that replace a computed key or are shadowed by a service's file.
pub fn override_warnings(
    spec: &Spec,
    release: &Release,
    hosts: &[PlacedHost],
    warnings: &mut Vec<Diagnostic>,
) {
    if spec.overrides.is_empty() {
        return;
    }
    let computed = computed_keys(spec, release, hosts);
    for (file, keys) in &spec.overrides {
        let file_path = join_key("overrides", file);
        for key in keys.keys() {
            let path = join_key(&file_path, key);
            if let Some(v) = computed.get(&(file.clone(), key.clone())) {
                warnings.push(
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
            if file != COMMON {
                continue;
            }
            let shadowing: Vec<&str> = release
                .line
                .services
                .iter()
                .map(|i| i.conf_file)
                .filter(|f| f.ends_with(".properties"))
                .filter(|f| {
                    release.stock(f).iter().any(|(k, _)| k == key)
                        || computed.contains_key(&(f.to_string(), key.clone()))
                        || spec.overrides.get(*f).is_some_and(|o| o.contains_key(key))
                })
                .collect();
            if !shadowing.is_empty() {
                warnings.push(
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
}
