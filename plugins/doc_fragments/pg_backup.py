# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Options shared by arizu.ops.pg_backup and arizu.ops.pg_restore
    # (plugins/module_utils/pg_backup_tool.py).
    DOCUMENTATION = r"""
options:
  container:
    description:
      - Name of the Postgres container (container mode, when O(client_image) is not set).
      - The tools run in a short-lived container made from this container's own image (its image ID, so
        pg_dump, pg_restore and psql are exactly the server's version), joined to its network namespace,
        so they reach the server on C(127.0.0.1):O(port) as a process inside it would.
    type: str
    default: arizu-postgres
  port:
    description: Port the server listens on (inside the Postgres container, or on O(client_host)).
    type: int
    default: 5432
  user:
    description: Role the tools connect as. A backup needs to read every table; a restore creates, renames and drops databases.
    type: str
    default: postgres
  password:
    description:
      - Password of O(user). Reaches the tools only as C(PGPASSWORD) in the environment of each C(exec), never in a
        command line, the tool container's configuration, a message or the result.
      - In container mode, when not set, the Postgres container's own C(POSTGRES_PASSWORD) is used (official image
        contract); a server that trusts local connections needs none.
    type: str
  database:
    description: The database to back up, or to restore into.
    type: str
    required: true
  maintenance_db:
    description:
      - Database the tools connect to for CREATE, RENAME and DROP DATABASE (scratch databases, the swap of a restore).
    type: str
    default: postgres
  client_image:
    description:
      - Client mode (a managed Postgres reached over the network) - the image the tools run from.
      - Its pg_dump must have the server's major version; the module checks this before writing anything.
      - The image must be on the Docker host already (it is not pulled).
    type: str
  client_network:
    description: Client mode - the Docker network of the tool container (V(host) reaches ports published on the Docker host).
    type: str
    default: bridge
  client_host:
    description: Client mode - host name or address of the Postgres server. Required with O(client_image).
    type: str
  ssl_mode:
    description: libpq's C(sslmode) (C(PGSSLMODE)) of the tools' connections; libpq's default when not set.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  backup_dir:
    description:
      - Folder of the backups on the Docker host (absolute path). Created with mode C(0700) when missing.
      - Bind-mounted into the tool container at the same path, so the Docker engine must see the module's
        file system (the module runs on the Docker host and talks to its local engine).
    type: path
    required: true
  lock_wait:
    description:
      - Seconds to wait for the folder's lock (C(flock) on C(<backup_dir>/.lock)) when another backup or restore
        holds it; V(0) refuses at once. Refused with a message naming the lock's holder.
    type: int
    default: 0
  tool_name_prefix:
    description: Name prefix of the tool container (a random suffix is added).
    type: str
    default: arizu-pg-tool
  tool_timeout:
    description:
      - Longest life of the tool container in seconds. It is removed at the end of the module run; should the run be
        killed, it removes itself after this time.
    type: int
    default: 86400
notes:
  - Talks to the Docker Engine API with community.docker's API client (the Python library C(requests) on the Docker
    host); the Docker CLI is not needed. The connection options (O(docker_host), ...) work as in community.docker,
    but the engine must be the local one, as the backup folder is bind-mounted from the module's host.
  - The tools run as the module's user and group IDs, so the files they write belong to that user.
"""
