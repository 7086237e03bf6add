#!/usr/bin/env bash
# CI for the front door and the hosts' firewall (issue 22 VIP, issue 23 TLS and firewall), with
# the real tools. Run from the repo root, as root, on Debian 12.
#
#   nginx -t             the site of every example, plain and with TLS (every-field.yaml), with
#                        the certificate files the site names made by openssl
#   nft -c -f            every rendered hosts/<host>/nftables/linkis.nft (inside unshare -n:
#                        nft -c needs CAP_NET_ADMIN; nothing touches this machine's rules)
#   keepalived -t        (in tests/front.rs) every rendered keepalived.conf
#   systemd-analyze verify  the firewall role's unit
#   (shellcheck)         the track script and this script
#   ansible-lint --profile production  the every-field tree (firewall and keepalived roles)
#   cargo test --test front -- --ignored
#                        real nginx on loopback with a test CA (https reaches a stub gateway,
#                        http only redirects, TLS 1.1 refused, headers, websocket upgrade);
#                        real nftables in network namespaces (a cluster host and allow_from reach
#                        Linkis ports, an outsider is refused, ssh and the web front stay open);
#                        keepalived -t and the track script run as keepalived_script; two web
#                        hosts in netns on a bridge with nginx, stub gateways and real keepalived:
#                        the VIP answers, the master's nginx stops, the VIP moves, requests work
# shellcheck source=.ci/lib.sh
. "$(dirname "$0")/lib.sh"

step "build"
cargo build --release --quiet
bin="$PWD/target/release/linkis-gen"
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$work/.ansible-tmp"

# The user the role creates for keepalived's track script (Debian's package does not).
id keepalived_script >/dev/null 2>&1 \
  || useradd --system --no-create-home --shell /usr/sbin/nologin keepalived_script

out="$work/every-field"
step "render examples/every-field.yaml"
"$bin" render examples/every-field.yaml -o "$out" 2>/dev/null

step "every-field: nginx -t (TLS, redirect, headers)"
mkdir -p "$work/nginx"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ci -keyout "$work/nginx/key.pem" \
  -out "$work/nginx/cert.pem" 2>/dev/null
sed -e "s|ssl_certificate /[^;]*;|ssl_certificate $work/nginx/cert.pem;|" \
  -e "s|ssl_certificate_key /[^;]*;|ssl_certificate_key $work/nginx/key.pem;|" \
  "$out/nginx/linkis.conf" >"$work/nginx/site.conf"
cat >"$work/nginx/nginx.conf" <<NGINX
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
    access_log off;
    include $work/nginx/site.conf;
}
NGINX
nginx -t -q -c "$work/nginx/nginx.conf"

step "every-field: nft -c on every host's table"
n=0
for f in "$out"/hosts/*/nftables/linkis.nft; do
  unshare -n nft -c -f "$f"
  n=$((n + 1))
done
echo "$n tables checked"
[ "$n" -eq 4 ]

step "every-field: systemd-analyze verify, shellcheck"
systemd-analyze verify "$out/roles/linkis_firewall/files/linkis-nftables.service"
shellcheck -x .ci/front.sh
# As .ci/apply.sh checks rendered scripts: the probes' single-quoted bash -c bodies are SC2016 info.
shellcheck --severity=warning "$out/roles/linkis_keepalived/files/linkis-front-check.sh"

step "every-field: ansible-playbook --syntax-check, ansible-lint --profile production"
(
  cd "$out"
  ansible-playbook -i inventory/hosts.yml --syntax-check site.yml >/dev/null
  ansible-lint --offline --strict --nocolor -q --profile production site.yml roles
)

step "cargo test --test front -- --ignored (real nginx, nftables in netns, keepalived)"
cargo test --release --quiet --test front -- --ignored

step "done"
