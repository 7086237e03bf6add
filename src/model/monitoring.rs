//! `monitoring:` resolved: whether metrics are on, the actuator exposure every yml file writes,
//! the keys the properties files get, the scrape targets of `OUT/monitoring/` and the scrapers
//! (which the firewall reads: the only non-cluster sources of the metrics endpoints).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{
    ACTUATOR_EXPOSED, PASS_AUTH_KEY, PROMETHEUS_ENABLE_KEY, Release, metrics_path,
};
use crate::model::Host;
use crate::spec::{Spec, host_port};

/// The monitoring side of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Monitoring {
    /// `monitoring.prometheus` (only ever true on a release that has the feature: validated).
    pub prometheus: bool,
    /// `monitoring.scrapers`, as written: addresses or CIDRs allowed to reach the metrics
    /// endpoints from outside the cluster.
    pub scrapers: Vec<String>,
    /// `management.endpoints.web.exposure.include` of every application-*.yml: comma-separated.
    pub exposure: String,
    /// Keys per properties file, set in place or appended.
    pub keys: BTreeMap<String, Vec<(String, String)>>,
    /// Every instance that serves metrics, host by host in spec order (empty when off).
    pub targets: Vec<Target>,
}

/// One scrape target: a service instance at its metrics path.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub host: String,
    /// `address:port`, an IPv6 address bracketed.
    pub address: String,
    /// The spec's short name (`gateway`).
    pub service: &'static str,
    /// The systemd unit (`linkis-mg-gateway`).
    pub unit: String,
    pub path: String,
}

impl Monitoring {
    pub fn keys_for(&self, file: &str) -> &[(String, String)] {
        self.keys.get(file).map_or(&[], |v| v.as_slice())
    }

    /// The metrics paths of the targets, each once, sorted (one scrape job per path).
    pub fn paths(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.targets.iter().map(|t| t.path.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
}

pub fn resolve(spec: &Spec, release: &Release, hosts: &[Host]) -> Monitoring {
    let on = spec.monitoring.prometheus && release.features().prometheus;
    let mut exposure: Vec<&str> = ACTUATOR_EXPOSED.to_vec();
    let mut keys: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut targets = Vec::new();
    if on {
        exposure.push("prometheus");
        keys.entry("linkis.properties".into())
            .or_default()
            .push((PROMETHEUS_ENABLE_KEY.into(), "true".into()));
        // The scrape of a service behind the servlet path passes Linkis' login filter only when
        // its pass-auth list has a prefix of that path; the lists that 1.2.0+ ship hold the bare
        // `/actuator/prometheus`, which the request URI (`/api/rest_j/v1/actuator/...`) never
        // starts with. Add the served path to every file that sets the list, and to
        // linkis.properties.
        let served = metrics_path(crate::spec::Service::Publicservice);
        let mut files: Vec<&str> = vec!["linkis.properties"];
        files.extend(
            release
                .line
                .services
                .iter()
                .map(|i| i.conf_file)
                .filter(|f| f.ends_with(".properties")),
        );
        for file in files {
            let stock = release
                .stock(file)
                .into_iter()
                .find(|(k, _)| *k == PASS_AUTH_KEY)
                .map(|(_, v)| v);
            if file != "linkis.properties" && stock.is_none() {
                continue;
            }
            let list: Vec<&str> = stock
                .unwrap_or("")
                .split(',')
                .filter(|p| !p.is_empty())
                .collect();
            if list.iter().any(|p| served.starts_with(p)) {
                continue;
            }
            let mut value = list.join(",");
            if !value.is_empty() {
                value.push(',');
            }
            value.push_str(&served);
            keys.entry(file.to_string())
                .or_default()
                .push((PASS_AUTH_KEY.into(), value));
        }
        for h in hosts {
            for i in &h.instances {
                targets.push(Target {
                    host: h.name.clone(),
                    address: host_port(&h.address, i.port),
                    service: i.name,
                    unit: i.unit.clone(),
                    path: metrics_path(i.service),
                });
            }
        }
    }
    Monitoring {
        prometheus: on,
        scrapers: spec.monitoring.scrapers.clone(),
        exposure: exposure.join(","),
        keys,
        targets,
    }
}
