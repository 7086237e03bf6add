#!/usr/bin/env bash
# CI for issue 21 ("change plans tell the whole truth"):
#   1. every `ansible-playbook` command printed in README.md, docs/*.md and the generated files
#      (every playbook's and the inventory's header comments, ansible.cfg, CHANGES.md) runs
#      as printed: from the tree's directory (`cd out && ...`, so its ansible.cfg is read), with the
#      vault option, which is replaced by a password file this script makes (the tree has an
#      encrypted inventory/group_vars/all/vault.yml, as docs/apply.md says), plus --syntax-check;
#   2. tests/record_gate.rs: applied.json is written only by a whole run that reached every host
#      and failed nowhere (real ansible-playbook against this machine).
# Run from the repo root on Debian 12.
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"

step "build"
cargo build --release --quiet
bin="$PWD/target/release/linkis-gen"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"

step "render a running cluster's change (guide-50 plus one host): CHANGES.md and changes.yml"
out="$work/out"
cp examples/guide-50-users.yaml "$work/cluster.yaml"
"$bin" render "$work/cluster.yaml" -o "$out" >/dev/null 2>&1
cp "$out/.linkis-gen/state.json" "$out/.linkis-gen/applied.json"
printf '  - { name: s5, address: 10.0.1.5 }\n' >>"$work/cluster.yaml"
"$bin" render "$work/cluster.yaml" -o "$out" >/dev/null 2>&1
test -f "$out/CHANGES.md" && test -f "$out/changes.yml"

# The vault: every variable the tree names, encrypted with a password file.
printf 'ci-vault-password\n' >"$work/vault-pass"
python3 - "$out/inventory/group_vars/all/main.yml" >"$out/inventory/group_vars/all/vault.yml" <<'PY'
import sys, yaml
names = yaml.safe_load(open(sys.argv[1])).get("linkis_vault_variables") or []
for n in names:
    print(f"{n}: ci-value")
PY
ansible-vault encrypt --vault-password-file "$work/vault-pass" "$out/inventory/group_vars/all/vault.yml" >/dev/null

step "every printed ansible-playbook command, as printed (--syntax-check)"
# One command per line: FILE<TAB>COMMAND. A line that starts (after a comment mark, `$`, or
# `cd out &&`) with `ansible-playbook`; a trailing `\` joins the next line; a trailing comment
# is dropped.
python3 - README.md docs/*.md "$out/CHANGES.md" "$out"/*.yml "$out/inventory/hosts.yml" \
  "$out/ansible.cfg" >"$work/commands" <<'PY'
import re, sys
for path in sys.argv[1:]:
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines):
        line = re.sub(r"^\s*#\s*", "", lines[i]).strip()
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1].rstrip() + " " + re.sub(r"^\s*#\s*", "", lines[i]).strip()
        i += 1
        line = re.sub(r"^(cd (out|OUT) && )", "", line)
        if not line.startswith("ansible-playbook "):
            continue
        line = re.sub(r"\s+#\s.*$", "", line)
        print(f"{path}\t{line}")
PY
n=0
while IFS=$'\t' read -r file cmd; do
  n=$((n + 1))
  case " $cmd " in
    *" --ask-vault-pass "* | *" --vault-password-file "*) ;;
    *)
      echo "$file: printed without the vault option: $cmd" >&2
      exit 1
      ;;
  esac
  case "$cmd" in
    *" out/"*)
      echo "$file: runs the tree from outside it (its ansible.cfg is not read): $cmd" >&2
      exit 1
      ;;
  esac
  read -r -a args <<<"${cmd#ansible-playbook }"
  run=()
  for a in "${args[@]}"; do
    if [ "$a" = "--ask-vault-pass" ]; then
      run+=(--vault-password-file "$work/vault-pass")
    else
      run+=("$a")
    fi
  done
  # From the tree's directory, as printed; a removed host is added at run time (add_host), which
  # Ansible only warns about.
  if ! (cd "$out" && ansible-playbook --syntax-check "${run[@]}" >"$work/last.log" 2>&1); then
    echo "$file: fails as printed: $cmd" >&2
    cat "$work/last.log" >&2
    exit 1
  fi
  echo "ok  ${file#"$work"/}: $cmd"
done <"$work/commands"
if ((n < 15)); then
  echo "expected at least 15 printed commands, found $n" >&2
  exit 1
fi

if [ "${TRUTH_SKIP_RECORD:-}" != 1 ]; then
  step "applied.json only after a whole run (cargo test --test record_gate)"
  cargo test --release --quiet --test record_gate -- --ignored
fi

shellcheck -x .ci/truth.sh
step "done"
