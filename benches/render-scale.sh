#!/usr/bin/env bash
# Render time and peak memory against host count, and render vs `cp -r` of the same tree.
#   bash benches/render-scale.sh            # 10, 100, 1000, 5000 hosts, and the 2000-host ratio
# Needs /usr/bin/time (Debian package `time`). Synthetic specs: 64G hosts, one 1G engine at
# concurrency 2, users sized to 25 per ECM host (at most 100,000) so sizing passes; the last two hosts are control.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
cargo build --release --quiet
bin=$PWD/target/release/linkis-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

spec() { # $1 = hosts
  python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
users = min(100_000, max(1, (n - 2) * 25))
print(f"""version: 1
cluster: {{ name: bench, linkis_version: "1.3.2", package: files/linkis.tar.gz }}
database: {{ host: db, name: linkis, user: linkis, password: {{ vault: vault_linkis_db_password }} }}
sizing:
  concurrent_users: {users}
  max_concurrency_per_user: 2
  engines: {{ spark: {{ memory: 1G, cores: 1 }} }}
host_defaults: {{ memory: 64G, cores: 64 }}
hosts:""")
for i in range(n):
    print(f"  - {{ name: h{i}, address: 10.{i // 65536}.{(i // 256) % 256}.{i % 256} }}")
PY
}

measure() { # $1 = hosts; prints "hosts files seconds peak_kib"
  local n=$1 dir="$work/out-$1"
  spec "$n" >"$work/spec-$n.yaml"
  rm -rf "$dir"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" render "$work/spec-$n.yaml" -o "$dir" >/dev/null 2>&1
  read -r secs kib <"$work/time"
  echo "$n $(find "$dir" -type f | wc -l) $secs $kib"
}

echo "| hosts | files | render s | peak RSS MiB | s per 1000 hosts |"
echo "|---:|---:|---:|---:|---:|"
for n in 10 100 1000 5000; do
  read -r h files secs kib < <(measure "$n")
  per=$(python3 -c "print(f'{$secs / $h * 1000:.2f}')")
  echo "| $h | $files | $secs | $((kib / 1024)) | $per |"
done

n=2000
read -r _ files secs _ < <(measure $n)
sync
/usr/bin/time -f "%e" -o "$work/cp-time" cp -r "$work/out-$n" "$work/copy-$n"
cp_secs=$(cat "$work/cp-time")
echo
echo "2000 hosts ($files files): render ${secs}s, cp -r ${cp_secs}s, ratio $(python3 -c "print(f'{$secs / max($cp_secs, 0.01):.2f}')")"
