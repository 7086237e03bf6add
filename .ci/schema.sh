#!/usr/bin/env bash
# The JSON Schema that `linkis-gen schema` prints, checked by a real JSON Schema validator
# (check-jsonschema, from the venv of .ci/tools.sh): it accepts every example and every valid test
# spec (service aliases, number and boolean override values) and rejects specs whose mistake is
# one of shape (unknown key, wrong type, unknown service or release, literal password, bare size).
# Runs from the repo root; a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/tools.sh)"
bin=${LINKIS_GEN_BIN:-target/release/linkis-gen}
[ -n "${LINKIS_GEN_BIN:-}" ] || cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" schema >"$tmp/schema.json"
valid=(examples/*.yaml tests/specs/*.yaml)
check-jsonschema --schemafile "$tmp/schema.json" "${valid[@]}"
echo "schema accepts the ${#valid[@]} examples and valid test specs"

for bad in unknown-key wrong-type unknown-service unsupported-version literal-password bare-size \
  unquoted-version wrong-section-types missing-section; do
  if check-jsonschema --schemafile "$tmp/schema.json" "tests/bad/$bad.yaml" >"$tmp/out" 2>&1; then
    echo "the schema accepts tests/bad/$bad.yaml" >&2
    exit 1
  fi
  grep -q "Schema validation errors" "$tmp/out" || { cat "$tmp/out" >&2; exit 1; }
done
echo "schema rejects the 9 shape mistakes of tests/bad/"

# The releases the schema allows are exactly the ones linkis-gen accepts.
# shellcheck disable=SC2016 # `$defs` is a JSON key, not a shell variable.
mapfile -t releases < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["$defs"]["LinkisVersion"]["enum"]))' "$tmp/schema.json")
[ "${#releases[@]}" -ge 10 ] || { echo "schema lists ${#releases[@]} releases" >&2; exit 1; }
for r in "${releases[@]}"; do
  "$bin" init --users 5 --version "$r" >/dev/null
done
if "$bin" init --users 5 --version 1.1.0 >/dev/null 2>&1; then
  echo "1.1.0 is not in the schema but init accepts it" >&2
  exit 1
fi
echo "schema lists ${#releases[@]} releases, each accepted by init: ${releases[*]}"
