//! End-to-end: real ansible-core upgrades a cluster from a stub Linkis 1.3.2 to a stub 1.4.0 with
//! the rendered `changes.yml`, against a real MariaDB.
//!
//! What cannot exist here is faked, and only that: the release tarballs are our own small files
//! (a 1.4.0 `db/upgrade/1.4.0_schema/mysql/` whose scripts add a table and a column and a row;
//! 1.3.2 scripts that fail if they ever run), the Linkis JVMs are sockets in this process that
//! answer the ports, `/actuator/health` and Eureka's `/eureka/apps`, and systemd (not PID 1 here)
//! is a `systemctl` on PATH that keeps each unit's state in files and logs every start with the
//! directory the unit's LINKIS_HOME resolves to. The database is a real MariaDB (tests/e2e_common:
//! Debian's `mariadbd` on 127.0.0.1, a free port and a datadir of its own, stopped by PID).
//!
//! The test: site.yml installs 1.3.2 and starts it; the spec moves to 1.4.0; render writes the
//! upgrade plan; changes.yml runs: the cluster stops, the database is dumped, 1.4.0 is unpacked
//! beside 1.3.2, the 1.4.0 scripts run once and are recorded, the units start from 1.4.0, verify
//! passes; a second run applies nothing.
//!
//! Needs root, ansible-playbook, mariadbd, mariadb-install-db, mysql and mysqldump; ignored by
//! default, run by .ci/upgrade.sh:
//!   cargo test --release --test upgrade_e2e -- --ignored

#[allow(dead_code)] // local_spec, E2E_PORTS: the database e2e tests'
mod e2e_common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_common::{MariaDb, run, sh, stub_release, write};

const DB_PASSWORD: &str = "e2e-upgrade-secret";

/// Per-host ports of the single host, away from Linkis' defaults (other tests may use those).
const PORTS: [(&str, &str, u16); 6] = [
    ("eureka", "MG-EUREKA", 42303),
    ("gateway", "MG-GATEWAY", 42001),
    ("publicservice", "PS-PUBLICSERVICE", 42105),
    ("linkismanager", "CG-LINKISMANAGER", 42101),
    ("entrance", "CG-ENTRANCE", 42104),
    ("engineconnmanager", "CG-ENGINECONNMANAGER", 42102),
];

/// Answers HTTP GETs on 127.0.0.1:`port` with the JSON `answer` gives for the request line.
fn serve(port: u16, answer: std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>) {
    use std::io::Write;
    let l = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let req = e2e_common::read_request(&mut c);
            if !req.starts_with("GET ") {
                continue;
            }
            let body = answer(req.lines().next().unwrap_or_default());
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

const HEALTH_UP: &str = r#"{"status":"UP"}"#;

/// A stand-in for the Linkis JVMs: every port answers, `/eureka/apps` lists every instance UP.
fn fake_cluster() {
    let apps: Vec<String> = PORTS
        .iter()
        .map(|(_, app, port)| {
            format!(
                r#"{{"name":"LINKIS-{app}","instance":[{{"hostName":"127.0.0.1","app":"LINKIS-{app}","ipAddr":"127.0.0.1","status":"UP","port":{{"$":{port},"@enabled":"true"}}}}]}}"#
            )
        })
        .collect();
    let registry = format!(
        r#"{{"applications":{{"versions__delta":"1","application":[{}]}}}}"#,
        apps.join(",")
    );
    for (_, _, port) in PORTS {
        let registry = registry.clone();
        serve(
            port,
            std::sync::Arc::new(move |req: &str| {
                if req.starts_with("GET /eureka/apps") {
                    registry.clone()
                } else {
                    HEALTH_UP.to_string()
                }
            }),
        );
    }
}

/// systemd's `systemctl`, as far as the playbooks use it: unit state in files under
/// $FAKE_SYSTEMD_STATE, unit files in $FAKE_SYSTEMD_DIR, every start and stop logged to
/// $FAKE_SYSTEMD_LOG with the real directory the unit's LINKIS_HOME points at.
const FAKE_SYSTEMCTL: &str = r#"#!/bin/bash
# A stand-in for systemctl (systemd is not PID 1 in CI): see tests/upgrade_e2e.rs.
set -euo pipefail
args=()
for a in "$@"; do case "$a" in --*|-l) ;; *) args+=("$a") ;; esac; done
cmd=${args[0]:-}
unit=${args[1]:-}
unit=${unit%.service}
file="$FAKE_SYSTEMD_DIR/$unit.service"
state="$FAKE_SYSTEMD_STATE/$unit"
mkdir -p "$FAKE_SYSTEMD_STATE"
active() { [ -f "$state.active" ]; }
enabled() { [ -f "$state.enabled" ]; }
home() { sed -n 's/^Environment=LINKIS_HOME=//p' "$file" | head -n 1; }
case "$cmd" in
  daemon-reload|daemon-reexec) ;;
  show)
    if [ -f "$file" ]; then echo "LoadState=loaded"; else echo "LoadState=not-found"; fi
    if active; then echo "ActiveState=active"; else echo "ActiveState=inactive"; fi
    if enabled; then echo "UnitFileState=enabled"; else echo "UnitFileState=disabled"; fi
    ;;
  is-active) if active; then echo active; else echo inactive; exit 3; fi ;;
  is-enabled) if enabled; then echo enabled; else echo disabled; exit 1; fi ;;
  list-unit-files) [ -f "$file" ] && echo "$unit.service enabled" ;;
  enable) [ -f "$file" ] || { echo "Unit $unit.service not found." >&2; exit 1; }; touch "$state.enabled" ;;
  disable) rm -f "$state.enabled" ;;
  start|restart)
    [ -f "$file" ] || { echo "Unit $unit.service not found." >&2; exit 5; }
    touch "$state.active"
    echo "$cmd $unit $(readlink -f "$(home)")" >>"$FAKE_SYSTEMD_LOG"
    ;;
  stop)
    rm -f "$state.active"
    echo "stop $unit" >>"$FAKE_SYSTEMD_LOG"
    ;;
  *) echo "fake systemctl: unsupported: $*" >&2; exit 1 ;;
esac
"#;

/// A stub release tarball of `version` (tests/e2e_common's stub, plus): a clear-server.sh that
/// only records its runs, the JDBC driver, a marker of the release in lib/, and db/upgrade scripts
/// (a 1.3.2 dir whose scripts fail if run; for 1.4.0 a 1.4.0 dir that adds a table, a column and
/// a row).
fn release(tmp: &Path, version: &str) -> PathBuf {
    let marker = format!("linkis-package/lib/linkis-commons/RELEASE-{version}");
    let never = "SELECT no_such_column FROM no_such_table_e2e;\n";
    let mut files = vec![
        (
            "linkis-package/sbin/clear-server.sh",
            "#!/bin/sh\necho cleared >> \"${LINKIS_HOME}/cleared\"\n",
            0o755,
        ),
        // The JDBC driver an operator adds (Apache releases ship none; the jdbc role checks
        // for it).
        (
            "linkis-package/lib/linkis-commons/public-module/mysql-connector-j-8.0.33.jar",
            "stub driver",
            0o644,
        ),
        (&marker, version, 0o644),
        (
            "linkis-package/db/upgrade/1.3.2_schema/mysql/linkis_ddl.sql",
            never,
            0o644,
        ),
        (
            "linkis-package/db/upgrade/1.3.2_schema/mysql/linkis_dml.sql",
            never,
            0o644,
        ),
    ];
    if version == "1.4.0" {
        files.push((
            "linkis-package/db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql",
            "CREATE TABLE linkis_e2e_upgraded (id INT PRIMARY KEY, note VARCHAR(64));\n\
             ALTER TABLE linkis_e2e_jobs ADD COLUMN upgraded_by VARCHAR(32) DEFAULT 'stub';\n",
            0o644,
        ));
        files.push((
            "linkis-package/db/upgrade/1.4.0_schema/mysql/linkis_dml.sql",
            "INSERT INTO linkis_e2e_upgraded (id, note) VALUES (1, 'the 1.4.0 dml');\n",
            0o644,
        ));
    }
    stub_release(tmp, version, &files)
}

/// A one-host spec on 127.0.0.1: `cluster` holds the cluster keys besides name and version,
/// `db_port` the database's port, `ports` the host's service ports.
fn spec_text(version: &str, cluster: &str, db_port: u16, ports: &[(&str, u16)]) -> String {
    let ports: Vec<String> = ports.iter().map(|(s, p)| format!("{s}: {p}")).collect();
    format!(
        r#"version: 1
cluster:
  name: e2e
  linkis_version: "{version}"
  prefer_ip: true
{cluster}
database:
  host: 127.0.0.1
  port: {db_port}
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
  # The test makes the database (old schema) itself; the stub release has no db/linkis_*.sql.
  bootstrap: off
sizing:
  concurrent_users: 2
  engines:
    # python: the one engine that needs no Hadoop side, which the ECM preflight would look for.
    python: {{ memory: 1G, cores: 1, version: python3 }}
host_defaults:
  memory: 64G
  cores: 8
hosts:
  - name: h1
    address: 127.0.0.1
    ports: {{ {ports} }}
"#,
        ports = ports.join(", ")
    )
}

fn spec(version: &str, tarball: &Path, db_port: u16, install_dir: &Path) -> String {
    let cluster = format!(
        "  deploy_user: root\n  install_dir: {}\n  package: {}",
        install_dir.display(),
        tarball.display()
    );
    let ports: Vec<(&str, u16)> = PORTS.iter().map(|(s, _, p)| (*s, *p)).collect();
    // Local storage roots (one host): no HDFS for the storage role to create directories in.
    let root = install_dir
        .parent()
        .expect("install_dir has a parent")
        .join("storage");
    format!(
        "{}storage:\n  workspace: file://{r}/workspace\n  hdfs_root: file://{r}/users\n  \
         result_sets: file://{r}/results\n",
        spec_text(version, &cluster, db_port, &ports),
        r = root.display()
    )
}

fn render(tmp: &Path, text: &str) -> String {
    let spec = tmp.join("spec.yaml");
    fs::write(&spec, text).unwrap();
    sh(Command::new(env!("CARGO_BIN_EXE_linkis-gen"))
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(tmp.join("out")))
}

struct Env {
    tmp: PathBuf,
}

impl Env {
    /// The files ansible-playbook reads besides the rendered tree: the one host h1 on a local
    /// connection with `vars`, the vault variables the tree lists, an ansible.cfg.
    fn new(tmp: &Path, vars: &[(&str, String)]) -> Env {
        let mut local = String::from(
            "all:\n  hosts:\n    h1:\n      ansible_connection: local\n      \
             ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n      \
             # Root already: no sudo, whose secure_path would hide the fake systemctl.\n      \
             ansible_become: false\n",
        );
        for (k, v) in vars {
            local.push_str(&format!("      {k}: {v}\n"));
        }
        fs::write(tmp.join("local.yml"), local).unwrap();
        fs::write(tmp.join("vault.yml"), vault(&tmp.join("out"))).unwrap();
        fs::write(tmp.join("ansible.cfg"), e2e_common::ANSIBLE_CFG).unwrap();
        Env {
            tmp: tmp.to_path_buf(),
        }
    }

    /// Runs a playbook of the rendered tree; its stdout, and whether it succeeded.
    fn try_ansible(&self, playbook: &str, args: &[&str]) -> (bool, String) {
        let out_dir = self.tmp.join("out");
        let path = format!(
            "{}:{}",
            self.tmp.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = run(e2e_common::ansible_playbook(&self.tmp, &out_dir, playbook)
            .args(args)
            .arg("-e")
            .arg(format!("@{}", self.tmp.join("vault.yml").display()))
            .env("PATH", path)
            .env("FAKE_SYSTEMD_DIR", self.tmp.join("systemd"))
            .env("FAKE_SYSTEMD_STATE", self.tmp.join("systemd-state"))
            .env("FAKE_SYSTEMD_LOG", self.tmp.join("systemctl.log")));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), stdout)
    }

    fn ansible(&self, playbook: &str, args: &[&str]) -> String {
        let (ok, stdout) = self.try_ansible(playbook, args);
        assert!(ok, "ansible-playbook {playbook} {args:?} failed:\n{stdout}");
        stdout
    }

    fn log(&self) -> Vec<String> {
        fs::read_to_string(self.tmp.join("systemctl.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn vault(out: &Path) -> String {
    e2e_common::vault_names(out)
        .into_iter()
        .map(|n| {
            if n == "vault_linkis_db_password" {
                format!("{n}: {DB_PASSWORD}\n")
            } else {
                format!("{n}: e2e-{n}\n")
            }
        })
        .collect()
}

/// `changed=` of h1 in the PLAY RECAP.
fn changed(stdout: &str) -> u32 {
    let recap = stdout.split("PLAY RECAP").nth(1).expect("a recap");
    let line = recap
        .lines()
        .find(|l| l.starts_with("h1 "))
        .expect("h1 in the recap");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("changed="))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs root, ansible-core, mariadbd and free ports 42001-42303; run by .ci/upgrade.sh"]
fn changes_yml_upgrades_1_3_2_to_1_4_0_once_keeping_the_old_release() {
    let tmp = std::env::temp_dir().join(format!("linkis-gen-upgrade-e2e-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    let db = MariaDb::start(&tmp.join("db"));
    // The database the spec names, empty, and its user.
    db.root(&format!(
        "CREATE DATABASE linkis; \
         CREATE USER 'linkis'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}'; \
         GRANT ALL ON linkis.* TO 'linkis'@'127.0.0.1';"
    ));
    // The manager tables site.yml's clear-server step empties on the first (cold) start.
    let manager = fs::read_to_string("tests/db_fixture/linkis_manager_ddl.sql").unwrap();
    db.root(&format!("USE linkis; {manager}"));
    write(&tmp.join("bin/systemctl"), FAKE_SYSTEMCTL, 0o755);
    fs::create_dir_all(tmp.join("systemd")).unwrap();
    write(
        &tmp.join("jdk/bin/java"),
        "#!/bin/sh\necho 'openjdk version \"1.8.0-stub\"' >&2\n",
        0o755,
    );
    let old = release(&tmp, "1.3.2");
    let new = release(&tmp, "1.4.0");
    let out = tmp.join("out");
    let host = tmp.join("hosts/h1");
    let group = sh(Command::new("id").arg("-gn"));

    render(
        &tmp,
        &spec("1.3.2", &old, db.port, &host.join("LinkisInstall")),
    );
    let env = Env::new(
        &tmp,
        &[
            (
                "linkis_engineconn_root_dir",
                host.join("engine").display().to_string(),
            ),
            (
                "linkis_web_root",
                host.join("web/dist").display().to_string(),
            ),
            (
                "linkis_nginx_conf_dir",
                host.join("nginx").display().to_string(),
            ),
            (
                "linkis_systemd_dir",
                tmp.join("systemd").display().to_string(),
            ),
            ("linkis_deploy_group", group),
            ("linkis_java_home", tmp.join("jdk").display().to_string()),
            ("linkis_min_free_disk_mb", "1".into()),
            ("linkis_upgrade_min_backup_free_mb", "1".into()),
            ("linkis_web_install_nginx", "false".into()),
            ("linkis_web_reload", "false".into()),
            ("linkis_clear_server_check_mysql", "false".into()),
            ("linkis_start_timeout", "20".into()),
            ("linkis_register_timeout", "20".into()),
        ],
    );

    // 1.3.2 installed (the ports must be free for the first install's preflight), then started
    // and verified against the stand-in services.
    env.ansible("site.yml", &["--skip-tags", "start,verify"]);
    fake_cluster();
    env.ansible("site.yml", &[]);
    let applied = fs::read_to_string(out.join(".linkis-gen/applied.json")).unwrap();
    assert!(applied.contains("\"release\": \"1.3.2\""), "{applied}");
    let started_old: Vec<String> = env.log();
    assert_eq!(started_old.len(), PORTS.len(), "{started_old:?}");
    let old_home = tmp.join("hosts/h1/LinkisInstall-1.3.2");
    for l in &started_old {
        assert!(l.ends_with(&old_home.display().to_string()), "{l}");
    }
    // The running release's data.
    db.root("CREATE TABLE linkis.linkis_e2e_jobs (id INT PRIMARY KEY); INSERT INTO linkis.linkis_e2e_jobs VALUES (7);");

    // The spec moves to 1.4.0: the render is an upgrade plan.
    render(
        &tmp,
        &spec("1.4.0", &new, db.port, &host.join("LinkisInstall")),
    );
    let plan = fs::read_to_string(out.join("CHANGES.md")).unwrap();
    assert!(
        plan.contains("# Upgrade plan: Linkis 1.3.2 → 1.4.0"),
        "{plan}"
    );
    assert!(plan.contains("1.4.0: `db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql`"));

    let backup = tmp.join("backup");
    let backup_arg = format!("linkis_upgrade_backup_dir={}", backup.display());
    // No migration without this upgrade's dump, whatever the tags: `--tags migrate` alone fails
    // safe, with the backup directory unset (never "/linkis-...sql") or without the dump, or
    // with an empty one.
    let no_history = || db.root("SHOW TABLES FROM linkis LIKE 'linkis_gen_schema_history'");
    for args in [
        vec!["--tags", "migrate"],
        vec!["--tags", "migrate", "-e", &backup_arg],
    ] {
        let (ok, log) = env.try_ansible("changes.yml", &args);
        assert!(!ok, "{args:?}: {log}");
        assert!(log.contains("No migration without a dump"), "{log}");
        assert_eq!(no_history(), "", "{args:?} migrated");
    }
    assert!(!Path::new("/linkis-1.3.2-before-1.4.0.sql").exists());
    write(&backup.join("linkis-1.3.2-before-1.4.0.sql"), "", 0o600);
    let (ok, log) = env.try_ansible("changes.yml", &["--tags", "migrate", "-e", &backup_arg]);
    assert!(!ok && log.contains(" is empty on h1"), "{log}");
    assert_eq!(no_history(), "");
    fs::remove_dir_all(&backup).unwrap();

    let log_before = env.log().len();
    let first = env.ansible("changes.yml", &["-e", &backup_arg]);
    assert!(
        first.contains("applied: db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql"),
        "{first}"
    );

    // The migration ran, once, recorded; the running release's data is still there.
    assert_eq!(
        db.root("SELECT CONCAT(version, ' ', script, ' ', release_from, ' ', release_to) FROM linkis.linkis_gen_schema_history ORDER BY script"),
        "1.4.0 db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql 1.3.2 1.4.0\n\
         1.4.0 db/upgrade/1.4.0_schema/mysql/linkis_dml.sql 1.3.2 1.4.0"
    );
    assert_eq!(
        db.root("SELECT note FROM linkis.linkis_e2e_upgraded"),
        "the 1.4.0 dml"
    );
    assert_eq!(
        db.root("SELECT CONCAT(id, ' ', upgraded_by) FROM linkis.linkis_e2e_jobs"),
        "7 stub"
    );
    // The dump was taken before the migration.
    let dumps: Vec<_> = fs::read_dir(&backup).unwrap().flatten().collect();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    let dump = fs::read_to_string(dumps[0].path()).unwrap();
    assert!(dumps[0].file_name().to_string_lossy() == "linkis-1.3.2-before-1.4.0.sql");
    assert!(dump.contains("CREATE TABLE `linkis_e2e_jobs`"), "{dump}");
    assert!(!dump.contains("linkis_e2e_upgraded"));

    // Both releases on disk; LINKIS_HOME is the new one.
    let new_home = tmp.join("hosts/h1/LinkisInstall-1.4.0");
    assert!(old_home.join("lib/linkis-commons/RELEASE-1.3.2").is_file());
    assert!(new_home.join("lib/linkis-commons/RELEASE-1.4.0").is_file());
    assert_eq!(fs::read_link(host.join("LinkisInstall")).unwrap(), new_home);
    assert!(
        new_home.join("conf/linkis-systemd.env").is_file(),
        "configured"
    );

    // Every unit stopped (reverse start order), then started again from 1.4.0.
    let log = env.log()[log_before..].to_vec();
    let stops: Vec<&str> = log.iter().filter_map(|l| l.strip_prefix("stop ")).collect();
    assert_eq!(
        stops,
        [
            "linkis-cg-engineconnmanager",
            "linkis-cg-entrance",
            "linkis-cg-linkismanager",
            "linkis-ps-publicservice",
            "linkis-mg-gateway",
            "linkis-mg-eureka"
        ],
        "{log:?}"
    );
    let starts: Vec<&String> = log.iter().filter(|l| l.starts_with("start ")).collect();
    assert_eq!(starts.len(), PORTS.len(), "{log:?}");
    let first_start = log.iter().position(|l| l.starts_with("start ")).unwrap();
    assert!(log[..first_start].iter().all(|l| l.starts_with("stop ")));
    for l in &starts {
        assert!(
            l.ends_with(&new_home.display().to_string()),
            "{l} runs the old release"
        );
    }
    assert!(
        starts[0].starts_with("start linkis-mg-eureka "),
        "{starts:?}"
    );
    let applied = fs::read_to_string(out.join(".linkis-gen/applied.json")).unwrap();
    assert!(applied.contains("\"release\": \"1.4.0\""), "{applied}");

    // A second run (as after a failure) applies nothing and keeps the first dump.
    let second = env.ansible("changes.yml", &["-e", &backup_arg]);
    assert!(
        second.contains("already applied: db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql"),
        "{second}"
    );
    assert!(!second.contains("\"applied: db/"), "{second}");
    assert_eq!(
        db.root("SELECT COUNT(*) FROM linkis.linkis_gen_schema_history"),
        "2"
    );
    assert_eq!(
        db.root("SELECT COUNT(*) FROM linkis.linkis_e2e_upgraded"),
        "1"
    );
    assert_eq!(fs::read_to_string(dumps[0].path()).unwrap(), dump);
    assert!(changed(&second) > 0, "the stopped units start again");

    drop(db);
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
#[ignore = "needs ansible-core and free ports 43001-43848; run by .ci/upgrade.sh"]
fn verify_asks_nacos_for_every_instance_and_names_the_missing_ones() {
    let tmp = std::env::temp_dir().join(format!("linkis-gen-nacos-e2e-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    // 1.5.0 with Nacos on one host: five services (no Eureka), away from the default ports.
    let ports: [(&str, u16); 5] = [
        ("gateway", 43001),
        ("publicservice", 43105),
        ("linkismanager", 43101),
        ("entrance", 43104),
        ("engineconnmanager", 43102),
    ];
    let nacos_port = 43848;
    let text = spec_text(
        "1.5.0",
        &format!(
            "  package: files/apache-linkis-1.5.0-bin.tar.gz\n  discovery: nacos\n  \
             nacos_address: 127.0.0.1:{nacos_port}"
        ),
        3306,
        &ports,
    );
    render(&tmp, &text);
    let env = Env::new(&tmp, &[("linkis_register_timeout", "10".into())]);

    // Nacos lists what `registered` holds: serviceName -> (port, healthy).
    type Registry = std::sync::Arc<std::sync::Mutex<Vec<(String, u16, bool)>>>;
    let registered: Registry = Default::default();
    let all: Vec<(String, u16, bool)> = ports
        .iter()
        .map(|(s, p)| {
            let daemon = match *s {
                "gateway" => "mg-gateway",
                "publicservice" => "ps-publicservice",
                "linkismanager" => "cg-linkismanager",
                "entrance" => "cg-entrance",
                _ => "cg-engineconnmanager",
            };
            (format!("linkis-{daemon}"), *p, true)
        })
        .collect();
    for (_, p) in ports {
        serve(p, std::sync::Arc::new(|_: &str| HEALTH_UP.to_string()));
    }
    let reg = registered.clone();
    serve(
        nacos_port,
        std::sync::Arc::new(move |req: &str| {
            let name = req
                .split("serviceName=")
                .nth(1)
                .and_then(|r| r.split([' ', '&']).next())
                .unwrap_or_default()
                .to_string();
            let hosts: Vec<String> = reg
                .lock()
                .unwrap()
                .iter()
                .filter(|(n, _, _)| *n == name)
                .map(|(_, p, healthy)| {
                    format!(r#"{{"ip":"127.0.0.1","port":{p},"healthy":{healthy},"enabled":true}}"#)
                })
                .collect();
            format!(
                r#"{{"name":"DEFAULT_GROUP@@{name}","hosts":[{}]}}"#,
                hosts.join(",")
            )
        }),
    );
    let args = ["--tags", "verify"];

    *registered.lock().unwrap() = all.clone();
    let (ok, stdout) = env.try_ansible("site.yml", &args);
    assert!(ok, "verify failed with every instance in Nacos:\n{stdout}");
    assert!(
        stdout.contains("Nacos lists all 5 expected instances"),
        "{stdout}"
    );

    // The entrance never registered; the ECM is listed, unhealthy.
    *registered.lock().unwrap() = all
        .iter()
        .filter(|(n, _, _)| n != "linkis-cg-entrance")
        .map(|(n, p, _)| (n.clone(), *p, n != "linkis-cg-engineconnmanager"))
        .collect();
    let (ok, stdout) = env.try_ansible("site.yml", &args);
    assert!(!ok, "verify passed without the entrance:\n{stdout}");
    let msg = stdout
        .lines()
        .find(|l| l.contains("Not registered in Nacos: "))
        .unwrap_or_else(|| panic!("no failure message in:\n{stdout}"));
    assert!(msg.contains("LINKIS-CG-ENTRANCE on h1 port 43104"), "{msg}");
    assert!(
        msg.contains("LINKIS-CG-ENGINECONNMANAGER on h1 port 43102"),
        "{msg}"
    );
    assert!(!msg.contains("GATEWAY"), "{msg}");
    let _ = fs::remove_dir_all(&tmp);
}
