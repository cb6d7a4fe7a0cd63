#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A rollback against the app's own start-and-health time, in one run:
#   raw:      docker run -d of the app image, then curl /api/health every 0.1 s until HTTP 200
#   playbook: ansible-playbook playbooks/rollback.yml (target check, history, switch of the container with
#             its configuration, health newer than the switch, record, protection tags), 1.1.0 -> 1.0.0
# Goal (issue 6): playbook wall time <= raw time + 5 s. ROUNDS (5) rounds each, medians compared; between two rounds the app is
# deployed forward again (not timed). Self-contained: its own container, network and history (BENCH_NAME,
# BENCH_PORT, BENCH_RAW_PORT), the app alone (no db/redis/n8n: it answers "degraded", HTTP 200), all
# removed at the end. Needs the local images (make images).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_CONFIG=$here/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH=$here/.state/collections
rounds=${ROUNDS:-5}
name=${BENCH_NAME:-arizu-bench-app}
port=${BENCH_PORT:-3900}
raw_port=${BENCH_RAW_PORT:-3901}
net=$name-net
v1=arizu-local/app:1.0.0 v2=arizu-local/app:1.1.0
work=$(mktemp -d)
cleanup() {
  docker rm -f "$name" "$name-previous" "$name-raw" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  docker image ls --format '{{.Repository}}:{{.Tag}}' "arizu-release/$name" | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ansible-galaxy --version >/dev/null
[ -e .state/collections/ansible_collections/arizu/ops ] || {
  mkdir -p .state/collections/ansible_collections/arizu; ln -sfn ../../../.. .state/collections/ansible_collections/arizu/ops; }

# dummy credentials (nothing listens for them), in a 0600 inventory, never on a command line
umask 077
db_pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n') rd_pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/inventory.yml" <<YML
all:
  children:
    docker_hosts:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: $here/.venv/bin/python
          app_image: $v1
          app_container_name: $name
          app_docker_network: $net
          app_published_port: $port
          app_db_password: $db_pw
          app_redis_password: $rd_pw
          app_db_host: $name-nodb
          app_redis_host: $name-noredis
          app_n8n_url: http://$name-non8n:5678
          arizu_app_url: http://127.0.0.1:$port
          arizu_release_dir: $work/releases
          release_stop_timeout: 5
YML
printf -- '- name: The app alone\n  hosts: docker_hosts\n  gather_facts: false\n  roles: [arizu.ops.app]\n' >"$work/app.yml"
play() { ansible-playbook -i "$work/inventory.yml" "$@" >"$work/play.log" 2>&1 || { tail -30 "$work/play.log"; exit 1; }; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

echo "setup: $v1 by the app role, then $v2 by deploy_app.yml"
play "$work/app.yml"
raw_times=() play_times=()
for r in $(seq 1 "$rounds"); do
  play playbooks/deploy_app.yml -e image=1.1.0
  # raw: the app image's own start to HTTP 200 on /api/health
  docker rm -f "$name-raw" >/dev/null 2>&1 || true
  t0=$(now)
  DATABASE_URL="postgresql://arizu:$db_pw@$name-nodb:5432/arizu" REDIS_URL="redis://:$rd_pw@$name-noredis:6379/0" \
    docker run -d --name "$name-raw" --network "$net" -p "127.0.0.1:$raw_port:3000" -e DATABASE_URL -e REDIS_URL \
    -e "N8N_URL=http://$name-non8n:5678" "$v1" >/dev/null
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$raw_port/api/health")" = 200 ]; do
    sleep 0.1
  done
  t1=$(now)
  raw_times+=("$(secs "$t0" "$t1")")
  docker rm -f "$name-raw" >/dev/null
  # playbook: the rollback to the previous release (1.0.0)
  t0=$(now); play playbooks/rollback.yml; t1=$(now)
  play_times+=("$(secs "$t0" "$t1")")
  version=$(curl -s "http://127.0.0.1:$port/api/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  [ "$version" = 1.0.0 ] || { echo "after the rollback the app runs $version, not 1.0.0" >&2; exit 1; }
  printf 'round %d: raw %6s s   playbook rollback %6s s   (%s)\n' "$r" "${raw_times[-1]}" "${play_times[-1]}" \
    "$(tr -s ' \n' '  ' <"$work/play.log" | grep -o '[a-z]* [0-9.]* s after the switch' | head -1)"
done
python3 - "${raw_times[*]}" "${play_times[*]}" <<'PY'
import statistics, sys
raw = [float(x) for x in sys.argv[1].split()]
play = [float(x) for x in sys.argv[2].split()]
r, p = statistics.median(raw), statistics.median(play)
print(f"median: raw {r:.2f} s, playbook rollback {p:.2f} s, difference {p - r:+.2f} s (goal: <= +5 s) -> "
      f"{'ok' if p - r <= 5 else 'OVER'}")
PY
