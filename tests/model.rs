//! The resolved model: decisions taken once, and the rendered tree agreeing with them.

use std::collections::BTreeSet;

use linkis_gen::load::Source;
use linkis_gen::model::Model;
use linkis_gen::render::{self, OutFile, RenderOptions};

fn example(name: &str) -> String {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn model_of(name: &str, text: &str) -> Model {
    linkis_gen::model(&Source::new(name, text.as_bytes().to_vec()))
        .unwrap_or_else(|d| panic!("{name}: {d:?}"))
}

fn render(m: &Model) -> Vec<OutFile> {
    render::render(m, &RenderOptions::default()).expect("renders")
}

/// The `{{ name }}` references in the rendered tree, read from the files themselves (the oracle
/// the model's list must match), skipping Ansible's own expressions with filters or dots.
fn references(files: &[OutFile]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files.iter().filter(|f| f.path.starts_with("hosts/")) {
        for piece in f.contents.split("{{ ").skip(1) {
            if let Some((name, _)) = piece.split_once(" }}") {
                if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn vault_variables_are_exactly_the_conf_trees_references() {
    for name in [
        "every-field.yaml",
        "single-node.yaml",
        "single-node-1.8.0-nacos-redis.yaml",
        "two-server-1.1.3.yaml",
    ] {
        let m = model_of(name, &example(name));
        let files = render(&m);
        let mut expected = references(&files);
        // The database password is also referenced by the inventory (db.sh), not only the conf.
        expected.insert(m.database.password_var.clone());
        // The front's TLS key is installed by the web role from its vault variable.
        if let Some(t) = &m.web.tls {
            expected.extend(t.key_var.clone());
        }
        let got: BTreeSet<String> = m.vault_vars.iter().cloned().collect();
        assert_eq!(got, expected, "{name}");
        let inventory = files
            .iter()
            .find(|f| f.path == "inventory/group_vars/all/main.yml")
            .unwrap();
        for v in &m.vault_vars {
            assert!(
                inventory.contents.contains(&format!("  - {v}\n")),
                "{name}: {v}"
            );
        }
    }
}

#[test]
fn install_dir_is_normalised_once_for_units_and_conf() {
    let text = example("single-node.yaml");
    assert!(
        !text.contains("install_dir"),
        "the example uses the default"
    );
    let text = text.replacen("cluster:\n", "cluster:\n  install_dir: /srv/linkis//\n", 1);
    let m = model_of("slash.yaml", &text);
    assert_eq!(m.cluster.install_dir, "/srv/linkis");
    let files = render(&m);
    let conf = files
        .iter()
        .find(|f| f.path.ends_with("/conf/linkis.properties"))
        .unwrap();
    assert!(
        conf.contents.contains("\nwds.linkis.home=/srv/linkis\n"),
        "{}",
        conf.contents
    );
    let unit = files
        .iter()
        .find(|f| f.path.starts_with("hosts/") && f.path.ends_with(".service"))
        .unwrap();
    assert!(
        unit.contents.contains("LINKIS_HOME=/srv/linkis\n"),
        "{}",
        unit.contents
    );
}

#[test]
fn nacos_drops_eureka_and_redis_drops_ip_hash_in_one_place() {
    let name = "single-node-1.8.0-nacos-redis.yaml";
    let m = model_of(name, &example(name));
    assert_eq!(m.discovery.kind, "nacos");
    assert!(!m.discovery.eureka && m.discovery.eurekas.is_empty());
    assert!(!m.services.contains(&linkis_gen::spec::Service::Eureka));
    assert!(
        m.hosts
            .iter()
            .all(|h| h.instance(linkis_gen::spec::Service::Eureka).is_none())
    );
    assert!(m.discovery.server_address.starts_with("http://"));
    assert!(!m.sessions.ip_hash && m.sessions.redis.is_some());
    let files = render(&m);
    let nginx = files
        .iter()
        .find(|f| f.path == "nginx/linkis.conf")
        .unwrap();
    assert!(!nginx.contents.contains("ip_hash"), "{}", nginx.contents);

    let m = model_of("single-node.yaml", &example("single-node.yaml"));
    assert_eq!(m.discovery.kind, "eureka");
    assert_eq!(m.discovery.eurekas.len(), 1);
    assert!(m.discovery.eureka_zone.ends_with("/eureka/"));
    assert!(m.sessions.ip_hash && m.sessions.redis.is_none());
    assert!(m.database.driver_keys.is_empty());
    assert!(m.database.url.starts_with("jdbc:mysql://"));

    let m = model_of("every-field.yaml", &example("every-field.yaml"));
    assert_eq!(m.database.kind, "postgresql");
    assert!(m.database.url.starts_with("jdbc:postgresql://"));
    assert!(!m.database.driver_keys.is_empty());
}

#[test]
fn monitoring_lists_every_instance_at_its_metrics_path() {
    use linkis_gen::spec::Service;
    let m = model_of("every-field.yaml", &example("every-field.yaml"));
    let mon = &m.monitoring;
    assert!(mon.prometheus);
    assert_eq!(mon.exposure, "health,prometheus");
    assert_eq!(mon.scrapers, ["10.0.0.50", "10.0.9.0/24"]);
    let instances: usize = m.hosts.iter().map(|h| h.instances.len()).sum();
    assert_eq!(mon.targets.len(), instances);
    for h in &m.hosts {
        for i in &h.instances {
            let t = mon
                .targets
                .iter()
                .find(|t| t.host == h.name && t.unit == i.unit)
                .unwrap_or_else(|| panic!("{} {} has no target", h.name, i.unit));
            assert!(t.address.ends_with(&format!(":{}", i.port)), "{t:?}");
            let want = if matches!(i.service, Service::Gateway | Service::Eureka) {
                "/actuator/prometheus"
            } else {
                "/api/rest_j/v1/actuator/prometheus"
            };
            assert_eq!(t.path, want, "{t:?}");
        }
    }
    assert_eq!(
        mon.keys_for("linkis.properties")[0],
        ("wds.linkis.prometheus.enable".into(), "true".into())
    );
    let files = render(&m);
    assert!(files.iter().any(|f| f.path == "monitoring/prometheus.yml"));
    assert!(
        files
            .iter()
            .any(|f| f.path == "monitoring/linkis-rules.yml")
    );

    let m = model_of("single-node.yaml", &example("single-node.yaml"));
    assert!(!m.monitoring.prometheus);
    assert_eq!(m.monitoring.exposure, "health");
    assert!(m.monitoring.targets.is_empty());
    assert!(m.monitoring.keys.is_empty());
    let files = render(&m);
    assert!(!files.iter().any(|f| f.path.starts_with("monitoring/")));
    let yml = files
        .iter()
        .find(|f| f.path.ends_with("/conf/application-linkis.yml"))
        .unwrap();
    assert!(
        yml.contents.contains("include: health\n"),
        "{}",
        yml.contents
    );
}

#[test]
fn logs_and_services_reach_the_hosts() {
    use linkis_gen::spec::Service;
    let m = model_of("every-field.yaml", &example("every-field.yaml"));
    assert!(m.logs.bounded);
    assert_eq!(m.logs.keep_days, 14);
    // 2G per service: 6/10 for log4j2 (100MB active, the rest rolled), 2/10 GC, 2/10 stdout.
    assert_eq!((m.logs.roll_mib, m.logs.rolled_mib), (100, 1128));
    assert_eq!(
        (m.logs.gc_files, m.logs.gc_file_mib, m.logs.out_mib),
        (5, 81, 204)
    );
    let ctl = m.hosts.iter().find(|h| h.name == "ctl-1").unwrap();
    assert!(ctl.conf_files.iter().any(|c| c.file == "log4j2.xml"));
    let gw = ctl.instance(Service::Gateway).unwrap();
    assert_eq!(gw.heap, 2 << 30, "services.gateway.heap");
    assert!(gw.reads.contains(&"log4j2.xml"));
    assert_eq!(ctl.instance(Service::Publicservice).unwrap().heap, 6 << 30);
    let opts = &ctl
        .java_opts
        .iter()
        .find(|j| j.server_name == "linkis-mg-gateway")
        .unwrap()
        .value;
    assert_eq!(
        opts,
        "-DserviceName=$SERVER_NAME -Xmx2G -XX:+UseG1GC $LINKIS_GC_OPTS -XX:MaxGCPauseMillis=200"
    );
    let files = render(&m);
    let has = |p: &str| files.iter().any(|f| f.path == p);
    assert!(has("hosts/ctl-1/conf/log4j2.xml"));
    assert!(has("hosts/ctl-1/os/logrotate.conf"));
    assert!(!has("hosts/ctl-1/os/tmpfiles.conf"), "no ECM on ctl-1");
    assert!(has("hosts/ecm-1/os/tmpfiles.conf"));

    let m = model_of("single-node.yaml", &example("single-node.yaml"));
    assert!(!m.logs.bounded);
    assert!(m.hosts.iter().all(|h| h.java_opts.is_empty()));
    let files = render(&m);
    assert!(
        !files
            .iter()
            .any(|f| f.path.ends_with("/log4j2.xml") || f.path.contains("/os/"))
    );
}

#[test]
fn every_instance_has_its_unit_group_and_stage() {
    let m = model_of("guide-300-users.yaml", &example("guide-300-users.yaml"));
    for h in &m.hosts {
        let mut last = 0;
        for i in &h.instances {
            assert_eq!(i.unit, format!("linkis-{}", i.daemon));
            assert_eq!(i.group, format!("linkis_{}", i.name));
            assert!(i.stage >= last, "{}: start order", h.name);
            last = i.stage;
            assert!(h.conf_files.iter().any(|c| c.file == i.conf_file));
            assert_eq!(i.reads.first(), Some(&"linkis.properties"));
            assert_eq!(i.reads.last(), Some(&i.conf_file));
            assert!(
                i.reads
                    .iter()
                    .all(|r| h.conf_files.iter().any(|c| c.file == *r))
            );
        }
    }
}
