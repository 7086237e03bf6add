#!/usr/bin/env bash
# The third edition's observability files, checked by the tools that read them (issue 22):
#   promtool check config   OUT/monitoring/prometheus.yml (and the rule file it loads)
#   promtool check rules    OUT/monitoring/linkis-rules.yml
#   promtool test rules     tests/fixtures/monitoring/rules-test.yml: "instance down" fires when
#                           `up` is 0 for the rule's duration, and not before; heap near its max
# for every example that asks for monitoring, and for the other examples with
# `monitoring: {prometheus: true}` appended (a release without Prometheus must be refused).
#   log4j2 (Debian's liblog4j2-java, a JDK's source launcher) every rendered conf/log4j2.xml of
#                           three releases builds without a warning, and a rollover deletes the
#                           rolled files older than keep_days and over max_size, and only those
#                           (tests/fixtures/log4j2/CheckLog4j2.java)
#   logrotate -d / -f       the stdout files' rule parses, and a forced run rotates (copytruncate)
#   systemd-tmpfiles --clean  the engines' rule, run for real under --root (systemd 252 has no
#                           --dry-run): it keeps a new file; with its age set to 0 it empties
#                           engine_root and nothing beside it (a file's ctime cannot be aged here)
#   bash + shellcheck       linkis-env.sh picks the GC flags of the java that runs
# Runs from the repo root on Debian 12, as root; about half a minute after the build.
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"
promtool --version 2>&1 | sed -n 1p

step "build"
cargo build --release --quiet --bin linkis-gen
bin="$PWD/target/release/linkis-gen"

step "monitoring: promtool check config / check rules"
checked=0
for ex in examples/*.yaml; do
  name=$(basename "$ex" .yaml)
  spec="$work/$name.yaml"
  cp "$ex" "$spec"
  if ! grep -q '^monitoring:' "$spec"; then
    printf '\nmonitoring:\n  prometheus: true\n' >>"$spec"
  fi
  out="$work/out-$name"
  "$bin" render "$spec" -o "$out" >/dev/null 2>"$work/err" || {
    cat "$work/err" >&2
    exit 1
  }
  (cd "$out/monitoring" && promtool check config prometheus.yml >/dev/null && promtool check rules linkis-rules.yml >/dev/null) || {
    (cd "$out/monitoring" && promtool check config prometheus.yml; promtool check rules linkis-rules.yml)
    exit 1
  }
  # every instance of the tree is a target, at the path its service serves metrics on
  units=$(find "$out/hosts" -path '*/systemd/*.service' | wc -l)
  targets=$(grep -c '__metrics_path__' "$out/monitoring/prometheus.yml")
  [ "$units" -eq "$targets" ] || {
    echo "$name: $units units but $targets scrape targets" >&2
    exit 1
  }
  checked=$((checked + 1))
done
echo "promtool accepts the scrape config and rules of $checked examples"

step "monitoring: promtool test rules"
cp tests/fixtures/monitoring/rules-test.yml "$work/out-every-field/monitoring/"
(cd "$work/out-every-field/monitoring" && promtool test rules rules-test.yml)
# The test can fail: a gateway that keeps answering raises no alert where the test expects one.
sed "s/values: '1 1 0 0 0 0 0 0'/values: '1 1 1 1 1 1 1 1'/" tests/fixtures/monitoring/rules-test.yml \
  >"$work/out-every-field/monitoring/rules-neg.yml"
if (cd "$work/out-every-field/monitoring" && promtool test rules rules-neg.yml >/dev/null 2>&1); then
  echo "promtool test rules passes a gateway that never went down" >&2
  exit 1
fi
echo "LinkisInstanceDown fires after 2 minutes of up == 0, and only then"

step "logs: log4j2.xml through the real log4j2"
cp_l4j=/usr/share/java/log4j-api.jar:/usr/share/java/log4j-core.jar
for ex in two-server-1.1.3 guide-300-users every-field; do
  spec="$work/logs-$ex.yaml"
  grep -v '^logs:\|^  keep_days:\|^  max_size:' "examples/$ex.yaml" >"$spec"
  printf '\nlogs:\n  keep_days: 3\n  max_size: 100M\n' >>"$spec"
  out="$work/logs-$ex"
  "$bin" render "$spec" -o "$out" >/dev/null 2>&1
  xml=$(find "$out/hosts" -name log4j2.xml | sort | sed -n 1p)
  limit=$(sed -n 's/.*IfAccumulatedFileSize exceeds="\([0-9]*\)MB".*/\1/p' "$xml")
  rm -rf "$work/logdir" && mkdir "$work/logdir"
  LINKIS_LOG_DIR="$work/logdir" java -cp "$cp_l4j" tests/fixtures/log4j2/CheckLog4j2.java "$xml" "$work/logdir" "$limit"
done
# The check can fail: a duration log4j2 cannot read is a warning it reports.
sed 's/age="3d"/age="3x"/' "$xml" >"$work/bad-log4j2.xml"
rm -rf "$work/logdir" && mkdir "$work/logdir"
if LINKIS_LOG_DIR="$work/logdir" java -cp "$cp_l4j" tests/fixtures/log4j2/CheckLog4j2.java "$work/bad-log4j2.xml" "$work/logdir" "$limit" >/dev/null 2>&1; then
  echo "the log4j2 check accepts an unreadable age" >&2
  exit 1
fi

step "logs: logrotate"
out="$work/logs-every-field"
lr="$out/hosts/ctl-1/os/logrotate.conf"
logdir=$(sed -n 's|^"\(.*\)/\*\.out" {$|\1|p' "$lr")
[ -n "$logdir" ] || { echo "no .out rule in $lr" >&2; exit 1; }
# The rule as installed, with the log dir moved to a scratch dir and the deploy user (absent on
# this machine: logrotate refuses an unknown user) replaced by root.
mkdir -p "$work/lr/logs"
sed -e "s|$logdir|$work/lr/logs|" -e 's/^    su .*/    su root root/' "$lr" >"$work/lr/linkis"
# Its output read whole first: `logrotate -d | grep -q` under pipefail failed when grep, done at
# its first match, closed the pipe before logrotate's last lines (SIGPIPE; CI run of 10ed99e).
debug=$(logrotate -d -s "$work/lr/state" "$work/lr/linkis" 2>&1) || true
grep -q 'Handling 1 logs' <<<"$debug" || {
  printf '%s\n' "$debug"
  exit 1
}
head -c 1048576 /dev/zero >"$work/lr/logs/linkis-mg-gateway.out"
logrotate -f -s "$work/lr/state" "$work/lr/linkis"
if [ ! -f "$work/lr/logs/linkis-mg-gateway.out.1.gz" ] || [ -s "$work/lr/logs/linkis-mg-gateway.out" ]; then
  ls -la "$work/lr/logs" >&2
  exit 1
fi
echo "logrotate reads the rule and rotates a stdout file in place"

step "logs: systemd-tmpfiles"
tf="$out/hosts/ecm-1/os/tmpfiles.conf"
root=$(awk '$1 == "e" { print $2 }' "$tf")
mkdir -p "$work/tf$root/engine-1" "$work/tf/data/keep"
touch "$work/tf$root/engine-1/stdout" "$work/tf/data/keep/file"
systemd-tmpfiles --clean --root="$work/tf" "$tf"
[ -e "$work/tf$root/engine-1/stdout" ] || { echo "the rule removed a new engine file" >&2; exit 1; }
awk '$1 == "e" { $6 = "0" } { print }' "$tf" >"$work/tmpfiles-now.conf"
systemd-tmpfiles --clean --root="$work/tf" "$work/tmpfiles-now.conf"
if [ -e "$work/tf$root/engine-1/stdout" ] || [ ! -d "$work/tf$root" ] || [ ! -e "$work/tf/data/keep/file" ]; then
  find "$work/tf" >&2
  exit 1
fi
echo "systemd-tmpfiles keeps new engine files under $root; past the age it empties only $root"

step "logs: GC flags follow the java that runs"
env_sh="$out/hosts/ctl-1/conf/linkis-env.sh"
shellcheck "$env_sh"
for v in '1.8.0_392' '17.0.15'; do
  mkdir -p "$work/fakejava/$v"
  printf '#!/bin/sh\necho "openjdk version \\"%s\\" 2024-01-01" >&2\n' "$v" >"$work/fakejava/$v/java"
  chmod +x "$work/fakejava/$v/java"
  opts=$(PATH="$work/fakejava/$v:$PATH" SERVER_NAME=linkis-mg-gateway LINKIS_HOME=/opt/linkis \
    bash -c '. "$1" && printf "%s" "$SERVER_JAVA_OPTS"' _ "$env_sh")
  case "$v:$opts" in
    1.8*:*-XX:+UseGCLogFileRotation*) ;;
    17*:*-Xlog:gc:file=*filecount=*) ;;
    *) echo "java $v: SERVER_JAVA_OPTS=$opts" >&2; exit 1 ;;
  esac
  echo "java $v: $opts"
done
# And the real JVM here takes its form.
opts=$(SERVER_NAME=linkis-mg-gateway LINKIS_HOME="$work" LINKIS_LOG_DIR="$work" bash -c '. "$1" && printf "%s" "$SERVER_JAVA_OPTS"' _ "$env_sh")
# shellcheck disable=SC2086 # the start script splits SERVER_JAVA_OPTS the same way
(cd "$work" && java $opts -version >/dev/null 2>&1) || { echo "java refuses $opts" >&2; exit 1; }
echo "this machine's java starts with them"

step "done"
