#!/usr/bin/env bash
# CI for issue 23 on the hosts: the systemd sandbox of every rendered unit, and the DB password's
# way to the database clients. Run from the repo root, as root, on Debian 12.
#
#   systemd-analyze security --offline=true   every unit of examples/guide-300-users.yaml (and the
#                                              other examples): each control service at most 4.0,
#                                              the ECM at most 7.5 (--threshold fails above);
#                                              the figures are written to docs/security-units.txt,
#                                              which must be what is committed
#                                              (.ci/apply.sh runs systemd-analyze verify on the
#                                              units of these examples, and more)
#   cargo test --test db_bootstrap -- --ignored   a password with \ $ # ' " % ; & | { } and spaces
#                                              bootstraps a real MariaDB through linkis_db, and a
#                                              /proc sampler never sees it on a command line or in
#                                              an environment (also clear-server's deletes)
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"
systemd-analyze --version | sed -n 1p

step "build"
cargo build --release --quiet
bin="$PWD/target/release/linkis-gen"

# The bars of spec-v1's third edition ("Units are hardened").
control_bar=4.0
ecm_bar=7.5
figures="$work/security-units.txt"
{
  echo "# systemd-analyze security --offline=true, per rendered unit (written by .ci/hardening.sh;"
  echo "# do not edit). Bars: control services <= $control_bar, the ECM <= $ecm_bar."
} >"$figures"

for spec in examples/guide-300-users.yaml examples/two-server-1.1.3.yaml examples/single-node-1.8.0-nacos-redis.yaml; do
  name=$(basename "$spec" .yaml)
  out="$work/$name"
  step "render $spec"
  "$bin" render "$spec" -o "$out" 2>/dev/null
  step "$name: systemd-analyze security"
  echo "" >>"$figures"
  echo "## $name" >>"$figures"
  for dir in "$out"/hosts/*/systemd; do
    host=$(basename "$(dirname "$dir")")
    for unit in "$dir"/*.service; do
      u=$(basename "$unit")
      bar=$control_bar
      case "$u" in *engineconnmanager*) bar=$ecm_bar ;; esac
      # --threshold counts tenths: 40 is an exposure of 4.0.
      report=$(systemd-analyze security --offline=true --no-pager --threshold="${bar%.*}${bar#*.}" "$unit" 2>&1) || {
        echo "$report"
        echo "$host/$u: above $bar" >&2
        exit 1
      }
      score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
      [ -n "$score" ] || {
        echo "$report"
        exit 1
      }
      echo "$host $u $score" >>"$figures"
    done
  done
done

step "docs/security-units.txt is what the tool says"
if [ "${HARDENING_WRITE:-}" = 1 ]; then
  cp "$figures" docs/security-units.txt
fi
diff -u docs/security-units.txt "$figures"

step "db_bootstrap: a hostile password through a real MariaDB, never on a command line"
cargo test --release --quiet --test db_bootstrap -- --ignored

step "done"
