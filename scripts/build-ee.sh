#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The execution environment of arizu.ops (execution-environment.yml), with
# ansible-builder 3 from the pinned toolchain (.venv).
#   scripts/build-ee.sh create [DIR]          the build context (Containerfile, _build/) in DIR,
#                                             default .state/ee/context; needs no registry
#   scripts/build-ee.sh build -t TAG [OPTS]   build the image (needs the base image's registry,
#                                             Galaxy and PyPI); OPTS go to ansible-builder build
# Either way the collection is built first (ansible-galaxy collection build,
# galaxy.yml's build_ignore) into .state/ee/arizu-ops.tar.gz, which the build
# context carries.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH
action=${1:-}
shift || true
case "$action" in
  create) context=${1:-$here/.state/ee/context}; [ $# -gt 0 ] && shift ;;
  build) context=$here/.state/ee/context ;;
  *) echo "usage: scripts/build-ee.sh create [DIR] | build -t TAG [ansible-builder build options]" >&2; exit 2 ;;
esac

mkdir -p .state/ee
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
mv "$out"/arizu-ops-*.tar.gz .state/ee/arizu-ops.tar.gz

exec ansible-builder "$action" --file execution-environment.yml --context "$context" \
  --output-filename Containerfile "$@"
