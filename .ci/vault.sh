#!/usr/bin/env bash
# CI: docs/apply.md's vault procedure, followed literally on a rendered tree. The secrets go into
# inventory/group_vars/all/vault.yml, encrypted with `ansible-vault encrypt` and a vault password
# file, beside the rendered inventory/group_vars/all/main.yml. Then:
#   - the file is encrypted;
#   - Ansible loads both files: a rendered variable (linkis_version) and a secret through its
#     rendered reference (linkis_db_password -> vault_linkis_db_password) resolve for a host;
#   - site.yml, stop.yml and restart.yml pass --syntax-check with --vault-password-file.
# The local apply with an encrypted vault file made the same way is tests/apply_e2e.rs, which
# .ci/apply.sh runs.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash .ci/tools.sh)"
export ANSIBLE_NOCOLOR=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"

cargo build --release --quiet
./target/release/linkis-gen render examples/guide-50-users.yaml -o "$work/out" 2>/dev/null
cd "$work/out"
test -f inventory/group_vars/all/main.yml

# The secrets the rendered tree names (linkis_vault_variables), each with a made-up value.
python3 - inventory/group_vars/all/main.yml >"$work/secrets.yml" <<'PY'
import json, sys, yaml
for name in yaml.safe_load(open(sys.argv[1]))["linkis_vault_variables"]:
    print(f"{name}: {json.dumps('ci-' + name)}")
PY
grep -q '^vault_linkis_db_password: "ci-vault_linkis_db_password"$' "$work/secrets.yml"

# docs/apply.md, literally: a password file, the vault file written beside main.yml, then
# `ansible-vault encrypt` in place (`ansible-vault create` is the same with an editor, and
# refuses to run without a terminal).
printf '%s\n' 'ci-vault-password' >"$work/vault-pass"
chmod 0600 "$work/vault-pass"
cp "$work/secrets.yml" inventory/group_vars/all/vault.yml
ansible-vault encrypt --vault-password-file "$work/vault-pass" inventory/group_vars/all/vault.yml
[[ $(head -n 1 inventory/group_vars/all/vault.yml) == "\$ANSIBLE_VAULT;"* ]]
if grep -q 'ci-vault_linkis_db_password' inventory/group_vars/all/vault.yml; then
  echo "vault.yml is not encrypted" >&2
  exit 1
fi

host=$(ansible-inventory -i inventory/hosts.yml --vault-password-file "$work/vault-pass" --list | python3 -c \
  'import json, sys; print(sorted(json.load(sys.stdin)["linkis"]["hosts"])[0])')
got=$(ansible -i inventory/hosts.yml "$host" -c local --vault-password-file "$work/vault-pass" \
  -m ansible.builtin.debug -a 'msg={{ linkis_version }}|{{ linkis_db_password }}' | tr -d '\n ')
case "$got" in
  *'"msg":"1.'*'|ci-vault_linkis_db_password"'*) echo "vars and vault both loaded: $got" ;;
  *)
    echo "group_vars/all/ not loaded as documented: $got" >&2
    exit 1
    ;;
esac

for pb in site.yml stop.yml restart.yml; do
  ansible-playbook -i inventory/hosts.yml "$pb" --syntax-check --vault-password-file "$work/vault-pass" >/dev/null
done
echo "syntax-check with the encrypted vault file: ok"
