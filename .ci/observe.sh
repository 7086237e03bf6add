#!/usr/bin/env bash
# The third edition's observability files, checked by the tools that read them (issue 22):
#   promtool check config   OUT/monitoring/prometheus.yml (and the rule file it loads)
#   promtool check rules    OUT/monitoring/linkis-rules.yml
#   promtool test rules     tests/fixtures/monitoring/rules-test.yml: "instance down" fires when
#                           `up` is 0 for the rule's duration, and not before; heap near its max
# for every example that asks for monitoring, and for the other examples with
# `monitoring: {prometheus: true}` appended (a release without Prometheus must be refused).
# Runs from the repo root on Debian 12, as root; about half a minute after the build.
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"
promtool --version 2>&1 | head -n 1

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

step "done"
