#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# make test: the whole suite on real containers.
#   1. virtualenv, Docker engine (leftovers from earlier runs removed), images
#   2. fresh random test secrets (molecule/shared/group_vars/all/secrets.yml)
#   3. pytest: unit tests, the Molecule scenarios, collection build + ansible-doc
#   4. no seeded secret may appear in any output or log of the run
# `scripts/test.sh unit|molecule|collection` runs one part of step 3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_CONFIG=$here/ansible.cfg
log_dir=$here/.state/logs
mkdir -p "$log_dir"
run_log=$log_dir/test-run.log

part=${1:-all}
case "$part" in
  all) targets=(tests) ;;
  unit) targets=(tests/unit) ;;
  molecule) targets=(tests/integration/test_molecule.py) ;;
  collection) targets=(tests/integration/test_collection.py) ;;
  *) echo "usage: scripts/test.sh [all|unit|molecule|collection]" >&2; exit 2 ;;
esac

scripts/setup-venv.sh
scripts/install-test-deps.sh   # chromium, for the HTML report test
if [ "$part" != unit ]; then
  scripts/docker-engine.sh --clean
  scripts/build-images.sh
fi
secrets_file=$here/molecule/shared/group_vars/all/secrets.yml
rm -f "$secrets_file"
scripts/demo-secrets.sh "$secrets_file"

status=0
pytest -ra "${targets[@]}" 2>&1 | tee "$run_log" || status=$?

# The run's own output, every log it wrote, and any report must be free of
# the seeded secrets (this run's and, when present, the demo's).
scripts/check-no-secrets.sh "$run_log" "$log_dir" "$here/.state/reports" || status=1
exit "$status"
