#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `redis-server` alone: write a config from the environment (REDIS_PASSWORD,
# required unless ALLOW_EMPTY_PASSWORD=yes; AOF on) so the password never sits
# in process arguments. `redis-server /path/redis.conf ...`: run as given, like
# the official image. Either way the server runs as the redis user.
set -Eeuo pipefail

if [ "${1:-}" = "redis-server" ] || [ "${1:0:1}" = "-" ]; then
  [ "${1:0:1}" = "-" ] && set -- redis-server "$@"
  if [ "$(id -u)" = 0 ]; then
    find /data \! -user redis -exec chown redis:redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  if [ $# -eq 1 ]; then
    conf=/tmp/redis.conf
    umask 077
    {
      echo "bind * -::*"
      echo "protected-mode no"
      echo "dir /data"
      echo "appendonly yes"
      echo "appendfsync everysec"
      if [ -n "${REDIS_PASSWORD:-}" ]; then
        pw=${REDIS_PASSWORD//\\/\\\\}   # escape \ and " for the config's quoted string
        pw=${pw//\"/\\\"}
        printf 'requirepass "%s"\n' "$pw"
      elif [ "${ALLOW_EMPTY_PASSWORD:-no}" != "yes" ]; then
        echo "ERROR: set REDIS_PASSWORD (or ALLOW_EMPTY_PASSWORD=yes for throwaway use)" >&2
        exit 1
      fi
    } > "$conf"
    set -- redis-server "$conf"
  fi
fi

exec "$@"
