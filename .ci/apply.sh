#!/usr/bin/env bash
# CI for the apply side (issue 5): renders the reference layouts and a 1.1.3 two-server spec, then
# checks the rendered trees with the real tools, and applies a rendered playbook with real
# ansible-core to this machine (tests/apply_e2e.rs). Run from the repo root, as root, on Debian 12.
#
#   ansible-playbook --syntax-check   site.yml, stop.yml, restart.yml (with the rendered inventory)
#   ansible-lint --offline --strict    the playbooks and roles: zero violations, zero warnings
#   systemd-analyze verify             every unit, per host (same-host After=/Wants= resolve);
#                                      ExecStart runs /bin/bash, which exists, so the executable
#                                      check is real; the Linkis script it runs is not installed here
#   nginx -t                           nginx/linkis.conf included from a minimal nginx.conf
#   (shellcheck)                       every rendered *.sh, and this script
#   cargo test --test apply_e2e        site.yml applied twice (second run changed=0), and the
#                                      verify phase against a stand-in Eureka
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"
first_line() { local v; v=$("$@" 2>&1); printf '%s\n' "${v%%$'\n'*}"; }
first_line ansible-playbook --version
(cd "$work" && first_line ansible-lint --nocolor --version) # it leaves .ansible/ in its cwd
first_line systemd-analyze --version
first_line nginx -v
first_line shellcheck --version

step "build"
cargo build --release --quiet
bin="$PWD/target/release/linkis-gen"

export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"

specs=(examples/guide-*.yaml examples/two-server-1.1.3.yaml examples/single-node-1.8.0-nacos-redis.yaml examples/production-1.4.0.yaml)
for spec in "${specs[@]}"; do
  name=$(basename "$spec" .yaml)
  out="$work/$name"
  step "render $spec"
  "$bin" render "$spec" -o "$out" 2>/dev/null

  step "$name: ansible-playbook --syntax-check"
  (
    cd "$out"
    for pb in site.yml stop.yml restart.yml adopt.yml rotate-tokens.yml; do
      ansible-playbook --syntax-check -i inventory/hosts.yml "$pb" >/dev/null
    done
    ansible-inventory -i inventory/hosts.yml --graph >/dev/null
  )

  step "$name: ansible-lint"
  (cd "$out" && ansible-lint --offline --strict --nocolor -q site.yml stop.yml restart.yml adopt.yml rotate-tokens.yml roles)

  step "$name: systemd-analyze verify"
  units=0
  for dir in "$out"/hosts/*/systemd; do
    msgs=$(cd "$dir" && systemd-analyze verify ./*.service 2>&1) || {
      echo "$msgs"
      exit 1
    }
    if [ -n "$msgs" ]; then
      echo "$dir: $msgs"
      exit 1
    fi
    units=$((units + $(find "$dir" -name '*.service' | wc -l)))
  done
  echo "$units units verified"

  step "$name: nginx -t"
  mkdir -p "$work/nginx-$name"
  cat >"$work/nginx-$name/nginx.conf" <<NGINX
pid $work/nginx-$name/nginx.pid;
error_log $work/nginx-$name/error.log;
events {}
http {
    access_log off;
    include $out/nginx/linkis.conf;
}
NGINX
  nginx -t -q -c "$work/nginx-$name/nginx.conf"

  step "$name: shellcheck"
  mapfile -t scripts < <(find "$out" -name '*.sh' | sort)
  if ((${#scripts[@]})); then
    shellcheck --severity=warning "${scripts[@]}"
  fi
  echo "${#scripts[@]} scripts checked"
done
shellcheck -x .ci/apply.sh .ci/lib.sh

step "end-to-end: real ansible-core applies site.yml to this machine"
cargo test --release --quiet --test apply_e2e -- --ignored --test-threads 1

step "done"
