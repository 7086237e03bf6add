# shellcheck shell=bash
# Sourced by the .ci/<topic>.sh scripts: strict mode, the repository root as the working
# directory, the tools (.ci/tools.sh: Debian packages and the Python venv on PATH), a `step`
# that prints how long the script has run, and a scratch directory $work removed at exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
ci_start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - ci_start))"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step "tools"
eval "$(bash .ci/tools.sh)"
