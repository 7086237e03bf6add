#!/usr/bin/env bash
# Output discipline in CI: a bounded fuzz run of load -> validate -> size -> render (proptest, tens of
# thousands of cases, about a minute), and the drift gate on a rendered example as an infra repo's
# CI would run it. The hostile corpus and the writer tests run with `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "fuzz: PROPTEST_CASES=${FUZZ_CASES:=20000} per generator"
PROPTEST_CASES="$FUZZ_CASES" cargo test --release --quiet --test fuzz

bin=target/release/linkis-gen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" render examples/guide-300-users.yaml -o "$tmp/out" >/dev/null 2>&1
"$bin" render --check examples/guide-300-users.yaml -o "$tmp/out" >/dev/null 2>&1
echo "# hand edit" >>"$tmp/out/hosts/s1/conf/linkis.properties"
if "$bin" render --check examples/guide-300-users.yaml -o "$tmp/out" >"$tmp/drift" 2>/dev/null; then
  echo "render --check missed a hand edit" >&2
  exit 1
fi
grep -q '^--- a/hosts/s1/conf/linkis.properties' "$tmp/drift"
echo "drift gate: clean tree passes, hand edit is caught"
