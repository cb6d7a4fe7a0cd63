#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Triage speed, measured in one run against the raw tools:
#   1. the runbook's manual sequence (curl | jq for health and details, docker
#      ps, docker stats, docker logs, df) against playbooks/triage.yml on the
#      demo stack: wall times and their ratio;
#   2. the triage of 1, 5 and 20 Docker hosts (containers of the managed-host
#      image reached with the community.docker.docker connection, all sharing
#      this engine and the demo stack), to show hosts are probed in parallel.
# Needs the demo stack up (make demo). Traffic stays on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_CONFIG=$here/ansible.cfg
. scripts/images.env
command -v jq >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq jq >/dev/null; }
work=$(mktemp -d)
trap 'docker rm -f $(docker ps -aq --filter label=arizu.ops.bench=1) >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
app=http://127.0.0.1:3000 n8n=http://127.0.0.1:5678
# local status pages: no traffic leaves the machine
externals='[{"name": "stripe", "url": "http://127.0.0.1:9/status.json"}]'

raw_sequence() {
  curl -s "$app/api/health" | jq '.' >/dev/null
  curl -s "$app/api/health?detailed=true" | jq '.details.db' >/dev/null
  curl -s "$app/api/health?detailed=true" | jq '.details.redis' >/dev/null
  curl -s "$app/api/health?detailed=true" | jq '.details.n8n' >/dev/null
  curl -s -o /dev/null "$n8n/healthz"; curl -s -o /dev/null "$n8n/healthz/readiness"
  docker ps --filter name=arizu- >/dev/null
  docker stats --no-stream arizu-app arizu-n8n arizu-postgres arizu-redis >/dev/null
  for c in arizu-app arizu-n8n arizu-postgres arizu-redis; do docker logs --tail 30 "$c" >/dev/null 2>&1; done
  df -h /var/lib/docker >/dev/null
  for i in $(seq 1 20); do curl -s -o /dev/null "$app/api/ping"; done
}

triage() {  # triage INVENTORY
  ansible-playbook -i "$1" playbooks/triage.yml -e "{\"triage_externals\": $externals}" \
    -e "triage_report_dir=$work/reports" -e triage_incident_id=BENCH >"$work/triage.log" 2>&1 \
    || { tail -30 "$work/triage.log"; exit 1; }
}

curl -sf -o /dev/null "$app/api/health" || { echo "the demo stack does not answer on $app: run make demo first" >&2; exit 1; }
t0=$(now); raw_sequence; t1=$(now)
triage inventories/local; t2=$(now)
raw=$(secs "$t0" "$t1"); play=$(secs "$t1" "$t2")
echo "== triage of the demo stack (one Docker host)"
printf '%-42s %8s s\n' "raw curl/jq/docker sequence" "$raw" "playbooks/triage.yml" "$play"
python3 -c "print(f'{\"ratio triage / raw\":42s} {$play / $raw:8.2f}')"
grep -o 'SEVERITY [A-Za-z0-9]*' "$work/triage.log" | head -1

# Docker hosts as containers: each runs the modules through docker exec and
# reaches the engine through the mounted socket and the stack on loopback.
make_hosts() {  # make_hosts N -> inventory path
  local n=$1 inv=$work/hosts-$1.yml i
  docker rm -f $(docker ps -aq --filter label=arizu.ops.bench=1) >/dev/null 2>&1 || true
  { echo "all:"; echo "  children:"; echo "    docker_hosts:"; echo "      hosts:"; } >"$inv"
  for i in $(seq 1 "$n"); do
    docker run -d --name "arizu-bench-host-$i" --label arizu.ops.bench=1 --label arizu.ops=1 --network host \
      -v /var/run/docker.sock:/var/run/docker.sock "$MANAGED_HOST_IMAGE" sleep infinity >/dev/null
    echo "        arizu-bench-host-$i: {ansible_connection: community.docker.docker, ansible_python_interpreter: /usr/bin/python3}" >>"$inv"
  done
  sed "s|^|  |" inventories/local/group_vars/all/main.yml | grep -v -- '---' | sed '1i\  vars:' >>"$inv"
  echo "$inv"
}

echo "== triage of N Docker hosts (forks=25)"
for n in 1 5 20; do
  inv=$(make_hosts "$n")
  t0=$(now); triage "$inv"; t1=$(now)
  printf '%-42s %8s s\n' "$n host(s)" "$(secs "$t0" "$t1")"
done
