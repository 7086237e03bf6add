#!/usr/bin/env bash
# CI for keeping a running cluster (issue 22, helper "keep"): database backups, status.yml and the
# Mermaid picture in PLAN.md. Run from the repo root, as root, on Debian 12.
#
#   render + real tools     backup.yml and the backup role: ansible-playbook --syntax-check and
#                           ansible-lint --profile production; the dump script: shellcheck; the
#                           timer and service: systemd-analyze verify, and the schedule through
#                           systemd-analyze calendar
#   cargo test backup_e2e   a real MariaDB and a real PostgreSQL server: backup.yml dumps, the
#                           restore commands of docs/operations.md bring the rows back, keep-count
#                           pruning; PostgreSQL: the 1.8 bootstrap and a second run that touches nothing
#   status.yml              ansible-playbook --syntax-check and ansible-lint --profile production
#   cargo test plan_topology  PLAN.md's Mermaid flowchart of the five guide layouts, parsed by
#                           Mermaid's own parser (npm mermaid + jsdom, installed into a scratch dir,
#                           never the repository)
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"

step "build"
cargo build --release --quiet
bin="$PWD/target/release/linkis-gen"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"

printf 'version: 1\ncluster: { name: pg, linkis_version: "1.8.0", package: files/l.tar.gz }\ndatabase: { type: postgresql, host: 10.0.0.9, name: linkis, user: linkis, password: { vault: vault_linkis_db_password } }\nsizing: { concurrent_users: 2, engines: { spark: { memory: 1G } } }\nhost_defaults: { memory: 64G, cores: 8 }\nhosts: [ { name: s1, address: 10.0.0.1 } ]\nbackup: { schedule: "Mon..Fri 01:00" }\n' >"$work/pg-1.8.0.yaml"
for spec in examples/every-field.yaml "$work/pg-1.8.0.yaml"; do
  name=$(basename "$spec" .yaml)
  out="$work/$name"
  step "$name: render, backup.yml and roles/linkis_backup"
  "$bin" render "$spec" -o "$out" 2>/dev/null
  (
    cd "$out"
    ansible-playbook --syntax-check -i inventory/hosts.yml backup.yml >/dev/null
    ansible-playbook --syntax-check -i inventory/hosts.yml status.yml >/dev/null
    ansible-lint --offline --strict --nocolor -q --profile production backup.yml status.yml roles/linkis_backup
  )
  shellcheck --severity=style "$out/backup/linkis-db-backup.sh"
  (cd "$out/backup" && systemd-analyze verify ./linkis-db-backup.service ./linkis-db-backup.timer)
  schedule=$(sed -n 's/^OnCalendar=//p' "$out/backup/linkis-db-backup.timer")
  systemd-analyze calendar "$schedule" >/dev/null
  echo "OnCalendar=$schedule parses"
done

step "backup_e2e (real MariaDB and PostgreSQL)"
cargo test --release --quiet --test backup_e2e -- --ignored --test-threads=1

step "npm install mermaid jsdom (into a scratch dir)"
node --version
npm install --prefix "$work/mermaid" --no-audit --no-fund --silent mermaid@11 jsdom >/dev/null
step "plan_topology (Mermaid's parser on PLAN.md of the five guide layouts)"
MERMAID_MODULES="$work/mermaid" cargo test --release --quiet --test plan_topology -- --include-ignored

step "done"
