# SPDX-License-Identifier: GPL-3.0-or-later
"""Hold PostgreSQL sessions open for the remediation scenario, until killed (or 15 min).

  hold_sessions.py APP LONG IDLE_TX PIDFILE

opens LONG connections running ``SELECT pg_sleep(600)`` and IDLE_TX connections
left idle in a transaction, all with application_name APP, writes its own pid
to PIDFILE once every session is in place, then sleeps. Connection settings come
from the environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE), so the
password is never on a command line.
"""
import os
import select
import sys
import time

import psycopg2
import psycopg2.extensions


def wait(conn):
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        fds = ([conn.fileno()], [], []) if state == psycopg2.extensions.POLL_READ else ([], [conn.fileno()], [])
        select.select(*fds, 10)


def main():
    app, long_count, idle_count, pidfile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    held = []
    for _index in range(long_count):
        conn = psycopg2.connect(application_name=app, async_=True)
        wait(conn)
        conn.cursor().execute("SELECT pg_sleep(600)")
        held.append(conn)
    for _index in range(idle_count):
        conn = psycopg2.connect(application_name=app)
        conn.cursor().execute("SELECT 1")  # psycopg2 opened a transaction: now idle in it
        held.append(conn)
    with open(pidfile, "w", encoding="ascii") as fh:
        fh.write(str(os.getpid()))
    time.sleep(900)


if __name__ == "__main__":
    main()
