#!/usr/bin/env bash
# FAKE sbin/linkis-start-all.sh of the test bed's fake Linkis release (tests/bed/README.md): the
# stock script starts every service in Linkis' start order through linkis-daemon.sh (the real one
# reaches the other hosts over ssh and sleeps between stages; the fake services wait for what they
# need by themselves). The deployment guide's multi-host procedure trims it per host to the
# services of that host: the bed's adopt scenario deletes the other `start` lines.
set -euo pipefail
home=${LINKIS_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
start() {
  echo "linkis-start-all: starting $1"
  bash "$home/sbin/linkis-daemon.sh" start "$1"
}
start mg-eureka
start mg-gateway
start ps-publicservice
start cg-linkismanager
start cg-entrance
start cg-engineconnmanager
