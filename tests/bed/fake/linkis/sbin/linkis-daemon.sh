#!/usr/bin/env bash
# FAKE sbin/linkis-daemon.sh of the test bed's fake Linkis release (tests/bed/README.md).
#   linkis-daemon.sh start|stop|status SERVICE
# start: with RUN_IN_FOREGROUND=true (the systemd units of 1.3.0+) runs the fake service in the
# foreground; otherwise starts it in the background and writes pid/linkis_SERVICE.pid, as
# Linkis' script does for forking units.
set -euo pipefail
cmd=${1:?start|stop|status}
svc=${2:?service}
home=${LINKIS_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
pidfile="$home/pid/linkis_$svc.pid"
mkdir -p "$home/logs" "$home/pid"
case "$cmd" in
start)
  if [ "${RUN_IN_FOREGROUND:-false}" = true ]; then
    exec python3 "$home/lib/fake-linkis.py" "$home" "$svc"
  fi
  nohup python3 "$home/lib/fake-linkis.py" "$home" "$svc" >>"$home/logs/linkis-$svc.out" 2>&1 &
  echo "$!" >"$pidfile"
  sleep 0.3
  kill -0 "$(cat "$pidfile")"
  ;;
stop)
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
  fi
  rm -f "$pidfile"
  ;;
status)
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")"
  ;;
*)
  echo "linkis-daemon.sh: unknown command $cmd" >&2
  exit 1
  ;;
esac
