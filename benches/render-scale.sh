#!/usr/bin/env bash
# Render-at-scale benchmark (not run in CI): synthetic specs of 10, 100, 1,000 and 5,000 hosts of
# 64G, users scaled so sizing passes, rendered with the release binary under /usr/bin/time -v.
# Records wall time and peak RSS for a fresh render, a re-render over an unchanged tree and a
# `render --check`; checks that time grows linearly with hosts; and for 2,000 hosts compares the
# render with `cp -r` of its output tree (the issue's bound: render <= 3x cp).
#
#   benches/render-scale.sh                 # the full table (about a minute)
#   SIZES="10 100" CP_HOSTS=100 benches/render-scale.sh   # a quick run
#
# Writes the table to stdout and to target/bench/render-scale.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10 100 1000 5000"}
CP_HOSTS=${CP_HOSTS:-2000}
WORK=${WORK:-target/bench}
BIN=target/release/linkis-gen

if [ ! -x /usr/bin/time ]; then
  apt-get install -y time >/dev/null
fi
cargo build --release --quiet
mkdir -p "$WORK"

# spec N → $WORK/spec-N.yaml. Default placement: ECM on h1..h(N-2), control on the last two.
# ECM capacity is (N-2) x 62G; demand is users x 1G x 2, so users = 25 x (N-2), capped at the
# validator's 100,000.
spec() {
  local n=$1 f="$WORK/spec-$1.yaml"
  local users=$(( 25 * (n > 2 ? n - 2 : 1) ))
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

# measure LOGNAME CMD... → "seconds peak_kb" (wall time in ns from date; RSS from time -v,
# whose own wall clock has only 10 ms resolution).
measure() {
  local log="$WORK/$1.time"
  shift
  local t0 t1 kb
  t0=$(date +%s%N)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; return 1; }
  t1=$(date +%s%N)
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  python3 -c "print(f'{($t1 - $t0) / 1e9:.3f} $kb')"
}

table="$WORK/render-scale.md"
{
  echo "linkis-gen $($BIN --version | awk '{print $2}') render benchmark, $(nproc) cores, $(date -u +%F)"
  echo
  echo "| hosts | files | output | render s | peak RSS MiB | re-render s | --check s | render ms/host |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$table"

declare -A per_host
for n in $SIZES; do
  f=$(spec "$n")
  out="$WORK/out-$n"
  # Best of 3 fresh renders: the machine may be shared, and the file system's cost varies.
  t=""
  for _ in 1 2 3; do
    rm -rf "$out"
    read -r tr kb < <(measure "render-$n" "$BIN" render "$f" -o "$out")
    t=$(python3 -c "print(min(float(x) for x in '$t $tr'.split()))")
  done
  read -r t2 _ < <(measure "rerender-$n" "$BIN" render "$f" -o "$out")
  read -r t3 _ < <(measure "check-$n" "$BIN" render "$f" -o "$out" --check)
  files=$(find "$out" -type f | wc -l)
  size=$(du -sh "$out" | cut -f1)
  ms=$(python3 -c "print(f'{$t * 1000 / $n:.2f}')")
  per_host[$n]=$ms
  echo "| $n | $files | $size | $t | $((kb / 1024)) | $t2 | $t3 | $ms |" >>"$table"
done

# Linear growth: time per host at the largest size is within 1.5x of that at 1,000 hosts
# (smaller sizes are dominated by start-up and are not compared).
read -r -a sizes <<<"$SIZES"
last=${sizes[-1]}
if [ -n "${per_host[1000]:-}" ] && [ "$last" != 1000 ]; then
  verdict=$(python3 -c "
a=${per_host[1000]}; b=${per_host[$last]}
print(f'time per host at {$last} hosts / at 1000 hosts = {b/a:.2f} -> ' + ('linear' if b <= 1.5*a else 'NOT linear'))")
  printf '\n%s\n' "$verdict" >>"$table"
fi

# render vs cp -r at CP_HOSTS hosts, both on a warm page cache, best of 3 each.
f=$(spec "$CP_HOSTS")
best() { sort -n | head -1; }
render_t=$(for _ in 1 2 3; do rm -rf "$WORK/cp-src"; measure "cp-render" "$BIN" render "$f" -o "$WORK/cp-src" | cut -d' ' -f1; done | best)
cp_t=$(for _ in 1 2 3; do rm -rf "$WORK/cp-dst"; measure "cp-cp" cp -r "$WORK/cp-src" "$WORK/cp-dst" | cut -d' ' -f1; done | best)
files=$(find "$WORK/cp-src" -type f | wc -l)
{
  echo
  echo "| $CP_HOSTS hosts ($files files) | seconds |"
  echo "|---|---:|"
  echo "| linkis-gen render (fresh OUT) | $render_t |"
  echo "| cp -r of its output tree | $cp_t |"
  python3 -c "r=$render_t/max($cp_t,0.001); print(f'| ratio render / cp | {r:.2f} ({\"within\" if r <= 3 else \"OVER\"} the 3x bound) |')"
} >>"$table"
rm -rf "$WORK/cp-dst"
cat "$table"
