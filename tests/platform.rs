//! The platform around Linkis (spec-v1 second edition): every service gets the Hadoop/Hive/Spark/
//! Java environment however it starts, linkis-cli points at the gateway, `file://` storage on a
//! split cluster is refused, and overrides of computed or shadowed keys are warned about.

mod conf_common;

use conf_common::*;
use linkis_gen::load::Source;
use linkis_gen::render::{self, RenderOptions};

const PRODUCTION: &str = "production-1.4.0.yaml";

const ENV: &[(&str, &str)] = &[
    ("HADOOP_HOME", "/opt/hadoop"),
    ("HADOOP_CONF_DIR", "/etc/hadoop/conf"),
    ("HIVE_HOME", "/opt/hive"),
    ("HIVE_CONF_DIR", "/etc/hive/conf"),
    ("SPARK_HOME", "/opt/spark"),
    ("SPARK_CONF_DIR", "/etc/spark/conf"),
    ("JAVA_HOME", "/usr/lib/jvm/java-1.8.0-openjdk"),
    ("TZ", "Asia/Shanghai"),
];

#[test]
fn every_unit_and_linkis_env_carry_the_platform_environment() {
    let text = example(PRODUCTION);
    let plan = plan_of(PRODUCTION, &text);
    let model = linkis_gen::model::resolve(&plan);
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    let mut units = 0;
    let mut envs = 0;
    for f in &files {
        let line_of: fn(&str, &str) -> String =
            if f.path.starts_with("hosts/") && f.path.ends_with(".service") {
                units += 1;
                |k, v| format!("Environment=\"{k}={v}\"")
            } else if f.path.ends_with("/conf/linkis-env.sh") {
                envs += 1;
                |k, v| format!("export {k}={v}")
            } else {
                continue;
            };
        for (k, v) in ENV {
            let line = line_of(k, v);
            assert!(
                f.contents.lines().any(|l| l == line),
                "{}: no {line}",
                f.path
            );
        }
    }
    assert_eq!(envs, 6, "one linkis-env.sh per host");
    assert!(units >= 10, "{units} units");
}

#[test]
fn linkis_cli_points_every_host_at_the_gateway_url_with_a_vault_token() {
    let text = example(PRODUCTION);
    let files = host_files(PRODUCTION, &text);
    let cli: Vec<_> = files
        .iter()
        .filter(|(p, _)| p.ends_with("conf/linkis-cli/linkis-cli.properties"))
        .collect();
    assert_eq!(cli.len(), 6);
    for (path, f) in cli {
        assert_eq!(
            prop(&f.contents, "wds.linkis.client.common.gatewayUrl").as_deref(),
            Some("http://10.20.0.100:9001"),
            "{path}"
        );
        assert_eq!(
            prop(&f.contents, "wds.linkis.client.common.tokenValue").as_deref(),
            Some("{{ vault_linkis_token_bml }}"),
            "{path}"
        );
    }
    // 1.1.x ships no conf/linkis-cli: nothing is written there.
    let old = spec("1.1.3", "", "  - { name: a, address: 10.0.0.1 }", "");
    let files = host_files("old.yaml", &old);
    assert!(!files.keys().any(|p| p.contains("linkis-cli")));
}

fn four_hosts(storage: &str, overrides: &str) -> String {
    spec(
        "1.3.2",
        "",
        "  - { name: s1, address: 10.0.0.1 }\n  - { name: s2, address: 10.0.0.2 }\n  - { name: s3, address: 10.0.0.3 }\n  - { name: s4, address: 10.0.0.4 }",
        &format!("{storage}\n{overrides}"),
    )
}

fn diagnostics(text: &str) -> (bool, Vec<linkis_gen::diag::Diagnostic>) {
    match linkis_gen::plan(&Source::new("t.yaml", text.as_bytes().to_vec())) {
        Ok(p) => (true, p.warnings),
        Err(d) => (false, d),
    }
}

#[test]
fn file_result_sets_on_a_split_cluster_need_a_shared_mount() {
    let (ok, d) = diagnostics(&four_hosts(
        "storage:\n  result_sets: file:///data/results",
        "",
    ));
    assert!(!ok);
    let e = d
        .iter()
        .find(|d| d.check == "local-storage-split" && d.is_error())
        .expect("the split-storage error");
    assert_eq!(e.path, "storage.result_sets");
    for host in ["s1", "s2", "s3", "s4"] {
        assert!(e.message.contains(host), "{}", e.message);
    }
    let (ok, _) = diagnostics(&four_hosts(
        "storage:\n  result_sets: file:///data/results\n  shared_mount: true",
        "",
    ));
    assert!(ok, "shared_mount: true accepts it");
    let single = spec(
        "1.3.2",
        "",
        "  - { name: a, address: 10.0.0.1 }",
        "storage:\n  result_sets: file:///data/results",
    );
    assert!(
        diagnostics(&single).0,
        "one host: every service sees the same disk"
    );
}

#[test]
fn overrides_of_computed_or_shadowed_keys_are_warned_about() {
    let (ok, w) = diagnostics(&four_hosts(
        "storage:\n  result_sets: hdfs:///r\n  workspace: hdfs:///w",
        "overrides:\n  linkis.properties:\n    wds.linkis.gateway.url: http://lb:9001\n    wds.linkis.engineconn.root.dir: /tmp/e\n  linkis-cg-engineconnmanager.properties:\n    wds.linkis.ecm.memory.max: 1000",
    ));
    assert!(ok, "{w:#?}");
    let find = |check: &str, key: &str| {
        w.iter()
            .find(|d| d.check == check && d.path.ends_with(&format!("[\"{key}\"]")))
            .unwrap_or_else(|| panic!("no {check} for {key}: {w:#?}"))
    };
    let gw = find("override-computed", "wds.linkis.gateway.url");
    assert!(
        gw.message.contains("http://10.0.0.3:9001"),
        "{}",
        gw.message
    );
    let mem = find("override-computed", "wds.linkis.ecm.memory.max");
    assert!(mem.message.contains("s1 "), "{}", mem.message);
    let sh = find("override-shadowed", "wds.linkis.engineconn.root.dir");
    assert!(
        sh.message
            .contains("linkis-cg-engineconnmanager.properties"),
        "{}",
        sh.message
    );
    let (_, quiet) = diagnostics(&four_hosts(
        "storage:\n  result_sets: hdfs:///r\n  workspace: hdfs:///w",
        "overrides:\n  linkis.properties:\n    wds.linkis.server.restful.uri: /api/rest_j",
    ));
    assert!(
        !quiet.iter().any(|d| d.check.starts_with("override-")),
        "{quiet:#?}"
    );
}

#[test]
fn host_defaults_ports_apply_where_the_host_sets_none() {
    let text = four_hosts("host_defaults:\n  ports: { gateway: 9011 }", "")
        .replace("host_defaults:\n  memory: 64G\n  cores: 32\n", "")
        .replace(
            "host_defaults:\n  ports: { gateway: 9011 }",
            "host_defaults:\n  memory: 64G\n  cores: 32\n  ports: { gateway: 9011 }",
        );
    let plan = plan_of("t.yaml", &text);
    let ports: Vec<u16> = plan
        .hosts
        .iter()
        .filter_map(|h| h.service(linkis_gen::spec::Service::Gateway))
        .map(|p| p.port)
        .collect();
    assert_eq!(ports, [9011, 9011]);
}

#[test]
fn no_platform_key_of_linkis_properties_is_shadowed_by_a_shipped_service_file() {
    use linkis_gen::catalog::Release;
    use linkis_gen::model::platform::{COMMON, Platform};
    let text = example(PRODUCTION);
    let base = plan_of(PRODUCTION, &text).spec;
    let mut checked = 0;
    for r in Release::all() {
        let platform = Platform::resolve(&base, &r);
        for pk in platform.keys_for(COMMON) {
            let key = &pk.key;
            for s in r.line.services {
                let shadow = r.stock(s.conf_file).iter().any(|(k, _)| k == key);
                assert!(!shadow, "{}: {} ships {key}", r.version, s.conf_file);
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

/// A kerberized Hadoop: the HDFS storage roots are made with a ticket of the deploy user, from its
/// keytab in `keytab_dir` (Linkis' services log in as `<user>` with `<keytab_dir>/<user>.keytab`);
/// without Kerberos nothing of it is rendered.
#[test]
fn hdfs_storage_roots_are_made_with_a_kerberos_ticket_of_the_deploy_user() {
    let text = example(PRODUCTION);
    let model = linkis_gen::model::resolve(&plan_of(PRODUCTION, &text));
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    let vars = get(&files, "inventory/group_vars/all/main.yml");
    let var = |k: &str| yaml_at(vars, &[k]).and_then(|v| v.as_str().map(str::to_string));
    let user = &model.cluster.deploy_user;
    assert_eq!(
        var("linkis_storage_keytab"),
        Some(format!("/etc/security/keytabs/{user}.keytab"))
    );
    assert_eq!(
        var("linkis_storage_principal").as_deref(),
        Some(user.as_str())
    );
    assert_eq!(
        var("linkis_storage_krb5_conf").as_deref(),
        Some("/etc/krb5.conf")
    );
    let role = get(&files, "roles/linkis_storage/tasks/main.yml");
    let task = &role[role
        .find("Create the HDFS storage directories")
        .expect("the HDFS task")..];
    let kinit = task
        .find("kinit -kt \"$KEYTAB\" \"$PRINCIPAL\"")
        .expect("kinit");
    let mkdir = task.find("dfs -mkdir").expect("mkdir");
    assert!(kinit < mkdir, "the ticket comes first");
    assert!(task.contains("KRB5_CONFIG: \"{{ linkis_storage_krb5_conf }}\""));
    assert!(task.contains("kdestroy"), "the ticket cache is removed");

    let plain = text.replace(
        "  kerberos:\n    principal: hadoop@BIGDATA.EXAMPLE.COM\n    keytab_dir: /etc/security/keytabs\n    krb5_conf: /etc/krb5.conf\n",
        "",
    );
    assert_ne!(plain, text);
    let model = linkis_gen::model::resolve(&plan_of(PRODUCTION, &plain));
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    assert!(!get(&files, "roles/linkis_storage/tasks/main.yml").contains("kinit"));
    assert!(!get(&files, "inventory/group_vars/all/main.yml").contains("linkis_storage_keytab"));
}
