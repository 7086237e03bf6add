#!/usr/bin/env bash
# CI for output discipline (issue 6): the fuzz target for a bounded time, the hostile-spec corpus
# at full size with its time and memory bounds, a drift gate round trip with the real binary, and
# a tiny run of the render benchmark (the full one is benches/render-scale.sh, not run in CI).
# Runs from the repo root on a fresh Debian 12 machine as root with CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

step() { printf '\n--> output: %s\n' "$*"; }

# About a minute on 2 cores in release.
FUZZ_CASES=${FUZZ_CASES:-100000}
step "fuzz: load -> validate -> plan -> render never panics (PROPTEST_CASES=$FUZZ_CASES)"
start=$(date +%s)
PROPTEST_CASES=$FUZZ_CASES timeout 600 cargo test --release --test fuzz
echo "fuzz ran $(( $(date +%s) - start )) s with no failure"

step "hostile corpus (ulimit -v, located errors, OUT untouched)"
cargo test --release --test hostile_corpus -- --nocapture 2>&1 | grep -E 'exit|test result'

step "hostile corpus: peak memory per input with /usr/bin/time"
cargo build --release --quiet
for f in tests/hostile/*.yaml; do
  /usr/bin/time -f "%e s %M KB" target/release/linkis-gen validate "$f" >/dev/null 2>/tmp/output-ci.err && {
    echo "error: $f validated" >&2
    exit 1
  }
  printf '%-40s %s\n' "$(basename "$f")" "$(tail -1 /tmp/output-ci.err)"
done

step "drift gate round trip: render, --check clean, hand edit, --check names the file"
out=$(mktemp -d)
target/release/linkis-gen render examples/guide-100-users.yaml -o "$out" >/dev/null 2>&1
target/release/linkis-gen render examples/guide-100-users.yaml -o "$out" --check >/dev/null 2>&1
echo "# hand edit" >>"$out/PLAN.md"
if target/release/linkis-gen render examples/guide-100-users.yaml -o "$out" --check >/tmp/output-ci.diff 2>&1; then
  echo "error: --check missed a hand edit" >&2
  exit 1
fi
grep -q 'PLAN.md' /tmp/output-ci.diff
# The manifest's hashes are plain SHA-256: coreutils can verify the tree.
git -C "$out" init -q 2>/dev/null || true
target/release/linkis-gen render examples/guide-100-users.yaml -o "$out" >/dev/null 2>&1
(cd "$out" && awk '!/^#/ {print $2 "  " $3}' .linkis-gen/manifest | sha256sum --check --quiet)
rm -rf "$out"

step "render benchmark, tiny (the full table: benches/render-scale.sh)"
SIZES="10 100" CP_HOSTS=100 WORK=target/bench-ci bash benches/render-scale.sh
