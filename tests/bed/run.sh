#!/usr/bin/env bash
# The multi-host test bed (issue 13; tests/bed/README.md): real ansible-playbook over real ssh to
# simulated hosts (network + mount + UTS namespaces, one sshd each), a real MariaDB, a fake Linkis.
#
#   tests/bed/run.sh [SCENARIO...]   build the bed, run the scenarios, tear it all down
#                                    (default: 1 2 6 5 broken; see `scenario_*` below)
#   tests/bed/run.sh --teardown      remove what an interrupted run left behind
#
# Needs root, ip netns, unshare/nsenter, sshd, mariadbd, ansible-playbook on PATH
# (eval "$(bash .ci/tools.sh)") and a built linkis-gen ($LINKIS_GEN, default target/release).
# Every address is in 10.231.0.0/24 on a bridge the bed makes; nothing else is contacted.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# Not under /tmp: the units' PrivateTmp= would hide the install dir from the services, and the
# model then leaves /tmp writable (src/model/units.rs), which is not the sandbox of a real host.
BED=${LINKIS_BED_DIR:-/var/lib/linkis-bed}
BIN=${LINKIS_GEN:-$repo/target/release/linkis-gen}
NET=10.231.0
BRIDGE=lbed0
HOSTS=(s1 s2 s3 s4)
GONE=() # hosts removed from the spec that are still up (changes.yml reaches them)
CONTROL=(s3 s4) # the hosts of the Eureka pair, the gateways and nginx (guide-50 layout)
VERSION=1.3.2   # the spec's linkis_version (scenario upgrade moves it to 1.4.0)
GW_PORT=        # a cluster-wide gateway port (host_defaults.ports); empty: Linkis' 9001
VIP=            # gateway.web.vip while scenario 6's vip_failover runs; empty: none
YARN_URL=$NET.1:8088 # hadoop.yarn_url without http:// (scenario port moves it first)
SPARK_VERSION=  # sizing.engines.spark.version; empty: the release's (scenario port sets 3.2.1)
VIP_ADDR=$NET.100 # the address vip_failover gives it (in the web certificate's SANs)
declare -A ROLES=() # a host's declared roles in the spec (scenario replace: s7 is `control`)
# The secrets are hostile on purpose (issue 23): each holds what a shell, SQL, YAML, Jinja's
# neighbours, an option file or a .properties reader treats specially, and blanks at the ends. They
# never appear on a command line of this script (the bed's sampler would see them): they go
# through files, here-strings and pipes.
# shellcheck disable=SC2016,SC1003 # literal on purpose: no expansion, a trailing backslash
DB_PASSWORD=' p\w $HOME #c '"'"'q'"'"' "d" %s ; & | { } end\'
# shellcheck disable=SC2016
ADMIN_PASSWORD='a\d $USER #x '"'"'s'"'"' "t" %d ; & | { } z '
# Module runs per host a site.yml that changes nothing may take (23 at most on the guide-50 layout:
# each role reads its host in one round trip; the third edition added the record gate's ping, the
# logs role's one cleanup task, the ECM's look at the engine root, and on the database host the
# four tasks of the private credentials directory; security.firewall its role's one probe, so 21 on
# s3; and the backup host s3 the linkis_backup role's probe and its credentials file, written by
# its template each run: 23). A task that loops over files or units per host would add a dozen.
NOOP_MODULES=23
# security.firewall: the hosts' table directory (bind-mounted per host), and the outsider namespace
# lbed-out: OUTSIDER is neither a cluster host nor in allow_from, ALLOWED is the spec's allow_from.
FW_DIR=/etc/linkis-firewall
# backup: the dump's credentials directory (the role's default), bind-mounted per host like FW_DIR.
BACKUP_CONF_DIR=/etc/linkis-backup
OUTSIDER=$NET.90
ALLOWED=$NET.91
TLS_PORT=8443   # gateway.web.tls.listen
HTTP_PORT=8088  # gateway.web.tls.http_redirect: plain HTTP only redirects
START=$(date +%s)

log() { printf 'bed [%4ss] %s\n' "$(($(date +%s) - START))" "$*"; }
addr() { echo "$NET.$((10 + ${1#s}))"; }

# ---------------------------------------------------------------- teardown (by PID)

teardown() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^lbed-/ {print $1}'); do
    # Every process in the host's network namespace: holder, sshd, sessions, fake services, nginx.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  done
  if [ -f "$BED/pids" ]; then
    while read -r pid _; do kill -TERM "$pid" 2>/dev/null || true; done <"$BED/pids"
  fi
  sleep 1
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^lbed-/ {print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns"
  done
  # The kernel removes a deleted namespace's veth pairs later, in the background: delete the bed's
  # ends here and wait until they are gone, or the next `up` finds lbv-s1 still there.
  local link l
  for _ in $(seq 20); do
    link=$(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^lbv-/ {sub(/@.*/, "", $2); print $2}')
    [ -n "$link" ] || break
    for l in $link; do ip link del "$l" 2>/dev/null || true; done
    sleep 0.5
  done
  if [ -f "$BED/pids" ]; then
    while read -r pid _; do
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    done <"$BED/pids"
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  # The empty mountpoint up() made on the machine for the hosts' /etc/linkis-firewall.
  if [ -f "$BED/made-firewall-dir" ]; then rmdir "$FW_DIR" 2>/dev/null || true; fi
  if [ -f "$BED/made-backup-dir" ]; then rmdir "$BACKUP_CONF_DIR" 2>/dev/null || true; fi
  rm -rf "$BED"
  BED_UP=0
}

# ---------------------------------------------------------------- bed up

BED_UP=0
holder() { awk -v h="holder-$1" '$2 == h {print $1}' "$BED/pids" | tail -1; }
# Runs a command on a simulated host (its network, mount and UTS namespaces).
on() {
  local h=$1
  shift
  nsenter -t "$(holder "$h")" -m -u -n -- "$@"
}

start_sshd() {
  local h=$1 H=$BED/hosts/$1
  nsenter -t "$(holder "$h")" -m -u -n -- /usr/sbin/sshd -D -e -f "$H/sshd_config" >>"$H/sshd.log" 2>&1 &
  echo "$! sshd-$h" >>"$BED/pids"
  for _ in $(seq 50); do
    if timeout 1 bash -c "exec 3<>/dev/tcp/$(addr "$h")/22" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "sshd of $h does not answer" >&2
  cat "$H/sshd.log" >&2
  return 1
}

# The per-host files that shadow the machine's inside the host's mount namespace.
make_host_dir() {
  local h=$1 H=$BED/hosts/$1
  mkdir -p "$H"/{app,systemd,run/sshd,lognginx,home/hadoop,home/bedadmin,root,etc,firewall,keepalived,backup-conf,sbin}
  chmod 0755 "$H/run/sshd" "$H/root"
  cp -a /etc/nginx "$H/nginx"
  cp /etc/passwd /etc/group /etc/shadow "$H/etc/"
  printf 'hadoop:x:2001:2001::/home/hadoop:/bin/bash\nbedadmin:x:2002:2002::/home/bedadmin:/bin/bash\n' >>"$H/etc/passwd"
  printf 'hadoop:x:2001:\nbedadmin:x:2002:\n' >>"$H/etc/group"
  printf 'hadoop:*:19000:0:99999:7:::\nbedadmin:*:19000:0:99999:7:::\n' >>"$H/etc/shadow"
  # The keepalived role's track-script user, made beforehand when the machine has none: useradd
  # replaces /etc/passwd by a rename, which a bind-mounted file refuses (EBUSY).
  if ! grep -q '^keepalived_script:' "$H/etc/passwd"; then
    echo 'keepalived_script:x:2003:2003::/nonexistent:/usr/sbin/nologin' >>"$H/etc/passwd"
    echo 'keepalived_script:x:2003:' >>"$H/etc/group"
    echo 'keepalived_script:!:19000::::::' >>"$H/etc/shadow"
  fi
  chown 2001:2001 "$H/home/hadoop"
  chown 2002:2002 "$H/home/bedadmin"
  {
    printf '127.0.0.1 localhost\n%s.1 bed-control\n' "$NET"
    for o in "${HOSTS[@]}"; do printf '%s %s\n' "$(addr "$o")" "$o"; done
  } >"$H/etc/hosts"
  mkdir -p "$H/etc/sudoers.d"
  printf 'bedadmin ALL=(ALL) NOPASSWD: ALL\nhadoop ALL=(ALL) NOPASSWD: ALL\n' >"$H/etc/sudoers.d/bed"
  chmod 0440 "$H/etc/sudoers.d/bed"
  ssh-keygen -q -t ed25519 -N '' -f "$H/ssh_host_ed25519_key"
  cat >"$H/sshd_config" <<EOF
ListenAddress $(addr "$h"):22
HostKey $H/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile $BED/keys/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  # Runs inside the host's new mount + UTS namespace, then holds them open.
  cat >"$H/init.sh" <<EOF
set -e
hostname $h
mount --bind $H/app $BED/app
mount --bind $H/systemd /etc/systemd/system
mount --bind $H/nginx /etc/nginx
mount --bind $H/lognginx /var/log/nginx
mount --bind $H/firewall $FW_DIR
mount --bind $H/keepalived /etc/keepalived
mount --bind $H/backup-conf $BACKUP_CONF_DIR
mount --bind $H/sbin /usr/local/sbin
mount --bind $H/run /run
mount --bind $H/home /home
mount --bind $H/root /root
for f in passwd group shadow hosts; do mount --bind $H/etc/\$f /etc/\$f; done
mount --bind $H/etc/sudoers.d /etc/sudoers.d
mount --bind $here/fake/systemctl /usr/bin/systemctl
mount --bind $BED/fake-setfacl /usr/bin/setfacl
touch $H/ready
exec sleep infinity
EOF
}

# One fake tarball per release the scenarios use. Each ships db/upgrade/<v>_schema/mysql/ as the
# real ones do: 1.3.2's scripts fail if they ever run (an upgrade from 1.3.2 must skip them);
# 1.4.0's add a table and a row the upgrade scenario looks for.
make_release() {
  local v rel up
  for v in 1.3.2 1.4.0; do
    rel=$BED/release/tree-$v
    up=$rel/linkis-package/db/upgrade
    mkdir -p "$rel/linkis-package/conf" "$rel/linkis-package/pid" "$rel/bin" "$up/1.3.2_schema/mysql"
    cp -r "$here/fake/linkis/sbin" "$here/fake/linkis/lib" "$rel/linkis-package/"
    # The schema and seed rows the linkis_db role bootstraps an empty database from.
    cp "$here/schema.sql" "$rel/linkis-package/db/linkis_ddl.sql"
    cp "$here/dml.sql" "$rel/linkis-package/db/linkis_dml.sql"
    echo "$v" >"$rel/linkis-package/RELEASE"
    # Where a release names itself (catalog RELEASE_JAR): linkis-rpc-<version>.jar of the public
    # module; adopt.yml reads it (an empty stand-in: no JVM runs here).
    mkdir -p "$rel/linkis-package/lib/linkis-commons/public-module"
    : >"$rel/linkis-package/lib/linkis-commons/public-module/linkis-rpc-$v.jar"
    echo "# the fake release's stock conf (replaced by the rendered one)" >"$rel/linkis-package/conf/linkis.properties"
    printf '#!/bin/sh\necho "the fake release has no installer" >&2\nexit 1\n' >"$rel/bin/install.sh"
    for f in linkis_ddl.sql linkis_dml.sql; do
      echo "SELECT no_such_column FROM never_run_the_1_3_2_scripts;" >"$up/1.3.2_schema/mysql/$f"
    done
    if [ "$v" = 1.4.0 ]; then
      mkdir -p "$up/1.4.0_schema/mysql"
      echo "CREATE TABLE linkis_bed_upgraded (id INT PRIMARY KEY, note VARCHAR(64));" >"$up/1.4.0_schema/mysql/linkis_ddl.sql"
      echo "INSERT INTO linkis_bed_upgraded (id, note) VALUES (1, 'the 1.4.0 dml');" >"$up/1.4.0_schema/mysql/linkis_dml.sql"
    fi
    tar -czf "$BED/release/apache-linkis-$v-bed-bin.tar.gz" -C "$rel" linkis-package bin
  done
  mkdir -p "$BED/jdk/bin"
  printf '#!/bin/sh\necho "openjdk version \\"1.8.0-bed-stub\\"" >&2\n' >"$BED/jdk/bin/java"
  chmod 0755 "$BED/jdk/bin/java"
  make_platform
}

# The Hadoop side every ECM host needs (faked: no Hadoop runs here): homes and conf dirs the spec
# names, the clients the ECM preflight looks for, and an `hdfs` whose "HDFS" is $BED/hdfs, which
# refuses to run without HADOOP_CONF_DIR (as the real client would find no cluster). A stub JDBC
# driver jar on the control node (Apache releases ship none; database.driver_jar installs it).
make_platform() {
  local p=$BED/platform c
  mkdir -p "$p"/hadoop/bin "$p"/hadoop-conf "$p"/spark/bin "$p"/spark-conf "$BED/hdfs"
  for c in hadoop/bin/hadoop spark/bin/spark-submit; do
    printf '#!/bin/sh\necho "bed stub: %s $*" >&2\nexit 0\n' "$c" >"$p/$c"
  done
  cat >"$p/hadoop/bin/hdfs" <<EOF
#!/bin/bash
# bed stub of the hdfs client: dfs -test -d | -mkdir -p | -chmod MODE on hdfs:// paths under $BED/hdfs
set -eu
[ -n "\${HADOOP_CONF_DIR:-}" ] || { echo "hdfs: HADOOP_CONF_DIR is not set" >&2; exit 1; }
echo "\$*" >>"$BED/hdfs/calls.log"
local_path() { case "\$1" in hdfs://*) echo "$BED/hdfs/\${1#hdfs://}" ;; *) exit 2 ;; esac; }
[ "\$1" = dfs ] || exit 2
case "\$2" in
  -test) [ -d "\$(local_path "\$4")" ] ;;
  -mkdir) mkdir -p "\$(local_path "\$4")" ;;
  -chmod) chmod "\$3" "\$(local_path "\$4")" ;;
  *) exit 2 ;;
esac
EOF
  chmod 0755 "$p"/hadoop/bin/* "$p"/spark/bin/*
  chmod 0777 "$BED/hdfs"
  echo "bed stub driver" >"$BED/release/mysql-connector-j-8.0.33.jar"
}

start_db() {
  mkdir -p "$BED/mysql"
  mariadb-install-db --no-defaults --datadir="$BED/mysql/data" --user=root \
    --auth-root-authentication-method=socket >"$BED/logs/mariadb-install.log" 2>&1
  mariadbd --no-defaults --datadir="$BED/mysql/data" --user=root --socket="$BED/mysql/sock" \
    --pid-file="$BED/mysql/pid" --bind-address="$NET.1" --port=3306 --skip-name-resolve \
    --innodb-buffer-pool-size=16M --performance-schema=OFF \
    --log-error="$BED/logs/mariadb.err" >/dev/null 2>&1 &
  echo "$! mariadbd" >>"$BED/pids"
  for _ in $(seq 100); do [ -S "$BED/mysql/sock" ] && break; sleep 0.2; done
  # The password as an SQL string literal (backslash and quote escaped), on stdin.
  local lit=${DB_PASSWORD//\\/\\\\}
  lit=${lit//\'/\\\'}
  db_root <<<"CREATE DATABASE linkis;
    CREATE USER 'linkis'@'$NET.%' IDENTIFIED BY '$lit';
    GRANT ALL ON linkis.* TO 'linkis'@'$NET.%';"
  # No table: the install bootstraps the database from the fake release's db/ (roles/linkis_db).
}
# A JSON string of $1 (no control characters in the bed's values), by builtins alone.
json_str() {
  local v=${1//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}
db_root() { mariadb --no-defaults -S "$BED/mysql/sock" -u root "$@"; }
db() { db_root linkis -N -e "$1"; }
# A query that holds a secret: on mariadb's standard input, never its command line (the sampler).
db_secret() { db_root linkis -N <<<"$1"; }

# One simulated host: its namespaces, its files, its sshd. The hosts up already learn its name.
host_up() {
  local h=$1 o
  for o in "$BED"/hosts/*/etc/hosts; do
    if [ -f "$o" ] && ! grep -q " $h\$" "$o"; then printf '%s %s\n' "$(addr "$h")" "$h" >>"$o"; fi
  done
  ip netns add "lbed-$h"
  ip link add "lbv-$h" type veth peer name eth0 netns "lbed-$h"
  ip link set "lbv-$h" master "$BRIDGE" up
  ip -n "lbed-$h" addr add "$(addr "$h")/24" dev eth0
  ip -n "lbed-$h" link set eth0 up
  ip -n "lbed-$h" link set lo up
  make_host_dir "$h"
  ip netns exec "lbed-$h" unshare -m -u --propagation private bash "$BED/hosts/$h/init.sh" \
    </dev/null >"$BED/logs/$h-holder.log" 2>&1 &
  echo "$! holder-$h" >>"$BED/pids"
  for _ in $(seq 50); do [ -f "$BED/hosts/$h/ready" ] && break; sleep 0.1; done
  [ -f "$BED/hosts/$h/ready" ] || { cat "$BED/logs/$h-holder.log" >&2; exit 1; }
  start_sshd "$h"
}

# The front and the firewall (gateway.web.tls, security.firewall): a CA and the web hosts'
# certificate made with openssl (EC P-256; SANs: every name and address a web host may have);
# the mountpoint of the hosts' per-host /etc/linkis-firewall; the namespace lbed-out on the bridge
# with OUTSIDER (its primary address: outside the cluster and allow_from) and ALLOWED (allow_from).
front_up() {
  local t=$BED/tls san="DNS:bed-web" i
  mkdir -p "$t"
  for i in 1 2 3 4 5 6 7; do san+=",DNS:s$i,IP:$(addr "s$i")"; done
  san+=",IP:$VIP_ADDR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=linkis bed CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$t/ca.key" -out "$t/ca.crt" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=bed-web \
    -keyout "$t/web.key" -out "$t/web.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >"$t/web.ext"
  openssl x509 -req -in "$t/web.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
    -extfile "$t/web.ext" -out "$t/web.crt" 2>/dev/null
  if [ ! -d "$FW_DIR" ]; then
    mkdir "$FW_DIR"
    : >"$BED/made-firewall-dir"
  fi
  if [ ! -d "$BACKUP_CONF_DIR" ]; then
    mkdir "$BACKUP_CONF_DIR"
    : >"$BED/made-backup-dir"
  fi
  ip netns add lbed-out
  ip link add lbv-out type veth peer name eth0 netns lbed-out
  ip link set lbv-out master "$BRIDGE" up
  ip -n lbed-out addr add "$OUTSIDER/24" dev eth0
  ip -n lbed-out addr add "$ALLOWED/24" dev eth0
  ip -n lbed-out link set eth0 up
  ip -n lbed-out link set lo up
}
# curl from the allow_from address (the harness' checks of Linkis ports: the control node, which
# runs ansible and is the database host, is not in allow_from); curl from the outsider.
lcurl() { ip netns exec lbed-out curl --interface "$ALLOWED" "$@"; }
ocurl() { ip netns exec lbed-out curl --interface "$OUTSIDER" "$@"; }

up() {
  if ip link show "$BRIDGE" >/dev/null 2>&1 || [ -e "$BED" ]; then
    echo "a bed is up already (or was left): tests/bed/run.sh --teardown" >&2
    exit 1
  fi
  BED_UP=1
  mkdir -p "$BED"/{keys,release,app,logs,cp,hosts}
  : >"$BED/pids"
  printf '#!/bin/sh\necho "setfacl: no acl package on this simulated host" >&2\nexit 1\n' >"$BED/fake-setfacl"
  chmod 0755 "$BED/fake-setfacl"
  ssh-keygen -q -t ed25519 -N '' -f "$BED/keys/id_ed25519"
  cp "$BED/keys/id_ed25519.pub" "$BED/keys/authorized_keys"
  chmod 0755 "$BED" "$BED/keys"
  chmod 0644 "$BED/keys/authorized_keys"

  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  front_up
  for h in "${HOSTS[@]}"; do host_up "$h"; done
  # The fake systemctl's sandbox refuses writes outside a unit's writable paths, here too.
  on "${HOSTS[0]}" bash "$here/fake/systemctl-selftest" "$here/fake/systemctl" "$BED/app" /etc/systemd/system \
    >>"$BED/logs/systemctl-selftest.log" 2>&1 || { cat "$BED/logs/systemctl-selftest.log" >&2; exit 1; }
  start_db
  make_release
  render
  # The sampler of command lines and environments (tests/bed/sampler.py): from now on no process
  # of the machine, so of no host, may show a secret.
  python3 "$here/sampler.py" "$BED/secrets" "$BED/logs/secret-hits" </dev/null >"$BED/logs/sampler.log" 2>&1 &
  echo "$! sampler" >>"$BED/pids"
  # The sampler sees what it must: a secret in a command line, then one in an environment.
  local c1 c2
  python3 -c 'import time; time.sleep(0.5)' "$DB_PASSWORD" &
  c1=$!
  (
    export LINKIS_BED_CANARY=$ADMIN_PASSWORD
    exec python3 -c 'import time; time.sleep(0.5)'
  ) &
  c2=$!
  wait "$c1" "$c2"
  if ! grep -q ' cmdline secret#' "$BED/logs/secret-hits" || ! grep -q ' environ secret#' "$BED/logs/secret-hits"; then
    echo "the secret sampler missed the canaries: $(cat "$BED/logs/secret-hits" 2>/dev/null)" >&2
    exit 1
  fi
  : >"$BED/logs/secret-hits"
  log "bed up: ${#HOSTS[@]} hosts ($NET.11-$((10 + ${#HOSTS[@]}))), MariaDB on $NET.1:3306"
}

# The bed's spec: the guide-50 layout (ECM on s1, s2; the control services on s3, s4) at the
# bed's addresses, its release and its database.
# render [keep]: keep keeps OUT (and the applied.json the playbooks wrote there).
render() {
  cat >"$BED/spec.yaml" <<EOF
version: 1
cluster:
  name: bed
  linkis_version: "$VERSION"
  install_dir: $BED/app/LinkisInstall
  package: $BED/release/apache-linkis-$VERSION-bed-bin.tar.gz
$(if [ -n "$VIP" ]; then echo "  gateway_url: http://$(addr "${CONTROL[0]}"):${GW_PORT:-9001} # as without the VIP: no instance changes"; fi)
database:
  host: $NET.1
  name: linkis
  user: linkis
  password: { vault: vault_linkis_db_password }
  driver_jar: $BED/release/mysql-connector-j-8.0.33.jar
hadoop:
  home: $BED/platform/hadoop
  conf_dir: $BED/platform/hadoop-conf
  yarn_url: http://$YARN_URL
spark:
  home: $BED/platform/spark
  conf_dir: $BED/platform/spark-conf
storage:
  hdfs_root: hdfs:///tmp/linkis
  result_sets: hdfs:///tmp/linkis
  engine_ports: 30000-31000 # the firewall opens the engines' range to the cluster only
sizing:
  concurrent_users: 50
  max_concurrency_per_user: 2
  engines:
    spark: { memory: 1G, cores: 1${SPARK_VERSION:+, version: $SPARK_VERSION} }
host_defaults:
  memory: 64G
  cores: 32
$(if [ -n "$GW_PORT" ]; then echo "  ports: { gateway: $GW_PORT }"; fi)
gateway:
  web:
    tls:
      certificate: files/bed-web.crt
      key: { vault: vault_linkis_web_tls_key }
      listen: $TLS_PORT
      http_redirect: $HTTP_PORT
$(if [ -n "$VIP" ]; then echo "    vip: $VIP"; fi)
security:
  firewall: true
  allow_from: [$ALLOWED]
monitoring: { prometheus: true, scrapers: [$NET.1] }
backup: { host: s3, dir: $BED/dumps, keep: 2 }
hosts:
$(for h in "${HOSTS[@]}"; do echo "  - { name: $h, address: $(addr "$h")${ROLES[$h]:+, roles: [${ROLES[$h]}]} }"; done)
EOF
  if [ "${1:-}" != keep ]; then rm -rf "$BED/out"; fi
  "$BIN" render "$BED/spec.yaml" -o "$BED/out" >"$BED/logs/render.log" 2>&1
  # The front's certificate, relative to OUT (the role copies it from the control node).
  mkdir -p "$BED/out/files"
  cp "$BED/tls/web.crt" "$BED/out/files/bed-web.crt"
  # Per-host settings of the bed; host vars outrank the rendered group_vars/all/main.yml.
  {
    echo "all:"
    echo "  hosts:"
    for h in "${HOSTS[@]}" "${GONE[@]}"; do
      cat <<EOF
    $h:
      ansible_user: root
      ansible_ssh_private_key_file: $BED/keys/id_ed25519
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5
      ansible_python_interpreter: /usr/bin/python3
      linkis_java_home: $BED/jdk
      linkis_min_free_disk_mb: 1
      linkis_web_install_nginx: false
      linkis_engineconn_root_dir: $BED/app/engine
      linkis_start_timeout: 30
      linkis_register_timeout: 60
      linkis_upgrade_backup_dir: $BED/backup
EOF
    done
  } >"$BED/bed-inventory.yml"
  # Every vault variable the tree asks for (-e, as a vault file would give them), as YAML strings;
  # the hostile passwords come on stdin. $BED/secrets lists every value, one per line, for the
  # checks that no output, file or command line holds one.
  python3 -c '
import json, re, sys
names = re.findall(r"^  - (\S+)$", re.search(r"^linkis_vault_variables:\n((?:  - .*\n)*)",
                   open(sys.argv[1]).read(), re.M).group(1), re.M)
given = json.loads(sys.stdin.read())
# The TLS key: its PEM text (a JSON string is a YAML double-quoted scalar, newlines kept).
given["vault_linkis_web_tls_key"] = open(sys.argv[4]).read()
values = {n: given.get(n, "bed-" + n) for n in names}
assert "vault_linkis_db_password" in values and "vault_linkis_admin_password" in values, names
with open(sys.argv[2], "w") as f:
    f.write("".join("%s: %s\n" % (n, json.dumps(v)) for n, v in values.items()))
# One secret per line; of a PEM key, its base64 lines (its BEGIN/END lines are not secret).
with open(sys.argv[3], "w") as f:
    f.write("".join(l + "\n" for v in values.values() for l in v.splitlines()
                    if l and not l.startswith("-----")))
' "$BED/out/inventory/group_vars/all/main.yml" "$BED/vault.yml" "$BED/secrets" "$BED/tls/web.key" \
    <<<"{\"vault_linkis_db_password\": $(json_str "$DB_PASSWORD"), \"vault_linkis_admin_password\": $(json_str "$ADMIN_PASSWORD")}"
  chmod 0600 "$BED/vault.yml" "$BED/secrets"
  grep -q "^vault_linkis_web_tls_key: \"-----BEGIN" "$BED/vault.yml"
}

# ---------------------------------------------------------------- running ansible, figures

RUNS=0
LOG=
RC=0
declare -A CHANGED FAILED UNREACH
# play LABEL USER PLAYBOOK [ARGS...]: runs it from the rendered tree (its ansible.cfg applies),
# records the recap and prints the figure line.
play() {
  local label=$1 user=$2 pb=$3 t0
  shift 3
  RUNS=$((RUNS + 1))
  LOG=$BED/logs/run-$RUNS-$label.log
  t0=$(date +%s)
  set +e
  (cd "$BED/out" && ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_SSH_CONTROL_PATH_DIR="$BED/cp" \
    ANSIBLE_LOCAL_TEMP="$BED/ansible-local" ANSIBLE_RETRY_FILES_ENABLED=0 \
    ANSIBLE_CALLBACK_PLUGINS="$here/callback" ANSIBLE_CALLBACKS_ENABLED=bed_timer \
    ansible-playbook -i inventory/hosts.yml -i "$BED/bed-inventory.yml" "$pb" \
    -e "@$BED/vault.yml" -e "ansible_user=$user" "$@") >"$LOG" 2>&1
  RC=$?
  set -e
  recap
  if [ -s "$BED/logs/secret-hits" ]; then
    fail "a secret was on a command line or in an environment during $label: $(cat "$BED/logs/secret-hits")"
  fi
  local figs="" h
  for h in "${!CHANGED[@]}"; do figs+=" $h=${CHANGED[$h]}"; done
  log "FIGURE scenario=$SCEN run=$label ($pb $*) as $user: rc=$RC wall=$(($(date +%s) - t0))s hosts=${#CHANGED[@]} changed:$(tr ' ' '\n' <<<"$figs" | sort | tr '\n' ' ')"
  # Module runs per host, and where the time went (tests/bed/callback/bed_timer.py): the slowest tasks.
  grep '^BED MODULES' "$LOG" | sed 's/^/    /' || true
  grep '^BED TIMER' "$LOG" | head -"${BED_TIMER_LINES:-6}" | sed 's/^/    /' || true
}
# The module runs a host had in the last run (BED MODULES of the callback).
modules_of() { sed -n 's/^BED MODULES:.* '"$1"'=\([0-9]*\).*/\1/p' "$LOG"; }
recap() {
  CHANGED=() FAILED=() UNREACH=()
  local line h
  while read -r line; do
    h=${line%% *}
    CHANGED[$h]=$(sed -n 's/.*changed=\([0-9]*\).*/\1/p' <<<"$line")
    FAILED[$h]=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
    UNREACH[$h]=$(sed -n 's/.*unreachable=\([0-9]*\).*/\1/p' <<<"$line")
  done < <(sed -n '/^PLAY RECAP/,$p' "$LOG" | grep ' ok=')
}

fail() {
  echo "bed: FAIL [scenario $SCEN]: $*" >&2
  if [ -n "$LOG" ]; then
    # The run's last lines before the callback's figures; the failure again at the very end,
    # where CI's excerpt of the output (its last lines) shows it.
    echo "---- last 60 lines of $LOG (without its BED TIMER/MODULES lines)" >&2
    grep -v '^BED ' "$LOG" | tail -60 >&2
    echo "bed: FAIL [scenario $SCEN]: $*" >&2
  fi
  exit 1
}
expect_ok() { # every host of the run: failed=0 unreachable=0, the hosts given in the recap
  [ "$RC" = 0 ] || fail "$1: ansible-playbook exited $RC"
  local h
  for h in "${HOSTS[@]}"; do
    [ -n "${CHANGED[$h]:-}" ] || fail "$1: $h missing from PLAY RECAP"
    if [ "${FAILED[$h]}" != 0 ] || [ "${UNREACH[$h]}" != 0 ]; then fail "$1: $h failed/unreachable"; fi
  done
}
expect_unchanged() {
  local h
  for h in "${HOSTS[@]}"; do [ "${CHANGED[$h]}" = 0 ] || fail "$1: $h reports changed=${CHANGED[$h]}"; done
}
expect_log() { grep -qE -- "$1" "$LOG" || fail "${2:-output} lacks /$1/"; }

# ---------------------------------------------------------------- host state

# A host's LINKIS_HOME as this (root) namespace sees it. install_dir is a symlink to the release's
# own directory ($BED/app/LinkisInstall-<version>); its absolute target means the host's view of
# $BED/app, which is $BED/hosts/<host>/app here.
lhome() {
  local t
  t=$(readlink "$BED/hosts/$1/app/LinkisInstall" || true)
  if [ -n "$t" ]; then echo "$BED/hosts/$1/app/${t##*/}"; else echo "$BED/hosts/$1/app/LinkisInstall"; fi
}
units_of() { find "$BED/out/hosts/$1/systemd" -name '*.service' -printf '%f\n' | sort; }
unit_state() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' \
  "$BED/hosts/$1/run/fake-systemd/$2.json" "$3" 2>/dev/null || true; }

# Every unit of every host active (its process alive) and enabled; Eureka lists every instance.
expect_cluster_up() {
  local h u
  for h in "${HOSTS[@]}"; do
    for u in $(units_of "$h"); do
      [ "$(on "$h" systemctl is-active "$u")" = active ] || fail "$1: $u on $h is not active"
      [ -L "$BED/hosts/$h/systemd/multi-user.target.wants/$u" ] || fail "$1: $u on $h is not enabled"
      kill -0 "$(unit_state "$h" "$u" pid)" 2>/dev/null || fail "$1: the process of $u on $h is gone"
    done
  done
  # Each Eureka node lists exactly the expected instances. A stopped instance cancels its
  # registration; one that missed that (a node restarted meanwhile) drops out when its lease ends
  # (12 s after its last renewal): up to 17 s are given.
  local want n e deadline=$(($(date +%s) + 17))
  want=$(grep -c '{ app: ' "$BED/out/inventory/group_vars/all/main.yml")
  for e in "${CONTROL[@]}"; do # the Eureka pair
    while :; do
      n=$(lcurl -sf -H 'Accept: application/json' "http://$(addr "$e"):20303/eureka/apps" |
        python3 -c 'import json,sys; print(sum(len(a["instance"]) for a in json.load(sys.stdin)["applications"]["application"]))')
      [ "$n" != "$want" ] || break
      [ "$(date +%s)" -lt "$deadline" ] || fail "$1: Eureka on $e lists $n instances, want $want"
      sleep 1
    done
  done
  # nginx: enabled, running, and proxying /api to a gateway over https (the fake gateway answers
  # JSON), from the outsider (the web front is open to all); the firewall's table is loaded.
  for h in "${CONTROL[@]}"; do
    [ "$(on "$h" systemctl is-active nginx)" = active ] || fail "$1: nginx on $h is not active"
    [ -L "$BED/hosts/$h/systemd/multi-user.target.wants/nginx.service" ] || fail "$1: nginx on $h not enabled"
    grep -q '"not found"' < <(ocurl -s --cacert "$BED/tls/ca.crt" "https://$(addr "$h"):$TLS_PORT/api/rest_j/v1/anything") ||
      fail "$1: nginx on $h does not proxy https /api to a gateway"
  done
  for h in "${HOSTS[@]}"; do
    on "$h" /usr/sbin/nft list set inet linkis sources4 >/dev/null 2>&1 || fail "$1: no Linkis firewall table on $h"
  done
}
# gateway.web.tls and security.firewall, with the real nginx and nftables of the hosts:
# - https through nginx reaches a gateway, by address and by name (the certificate's SANs, the
#   bed's CA); plain HTTP only answers 301 to the same URI on https; TLS 1.1 is refused by the
#   server (the client allows it: SECLEVEL=0), TLS 1.2 accepted; the key is root:root 0600;
# - Eureka (a Linkis port) is refused from the outsider (neither a cluster host nor allow_from)
#   and from the control node, and answers a cluster host and allow_from; ssh and the web front
#   answer the outsider.
expect_front_and_firewall() {
  local h=${CONTROL[0]} a e got
  a=$(addr "$h")
  grep -q '"not found"' < <(ocurl -s --cacert "$BED/tls/ca.crt" --resolve "$h:$TLS_PORT:$a" "https://$h:$TLS_PORT/api/rest_j/v1/anything") ||
    fail "$1: https://$h:$TLS_PORT (by name) does not reach a gateway"
  got=$(ocurl -s -o "$BED/redirect.body" -w '%{http_code} %{redirect_url}' -X POST "http://$a:$HTTP_PORT/api/rest_j/v1/user/login?x=1")
  [ "$got" = "301 https://$a:$TLS_PORT/api/rest_j/v1/user/login?x=1" ] || fail "$1: plain HTTP answers '$got', not a 301 to https"
  if grep -q '"not found"\|"status"' "$BED/redirect.body"; then fail "$1: plain HTTP reached a gateway"; fi
  s_client() { echo | ip netns exec lbed-out timeout 5 openssl s_client -connect "$a:$TLS_PORT" "$1" \
    -cipher 'DEFAULT@SECLEVEL=0' -CAfile "$BED/tls/ca.crt" 2>&1; }
  got=$(s_client -tls1_1 || true)
  grep -q 'alert protocol version' <<<"$got" || fail "$1: nginx on $h does not refuse TLS 1.1: $got"
  got=$(s_client -tls1_2 || true)
  grep -q 'Verify return code: 0 (ok)' <<<"$got" || fail "$1: nginx on $h refuses TLS 1.2: $got"
  [ "$(on "$h" stat -c '%a %U:%G' /etc/nginx/linkis-tls/bed.key)" = "600 root:root" ] || fail "$1: the TLS key is not root:root 0600"
  on "$h" cmp -s /etc/nginx/linkis-tls/bed.key "$BED/tls/web.key" || fail "$1: the installed key is not the vault's"
  e="http://$a:20303/actuator/health"
  local rc=0
  ocurl -s -m 3 -o /dev/null "$e" || rc=$?
  [ "$rc" = 7 ] || fail "$1: Eureka on $h from the outsider $OUTSIDER: curl exit $rc, want 7 (refused)"
  # The control node too, unless the spec lets it in (monitoring.scrapers adds its sources).
  if ! grep -qE "elements = \{.*[{ ]${NET//./\\.}\.1[, ]" "$BED/out/hosts/$h/nftables/linkis.nft"; then
    rc=0
    curl -s -m 3 -o /dev/null "$e" || rc=$?
    [ "$rc" = 7 ] || fail "$1: Eureka on $h from the control node: curl exit $rc, want 7 (refused)"
  fi
  lcurl -sf -m 3 -o /dev/null "$e" || fail "$1: Eureka on $h refuses allow_from ($ALLOWED)"
  on s1 curl -sf -m 3 -o /dev/null "$e" || fail "$1: Eureka on $h refuses the cluster host s1"
  grep -q '^SSH-' < <(ip netns exec lbed-out timeout 3 bash -c "exec 3<>/dev/tcp/$a/22; head -c 4 <&3") ||
    fail "$1: ssh on $h does not answer the outsider"
}
# "unit@host started-at" for every unit, to compare across runs.
start_times() {
  local h u
  for h in "${HOSTS[@]}"; do
    for u in $(units_of "$h"); do echo "$u@$h $(unit_state "$h" "$u" started)"; done
  done
}
clear_runs() { # runs of the clear-server role's DELETEs on a host (delegated: "[s1 -> s3(ADDRESS)]"), over every run's log
  cat "$BED"/logs/run-*.log 2>/dev/null | awk -v h="$1" '
    /^TASK \[/ { del = index($0, "Delete the manager") > 0 }
    del && $0 ~ "^changed: \\[([^]]* -> )?" h "(\\([^)]*\\))?\\]" { n++ }
    END { print n + 0 }'
}
plant_rows() {
  db "INSERT INTO linkis_cg_manager_service_instance (instance, name) VALUES ('$1:9101', 'linkis-cg-linkismanager');
      INSERT INTO linkis_cg_manager_label_service_instance (label_id, service_instance) VALUES (1, '$1:9101');"
}
rows() { db "SELECT (SELECT COUNT(*) FROM linkis_cg_manager_service_instance) + (SELECT COUNT(*) FROM linkis_cg_manager_label_service_instance)"; }

# The seeded database rows (issue 21, changes.yml's linkis_db_rows).
# The whole database as mysqldump writes it: one row per line, in key order, no dates.
db_dump() {
  mariadb-dump --no-defaults -S "$BED/mysql/sock" -u root --skip-dump-date --skip-comments \
    --skip-extended-insert --order-by-primary linkis
}
# The dumps linkis_db_rows took before updating rows, on the host of its play (one per run that
# updated anything).
rows_host() { awk '/^- name: "Update the seeded database rows/ {f = 1} f && /^  hosts: / {print $2; exit}' "$BED/out/changes.yml"; }
rows_dumps() { { find "$(lhome "$1")/db/changes-backup" -name 'rows-*.sql' 2>/dev/null || true; } | sort; }
# expect_db_only LABEL BEFORE TABLE OLD NEW [OLD NEW...]: the database is BEFORE (a db_dump) with,
# in TABLE's rows only, each OLD text replaced by its NEW (each OLD was there), nothing else.
expect_db_only() {
  local label=$1 before=$2
  shift 2
  db_dump >"$BED/db-after.sql"
  python3 - "$before" "$BED/db-after.sql" "$@" <<'PY' || fail "$label: the database changed otherwise than in the planned rows (see above)"
import difflib, sys
before, after, table, pairs = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4:]
want = []
for line in before.splitlines(True):
    if line.startswith("INSERT INTO `%s` VALUES" % table):
        # mysqldump writes a " in a string as \".
        for old, new in zip(pairs[::2], pairs[1::2]):
            line = line.replace(old, new).replace(old.replace('"', '\\"'), new.replace('"', '\\"'))
    want.append(line)
for old in pairs[::2]:
    if old not in before and old.replace('"', '\\"') not in before:
        sys.exit(print("the old value %s was not in the database before" % old))
if before == after:
    sys.exit(print("nothing changed in the database"))
if "".join(want) != after:
    sys.stdout.writelines(difflib.unified_diff(want, after.splitlines(True), "expected", "after", n=0))
    sys.exit(1)
PY
}
# expect_restarted LABEL BEFORE PATTERN: the units matching PATTERN (a case pattern of
# unit@host) restarted since BEFORE (start_times), every other unit did not.
expect_restarted() {
  local label=$1 uh t n=0
  while read -r uh t; do
    # shellcheck disable=SC2254 # PATTERN is a case pattern
    case "$uh" in
    $3)
      [ "$(start_time_of "$uh")" != "$t" ] || fail "$label: $uh did not restart"
      n=$((n + 1))
      ;;
    *) [ "$(start_time_of "$uh")" = "$t" ] || fail "$label: $uh restarted, which the change does not need" ;;
    esac
  done <<<"$2"
  [ "$n" -gt 0 ] || fail "$label: no unit matches $3"
}
# Recorded, and a second render plans nothing.
expect_recorded_and_converged() {
  cmp -s "$BED/out/.linkis-gen/applied.json" "$BED/out/.linkis-gen/state.json" ||
    fail "$1: changes.yml did not record applied.json"
  render keep
  grep -q "changes against applied.json: none" "$BED/logs/render.log" ||
    fail "$1: a second render plans changes: $(cat "$BED/logs/render.log")"
}

# A YARN address change on the running cluster (issue 21): render plans the YARN row, old -> new
# (CHANGES.md, "Database rows") and the linkismanagers' restart (the resource manager caches the
# row); changes.yml dumps the table first, updates that row and nothing else in the database,
# restarts every linkismanager, one at a time, and nothing else, and records.
yarn_address_change() {
  local before since old new managers rh dumps old_url=$YARN_URL
  old="\"rmWebAddress\":\"http://$YARN_URL\""
  YARN_URL=$NET.2:8032
  new="\"rmWebAddress\":\"http://$YARN_URL\""
  managers=$(for h in "${HOSTS[@]}"; do units_of "$h"; done | grep -c '^linkis-cg-linkismanager.service$')
  render keep
  grep -qE "changes against applied.json: 0 added, 0 removed \(0 moved\), $managers reconfigured" "$BED/logs/render.log" ||
    fail "render does not plan the YARN change as $managers linkismanager restarts: $(cat "$BED/logs/render.log")"
  grep -qF -- "\`$old\` → \`$new\` (spec: \`hadoop.yarn_url\`)" "$BED/out/CHANGES.md" ||
    fail "CHANGES.md does not name the YARN row, old -> new: $(sed -n '/^## Database rows/,/^## Per host/p' "$BED/out/CHANGES.md")"
  rh=$(rows_host)
  [ -n "$rh" ] || fail "changes.yml has no play that updates the rows"
  dumps=$(rows_dumps "$rh" | wc -l)
  db_dump >"$BED/db-before-yarn.sql"
  before=$(start_times)
  since=$(date +%s)
  play changes-yarn-address root changes.yml
  expect_ok "changes.yml (YARN address)"
  no_secret_in_log "changes.yml (YARN address)"
  grep -qF "$new" < <(db "SELECT config FROM linkis_cg_rm_external_resource_provider") ||
    fail "the YARN row does not hold $new: $(db "SELECT config FROM linkis_cg_rm_external_resource_provider")"
  expect_db_only "YARN address" "$BED/db-before-yarn.sql" linkis_cg_rm_external_resource_provider "$old" "$new"
  [ "$(rows_dumps "$rh" | wc -l)" = $((dumps + 1)) ] || fail "changes.yml took no dump before updating the YARN row"
  grep -qF "rmWebAddress\\\":\\\"http://$old_url\\\"" "$(rows_dumps "$rh" | tail -1)" ||
    fail "the dump on $rh does not hold the old YARN row"
  expect_restarted "YARN address" "$before" 'linkis-cg-linkismanager.service@*'
  expect_one_at_a_time "YARN address" linkis-cg-linkismanager.service "$since" "$managers"
  # Each manager, restarted after the row's update, read the new address (the fake reads the row
  # once at start, as Linkis' RM caches it).
  local h last
  for h in "${HOSTS[@]}"; do
    grep -q '^linkis-cg-linkismanager.service$' < <(units_of "$h") || continue
    last=$(tail -1 "$(lhome "$h")/logs/fake-manager-yarn.log" 2>/dev/null)
    if [ "${last#* }" != "http://$YARN_URL" ] || ! awk -v t="${last%% *}" -v s="$since" 'BEGIN {exit !(t + 0 >= s + 0)}'; then
      fail "the linkismanager on $h did not read the new YARN address after its restart: ${last:-nothing read}"
    fi
  done
  expect_cluster_up "YARN address"
  expect_recorded_and_converged "YARN address"
}
# No vault value in the output of the last run (--diff of a filled-in file would print them).
no_secret_in_log() {
  if grep -qF -f "$BED/secrets" -e bed-vault_ "$LOG"; then fail "$1: the output shows a vault value"; fi
}
no_db_password_on_disk() {
  local h
  for h in "${HOSTS[@]}"; do
    if grep -qsE "^MYSQL_PASSWORD=" "$(lhome "$h")/conf/db.sh" || grep -qsF -f "$BED/secrets" "$(lhome "$h")/conf/db.sh"; then
      fail "$1: conf/db.sh on $h holds the DB password"
    fi
  done
}

# The sampler's verdict over the whole run: it ran, and saw no secret.
sampler_verdict() {
  [ "$BED_UP" = 1 ] || return 0
  SCEN=sampler
  local pid
  pid=$(awk '$2 == "sampler" {print $1}' "$BED/pids" | tail -1)
  kill -TERM "$pid"
  for _ in $(seq 50); do [ -s "$BED/logs/secret-hits.count" ] && break; sleep 0.1; done
  [ -s "$BED/logs/secret-hits.count" ] || fail "the secret sampler did not report (see $BED/logs/sampler.log)"
  if [ -s "$BED/logs/secret-hits" ]; then fail "a secret was on a command line or in an environment: $(cat "$BED/logs/secret-hits")"; fi
  log "FIGURE sampler: no secret in any command line or environment of the machine's processes ($(cat "$BED/logs/secret-hits.count"))"
}

# The database was bootstrapped from the fake release's db/ by linkis_db, once: the schema, the
# DML's rows with every placeholder filled from the spec, the shipped token rows renamed to the
# vault values (escaped for SQL), and nothing loaded twice.
db_bootstrapped() {
  local want n
  n=$(db "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'linkis'")
  [ "$n" = "$(grep -c '^CREATE TABLE' "$here/schema.sql")" ] || fail "$1: $n tables, not the fake release's DDL"
  [ "$(db "SELECT COUNT(*) FROM linkis_cg_rm_external_resource_provider")" = 1 ] || fail "$1: the DML did not load once"
  grep -qF "\"rmWebAddress\":\"http://$YARN_URL\"" < <(db "SELECT config FROM linkis_cg_rm_external_resource_provider") ||
    fail "$1: the YARN row lacks the spec's yarn_url: $(db "SELECT config FROM linkis_cg_rm_external_resource_provider")"
  if grep -q '@YARN\|@HADOOP' < <(db "SELECT config FROM linkis_cg_rm_external_resource_provider"); then
    fail "$1: a placeholder is left in the YARN row"
  fi
  want=$(sed -n 's/^  - { token: \([^,]*\), value: .*/\1/p' "$BED/out/inventory/group_vars/all/main.yml" | wc -l)
  [ "$want" -gt 0 ] || fail "$1: the rendered tree names no token rows"
  n=$(db "SELECT COUNT(*) FROM linkis_mg_gateway_auth_token WHERE token_name LIKE 'bed-vault\\_linkis\\_token\\_%'")
  [ "$n" = "$want" ] || fail "$1: $n token rows carry their vault value, want $want"
}

# The fake Linkis reads .properties as the JDK does (tests/bed/props_check.py): every conf file
# installed on the hosts, with the hostile secrets filled in, and a random corpus, read by both.
props_as_java_reads_them() {
  local files
  mapfile -t files < <(for h in "${HOSTS[@]}"; do find "$(lhome "$h")/conf" -name '*.properties'; done | sort)
  [ "${#files[@]}" -gt 0 ] || fail "$1: no installed .properties file"
  python3 "$here/props_check.py" "$BED/props-corpus" "${files[@]}" >"$BED/logs/props-check.log" 2>&1 ||
    fail "$1: $(cat "$BED/logs/props-check.log")"
  log "$(tail -1 "$BED/logs/props-check.log")"
}

# An admin login at every gateway with the hostile admin password (a JSON body from a 0600 file:
# never on a command line), as the console and the drain of an entrance log in; from s1, a cluster
# host (the firewall refuses the gateways' port to the control node).
admin_login_works() {
  local h body=$BED/login.json
  printf '{"userName": "hadoop", "password": %s}' "$(json_str "$ADMIN_PASSWORD")" >"$body"
  chmod 0600 "$body"
  for h in "${CONTROL[@]}"; do
    on s1 python3 -c '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read(), method="POST",
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    assert r.status == 200 and b"fake-ticket-" in (r.headers.get("Set-Cookie") or "").encode()
' "http://$(addr "$h"):${GW_PORT:-9001}/api/rest_j/v1/user/login" "$body" || fail "$1: the admin login at $h's gateway failed"
  done
}

# ---------------------------------------------------------------- observing the cluster (issue 22)
# A real Prometheus (Debian's) on the control node with the rendered OUT/monitoring/ files;
# status.yml; backup.yml and docs/operations.md's restore. Called from scenarios 6 and 2, which
# have the cluster they need.

PROM= # host:port of the bed's Prometheus while it runs
prom_up() {
  local d=$BED/prometheus port
  mkdir -p "$d/data"
  cp "$BED/out/monitoring/linkis-rules.yml" "$d/"
  # The rendered scrape config as it is (targets, metrics paths, labels, rule file) but for the
  # bed's 1 s scrape and evaluation interval instead of the rendered 30 s.
  sed -e 's/^  scrape_interval: 30s$/  scrape_interval: 1s/' -e 's/^  evaluation_interval: 30s$/  evaluation_interval: 1s/' \
    "$BED/out/monitoring/prometheus.yml" >"$d/prometheus.yml"
  [ "$(diff "$BED/out/monitoring/prometheus.yml" "$d/prometheus.yml" | grep -c '^>')" = 2 ] ||
    fail "the rendered prometheus.yml has no 30s scrape and evaluation interval"
  (cd "$d" && promtool check config prometheus.yml >/dev/null) || fail "promtool check config refuses the bed's prometheus.yml"
  port=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$NET.1")
  prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" --storage.tsdb.retention.time=1h \
    --web.listen-address="$NET.1:$port" >"$BED/logs/prometheus.log" 2>&1 &
  echo "$! prometheus" >>"$BED/pids"
  PROM=$NET.1:$port
}
prom_down() {
  local pid
  pid=$(awk '$2 == "prometheus" {print $1}' "$BED/pids")
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sed -i '/ prometheus$/d' "$BED/pids"
  PROM=
}
# prom_query EXPR: the instant vector as sorted lines "host service value".
prom_query() {
  curl -sf --get "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; [print(r["metric"].get("host", "-"), r["metric"].get("service", "-"), r["value"][1]) for r in json.load(sys.stdin)["data"]["result"]]' |
    sort
}
# prom_wait LABEL EXPR WANT: until prom_query EXPR is WANT (30 s at most).
prom_wait() {
  local got deadline=$(($(date +%s) + 30))
  while :; do
    got=$(prom_query "$2" 2>/dev/null) || true
    [ "$got" != "$3" ] || return 0
    [ "$(date +%s)" -lt "$deadline" ] || fail "$1: Prometheus answers $2 with [$got], want [$3]"
    sleep 1
  done
}
# The last scrape error of a target (Prometheus' /api/v1/targets).
prom_target_error() { # HOST SERVICE
  curl -sf "http://$PROM/api/v1/targets" | python3 -c 'import json,sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    if (t["labels"].get("host"), t["labels"].get("service")) == (sys.argv[1], sys.argv[2]):
        print(t["health"], t["lastError"])' "$1" "$2"
}
# The alert LinkisInstanceDown the running server holds for HOST's SERVICE must be pending (its
# `for: 2m` is longer than the bed waits): promtool test rules, with the rendered rules, proves it
# fires after 2 minutes on a series with the real one's labels (1, then 0 at every scrape), with
# exactly the labels and annotations the server gave the pending alert.
prom_alert_fires() { # HOST SERVICE
  local d=$BED/prometheus
  curl -sf "http://$PROM/api/v1/alerts" >"$d/alerts.json"
  curl -sf --get "http://$PROM/api/v1/query" --data-urlencode "query=up{host=\"$1\",service=\"$2\"}" >"$d/series.json"
  python3 - "$d" "$1" "$2" <<'PY' || fail "the server holds no pending LinkisInstanceDown for $2 on $1: $(cat "$BED/prometheus/alerts.json")"
import json, sys
d, host, service = sys.argv[1:]
alerts = [a for a in json.load(open(d + "/alerts.json"))["data"]["alerts"]
          if a["labels"].get("alertname") == "LinkisInstanceDown"]
if [(a["labels"].get("host"), a["labels"].get("service"), a["state"]) for a in alerts] != [(host, service, "pending")]:
    sys.exit(1)
(series,) = json.load(open(d + "/series.json"))["data"]["result"]
labels = {k: v for k, v in series["metric"].items() if k != "__name__"}
alert = {"exp_labels": {k: v for k, v in alerts[0]["labels"].items() if k != "alertname"},
         "exp_annotations": alerts[0]["annotations"]}
test = {"rule_files": ["linkis-rules.yml"], "evaluation_interval": "30s", "tests": [{
    "interval": "30s",
    "input_series": [{"series": "up{%s}" % ",".join('%s=%s' % (k, json.dumps(v)) for k, v in sorted(labels.items())),
                      "values": "1 0x8"}],
    "alert_rule_test": [
        {"eval_time": "1m", "alertname": "LinkisInstanceDown", "exp_alerts": []},
        {"eval_time": "3m", "alertname": "LinkisInstanceDown", "exp_alerts": [alert]}]}]}
json.dump(test, open(d + "/rules-test.yml", "w"), indent=1)
PY
  (cd "$d" && promtool test rules rules-test.yml >"$BED/logs/promtool-test.log" 2>&1) ||
    fail "promtool test rules: LinkisInstanceDown does not fire as the server's pending alert said: $(cat "$BED/logs/promtool-test.log")"
}

# status.yml on a converged cluster (every instance healthy), then with s1's ECM stopped and s1's
# linkis.properties edited by hand; a real Prometheus scrapes every instance meanwhile, sees the
# ECM's target go down and holds the alert; the ECM started with the edited conf (metrics turned
# off) answers its metrics path 404. Everything is put back: the cluster is converged after it.
observe_cluster() {
  local u=linkis-cg-engineconnmanager.service props want metrics
  props=$(lhome s1)/conf/linkis.properties
  prom_up
  play status-ok root status.yml
  [ "$RC" = 0 ] || fail "status.yml fails on a converged cluster"
  python3 - "$BED/out/.linkis-gen/status.json" "$(grep -c '{ app: ' "$BED/out/inventory/group_vars/all/main.yml")" <<'PY' ||
import json, sys
rows = json.load(open(sys.argv[1]))["instances"]
ok = [r for r in rows if r["active"] == "active" and r["enabled"] == "enabled" and r["healthy"] in (True, "True", "true")
      and sorted(r["registered"]) == ["s3", "s4"] and not r["problems"] and not r["drift"] and r["release"].endswith("LinkisInstall-1.3.2")]
sys.exit(0 if len(rows) == int(sys.argv[2]) == len(ok) else 1)
PY
    fail "status.json does not show every instance active, enabled, healthy, registered with s3 and s4, undrifted: $(cat "$BED/out/.linkis-gen/status.json")"
  [ "$(grep -cE '^ +"s[1-4] .* active +enabled .* yes +s3,s4 +0 ' "$LOG")" = 12 ] || fail "status.yml's table does not show 12 healthy instances"

  # Every target of the rendered scrape config is up, with the series the rules read.
  want=$(awk -F'"' '/^ +host: /{h = $2} /^ +service: /{print h, $2, 1}' "$BED/prometheus/prometheus.yml" | sort)
  [ "$(wc -l <<<"$want")" = "$(find "$BED"/out/hosts/*/systemd -name 'linkis-*.service' | wc -l)" ] ||
    fail "the scrape config does not list every instance"
  prom_wait "every target up" up "$want"
  prom_wait "heap series" 'count by (host, service) (jvm_memory_max_bytes{area="heap"} > 0)' "$want"
  # The metrics path is the service's own: not the gateway's on the ECM, not the servlet path on the gateway.
  for metrics in "$(addr s1):9102/actuator/prometheus" "$(addr s3):9001/api/rest_j/v1/actuator/prometheus"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$metrics")" = 404 ] || fail "http://$metrics does not answer 404"
  done

  # s1's ECM stopped: its target goes down and the alert holds it.
  on s1 systemctl stop "$u"
  prom_wait "ECM stopped" 'up == 0' "s1 engineconnmanager 0"
  prom_wait "ECM stopped" 'ALERTS{alertname="LinkisInstanceDown"}' "s1 engineconnmanager 1"
  prom_alert_fires s1 engineconnmanager
  # ... and a hand edit on s1 (metrics turned off): status.yml names both and fails.
  cp -p "$props" "$BED/linkis.properties.s1"
  echo "wds.linkis.prometheus.enable=false" >>"$props"
  play status-down root status.yml
  [ "$RC" != 0 ] || fail "status.yml passes with a stopped service and an edited file"
  expect_log '"engineconnmanager on s1 port 9102: unit inactive; not answering on port 9102; not registered with s3, s4"' "status.yml (stopped ECM)"
  expect_log "\"files changed on s1: $BED/app/LinkisInstall/conf/linkis.properties\"" "status.yml (edited file)"
  [ "$(grep -cE '^ +"s[1-4] .* active +enabled .* yes +s3,s4 +0 ' "$LOG")" = 11 ] || fail "status.yml blames other instances"
  # The ECM started with that conf runs, but serves no metrics: its target stays down (404).
  on s1 systemctl start "$u"
  grep -q "metrics off" "$(lhome s1)/logs/fake-cg-engineconnmanager.log" || fail "the ECM with metrics turned off serves them"
  local deadline=$(($(date +%s) + 20))
  until grep -q "^down .*404" < <(prom_target_error s1 engineconnmanager); do
    [ "$(date +%s)" -lt "$deadline" ] || fail "s1's ECM without metrics: $(prom_target_error s1 engineconnmanager), want a 404"
    sleep 1
  done
  # Put back: the applied file, the ECM restarted; every target up, no alert.
  cp -p "$BED/linkis.properties.s1" "$props"
  on s1 systemctl restart "$u"
  prom_wait "ECM back" up "$want"
  prom_wait "ECM back" 'ALERTS' ""
  prom_down
  expect_cluster_up "status and metrics"
}

# gateway.web.vip (issue 22) on scenario 6's converged cluster. The spec gains the VIP (and keeps
# the gateway_url it had, so no instance changes); site.yml's keepalived play (--tags vip: the rest
# is converged, and a tagged run records nothing) installs the role's files in the web hosts'
# own /etc/keepalived and starts Debian's keepalived.service through the (fake) systemctl, so the
# real keepalived runs in each web host's namespaces, VRRP unicast between them through the
# firewall's table. The VIP answers https through nginx from the outsider (a request every 0.2 s).
# The master's nginx stopped: the VIP moves to the other web host within the rendered track
# script's fall x interval + one advert (the master gives it up with a priority-0 advert), and
# the requests fail only from the stop until 1 s after the move, when no host with nginx holds
# the address yet (VRRP cannot do better: the track script must see nginx down first). The
# master's nginx back, the VIP stays (nopreempt). Put back: keepalived stopped and disabled on
# the web hosts (the VIP leaves with it), the VIP out of the spec.
holds_vip() { grep -q " ${VIP_ADDR//./\\.}/32 " < <(on "$1" ip -4 -o addr show dev eth0); }
vip_holders() {
  local h
  for h in "${CONTROL[@]}"; do if holds_vip "$h"; then printf '%s ' "$h"; fi; done
}
vip_failover() {
  local m b h got conf interval fall advert bound t_stop t_moved deadline
  VIP=$VIP_ADDR
  render keep
  grep -q "changes against applied.json: none (" "$BED/logs/render.log" ||
    fail "the VIP changes instances: $(cat "$BED/logs/render.log")"
  play vip root site.yml --tags vip
  expect_ok "site.yml --tags vip"
  for h in "${HOSTS[@]}"; do
    case " ${CONTROL[*]} " in
    *" $h "*)
      [ "${CHANGED[$h]}" -gt 0 ] || fail "site.yml --tags vip changed nothing on the web host $h"
      cmp -s "$BED/hosts/$h/keepalived/keepalived.conf" "$BED/out/hosts/$h/keepalived/keepalived.conf" ||
        fail "$h's /etc/keepalived/keepalived.conf is not the rendered one"
      [ "$(on "$h" systemctl is-active keepalived)" = active ] || fail "keepalived on $h is not active"
      [ -L "$BED/hosts/$h/systemd/multi-user.target.wants/keepalived.service" ] || fail "keepalived on $h is not enabled"
      ;;
    *) [ "${CHANGED[$h]}" = 0 ] || fail "site.yml --tags vip changed $h, which runs no nginx" ;;
    esac
  done
  # Again: nothing to do, the role reads each web host once (its probe, and the record play's ping).
  play vip-again root site.yml --tags vip
  expect_ok "site.yml --tags vip again"
  expect_unchanged "site.yml --tags vip again"
  for h in "${CONTROL[@]}"; do
    [ "$(modules_of "$h")" -le 2 ] || fail "site.yml --tags vip again ran $(modules_of "$h") modules on $h, more than 2"
  done
  deadline=$(($(date +%s) + 20))
  until got=$(vip_holders) && [ "$(wc -w <<<"$got")" = 1 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the VIP is held by [$got], not by one web host"
    sleep 0.2
  done
  m=${got% }
  b=${CONTROL[0]}
  if [ "$b" = "$m" ]; then b=${CONTROL[1]}; fi
  grep -q '"not found"' < <(ocurl -s --cacert "$BED/tls/ca.crt" "https://$VIP:$TLS_PORT/api/rest_j/v1/anything") ||
    fail "https through the VIP on $m does not reach a gateway"
  LOOP_NS=lbed-out request_loop start "$VIP"
  sleep 1.5
  conf=$BED/out/hosts/$m/keepalived/keepalived.conf
  interval=$(awk '$1 == "interval" {print $2}' "$conf")
  fall=$(awk '$1 == "fall" {print $2}' "$conf")
  advert=$(awk '$1 == "advert_int" {print $2}' "$conf")
  bound=$((fall * interval + advert))
  t_stop=$(date +%s.%N)
  on "$m" systemctl stop nginx
  deadline=$(($(date +%s) + bound + 10))
  until holds_vip "$b"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "the VIP did not move from $m (nginx stopped) to $b"
    sleep 0.1
  done
  t_moved=$(date +%s.%N)
  if holds_vip "$m"; then fail "$m keeps the VIP without nginx"; fi
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) <= float(sys.argv[3]) + 0.5 else 1)' \
    "$t_stop" "$t_moved" "$bound" ||
    fail "the VIP took $(python3 -c "print(round($t_moved - $t_stop, 1))") s to move, more than fall x interval + advert_int = $bound s"
  sleep 1.5
  # The master's nginx back: its track script passes again (rise x interval), the VIP stays.
  on "$m" systemctl start nginx
  sleep "$(awk '$1 == "rise" {print $2}' "$conf")"
  sleep "$interval"
  sleep 1
  [ "$(vip_holders)" = "$b " ] || fail "with $m's nginx back the VIP is on [$(vip_holders)], not kept on $b (nopreempt)"
  request_loop stop "$t_stop" "$(python3 -c "print($t_moved + 1)")"
  log "vip: $VIP on $m, moved to $b $(python3 -c "print(round($t_moved - $t_stop, 1))") s after $m's nginx stopped (bound $bound s), kept there when it came back"
  for h in "${CONTROL[@]}"; do
    on "$h" systemctl disable keepalived
    on "$h" systemctl stop keepalived
  done
  [ -z "$(vip_holders)" ] || fail "the VIP stays on [$(vip_holders)] with keepalived stopped"
  VIP=
  render keep
}

# backup.yml on the backup host (s3) while the cluster is stopped, then the restore of
# docs/operations.md ("Restoring the database", run as written but for the dumps' path) into the
# dropped database: the manager rows come back as they were.
backup_and_restore() {
  local tables dump before n block
  tables="SELECT instance, name FROM linkis_cg_manager_service_instance ORDER BY 1;
    SELECT label_id, service_instance FROM linkis_cg_manager_label_service_instance ORDER BY 2"
  plant_rows backed-up
  n=$(rows)
  before=$(db "$tables")
  play backup root backup.yml
  [ "$RC" = 0 ] || fail "backup.yml failed"
  if [ "${!CHANGED[*]}" != s3 ] || [ "${FAILED[s3]}" != 0 ]; then fail "backup.yml ran on ${!CHANGED[*]}, not on the backup host s3 alone"; fi
  no_secret_in_log "backup.yml"
  dump=$(find "$BED/dumps" -maxdepth 1 -name 'linkis-bed-*.sql.gz' | sort | tail -n 1)
  if [ -z "$dump" ] || ! gzip -t "$dump"; then fail "no whole dump in $BED/dumps"; fi
  [ "$(stat -c %a "$dump")" = 600 ] || fail "the dump is not 0600"
  [ "$(stat -c %a "$BED/hosts/s3/backup-conf/client.cnf")" = 600 ] || fail "client.cnf is not 0600"
  # (The gateway's token rows are in the database by design: only the passwords must not be.)
  if grep -qF -f <(printf '%s\n' "$DB_PASSWORD" "$ADMIN_PASSWORD") < <(zcat "$dump"); then fail "the dump holds a password"; fi
  db_root -e "DROP DATABASE linkis"
  [ -z "$(db_root -N -e "SHOW DATABASES LIKE 'linkis'")" ] || fail "the database is still there"
  block=$(awk '/^## Restoring the database$/ {s = 1; next} s && /^## / {exit}
    s && /^```sh$/ {b = 1; t = ""; next}
    s && b && /^```$/ {b = 0; if (t ~ /mysql --defaults-extra-file/) {printf "%s", t; exit} next}
    s && b {t = t $0 "\n"}' "$repo/docs/operations.md")
  [[ $block == "DIR=/data/linkis-backup"$'\n'"CONF=/etc/linkis-backup"$'\n'* ]] ||
    fail "docs/operations.md has no MySQL restore block starting DIR=/data/linkis-backup CONF=/etc/linkis-backup"
  block=${block/DIR=\/data\/linkis-backup/DIR=$BED/dumps}
  on s3 bash -euo pipefail -c "$block" >"$BED/logs/restore.log" 2>&1 || fail "the documented restore failed on s3: $(cat "$BED/logs/restore.log")"
  [ "$(rows)" = "$n" ] || fail "the restore brought back $(rows) manager rows, $n were dumped"
  [ "$(db "$tables")" = "$before" ] || fail "the restored manager rows differ from the dumped ones"
  log "backup: $n manager rows dumped ($(basename "$dump"), $(stat -c %s "$dump") bytes), the database dropped, $(rows) rows restored"
}

# The dump's timer (issue 22) on the backup host s3, as far as a bed without systemd timers goes:
# the rendered OnCalendar= parses (systemd-analyze calendar, as systemd reads it); site.yml
# installed linkis-db-backup.timer as rendered, enabled and started it (the fake systemctl starts
# a timer only as systemd would: its service exists, each OnCalendar= parses); and the service,
# started as the timer starts it, writes a whole dump and prunes the directory to backup.keep:
# two older dumps planted first are the ones it removes, the newest dump before it is kept.
backup_timer() {
  local t=$BED/out/backup/linkis-db-backup.timer d=$BED/dumps cal keep before after stamp made
  cal=$(sed -n 's/^OnCalendar=//p' "$t")
  systemd-analyze calendar "$cal" >"$BED/logs/calendar.log" 2>&1 ||
    fail "OnCalendar=$cal does not parse: $(cat "$BED/logs/calendar.log")"
  cmp -s "$t" "$BED/hosts/s3/systemd/linkis-db-backup.timer" || fail "linkis-db-backup.timer on s3 is not the rendered one"
  [ -L "$BED/hosts/s3/systemd/multi-user.target.wants/linkis-db-backup.timer" ] || fail "linkis-db-backup.timer is not enabled on s3"
  [ "$(on s3 systemctl is-active linkis-db-backup.timer)" = active ] || fail "linkis-db-backup.timer is not active on s3"
  # shellcheck disable=SC2016 # the script's text: ${...} is not expanded here
  keep=$(sed -n 's/^keep=\${LINKIS_BACKUP_KEEP:-\([0-9]*\)}$/\1/p' "$BED/out/backup/linkis-db-backup.sh")
  [ "$keep" = 2 ] || fail "the dump script keeps '$keep' dumps, not the spec's backup.keep (2)"
  before=$(find "$d" -maxdepth 1 -name 'linkis-bed-*.sql.gz' -printf '%f\n' | sort)
  [ -n "$before" ] || fail "no dump of backup.yml to keep"
  for stamp in 20000101T000000.000000000Z 20000102T000000.000000000Z; do
    echo "SELECT 1;" | gzip >"$d/linkis-bed-$stamp.sql.gz"
  done
  on s3 systemctl start linkis-db-backup.service ||
    fail "linkis-db-backup.service failed on s3: $(tail -5 "$BED/hosts/s3/run/fake-systemd/linkis-db-backup.service.log")"
  after=$(find "$d" -maxdepth 1 -name 'linkis-bed-*.sql.gz' -printf '%f\n' | sort)
  made=$(comm -13 <(echo "$before") <(echo "$after"))
  [ "$(wc -l <<<"$after")" = "$keep" ] || fail "after the timer's service $d holds $(wc -l <<<"$after") dumps, not $keep: $after"
  if grep -q 'linkis-bed-2000' <<<"$after"; then fail "the timer's service kept a planted older dump: $after"; fi
  grep -qx "$(tail -1 <<<"$before")" <<<"$after" || fail "the timer's service removed the newest dump before it"
  if [ "$(wc -l <<<"$made")" != 1 ] || [ -z "$made" ] || ! gzip -t "$d/$made"; then fail "the timer's service wrote no whole dump: $after"; fi
  grep -q 'linkis_cg_manager_service_instance' < <(zcat "$d/$made") || fail "the timer's dump $made lacks the manager tables"
  log "backup timer: OnCalendar=$cal parses; linkis-db-backup.service wrote $made and kept $keep dumps (2 older planted ones removed)"
}

# ---------------------------------------------------------------- scenarios
# Each scenario_N asserts on host state. `need converged` makes it run on the cluster scenario 1
# leaves; `need fresh` on a new bed. Adding a scenario: a function and its name in the list.

STATE=none
# The cluster a new bed starts with, whatever earlier scenarios changed (scale and replace the hosts,
# port the gateway port, upgrade the release): scenario adopt runs after all of them.
cluster_defaults() {
  HOSTS=(s1 s2 s3 s4)
  GONE=()
  CONTROL=(s3 s4)
  VERSION=1.3.2
  GW_PORT=
  VIP=
  YARN_URL=$NET.1:8088
  SPARK_VERSION=
  ROLES=()
}

need() {
  case "$1" in
  fresh)
    if [ "$BED_UP" = 1 ]; then teardown; fi
    cluster_defaults
    up
    STATE=fresh
    ;;
  converged)
    case "$STATE" in
    converged) ;;
    repaired) # scenario 5 fixed the rendered files but left the broken ECM down: converge
      play converge root site.yml
      expect_ok "converge"
      expect_cluster_up "converge"
      STATE=converged
      ;;
    *) scenario_1 ;;
    esac
    ;;
  installed) # installed and applied, whether every service runs or not (scenario 2 restarts all)
    case "$STATE" in converged | repaired) ;; *) scenario_1 ;; esac
    ;;
  esac
}

# 1. Fresh 4-host cluster: site.yml over ssh, verify passes, every service registered, the
#    manager tables cleared once (cold start), a second run changes nothing and restarts nothing.
scenario_1() {
  SCEN=1
  need fresh
  [ "$(db "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'linkis'")" = 0 ] ||
    fail "the bed's database is not empty before the install"
  play site-fresh root site.yml --diff
  expect_ok "fresh install"
  no_secret_in_log "fresh install --diff"
  expect_log "Eureka lists all 12 expected instances" "verify"
  expect_cluster_up "fresh install"
  expect_front_and_firewall "fresh install"
  [ "$(clear_runs s3)" = 1 ] || fail "clear-server ran $(clear_runs s3) times on s3 (want 1, the first manager host)"
  for h in s1 s2 s4; do [ "$(clear_runs "$h")" = 0 ] || fail "clear-server ran on $h"; done
  [ "$(rows)" = 0 ] || fail "manager rows after the cold start"
  db_bootstrapped "fresh install"
  no_db_password_on_disk "fresh install"
  props_as_java_reads_them "fresh install"
  admin_login_works "fresh install"
  # Day-1 platform: the JDBC driver on every host; HDFS storage roots made once, from one ECM host.
  for h in "${HOSTS[@]}"; do
    [ -f "$(lhome "$h")/lib/linkis-commons/public-module/mysql-connector-j-8.0.33.jar" ] ||
      fail "no JDBC driver on $h"
  done
  [ -d "$BED/hdfs/tmp/linkis/hadoop" ] || fail "the HDFS root for the deploy user was not created"
  local mkdirs
  mkdirs=$(grep -c -- '-mkdir' "$BED/hdfs/calls.log")
  # The ECM's engine dir only on ECM hosts.
  if [ ! -d "$BED/hosts/s1/app/engine" ] || [ -e "$BED/hosts/s3/app/engine" ]; then fail "engine dir placement"; fi
  local before
  before=$(start_times)
  plant_rows survives-a-rerun
  play site-again root site.yml
  expect_ok "second run"
  expect_unchanged "second run"
  [ "$(clear_runs s3)" = 1 ] || fail "the second run ran clear-server.sh on a running cluster"
  [ "$(rows)" = 2 ] || fail "the second run deleted manager rows of a running cluster"
  db_bootstrapped "second run"
  expect_log "Say that the database is left alone" "second run"
  # The cold-start probe names the running units (from systemd), not only the ports that answer.
  expect_log "Manager rows not cleared \(clear-server\): +Linkis +still runs on s1 \(linkis-cg-engineconnmanager.service, port 9102\)" "second run"
  # A run that changes nothing reads each host in a few round trips, not one per file or unit.
  for h in "${HOSTS[@]}"; do
    [ "$(modules_of "$h")" -le "$NOOP_MODULES" ] ||
      fail "the second run ran $(modules_of "$h") modules on $h, more than $NOOP_MODULES"
  done
  [ "$(start_times)" = "$before" ] || fail "the second run restarted services"
  [ "$(grep -c -- '-mkdir' "$BED/hdfs/calls.log")" = "$mkdirs" ] || fail "the second run made HDFS directories again"
  expect_sandbox_refuses "${CONTROL[0]}" linkis-mg-eureka.service
  STATE=converged
}

# A rendered unit whose ReadWritePaths= misses its logs/ fails, as under systemd: the installed unit
# of a running control service, copied under another name without that path, is started; its
# service must stop because it cannot write its log (the fake systemctl's sandbox, fake/systemctl).
expect_sandbox_refuses() { # HOST UNIT
  local h=$1 u=$2 probe=linkis-bed-sandbox-probe.service d=$BED/hosts/$1
  local logs="$BED/app/LinkisInstall/logs"
  grep -q "^ReadWritePaths=.*-$logs " "$d/systemd/$u" || fail "sandbox probe: $u has no $logs to take away"
  sed "s#^ReadWritePaths=\(.*\)-$logs #ReadWritePaths=\1#" "$d/systemd/$u" >"$d/systemd/$probe"
  on "$h" systemctl start "$probe" || true
  for _ in $(seq 50); do
    grep -q "FATAL: cannot write the log" "$d/run/fake-systemd/$probe.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "FATAL: cannot write the log .*Read-only file system" "$d/run/fake-systemd/$probe.log" ||
    fail "sandbox probe: $u without $logs in ReadWritePaths= did not fail on its log: $(cat "$d/run/fake-systemd/$probe.log" 2>/dev/null)"
  [ "$(on "$h" systemctl is-active "$probe")" != active ] || fail "sandbox probe: $probe runs"
  on "$h" systemctl stop "$probe"
  rm -f "$d/systemd/$probe" "$d/run/fake-systemd/$probe".*
}

# 2. stop.yml in the host's stop order, then site.yml (as a non-root sudo user, no acl): a clean
#    cold start that runs clear-server.sh, here and only here.
scenario_2() {
  need installed
  SCEN=2
  local before h u t planted
  before=$(start_times)
  planted=$(rows)
  # The units that run now (after scenario 5, s1's ECM does not: it is left out of the order check).
  local running=" "
  for h in "${HOSTS[@]}"; do
    for u in $(units_of "$h"); do
      if [ "$(on "$h" systemctl is-active "$u")" = active ]; then running+="$u@$h "; fi
    done
  done
  play stop root stop.yml
  expect_ok "stop.yml"
  for h in "${HOSTS[@]}"; do
    for u in $(units_of "$h"); do
      [[ $running == *" $u@$h "* ]] || continue
      [ "$(on "$h" systemctl is-active "$u")" = inactive ] || fail "stop.yml left $u on $h $(on "$h" systemctl is-active "$u")"
      [ -L "$BED/hosts/$h/systemd/multi-user.target.wants/$u" ] || fail "stop.yml disabled $u on $h"
    done
  done
  # Linkis' stop order: gateway, ECM, entrance, publicservice, linkismanager, eureka — each one
  # stopped on every host before the next one stops anywhere.
  local order=(mg-gateway cg-engineconnmanager cg-entrance ps-publicservice cg-linkismanager mg-eureka)
  local prev_max=0 i max min
  for i in "${!order[@]}"; do
    u=linkis-${order[$i]}.service
    min=99999999999 max=0
    for h in "${HOSTS[@]}"; do
      [[ $running == *" $u@$h "* ]] || continue
      t=$(unit_state "$h" "$u" stopped)
      min=$(python3 -c "print(min($min, $t))")
      max=$(python3 -c "print(max($max, $t))")
    done
    python3 -c "import sys; sys.exit(0 if $min >= $prev_max else 1)" ||
      fail "stop.yml stopped ${order[$i]} before every ${order[$((i - 1))]} was stopped"
    prev_max=$max
  done
  [ "$(rows)" = "$planted" ] || fail "stop.yml touched the manager tables"
  backup_and_restore # (issue 22) the cluster stopped: backup.yml, then the documented restore
  backup_timer       # (issue 22) the timer installed and started, its service dumps and prunes
  local clears
  clears=$(clear_runs s3)
  play site-cold bedadmin site.yml
  expect_ok "cold start"
  expect_cluster_up "cold start"
  [ "$(clear_runs s3)" = $((clears + 1)) ] || fail "the cold start did not run clear-server.sh once on s3 ($(clear_runs s3) runs, $clears before)"
  [ "$(rows)" = 0 ] || fail "rows planted in the manager tables survived the cold start"
  no_db_password_on_disk "cold start"
  STATE=converged
  [ "$(start_times)" != "$before" ] || fail "no service was started again"
  for h in "${HOSTS[@]}"; do
    for u in $(units_of "$h"); do
      python3 -c "import sys; sys.exit(0 if $(unit_state "$h" "$u" started) > $(unit_state "$h" "$u" stopped) else 1)" ||
        fail "$u on $h was not started after the stop"
    done
  done
}

# 6. A non-root ssh user with sudo and no acl, the tree's ansible.cfg (pipelining): --check --diff
#    on a converged cluster changes nothing and fails nowhere; --limit names what it skips.
scenario_6() {
  need converged
  SCEN=6
  grep -q '^pipelining = True' "$BED/out/ansible.cfg" || fail "the tree ships no ansible.cfg with pipelining"
  local before
  before=$(start_times)
  play check bedadmin site.yml --check --diff
  expect_ok "--check --diff"
  expect_unchanged "--check --diff"
  expect_log "Eureka lists all 12 expected instances" "--check verify"
  play limit bedadmin site.yml --limit s1
  [ "$RC" = 0 ] || fail "--limit s1 exited $RC"
  [ "${!CHANGED[*]}" = s1 ] || fail "--limit s1 ran on ${!CHANGED[*]}"
  [ "${FAILED[s1]}" = 0 ] || fail "--limit s1 failed"
  expect_log "Skipped for s2, s3, s4 \(not in this run" "--limit preflight"
  expect_log "Manager rows not cleared \(clear-server\): this run does not reach s2, s3, s4" "--limit clear-server"
  if grep -E 'fatal: \[|\.\.\.ignoring|ERROR!' "$LOG"; then fail "--limit s1 errors somewhere"; fi
  [ "$(start_times)" = "$before" ] || fail "--check or --limit restarted services"
  observe_cluster # (issue 22) Prometheus and status.yml on this converged cluster
  vip_failover    # (issue 22) keepalived's VIP on the web hosts, through a stopped nginx
}

# 5. Faults: an sshd killed mid-run, then back; a service that cannot start (a broken port).
scenario_5() {
  need converged
  SCEN=5
  (
    for _ in $(seq 600); do
      if grep -q "^PLAY \[Install each host's Linkis configuration\]" "$BED/logs/run-$((RUNS + 1))-sshd-killed.log" 2>/dev/null; then
        for pid in $(ip netns pids lbed-s2); do
          if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then kill -KILL "$pid"; fi
        done
        exit 0
      fi
      sleep 0.2
    done
  ) &
  local killer=$!
  play sshd-killed root site.yml
  wait "$killer"
  [ "$RC" != 0 ] || fail "the run with s2's sshd killed succeeded"
  expect_log "fatal: \[s2\]: UNREACHABLE" "sshd-killed"
  [ "${UNREACH[s2]}" -ge 1 ] || fail "s2 not reported unreachable"
  for h in s1 s3 s4; do
    if [ "${UNREACH[$h]}" != 0 ] || [ "${FAILED[$h]}" != 0 ]; then fail "$h failed too"; fi
  done
  start_sshd s2
  play sshd-back root site.yml
  expect_ok "re-run after sshd is back"
  expect_cluster_up "re-run after sshd is back"

  # A service that cannot start: the ECM of s1 with a port it may not bind.
  local f=$BED/out/hosts/s1/conf/linkis-cg-engineconnmanager.properties
  cp "$f" "$BED/ecm.properties.orig"
  sed -i 's/^spring.server.port=.*/spring.server.port=1/' "$f"
  on s1 systemctl stop linkis-cg-engineconnmanager.service
  play broken-port root site.yml -e linkis_register_timeout=2 -e linkis_start_timeout=4
  [ "$RC" != 0 ] || fail "a service that cannot start did not fail the run"
  expect_log "Not registered in Eureka: .*LINKIS-CG-ENGINECONNMANAGER on s1 port 9102" "verify"
  grep -q "linkis_verify" < <(grep -B3 "Not registered in Eureka" "$LOG") || fail "the failure is not the verify role's"
  grep -q "FATAL: cannot listen on $(addr s1):1" "$(lhome s1)/logs/fake-cg-engineconnmanager.log" ||
    fail "the fake ECM did not say why it failed"
  # The rendered file is right again; the next run that needs a converged cluster applies it
  # (scenario 2's cold start, or a converge run), and asserts that everything runs.
  cp "$BED/ecm.properties.orig" "$f"
  STATE=repaired
}

# A deliberately broken render: a wrong Eureka peer in s1's application-linkis.yml fails a fresh
# install in the verify role, naming the host and the service.
scenario_broken() {
  SCEN=broken
  need fresh
  sed -i "s#defaultZone: .*#defaultZone: http://$NET.99:20303/eureka/#" "$BED/out/hosts/s1/conf/application-linkis.yml"
  play broken-peer root site.yml -e linkis_register_timeout=2
  [ "$RC" != 0 ] || fail "a wrong Eureka peer on s1 did not fail the install"
  expect_log "Not registered in Eureka: LINKIS-CG-ENGINECONNMANAGER on s1 port 9102 \(Eureka on s3\)" "verify"
  if grep -qE "on s[234] " < <(grep "Not registered in Eureka" "$LOG"); then fail "verify names services that did register"; fi
  grep -q "TASK \[linkis_verify : Fail when an instance is missing\]" < <(grep -B3 "Not registered in Eureka" "$LOG") ||
    fail "the failure is not the verify role's"
  STATE=broken
}

# Unit files gone, not enabled, not running: what a host keeps of the units it no longer runs.
expect_units_removed() { # LABEL HOST UNIT...
  local label=$1 h=$2 u
  shift 2
  for u in "$@"; do
    [ ! -e "$BED/hosts/$h/systemd/$u" ] || fail "$label: the unit file $u is left on $h"
    [ ! -L "$BED/hosts/$h/systemd/multi-user.target.wants/$u" ] || fail "$label: $u stays enabled on $h"
    [ "$(on "$h" systemctl is-active "$u")" != active ] || fail "$label: $u still runs on $h"
  done
}
# The scale-out with one new host unreachable (issue 21): HOST's sshd is stopped; changes.yml
# fails (rc 4) and says why applied.json is not recorded, applied.json is byte for byte as it
# was, and the cluster is unhurt (nothing restarted, every old instance up and registered). Then
# HOST's sshd is back, and the caller's re-run of the same changes.yml converges and records.
scale_out_unreachable() { # HOST
  local h=$1 pid before eureka_before
  cp "$BED/out/.linkis-gen/applied.json" "$BED/applied.before-unreachable"
  before=$(start_times)
  eureka_before=$(lcurl -sf -H 'Accept: application/json' "http://$(addr "${CONTROL[0]}"):20303/eureka/apps" |
    python3 -c 'import json,sys; print(sorted((a["name"], i["instanceId"]) for a in json.load(sys.stdin)["applications"]["application"] for i in a["instance"]))')
  for pid in $(ip netns pids "lbed-$h"); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then kill -KILL "$pid"; fi
  done
  play changes-scale-out-unreachable root changes.yml
  [ "$RC" = 4 ] || fail "the scale-out with $h unreachable: ansible-playbook exited $RC, want 4"
  [ "${UNREACH[$h]}" -ge 1 ] || fail "$h not reported unreachable"
  expect_log "NOT RECORDED: .linkis-gen/applied.json is left as it was" "the run with $h unreachable"
  cmp -s "$BED/out/.linkis-gen/applied.json" "$BED/applied.before-unreachable" ||
    fail "the run with $h unreachable changed applied.json"
  [ "$(start_times)" = "$before" ] || fail "the run with $h unreachable restarted or started something"
  local hh u
  for hh in "${HOSTS[@]}"; do
    for u in $(units_of "$hh"); do
      [ -n "$(unit_state "$hh" "$u" started)" ] || continue # a new host's unit, never started
      [ "$(on "$hh" systemctl is-active "$u")" = active ] || fail "the run with $h unreachable: $u on $hh is not active"
    done
  done
  [ "$(lcurl -sf -H 'Accept: application/json' "http://$(addr "${CONTROL[0]}"):20303/eureka/apps" |
    python3 -c 'import json,sys; print(sorted((a["name"], i["instanceId"]) for a in json.load(sys.stdin)["applications"]["application"] for i in a["instance"]))')" = "$eureka_before" ] ||
    fail "the run with $h unreachable: Eureka lists other instances than before"
  start_sshd "$h"
}

# 7. Changes to a running cluster (issue 10): s5 and s6 appended to the converged cluster and
#    changes.yml applied; then s5 removed again and changes.yml applied.
start_time_of() { unit_state "${1#*@}" "${1%@*}" started; }
scenario_scale() {
  need converged
  SCEN=scale
  cmp -s "$BED/out/.linkis-gen/applied.json" "$BED/out/.linkis-gen/state.json" ||
    fail "site.yml did not record .linkis-gen/applied.json"
  local before planted h uh t
  before=$(start_times)
  plant_rows survives-scale-out
  planted=$(rows)
  for h in s5 s6; do
    HOSTS+=("$h")
    host_up "$h"
  done
  render keep
  grep -q "changes against applied.json: 2 added, 0 removed (0 moved), 2 reconfigured (restart), 10 unchanged" \
    "$BED/logs/render.log" || fail "render does not plan the scale-out: $(cat "$BED/logs/render.log")"
  scale_out_unreachable s6
  play changes-scale-out root changes.yml
  expect_ok "changes.yml (scale-out)"
  [ "$(rows)" = "$planted" ] || fail "changes.yml touched the manager tables ($(rows) rows, $planted planted)"
  if grep -q "clear-server" "$LOG"; then fail "changes.yml ran clear-server"; fi
  for h in s5 s6; do
    [ "$(on "$h" systemctl is-active linkis-cg-engineconnmanager.service)" = active ] || fail "the ECM of $h does not run"
    [ -f "$(lhome "$h")/lib/linkis-commons/public-module/mysql-connector-j-8.0.33.jar" ] || fail "no JDBC driver on the new host $h"
  done
  # The control units were never restarted; the ECMs of s1, s2 were (their sizing keys changed).
  while read -r uh t; do
    case "$uh" in
    *@s3 | *@s4) [ "$(start_time_of "$uh")" = "$t" ] || fail "changes.yml restarted $uh" ;;
    linkis-cg-engineconnmanager.service@*) [ "$(start_time_of "$uh")" != "$t" ] || fail "changes.yml did not restart $uh" ;;
    esac
  done <<<"$before"
  expect_cluster_up "scale-out"
  cmp -s "$BED/out/.linkis-gen/applied.json" "$BED/out/.linkis-gen/state.json" ||
    fail "changes.yml did not record applied.json"

  # Scale in: s5 leaves the spec; its ECM is drained, stopped, disabled, its unit file deleted.
  HOSTS=(s1 s2 s3 s4 s6)
  GONE=(s5)
  render keep
  grep -q "changes against applied.json: 0 added, 1 removed" "$BED/logs/render.log" ||
    fail "render does not plan the removal: $(cat "$BED/logs/render.log")"
  play changes-scale-in root changes.yml
  expect_ok "changes.yml (scale-in)"
  expect_units_removed "scale-in" s5 linkis-cg-engineconnmanager.service
  # Before it stopped, s5's ECM was marked UnHealthy in a manager that stays (modifyEMInfo), so
  # that no new engine went there while it drained.
  local marked stopped
  marked=$(cat "$(lhome s3)/logs/fake-manager-em.log" "$(lhome s4)/logs/fake-manager-em.log" 2>/dev/null |
    awk '$2 == "s5:9102" && $3 == "UnHealthy" {print $1}' | head -1 || true)
  [ -n "$marked" ] || fail "scale-in: s5's ECM was not marked UnHealthy in the manager"
  stopped=$(unit_state s5 linkis-cg-engineconnmanager.service stopped)
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$marked" "$stopped" ||
    fail "scale-in: s5's ECM was marked UnHealthy at $marked, after it stopped at $stopped"
  [ "$(rows)" = "$planted" ] || fail "the scale-in touched the manager tables"
  expect_cluster_up "scale-in"
  GONE=()
  STATE=converged
}

# request_loop start ADDRESS... | stop [FROM TO]: GET /api/rest_j/v1/ through the https front of each web
# host in turn (the web front is open to all, the control node included; from the namespace
# $LOOP_NS when set), every 0.2 s, in the background; `stop` fails the scenario on any answer that
# is not the fake gateway's (a refused connection, a 502) but those sent between the epoch
# seconds FROM and TO, and prints how many went through and how many failed in that window.
request_loop() {
  local f=$BED/logs/request-loop
  if [ "$1" = start ]; then
    shift
    rm -f "$f.stop" "$f.out"
    ${LOOP_NS:+ip netns exec "$LOOP_NS"} python3 - "$f" "$BED/tls/ca.crt" "$TLS_PORT" "$@" <<'PY' &
import json, os, ssl, sys, time, urllib.error, urllib.request
path, ca, port, hosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
tls = ssl.create_default_context(cafile=ca)
ok, bad, i = 0, [], 0
while not os.path.exists(path + ".stop"):
    url = "https://%s:%s/api/rest_j/v1/bed-request-loop" % (hosts[i % len(hosts)], port)
    i += 1
    t = time.time()  # when it was sent
    try:
        urllib.request.urlopen(url, timeout=5, context=tls)
        bad.append("%.1f %s: 200 without the fake gateway's 404" % (t, url))
    except urllib.error.HTTPError as e:
        body = e.read()
        if e.code == 404 and b'"not found"' in body:
            ok += 1
        else:
            bad.append("%.1f %s: HTTP %d %r" % (t, url, e.code, body[:80]))
    except OSError as e:
        bad.append("%.1f %s: %s" % (t, url, e))
    time.sleep(0.2)
json.dump({"ok": ok, "bad": bad}, open(path + ".out", "w"))
PY
    echo "$! request-loop" >>"$BED/pids"
    return
  fi
  touch "$f.stop"
  for _ in $(seq 100); do [ -s "$f.out" ] && break; sleep 0.1; done
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
lo, hi = (float(sys.argv[2]), float(sys.argv[3])) if len(sys.argv) > 3 else (0, -1)
inside = [b for b in r["bad"] if lo <= float(b.split()[0]) <= hi]
bad = [b for b in r["bad"] if b not in inside]
print("request loop: %d requests through nginx, %d failed%s" % (r["ok"] + len(r["bad"]), len(bad),
      " (and %d in the allowed %.1f s)" % (len(inside), hi - lo) if hi >= lo else ""))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad or r["ok"] < 20 else 0)' "$f.out" "${@:2}" >"$f.summary" || fail "$(cat "$f.summary")"
  log "$(head -1 "$f.summary")"
}

# The instances of a service that restarted since SINCE (epoch seconds) did so one at a time: no
# two of them down at once, and at least MIN of them restarted.
expect_one_at_a_time() { # LABEL SERVICE-UNIT SINCE MIN
  local label=$1 u=$2 h spans=""
  for h in "${HOSTS[@]}"; do
    [ -f "$BED/out/hosts/$h/systemd/$u" ] || continue
    spans+="$(unit_state "$h" "$u" stopped):$(unit_state "$h" "$u" started) "
  done
  python3 - "$spans" "$3" "$4" <<'PY' || fail "$label: $u: not at least $4 restarts one at a time since $3 (stopped:started $spans)"
import sys
since, least = float(sys.argv[2]), int(sys.argv[3])
spans = sorted((float(a), float(b)) for a, b in (s.split(":") for s in sys.argv[1].split())
               if a and b and since <= float(a) <= float(b))
sys.exit(0 if len(spans) >= least and all(x[1] <= y[0] for x, y in zip(spans, spans[1:])) else 1)
PY
}

# 4a. A control host replaced: s4 leaves the spec and s7, a new host declared `roles: [control]`
#     (docs/operations.md, "Replacing a failed host"), is appended. changes.yml installs s7 and starts its instances (registered before anything stops),
#     restarts the others one at a time (their Eureka peers changed), then stops and removes s4's
#     units. A fresh control host in a running cluster never runs clear-server.
scenario_replace() {
  need converged
  SCEN=replace
  local planted h u before_stop after_start
  plant_rows survives-replace
  planted=$(rows)
  local kept=()
  for h in "${HOSTS[@]}"; do [ "$h" = s4 ] || kept+=("$h"); done
  HOSTS=("${kept[@]}" s7)
  host_up s7
  ROLES[s7]=control
  GONE=(s4)
  CONTROL=(s3 s7)
  render keep
  grep -qE "changes against applied.json: 5 added, 5 removed \(5 moved\), [0-9]+ reconfigured" "$BED/logs/render.log" ||
    fail "render does not plan the replacement: $(cat "$BED/logs/render.log")"
  local s4_units
  s4_units=$(find "$BED/hosts/s4/systemd" -maxdepth 1 -name 'linkis-*.service' -printf '%f\n' | sort)
  local since
  since=$(date +%s)
  play changes-replace root changes.yml
  expect_ok "changes.yml (replace s4 by s7)"
  [ "$(rows)" = "$planted" ] || fail "replacing a control host touched the manager tables ($(rows) rows, $planted planted)"
  [ "$(clear_runs s7)" = 0 ] || fail "clear-server ran on the new control host s7"
  if grep -q "clear-server" "$LOG"; then fail "changes.yml ran clear-server"; fi
  # s4's entrance was drained first: marked offline after an admin login at a gateway that stays.
  grep -q "marked offline" "$(lhome s4)/logs/fake-cg-entrance.log" || fail "s4's entrance was not marked offline"
  # By the role that drains a restarted entrance (linkis_entrance, included by linkis_change),
  # before the unit stopped.
  expect_log '^TASK \[linkis_entrance : Mark the entrance offline' "changes.yml (replace s4 by s7)"
  python3 - "$(entrance_events s4 | awk -v s="$since" '$1 >= s && $2 == "markoffline" {print $1; exit}')" \
    "$(unit_state s4 linkis-cg-entrance.service stopped)" <<'PY' || fail "replace: s4's entrance was not marked offline before it stopped"
import sys
sys.exit(0 if sys.argv[1] and sys.argv[2] and float(sys.argv[1]) < float(sys.argv[2]) else 1)
PY
  grep -q "login of 'hadoop'" "$(lhome s3)/logs/fake-mg-gateway.log" || fail "no admin login at s3's gateway"
  # shellcheck disable=SC2086
  expect_units_removed "replace" s4 $s4_units
  # s7's instances were up before the first of s4's stopped.
  after_start=0
  for u in $(units_of s7); do
    after_start=$(python3 -c "print(max($after_start, $(unit_state s7 "$u" started)))")
  done
  before_stop=99999999999
  for u in $s4_units; do
    before_stop=$(python3 -c "print(min($before_stop, $(unit_state s4 "$u" stopped)))")
  done
  python3 -c "import sys; sys.exit(0 if $after_start <= $before_stop else 1)" ||
    fail "an instance of s4 stopped before s7's were all up"
  for u in linkis-mg-eureka.service linkis-mg-gateway.service linkis-cg-linkismanager.service; do
    expect_one_at_a_time "replace" "$u" "$since" 1 # s3's (s7's are new)
  done
  expect_one_at_a_time "replace" linkis-cg-engineconnmanager.service "$since" 2
  expect_cluster_up "replace s4 by s7"
  GONE=()
  STATE=converged
}

# ---------------------------------------------------------------- entrance drain (issue 21)
# entrance_job HOST SECONDS: an admin logs in at a gateway and submits a fake job `sleep SECONDS`
# to HOST's entrance (from s1: the firewall keeps Linkis' ports from the control node); prints
# the answer's status (0: the job was taken, 1: refused, e.g. offline).
entrance_job() {
  local h=$1 port gws="" g body=$BED/login.json
  port=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["all"]["children"]["linkis"]["hosts"][sys.argv[2]]["linkis_ports"]["entrance"])' \
    "$BED/out/inventory/hosts.yml" "$h")
  printf '{"userName": "hadoop", "password": %s}' "$(json_str "$ADMIN_PASSWORD")" >"$body"
  chmod 0600 "$body"
  for g in "${CONTROL[@]}"; do gws+="http://$(addr "$g"):${GW_PORT:-9001} "; done
  on s1 python3 -c '
import json, sys, urllib.request
body, entrance, seconds, gateways = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
for gw in gateways:
    try:
        req = urllib.request.Request(gw + "/api/rest_j/v1/user/login", data=open(body, "rb").read(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            cookie = r.headers["Set-Cookie"].split(";")[0]
        break
    except OSError:
        continue
else:
    sys.exit("no gateway took the login")
job = json.dumps({"executionContent": {"code": "sleep " + seconds, "runType": "shell"},
                  "labels": {"engineType": "shell-1", "userCreator": "hadoop-IDE"}}).encode()
req = urllib.request.Request(entrance + "/api/rest_j/v1/entrance/submit", data=job, method="POST",
                             headers={"Content-Type": "application/json", "Cookie": cookie})
with urllib.request.urlopen(req, timeout=5) as r:
    print(json.load(r)["status"])
' "$body" "http://$(addr "$h"):$port" "$2" "$gws"
}

# The events of HOST's fake entrance (tests/bed/fake: markoffline, job-start/-end/-killed, stop,
# backonline), one "TIME EVENT ..." a line.
entrance_events() { cat "$(lhome "$1")/logs/fake-entrance-events.log" 2>/dev/null || true; }

# While the next run (changes.yml) goes: as soon as its entrance play starts, a job of SECONDS is
# submitted to the first entrance it restarts (HOST), so that the drain finds it running.
entrance_job_at_play() { # HOST SECONDS LABEL [PLAY-NAME-START]
  local next=$BED/logs/run-$((RUNS + 1))-$3.log play=${4:-Restart entrance one instance}
  (
    for _ in $(seq 3000); do
      if grep -qF "PLAY [$play" "$next" 2>/dev/null; then
        entrance_job "$1" "$2" >"$BED/logs/entrance-job.status" 2>&1
        exit 0
      fi
      sleep 0.1
    done
  ) &
  echo "$! entrance-job" >>"$BED/pids"
}

# The entrance of HOST was drained around its restart since SINCE: marked offline, its job (taken
# before) ended, then the unit stopped and started, in that order, and no job was killed; it takes
# jobs again afterwards (back online: by the restart itself before Linkis 1.5.0).
expect_entrance_drained() { # LABEL HOST SINCE
  local label=$1 h=$2 ev stopped started
  ev=$(entrance_events "$h" | awk -v s="$3" '$1 >= s')
  stopped=$(unit_state "$h" linkis-cg-entrance.service stopped)
  started=$(unit_state "$h" linkis-cg-entrance.service started)
  python3 - "$ev" "$stopped" "$started" <<'PY' || fail "$label: the entrance on $h was not drained in order (markoffline < job end < stop < start): $ev / stopped $stopped started $started"
import sys
ev = [l.split() for l in sys.argv[1].splitlines() if l.strip()]
first = lambda name: next(float(e[0]) for e in ev if e[1] == name)
# An entrance that Linkis' script ran (adopt.yml) has no unit stop: its own stop event instead.
stopped, started = float(sys.argv[2] or first("stop")), float(sys.argv[3])
assert not any(e[1] == "job-killed" for e in ev), "a job was killed"
start, off, end = first("job-start"), first("markoffline"), first("job-end")
assert start < off < end < stopped <= started, (start, off, end, stopped, started)
assert next(e for e in ev if e[1] == "markoffline")[2] == "running=1", "the job was not running when it was marked offline"
assert next(e for e in ev if e[1] == "stop")[2] == "running=0", "jobs ran when it stopped"
PY
  [ "$(entrance_job "$h" 1)" = 0 ] || fail "$label: the entrance on $h takes no job after its restart (still offline)"
}

# 4b. A gateway port change (host_defaults.ports.gateway 9001 -> 9011): the gateways move, every
#     service that reads the gateway URL restarts one instance at a time, nginx follows.
scenario_port() {
  need converged
  SCEN=port
  local before h since rh dumps creator
  yarn_address_change
  before=$(start_times)
  since=$(date +%s)
  GW_PORT=9011
  # With it, Spark's version (issue 21): its engine label rows change in the database, and
  # linkis.properties' wds.linkis.spark.engine.version, which every service reads.
  SPARK_VERSION=3.2.1
  render keep
  grep -qE "changes against applied.json: 0 added, 0 removed \(0 moved\), [1-9][0-9]* reconfigured" "$BED/logs/render.log" ||
    fail "render does not plan the port change: $(cat "$BED/logs/render.log")"
  for creator in '*-*' '*-IDE' '*-Visualis' '*-nodeexecution'; do
    grep -qF -- "\`$creator,spark-2.4.3\` → \`$creator,spark-3.2.1\` (spec: \`sizing.engines.spark.version\`)" "$BED/out/CHANGES.md" ||
      fail "CHANGES.md does not name the $creator Spark label row, old -> new"
  done
  rh=$(rows_host)
  dumps=$(rows_dumps "$rh" | wc -l)
  db_dump >"$BED/db-before-spark.sql"
  # Users keep working through nginx while the gateways move: a request every 0.2 s through
  # each web host's nginx, none may fail (each gateway leaves the upstream before it stops and
  # comes back at its new port).
  request_loop start "$(addr "${CONTROL[0]}")" "$(addr "${CONTROL[1]}")"
  # A job of 8 s on the first entrance restarted, submitted as its play starts: the drain marks
  # it offline, waits for the job, then restarts it (issue 21).
  entrance_job_at_play "${CONTROL[0]}" 8 changes-gateway-port
  play changes-gateway-port root changes.yml --diff
  request_loop stop
  expect_ok "changes.yml (gateway port)"
  [ "$(cat "$BED/logs/entrance-job.status" 2>/dev/null)" = 0 ] ||
    fail "the job was not taken by ${CONTROL[0]}'s entrance: $(cat "$BED/logs/entrance-job.status" 2>/dev/null)"
  expect_entrance_drained "port" "${CONTROL[0]}" "$since"
  grep -q "markoffline" <<<"$(entrance_events "${CONTROL[1]}")" || fail "port: ${CONTROL[1]}'s entrance was not marked offline before its restart"
  no_secret_in_log "changes.yml --diff (gateway port)"
  for h in "${CONTROL[@]}"; do
    lcurl -sf "http://$(addr "$h"):9011/actuator/health" >/dev/null || fail "no gateway on $h:9011"
    if lcurl -s -o /dev/null "http://$(addr "$h"):9001/actuator/health"; then fail "a gateway still answers on $h:9001"; fi
    # The firewall followed the port: 9011 refused from the outsider.
    if ocurl -s -m 3 -o /dev/null "http://$(addr "$h"):9011/actuator/health"; then fail "the outsider reaches the gateway on $h:9011"; fi
  done
  for h in "${HOSTS[@]}"; do
    grep -q "^wds.linkis.gateway.url=http://.*:9011$" "$(lhome "$h")/conf/linkis.properties" ||
      fail "linkis.properties on $h does not point at the gateway on 9011"
  done
  [ "$(start_times)" != "$before" ] || fail "no service restarted"
  expect_one_at_a_time "port" linkis-mg-gateway.service "$since" 2
  expect_cluster_up "gateway port change"
  local ports
  ports=$(lcurl -sf -H 'Accept: application/json' "http://$(addr "${CONTROL[0]}"):20303/eureka/apps" |
    python3 -c 'import json,sys; print(sorted({i["port"]["$"] for a in json.load(sys.stdin)["applications"]["application"] if a["name"] == "LINKIS-MG-GATEWAY" for i in a["instance"]}))')
  [ "$ports" = "[9011]" ] || fail "Eureka lists the gateways on $ports, want [9011]"
  # The Spark version: its four label rows and nothing else changed in the database, after a dump;
  # every unit restarted (every service reads linkis.properties).
  [ "$(db "SELECT COUNT(*) FROM linkis_cg_manager_label WHERE label_value LIKE '%,spark-3.2.1'")" = 4 ] ||
    fail "the Spark label rows were not updated: $(db "SELECT label_value FROM linkis_cg_manager_label")"
  expect_db_only "Spark version" "$BED/db-before-spark.sql" linkis_cg_manager_label ",spark-2.4.3'" ",spark-3.2.1'"
  [ "$(rows_dumps "$rh" | wc -l)" = $((dumps + 1)) ] || fail "changes.yml took no dump before updating the label rows"
  grep -qF "*-IDE,spark-2.4.3" "$(rows_dumps "$rh" | tail -1)" || fail "the dump on $rh does not hold the old label rows"
  for h in "${HOSTS[@]}"; do
    grep -q "^wds.linkis.spark.engine.version=3.2.1$" "$(lhome "$h")/conf/linkis.properties" ||
      fail "linkis.properties on $h does not name Spark 3.2.1"
  done
  expect_restarted "port and Spark version" "$before" '*'
  expect_recorded_and_converged "port and Spark version"
  STATE=converged
}

# 4c. An upgrade, 1.3.2 -> 1.4.0: CHANGES.md is an upgrade plan; changes.yml stops the cluster,
#     dumps the database, unpacks 1.4.0 beside 1.3.2 (install_dir switches), runs the 1.4.0
#     migration scripts once (not 1.3.2's), starts everything from the new release, verifies.
scenario_upgrade() {
  need converged
  SCEN=upgrade
  local before h u
  before=$(start_times)
  VERSION=1.4.0
  render keep
  grep -q "1.3.2 -> 1.4.0\|1.3.2 → 1.4.0" "$BED/out/CHANGES.md" || fail "CHANGES.md is not an upgrade plan"
  grep -q '^   - 1.4.0: .*linkis_ddl.sql' "$BED/out/CHANGES.md" || fail "CHANGES.md does not list the 1.4.0 scripts"
  if grep -q '^   - 1.3.2: ' "$BED/out/CHANGES.md"; then fail "CHANGES.md would run the 1.3.2 scripts again"; fi
  play upgrade root changes.yml -vvv
  expect_ok "changes.yml (upgrade to 1.4.0)"
  no_secret_in_log "changes.yml -vvv (upgrade to 1.4.0)"
  for h in "${HOSTS[@]}"; do
    [ "$(readlink "$BED/hosts/$h/app/LinkisInstall")" = "$BED/app/LinkisInstall-1.4.0" ] ||
      fail "install_dir on $h is $(readlink "$BED/hosts/$h/app/LinkisInstall"), not the 1.4.0 release"
    [ "$(cat "$BED/hosts/$h/app/LinkisInstall-1.4.0/RELEASE")" = 1.4.0 ] || fail "the 1.4.0 release is not unpacked on $h"
    [ -f "$BED/hosts/$h/app/LinkisInstall-1.3.2/RELEASE" ] || fail "the 1.3.2 release is gone from $h (no rollback)"
    [ -f "$BED/hosts/$h/app/LinkisInstall-1.4.0/lib/linkis-commons/public-module/mysql-connector-j-8.0.33.jar" ] ||
      fail "no JDBC driver in the 1.4.0 release on $h"
    for u in $(units_of "$h"); do
      u=${u#linkis-}
      grep -q "release 1.4.0 starting" "$BED/hosts/$h/app/LinkisInstall-1.4.0/logs/fake-${u%.service}.log" ||
        fail "$u on $h did not start from the 1.4.0 release"
    done
  done
  [ "$(db "SELECT note FROM linkis_bed_upgraded")" = "the 1.4.0 dml" ] || fail "the 1.4.0 scripts did not run"
  [ "$(db "SELECT COUNT(*) FROM linkis_gen_schema_history")" = 2 ] || fail "the migration history is not 1.4.0's two scripts"
  ls "$BED"/backup/*.sql* >/dev/null 2>&1 || fail "no database dump in $BED/backup"
  while read -r uh t; do
    [ "$(start_time_of "$uh")" != "$t" ] || fail "the upgrade did not restart $uh"
  done <<<"$before"
  expect_cluster_up "upgrade to 1.4.0"
  STATE=converged
  rotate_token
}

# A token rotated on the running cluster (docs/operations.md "Rotating a token"): the vault gets
# a new value of vault_linkis_token_bml and keeps the old one as _previous; rotate-tokens.yml
# updates the token's row (after a dump), the conf files, and restarts the services whose files
# changed, one instance at a time, entrances drained. Last in the cluster's life: a later render
# rewrites $BED/vault.yml with the bed's default values.
rotate_token() {
  local old new=bed-rotated-bml-2 since
  old=$(grep '^vault_linkis_token_bml: ' "$BED/vault.yml" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(": ", 1)[1]))')
  [ "$(db_secret "SELECT COUNT(*) FROM linkis_mg_gateway_auth_token WHERE token_name = '$old'")" = 1 ] ||
    fail "rotate: no token row holds the BML token before the rotation"
  # The new value on python's stdin (a here-string), never its command line.
  python3 -c '
import json, sys
path, new = sys.argv[1], sys.stdin.read().rstrip("\n")
lines = open(path).read().splitlines()
out = []
for l in lines:
    name, _, value = l.partition(": ")
    if name == "vault_linkis_token_bml":
        out.append("vault_linkis_token_bml_previous: " + value)
        l = name + ": " + json.dumps(new)
    out.append(l)
open(path, "w").write("\n".join(out) + "\n")
' "$BED/vault.yml" <<<"$new"
  echo "$new" >>"$BED/secrets"
  since=$(date +%s)
  play rotate-tokens root rotate-tokens.yml
  expect_ok "rotate-tokens.yml"
  no_secret_in_log "rotate-tokens.yml"
  [ "$(db_secret "SELECT COUNT(*) FROM linkis_mg_gateway_auth_token WHERE token_name = '$new'")" = 1 ] ||
    fail "rotate: the token row does not hold the new value"
  [ "$(db_secret "SELECT COUNT(*) FROM linkis_mg_gateway_auth_token WHERE token_name = '$old'")" = 0 ] ||
    fail "rotate: a token row still holds the previous value"
  ls "$(lhome "${CONTROL[0]}")"/db/changes-backup/tokens-*.sql >/dev/null 2>&1 ||
    ls "$BED"/hosts/*/app/LinkisInstall*/db/changes-backup/tokens-*.sql >/dev/null 2>&1 ||
    fail "rotate: no dump of the token table before its update"
  local h
  for h in "${HOSTS[@]}"; do
    grep -q "^wds.linkis.bml.auth.token.value=$new$" "$(lhome "$h")/conf/linkis.properties" ||
      fail "rotate: linkis.properties on $h does not hold the new token"
  done
  expect_one_at_a_time "rotate" linkis-ps-publicservice.service "$since" 2
  expect_one_at_a_time "rotate" linkis-cg-entrance.service "$since" 2
  expect_one_at_a_time "rotate" linkis-mg-gateway.service "$since" 2
  expect_cluster_up "token rotation"
}

# ---------------------------------------------------------------- adopt (issue 21)
# A cluster installed by hand, as the deployment guide's multi-host procedure does it, on fresh
# hosts: the release unpacked into install_dir, the conf an installer would write (the rendered
# files with the secrets filled in, standing in for install.sh's seds), then each host's hand
# edits (s4's Eureka peers in its own order, a key of s1's own), the stock linkis-start-all.sh
# trimmed per host to its services and run as the deploy user, control hosts first; the database
# loaded by hand from the release's db/ (placeholders replaced with sed, as install.sh does).
hand_install() {
  local h home tgz=$BED/release/apache-linkis-$VERSION-bed-bin.tar.gz svc keep
  for h in "${HOSTS[@]}"; do
    home=$BED/hosts/$h/app/LinkisInstall
    mkdir -p "$home"
    tar -xzf "$tgz" -C "$home" --strip-components=1 linkis-package
    # The guide: the MySQL JDBC driver copied into the release (Apache releases ship none).
    mkdir -p "$home/lib/linkis-commons/public-module"
    cp "$BED/release/mysql-connector-j-8.0.33.jar" "$home/lib/linkis-commons/public-module/"
    # The conf an installer writes: the rendered files, every vault reference filled in as the
    # configure role fills it (OUT/filter_plugins/linkis_fill.py); the values from vault.yml.
    python3 - "$BED/out/filter_plugins" "$BED/vault.yml" "$BED/out/hosts/$h/conf" "$home/conf" <<'PY'
import json, os, sys
sys.path.insert(0, sys.argv[1])
from linkis_fill import linkis_fill, linkis_fill_format
values = {}
for line in open(sys.argv[2]):
    name, _, value = line.partition(": ")
    values[name] = json.loads(value)
src, dst = sys.argv[3], sys.argv[4]
for root, _, files in os.walk(src):
    for f in files:
        path = os.path.join(root, f)
        out = os.path.join(dst, os.path.relpath(path, src))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        text = open(path, encoding="utf-8", newline="").read()
        if "{{ " in text:
            text = linkis_fill(text, values, linkis_fill_format(path))
        with open(out, "w", encoding="utf-8", newline="") as o:
            o.write(text)
PY
    # Trimmed per host: the stock script's start lines of the services this host does not run.
    keep=$(find "$BED/out/hosts/$h/systemd" -name 'linkis-*.service' -printf '%f\n' | sed 's/^linkis-//; s/\.service$//' | tr '\n' ' ')
    for svc in mg-eureka mg-gateway ps-publicservice cg-linkismanager cg-entrance cg-engineconnmanager; do
      case " $keep " in *" $svc "*) ;; *) sed -i "/^start $svc\$/d" "$home/sbin/linkis-start-all.sh" ;; esac
    done
    chown -R 2001:2001 "$home"
  done
  # The guide's hand edits: s4 lists the Eureka peers itself first; s1 carries a key of its own.
  sed -i "s#^\(\s*defaultZone:\s*\)\(http://$NET.13:20303/eureka/\),\(http://$NET.14:20303/eureka/\)\$#\1\3,\2#" \
    "$BED/hosts/s4/app/LinkisInstall/conf/application-eureka.yml"
  grep -q "defaultZone: http://$NET.14:20303/eureka/,http://$NET.13" "$BED/hosts/s4/app/LinkisInstall/conf/application-eureka.yml" ||
    fail "the hand edit of s4's Eureka peers did not apply"
  echo "wds.linkis.bed.hand.edit=kept-in-the-backup" >>"$BED/hosts/s1/app/LinkisInstall/conf/linkis.properties"
  # The database, by hand: the release's DDL, then its DML with the installer's placeholders set.
  local rel=$BED/release/tree-$VERSION/linkis-package/db
  db_root linkis <"$rel/linkis_ddl.sql"
  sed -e "s#@YARN_RESTFUL_URL#http://$NET.1:8088#g" -e 's#@HADOOP_VERSION#3.3.4#g' -e 's#@YARN_AUTH_ENABLE#false#g' \
    -e 's#@YARN_KERBEROS_ENABLE#false#g' -e 's#@YARN_[A-Z_]*##g' "$rel/linkis_dml.sql" | db_root linkis
  # linkis-start-all.sh (trimmed) as the deploy user, the control hosts first.
  for h in "${CONTROL[@]}" s1 s2; do
    on "$h" runuser -u hadoop -- bash "$BED/app/LinkisInstall/sbin/linkis-start-all.sh" >>"$BED/logs/hand-start-$h.log" 2>&1 ||
      fail "linkis-start-all.sh failed on $h: $(cat "$BED/logs/hand-start-$h.log")"
  done
}

# Eureka on ${CONTROL[0]} lists every expected instance (up to 40 s).
eureka_lists_all() {
  local want n deadline=$(($(date +%s) + 40))
  want=$(grep -c '{ app: ' "$BED/out/inventory/group_vars/all/main.yml")
  while :; do
    n=$(lcurl -sf -H 'Accept: application/json' "http://$(addr "${CONTROL[0]}"):20303/eureka/apps" |
      python3 -c 'import json,sys; print(sum(len(a["instance"]) for a in json.load(sys.stdin)["applications"]["application"]))' 2>/dev/null || echo 0)
    [ "$n" != "$want" ] || return 0
    [ "$(date +%s)" -lt "$deadline" ] || fail "$1: Eureka on ${CONTROL[0]} lists $n instances, want $want"
    sleep 1
  done
}

# adopt_sampler start | stop: every 0.3 s, from allow_from, every Eureka node's instances (their
# union) and a TCP connect to every expected instance's port. `stop` fails the scenario on a tick
# where a service had no instance registered, or two instances of one service were down at once.
adopt_sampler() {
  local f=$BED/logs/adopt-sampler
  if [ "$1" = start ]; then
    rm -f "$f.stop" "$f.out"
    ip netns exec lbed-out python3 - "$f" "$ALLOWED" "$BED/out/inventory/group_vars/all/main.yml" \
      "$(addr "${CONTROL[0]}")" "$(addr "${CONTROL[1]}")" "$(for h in "${HOSTS[@]}"; do printf '%s=%s ' "$h" "$(addr "$h")"; done)" <<'PY' &
import http.client, json, os, re, socket, sys, time
path, src, main, eurekas, addrs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:6], sys.argv[6]
addr = dict(a.split("=") for a in addrs.split())
want = re.findall(r"\{ app: (\S+), host: (\S+), port: (\d+),", open(main).read())
apps = sorted({a for a, _, _ in want})
ticks, bad, downs = 0, [], {}
def port_up(host, port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.bind((src, 0))
        s.connect((addr[host], int(port)))
        return True
    except OSError:
        return False
    finally:
        s.close()
while not os.path.exists(path + ".stop"):
    t = time.time()
    registered, answered, seen = set(), 0, {}
    for e in eurekas:
        # From allow_from (src), as the port probes: the firewall, once installed, refuses others.
        c = http.client.HTTPConnection(e, 20303, timeout=1, source_address=(src, 0))
        try:
            c.request("GET", "/eureka/apps", headers={"Accept": "application/json"})
            r = c.getresponse()
            if r.status != 200:
                raise ValueError(r.status)
            seen[e] = {}
            for a in json.load(r)["applications"]["application"]:
                seen[e][a["name"]] = sorted(i["instanceId"] for i in a["instance"])
                if any(i.get("status") == "UP" for i in a["instance"]):
                    registered.add(a["name"])
            answered += 1
        except (OSError, ValueError, KeyError) as x:
            seen[e] = "no answer (%s)" % (type(x).__name__,)
        finally:
            c.close()
    down = [(a, h) for a, h, p in want if not port_up(h, p)]
    ticks += 1
    if not answered:
        bad.append("%.1f: no Eureka node answers" % t)
    for a in apps:
        if a not in registered and answered:
            # What each node said, for the failure to explain itself.
            said = "; ".join("%s: %s" % (e, v if isinstance(v, str) else v.get(a, "none"))
                             for e, v in sorted(seen.items()))
            bad.append("%.1f: no instance of %s registered (%s)" % (t, a, said))
        d = [h for x, h in down if x == a]
        if len(d) > 1:
            bad.append("%.1f: %s down on %s at once" % (t, a, ", ".join(d)))
    for x in down:
        downs[x] = downs.get(x, 0) + 1
    time.sleep(max(0.0, 0.3 - (time.time() - t)))
json.dump({"ticks": ticks, "bad": bad, "downs": ["%s@%s" % k for k in sorted(downs)]}, open(path + ".out", "w"))
PY
    echo "$! adopt-sampler" >>"$BED/pids"
    return
  fi
  touch "$f.stop"
  for _ in $(seq 100); do [ -s "$f.out" ] && break; sleep 0.1; done
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("adopt sampler: %d ticks (0.3 s), %d instances seen down at some tick (one at a time), %d failures"
      % (r["ticks"], len(r["downs"]), len(r["bad"])))
for b in r["bad"][:10]:
    print("  " + b)
sys.exit(1 if r["bad"] or r["ticks"] < 50 else 0)' "$f.out" >"$f.summary" || fail "$(cat "$f.summary")"
  log "$(head -1 "$f.summary")"
}

# adopt: a cluster installed by hand (hand_install) taken over with adopt.yml. A first run while
# s2's ECM is stopped names that difference and stops before changing anything; then, the ECM
# started again by Linkis' script, adopt.yml hands every instance from the script to its unit,
# one at a time per service, while a sampler asks both Eureka nodes and every port every 0.3 s.
scenario_adopt() {
  SCEN=adopt
  need fresh
  local h dump_before n
  hand_install
  eureka_lists_all "hand install"
  [ -z "$(find "$BED"/hosts/*/systemd -maxdepth 1 -name 'linkis-*.service')" ] || fail "a unit exists before the adoption"
  dump_before=$(mariadb-dump --no-defaults -S "$BED/mysql/sock" -u root --skip-dump-date --skip-comments linkis | sha1sum)

  # s2's ECM stopped (by Linkis' script), and s3's install holding another release than the
  # spec's (its linkis-rpc jar renamed): the plan names both and the run stops, nothing changed.
  local jar=lib/linkis-commons/public-module/linkis-rpc
  on s2 runuser -u hadoop -- bash "$BED/app/LinkisInstall/sbin/linkis-daemon.sh" stop cg-engineconnmanager
  mv "$(lhome s3)/$jar-$VERSION.jar" "$(lhome s3)/$jar-1.4.0.jar"
  play adopt-differs root adopt.yml
  mv "$(lhome s3)/$jar-1.4.0.jar" "$(lhome s3)/$jar-$VERSION.jar"
  [ "$RC" != 0 ] || fail "adopt.yml went on though s2's ECM does not run"
  expect_log "s2: the spec places cg-engineconnmanager here, and it does not run" "adopt.yml (a difference)"
  expect_log "s3: the install holds release 1.4.0, and the spec says $VERSION" "adopt.yml (a release difference)"
  expect_log "2 difference\(s\) with what runs, so this run stops here" "adopt.yml (a difference)"
  expect_log "s1: replaced conf/linkis.properties, sbin/linkis-start-all.sh; added sbin/linkis-stop-all.sh" "adopt.yml (the conf plan)"
  expect_log "s4: replaced conf/application-eureka.yml, sbin/linkis-start-all.sh; added sbin/linkis-stop-all.sh" "adopt.yml (the conf plan)"
  expect_log "s2: replaced sbin/linkis-start-all.sh; added sbin/linkis-stop-all.sh" "adopt.yml (the conf plan)"
  if grep -q "TASK \[linkis_install\|TASK \[linkis_units" "$LOG"; then fail "adopt.yml installed something after naming a difference"; fi
  [ ! -L "$BED/hosts/s1/app/LinkisInstall" ] || fail "adopt.yml moved the install after naming a difference"
  [ -z "$(find "$BED"/hosts/*/systemd -maxdepth 1 -name 'linkis-*.service')" ] || fail "adopt.yml installed a unit after naming a difference"
  [ ! -e "$BED/out/.linkis-gen/applied.json" ] || fail "adopt.yml recorded applied.json after naming a difference"
  on s2 runuser -u hadoop -- bash "$BED/app/LinkisInstall/sbin/linkis-daemon.sh" start cg-engineconnmanager
  eureka_lists_all "s2's ECM back"

  adopt_sampler start
  # A job of 8 s on the first entrance handed over, submitted as its play starts: the handover
  # marks it offline and waits for the job before Linkis' script stops it.
  local since
  since=$(date +%s)
  entrance_job_at_play "${CONTROL[0]}" 8 adopt "Hand entrance over"
  play adopt root adopt.yml
  adopt_sampler stop
  expect_ok "adopt.yml"
  [ "$(cat "$BED/logs/entrance-job.status" 2>/dev/null)" = 0 ] ||
    fail "adopt: the job was not taken by ${CONTROL[0]}'s entrance: $(cat "$BED/logs/entrance-job.status" 2>/dev/null)"
  expect_entrance_drained "adopt" "${CONTROL[0]}" "$since"
  no_secret_in_log "adopt.yml"
  expect_log "every host runs what the spec places" "adopt.yml"
  cmp -s "$BED/out/.linkis-gen/applied.json" "$BED/out/.linkis-gen/state.json" || fail "adopt.yml did not record applied.json = state.json"
  expect_cluster_up "adopt.yml"
  # Every instance runs under its unit: no pid file of Linkis' script names a live process other
  # than its unit's (a forking unit, the ECM's, writes the same pid file).
  local f u p
  for h in "${HOSTS[@]}"; do
    for f in "$(lhome "$h")"/pid/linkis_*.pid; do
      [ -e "$f" ] || continue
      u=$(basename "$f" .pid)
      u=linkis-${u#linkis_}.service
      p=$(cat "$f")
      if kill -0 "$p" 2>/dev/null && [ "$p" != "$(unit_state "$h" "$u" pid)" ]; then
        fail "$(basename "$f") on $h: an instance still runs from Linkis' script (pid $p, not $u's)"
      fi
    done
  done
  n=$(pgrep -fc "fake-linkis.py $BED/app/LinkisInstall" || true)
  [ "$n" = 12 ] || fail "$n fake services run, want 12 (each under its unit)"
  # The render won; each hand-made file is kept beside it.
  grep -q "^wds.linkis.bed.hand.edit=kept-in-the-backup$" "$(lhome s1)/conf/linkis.properties.linkis-adopt" || fail "s1's hand-made linkis.properties is not kept"
  if grep -q "wds.linkis.bed.hand.edit" "$(lhome s1)/conf/linkis.properties"; then fail "s1's linkis.properties is not the render"; fi
  grep -q "defaultZone: http://$NET.14:20303/eureka/,http://$NET.13" "$(lhome s4)/conf/application-eureka.yml.linkis-adopt" || fail "s4's hand-made peers are not kept"
  cmp -s "$(lhome s4)/conf/application-eureka.yml" "$BED/out/hosts/s4/conf/application-eureka.yml" || fail "s4's application-eureka.yml is not the render"
  [ ! -e "$(lhome s2)/conf/linkis.properties.linkis-adopt" ] || fail "a backup of a file that did not differ"
  [ "$(readlink "$BED/hosts/s1/app/LinkisInstall")" = "$BED/app/LinkisInstall-$VERSION" ] || fail "install_dir on s1 is not the release's symlink"
  # The database: never touched (no bootstrap, no clear-server).
  [ "$(mariadb-dump --no-defaults -S "$BED/mysql/sock" -u root --skip-dump-date --skip-comments linkis | sha1sum)" = "$dump_before" ] ||
    fail "adopt.yml changed the database"
  if grep -q "TASK \[linkis_db\|TASK \[linkis_clear_server" "$LOG"; then fail "adopt.yml ran the bootstrap or clear-server"; fi
  STATE=converged
}

# ---------------------------------------------------------------- main

case "${1:-}" in
--teardown)
  teardown
  exit 0
  ;;
esac
[ "$(id -u)" = 0 ] || { echo "the bed needs root" >&2; exit 2; }
for tool in ip unshare nsenter /usr/sbin/sshd mariadbd mariadb-install-db ansible-playbook curl openssl /usr/sbin/nft java prometheus promtool /usr/sbin/keepalived "$BIN"; do
  command -v "$tool" >/dev/null || { echo "the bed needs $tool" >&2; exit 2; }
done
on_exit() {
  local rc=$?
  if [ "$BED_UP" = 1 ] && [ -z "${LINKIS_BED_KEEP:-}" ]; then teardown; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

if [ "${1:-}" = --up ]; then # a bed left up for debugging (then: --teardown)
  up
  BED_UP=0
  exit 0
fi
scenarios=("$@")
if [ ${#scenarios[@]} = 0 ]; then scenarios=(broken 1 6 5 2 scale replace port upgrade adopt); fi
for s in "${scenarios[@]}"; do
  t0=$(date +%s)
  "scenario_$s"
  log "FIGURE scenario=$s passed: wall=$(($(date +%s) - t0))s hosts=${#HOSTS[@]}"
done
sampler_verdict
log "all scenarios passed (${scenarios[*]}): total wall=$(($(date +%s) - START))s"
