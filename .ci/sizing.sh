#!/usr/bin/env bash
# Sizing artifacts read by the tools their users read them with: `linkis-gen init` output through
# PyYAML (what Ansible parses YAML with), `plan --format json` through Python's json, and the
# guide's host counts checked from outside the Rust tests. Runs from the repo root; a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/tools.sh)"
cargo build --release --quiet
bin=target/release/linkis-gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for pair in 50:2 100:4 300:10 500:17 800:26; do
  users=${pair%%:*}
  ecm=${pair##*:}
  "$bin" init --users "$users" >"$tmp/init-$users.yaml"
  # Untouched, its placeholder addresses are errors; once set, it validates.
  if "$bin" validate "$tmp/init-$users.yaml" >/dev/null 2>&1; then
    echo "init --users $users: its placeholders validate" >&2
    exit 1
  fi
  sed 's/PLACEHOLDER/set/' "$tmp/init-$users.yaml" >"$tmp/set-$users.yaml"
  "$bin" validate "$tmp/set-$users.yaml" >/dev/null
  python3 - "$tmp/init-$users.yaml" "$users" "$ecm" <<'PY'
import sys, yaml
path, users, ecm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
spec = yaml.safe_load(open(path))
assert spec["sizing"]["concurrent_users"] == users, spec["sizing"]
hosts = spec["hosts"]
assert len(hosts) == ecm + 2, (users, len(hosts))
text = open(path).read()
marked = [l for l in text.splitlines() if "address:" in l and "PLACEHOLDER" in l]
assert len(marked) == len(hosts), (len(marked), len(hosts))
print(f"init --users {users}: {len(hosts)} hosts ({ecm} ECM), PyYAML reads it")
PY
done

for users in 50 100 300 500 800; do
  "$bin" plan --format json "examples/guide-$users-users.yaml" 2>/dev/null >"$tmp/plan-$users.json"
  python3 - "$tmp/plan-$users.json" "$users" <<'PY'
import json, sys
path, users = sys.argv[1], int(sys.argv[2])
r = json.load(open(path))
gib = 1 << 30
assert r["formula"]["memory"]["bytes"] == users * 2 * gib
assert r["capacity"]["memory"]["bytes"] >= r["formula"]["memory"]["bytes"]
ecm = [h for h in r["hosts"] if h["ecm"]]
assert all(h["ecm"]["memory_max"] == 62 * gib for h in ecm)
assert sum(h["ecm"]["memory_max"] for h in ecm) == r["capacity"]["memory"]["bytes"]
assert r["guide"]["same_layout"] is True
print(f"plan guide-{users}: demand {r['formula']['memory']['text']}, capacity {r['capacity']['memory']['text']}")
PY
done

"$bin" render examples/guide-300-users.yaml -o "$tmp/out" >/dev/null 2>&1
grep -q '= 300 × (spark 1G) × 2 = 600G' "$tmp/out/PLAN.md"
echo "render writes PLAN.md with the formula"
