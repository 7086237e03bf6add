#!/usr/bin/env bash
# Render-at-scale benchmark (not run in CI). Synthetic specs of 10 … 5,000 hosts of 64G (users
# scaled so sizing passes) are rendered with the release binary in a tmpfs, and at each size,
# side by side and interleaved (5 rounds, medians):
#   - a fresh render (OUT does not exist),
#   - a no-op re-render (same spec over the tree it left),
#   - `cp -r` of the rendered tree (the cost of writing those files at all),
# with the peak RSS of the fresh render (/usr/bin/time -v). It checks the bounds of issue 20 at
# 2,000 hosts (fresh <= 1.5x cp, no-op <= 0.5x cp, peak <= 100 MiB) and linear growth (time per
# host at 5,000 within 1.5x of that at 1,000), and WRITES the table docs/output.md includes:
# docs/bench/render-scale.md (no hand-copied figures).
#
#   benches/render-scale.sh                         # the full table (a few minutes)
#   SIZES="10 100" ROUNDS=3 benches/render-scale.sh  # a quick run (writes target/bench/ only)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10 100 1000 2000 5000"}
ROUNDS=${ROUNDS:-5}
BIN=${BIN:-target/release/linkis-gen}
WORK=${WORK:-$(mktemp -d -p /dev/shm linkis-gen-bench.XXXXXX)}
TABLE=${TABLE:-docs/bench/render-scale.md}
[ "$SIZES" = "10 100 1000 2000 5000" ] || TABLE=target/bench/render-scale.md
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x /usr/bin/time ]; then
  apt-get install -y time >/dev/null
fi
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
mkdir -p "$(dirname "$TABLE")"

# spec N → $WORK/spec-N.yaml. Default placement: ECM on h1..h(N-2), control on the last two.
# ECM capacity is (N-2) x 62G; demand is users x 1G x 2, so users = 25 x (N-2), capped at the
# validator's 100,000.
spec() {
  local n=$1 f="$WORK/spec-$1.yaml"
  local users=$((25 * (n > 2 ? n - 2 : 1)))
  if [ "$users" -gt 100000 ]; then users=100000; fi
  {
    printf 'version: 1\ncluster:\n  name: bench-%s\n  linkis_version: "1.3.2"\n' "$n"
    printf '  package: files/apache-linkis-1.3.2-bin.tar.gz\n'
    printf 'database:\n  host: 10.0.0.5\n  name: linkis\n  user: linkis\n'
    printf '  password: { vault: vault_linkis_db_password }\n'
    printf 'sizing:\n  concurrent_users: %s\n  max_concurrency_per_user: 2\n' "$users"
    printf '  engines:\n    spark: { memory: 1G, cores: 1 }\n'
    printf 'host_defaults:\n  memory: 64G\n  cores: 32\nhosts:\n'
    for ((i = 1; i <= n; i++)); do
      printf '  - { name: h%d, address: 10.%d.%d.%d }\n' "$i" $((i / 65536 % 256)) $((i / 256 % 256)) $((i % 256))
    done
  } >"$f"
  echo "$f"
}

# run LOG CMD... → wall seconds (ns clock); the command's peak RSS (KiB) goes to LOG.rss.
run() {
  local log=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; return 1; }
  t1=$(date +%s%N)
  awk -F': ' '/Maximum resident set size/ {print $2}' "$log" >"$log.rss"
  echo "$(((t1 - t0) / 1000))"
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
secs() { awk -v us="$1" 'BEGIN {printf "%.3f", us / 1e6}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
declare -A fresh_us noop_us cp_us rss_kb
for n in $SIZES; do
  f=$(spec "$n")
  out="$WORK/out-$n"
  fr=() no=() cp=() rss=()
  for ((r = 1; r <= ROUNDS; r++)); do
    rm -rf "$out" "$WORK/cp"
    fr+=("$(run "$WORK/fresh.log" "$BIN" render "$f" -o "$out")")
    rss+=("$(cat "$WORK/fresh.log.rss")")
    no+=("$(run "$WORK/noop.log" "$BIN" render "$f" -o "$out")")
    cp+=("$(run "$WORK/cp.log" cp -r "$out" "$WORK/cp")")
  done
  # The no-op really was one (outside the timings).
  "$BIN" render "$f" -o "$out" 2>/dev/null | grep -q ' 0 written, ' || { echo "re-render of $n hosts wrote files" >&2; exit 1; }
  fresh_us[$n]=$(printf '%s\n' "${fr[@]}" | median)
  noop_us[$n]=$(printf '%s\n' "${no[@]}" | median)
  cp_us[$n]=$(printf '%s\n' "${cp[@]}" | median)
  rss_kb[$n]=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
  files=$(find "$out" -type f | wc -l)
  size=$(du -sh "$out" | cut -f1)
  rows+=("$(awk -v n="$n" -v files="$files" -v size="$size" -v f="${fresh_us[$n]}" \
    -v no="${noop_us[$n]}" -v c="${cp_us[$n]}" -v kb="${rss_kb[$n]}" 'BEGIN {
      printf "| %s | %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f | %.0f | %.3f |", n, files, size,
        f / 1e6, no / 1e6, c / 1e6, f / c, no / c, kb / 1024, f / 1000 / n }')")
  echo "${rows[-1]}" >&2  # progress
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "<!-- Written by benches/render-scale.sh; do not edit by hand. -->"
  echo "linkis-gen $($BIN --version | awk '{print $2}') ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(nproc) cores, $(date -u +%F), tmpfs; medians of $ROUNDS interleaved rounds; load average $load_before before, $load_after after."
  echo
  echo "| hosts | files | output | fresh s | no-op s | cp -r s | fresh / cp | no-op / cp | peak RSS MiB | fresh ms/host |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  if [ -n "${fresh_us[2000]:-}" ]; then
    awk -v f="${fresh_us[2000]}" -v no="${noop_us[2000]}" -v c="${cp_us[2000]}" -v kb="${rss_kb[2000]}" 'BEGIN {
      printf "At 2,000 hosts: fresh %.2fx cp -r (bound 1.5x: %s), no-op %.2fx (bound 0.5x: %s), peak %.0f MiB (bound 100: %s).\n",
        f / c, (f / c <= 1.5 ? "within" : "OVER"), no / c, (no / c <= 0.5 ? "within" : "OVER"),
        kb / 1024, (kb / 1024 <= 100 ? "within" : "OVER") }'
  fi
  if [ -n "${fresh_us[1000]:-}" ] && [ -n "${fresh_us[5000]:-}" ]; then
    awk -v a="${fresh_us[1000]}" -v b="${fresh_us[5000]}" 'BEGIN {
      r = (b / 5000) / (a / 1000)
      printf "Time per host at 5,000 hosts / at 1,000 hosts: %.2f (%s).\n", r, (r <= 1.5 ? "linear" : "NOT linear") }'
  fi
} >"$TABLE"
cat "$TABLE"
