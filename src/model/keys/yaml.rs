//! The keys of the `application-*.yml` files of a host, by their YAML path (`eureka.client.
//! serviceUrl.defaultZone`), in file order: the renderer nests them (src/render/conf.rs).
//!
//! Settings the release's own files carry as they are (the Spring and Eureka tuning, the
//! multipart limits, the actuator's paths), behind the catalog's switches of that release, have
//! the release's origin; what the spec or the placement decides (discovery, the version, the
//! Eureka peers, the port, the exposure, the SQL dialect) has its own.

use super::{Block, FileKeys, Host, Model, Origin, Place, Syntax};
use crate::spec::Service;

/// One file's keys being laid out.
struct Yml<'a> {
    m: &'a Model,
    fk: FileKeys,
}

impl Yml<'_> {
    fn add(&mut self, path: &[&str], value: impl Into<String>, origin: Origin, syntax: Syntax) {
        self.add_noted(path, value, origin, syntax, None);
    }

    fn add_noted(
        &mut self,
        path: &[&str],
        value: impl Into<String>,
        origin: Origin,
        syntax: Syntax,
        note: Option<&'static str>,
    ) {
        let key = path.join(".");
        self.fk
            .push(Block::Template("yaml"), &key, value.into(), origin, syntax)
            .place = Place::Yaml {
            path: path.iter().map(|s| s.to_string()).collect(),
            note,
        };
    }

    /// A setting the release's file carries as it is.
    fn stock(&mut self, path: &[&str], value: &str) {
        let origin = self.release();
        self.add(path, value, origin, Syntax::Yaml);
    }

    fn release(&self) -> Origin {
        Origin::Release {
            release: self.m.cluster.version.to_string(),
            file: self.fk.file.clone(),
        }
    }

    fn version(&mut self, path: &[&str]) {
        let v = self.m.cluster.version.to_string();
        self.add(
            path,
            v,
            Origin::spec("cluster.linkis_version"),
            Syntax::YamlQuoted,
        );
    }

    fn nacos(&mut self, path: &[&str]) {
        let v = self.m.discovery.nacos_address.clone();
        self.add(path, v, Origin::spec("cluster.nacos_address"), Syntax::Yaml);
    }

    fn zone(&mut self, note: &'static str) {
        let m = self.m;
        let peers = m
            .discovery
            .eurekas
            .iter()
            .map(|e| format!("eureka={}", e.host))
            .collect();
        self.add_noted(
            &["eureka", "client", "serviceUrl", "defaultZone"],
            m.discovery.eureka_zone.clone(),
            Origin::rule("every Eureka node of the placement", peers),
            Syntax::Yaml,
            Some(note),
        );
    }

    fn prefer_ip(&mut self, instance_id: bool) {
        let m = self.m;
        let origin = || {
            Origin::rule(
                "cluster.prefer_ip: services register by IP address",
                vec![format!("cluster.prefer_ip={}", m.cluster.prefer_ip)],
            )
        };
        self.add(
            &["eureka", "instance", "prefer-ip-address"],
            "true",
            origin(),
            Syntax::Yaml,
        );
        if instance_id {
            self.add(
                &["eureka", "instance", "instance-id"],
                "${spring.cloud.client.ip-address}:${spring.application.name}:${server.port}",
                origin(),
                Syntax::Yaml,
            );
        }
    }

    fn exposure(&mut self) {
        let m = self.m;
        self.add(
            &["management", "endpoints", "web", "exposure", "include"],
            m.monitoring.exposure.clone(),
            Origin::rule(
                "the actuator endpoints exposed: linkis-gen's, and prometheus with monitoring.prometheus",
                vec![format!("monitoring.prometheus={}", m.monitoring.prometheus)],
            ),
            Syntax::Yaml,
        );
    }

    fn multipart(&mut self) {
        for (k, v) in [
            ("max-file-size", "500MB"),
            ("max-request-size", "500MB"),
            ("file-size-threshold", "50MB"),
        ] {
            self.stock(&["spring", "servlet", "multipart", k], v);
        }
    }

    fn spring_boot_26(&mut self) {
        self.stock(
            &["spring", "cloud", "loadbalancer", "cache", "enabled"],
            "false",
        );
        self.stock(&["spring", "main", "allow-circular-references"], "true");
        self.stock(
            &["spring", "mvc", "pathmatch", "matching-strategy"],
            "ant_path_matcher",
        );
    }

    fn spring_nacos(&mut self) {
        self.nacos(&["spring", "cloud", "nacos", "discovery", "server-addr"]);
        self.stock(
            &[
                "spring",
                "cloud",
                "nacos",
                "discovery",
                "metadata",
                "prometheus.path",
            ],
            "${prometheus.path:/api/rest_j/v1/actuator/prometheus}",
        );
        self.version(&[
            "spring",
            "cloud",
            "nacos",
            "discovery",
            "metadata",
            "linkis.app.version",
        ]);
    }
}

/// The keys of `application-linkis.yml`, `application-eureka.yml` or `application-engineconn.yml`
/// of a host (None for another file).
pub(super) fn file_keys(m: &Model, host: &Host, file: &str) -> Option<FileKeys> {
    let mut y = Yml {
        m,
        fk: FileKeys {
            file: file.to_string(),
            blocks: Vec::new(),
        },
    };
    match file {
        "application-linkis.yml" => linkis(&mut y),
        "application-engineconn.yml" => engineconn(&mut y),
        "application-eureka.yml" => eureka(&mut y, host),
        _ => return None,
    }
    Some(y.fk)
}

fn linkis(y: &mut Yml) {
    let (m, f) = (y.m, y.m.features);
    let eureka = m.discovery.eureka;
    if eureka {
        if m.cluster.prefer_ip && f.prefer_ip_yml {
            y.prefer_ip(true);
        }
        if f.eureka_client_tuning {
            y.stock(
                &["eureka", "instance", "lease-renewal-interval-in-seconds"],
                "4",
            );
            y.stock(
                &["eureka", "instance", "lease-expiration-duration-in-seconds"],
                "12",
            );
        }
        y.stock(
            &["eureka", "instance", "metadata-map", "prometheus.path"],
            "${prometheus.path:${prometheus.endpoint}}",
        );
        if f.eureka_client_tuning {
            y.version(&["eureka", "instance", "metadata-map", "linkis.app.version"]);
        }
        y.zone("every Eureka node of the cluster");
        if f.eureka_client_tuning {
            y.stock(
                &["eureka", "client", "registry-fetch-interval-seconds"],
                "8",
            );
        }
    } else {
        y.nacos(&["nacos", "discovery", "server-addr"]);
        y.stock(
            &["nacos", "metadata", "prometheus.path"],
            "${prometheus.path:/api/rest_j/v1/actuator/prometheus}",
        );
        y.version(&["nacos", "metadata", "linkis.app.version"]);
    }
    y.exposure();
    y.stock(&["logging", "config"], "classpath:log4j2.xml");
    y.add(
        &["pagehelper", "helper-dialect"],
        m.database.kind,
        Origin::rule(
            "the SQL dialect of the database type",
            vec![format!("database.type={}", m.database.kind)],
        ),
        Syntax::Yaml,
    );
    y.stock(&["pagehelper", "reasonable"], "true");
    y.stock(&["pagehelper", "support-methods-arguments"], "true");
    y.stock(&["pagehelper", "params"], "countSql");
    if f.eureka_client_tuning || !eureka {
        if f.spring_boot_26 && eureka {
            y.spring_boot_26();
        }
        if !eureka {
            y.spring_nacos();
        }
        y.multipart();
    }
    y.stock(&["knife4j", "enable"], "true");
    y.stock(&["knife4j", "production"], "true");
}

fn engineconn(y: &mut Yml) {
    let (m, f) = (y.m, y.m.features);
    let eureka = m.discovery.eureka;
    if f.spring_boot_26 && eureka {
        y.spring_boot_26();
        y.stock(&["spring", "mvc", "servlet", "path"], "/api/rest_j/v1");
    }
    if !eureka {
        y.spring_nacos();
    }
    y.stock(&["spring", "application", "name"], "linkis-cg-engineconn");
    y.multipart();
    if eureka {
        if m.cluster.prefer_ip && f.prefer_ip_yml {
            y.prefer_ip(true);
        }
        y.stock(
            &["eureka", "instance", "lease-renewal-interval-in-seconds"],
            "4",
        );
        y.stock(
            &["eureka", "instance", "lease-expiration-duration-in-seconds"],
            "12",
        );
        y.stock(
            &["eureka", "instance", "metadata-map", "prometheus.path"],
            "${prometheus.path:/api/rest_j/v1/actuator/prometheus}",
        );
        y.version(&["eureka", "instance", "metadata-map", "linkis.app.version"]);
        y.zone("every Eureka node of the cluster");
        y.stock(
            &["eureka", "client", "registry-fetch-interval-seconds"],
            "8",
        );
        y.stock(
            &[
                "eureka",
                "client",
                "initial-instance-info-replication-interval-seconds",
            ],
            "10",
        );
    }
    y.exposure();
    y.stock(&["logging", "config"], "classpath:log4j2.xml");
}

fn eureka(y: &mut Yml, host: &Host) {
    let (m, f) = (y.m, y.m.features);
    y.stock(&["spring", "application", "name"], "linkis-mg-eureka");
    y.stock(&["spring", "profiles"], "eureka");
    if f.spring_boot_26 {
        y.stock(
            &["spring", "mvc", "pathmatch", "matching-strategy"],
            "ant_path_matcher",
        );
    }
    if let Some(i) = host.instance(Service::Eureka) {
        y.add(
            &["server", "port"],
            i.port.to_string(),
            super::port_origin(i),
            Syntax::Yaml,
        );
    }
    if f.spring_boot_26 {
        y.stock(&["springfox", "documentation", "enabled"], "false");
        y.stock(&["springfox", "documentation", "auto-startup"], "false");
        y.stock(
            &["springfox", "documentation", "swagger-ui", "enabled"],
            "false",
        );
    }
    if f.eureka_hostname_yml {
        y.stock(
            &["eureka", "instance", "hostname"],
            "${spring.cloud.client.ip-address}",
        );
    }
    if m.cluster.prefer_ip && f.prefer_ip_yml {
        y.prefer_ip(false);
    }
    y.stock(
        &["eureka", "instance", "metadata-map", "prometheus.path"],
        "${prometheus.path:/actuator/prometheus}",
    );
    if f.eureka_client_tuning {
        y.version(&["eureka", "instance", "metadata-map", "linkis.app.version"]);
    }
    y.zone("every Eureka node of the cluster, this one included");
    y.stock(&["eureka", "server", "enable-self-preservation"], "false");
    y.stock(
        &["eureka", "server", "eviction-interval-timer-in-ms"],
        "5000",
    );
    y.stock(
        &["eureka", "server", "response-cache-update-interval-ms"],
        "3000",
    );
    y.exposure();
}
