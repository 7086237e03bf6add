//! The catalog of supported Linkis versions, as data.
//!
//! Everything that differs between Linkis releases lives here — which services exist, their daemon
//! names, ports, conf files, heap variables and which features a release has — so that validation,
//! placement and templates ask the catalog instead of comparing version strings.
//! Facts: `../shared/linkis-facts.md`, checked against apache/linkis tags.

use serde::Serialize;

use crate::spec::Service;

/// What a release line knows about one of its microservices.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ServiceInfo {
    pub service: Service,
    /// Linkis' daemon name, as `linkis-daemon.sh` and the unit names use it: `mg-gateway`.
    pub daemon: &'static str,
    pub default_port: u16,
    /// The per-service conf file under `conf/`.
    pub conf_file: &'static str,
    /// The env variable `linkis-env.sh` reads for this service's heap (1.3.2+), if any.
    pub heap_var: Option<&'static str>,
}

/// A line of Linkis releases that share one layout.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    /// A short id used in templates and snapshots: "1.1", "1.3.0", "1.3.1", "1.3.2", "1.5".
    pub id: &'static str,
    /// The exact releases of the line that linkis-gen supports.
    pub releases: &'static [&'static str],
    /// The services of the line, in Linkis' start order.
    pub services: &'static [ServiceInfo],
    pub features: Features,
}

/// Switches that differ between lines. Templates read these instead of comparing versions.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Features {
    /// `discovery: nacos` is possible (1.5+).
    pub nacos: bool,
    /// `database.type: postgresql` is possible (1.8+).
    pub postgresql: bool,
    /// Gateway sessions in Redis (1.3.0+).
    pub redis_sessions: bool,
    /// `RUN_IN_FOREGROUND=true` keeps java in the foreground (1.3.0+): systemd `Type=simple`.
    pub foreground: bool,
    /// One heap variable per service (1.3.2+); before, only `SERVER_HEAP_SIZE`.
    pub per_service_heap: bool,
    /// Engines find Eureka through `conf/application-engineconn.yml` (1.3.2+); before, through
    /// `wds.linkis.eureka.defaultZone` in linkis.properties.
    pub engineconn_yml: bool,
    /// `sbin/clear-server.sh` exists (1.3.2+): it empties the manager's instance tables.
    pub clear_server: bool,
    /// `linkis.discovery.server-address` in linkis.properties (1.3.2+).
    pub discovery_server_address: bool,
}

const fn svc(
    service: Service,
    daemon: &'static str,
    default_port: u16,
    conf_file: &'static str,
    heap_var: Option<&'static str>,
) -> ServiceInfo {
    ServiceInfo {
        service,
        daemon,
        default_port,
        conf_file,
        heap_var,
    }
}

const EUREKA: ServiceInfo = svc(
    Service::Eureka,
    "mg-eureka",
    20303,
    "application-eureka.yml",
    None,
);
const GATEWAY: ServiceInfo = svc(
    Service::Gateway,
    "mg-gateway",
    9001,
    "linkis-mg-gateway.properties",
    None,
);
const PUBLICSERVICE: ServiceInfo = svc(
    Service::Publicservice,
    "ps-publicservice",
    9105,
    "linkis-ps-publicservice.properties",
    None,
);
const CS: ServiceInfo = svc(Service::Cs, "ps-cs", 9108, "linkis-ps-cs.properties", None);
const DSM: ServiceInfo = svc(
    Service::Datasourcemanager,
    "ps-data-source-manager",
    9109,
    "linkis-ps-data-source-manager.properties",
    None,
);
const METADATA: ServiceInfo = svc(
    Service::Metadatamanager,
    "ps-metadatamanager",
    9110,
    "linkis-ps-metadatamanager.properties",
    None,
);
const MANAGER: ServiceInfo = svc(
    Service::Linkismanager,
    "cg-linkismanager",
    9101,
    "linkis-cg-linkismanager.properties",
    None,
);
const ENGINEPLUGIN: ServiceInfo = svc(
    Service::Engineplugin,
    "cg-engineplugin",
    9103,
    "linkis-cg-engineplugin.properties",
    None,
);
const ENTRANCE: ServiceInfo = svc(
    Service::Entrance,
    "cg-entrance",
    9104,
    "linkis-cg-entrance.properties",
    None,
);
const ECM: ServiceInfo = svc(
    Service::Engineconnmanager,
    "cg-engineconnmanager",
    9102,
    "linkis-cg-engineconnmanager.properties",
    None,
);

/// 1.3.2+ services with their heap variables.
const fn with_heap(s: ServiceInfo, var: &'static str) -> ServiceInfo {
    ServiceInfo {
        heap_var: Some(var),
        ..s
    }
}

const SERVICES_1_1: &[ServiceInfo] = &[
    EUREKA,
    GATEWAY,
    PUBLICSERVICE,
    CS,
    DSM,
    METADATA,
    MANAGER,
    ENGINEPLUGIN,
    ENTRANCE,
    ECM,
];
const SERVICES_1_3_0: &[ServiceInfo] = &[
    EUREKA,
    GATEWAY,
    PUBLICSERVICE,
    MANAGER,
    ENGINEPLUGIN,
    ENTRANCE,
    ECM,
];
const SERVICES_1_3_1: &[ServiceInfo] = &[EUREKA, GATEWAY, PUBLICSERVICE, MANAGER, ENTRANCE, ECM];
const SERVICES_1_3_2: &[ServiceInfo] = &[
    with_heap(EUREKA, "EUREKA_HEAP_SIZE"),
    with_heap(GATEWAY, "GATEWAY_HEAP_SIZE"),
    with_heap(PUBLICSERVICE, "PUBLICSERVICE_HEAP_SIZE"),
    with_heap(MANAGER, "MANAGER_HEAP_SIZE"),
    with_heap(ENTRANCE, "ENTRANCE_HEAP_SIZE"),
    with_heap(ECM, "ENGINECONNMANAGER_HEAP_SIZE"),
];

const F_1_1: Features = Features {
    nacos: false,
    postgresql: false,
    redis_sessions: false,
    foreground: false,
    per_service_heap: false,
    engineconn_yml: false,
    clear_server: false,
    discovery_server_address: false,
};
const F_1_3_0: Features = Features {
    redis_sessions: true,
    foreground: true,
    ..F_1_1
};
const F_1_3_2: Features = Features {
    per_service_heap: true,
    engineconn_yml: true,
    clear_server: true,
    discovery_server_address: true,
    ..F_1_3_0
};
const F_1_5: Features = Features {
    nacos: true,
    ..F_1_3_2
};
const F_1_8: Features = Features {
    postgresql: true,
    ..F_1_5
};

/// Every supported line, oldest first.
pub static LINES: &[Line] = &[
    Line {
        id: "1.1",
        releases: &["1.1.1", "1.1.2", "1.1.3"],
        services: SERVICES_1_1,
        features: F_1_1,
    },
    Line {
        id: "1.3.0",
        releases: &["1.3.0"],
        services: SERVICES_1_3_0,
        features: F_1_3_0,
    },
    Line {
        id: "1.3.1",
        releases: &["1.3.1"],
        services: SERVICES_1_3_1,
        features: F_1_3_0,
    },
    Line {
        id: "1.3.2",
        releases: &["1.3.2", "1.4.0"],
        services: SERVICES_1_3_2,
        features: F_1_3_2,
    },
    Line {
        id: "1.5",
        releases: &["1.5.0", "1.6.0", "1.7.0"],
        services: SERVICES_1_3_2,
        features: F_1_5,
    },
    Line {
        id: "1.8",
        releases: &["1.8.0"],
        services: SERVICES_1_3_2,
        features: F_1_8,
    },
];

/// One supported release: its version string and its line.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Release {
    pub version: &'static str,
    pub line: &'static Line,
}

impl Release {
    /// Looks a release up by its exact version string.
    pub fn find(version: &str) -> Option<Release> {
        LINES.iter().find_map(|line| {
            line.releases
                .iter()
                .find(|r| **r == version)
                .map(|r| Release { version: r, line })
        })
    }

    /// Every supported release, oldest first.
    pub fn all() -> impl Iterator<Item = Release> {
        LINES.iter().flat_map(|line| {
            line.releases
                .iter()
                .map(move |r| Release { version: r, line })
        })
    }

    pub fn features(&self) -> Features {
        self.line.features
    }

    /// The release's info for a service, or None when the release does not have it.
    pub fn service(&self, s: Service) -> Option<&'static ServiceInfo> {
        self.line.services.iter().find(|i| i.service == s)
    }

    pub fn has(&self, s: Service) -> bool {
        self.service(s).is_some()
    }

    /// The releases (as text) that have a service, for messages.
    pub fn releases_with(s: Service) -> Vec<&'static str> {
        Release::all()
            .filter(|r| r.has(s))
            .map(|r| r.version)
            .collect()
    }
}

/// The supported releases as one comma-separated string, for messages.
pub fn supported_list() -> String {
    Release::all()
        .map(|r| r.version)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_listed_in_start_order() {
        for line in LINES {
            let order: Vec<Service> = line.services.iter().map(|s| s.service).collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "line {}", line.id);
        }
    }

    #[test]
    fn engineplugin_is_merged_in_1_3_1_and_cs_in_1_3_0() {
        let r = |v| Release::find(v).unwrap();
        assert!(r("1.3.0").has(Service::Engineplugin));
        assert!(!r("1.3.1").has(Service::Engineplugin));
        assert!(r("1.1.3").has(Service::Cs));
        assert!(!r("1.3.0").has(Service::Cs));
        assert!(Release::find("1.2.0").is_none());
    }

    #[test]
    fn releases_are_unique() {
        let all: Vec<_> = Release::all().map(|r| r.version).collect();
        let mut dedup = all.clone();
        dedup.dedup();
        assert_eq!(all, dedup);
    }
}
