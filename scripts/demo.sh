#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# make demo: virtualenv, Docker engine, local images, the stack deployed with
# playbooks/site.yml, then a table of every component's health measured by
# arizu.ops.health_check, and the time each phase took.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_CONFIG=$here/ansible.cfg

phases=()
phase() {  # phase NAME CMD...
  local name=$1 start=$SECONDS; shift
  printf '\n== %s\n' "$name"
  "$@"
  phases+=("$(printf '%-22s %4d s' "$name" $((SECONDS - start)))")
}

# Everything the demo prints is kept, and checked for the seeded secrets at the end.
log=$here/.state/logs/demo.log
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1

total_start=$SECONDS
phase "virtualenv" scripts/setup-venv.sh
phase "docker engine" scripts/docker-engine.sh
phase "images" scripts/build-images.sh
phase "secrets" scripts/demo-secrets.sh
phase "deploy (site.yml)" ansible-playbook -i inventories/local playbooks/site.yml
phase "health" ansible-playbook -i inventories/local playbooks/health_report.yml

printf '\n== phase times\n'
printf '%s\n' "${phases[@]}"
printf '%-22s %4d s\n' "total" $((SECONDS - total_start))
printf '\n'
scripts/check-no-secrets.sh "$log"
