#!/usr/bin/env bash
# FAKE sbin/clear-server.sh of the test bed's fake Linkis release (tests/bed/README.md): like
# Linkis' script it reads conf/db.sh and empties the manager's instance tables, for real, with
# the mariadb client, and records each run in logs/clear-server.runs.
set -euo pipefail
home=${LINKIS_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
mkdir -p "$home/logs"
# shellcheck disable=SC1091
. "$home/conf/db.sh"
if [ "${dbType:-mysql}" != mysql ]; then
  exit 0
fi
MYSQL_PWD="$MYSQL_PASSWORD" mariadb -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" "$MYSQL_DB" -e '
DELETE FROM linkis_cg_manager_service_instance;
DELETE FROM linkis_cg_manager_label_service_instance;
DELETE FROM linkis_cg_manager_service_instance_metrics;'
echo "cleared $(date +%s) from $(hostname)" >>"$home/logs/clear-server.runs"
