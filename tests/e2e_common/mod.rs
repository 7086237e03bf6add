//! Fixtures shared by the end-to-end tests (apply_e2e, upgrade_e2e, backup_e2e, db_bootstrap):
//! running commands, writing files, running the rendered playbooks, a real MariaDB server of the
//! test's own, and a stub Linkis release tarball.
//!
//! Real: the database is Debian's `mariadbd`, installed into a fresh datadir of its own with
//! `mariadb-install-db`, listening on 127.0.0.1 and a free port, stopped by PID when dropped.
//! Faked: the release is a tarball of our own small files, not Apache Linkis'.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// Runs `cmd`; its output, whether it succeeded or not.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"))
}

/// Runs `cmd`, which must succeed; its stdout, trimmed.
pub fn sh(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{:?} failed:\n{}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Writes `text` to `path` with `mode`, making its directory first.
pub fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The permission bits of `path` (with setuid, setgid and sticky).
#[allow(dead_code)] // not upgrade_e2e's
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The vault variables the rendered tree OUT asks for: the names its group_vars lists under
/// `linkis_vault_variables`, in order.
pub fn vault_names(out: &Path) -> Vec<String> {
    let vars = fs::read_to_string(out.join("inventory/group_vars/all/main.yml")).unwrap();
    vars.split("linkis_vault_variables:\n")
        .nth(1)
        .expect("group_vars lists the vault variables")
        .lines()
        .map_while(|l| l.strip_prefix("  - "))
        .map(str::to_string)
        .collect()
}

/// The ansible.cfg the tests run ansible-playbook with (TMP/ansible.cfg).
pub const ANSIBLE_CFG: &str = "[defaults]\nhost_key_checking = False\nstdout_callback = default\n";

/// `ansible-playbook` as the tests run a playbook of the rendered tree OUT: in TMP, with OUT's
/// inventory and TMP/local.yml (the hosts on this machine), without colours, with its temp dirs
/// under TMP and TMP/ansible.cfg; the caller adds its options.
pub fn ansible_playbook(tmp: &Path, out: &Path, playbook: &str) -> Command {
    let mut c = Command::new("ansible-playbook");
    c.current_dir(tmp)
        .arg("-i")
        .arg(out.join("inventory/hosts.yml"))
        .arg("-i")
        .arg(tmp.join("local.yml"))
        .arg(out.join(playbook))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env("ANSIBLE_LOCAL_TEMP", tmp.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", tmp.join("ansible-remote"))
        .env("ANSIBLE_CONFIG", tmp.join("ansible.cfg"));
    c
}

/// `changed=` per host from the PLAY RECAP, after checking that nothing failed and every host
/// was reached.
#[allow(dead_code)] // not upgrade_e2e's
pub fn recap(stdout: &str) -> BTreeMap<String, u32> {
    let mut changed = BTreeMap::new();
    let recap = stdout
        .split("PLAY RECAP")
        .nth(1)
        .unwrap_or_else(|| panic!("no PLAY RECAP in:\n{stdout}"));
    for line in recap.lines().filter(|l| l.contains("ok=")) {
        let host = line.split_whitespace().next().unwrap().to_string();
        let field = |name: &str| -> u32 {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(field("failed"), 0, "{line}");
        assert_eq!(field("unreachable"), 0, "{line}");
        changed.insert(host, field("changed"));
    }
    changed
}

/// A MariaDB server of the test's own: a fresh datadir under `dir`, on 127.0.0.1 and a free port,
/// run as the current user; stopped by PID when dropped. It has only root (by socket) until the
/// test creates the user its spec names.
pub struct MariaDb {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl MariaDb {
    /// Starts the server and waits (up to 30 s) until root can run SQL.
    pub fn start(dir: &Path) -> MariaDb {
        let dir = dir.to_path_buf();
        let data = dir.join("data");
        fs::create_dir_all(&data).unwrap();
        let user = sh(Command::new("id").arg("-un"));
        sh(Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={user}"))
            .arg("--auth-root-authentication-method=socket")
            .arg("--skip-test-db"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.join("sock").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", dir.join("error.log").display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--user={user}"))
            .arg("--skip-log-bin")
            .spawn()
            .expect("mariadbd starts");
        let db = MariaDb { child, dir, port };
        for _ in 0..120 {
            if db.try_root("SELECT 1").is_some() {
                return db;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!(
            "mariadbd did not come up:\n{}",
            fs::read_to_string(db.dir.join("error.log")).unwrap_or_default()
        );
    }

    /// Runs SQL as root over the socket; its output (tab-separated rows, values unescaped), or
    /// None if it failed.
    pub fn try_root(&self, sql: &str) -> Option<String> {
        let out = run(Command::new("mysql")
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .args([
                "--user=root",
                "--batch",
                "--raw",
                "--skip-column-names",
                "--execute",
                sql,
            ]));
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// Runs SQL as root over the socket; its output, tab-separated rows.
    pub fn root(&self, sql: &str) -> String {
        self.try_root(sql)
            .unwrap_or_else(|| panic!("root query failed: {sql}"))
    }

    /// The rows of the fixture's tables (tests/db_fixture) that the tests count: gateway tokens,
    /// resource providers, manager labels, tab-separated.
    #[allow(dead_code)] // not upgrade_e2e's
    pub fn fixture_counts(&self) -> String {
        self.root(
            "SELECT (SELECT COUNT(*) FROM linkis.linkis_mg_gateway_auth_token), \
             (SELECT COUNT(*) FROM linkis.linkis_cg_rm_external_resource_provider), \
             (SELECT COUNT(*) FROM linkis.linkis_cg_manager_label)",
        )
    }

    /// `mysqldump` of one database, without the dump date, to compare before and after.
    #[allow(dead_code)] // apply_e2e's; upgrade_e2e reads the dump the playbook writes
    pub fn dump(&self, db: &str) -> String {
        sh(Command::new("mysqldump")
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.dir.join("sock").display()))
            .args(["--user=root", "--skip-dump-date", "--databases", db]))
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A stub release tarball, TMP/apache-linkis-`version`-bin.tar.gz, built in TMP/release-`version`:
/// LINKIS_HOME under linkis-package/ with a daemon script that only echoes, an empty
/// sbin/ext/linkis-common-start and a stock conf/linkis.properties ("# stock\n"), plus `files`
/// (path under the release's root, text, mode). Every top-level directory is packed, linkis-package
/// first.
pub fn stub_release(tmp: &Path, version: &str, files: &[(&str, &str, u32)]) -> PathBuf {
    let rel = tmp.join(format!("release-{version}"));
    let stock: [(&str, &str, u32); 3] = [
        (
            "linkis-package/sbin/linkis-daemon.sh",
            "#!/bin/sh\necho stub daemon \"$@\"\n",
            0o755,
        ),
        (
            "linkis-package/sbin/ext/linkis-common-start",
            "#!/bin/sh\n",
            0o755,
        ),
        ("linkis-package/conf/linkis.properties", "# stock\n", 0o644),
    ];
    let mut tops: Vec<&str> = Vec::new();
    for (path, text, mode) in stock.iter().chain(files) {
        write(&rel.join(path), text, *mode);
        let top = path.split('/').next().unwrap();
        if !tops.contains(&top) {
            tops.push(top);
        }
    }
    let tarball = tmp.join(format!("apache-linkis-{version}-bin.tar.gz"));
    sh(Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&rel)
        .args(&tops));
    tarball
}

/// Reads an HTTP request up to the blank line that ends its head (or EOF, or 4 KiB), as an HTTP
/// server does: a client may send the request line and its headers in separate writes (bash's
/// printf writes line by line), and a stub that read once would answer and close before the rest.
pub fn read_request(c: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while req.len() < 4096 && !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&req).to_string()
}

/// A PostgreSQL server of the test's own: Debian's binaries (`/usr/lib/postgresql/*/bin`), a
/// fresh cluster under `dir` owned by `nobody` (initdb refuses root), on 127.0.0.1 and a free
/// port, passwords required over TCP (scram-sha-256), the superuser `postgres` by the Unix socket
/// only; stopped (pg_ctl stop) when dropped.
#[allow(dead_code)] // backup_e2e's
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

#[allow(dead_code)]
impl Postgres {
    /// The newest installed server's bin directory, if any.
    pub fn bin_dir() -> Option<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").is_file())
            .collect();
        dirs.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        dirs.pop()
    }

    /// Runs `args` as `nobody` (with `runuser` when root).
    fn as_owner(&self, program: &str) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(self.bin.join(program));
        c
    }

    pub fn start(dir: &Path) -> Postgres {
        let bin = Postgres::bin_dir().expect("a PostgreSQL server under /usr/lib/postgresql");
        let dir = dir.to_path_buf();
        fs::create_dir_all(&dir).unwrap();
        sh(Command::new("chown").arg("nobody").arg(&dir));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres { bin, dir, port };
        let data = pg.dir.join("data");
        sh(pg.as_owner("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ]));
        sh(pg
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(pg.dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.dir.display()
            ))
            .args(["-w", "-t", "60", "start"]));
        pg
    }

    /// Runs SQL as the superuser over the socket, in database `db`; its output (unaligned rows,
    /// `|` between columns), or None if it failed.
    pub fn try_super(&self, db: &str, sql: &str) -> Option<String> {
        let out = run(self
            .as_owner("psql")
            .arg(format!("--host={}", self.dir.display()))
            .arg(format!("--port={}", self.port))
            .args([
                "--username=postgres",
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
            ])
            .arg(format!("--dbname={db}"))
            .arg("--command")
            .arg(sql));
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_super(db, sql)
            .unwrap_or_else(|| panic!("superuser query failed: {sql}"))
    }

    /// A plain `pg_dump` of one database, to compare before and after (without the random key
    /// of its `\\restrict` lines).
    pub fn dump(&self, db: &str) -> String {
        let text = sh(self
            .as_owner("pg_dump")
            .arg(format!("--host={}", self.dir.display()))
            .arg(format!("--port={}", self.port))
            .args(["--username=postgres", "--no-owner"])
            .arg(format!("--dbname={db}")));
        text.lines()
            .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .as_owner("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .output();
    }
}

/// The Linkis ports of the one-host specs of the end-to-end tests (away from the defaults).
pub const E2E_PORTS: &str = "{ eureka: 44303, gateway: 44001, publicservice: 44105, linkismanager: 44101, entrance: 44104, engineconnmanager: 44102 }";

/// A one-host spec on this machine (127.0.0.1) against a database on `port`: the release,
/// `db_type` (empty, or `"\n  type: postgresql"`), the YARN address and the spark version.
pub fn local_spec(version: &str, db_type: &str, port: u16, yarn_url: &str, spark: &str) -> String {
    format!(
        r#"version: 1
cluster: {{ name: t, linkis_version: "{version}", package: files/linkis.tar.gz, deploy_user: root, prefer_ip: true }}
database:{db_type}
  host: 127.0.0.1
  port: {port}
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
hadoop:
  yarn_url: {yarn_url}
sizing:
  concurrent_users: 2
  engines:
    spark: {{ memory: 1G, cores: 1, version: "{spark}" }}
host_defaults: {{ memory: 64G, cores: 8 }}
hosts:
  - {{ name: h1, address: 127.0.0.1, ports: {E2E_PORTS} }}
"#
    )
}
