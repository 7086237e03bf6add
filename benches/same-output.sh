#!/usr/bin/env bash
# Byte-identical output check between two linkis-gen binaries (not run in CI): renders every
# example and test spec with both, fresh, then again against an applied.json (a running cluster:
# the change plan), and against the applied.json of another example's render (an upgrade or a
# reconfiguration), and compares the trees (diff -r) and the printed output.
#
#   benches/same-output.sh REF_BINARY [NEW_BINARY]   # NEW defaults to target/release/linkis-gen
#
# Keep a copy of main's binary before changing the renderer or writer:
#   cp target/release/linkis-gen target/ref/linkis-gen-main
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$(realpath "$1")
new=$(realpath "${2:-target/release/linkis-gen}")
work=$(mktemp -d -p "${TMPDIR:-/dev/shm}")
trap 'rm -rf "$work"' EXIT
# linkis-gen's local bookkeeping (not part of the rendered tree) is left out of the comparison.
ignore=(-x stamp -x .gitignore)
fail=0
same() { # NAME DIR_A DIR_B OUT_A OUT_B
  if ! diff -r "${ignore[@]}" "$2" "$3" >"$work/diff" 2>&1; then
    echo "DIFFERENT tree: $1"; head -20 "$work/diff"; fail=1
  fi
  if ! cmp -s "$4" "$5"; then
    echo "DIFFERENT output: $1"; diff "$4" "$5" | head -20; fail=1
  fi
}
run() { # BIN OUT LOG ARGS...
  local bin=$1 out=$2 log=$3
  shift 3
  set +e
  "$bin" render "$@" -o "$out" >"$log" 2>&1
  echo "exit $?" >>"$log"
  set -e
  sed -i "s#$work/[ab]/#OUT/#g" "$log"
}
specs=(examples/*.yaml tests/specs/*.yaml)
n=0
for spec in "${specs[@]}"; do
  name=$(basename "$spec" .yaml)
  for side in a b; do
    bin=$ref; [ $side = b ] && bin=$new
    mkdir -p "$work/$side"
    run "$bin" "$work/$side/$name" "$work/$side/$name.log" "$spec"
    # Re-render into the same tree: nothing changes.
    run "$bin" "$work/$side/$name" "$work/$side/$name.re.log" "$spec"
    # What runs = what was rendered: the change plan says nothing changes.
    cp "$work/$side/$name/.linkis-gen/state.json" "$work/$side/$name/.linkis-gen/applied.json"
    run "$bin" "$work/$side/$name" "$work/$side/$name.applied.log" "$spec"
  done
  same "$name" "$work/a/$name" "$work/b/$name" "$work/a/$name.log" "$work/b/$name.log"
  same "$name (re-render)" "$work/a/$name" "$work/b/$name" "$work/a/$name.re.log" "$work/b/$name.re.log"
  same "$name (applied)" "$work/a/$name" "$work/b/$name" "$work/a/$name.applied.log" "$work/b/$name.applied.log"
  n=$((n + 1))
done
# Day 2: each example rendered over the tree (and applied.json) of every other one of the same
# cluster shape where that is accepted: reconfigurations, scale in/out, upgrades.
for a in "${specs[@]}"; do
  for b in "${specs[@]}"; do
    [ "$a" = "$b" ] && continue
    an=$(basename "$a" .yaml) bn=$(basename "$b" .yaml)
    for side in a b; do
      bin=$ref; [ $side = b ] && bin=$new
      d="$work/$side/x-$an-$bn"
      rm -rf "$d"
      cp -r "$work/$side/$an" "$d"
      run "$bin" "$d" "$d.log" "$b"
    done
    same "$an -> $bn" "$work/a/x-$an-$bn" "$work/b/x-$an-$bn" "$work/a/x-$an-$bn.log" "$work/b/x-$an-$bn.log"
    n=$((n + 1))
  done
done
if [ "$fail" = 0 ]; then
  echo "same output: $n scenarios byte-identical ($(basename "$ref") vs $(basename "$new"))"
fi
exit "$fail"
