#!/usr/bin/env bash
# CI for the per-host conf trees (docs/conf.md): renders every example spec, then checks that
# every generated shell file passes `bash -n` and shellcheck and that every generated YAML file
# parses. Runs from the repo root on a fresh Debian 12 machine, as root.
set -euo pipefail

eval "$(bash .ci/tools.sh)"

# A file holding `{{ ` is an Ansible template (docs/conf.md): Jinja must turn it into the same text
# with only the vault references replaced, so no stray Jinja syntax may hide in it.
check_template() {
  python3 - "$1" <<'PY'
import re, sys, jinja2
path = sys.argv[1]
text = open(path).read()
names = set(re.findall(r"\{\{ (vault_[a-z0-9_]+) \}\}", text))
env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
got = env.from_string(text).render({n: "SECRET-" + n for n in names})
want = re.sub(r"\{\{ (vault_[a-z0-9_]+) \}\}", lambda m: "SECRET-" + m.group(1), text)
if got != want:
    sys.exit(f"{path}: Jinja changes more than the vault references")
PY
}

cargo build --quiet --release --bin linkis-gen
bin=target/release/linkis-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shells=0
ymls=0
templates=0
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
  while IFS= read -r -d '' f; do
    check_template "$f"
    templates=$((templates + 1))
  done < <(grep -rlZ -F '{{ ' "$out/hosts" || true)
done
echo "conf: $shells shell files pass bash -n and shellcheck, $ymls YAML files parse," \
  "$templates Ansible-template files render to themselves plus secrets"
