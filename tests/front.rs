//! The front door with the real tools (run by .ci/front.sh, which installs them):
//! - TLS: a CA and a certificate made with `openssl`, the rendered site under a real nginx on
//!   loopback in front of a stub gateway: https reaches the gateway, plain http only redirects,
//!   TLS 1.1 is refused by the server, the security headers and the websocket upgrade headers.
//! - the firewall: the rendered nftables file of a host loaded into a network namespace (real
//!   nftables, veth pairs, 10.250.x addresses inside the namespaces only): a Linkis port is
//!   reachable from a cluster host and refused from an outsider; ssh and the web front stay open.
//! - keepalived: `keepalived -t` on every rendered config.

#[allow(dead_code)]
mod e2e_common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_common::{run, sh, write};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_linkis-gen")
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("front-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn render(spec: &str, dir: &Path) -> PathBuf {
    let path = dir.join("spec.yaml");
    write(&path, spec, 0o644);
    let out = dir.join("out");
    let o = run(Command::new(bin())
        .arg("render")
        .arg(&path)
        .arg("-o")
        .arg(&out));
    assert!(
        o.status.success(),
        "render failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// A process of the test's own, stopped by PID when dropped: SIGTERM, so that nginx's master
/// stops its workers too (SIGKILL would leave them behind).
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(port: u16) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A stub gateway on 127.0.0.1:`port`: answers every request 200 with the request's head as its
/// body, and records the heads.
fn stub_gateway(port: u16) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let l = TcpListener::bind(("127.0.0.1", port)).expect("stub gateway port");
    let s = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let head = e2e_common::read_request(&mut c);
            s.lock().unwrap().push(head.clone());
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                head.len()
            );
        }
    });
    seen
}

/// A CA, and a server certificate for 127.0.0.1 signed by it (openssl, in `dir`).
fn make_ca_and_cert(dir: &Path) {
    let ossl = |args: &[&str]| {
        sh(Command::new("openssl").args(args).current_dir(dir));
    };
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=linkis-gen test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "web.key",
        "-out",
        "web.csr",
    ]);
    write(
        &dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        0o644,
    );
    ossl(&[
        "x509",
        "-req",
        "-in",
        "web.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "web.crt",
    ]);
}

/// An nginx.conf of the test's own that includes the rendered site, with every path in `dir`.
fn nginx_conf(dir: &Path, site: &Path) -> PathBuf {
    let d = dir.display();
    let conf = dir.join("nginx.conf");
    write(
        &conf,
        &format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n    access_log off;\n    \
             client_body_temp_path {d}/cbt;\n    proxy_temp_path {d}/pt;\n    fastcgi_temp_path {d}/ft;\n    \
             uwsgi_temp_path {d}/ut;\n    scgi_temp_path {d}/st;\n    include {};\n}}\n",
            site.display()
        ),
        0o644,
    );
    conf
}

fn curl(args: &[&str]) -> (bool, String) {
    let o = run(Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args));
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn spec_with_web(install_dir: &str, gateway_port: u16, web: &str, extra: &str) -> String {
    format!(
        r#"version: 1
cluster: {{ name: tls-demo, linkis_version: "1.3.2", package: files/linkis.tar.gz, install_dir: {install_dir} }}
database: {{ host: 127.0.0.1, name: linkis, user: linkis, password: {{ vault: vault_db }} }}
gateway:
  web:
{web}
sizing:
  concurrent_users: 5
  engines: {{ spark: {{ memory: 1G }} }}
host_defaults: {{ memory: 64G, cores: 16 }}
hosts:
  - {{ name: web1, address: 127.0.0.1, ports: {{ gateway: {gateway_port} }} }}
{extra}"#
    )
}

#[test]
#[ignore = "needs nginx, openssl and curl; run by .ci/front.sh"]
fn tls_front_under_real_nginx() {
    let dir = tmp("tls");
    make_ca_and_cert(&dir);
    let (gw, https, redirect) = (free_port(), free_port(), free_port());
    let install = dir.join("linkis");
    write(
        &install.join("web/dist/index.html"),
        "<html>linkis console</html>\n",
        0o644,
    );
    let web = format!(
        "    tls:\n      certificate: {d}/web.crt\n      key: {d}/web.key\n      listen: {https}\n      http_redirect: {redirect}\n",
        d = dir.display()
    );
    let out = render(
        &spec_with_web(&install.display().to_string(), gw, &web, ""),
        &dir,
    );
    let site = out.join("nginx/linkis.conf");
    let conf = nginx_conf(&dir, &site);
    sh(Command::new("nginx")
        .arg("-t")
        .arg("-q")
        .arg("-c")
        .arg(&conf));

    let seen = stub_gateway(gw);
    let _nginx = Proc(
        Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .spawn()
            .expect("nginx runs"),
    );
    wait_port(https);
    wait_port(redirect);
    let ca = dir.join("ca.pem").display().to_string();
    let base = format!("https://127.0.0.1:{https}");

    // https through nginx reaches the gateway, with the certificate the CA signed.
    let (ok, text) = curl(&[
        "-i",
        "--cacert",
        &ca,
        &format!("{base}/api/rest_j/v1/user/info"),
    ]);
    assert!(ok, "{text}");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("GET /api/rest_j/v1/user/info HTTP/1.1"),
        "{text}"
    );
    assert!(text.contains("X-Forwarded-Proto: https"), "{text}");
    let lower = text.to_ascii_lowercase();
    for header in [
        "strict-transport-security: max-age=63072000",
        "x-content-type-options: nosniff",
        "x-frame-options: sameorigin",
        "referrer-policy: strict-origin-when-cross-origin",
        "content-security-policy: frame-ancestors 'self'",
        "server: nginx\r\n",
    ] {
        assert!(lower.contains(header), "{header} missing:\n{text}");
    }
    // Without the CA, the certificate is not trusted: the test's CA is what makes it pass.
    let (ok, _) = curl(&[&format!("{base}/api/x")]);
    assert!(
        !ok,
        "curl trusted a certificate of the test's own CA without --cacert"
    );

    // The console's files are served, with the headers.
    let (ok, text) = curl(&["-i", "--cacert", &ca, &format!("{base}/")]);
    assert!(ok && text.contains("linkis console"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("x-frame-options: sameorigin"),
        "{text}"
    );

    // The websocket path forwards the upgrade headers.
    let (ok, text) = curl(&[
        "--cacert",
        &ca,
        "-H",
        "Connection: Upgrade",
        "-H",
        "Upgrade: websocket",
        "-H",
        "Sec-WebSocket-Version: 13",
        "-H",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        &format!("{base}/ws/api/entrance/connect"),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("GET /ws/api/entrance/connect HTTP/1.1"),
        "{text}"
    );
    assert!(text.contains("Upgrade: websocket"), "{text}");
    assert!(text.contains("Connection: upgrade"), "{text}");
    assert!(
        text.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="),
        "{text}"
    );

    // Plain http only redirects: 301 to https, and the gateway never sees the request.
    let before = seen.lock().unwrap().len();
    let (ok, text) = curl(&[
        "-i",
        &format!("http://127.0.0.1:{redirect}/api/rest_j/v1/secret?a=1"),
    ]);
    assert!(ok, "{text}");
    assert!(text.starts_with("HTTP/1.1 301"), "{text}");
    assert!(
        text.contains(&format!(
            "Location: https://127.0.0.1:{https}/api/rest_j/v1/secret?a=1"
        )),
        "{text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("server: nginx\r\n"),
        "{text}"
    );
    assert_eq!(
        seen.lock().unwrap().len(),
        before,
        "the redirect listener proxied a request"
    );

    // TLS 1.2 and 1.3 are served; TLS 1.1 is refused by the server (the client offers it at
    // security level 0, so the refusal is nginx's, a protocol-version alert).
    let s_client = |proto: &str| {
        let o = run(Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{https}"), proto])
            .args(["-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", &ca])
            .stdin(std::process::Stdio::null()));
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    for ok_proto in ["-tls1_2", "-tls1_3"] {
        let (ok, text) = s_client(ok_proto);
        assert!(
            ok && text.contains("Verify return code: 0 (ok)"),
            "{ok_proto}:\n{text}"
        );
    }
    let (ok, text) = s_client("-tls1_1");
    assert!(!ok, "TLS 1.1 was accepted:\n{text}");
    assert!(
        text.contains("alert protocol version"),
        "not refused by the server:\n{text}"
    );
    let (ok, text) = curl(&[
        "--cacert",
        &ca,
        "--tlsv1.1",
        "--tls-max",
        "1.1",
        &format!("{base}/api/x"),
    ]);
    assert!(!ok, "curl with TLS 1.1 at most got through:\n{text}");
}

#[test]
#[ignore = "needs nginx; run by .ci/front.sh"]
fn the_plain_front_has_the_headers_and_no_server_tokens_too() {
    let dir = tmp("plain");
    let gw = free_port();
    let listen = free_port();
    let install = dir.join("linkis");
    write(
        &install.join("web/dist/index.html"),
        "<html>console</html>\n",
        0o644,
    );
    let out = render(
        &spec_with_web(
            &install.display().to_string(),
            gw,
            &format!("    listen: {listen}\n"),
            "",
        ),
        &dir,
    );
    let conf = nginx_conf(&dir, &out.join("nginx/linkis.conf"));
    let seen = stub_gateway(gw);
    let _nginx = Proc(
        Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .spawn()
            .expect("nginx runs"),
    );
    wait_port(listen);
    let (ok, text) = curl(&["-i", &format!("http://127.0.0.1:{listen}/api/rest_j/v1/x")]);
    assert!(ok && text.starts_with("HTTP/1.1 200"), "{text}");
    let lower = text.to_ascii_lowercase();
    for header in [
        "x-content-type-options: nosniff",
        "x-frame-options: sameorigin",
        "referrer-policy:",
        "server: nginx\r\n",
    ] {
        assert!(lower.contains(header), "{header} missing:\n{text}");
    }
    assert!(
        !lower.contains("strict-transport-security"),
        "HSTS over plain http:\n{text}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// Network namespaces of the test's own, deleted (with what runs in them) when dropped.
struct Netns(Vec<String>);
impl Drop for Netns {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn ns(name: &str, args: &[&str]) -> std::process::Output {
    run(Command::new("ip").args(["netns", "exec", name]).args(args))
}

/// Whether a TCP connection from namespace `from` to `addr`:`port` opens within 3 s.
fn connects(from: &str, addr: &str, port: u16) -> bool {
    ns(
        from,
        &[
            "timeout",
            "3",
            "bash",
            "-c",
            &format!("exec 3<>/dev/tcp/{addr}/{port}"),
        ],
    )
    .status
    .success()
}

#[test]
#[ignore = "needs root, ip netns and nftables; run by .ci/front.sh"]
fn the_firewall_lets_the_cluster_in_and_keeps_outsiders_out() {
    let dir = tmp("firewall");
    let tag = std::process::id() % 100_000;
    let (host, peer, outsider, allowed) = (
        format!("lgf-host-{tag}"),
        format!("lgf-peer-{tag}"),
        format!("lgf-out-{tag}"),
        format!("lgf-allow-{tag}"),
    );
    let _guard = Netns(vec![
        host.clone(),
        peer.clone(),
        outsider.clone(),
        allowed.clone(),
    ]);
    // The "host" namespace has one veth to each of the others: 10.250.N.1 on its side,
    // 10.250.N.2 on theirs. Traffic stays inside the namespaces.
    for n in [&host, &peer, &outsider, &allowed] {
        sh(Command::new("ip").args(["netns", "add", n]));
        sh(Command::new("ip").args(["-n", n, "link", "set", "lo", "up"]));
    }
    for (i, other) in [&peer, &outsider, &allowed].iter().enumerate() {
        let net = i + 1;
        let (a, b) = (format!("lgf{tag}h{net}"), format!("lgf{tag}o{net}"));
        sh(Command::new("ip").args([
            "link", "add", &a, "netns", &host, "type", "veth", "peer", "name", &b, "netns", other,
        ]));
        sh(Command::new("ip").args([
            "-n",
            &host,
            "addr",
            "add",
            &format!("10.250.{net}.1/24"),
            "dev",
            &a,
        ]));
        sh(Command::new("ip").args([
            "-n",
            other,
            "addr",
            "add",
            &format!("10.250.{net}.2/24"),
            "dev",
            &b,
        ]));
        sh(Command::new("ip").args(["-n", &host, "link", "set", &a, "up"]));
        sh(Command::new("ip").args(["-n", other, "link", "set", &b, "up"]));
    }
    // The cluster: h1 (the host namespace) runs the control services, h2 (the peer) the ECM.
    let spec = r#"version: 1
cluster: { name: fw-demo, linkis_version: "1.3.2", package: files/linkis.tar.gz }
database: { host: 10.250.9.9, name: linkis, user: linkis, password: { vault: vault_db } }
sizing:
  concurrent_users: 5
  engines: { spark: { memory: 1G } }
storage: { engine_ports: 30000-31000 }
host_defaults: { memory: 64G, cores: 16 }
hosts:
  - { name: h1, address: 10.250.1.1, roles: [control, ecm] }
  - { name: h2, address: 10.250.1.2, roles: [ecm] }
security:
  firewall: true
  allow_from: [10.250.3.0/24]
"#;
    let out = render(spec, &dir);
    let nft = out.join("hosts/h1/nftables/linkis.nft");
    let text = std::fs::read_to_string(&nft).unwrap();
    assert!(text.contains("table inet linkis {"), "{text}");
    for needle in ["9001", "20303", "30000-31000"] {
        assert!(text.contains(needle), "{needle} not restricted:\n{text}");
    }

    // A listener in the host namespace on a Linkis port (the gateway's), an engine port, Eureka's,
    // ssh's and the web front's.
    let ports = [9001u16, 30500, 20303, 22, 8088];
    let listener = format!(
        "import socket,selectors,sys\nsel=selectors.DefaultSelector()\nfor p in {ports:?}:\n    \
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',p)); \
         s.listen(16); sel.register(s,selectors.EVENT_READ)\nprint('ready',flush=True)\nwhile True:\n    \
         for k,_ in sel.select():\n        c,_=k.fileobj.accept(); c.close()\n"
    );
    let mut child = Command::new("ip")
        .args(["netns", "exec", &host, "/usr/bin/python3", "-c", &listener])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
    }
    let _listener = Proc(child);

    // Before the rules: everyone reaches every port (what the rules then change is theirs).
    for p in ports {
        assert!(
            connects(&outsider, "10.250.2.1", p),
            "outsider to {p} before the rules"
        );
    }

    // nft -c, then load it twice (a reload replaces the table; the host's other tables stay).
    let nft = nft.display().to_string();
    let o = ns(&host, &["nft", "-c", "-f", &nft]);
    assert!(
        o.status.success(),
        "nft -c: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = ns(&host, &["nft", "add", "table", "inet", "hosts_own"]);
    assert!(o.status.success());
    for _ in 0..2 {
        let o = ns(&host, &["nft", "-f", &nft]);
        assert!(
            o.status.success(),
            "nft -f: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let ruleset =
        String::from_utf8_lossy(&ns(&host, &["nft", "list", "tables"]).stdout).to_string();
    assert!(
        ruleset.contains("table inet linkis") && ruleset.contains("table inet hosts_own"),
        "{ruleset}"
    );

    for p in [9001, 30500, 20303] {
        assert!(connects(&peer, "10.250.1.1", p), "cluster host h2 to {p}");
        assert!(connects(&allowed, "10.250.3.1", p), "allow_from to {p}");
        assert!(
            !connects(&outsider, "10.250.2.1", p),
            "outsider reached Linkis port {p}"
        );
        assert!(connects(&host, "127.0.0.1", p), "loopback to {p}");
    }
    for p in [22, 8088] {
        assert!(
            connects(&outsider, "10.250.2.1", p),
            "outsider to open port {p}"
        );
    }
}

/// `keepalived -t` as the role runs it: silent on a good config; Debian 12's 2.2.7 then exits by
/// SIGTERM (143, acassen/keepalived#2587), so 0 and 143 pass, and any message fails.
fn keepalived_t(netns: &str, conf: &Path) -> Result<(), String> {
    let o = ns(
        netns,
        &["keepalived", "-t", "-f", &conf.display().to_string()],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    use std::os::unix::process::ExitStatusExt;
    let ok_exit = o.status.code() == Some(0) || o.status.signal() == Some(15);
    if ok_exit && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("{:?}: {text}", o.status))
    }
}

#[test]
#[ignore = "needs root, ip netns, keepalived and the keepalived_script user; run by .ci/front.sh"]
fn keepalived_configs_pass_keepalived_t_and_the_track_script_follows_nginx_and_the_gateway() {
    let dir = tmp("keepalived");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(Command::new(bin())
        .arg("render")
        .arg(root.join("examples/every-field.yaml"))
        .arg("-o")
        .arg(dir.join("out")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("out");
    let check = out.join("roles/linkis_keepalived/files/linkis-front-check.sh");
    assert!(
        run(Command::new("id").arg("keepalived_script"))
            .status
            .success(),
        "the keepalived_script user is missing (.ci/front.sh creates it, as the role does)"
    );
    let tag = std::process::id() % 100_000;
    let netns = format!("lgk-{tag}");
    let _guard = Netns(vec![netns.clone()]);
    sh(Command::new("ip").args(["netns", "add", &netns]));
    let iface = format!("lgk{tag}a");
    sh(Command::new("ip").args([
        "-n",
        &netns,
        "link",
        "add",
        &iface,
        "type",
        "veth",
        "peer",
        "name",
        &format!("lgk{tag}b"),
    ]));
    write(
        &dir.join("iface.conf"),
        &format!("$LINKIS_IFACE={iface}\n"),
        0o644,
    );
    let mut checked = 0;
    for h in ["ctl-1", "ctl-2"] {
        let text =
            std::fs::read_to_string(out.join(format!("hosts/{h}/keepalived/keepalived.conf")))
                .unwrap()
                .replace(
                    "include /etc/keepalived/linkis-interface.conf",
                    &format!("include {}", dir.join("iface.conf").display()),
                )
                .replace(
                    "/etc/keepalived/linkis-front-check.sh",
                    &check.display().to_string(),
                );
        assert!(
            text.contains("virtual_router_id 42") && text.contains("10.0.2.100/32"),
            "{text}"
        );
        let conf = dir.join(format!("{h}.conf"));
        write(&conf, &text, 0o644);
        keepalived_t(&netns, &conf).unwrap_or_else(|e| panic!("{h}: {e}"));
        // The check sees a broken config: a peer that is not an address.
        let bad = dir.join(format!("{h}-bad.conf"));
        write(
            &bad,
            &text.replace("unicast_peer {\n", "unicast_peer {\n        10.0.2\n"),
            0o644,
        );
        assert!(
            keepalived_t(&netns, &bad).is_err(),
            "{h}: keepalived -t passed a bad peer"
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
    // ecm hosts run no gateway: no keepalived there.
    assert!(!out.join("hosts/ecm-1/keepalived").exists());
    let priorities: Vec<String> = ["ctl-1", "ctl-2"]
        .iter()
        .map(|h| {
            let t =
                std::fs::read_to_string(out.join(format!("hosts/{h}/keepalived/keepalived.conf")))
                    .unwrap();
            t.lines()
                .find(|l| l.trim().starts_with("priority"))
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    assert_eq!(priorities, ["priority 150", "priority 140"]);

    // The track script, as keepalived_script: healthy only while the web port accepts and the
    // gateway's /actuator/health answers 200.
    let (gw, web) = (free_port(), free_port());
    let health = Arc::new(Mutex::new("200 OK"));
    {
        let l = TcpListener::bind(("127.0.0.1", gw)).unwrap();
        let health = health.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let _ = e2e_common::read_request(&mut c);
                let status = *health.lock().unwrap();
                let _ = write!(c, "HTTP/1.0 {status}\r\nContent-Length: 2\r\n\r\n{{}}");
            }
        });
    }
    let track = |web: u16| {
        run(Command::new("setpriv")
            .args([
                "--reuid=keepalived_script",
                "--regid=nogroup",
                "--clear-groups",
            ])
            .arg(&check)
            .args(["127.0.0.1", &gw.to_string(), &web.to_string()]))
        .status
        .code()
    };
    assert_eq!(track(web), Some(1), "healthy without nginx");
    let nginx = TcpListener::bind(("127.0.0.1", web)).unwrap();
    assert_eq!(
        track(web),
        Some(0),
        "not healthy with nginx and the gateway up"
    );
    *health.lock().unwrap() = "503 Service Unavailable";
    assert_eq!(track(web), Some(1), "healthy with the gateway down");
    drop(nginx);
}

#[test]
fn the_fronts_ports_may_not_clash_with_a_gateway_hosts_services_or_ssh() {
    let dir = tmp("clash");
    let spec = spec_with_web("/opt/linkis", 9001, "    listen: 9001\n", "");
    let path = dir.join("spec.yaml");
    write(&path, &spec, 0o644);
    let o = run(Command::new(bin()).arg("validate").arg(&path));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[port-clash]: gateway.web.listen: nginx and gateway would both listen on port 9001 on web1"),
        "{err}"
    );
    let tls = "    tls: { certificate: files/w.crt, key: { vault: vault_w }, listen: 8443, http_redirect: 22 }\n";
    write(&path, &spec_with_web("/opt/linkis", 9001, tls, ""), 0o644);
    let o = run(Command::new(bin()).arg("validate").arg(&path));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("gateway.web.tls.http_redirect: nginx and ssh would both listen on port 22"),
        "{err}"
    );
    // Without a clash the same spec validates, and the TLS key's vault variable is one to define.
    write(
        &path,
        &spec_with_web(
            "/opt/linkis",
            9001,
            &tls.replace("http_redirect: 22", "http_redirect: 80"),
            "",
        ),
        0o644,
    );
    let out = dir.join("out");
    let o = run(Command::new(bin())
        .arg("render")
        .arg(&path)
        .arg("-o")
        .arg(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let vars = std::fs::read_to_string(out.join("inventory/group_vars/all/main.yml")).unwrap();
    assert!(vars.contains("  - vault_w\n"), "{vars}");
    let role = std::fs::read_to_string(out.join("roles/linkis_web/tasks/main.yml")).unwrap();
    let key_task = role
        .split("- name: ")
        .find(|t| t.starts_with("Install the front's TLS key"))
        .expect("the key task");
    for needle in [
        "content: \"{{ vault_w }}\"",
        "mode: \"0600\"",
        "owner: root",
        "no_log: true",
    ] {
        assert!(key_task.contains(needle), "{needle}:\n{key_task}");
    }
}

#[test]
#[ignore = "needs root, ip netns, a bridge, nginx, keepalived and the keepalived_script user; run by .ci/front.sh"]
fn the_vip_moves_when_the_masters_nginx_stops_and_requests_keep_working() {
    let dir = tmp("vrrp");
    let tag = std::process::id() % 100_000;
    let (lan, a, b, client) = (
        format!("lgv-lan-{tag}"),
        format!("lgv-a-{tag}"),
        format!("lgv-b-{tag}"),
        format!("lgv-c-{tag}"),
    );
    let _guard = Netns(vec![lan.clone(), a.clone(), b.clone(), client.clone()]);
    for n in [&lan, &a, &b, &client] {
        sh(Command::new("ip").args(["netns", "add", n]));
        sh(Command::new("ip").args(["-n", n, "link", "set", "lo", "up"]));
    }
    let br = format!("lgvbr{tag}");
    sh(Command::new("ip").args(["-n", &lan, "link", "add", &br, "type", "bridge"]));
    sh(Command::new("ip").args(["-n", &lan, "link", "set", &br, "up"]));
    for (i, n) in [&a, &b, &client].iter().enumerate() {
        let (p, q) = (format!("lgv{tag}p{i}"), format!("lgv{tag}q{i}"));
        sh(Command::new("ip").args([
            "link", "add", &p, "netns", &lan, "type", "veth", "peer", "name", &q, "netns", n,
        ]));
        sh(Command::new("ip").args(["-n", &lan, "link", "set", &p, "master", &br, "up"]));
        sh(Command::new("ip").args([
            "-n",
            n,
            "addr",
            "add",
            &format!("10.250.7.{}/24", i + 1),
            "dev",
            &q,
        ]));
        sh(Command::new("ip").args(["-n", n, "link", "set", &q, "up"]));
    }
    let spec = r#"version: 1
cluster: { name: vip-demo, linkis_version: "1.3.2", package: files/linkis.tar.gz }
database: { host: 10.250.9.9, name: linkis, user: linkis, password: { vault: vault_db } }
gateway:
  web: { vip: 10.250.7.100 }
sizing:
  concurrent_users: 5
  engines: { spark: { memory: 1G } }
host_defaults: { memory: 64G, cores: 16 }
hosts:
  - { name: wa, address: 10.250.7.1, services: [gateway, eureka, publicservice, linkismanager, entrance, ecm] }
  - { name: wb, address: 10.250.7.2, services: [gateway] }
"#;
    let out = render(spec, &dir);
    let check = out.join("roles/linkis_keepalived/files/linkis-front-check.sh");
    let mut procs = Vec::new();
    for (n, h, idx) in [(&a, "wa", 1), (&b, "wb", 2)] {
        // The host's gateway: a stub that answers 200 on every path and names its host.
        let stub = format!(
            "import http.server\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        \
             b=b'{h}'; self.send_response(200); self.send_header('Content-Length',str(len(b))); self.end_headers(); self.wfile.write(b)\n    \
             def log_message(self,*a): pass\nhttp.server.HTTPServer(('10.250.7.{idx}',9001),H).serve_forever()\n"
        );
        procs.push(Proc(
            Command::new("ip")
                .args(["netns", "exec", n, "/usr/bin/python3", "-c", &stub])
                .spawn()
                .unwrap(),
        ));
        let hd = dir.join(h);
        std::fs::create_dir_all(&hd).unwrap();
        let conf = nginx_conf(&hd, &out.join("nginx/linkis.conf"));
        procs.push(Proc(
            Command::new("ip")
                .args(["netns", "exec", n, "nginx", "-c"])
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .spawn()
                .unwrap(),
        ));
        write(
            &hd.join("iface.conf"),
            &format!("$LINKIS_IFACE=lgv{tag}q{}\n", idx - 1),
            0o644,
        );
        let text =
            std::fs::read_to_string(out.join(format!("hosts/{h}/keepalived/keepalived.conf")))
                .unwrap()
                .replace(
                    "include /etc/keepalived/linkis-interface.conf",
                    &format!("include {}", hd.join("iface.conf").display()),
                )
                .replace(
                    "/etc/keepalived/linkis-front-check.sh",
                    &check.display().to_string(),
                );
        write(&hd.join("keepalived.conf"), &text, 0o644);
        let d = hd.display();
        procs.push(Proc(
            Command::new("ip")
                .args(["netns", "exec", n, "keepalived", "-n", "-l", "-D", "-f"])
                .arg(hd.join("keepalived.conf"))
                .args([
                    "-p",
                    &format!("{d}/ka.pid"),
                    "-r",
                    &format!("{d}/vrrp.pid"),
                    "-c",
                    &format!("{d}/chk.pid"),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        ));
    }
    let get = || {
        let o = ns(
            &client,
            &[
                "curl",
                "-sS",
                "--max-time",
                "2",
                "http://10.250.7.100:8088/api/rest_j/v1/x",
            ],
        );
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let wait_for = |what: &str, f: &dyn Fn(&str) -> bool| {
        let t = Instant::now();
        loop {
            let got = get();
            if f(&got) {
                return got;
            }
            assert!(
                t.elapsed() < Duration::from_secs(40),
                "{what}: last answer {got:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    // The VIP answers through nginx, held by one web host (the first whose track script passes:
    // with nopreempt, a later higher priority does not take it over).
    wait_for("the VIP answers", &|s| s == "wa" || s == "wb");
    let holder = |n: &str| {
        String::from_utf8_lossy(&ns(n, &["ip", "-4", "addr"]).stdout).contains("10.250.7.100/32")
    };
    let t = Instant::now();
    while !(holder(&a) || holder(&b)) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no web host took the VIP"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let (master, backup, nginx_at) = if holder(&a) { (&a, &b, 1) } else { (&b, &a, 4) };
    assert!(!holder(backup), "both hold the VIP");
    // Stop the master's nginx: its track script fails, the VIP moves to the other web host, and
    // requests through the VIP keep working.
    drop(procs.remove(nginx_at));
    let t = Instant::now();
    while !holder(backup) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the VIP never moved to {backup}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(!holder(master), "{master} kept the VIP without nginx");
    wait_for("requests through the VIP after the move", &|s| {
        s == "wa" || s == "wb"
    });
    drop(procs);
}

/// With `gateway.web.vip` and `security.firewall`, the web hosts' VRRP (IP protocol 112, unicast
/// between their addresses) must pass each host's Linkis table: its input chain accepts by policy
/// and refuses only TCP to Linkis' ports, so no rule can drop VRRP. The multi-host bed proves it
/// with the table loaded (tests/bed, scenario 6: the VIP moves between s3 and s4).
#[test]
fn the_firewall_lets_vrrp_between_the_web_hosts_through() {
    let dir = tmp("vrrp-fw");
    let spec = r#"version: 1
cluster: { name: vip-fw, linkis_version: "1.3.2", package: files/linkis.tar.gz }
database: { host: 10.250.9.9, name: linkis, user: linkis, password: { vault: vault_db } }
gateway:
  web: { vip: 10.250.7.100 }
security: { firewall: true }
storage: { engine_ports: 30000-31000 }
sizing:
  concurrent_users: 5
  engines: { spark: { memory: 1G } }
host_defaults: { memory: 64G, cores: 16 }
hosts:
  - { name: wa, address: 10.250.7.1, services: [gateway, eureka, publicservice, linkismanager, entrance, ecm] }
  - { name: wb, address: 10.250.7.2, services: [gateway] }
"#;
    let out = render(spec, &dir);
    for (h, peer) in [("wa", "10.250.7.2"), ("wb", "10.250.7.1")] {
        let ka = std::fs::read_to_string(out.join(format!("hosts/{h}/keepalived/keepalived.conf")))
            .unwrap();
        assert!(
            ka.contains(&format!("unicast_peer {{\n        {peer}\n")),
            "{ka}"
        );
        let nft =
            std::fs::read_to_string(out.join(format!("hosts/{h}/nftables/linkis.nft"))).unwrap();
        let chain = &nft[nft.find("chain input {").expect("an input chain")..];
        assert!(chain.contains("policy accept;"), "{chain}");
        for rule in chain.lines().map(str::trim) {
            if rule.contains("reject") || rule.contains("drop") {
                assert!(
                    rule.starts_with("tcp dport @linkis_ports "),
                    "{h}: a refusing rule that is not TCP to Linkis' ports would catch VRRP: {rule}"
                );
            }
        }
        // The peer is a cluster host: in the sources the table accepts, whatever the protocol.
        assert!(
            chain.contains("ip saddr @sources4 accept") && nft.contains(peer),
            "{nft}"
        );
    }
}
