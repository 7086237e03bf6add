#!/usr/bin/env python3
"""FAKE Linkis service for the test bed (tests/bed/README.md): not Apache Linkis.

Started by the fake sbin/linkis-daemon.sh as `fake-linkis.py LINKIS_HOME SERVICE`. It reads the
rendered conf/ of its host the way the real service would find its settings, and fails loudly
(a reason on stderr and in logs/, exit status 2) when that conf cannot work:
  - its port: server.port (application-eureka.yml) or spring.server.port (linkis-<svc>.properties);
    missing, or not bindable on this host's address;
  - the Eureka defaultZone (application-linkis.yml / application-eureka.yml): every client registers
    with it and fails when no node there answers as a Eureka; a Eureka node must list itself, and
    replicates registrations to the other nodes of its own defaultZone;
  - the gateway URL (wds.linkis.gateway.url) must answer as a Linkis gateway;
  - the metadata DB (jdbc url, user, password from linkis.properties): it connects with the mariadb
    client and reads the manager's instance table.
It serves /actuator/health, and as mg-eureka the /eureka/apps REST API (JSON) the verify role reads.
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from javaprops import java_properties  # noqa: E402  (this directory: the fake release's lib/)

HOME, SVC = sys.argv[1], sys.argv[2]
APP = "LINKIS-" + SVC.upper()
LOG = os.path.join(HOME, "logs", "fake-" + SVC + ".log")
LEASE = 12  # seconds without a renewal before a Eureka node drops an instance


def log(msg):
    line = "%s fake-linkis %s[%d]: %s" % (time.strftime("%H:%M:%S"), SVC, os.getpid(), msg)
    print(line, file=sys.stderr, flush=True)
    try:
        os.makedirs(os.path.dirname(LOG), exist_ok=True)
        with open(LOG, "a") as f:
            f.write(line + "\n")
    except OSError:
        pass


def die(msg):
    log("FATAL: " + msg)
    os._exit(2)


def read(name):
    path = os.path.join(HOME, "conf", name)
    try:
        # As written: no newline translation (a .properties reader sees CR and CRLF itself).
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))


def props(name):
    try:
        return java_properties(read(name))
    except ValueError as e:
        die("conf/%s: %s (java.util.Properties refuses it)" % (name, e))


def default_zone(name):
    m = re.search(r"^\s*defaultZone:\s*(\S+)\s*$", read(name), re.M)
    if not m:
        die("conf/%s has no eureka.client.serviceUrl.defaultZone" % name)
    return [u.rstrip("/") for u in m.group(1).split(",") if u]


def my_addresses():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    return set(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out))


def http(method, url, body=None, headers=None, timeout=3):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


ADDRS = my_addresses() - {"127.0.0.1"}
if len(ADDRS) != 1:
    die("expected one bed address on this host, found %s" % sorted(ADDRS))
MY_IP = ADDRS.pop()
HOSTNAME = socket.gethostname()
base = props("linkis.properties")

if SVC == "mg-eureka":
    m = re.search(r"^server:\s*\n\s+port:\s*(\d+)\s*$", read("application-eureka.yml"), re.M)
    if not m:
        die("conf/application-eureka.yml has no server.port")
    PORT = int(m.group(1))
    ZONE = default_zone("application-eureka.yml")
    me = "http://%s:%d/eureka" % (MY_IP, PORT)
    if me not in ZONE and "http://%s:%d/eureka" % (HOSTNAME, PORT) not in ZONE:
        die("this Eureka node (%s) is not in its own defaultZone %s" % (me, ZONE))
    PEERS = [u for u in ZONE if u not in (me, "http://%s:%d/eureka" % (HOSTNAME, PORT))]
else:
    own = props("linkis-%s.properties" % SVC)
    if "spring.server.port" not in own:
        die("conf/linkis-%s.properties has no spring.server.port" % SVC)
    PORT = int(own["spring.server.port"])
    ZONE = default_zone("application-linkis.yml")
    PEERS = []

REGISTRY = {}  # (app, instanceId) -> (instance dict, last renewal)
LOCK = threading.Lock()
OFFLINE = False  # an entrance marked offline (the drain before it is removed)
TICKET = "linkis_user_session_ticket_id_v1"
NODE_HEALTHY = ("Healthy", "UnHealthy", "WARN", "StockAvailable", "StockUnavailable")


def admin_login_ok(user, password):
    """The gateway's login: the admin account of its own conf (linkis-mg-gateway.properties, whose
    password Ansible filled in from the vault), as Linkis' gateway checks it."""
    own = props("linkis-mg-gateway.properties")
    want_user = own.get("wds.linkis.admin.user", base.get("wds.linkis.admin.user", ""))
    want_pw = own.get("wds.linkis.admin.password", "")
    if not want_pw or "{{" in want_pw:
        log("login refused: wds.linkis.admin.password is not filled in")
        return False
    return bool(user) and user == want_user and password == want_pw


def instance():
    return {
        "instanceId": "%s:%s:%d" % (HOSTNAME, SVC, PORT),
        "app": APP,
        "hostName": HOSTNAME,
        "ipAddr": MY_IP,
        "status": "UP",
        "port": {"$": PORT, "@enabled": "true"},
        "metadata": {"fake": "linkis-gen test bed"},
    }


def replicate(method, path, body=None):
    """Sends a client's request on to the other nodes; PEERS are .../eureka URLs like path's prefix."""
    path = path[len("/eureka"):]
    for peer in PEERS:
        def send(peer=peer):
            for _ in range(30):
                try:
                    http(method, peer + path, body, {"x-netflix-discovery-replication": "true"})
                    return
                except urllib.error.HTTPError as e:
                    if e.code == 404:
                        return
                except OSError:
                    pass
                time.sleep(1)
            log("could not replicate %s %s to peer %s" % (method, path, peer))
        threading.Thread(target=send, daemon=True).start()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def ticket(self):
        """The session ticket cookie a gateway login gave (the entrance's API demands one)."""
        m = re.search(TICKET + r"=(fake-ticket-[0-9a-f]+)", self.headers.get("Cookie", ""))
        return m.group(1) if m else None

    def do_GET(self):
        global OFFLINE
        api = "/api/rest_j/v1/entrance/operation"
        if SVC == "cg-entrance" and self.path in (api + "/label/markoffline", api + "/metrics/runningtask"):
            if not self.ticket():
                log("refused %s: no session ticket of a gateway login" % self.path)
                return self.reply(401, {"status": -1, "message": "You are not logged in"})
            if self.path.endswith("/markoffline"):
                OFFLINE = True
                log("marked offline: no new jobs are routed here")
                return self.reply(200, {"status": 0, "message": "success", "data": {}})
            return self.reply(200, {"status": 0, "data": {"runningTaskNumber": 0, "isOnline": not OFFLINE}})
        if self.path == "/actuator/health":
            return self.reply(200, {"status": "UP", "service": SVC, "fake": True})
        if SVC == "mg-eureka" and self.path.rstrip("/") == "/eureka/apps":
            now = time.time()
            apps = {}
            with LOCK:
                for (app, iid), (inst, seen) in sorted(REGISTRY.items()):
                    if now - seen <= LEASE:
                        apps.setdefault(app, []).append(inst)
            return self.reply(200, {"applications": {"versions__delta": "1", "apps__hashcode": "", "application": [
                {"name": a, "instance": i} for a, i in sorted(apps.items())]}})
        self.reply(404, {"error": "not found"})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_POST(self):  # register: /eureka/apps/APP; a gateway's login
        if SVC == "mg-gateway" and self.path == "/api/rest_j/v1/user/login":
            b = self.body()
            if not admin_login_ok(b.get("userName"), b.get("password")):
                log("login of %r refused" % b.get("userName"))
                return self.reply(401, {"status": 1, "message": "wrong user name or password"})
            log("login of %r" % b.get("userName"))
            data = json.dumps({"status": 0, "message": "login successful", "data": {"userName": b["userName"]}}).encode()
            self.send_response(200)
            self.send_header("Set-Cookie", "%s=fake-ticket-%s; Path=/" % (TICKET, os.urandom(8).hex()))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        m = re.fullmatch(r"/eureka/apps/([^/]+)/?", self.path)
        if SVC != "mg-eureka" or not m:
            return self.reply(404, {"error": "not a Eureka"})
        inst = self.body().get("instance", {})
        with LOCK:
            REGISTRY[(m.group(1), inst.get("instanceId"))] = (inst, time.time())
        if not self.headers.get("x-netflix-discovery-replication"):
            replicate("POST", self.path, {"instance": inst})
        self.reply(204, {})

    def modify_em_info(self):
        """The manager's PUT /api/rest_j/v1/linkisManager/modifyEMInfo (EMRestfulApi): an admin
        sets an ECM's NodeHealthy. Stricter than Linkis, which silently ignores an instance it
        does not know: here the instance must be an ECM registered in this manager's Eureka."""
        if not self.ticket():
            log("refused modifyEMInfo: no session ticket of a gateway login")
            return self.reply(401, {"status": -1, "message": "You are not logged in"})
        b = self.body()
        app, inst, healthy = b.get("applicationName"), b.get("instance"), b.get("emStatus")
        if not app or not inst:
            return self.reply(200, {"status": 1, "message": "applicationName and instance cannot be null"})
        if healthy not in NODE_HEALTHY:
            return self.reply(200, {"status": 1, "message": "No enum constant NodeHealthy.%s" % healthy})
        known = set()
        for z in ZONE:
            try:
                _, body = http("GET", z + "/apps")
                for a in json.loads(body)["applications"]["application"]:
                    if a["name"].lower() == app.lower():
                        known |= {"%s:%s" % (i["hostName"], i["port"]["$"]) for i in a["instance"]}
                break
            except (OSError, ValueError, KeyError):
                continue
        if inst not in known:
            log("modifyEMInfo refused: %s %s is not registered (known: %s)" % (app, inst, sorted(known)))
            return self.reply(200, {"status": 1, "message": "serviceInstance:%s non-existent" % inst})
        with open(os.path.join(HOME, "logs", "fake-manager-em.log"), "a") as f:
            f.write("%.3f %s %s\n" % (time.time(), inst, healthy))
        log("modifyEMInfo: the ECM %s is now %s (no new engines go there)" % (inst, healthy))
        self.reply(200, {"status": 0, "message": "success"})

    def do_PUT(self):  # renew: /eureka/apps/APP/ID; the manager's modifyEMInfo
        if SVC == "cg-linkismanager" and self.path == "/api/rest_j/v1/linkisManager/modifyEMInfo":
            return self.modify_em_info()
        m = re.fullmatch(r"/eureka/apps/([^/]+)/([^/]+)", self.path)
        if SVC != "mg-eureka" or not m:
            return self.reply(404, {"error": "not a Eureka"})
        key = (m.group(1), urllib.request.unquote(m.group(2)))
        replicated = self.headers.get("x-netflix-discovery-replication")
        sent = self.body().get("instance") if replicated else None
        with LOCK:
            known = key in REGISTRY and time.time() - REGISTRY[key][1] <= LEASE
            if known or sent:
                inst = sent or REGISTRY[key][0]
                REGISTRY[key] = (inst, time.time())
        if not (known or sent):
            return self.reply(404, {"error": "unknown instance"})
        if not replicated:
            replicate("PUT", self.path, {"instance": inst})
        self.reply(200, {})

    def do_DELETE(self):  # cancel
        m = re.fullmatch(r"/eureka/apps/([^/]+)/([^/]+)", self.path)
        if SVC != "mg-eureka" or not m:
            return self.reply(404, {"error": "not a Eureka"})
        with LOCK:
            REGISTRY.pop((m.group(1), urllib.request.unquote(m.group(2))), None)
        if not self.headers.get("x-netflix-discovery-replication"):
            replicate("DELETE", self.path)
        self.reply(200, {})


def check_db():
    # Every service loads the MySQL driver from lib/linkis-commons/public-module (Apache releases
    # ship none: Ansible copies database.driver_jar there).
    lib = os.path.join(HOME, "lib", "linkis-commons", "public-module")
    jars = [j for j in (os.listdir(lib) if os.path.isdir(lib) else [])
            if re.fullmatch(r"(mysql-connector-j(ava)?|mariadb-java-client)-.*[.]jar", j)]
    if not jars:
        die("no MySQL JDBC driver in %s (ClassNotFoundException: com.mysql.cj.jdbc.Driver)" % lib)
    url = base.get("wds.linkis.server.mybatis.datasource.url", "")
    m = re.match(r"jdbc:mysql://([^:/?]+)(?::(\d+))?/([^?]+)", url)
    if not m:
        die("linkis.properties: datasource url %r is not a jdbc:mysql url" % url)
    user = base.get("wds.linkis.server.mybatis.datasource.username", "")
    pw = base.get("wds.linkis.server.mybatis.datasource.password", "")
    if "{{" in pw or not pw:
        die("linkis.properties: the DB password was not filled in")
    # The password reaches the client through a pipe holding an option file (a JVM keeps it in
    # memory): never on a command line or in an environment, where the bed's sampler looks.
    opt = "[client]\npassword=\"%s\"\n" % pw.replace("\\", "\\\\").replace('"', '\\"')
    rfd, wfd = os.pipe()
    os.write(wfd, opt.encode())
    os.close(wfd)
    try:
        r = subprocess.run(["mariadb", "--defaults-extra-file=/dev/fd/%d" % rfd, "--connect-timeout=5",
                            "-h", m.group(1), "-P", m.group(2) or "3306", "-u", user, m.group(3), "-N", "-e",
                            "SELECT COUNT(*) FROM linkis_cg_manager_service_instance"],
                           capture_output=True, text=True, pass_fds=(rfd,))
    finally:
        os.close(rfd)
    if r.returncode != 0:
        die("cannot use the metadata DB %s as %s: %s" % (url, user, r.stderr.strip()))
    log("metadata DB %s reachable as %s" % (url, user))


def check_gateway():
    url = base.get("wds.linkis.gateway.url", "").rstrip("/")
    if not url.startswith("http://"):
        die("linkis.properties: wds.linkis.gateway.url %r is not an http URL" % url)
    for _ in range(60):
        try:
            _, body = http("GET", url + "/actuator/health")
            if json.loads(body).get("service") == "mg-gateway":
                log("gateway %s answers" % url)
                return
            die("wds.linkis.gateway.url %s answers but is not a gateway" % url)
        except (OSError, ValueError):
            time.sleep(1)
    die("wds.linkis.gateway.url %s does not answer" % url)


SERVER = [None]  # the Eureka this instance registered with (a defaultZone URL), while it is


def cancel():
    """Cancels the registration, as a Eureka client does when its Spring context closes."""
    if SERVER[0] is None:
        return
    iid = instance()["instanceId"]
    try:
        http("DELETE", "%s/apps/%s/%s" % (SERVER[0], APP, urllib.request.quote(iid, safe="")), timeout=2)
        log("cancelled the registration of %s with %s" % (iid, SERVER[0]))
    except (OSError, urllib.error.HTTPError) as e:
        log("could not cancel the registration of %s with %s: %s" % (iid, SERVER[0], e))


def client():
    """Registers with the first Eureka of defaultZone that answers, then renews every 4 s."""
    inst = instance()
    path = "/apps/%s" % APP  # below a defaultZone URL, which ends in /eureka
    server, since = None, time.time()
    while True:
        SERVER[0] = server
        try:
            if server is None:
                for z in ZONE:
                    try:
                        http("POST", z + path, {"instance": inst})
                        server = SERVER[0] = z
                        log("registered %s with %s" % (inst["instanceId"], z))
                        break
                    except (OSError, urllib.error.HTTPError):
                        continue
                if server is None:
                    if time.time() - since > 30:
                        die("no Eureka of defaultZone %s accepts a registration" % ZONE)
                    time.sleep(1)
                    continue
                since = time.time()
            time.sleep(4)
            try:
                http("PUT", server + path + "/" + urllib.request.quote(inst["instanceId"], safe=""))
                since = time.time()
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    server = None
        except OSError:
            server = None


def check_writable():
    """What the JVM service writes before it serves: its log files in logs/ (a real service whose
    log dir is read-only runs on without logs; the fake is stricter and stops, so that a unit
    whose sandbox forgets logs/ fails on the bed), and a temporary directory in java.io.tmpdir,
    /tmp (Spring Boot's Jetty makes its docbase there, and fails to start without it)."""
    import tempfile
    try:
        with open(LOG, "a"):
            pass
    except OSError as e:
        print("FATAL: cannot write the log %s: %s" % (LOG, e), file=sys.stderr, flush=True)
        os._exit(2)
    try:
        os.rmdir(tempfile.mkdtemp(prefix="jetty-docbase.", dir="/tmp"))
    except OSError as e:
        die("cannot make a temporary directory in java.io.tmpdir (/tmp): %s" % e)


def main():
    check_writable()
    try:
        with open(os.path.join(HOME, "RELEASE")) as f:
            release = f.read().strip()
    except OSError:
        release = "unknown"
    log("release %s starting on %s:%d (host %s), defaultZone %s" % (release, MY_IP, PORT, HOSTNAME, ",".join(ZONE)))
    try:
        httpd = ThreadingHTTPServer((MY_IP, PORT), Handler)
    except OSError as e:
        die("cannot listen on %s:%d: %s" % (MY_IP, PORT, e))
    if SVC != "mg-eureka":
        check_db()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if SVC not in ("mg-eureka", "mg-gateway"):
        threading.Thread(target=check_gateway, daemon=True).start()
    threading.Thread(target=client, daemon=True).start()
    import signal

    def stop(*_):
        log("stopping (SIGTERM)")
        cancel()
        os._exit(143)
    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(3600)


main()
