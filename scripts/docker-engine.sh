#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Make sure a Docker engine answers: use the one that does, or (root on Debian)
# install docker.io and start dockerd in the background. Idempotent.
#
#   scripts/docker-engine.sh            ensure the engine answers
#   scripts/docker-engine.sh --clean    ... then remove arizu containers/networks
#                                       left from an earlier run
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
state_dir=${ARIZU_STATE_DIR:-$here/.state}
log_file=$state_dir/dockerd.log
mkdir -p "$state_dir"

say() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

install_engine() {
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and this is not root: start Docker yourself (or run as root so this script can install docker.io)."
  command -v apt-get >/dev/null 2>&1 || die "no Docker engine answers and this is not a Debian-like system (no apt-get): install and start Docker yourself."
  say "installing docker.io from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >>"$log_file" 2>&1 || die "apt-get update failed (see $log_file)"
  apt-get install -y -qq docker.io >>"$log_file" 2>&1 || die "apt-get install docker.io failed (see $log_file)"
}

start_dockerd() {
  say "starting dockerd in the background (log: $log_file)"
  # /usr/bin first: a bare client elsewhere on PATH must not shadow Debian's engine.
  local dockerd_bin
  dockerd_bin=$(PATH=/usr/bin:/usr/sbin:$PATH command -v dockerd)
  nohup "$dockerd_bin" >>"$log_file" 2>&1 &
  local i
  for i in $(seq 1 60); do
    if engine_answers; then say "engine answers after ${i}s"; return 0; fi
    sleep 1
  done
  tail -n 20 "$log_file" >&2 || true
  die "dockerd did not answer within 60 s (see $log_file)"
}

clean_leftovers() {
  # Everything this project starts carries the label arizu.ops=1 (roles, demo,
  # molecule instances) or an arizu- name prefix.
  local ids
  ids=$( { docker ps -aq --filter label=arizu.ops=1; docker ps -aq --filter name=^arizu-; } | sort -u)
  if [ -n "$ids" ]; then
    say "removing $(echo "$ids" | wc -l) container(s) left from an earlier run"
    # shellcheck disable=SC2086
    docker rm -f -v $ids >/dev/null
  fi
  local nets
  nets=$( { docker network ls -q --filter label=arizu.ops=1; docker network ls -q --filter name=^arizu; } | sort -u)
  if [ -n "$nets" ]; then
    # shellcheck disable=SC2086
    docker network rm $nets >/dev/null 2>&1 || true
  fi
}

if engine_answers; then
  say "a Docker engine answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
else
  if ! PATH=/usr/bin:/usr/sbin:$PATH command -v dockerd >/dev/null 2>&1; then
    install_engine
  fi
  start_dockerd
fi

if [ "${1:-}" = "--clean" ]; then
  clean_leftovers
fi
