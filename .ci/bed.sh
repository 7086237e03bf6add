#!/usr/bin/env bash
# CI for the multi-host test bed (issue 13, tests/bed/README.md): real ansible-playbook over real
# ssh to four simulated hosts (network + mount namespaces, one sshd each), a real MariaDB, a fake
# Linkis. Runs the bed's scenarios through cargo test (tests/bed.rs). Root, Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
eval "$(bash .ci/tools.sh)"
cargo build --release --quiet
# A bed an interrupted run left behind (namespaces, bridge, processes) goes first.
tests/bed/run.sh --teardown
cargo test --release --quiet --test bed -- --ignored --test-threads 1 --nocapture
echo "bed: $(($(date +%s) - start))s"
