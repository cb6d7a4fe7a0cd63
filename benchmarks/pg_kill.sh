#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# 200 long sessions ended by arizu.ops.pg_activity (one playbook run) against
# the runbook's raw SQL through psql, in the same run, on a throwaway Postgres
# container (benchmarks/pg_kill.py says how). Prints each round, the medians,
# the ratio (goal <= 5) and the playbook's wall time (goal <= 5 s).
# SESSIONS=200 ROUNDS=3 by default. Needs the images (make setup).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_CONFIG=$here/ansible.cfg
scripts/docker-engine.sh >/dev/null
exec "$here/.venv/bin/python" benchmarks/pg_kill.py
