//! The catalog of supported Linkis versions, as data.
//!
//! Everything that differs between Linkis releases lives here — which services exist, their daemon
//! names, ports, conf files, heap variables and which features a release has — so that validation,
//! placement and templates ask the catalog instead of comparing version strings.
//! Facts: `../shared/linkis-facts.md`, checked against apache/linkis tags.

use serde::Serialize;

use crate::spec::{DbType, Service};

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
    /// What the per-host conf trees and start/stop scripts of the line need.
    pub conf: &'static ConfFacts,
}

/// One step of Linkis' own `linkis-start-all.sh` for a line.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Step {
    /// `linkis-daemon.sh start <daemon>` of a service.
    Start(Service),
    /// `sleep N` before the next service (its dependencies register with discovery meanwhile).
    Wait(u32),
}

/// A property that carries an auth token, and the token Linkis ships in it (a well-known default
/// that linkis-gen never writes: it writes the Ansible variable of that token instead).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct TokenKey {
    pub key: &'static str,
    /// The shipped placeholder: `BML-AUTH`, `WS-AUTH`, `DSM-AUTH`, `LINKIS_CLI_TEST`,
    /// `LINKIS-AUTH`, `LINKIS-UNAVAILABLE-TOKEN`.
    pub token: &'static str,
}

/// The Ansible variable that holds a token's real value on every host (and in the DB seed).
pub fn token_vault_var(token: &str) -> &'static str {
    match token {
        "BML-AUTH" => "vault_linkis_token_bml",
        "WS-AUTH" => "vault_linkis_token_ws",
        "DSM-AUTH" => "vault_linkis_token_dsm",
        "LINKIS_CLI_TEST" => "vault_linkis_token_cli_test",
        // 1.7 ships one LINKIS-AUTH token, 1.8 one LINKIS-UNAVAILABLE-TOKEN placeholder that its
        // installer replaces by a single gateway token.
        _ => "vault_linkis_token_linkis",
    }
}

/// The Ansible variable holding `wds.linkis.crypt.key` (identical on all gateways with Redis sessions).
pub const CRYPT_KEY_VAULT_VAR: &str = "vault_linkis_crypt_key";

/// Conf-tree and sbin facts of a line, checked against the release tags of apache/linkis.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ConfFacts {
    /// `linkis-start-all.sh`'s order: starts and the sleeps between them.
    pub start: &'static [Step],
    /// `linkis-stop-all.sh`'s order.
    pub stop: &'static [Service],
    /// The properties that carry auth tokens in this line.
    pub tokens: &'static [TokenKey],
    /// `LINKIS_PUBLIC_MODULE` that `sbin/ext/linkis-common-start` reads from `conf/linkis-env.sh`.
    pub public_module: &'static str,
    /// The heap `sbin/ext` falls back to when `linkis-env.sh` sets none.
    pub default_heap: &'static str,
    /// The rows `sbin/clear-server.sh` deletes on a cold start (MySQL only), in its order; empty
    /// where the release has no clear-server.sh. linkis_clear_server deletes the same rows itself.
    pub clear_server_deletes: &'static [ClearDelete],
    /// The main class of an engine's JVM (EngineConnServer): a java process whose command line
    /// names it is an engine, still running when its ECM stopped (`KillMode=process`).
    pub engine_main_class: &'static str,
}

/// One `DELETE` of clear-server.sh: a table of the manager, and the rows of it (all when None).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ClearDelete {
    pub table: &'static str,
    /// The WHERE condition, standard SQL (single-quoted strings).
    pub filter: Option<&'static str>,
}

/// linkis-dist/package/sbin/clear-server.sh of 1.3.2 (and, unchanged, 1.4.0 to 1.8.0; 1.4.0+ runs
/// it for `dbType == mysql` only).
const CLEAR_SERVER_1_3_2: &[ClearDelete] = &[
    ClearDelete {
        table: "linkis_cg_manager_label_value_relation",
        filter: Some("label_value_key = 'alias'"),
    },
    ClearDelete {
        table: "linkis_cg_manager_label_value_relation",
        filter: Some("label_value_key = 'serviceName'"),
    },
    ClearDelete {
        table: "linkis_cg_manager_label_value_relation",
        filter: Some("label_value_key = 'instance'"),
    },
    ClearDelete {
        table: "linkis_cg_manager_label",
        filter: Some("label_key = 'engineInstance' OR label_key = 'emInstance'"),
    },
    ClearDelete {
        table: "linkis_cg_manager_label_service_instance",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_linkis_resources",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_service_instance_metrics",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_lock",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_label_resource",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_service_instance",
        filter: None,
    },
    ClearDelete {
        table: "linkis_cg_manager_engine_em",
        filter: None,
    },
];

/// org.apache.linkis.engineconn.launch.EngineConnServer (linkis-engineconn-core), the same in
/// 1.1.3, 1.3.2, 1.4.0 and 1.8.0.
const ENGINE_MAIN_CLASS: &str = "org.apache.linkis.engineconn.launch.EngineConnServer";

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
    /// Engines get Eureka's address from `wds.linkis.eureka.defaultZone` in linkis.properties
    /// (1.1.x – 1.3.1: the ECM hands it on).
    pub eureka_zone_property: bool,
    /// Prefer-IP is switched on in the yml files and by `linkis.discovery.prefer-ip-address`
    /// (1.3.2+); before, by `EUREKA_PREFER_IP` in linkis-env.sh, which `sbin/ext` turns into
    /// Spring arguments.
    pub prefer_ip_yml: bool,
    /// `application-eureka.yml` sets `eureka.instance.hostname` itself (1.3.2+); before, the
    /// start script passes it.
    pub eureka_hostname_yml: bool,
    /// Eureka client tuning in the yml files (1.3.2+): lease and registry-fetch intervals, the
    /// `linkis.app.version` metadata and multipart limits.
    pub eureka_client_tuning: bool,
    /// Spring Boot 2.6+ settings in the yml files (1.6+): circular references allowed, ant path
    /// matching, no load-balancer cache, springfox off on Eureka.
    pub spring_boot_26: bool,
    /// The entrance can be drained (1.2.0+): `GET /api/rest_j/v1/entrance/operation/label/markoffline`
    /// stops routing new jobs to it, `GET .../metrics/runningtask` counts the jobs still running
    /// (EntranceLabelRestfulApi, EntranceMetricRestfulApi: `data.runningTaskNumber`, the undone
    /// jobs, and `data.isCompleted`; the same path and answer in every release from 1.2.0 to
    /// 1.8.0). 1.2.0 asks no login for either; 1.3.0+ takes the user of the session
    /// (`ModuleUserUtils.getOperationUser`): the roles log in at a gateway first. 1.1.x has
    /// neither: its entrances stop at once, their running jobs fail.
    /// The offline label lives in the instance-label tables (linkis_ps_instance_label*), but
    /// every release from 1.2.0 removes all of an instance's labels when its Spring context
    /// closes (EurekaInstanceLabelClient in 1.2.0, SpringCloudInstanceLabelClient from 1.3.0:
    /// `ContextClosedEvent`), so a clean stop (SIGTERM) ends the offline state: a restart alone
    /// brings an entrance back online (not a SIGKILL, after which the label stays).
    pub entrance_offline_api: bool,
    /// `wds.linkis.prometheus.enable` exists (1.1.3+: Configuration.IS_PROMETHEUS_ENABLE,
    /// LinkisMainHelper passes `--prometheus.endpoint`, micrometer-registry-prometheus in
    /// linkis-module, which Eureka depends on too). 1.1.1 and 1.1.2 have none of it
    /// (`PROMETHEUS_ABSENT`).
    pub prometheus: bool,
    /// An entrance marked offline can be put back online without a restart (1.5.0+):
    /// `GET /api/rest_j/v1/entrance/operation/label/backonline` (EntranceLabelRestfulApi; 1.2-1.4
    /// have markoffline only, so there a restart is what brings it back). From 1.5.0 markoffline
    /// also sets an in-memory offline flag and hands the entrance's queued jobs to the others
    /// (`updateAllNotExecutionTaskInstances`); backonline removes the labels and clears the flag,
    /// and `GET .../label/isOnline` tells it. Every supported release
    /// also has the manager's `PUT /api/rest_j/v1/linkisManager/modifyEMInfo` (EMRestfulApi:
    /// applicationName, instance, emStatus as a NodeHealthy name), which marks an ECM unhealthy
    /// so that no new engine goes there.
    pub entrance_backonline_api: bool,
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

const METADATAQUERY: ServiceInfo = ServiceInfo {
    daemon: "ps-metadataquery",
    conf_file: "linkis-ps-metadataquery.properties",
    ..METADATA
};

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
const SERVICES_1_2: &[ServiceInfo] = &[
    EUREKA,
    GATEWAY,
    PUBLICSERVICE,
    CS,
    DSM,
    METADATAQUERY,
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

use Service::{
    Cs, Datasourcemanager as Dsm, Engineconnmanager as Ecm, Engineplugin, Entrance, Eureka as Eur,
    Gateway as Gw, Linkismanager as Mgr, Metadatamanager as Meta, Publicservice as Ps,
};
use Step::{Start, Wait};

// Start and stop orders of each line's linkis-start-all.sh / linkis-stop-all.sh
// (1.1.3 assembly-combined-package/assembly-combined/sbin, 1.2.0+ linkis-dist/package/sbin).
const START_1_1: &[Step] = &[
    Start(Eur),
    Start(Gw),
    Start(Ps),
    Start(Mgr),
    Wait(15),
    Start(Cs),
    Start(Entrance),
    Start(Ecm),
    Start(Engineplugin),
    Start(Dsm),
    Start(Meta),
];
const STOP_1_1: &[Service] = &[Gw, Cs, Dsm, Meta, Ecm, Entrance, Engineplugin, Ps, Mgr, Eur];
const START_1_3_0: &[Step] = &[
    Start(Eur),
    Start(Gw),
    Start(Ps),
    Start(Mgr),
    Wait(20),
    Start(Entrance),
    Start(Ecm),
    Start(Engineplugin),
];
const STOP_1_3_0: &[Service] = &[Gw, Ecm, Entrance, Engineplugin, Ps, Mgr, Eur];
const START_1_3_1: &[Step] = &[
    Start(Eur),
    Start(Gw),
    Start(Ps),
    Wait(15),
    Start(Mgr),
    Wait(20),
    Start(Entrance),
    Start(Ecm),
];
const STOP_1_3_1: &[Service] = &[Gw, Ecm, Entrance, Ps, Mgr, Eur];

const fn tok(key: &'static str, token: &'static str) -> TokenKey {
    TokenKey { key, token }
}

// Token properties: 1.1.x – 1.3.1 read them with these defaults from code (and seed the same names
// into linkis_mg_gateway_auth_token); 1.3.2+ ship them in conf/linkis.properties.
const TOKENS_1_1: &[TokenKey] = &[
    tok("wds.linkis.bml.auth.token.value", "BML-AUTH"),
    tok("wds.linkis.context.client.auth.value", "BML-AUTH"),
    tok("wds.linkis.errorcode.auth.token", "BML-AUTH"),
    tok("wds.linkis.filesystem.token.value", "WS-AUTH"),
    tok("wds.linkis.gateway.access.token", "WS-AUTH"),
];
const TOKENS_1_2: &[TokenKey] = &[
    tok("wds.linkis.bml.auth.token.value", "BML-AUTH"),
    tok("wds.linkis.context.client.auth.value", "BML-AUTH"),
    tok("wds.linkis.errorcode.auth.token", "BML-AUTH"),
    tok("wds.linkis.filesystem.token.value", "WS-AUTH"),
    tok("wds.linkis.gateway.access.token", "WS-AUTH"),
    tok("wds.linkis.server.dsm.auth.token.value", "DSM-AUTH"),
];
const TOKENS_1_3_2: &[TokenKey] = &[
    tok(
        "linkis.configuration.linkisclient.auth.token.value",
        "BML-AUTH",
    ),
    tok("wds.linkis.client.common.tokenValue", "BML-AUTH"),
    tok("wds.linkis.bml.auth.token.value", "BML-AUTH"),
    tok("wds.linkis.context.client.auth.value", "BML-AUTH"),
    tok("wds.linkis.errorcode.auth.token", "BML-AUTH"),
    tok(
        "wds.linkis.client.test.common.tokenValue",
        "LINKIS_CLI_TEST",
    ),
    tok("wds.linkis.filesystem.token.value", "WS-AUTH"),
    tok("wds.linkis.gateway.access.token", "WS-AUTH"),
    tok("wds.linkis.server.dsm.auth.token.value", "DSM-AUTH"),
];
const fn one_token(token: &'static str) -> [TokenKey; 9] {
    [
        tok("linkis.configuration.linkisclient.auth.token.value", token),
        tok("wds.linkis.client.common.tokenValue", token),
        tok("wds.linkis.bml.auth.token.value", token),
        tok("wds.linkis.context.client.auth.value", token),
        tok("wds.linkis.errorcode.auth.token", token),
        tok("wds.linkis.client.test.common.tokenValue", token),
        tok("wds.linkis.filesystem.token.value", token),
        tok("wds.linkis.gateway.access.token", token),
        tok("wds.linkis.server.dsm.auth.token.value", token),
    ]
}
const TOKENS_1_7: &[TokenKey] = &one_token("LINKIS-AUTH");
const TOKENS_1_8: &[TokenKey] = &one_token("LINKIS-UNAVAILABLE-TOKEN");

const PUBLIC_MODULE: &str = "lib/linkis-commons/public-module";

const CONF_1_1: ConfFacts = ConfFacts {
    start: START_1_1,
    stop: STOP_1_1,
    tokens: TOKENS_1_1,
    public_module: PUBLIC_MODULE,
    default_heap: "512M",
    clear_server_deletes: &[],
    engine_main_class: ENGINE_MAIN_CLASS,
};
const CONF_1_2: ConfFacts = ConfFacts {
    tokens: TOKENS_1_2,
    ..CONF_1_1
};
const CONF_1_3_0: ConfFacts = ConfFacts {
    start: START_1_3_0,
    stop: STOP_1_3_0,
    ..CONF_1_2
};
const CONF_1_3_1: ConfFacts = ConfFacts {
    start: START_1_3_1,
    stop: STOP_1_3_1,
    ..CONF_1_2
};
const CONF_1_3_2: ConfFacts = ConfFacts {
    tokens: TOKENS_1_3_2,
    clear_server_deletes: CLEAR_SERVER_1_3_2,
    ..CONF_1_3_1
};
const CONF_1_7: ConfFacts = ConfFacts {
    tokens: TOKENS_1_7,
    ..CONF_1_3_2
};
const CONF_1_8: ConfFacts = ConfFacts {
    tokens: TOKENS_1_8,
    ..CONF_1_3_2
};

const F_1_1: Features = Features {
    nacos: false,
    postgresql: false,
    redis_sessions: false,
    foreground: false,
    per_service_heap: false,
    engineconn_yml: false,
    clear_server: false,
    discovery_server_address: false,
    eureka_zone_property: true,
    prefer_ip_yml: false,
    eureka_hostname_yml: false,
    eureka_client_tuning: false,
    spring_boot_26: false,
    entrance_offline_api: false,
    prometheus: true,
    entrance_backonline_api: false,
};
const F_1_2: Features = Features {
    entrance_offline_api: true,
    ..F_1_1
};
const F_1_3_0: Features = Features {
    redis_sessions: true,
    foreground: true,
    ..F_1_2
};
const F_1_3_2: Features = Features {
    per_service_heap: true,
    engineconn_yml: true,
    clear_server: true,
    discovery_server_address: true,
    eureka_zone_property: false,
    prefer_ip_yml: true,
    eureka_hostname_yml: true,
    eureka_client_tuning: true,
    ..F_1_3_0
};
const F_1_5: Features = Features {
    nacos: true,
    entrance_backonline_api: true,
    ..F_1_3_2
};
const F_1_6: Features = Features {
    spring_boot_26: true,
    ..F_1_5
};
const F_1_8: Features = Features {
    postgresql: true,
    ..F_1_6
};

/// Every supported line, oldest first. The releases are the tags of apache/linkis from 1.1.1 on
/// (1.1.0 is left out: it still ships conf/token.properties and was not checked).
pub static LINES: &[Line] = &[
    Line {
        id: "1.1",
        releases: &["1.1.1", "1.1.2", "1.1.3"],
        services: SERVICES_1_1,
        features: F_1_1,
        conf: &CONF_1_1,
    },
    Line {
        id: "1.2",
        releases: &["1.2.0"],
        services: SERVICES_1_2,
        features: F_1_2,
        conf: &CONF_1_2,
    },
    Line {
        id: "1.3.0",
        releases: &["1.3.0"],
        services: SERVICES_1_3_0,
        features: F_1_3_0,
        conf: &CONF_1_3_0,
    },
    Line {
        id: "1.3.1",
        releases: &["1.3.1"],
        services: SERVICES_1_3_1,
        features: F_1_3_0,
        conf: &CONF_1_3_1,
    },
    Line {
        id: "1.3.2",
        releases: &["1.3.2", "1.4.0"],
        services: SERVICES_1_3_2,
        features: F_1_3_2,
        conf: &CONF_1_3_2,
    },
    Line {
        id: "1.5",
        releases: &["1.5.0"],
        services: SERVICES_1_3_2,
        features: F_1_5,
        conf: &CONF_1_3_2,
    },
    Line {
        id: "1.6",
        releases: &["1.6.0"],
        services: SERVICES_1_3_2,
        features: F_1_6,
        conf: &CONF_1_3_2,
    },
    Line {
        id: "1.7",
        releases: &["1.7.0"],
        services: SERVICES_1_3_2,
        features: F_1_6,
        conf: &CONF_1_7,
    },
    Line {
        id: "1.8",
        releases: &["1.8.0"],
        services: SERVICES_1_3_2,
        features: F_1_8,
        conf: &CONF_1_8,
    },
];

/// The release `init` and the documentation default to.
pub const DEFAULT_RELEASE: &str = "1.3.2";

/// What Linkis needs to reach its metadata database, per database type.
#[derive(Debug, Clone, Copy)]
pub struct DbFacts {
    /// The JDBC scheme and the dialect name: `mysql`, `postgresql`.
    pub kind: &'static str,
    /// The JDBC URL's query string.
    pub url_params: &'static str,
    /// Keys `linkis.properties` needs besides URL, user and password.
    pub driver_keys: &'static [(&'static str, &'static str)],
}

const DB_MYSQL: DbFacts = DbFacts {
    kind: "mysql",
    url_params: "characterEncoding=UTF-8",
    driver_keys: &[],
};

const DB_POSTGRESQL: DbFacts = DbFacts {
    kind: "postgresql",
    url_params: "stringtype=unspecified",
    driver_keys: &[
        (
            "wds.linkis.server.mybatis.datasource.driver-class-name",
            "org.postgresql.Driver",
        ),
        (
            "wds.linkis.server.mybatis.mapperLocations",
            "classpath*:mapper/common/*.xml,classpath*:mapper/postgresql/*.xml",
        ),
        ("linkis.server.mybatis.pagehelper.dialect", "postgresql"),
    ],
};

/// The facts of a database type.
pub fn db_facts(kind: DbType) -> DbFacts {
    match kind {
        DbType::Mysql => DB_MYSQL,
        DbType::Postgresql => DB_POSTGRESQL,
    }
}

/// The cross-host start stages, in order: each waits for the previous one on every host.
/// Eureka; then the gateway and the public services; then the manager (and the engine plugin
/// server where the line has one); then the entrance; then the EngineConnManagers.
pub const START_STAGES: [&str; 5] = [
    "discovery (Eureka)",
    "gateway and public services",
    "resource manager",
    "entrance",
    "EngineConnManagers",
];

/// A service's index in `START_STAGES`.
pub fn start_stage(s: Service) -> usize {
    match s {
        Service::Eureka => 0,
        Service::Gateway
        | Service::Publicservice
        | Service::Cs
        | Service::Datasourcemanager
        | Service::Metadatamanager => 1,
        Service::Linkismanager | Service::Engineplugin => 2,
        Service::Entrance => 3,
        Service::Engineconnmanager => 4,
    }
}

/// How the apply side knows a started service is up.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HealthCheck {
    /// An HTTP endpoint worth waiting for (Eureka, the gateway).
    Http,
    /// Only its registration in discovery, checked by the verify phase.
    Registration,
}

pub fn health_check(s: Service) -> HealthCheck {
    match s {
        Service::Eureka | Service::Gateway => HealthCheck::Http,
        _ => HealthCheck::Registration,
    }
}

/// Release features a spec can ask for, for "it came in X" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Nacos,
    Postgresql,
    RedisSessions,
    Prometheus,
}

impl Feature {
    fn on(self, f: &Features) -> bool {
        match self {
            Feature::Nacos => f.nacos,
            Feature::Postgresql => f.postgresql,
            Feature::RedisSessions => f.redis_sessions,
            Feature::Prometheus => f.prometheus,
        }
    }

    /// The first supported release that has the feature.
    pub fn first_release(self) -> &'static str {
        Release::all()
            .find(|r| self.on(&r.features()))
            .map_or("?", |r| r.version)
    }

    /// The releases that have it, for hints: `1.5.0 or later`, or `1.8.0` when that is the newest.
    pub fn releases_text(self) -> String {
        let first = self.first_release();
        if Release::all().last().is_some_and(|r| r.version == first) {
            first.to_string()
        } else {
            format!("{first} or later")
        }
    }
}

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
        let mut f = self.line.features;
        if PROMETHEUS_ABSENT.contains(&self.version) {
            f.prometheus = false;
        }
        f
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

/// The settings each release ships in its `conf/*.properties` files (keys and default values, as
/// facts), regenerated from the apache/linkis tags by `tools/stock-defaults.sh`.
static STOCK: &[(&str, &str)] = &[
    ("1.1.1", include_str!("catalog/stock/1.1.1.properties")),
    ("1.1.2", include_str!("catalog/stock/1.1.2.properties")),
    ("1.1.3", include_str!("catalog/stock/1.1.3.properties")),
    ("1.2.0", include_str!("catalog/stock/1.2.0.properties")),
    ("1.3.0", include_str!("catalog/stock/1.3.0.properties")),
    ("1.3.1", include_str!("catalog/stock/1.3.1.properties")),
    ("1.3.2", include_str!("catalog/stock/1.3.2.properties")),
    ("1.4.0", include_str!("catalog/stock/1.4.0.properties")),
    ("1.5.0", include_str!("catalog/stock/1.5.0.properties")),
    ("1.6.0", include_str!("catalog/stock/1.6.0.properties")),
    ("1.7.0", include_str!("catalog/stock/1.7.0.properties")),
    ("1.8.0", include_str!("catalog/stock/1.8.0.properties")),
];

/// Keys that are not in a release's stock conf files but that its source reads, with where:
/// `release key path`, regenerated by `tools/verify-keys.sh`.
static SOURCE_KEYS: &str = include_str!("catalog/keys.txt");

impl Release {
    /// The shipped `key=value` settings of one of the release's properties files, in file order
    /// (a key repeated in the file keeps its last value at its first place).
    pub fn stock(&self, file: &str) -> Vec<(&'static str, &'static str)> {
        let text = STOCK
            .iter()
            .find(|(r, _)| *r == self.version)
            .map_or("", |(_, t)| *t);
        let mut out: Vec<(&str, &str)> = Vec::new();
        let mut in_file = false;
        for line in text.lines() {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_file = name == file;
            } else if in_file && !line.starts_with('#') {
                let (k, v) = line.split_once('=').unwrap_or((line, ""));
                match out.iter_mut().find(|(ok, _)| *ok == k) {
                    Some(e) => e.1 = v,
                    None => out.push((k, v)),
                }
            }
        }
        out
    }

    /// The properties files the release ships (the sections of its stock data), sorted.
    pub fn stock_files(&self) -> Vec<&'static str> {
        let text = STOCK
            .iter()
            .find(|(r, _)| *r == self.version)
            .map_or("", |(_, t)| *t);
        let mut files: Vec<&'static str> = text
            .lines()
            .filter_map(|l| l.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
            .collect();
        files.sort_unstable();
        files.dedup();
        files
    }

    /// Whether this release really reads a properties key: it ships it in one of its conf files,
    /// or its source reads it (`catalog/keys.txt`).
    pub fn reads_key(&self, key: &str) -> bool {
        let stock = STOCK
            .iter()
            .find(|(r, _)| *r == self.version)
            .map_or("", |(_, t)| *t);
        stock
            .lines()
            .any(|l| l.split_once('=').is_some_and(|(k, _)| k == key))
            || SOURCE_KEYS.lines().any(|l| {
                let mut f = l.split_whitespace();
                f.next() == Some(self.version) && f.next() == Some(key)
            })
    }
}

/// The SQL files of one database type in a release's `db/` directory.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SqlFiles {
    /// The schema (`CREATE TABLE ...`).
    pub ddl: &'static str,
    /// The seed rows, with the placeholders the bootstrap fills in.
    pub dml: &'static str,
}

/// What a release's own `db/` files need to bootstrap a database, as Linkis' `bin/install.sh`
/// does it: which files, which placeholders, which token rows, which engine labels.
/// Checked against the apache/linkis tags (`linkis-dist/package/db/`, 1.1.x: `db/`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct DbSeedFacts {
    /// The directory of LINKIS_HOME that holds the SQL files (`linkis-package/db/` in the
    /// tarball, in every release: install.sh reads them from `$LINKIS_HOME/db`).
    pub dir: &'static str,
    pub mysql: SqlFiles,
    /// The PostgreSQL variants (shipped from 1.4.0; linkis-gen allows PostgreSQL from 1.8).
    pub postgresql: Option<SqlFiles>,
    /// Every Linkis table name starts with this: a database with one of them is never touched.
    pub table_prefix: &'static str,
    /// The gateway's token table; its rows named after the shipped tokens get the vault values.
    pub token_table: &'static str,
    /// The table whose YARN row carries the `@YARN_...` placeholders.
    pub yarn_table: &'static str,
    /// The JSON fields of the YARN row's `config` written `"field": value` (a blank after the
    /// colon; the others `"field":value`): 1.1.x–1.3.0 write their first two so.
    pub yarn_json_spaced: &'static [&'static str],
}

/// Where the YARN row's placeholders sit in its `config` JSON: placeholder, JSON field, and
/// whether the value is a JSON string (else a bare `true`/`false`). The same in every release
/// (1.1.3 `db/linkis_dml.sql`, 1.3.2–1.8.0 `linkis-dist/package/db/linkis_dml{,_pg}.sql`).
pub const YARN_JSON_FIELDS: &[(&str, &str, bool)] = &[
    ("@YARN_RESTFUL_URL", "rmWebAddress", true),
    ("@HADOOP_VERSION", "hadoopVersion", true),
    ("@YARN_AUTH_ENABLE", "authorEnable", false),
    ("@YARN_AUTH_USER", "user", true),
    ("@YARN_AUTH_PWD", "pwd", true),
    ("@YARN_KERBEROS_ENABLE", "kerberosEnable", false),
    ("@YARN_PRINCIPAL_NAME", "principalName", true),
    ("@YARN_KEYTAB_PATH", "keytabPath", true),
    ("@YARN_KRB5_PATH", "krb5Path", true),
];

/// The seeded YARN row of the provider table (the DML's only row: `id` 1).
pub const YARN_ROW_KEY: &str = "resource_type = 'Yarn' AND name = 'default'";
/// The table of the engine labels the DML seeds (`<creator>,<engine>-<version>`), and the
/// label key of those rows; the other tables refer to them by id.
pub const LABEL_TABLE: &str = "linkis_cg_manager_label";
pub const LABEL_ROW_KEY: &str = "label_key = 'combined_userCreator_engineType'";
/// The creators the DML seeds engine labels for (`@SPARK_ALL`, `@SPARK_IDE`, `@SPARK_NODE`,
/// `@SPARK_VISUALIS`, ...): every engine has `*-*` and `*-IDE`; a row the release does not seed
/// is simply not there (its UPDATE matches nothing).
pub const LABEL_CREATORS: &[&str] = &["*-*", "*-IDE", "*-nodeexecution", "*-Visualis"];

/// The YARN placeholders of the DML, in install.sh's order (1.1.x – 1.3.0 have no
/// `@HADOOP_VERSION`: their DML hard-codes 2.7.2).
const YARN_PLACEHOLDERS: &[&str] = &[
    "@YARN_RESTFUL_URL",
    "@HADOOP_VERSION",
    "@YARN_AUTH_ENABLE",
    "@YARN_AUTH_USER",
    "@YARN_AUTH_PWD",
    "@YARN_KERBEROS_ENABLE",
    "@YARN_PRINCIPAL_NAME",
    "@YARN_KEYTAB_PATH",
    "@YARN_KRB5_PATH",
];
const MYSQL_FILES: SqlFiles = SqlFiles {
    ddl: "linkis_ddl.sql",
    dml: "linkis_dml.sql",
};
const SEED_1_1: DbSeedFacts = DbSeedFacts {
    dir: "db",
    mysql: MYSQL_FILES,
    postgresql: None,
    table_prefix: "linkis_",
    token_table: "linkis_mg_gateway_auth_token",
    yarn_table: "linkis_cg_rm_external_resource_provider",
    yarn_json_spaced: &["rmWebAddress", "hadoopVersion"],
};
const SEED_1_3: DbSeedFacts = DbSeedFacts {
    yarn_json_spaced: &[],
    ..SEED_1_1
};
const SEED_1_4: DbSeedFacts = DbSeedFacts {
    postgresql: Some(SqlFiles {
        ddl: "linkis_ddl_pg.sql",
        dml: "linkis_dml_pg.sql",
    }),
    ..SEED_1_3
};

impl Release {
    /// The release's `db/` facts (per release: 1.4.0 shares the 1.3.2 line but not its seed).
    pub fn db_seed(&self) -> &'static DbSeedFacts {
        match self.version {
            "1.1.1" | "1.1.2" | "1.1.3" | "1.2.0" | "1.3.0" => &SEED_1_1,
            // 1.3.1 writes the YARN row's JSON without blanks.
            "1.3.1" | "1.3.2" => &SEED_1_3,
            _ => &SEED_1_4,
        }
    }

    /// The `@YARN_...`/`@HADOOP_VERSION` placeholders of the release's DML, in install.sh's order:
    /// `@HADOOP_VERSION` where its installer has a `HADOOP_VERSION` (`platform().hadoop_version`).
    pub fn db_yarn_placeholders(&self) -> impl Iterator<Item = &'static str> + use<> {
        let hadoop = self.platform().hadoop_version.is_some();
        YARN_PLACEHOLDERS
            .iter()
            .copied()
            .filter(move |p| hadoop || *p != "@HADOOP_VERSION")
    }

    /// The gateway token rows the bootstrap renames to the vault values: every token the
    /// release's conf files carry (its DML seeds a row of each), once, in catalog order.
    pub fn db_tokens(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for t in self.line.conf.tokens {
            if !out.contains(&t.token) {
                out.push(t.token);
            }
        }
        out
    }
}

/// The database upgrade scripts each release's tarball ships (`LINKIS_HOME/db/upgrade/...`), as
/// facts: `release schema-version dbtype file...`, regenerated by `tools/upgrade-schemas.sh`.
static UPGRADE_SCHEMAS: &str = include_str!("catalog/upgrade-schemas.txt");

/// One `db/upgrade/<version>_schema/<dbtype>/` directory of a release's tarball.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaDir {
    /// The schema version the scripts bring the database to: `1.3.1`.
    pub version: &'static str,
    /// `mysql` (every release so far ships only MySQL scripts).
    pub db: &'static str,
    /// The scripts, in the order they run: `linkis_ddl.sql` before `linkis_dml.sql`.
    pub files: Vec<&'static str>,
}

impl SchemaDir {
    /// The scripts' paths under LINKIS_HOME.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| format!("db/upgrade/{}_schema/{}/{f}", self.version, self.db))
            .collect()
    }
}

/// A service a release line no longer has, and the service whose process took its work over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fold {
    pub service: Service,
    pub into: Service,
    /// The first release without the service.
    pub since: &'static str,
}

/// Services that were merged into another (1.3.0: the context service and the data source and
/// metadata services into publicservice; 1.3.1: the engine plugin server into the manager).
pub static FOLDS: &[Fold] = &[
    Fold {
        service: Service::Cs,
        into: Service::Publicservice,
        since: "1.3.0",
    },
    Fold {
        service: Service::Datasourcemanager,
        into: Service::Publicservice,
        since: "1.3.0",
    },
    Fold {
        service: Service::Metadatamanager,
        into: Service::Publicservice,
        since: "1.3.0",
    },
    Fold {
        service: Service::Engineplugin,
        into: Service::Linkismanager,
        since: "1.3.1",
    },
];

/// A release version as numbers, for ordering: `1.10.0` after `1.9.0`. Non-numeric parts count 0.
pub fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

impl Release {
    /// The upgrade script directories the release's tarball ships, oldest schema version first.
    pub fn upgrade_schemas(&self) -> Vec<SchemaDir> {
        let mut out: Vec<SchemaDir> = UPGRADE_SCHEMAS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                if f.next() != Some(self.version) {
                    return None;
                }
                let version = f.next()?;
                let db = f.next()?;
                Some(SchemaDir {
                    version,
                    db,
                    files: f.collect(),
                })
            })
            .collect();
        out.sort_by_key(|d| version_key(d.version));
        out
    }
}

/// What a release's own installer (`bin/install.sh` with `deploy-config/linkis-env.sh`) assumes
/// about the platform around Linkis, checked against the apache/linkis tags.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct PlatformFacts {
    /// The engine versions of the release's own engine plugins and DML labels
    /// (`spark-2.4.3`, `hive-2.3.3`, `python-python2`; 1.4.0+: spark 3.2.1, hive 3.1.3).
    pub engine_versions: &'static [(&'static str, &'static str)],
    /// `HADOOP_VERSION` of linkis-env.sh (seeded into the YARN resource provider); None when the
    /// release's linkis-env.sh has none.
    pub hadoop_version: Option<&'static str>,
    /// The key the ECM reads the engines' port range from; None when the release has none.
    pub engine_port_range_key: Option<&'static str>,
}

const ENGINES_OLD: &[(&str, &str)] =
    &[("hive", "2.3.3"), ("python", "python2"), ("spark", "2.4.3")];
const ENGINES_NEW: &[(&str, &str)] =
    &[("hive", "3.1.3"), ("python", "python2"), ("spark", "3.2.1")];

impl Release {
    /// The installer's platform defaults of this release.
    pub fn platform(&self) -> PlatformFacts {
        let v = self.version;
        let new_engines = !matches!(
            v,
            "1.1.1" | "1.1.2" | "1.1.3" | "1.2.0" | "1.3.0" | "1.3.1" | "1.3.2"
        );
        PlatformFacts {
            engine_versions: if new_engines {
                ENGINES_NEW
            } else {
                ENGINES_OLD
            },
            hadoop_version: match v {
                "1.1.1" | "1.1.2" | "1.1.3" | "1.2.0" | "1.3.0" => None,
                // 1.3.1's linkis-env.sh has HADOOP_VERSION=2.7.2 and its install.sh seeds it.
                "1.3.1" | "1.3.2" => Some("2.7.2"),
                _ => Some("3.3.4"),
            },
            engine_port_range_key: match v {
                "1.1.1" | "1.1.2" => None,
                "1.4.0" | "1.5.0" | "1.6.0" => Some("linkis.engineconn.port.range"),
                _ => Some("wds.linkis.engineconn.port.range"),
            },
        }
    }

    /// The release's default version of an engine type, if it names one.
    pub fn engine_version(&self, engine: &str) -> Option<&'static str> {
        self.platform()
            .engine_versions
            .iter()
            .find(|(e, _)| *e == engine)
            .map(|(_, v)| *v)
    }

    /// Whether the release ships `conf/linkis-cli/linkis-cli.properties` (1.2.0+).
    pub fn has_cli_conf(&self) -> bool {
        !self.stock(CLI_CONF).is_empty()
    }

    /// The token the release ships in linkis-cli.properties (`BML-AUTH`, `LINKIS-AUTH`, ...).
    pub fn cli_token(&self) -> Option<&'static str> {
        self.stock(CLI_CONF)
            .into_iter()
            .find(|(k, _)| *k == CLI_TOKEN_KEY)
            .map(|(_, v)| v)
    }
}

/// linkis-cli's own conf file, under `conf/`.
pub const CLI_CONF: &str = "linkis-cli/linkis-cli.properties";
/// The gateway URL key of linkis-cli.properties.
pub const CLI_GATEWAY_KEY: &str = "wds.linkis.client.common.gatewayUrl";
/// The token key of linkis-cli.properties.
pub const CLI_TOKEN_KEY: &str = "wds.linkis.client.common.tokenValue";

/// The supported releases as one comma-separated string, for messages.
pub fn supported_list() -> String {
    Release::all()
        .map(|r| r.version)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an installed release names itself: every release's package puts linkis-rpc, a direct
/// dependency of its public module, into `lib/linkis-commons/public-module/` under its Maven name
/// `linkis-rpc-<version>.jar` (1.1.3: assembly-combined-package's public-module-combined;
/// 1.2.0-1.8.0: linkis-dist's distribution.xml dependencySet, linkis-dist/pom.xml). adopt.yml
/// reads the release a hand-installed host runs from it: (directory under LINKIS_HOME, prefix,
/// suffix).
pub const RELEASE_JAR: (&str, &str, &str) =
    ("lib/linkis-commons/public-module", "linkis-rpc-", ".jar");

/// Releases of a line that lack the line's `prometheus` feature: the Prometheus support
/// (`wds.linkis.prometheus.enable`, PROMETHEUS_ENABLE in install.sh) came in 1.1.3.
pub static PROMETHEUS_ABSENT: &[&str] = &["1.1.1", "1.1.2"];

/// The actuator endpoints every service exposes (`management.endpoints.web.exposure.include`),
/// before `prometheus` when monitoring asks for it. Linkis ships `refresh,info,health,metrics`;
/// its sources (1.1.3, 1.3.2, 1.8.0, linkis-web included) call none of `/actuator/refresh`,
/// `/actuator/info` or `/actuator/metrics`: the only actuator paths they name are
/// `/actuator/prometheus` (the `prometheus.path` metadata and the pass-auth lists) and
/// `/actuator/health` (the Helm chart's probes, and linkis-gen's own checks).
/// DataWorkCloudApplication listens to RefreshScopeRefreshedEvent, which only an operator's POST to
/// `/actuator/refresh` would raise; linkis-gen applies conf changes by restarting (changes.yml),
/// so nothing here needs it. Exposed and unused, `refresh` on the gateway and Eureka (which are
/// outside Linkis' login filter) would let anyone on the network reload a service's settings.
pub const ACTUATOR_EXPOSED: &[&str] = &["health"];

/// What Linkis' own installer sets the exposure to with PROMETHEUS_ENABLE=true (every release
/// from 1.1.3; application-linkis.yml, application-eureka.yml, and application-engineconn.yml
/// where the release has it). linkis-gen narrows it to `ACTUATOR_EXPOSED` + `prometheus`.
pub const INSTALLER_PROMETHEUS_EXPOSURE: &str = "refresh,info,health,metrics,prometheus";

// linkis-et-monitor is not in this catalog on purpose (issue 22: "an optional service if its facts
// are clear"). 1.5.0, 1.6.0, 1.7.0 and 1.8.0 ship it (lib/linkis-extensions/linkis-et-monitor;
// sbin/ext/linkis-et-monitor: LinksMonitorApplication, MONITOR_HEAP_SIZE; port 9119 in
// conf/linkis-et-monitor.properties; not started by linkis-start-all.sh). Its cleaners run
// admin/clear_*.sh, which source conf/db.sh and pass `-p$MYSQL_PASSWORD` on mysql's command line,
// and delete 90 days of job history with no setting; its alerts go to an IMS endpoint
// (linkis.alert.url), not to Prometheus. Sources read, at each of those tags:
// linkis-dist/package/sbin/ext/linkis-et-monitor, linkis-dist/package/conf/linkis-et-monitor.properties,
// linkis-dist/package/conf/linkis-et-monitor-file.properties, linkis-dist/package/admin/clear_history_task.sh,
// linkis-dist/src/main/assembly/distribution.xml, linkis-extensions/linkis-et-monitor/src/main/java/
// org/apache/linkis/monitor/{LinksMonitorApplication,config/MonitorConfig,scheduled/*}.java.
// Why it is not offered: docs/conf.md, "Monitoring".

/// The key that turns metrics on (linkis.properties; shipped commented out).
pub const PROMETHEUS_ENABLE_KEY: &str = "wds.linkis.prometheus.enable";

/// `wds.linkis.prometheus.endpoint`'s default (Configuration.PROMETHEUS_ENDPOINT, all releases).
pub const PROMETHEUS_ENDPOINT: &str = "/actuator/prometheus";

/// `wds.linkis.server.restful.uri`'s default: Spring MVC's servlet path of every service but the
/// gateway (LinkisMainHelper passes `--spring.mvc.servlet.path`), and the path that Linkis'
/// SecurityFilter guards.
pub const RESTFUL_SERVLET_PATH: &str = "/api/rest_j/v1";

/// The key of the paths Linkis' SecurityFilter lets through without a login (a prefix match on
/// the request URI, servlet path included).
pub const PASS_AUTH_KEY: &str = "wds.linkis.server.user.restful.uri.pass.auth";

/// Where a service serves its metrics: LinkisMainHelper prefixes the servlet path for every
/// service but the gateway (`wds.linkis.gateway` unset); the gateway (WebFlux, no servlet path)
/// and Eureka (`prometheus.path` metadata in application-eureka.yml) serve the bare endpoint.
/// The same in 1.1.3, 1.3.2 and 1.8.0.
pub fn metrics_path(s: Service) -> String {
    match s {
        Service::Gateway | Service::Eureka => PROMETHEUS_ENDPOINT.to_string(),
        _ => format!("{RESTFUL_SERVLET_PATH}{PROMETHEUS_ENDPOINT}"),
    }
}
/// Properties keys whose value is a local path (or a `file://` URL) on the hosts: an override of
/// one follows the path rules of spec-v1 ("Paths": absolute, no `..`, never `/` or a system
/// directory), as the spec's own path fields do. `hdfs://` values are not local paths.
pub const PATH_KEYS: &[&str] = &[
    "wds.linkis.engineconn.root.dir",
    "wds.linkis.filesystem.root.path",
    "wds.linkis.filesystem.hdfs.root.path",
    "wds.linkis.resultSet.store.path",
    "wds.linkis.bml.hdfs.prefix",
    "wds.linkis.bml.local.prefix",
    "wds.linkis.home",
    "wds.linkis.engineconn.home",
    "wds.linkis.engineconn.plugin.loader.store.path",
    "wds.linkis.engineconn.public.dir",
    "linkis.engineconn.plugin.loader.store.path",
];

/// The releases whose conf/log4j2.xml puts the job id (MDC `jobId`) in every line (1.4.0+).
pub static LOG_JOB_ID: &[&str] = &["1.4.0", "1.5.0", "1.6.0", "1.7.0", "1.8.0"];

/// Facts of every release's conf/log4j2.xml (1.1.x: assembly-combined-package/assembly-combined/
/// conf/; 1.2.0+: linkis-dist/package/conf/), which linkis-gen's own template follows: one
/// RollingFile appender `RollingFile` writing `$LINKIS_LOG_DIR/<serviceName>.log` (the JVM's
/// `-DserviceName`, `linkis-<daemon>`), rolled into `<yyyy-MM>/<serviceName>/linkis-log-<date>-<i>.log`
/// under the log dir at 100MB (1.1.1 and 1.1.2 also every hour), `max=10` per period and no
/// Delete action; root logger INFO; `com.netflix.loadbalancer.DynamicServerListLoadBalancer` at
/// WARN; `status="error"`, `monitorInterval="30"`.
pub struct LogFacts {
    /// The PatternLayout of the release.
    pub pattern: &'static str,
    /// The size at which the release rolls the active file.
    pub roll_size_mib: u64,
    /// Rolled files kept per period (`DefaultRolloverStrategy max`).
    pub max_per_period: u32,
}

const LOG_PATTERN: &str =
    "%d{yyyy-MM-dd HH:mm:ss.SSS} [%-5level] [%-40t] %c{1.} (%L) [%M] - %msg%xEx%n";
const LOG_PATTERN_JOB_ID: &str = "%d{yyyy-MM-dd HH:mm:ss.SSS} [%-5level] [%-40t] %c{1.} (%L) [%M] [JobId-%X{jobId}] - %msg%xEx%n";

/// The JVM options Linkis' start scripts use when `SERVER_JAVA_OPTS` is not set (sbin/ext/
/// linkis-common-start and each sbin/ext/linkis-<service>, the same in 1.1.1 – 1.8.0), in order,
/// with `{heap}` and `{gc}` for the heap and the GC log options: `SERVER_JAVA_OPTS`, when set,
/// replaces all of them, so linkis-gen writes them all, then `services.<svc>.java_opts`.
/// (`$JAVA_AGENT_OPTS` and `$DEBUG_CMD`, from SKYWALKING_AGENT_PATH and DEBUG_PORT, are set by
/// the start script after it reads linkis-env.sh, so they cannot be part of it.)
pub const LINKIS_JAVA_OPTS: &[&str] = &[
    "-DserviceName=$SERVER_NAME",
    "-Xmx{heap}",
    "-XX:+UseG1GC",
    "{gc}",
];

/// The Java every release is built for: `java.version` 1.8 in the root pom (1.3.2+ also have a
/// `jdk11` profile). Its GC log option is `-Xloggc:FILE`, which has no size bound by itself; the
/// rotation flags differ between JDK 8 (`-XX:+UseGCLogFileRotation`, which JDK 9+ refuse) and
/// JDK 9+ (`-Xlog:gc:file=...:filecount=N,filesize=S`, which JDK 8 refuses), so linkis-env.sh picks
/// the form by the major version of the `java` that the start script runs.
pub const JAVA_TARGET: u32 = 8;

impl Release {
    pub fn log_facts(&self) -> LogFacts {
        LogFacts {
            pattern: if LOG_JOB_ID.contains(&self.version) {
                LOG_PATTERN_JOB_ID
            } else {
                LOG_PATTERN
            },
            roll_size_mib: 100,
            max_per_period: 10,
        }
    }
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
        assert!(Release::find("1.1.0").is_none());
        let mq = r("1.2.0").service(Service::Metadatamanager).unwrap();
        assert_eq!(mq.daemon, "ps-metadataquery");
    }

    #[test]
    fn every_release_ships_the_properties_files_the_catalog_names() {
        for r in Release::all() {
            assert!(
                r.stock("linkis.properties").len() > 5,
                "{}: no stock linkis.properties",
                r.version
            );
            for s in r.line.services {
                if s.conf_file.ends_with(".properties") {
                    let stock = r.stock(s.conf_file);
                    let port = stock.iter().find(|(k, _)| *k == "spring.server.port");
                    assert_eq!(
                        port.map(|(_, v)| *v),
                        Some(s.default_port.to_string().as_str()),
                        "{} {}",
                        r.version,
                        s.conf_file
                    );
                }
            }
        }
    }

    #[test]
    fn start_and_stop_orders_name_every_service_of_the_line_once() {
        for line in LINES {
            let mut started: Vec<Service> = line
                .conf
                .start
                .iter()
                .filter_map(|s| match s {
                    Step::Start(s) => Some(*s),
                    Step::Wait(_) => None,
                })
                .collect();
            let mut stopped = line.conf.stop.to_vec();
            let mut all: Vec<Service> = line.services.iter().map(|s| s.service).collect();
            started.sort();
            stopped.sort();
            all.sort();
            assert_eq!(started, all, "start order of {}", line.id);
            assert_eq!(stopped, all, "stop order of {}", line.id);
        }
    }

    #[test]
    fn db_facts_follow_the_release_db_files() {
        let r = |v| Release::find(v).unwrap();
        // 1.1.3 – 1.3.0 hard-code hadoopVersion 2.7.2; 1.3.1 has @HADOOP_VERSION (linkis-env.sh:
        // HADOOP_VERSION=2.7.2); 1.4.0 ships the PostgreSQL files while sharing 1.3.2's line.
        let has = |v, p| r(v).db_yarn_placeholders().any(|x| x == p);
        assert!(!has("1.3.0", "@HADOOP_VERSION"));
        assert!(has("1.3.1", "@HADOOP_VERSION"));
        assert_eq!(r("1.1.3").db_yarn_placeholders().count(), 8);
        assert_eq!(r("1.3.2").db_seed().postgresql, None);
        assert!(r("1.4.0").db_seed().postgresql.is_some());
        // The YARN row's JSON: blanks after two colons up to 1.3.0, none from 1.3.1 on.
        assert_eq!(r("1.3.0").db_seed().yarn_json_spaced.len(), 2);
        for v in ["1.3.1", "1.3.2", "1.4.0", "1.8.0"] {
            assert!(r(v).db_seed().yarn_json_spaced.is_empty(), "{v}");
        }
        assert_eq!(
            r("1.8.0").db_seed().postgresql.map(|f| f.dml),
            Some("linkis_dml_pg.sql")
        );
        assert_eq!(
            r("1.3.2").db_tokens(),
            ["BML-AUTH", "LINKIS_CLI_TEST", "WS-AUTH", "DSM-AUTH"]
        );
        assert_eq!(r("1.1.3").db_tokens(), ["BML-AUTH", "WS-AUTH"]);
        assert_eq!(r("1.8.0").db_tokens(), ["LINKIS-UNAVAILABLE-TOKEN"]);
    }

    #[test]
    fn every_release_ships_its_upgrade_scripts_as_the_tags_say() {
        let r = |v| Release::find(v).unwrap();
        let dirs = |v| {
            r(v).upgrade_schemas()
                .iter()
                .map(|d| format!("{}:{}", d.version, d.files.join("+")))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            dirs("1.3.2"),
            [
                "1.1.0:linkis_ddl.sql+linkis_dml.sql",
                "1.1.1:linkis_ddl.sql+linkis_dml.sql",
                "1.1.3:linkis_ddl.sql",
                "1.2.0:linkis_ddl.sql+linkis_dml.sql",
                "1.2.1:linkis_dml.sql",
                "1.3.0:linkis_dml.sql",
                "1.3.1:linkis_ddl.sql+linkis_dml.sql",
                "1.3.2:linkis_ddl.sql+linkis_dml.sql",
            ]
        );
        // release-1.8.0's tree stops at 1.7.0.
        assert_eq!(
            dirs("1.8.0").last().unwrap(),
            "1.7.0:linkis_ddl.sql+linkis_dml.sql"
        );
        assert_eq!(dirs("1.8.0")[..], dirs("1.7.0")[..]);
        for rel in Release::all() {
            let d = rel.upgrade_schemas();
            assert!(!d.is_empty(), "{}", rel.version);
            assert!(d.iter().all(|d| d.db == "mysql" && !d.files.is_empty()));
            assert!(
                d.iter()
                    .all(|d| version_key(d.version) <= version_key(rel.version)),
                "{}",
                rel.version
            );
        }
        assert_eq!(
            r("1.3.2").upgrade_schemas()[6].paths(),
            [
                "db/upgrade/1.3.1_schema/mysql/linkis_ddl.sql",
                "db/upgrade/1.3.1_schema/mysql/linkis_dml.sql"
            ]
        );
    }

    #[test]
    fn folded_services_are_gone_from_the_release_that_folds_them() {
        for f in FOLDS {
            let since = Release::find(f.since).unwrap();
            assert!(!since.has(f.service) && since.has(f.into), "{f:?}");
            let before = Release::all()
                .filter(|r| version_key(r.version) < version_key(f.since))
                .last()
                .unwrap();
            assert!(before.has(f.service), "{f:?}");
        }
    }

    #[test]
    fn platform_facts_follow_the_installers() {
        let r = |v| Release::find(v).unwrap();
        assert_eq!(r("1.3.2").engine_version("spark"), Some("2.4.3"));
        assert_eq!(r("1.4.0").engine_version("hive"), Some("3.1.3"));
        assert_eq!(r("1.8.0").engine_version("python"), Some("python2"));
        assert_eq!(r("1.1.3").platform().hadoop_version, None);
        assert_eq!(r("1.3.2").platform().hadoop_version, Some("2.7.2"));
        assert_eq!(
            r("1.5.0").platform().engine_port_range_key,
            Some("linkis.engineconn.port.range")
        );
        assert!(!r("1.1.3").has_cli_conf());
        assert_eq!(r("1.3.2").cli_token(), Some("BML-AUTH"));
        assert_eq!(r("1.8.0").cli_token(), Some("LINKIS-UNAVAILABLE-TOKEN"));
        for rel in Release::all() {
            if let Some(k) = rel.platform().engine_port_range_key {
                assert!(rel.reads_key(k), "{} {k}", rel.version);
            }
        }
    }

    #[test]
    fn a_feature_comes_in_the_first_release_whose_line_has_it() {
        assert_eq!(Feature::Nacos.first_release(), "1.5.0");
        assert_eq!(Feature::RedisSessions.releases_text(), "1.3.0 or later");
        // The newest release is named alone.
        assert_eq!(Feature::Postgresql.releases_text(), "1.8.0");
        for f in [Feature::Nacos, Feature::Postgresql, Feature::RedisSessions] {
            let first = f.first_release();
            for r in Release::all() {
                let after = Release::all().position(|x| x.version == r.version)
                    >= Release::all().position(|x| x.version == first);
                assert_eq!(f.on(&r.features()), after, "{f:?} in {}", r.version);
            }
        }
        assert!(Release::find(DEFAULT_RELEASE).is_some());
    }

    #[test]
    fn prometheus_came_in_1_1_3_and_metrics_paths_follow_the_servlet_path() {
        for r in Release::all() {
            let from_1_1_3 = version_key(r.version) >= version_key("1.1.3");
            assert_eq!(r.features().prometheus, from_1_1_3, "{}", r.version);
        }
        assert_eq!(Feature::Prometheus.first_release(), "1.1.3");
        assert_eq!(metrics_path(Service::Gateway), "/actuator/prometheus");
        assert_eq!(metrics_path(Service::Eureka), "/actuator/prometheus");
        assert_eq!(
            metrics_path(Service::Entrance),
            "/api/rest_j/v1/actuator/prometheus"
        );
        assert!(!ACTUATOR_EXPOSED.contains(&"refresh"));
        assert!(ACTUATOR_EXPOSED.contains(&"health"));
    }

    #[test]
    fn the_entrance_can_be_drained_from_1_2_0_on() {
        // EntranceLabelRestfulApi (markoffline) and EntranceMetricRestfulApi (runningtask) are in
        // release-1.2.0 and later, in none of the 1.1 tags.
        for r in Release::all() {
            let from_1_2 = version_key(r.version) >= version_key("1.2.0");
            assert_eq!(r.features().entrance_offline_api, from_1_2, "{}", r.version);
        }
    }

    #[test]
    fn an_offline_entrance_goes_back_online_from_1_5_0_on() {
        // EntranceLabelRestfulApi has /backonline in 1.5.0, 1.6.0, 1.7.0 and release-1.8.0, and
        // not in 1.2.0 to 1.4.0 (markoffline only) nor in the 1.1 tags.
        for r in Release::all() {
            let from_1_5 = version_key(r.version) >= version_key("1.5.0");
            assert_eq!(
                r.features().entrance_backonline_api,
                from_1_5,
                "{}",
                r.version
            );
        }
    }

    #[test]
    fn releases_are_unique() {
        let all: Vec<_> = Release::all().map(|r| r.version).collect();
        let mut dedup = all.clone();
        dedup.dedup();
        assert_eq!(all, dedup);
    }
}
