#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The official postgres image's entrypoint contract, in short. The password
# reaches initdb through a file descriptor, never through process arguments.
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u +%FT%TZ)" "$*"; }

if [ "${1:-}" = "postgres" ] || [ "${1:0:1}" = "-" ]; then
  [ "${1:0:1}" = "-" ] && set -- postgres "$@"

  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 0700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi

  : "${POSTGRES_DB:=$POSTGRES_USER}"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != "trust" ]; then
      log "ERROR: the database is uninitialized and POSTGRES_PASSWORD is not set." >&2
      log "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust for throwaway use)." >&2
      exit 1
    fi
    log "initialising $PGDATA"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
      --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
      ${POSTGRES_INITDB_ARGS:-} >/dev/null
    {
      echo "listen_addresses = '*'"
      echo "shared_preload_libraries = 'pg_stat_statements'"
      echo "pg_stat_statements.track = all"
    } >> "$PGDATA/postgresql.conf"
    echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"

    # A temporary server on the socket only, for the database and init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
    if [ "$POSTGRES_DB" != "postgres" ]; then
      "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" -q <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
      [ -e "$f" ] || continue
      case "$f" in
        *.sh)  log "running $f"; . "$f" ;;
        *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -q -f "$f" ;;
        *)     log "ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    log "initialisation complete"
  fi
fi

exec "$@"
