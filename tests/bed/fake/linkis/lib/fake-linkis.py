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
OFFLINE = False  # an entrance marked offline (the drain before it is removed or restarted)
JOBS = {}  # an entrance's jobs: id -> end time (a fake job that lasts N seconds)
TICKET = "linkis_user_session_ticket_id_v1"
NODE_HEALTHY = ("Healthy", "UnHealthy", "WARN", "StockAvailable", "StockUnavailable")


# ---- Metrics (issue 22): Spring Boot's Prometheus endpoint, served only as the conf allows it.
# A service serves /actuator/prometheus when its Spring YAML (application-eureka.yml for Eureka,
# application-linkis.yml for the others) exposes `prometheus` in
# management.endpoints.web.exposure.include. The fake is stricter than Linkis in one point: a
# service started by LinkisMainHelper (every one but Eureka) also wants
# wds.linkis.prometheus.enable=true (linkis.properties, or its own file, which wins), the key that
# makes LinkisMainHelper pass --prometheus.endpoint, without which the `prometheus.path` it
# registers in Eureka stays an unresolved placeholder. Where it is served: Eureka and the gateway
# (WebFlux, no servlet path) at /actuator/prometheus; the others below their Spring MVC servlet
# path (wds.linkis.server.restful.uri, default /api/rest_j/v1), behind Linkis' SecurityFilter,
# which lets a request through without a login only when a prefix of
# wds.linkis.server.user.restful.uri.pass.auth matches its URI. Anything else: 404 (401 for a
# path the filter guards).
ACTUATOR_PROMETHEUS = "/actuator/prometheus"


def yaml_value(name, dotted):
    """A scalar of a Spring YAML by its dotted key, whether written nested or flat (no PyYAML on
    the hosts): the keys of the enclosing blocks joined with dots, as Spring binds them."""
    stack = []  # (indent, key)
    for line in read(name).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^(\s*)([^:#]+?):(?:\s+(.*?))?\s*$", line)
        if not m:
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2).strip()))
        if m.group(3) and ".".join(k for _, k in stack) == dotted:
            return m.group(3).strip().strip("'\"")
    return None


def setting(key, default=""):
    """A Linkis setting as the service reads it: its own linkis-<svc>.properties over linkis.properties."""
    if SVC == "mg-eureka":
        return base.get(key, default)
    return props("linkis-%s.properties" % SVC).get(key, base.get(key, default))


SPRING_YML = "application-eureka.yml" if SVC == "mg-eureka" else "application-linkis.yml"
SERVLET_PATH = "" if SVC in ("mg-eureka", "mg-gateway") else \
    setting("wds.linkis.server.restful.uri", "/api/rest_j/v1").rstrip("/")
METRICS_PATH = SERVLET_PATH + ACTUATOR_PROMETHEUS
EXPOSED = [e.strip() for e in (yaml_value(SPRING_YML, "management.endpoints.web.exposure.include") or "").split(",")]
PROMETHEUS_ON = SVC == "mg-eureka" or setting("wds.linkis.prometheus.enable", "false").lower() == "true"
METRICS = "prometheus" in EXPOSED and PROMETHEUS_ON
# The `prometheus.path` metadata a service registers with Eureka (LinkisMainHelper's
# --prometheus.endpoint: the servlet path before wds.linkis.prometheus.endpoint but for the gateway).
PROMETHEUS_PATH = (ACTUATOR_PROMETHEUS if SVC == "mg-eureka" else
                   SERVLET_PATH + setting("wds.linkis.prometheus.endpoint", ACTUATOR_PROMETHEUS)) if PROMETHEUS_ON else None
REQUESTS = {}  # (method, uri, status) -> count, for http_server_requests_seconds
STARTED = time.time()


def pass_auth(uri):
    return any(r and uri.startswith(r) for r in setting("wds.linkis.server.user.restful.uri.pass.auth").split(","))


def exposition():
    """A small Prometheus text exposition (format 0.0.4) with the series linkis-rules.yml reads:
    the JVM heap (this process' resident memory against a 1 GiB max), GC pauses, the process'
    uptime and the HTTP requests this fake has answered."""
    try:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        rss = 0
    out = [
        "# HELP jvm_memory_used_bytes The amount of used memory",
        "# TYPE jvm_memory_used_bytes gauge",
        'jvm_memory_used_bytes{area="heap",id="G1 Old Gen",} %.1f' % rss,
        'jvm_memory_used_bytes{area="nonheap",id="Metaspace",} %.1f' % (rss // 4),
        "# HELP jvm_memory_max_bytes The maximum amount of memory in bytes that can be used for memory management",
        "# TYPE jvm_memory_max_bytes gauge",
        'jvm_memory_max_bytes{area="heap",id="G1 Old Gen",} %.1f' % (1 << 30),
        'jvm_memory_max_bytes{area="nonheap",id="Metaspace",} -1.0',
        "# HELP jvm_gc_pause_seconds Time spent in GC pause",
        "# TYPE jvm_gc_pause_seconds summary",
        'jvm_gc_pause_seconds_count{action="end of minor GC",cause="G1 Evacuation Pause",} 1.0',
        'jvm_gc_pause_seconds_sum{action="end of minor GC",cause="G1 Evacuation Pause",} 0.004',
        "# HELP process_uptime_seconds The uptime of the Java virtual machine",
        "# TYPE process_uptime_seconds gauge",
        "process_uptime_seconds %.3f" % (time.time() - STARTED),
        "# HELP http_server_requests_seconds Duration of HTTP server request handling",
        "# TYPE http_server_requests_seconds summary",
    ]
    with LOCK:
        seen = sorted(REQUESTS.items())
    for (method, uri, status), n in seen:
        labels = 'exception="None",method="%s",outcome="%s",status="%d",uri="%s",' % (
            method, "SUCCESS" if status < 400 else "CLIENT_ERROR" if status < 500 else "SERVER_ERROR", status, uri)
        out.append("http_server_requests_seconds_count{%s} %.1f" % (labels, n))
        out.append("http_server_requests_seconds_sum{%s} %.6f" % (labels, n * 0.002))
    return ("\n".join(out) + "\n").encode()


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


def release():
    """This release as a tuple ((1, 3, 2)); what the entrance's API offers depends on it."""
    try:
        with open(os.path.join(HOME, "RELEASE")) as f:
            return tuple(int(x) for x in re.findall(r"\d+", f.read())[:3])
    except (OSError, ValueError):
        return (0, 0, 0)


def entrance_event(what):
    """The entrance's drain events, timestamped, for the bed to check their order against the
    unit's stop and start: markoffline, backonline, job-start, job-end, job-killed, stop."""
    with open(os.path.join(HOME, "logs", "fake-entrance-events.log"), "a") as f:
        f.write("%.3f %s\n" % (time.time(), what))


def running_jobs():
    now = time.time()
    with LOCK:
        return sorted(j for j, end in JOBS.items() if end > now)


def job_ends(job, seconds):
    time.sleep(seconds)
    entrance_event("job-end %s" % job)


def instance():
    return {
        "instanceId": "%s:%s:%d" % (HOSTNAME, SVC, PORT),
        "app": APP,
        "hostName": HOSTNAME,
        "ipAddr": MY_IP,
        "status": "UP",
        "port": {"$": PORT, "@enabled": "true"},
        "metadata": dict({"fake": "linkis-gen test bed"}, **({"prometheus.path": PROMETHEUS_PATH} if PROMETHEUS_PATH else {})),
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

    def send_response(self, code, message=None):  # counted for http_server_requests_seconds
        uri = self.path.split("?", 1)[0] if code != 404 else "NOT_FOUND"
        with LOCK:
            key = (self.command, uri, code)
            REQUESTS[key] = REQUESTS.get(key, 0) + 1
        super().send_response(code, message)

    def metrics(self):
        """Serves the Prometheus endpoint (True when the request was one for it)."""
        path = self.path.split("?", 1)[0]
        if not path.endswith(ACTUATOR_PROMETHEUS):
            return False
        if SERVLET_PATH and path.startswith(SERVLET_PATH + "/") and not pass_auth(path):
            self.reply(401, {"status": -1, "message": "You are not logged in, please login first!"})
            return True
        if not METRICS or path != METRICS_PATH:
            self.reply(404, {"error": "not found"})
            return True
        data = exposition()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True

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
        if self.metrics():
            return
        api = "/api/rest_j/v1/entrance/operation"
        # As Linkis' EntranceLabelRestfulApi and EntranceMetricRestfulApi: markoffline and
        # runningtask from 1.2.0 (1.1.x: 404), backonline and isOnline from 1.5.0; GET only. The
        # login is asked from 1.3.0 by Linkis (getOperationUser); here always (stricter), but
        # isOnline, which asks none.
        offers = {api + "/label/markoffline": (1, 2, 0), api + "/metrics/runningtask": (1, 2, 0),
                  api + "/label/backonline": (1, 5, 0), api + "/label/isOnline": (1, 5, 0)}
        if SVC == "cg-entrance" and self.path in offers and release() >= offers[self.path]:
            if self.path.endswith("/isOnline"):
                return self.reply(200, {"status": 0, "message": "OK", "data": {"isOnline": not OFFLINE}})
            if not self.ticket():
                log("refused %s: no session ticket of a gateway login" % self.path)
                return self.reply(401, {"status": -1, "message": "You are not logged in"})
            if self.path.endswith("/markoffline"):
                OFFLINE = True
                entrance_event("markoffline running=%d" % len(running_jobs()))
                log("marked offline: no new jobs are routed here")
                return self.reply(200, {"status": 0, "message": "OK", "data": {}})
            if self.path.endswith("/backonline"):
                OFFLINE = False
                entrance_event("backonline")
                log("back online")
                return self.reply(200, {"status": 0, "message": "OK", "data": {}})
            n = len(running_jobs())
            return self.reply(200, {"status": 0, "message": "success",
                                    "data": {"runningTaskNumber": n, "isCompleted": n == 0}})
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

    def submit(self):
        """The entrance's POST /api/rest_j/v1/entrance/submit (EntranceRestfulApi), logged in: a
        fake job whose code is `sleep N` runs N seconds (at most 600). An entrance marked
        offline takes no new job."""
        if not self.ticket():
            return self.reply(401, {"status": -1, "message": "You are not logged in"})
        code = (self.body().get("executionContent") or {}).get("code", "")
        m = re.fullmatch(r"\s*sleep\s+(\d+)\s*", code or "")
        if not m or int(m.group(1)) > 600:
            return self.reply(200, {"status": 1, "message": "the fake entrance runs `sleep N` only (N <= 600)"})
        if OFFLINE:
            entrance_event("job-refused (offline)")
            return self.reply(200, {"status": 1, "message": "this entrance is offline: it takes no new job"})
        seconds = int(m.group(1))
        with LOCK:
            job = len(JOBS) + 1
            JOBS[job] = time.time() + seconds
        entrance_event("job-start %d %ds" % (job, seconds))
        threading.Thread(target=job_ends, args=(job, seconds), daemon=True).start()
        self.reply(200, {"status": 0, "message": "OK", "data": {"taskID": job, "execID": "fake-%d" % job}})

    def do_POST(self):  # register: /eureka/apps/APP; a gateway's login; an entrance's submit
        if SVC == "cg-entrance" and self.path == "/api/rest_j/v1/entrance/submit":
            return self.submit()
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
    # The manager also reads the YARN row (Linkis' ExternalResourceProvider: read once and cached,
    # so a changed row reaches a running manager only through its restart).
    sql = "SELECT COUNT(*) FROM linkis_cg_manager_service_instance"
    if SVC == "cg-linkismanager":
        sql += "; SELECT config FROM linkis_cg_rm_external_resource_provider WHERE resource_type = 'Yarn'"
    try:
        r = subprocess.run(["mariadb", "--defaults-extra-file=/dev/fd/%d" % rfd, "--connect-timeout=5",
                            "-h", m.group(1), "-P", m.group(2) or "3306", "-u", user, m.group(3), "-N", "-r",
                            "-e", sql],
                           capture_output=True, text=True, pass_fds=(rfd,))
    finally:
        os.close(rfd)
    if r.returncode != 0:
        die("cannot use the metadata DB %s as %s: %s" % (url, user, r.stderr.strip()))
    log("metadata DB %s reachable as %s" % (url, user))
    if SVC == "cg-linkismanager":
        rows = r.stdout.splitlines()[1:]
        if len(rows) != 1:
            die("linkis_cg_rm_external_resource_provider holds %d Yarn rows, want 1" % len(rows))
        try:
            yarn = json.loads(rows[0])["rmWebAddress"]
        except (ValueError, KeyError, TypeError) as e:
            die("the Yarn row's config is not the JSON the RM reads (%s): %r" % (e, rows[0]))
        with open(os.path.join(HOME, "logs", "fake-manager-yarn.log"), "a") as f:
            f.write("%.3f %s\n" % (time.time(), yarn))
        log("YARN ResourceManager %s (the Yarn row)" % yarn)


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
    log("metrics %s" % ("at " + METRICS_PATH if METRICS else "off (exposure %s, %s)" % (
        ",".join(EXPOSED), "wds.linkis.prometheus.enable=true" if PROMETHEUS_ON else "no wds.linkis.prometheus.enable=true")))
    import signal

    # SIGTERM goes to the main thread alone: every thread started from here on inherits this
    # mask. A process-directed signal may land on any thread that does not block it, and Python
    # runs its handler only in the main thread, which sleeps below: a SIGTERM taken by the HTTP
    # server's thread would wait there for an hour (seen on the bed: a hand-started Eureka that
    # linkis-daemon.sh stop did not stop). A JVM handles SIGTERM on its own thread, at once.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
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

    def stop(*_):
        log("stopping (SIGTERM)")
        if SVC == "cg-entrance":
            jobs = running_jobs()
            for j in jobs:
                entrance_event("job-killed %d" % j)
            entrance_event("stop running=%d" % len(jobs))
        cancel()
        os._exit(143)
    signal.signal(signal.SIGTERM, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    while True:
        time.sleep(3600)


main()
