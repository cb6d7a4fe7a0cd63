# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # PostgreSQL connection options of the arizu.ops modules
    # (plugins/module_utils/postgres_common.py), named as community.postgresql names them.
    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or IP address of the PostgreSQL server.
      - When neither O(login_host) nor O(login_unix_socket) is set, libpq's default applies
        (the C(PGHOST) environment variable, else the local Unix socket).
      - If you have connection issues when using C(localhost), try C(127.0.0.1) instead.
    type: str
    aliases: [host]
  login_port:
    description:
      - Port of the PostgreSQL server.
    type: int
    default: 5432
    aliases: [port]
  login_user:
    description:
      - Role the module connects as.
      - To end other roles' sessions it needs to be a superuser, a member of C(pg_signal_backend)
        (never enough for a superuser's session), or a member of the session's role.
    type: str
    default: postgres
    aliases: [login]
  login_password:
    description:
      - Password of O(login_user).
      - Without it libpq may still find one in C(PGPASSWORD) or the C(~/.pgpass) file.
      - Never logged, never shown in a message.
    type: str
  login_db:
    description:
      - Database the module connects to. Any database works, as C(pg_stat_activity) shows the
        sessions of all databases.
      - Defaults to libpq's default, a database named like the user.
      - With O(dsn), overrides the DSN's C(dbname).
    type: str
    aliases: [db]
  login_unix_socket:
    description:
      - Directory of the server's Unix domain socket, for example C(/var/run/postgresql), used
        when O(login_host) is not set.
    type: str
    aliases: [unix_socket]
  ssl_mode:
    description:
      - Whether and how an SSL/TLS connection is negotiated.
      - When not set, libpq's default applies (C(prefer), or C(PGSSLMODE), or the DSN's C(sslmode)).
      - See U(https://www.postgresql.org/docs/current/libpq-ssl.html) for the modes.
    type: str
    choices: [allow, disable, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - File with the certificate authorities that the server certificate must be signed by
        (for O(ssl_mode=verify-ca) and O(ssl_mode=verify-full)).
    type: path
    aliases: [ssl_rootcert]
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established; V(0) waits forever.
      - With O(dsn), used only when the DSN sets no C(connect_timeout).
    type: int
    default: 10
  dsn:
    description:
      - A libpq connection string (C(host=db.example.com port=5432 dbname=app user=ops))
        or URI (C(postgresql://ops:secret@db.example.com:5432/app?sslmode=require)) instead of
        the O(login_host), O(login_port), O(login_user), O(login_password) and O(login_unix_socket)
        options, which cannot be combined with it.
      - O(login_db), O(ssl_mode) and O(ca_cert) still apply on top of the DSN when set.
      - Treated as a secret; never logged, never shown in a message, also when it is malformed.
    type: str
notes:
  - The module connects once, with C(psycopg2), and sets C(application_name) to the module's
    name (for example C(arizu.ops.pg_activity)) so its own session is easy to recognise.
  - The password reaches libpq in memory only; it is never put on a command line.
requirements:
  - psycopg2 (C(psycopg2) or C(psycopg2-binary)) on the host that runs the module
"""
