#!/usr/bin/env bash
# Installs every tool the checks and tests use, once, on a fresh Debian 12 machine (as root):
# Debian packages with apt-get, Python tools in a venv (never into a Debian-managed Python).
# Idempotent and quiet on a machine that has them. .ci/run sources the PATH it prints:
#   eval "$(bash .ci/tools.sh)"
# The venv lives outside the checkout so that a clean clone stays clean: $LINKIS_GEN_VENV
# (default /opt/linkis-gen-venv).
set -euo pipefail

VENV=${LINKIS_GEN_VENV:-/opt/linkis-gen-venv}
ANSIBLE_CORE_VERSION=2.19.14
ANSIBLE_LINT_VERSION=25.12.2
CHECK_JSONSCHEMA_VERSION=0.39.0

# command -> Debian package
declare -A debs=(
  [nginx]=nginx-light
  [shellcheck]=shellcheck
  [systemd-analyze]=systemd
  [sudo]=sudo
  [sshd]=openssh-server
  [ssh]=openssh-client
  [mariadbd]=mariadb-server
  [mariadb]=mariadb-client
  [mysqldump]=mariadb-client
  [ip]=iproute2
  [setfacl]=acl
  [unshare]=util-linux
  [nsenter]=util-linux
  [/usr/bin/time]=time
  [curl]=curl
  [promtool]=prometheus
  [prometheus]=prometheus
  [logrotate]=logrotate
  [pg_ctlcluster]=postgresql
  [pg_restore]=postgresql-client
  [node]=nodejs
  [npm]=npm
  [openssl]=openssl
  [nft]=nftables
  [keepalived]=keepalived
  [setpriv]=util-linux
  [javac]=default-jdk-headless
  [/usr/share/java/log4j-core.jar]=liblog4j2-java
)
need=()
for cmd in "${!debs[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "$cmd" ] && [ ! -x "/usr/sbin/$cmd" ] \
    && [ ! -f "$cmd" ]; then
    need+=("${debs[$cmd]}")
  fi
done
if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "tools.sh: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # policy-rc.d keeps the packages' own services (mariadb, ssh, nginx) from starting: every test
  # starts the servers it needs, on its own ports and data directories.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -x "$VENV/bin/ansible-playbook" ] || [ ! -x "$VENV/bin/check-jsonschema" ] \
  || ! "$VENV/bin/python" -c 'import pymysql, yaml, jinja2' 2>/dev/null; then
  echo "tools.sh: python venv $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "ansible-core==${ANSIBLE_CORE_VERSION}" "ansible-lint==${ANSIBLE_LINT_VERSION}" \
    "check-jsonschema==${CHECK_JSONSCHEMA_VERSION}" pyyaml jinja2 pymysql >&2
fi

echo "export PATH=\"$VENV/bin:\$PATH\""
