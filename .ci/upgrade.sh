#!/usr/bin/env bash
# CI for upgrades between Linkis releases (issue 11). tests/upgrade.rs renders each scenario
# (1.3.2 -> 1.4.0, 1.1.3 -> 1.3.2, 1.7.0 -> 1.8.0, eureka -> nacos on 1.5.0) against the state of
# the older render and writes the trees here; then every upgrade playbook they hold is checked with
# the real tools, and one upgrade is applied for real:
#   ansible-playbook --syntax-check   changes.yml (upgrade form) and site.yml of every scenario
#   ansible-lint --offline --strict    the same playbooks and their roles (linkis_upgrade, verify)
#   (shellcheck)                       roles/linkis_upgrade/files/linkis-db-upgrade.sh
#   cargo test --test upgrade_e2e      real ansible-core and a real MariaDB: a stub 1.3.2 cluster
#                                      upgraded to a stub 1.4.0 with changes.yml, run twice;
#                                      verify against a stand-in Nacos (all listed, then two missing)
# Run from the repo root, as root, on Debian 12.
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"

step "render the scenarios (cargo test --test upgrade)"
LINKIS_GEN_UPGRADE_TREES="$work/scenarios" cargo test --release --quiet --test upgrade

export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"
mapfile -t trees < <(find "$work/scenarios" -mindepth 1 -maxdepth 1 -type d | sort)
if ((${#trees[@]} < 4)); then
  echo "expected 4 scenario trees, found ${#trees[@]}" >&2
  exit 1
fi

for tree in "${trees[@]}"; do
  name=$(basename "$tree")
  step "$name: upgrade plan"
  grep -q '^# Upgrade plan: ' "$tree/CHANGES.md"
  head -n 3 "$tree/CHANGES.md" | tail -n 1

  step "$name: ansible-playbook --syntax-check"
  (cd "$tree" && for pb in changes.yml site.yml; do
    ansible-playbook --syntax-check -i inventory/hosts.yml "$pb" >/dev/null
  done)

  step "$name: ansible-lint"
  (cd "$tree" && ansible-lint --offline --strict --nocolor -q changes.yml site.yml roles)

  step "$name: shellcheck"
  shellcheck --severity=warning "$tree/roles/linkis_upgrade/files/linkis-db-upgrade.sh"
done
shellcheck -x .ci/upgrade.sh

step "end-to-end: changes.yml upgrades a stub 1.3.2 to 1.4.0 against a real MariaDB"
cargo test --release --quiet --test upgrade_e2e -- --ignored --test-threads 1

step "done"
