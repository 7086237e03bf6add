#!/usr/bin/env bash
# CI for the per-host conf trees (docs/conf.md): renders every example spec, then checks that
# every generated shell file passes `bash -n` and shellcheck and that every generated YAML file
# parses. Runs from the repo root on a fresh Debian 12 machine, as root.
set -euo pipefail

if ! command -v shellcheck >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq shellcheck python3-yaml >/dev/null
fi

cargo build --quiet --release --bin linkis-gen
bin=target/release/linkis-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shells=0
ymls=0
for spec in examples/*.yaml; do
  out="$work/$(basename "$spec" .yaml)"
  if ! "$bin" render "$spec" -o "$out" >"$work/render.log" 2>&1; then
    cat "$work/render.log" >&2
    exit 1
  fi
  while IFS= read -r -d '' f; do
    bash -n "$f"
    shellcheck --severity=style "$f"
    shells=$((shells + 1))
  done < <(find "$out" -type f -name '*.sh' -print0)
  while IFS= read -r -d '' f; do
    python3 -c 'import sys, yaml; [yaml.safe_load(open(p)) for p in sys.argv[1:]]' "$f"
    ymls=$((ymls + 1))
  done < <(find "$out" -type f \( -name '*.yml' -o -name '*.yaml' \) -print0)
done
echo "conf: $shells shell files pass bash -n and shellcheck, $ymls YAML files parse"
