#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_backup
short_description: Back up a PostgreSQL database in Docker into a verified, checksummed, retained backup file
version_added: 1.1.0
description:
  - Takes a backup that restores - pg_dump of the server's own version, run against the database in one
    C(REPEATABLE READ) snapshot, whose row counts are taken in that same snapshot.
  - Before writing anything, takes the folder's lock (two backups never overlap) and checks the free space against
    the last verified backup's size times O(space_margin) (a first backup against the database's size).
  - Writes to a temporary name in O(backup_dir) and checks pg_dump's exit status, a non-empty result in the expected
    format, and C(pg_restore --list); with O(verify_restore) also restores it into a scratch database that is dropped
    again. Only then renames it to C(backup-YYYY-MM-DD-HHMMSS.dump) (custom format) or C(.dir) (directory format)
    and writes C(<name>.sha256) (C(sha256sum -c) format) and the manifest C(<name>.json) with C(verified=true).
    Files are mode C(0600), folders C(0700).
  - A failed backup leaves nothing behind (the temporary file is removed), does not run the retention, and fails
    with a message without the password.
  - Retention (O(keep_last), O(keep_days)) runs after a successful backup only, counts only verified backups (a
    file without a manifest saying C(verified=true) is not a backup and is never deleted) and never deletes the
    newest verified backup.
  - How the bytes move - pg_dump runs in a short-lived tool container (see O(container)) into which O(backup_dir)
    is bind-mounted, and writes the dump straight into that folder; no byte of the dump passes through the module,
    so its memory stays flat whatever the size, and C(-Fd -j N) works.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.pg_backup
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports the plan (folder, last verified backup, free space, what retention would delete after one more
        backup) without connecting to the database or writing anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  format:
    description: C(custom) (C(pg_dump -Fc), one file) or C(directory) (C(pg_dump -Fd -j jobs), a folder).
    type: str
    choices: [custom, directory]
    default: custom
  jobs:
    description: Parallel jobs of pg_dump with O(format=directory), and of the restore test.
    type: int
    default: 2
  verify_restore:
    description:
      - Also restore the new backup into a scratch database on the same server (created and dropped by the module)
        and compare the row counts. The manifest then holds the exact row count of every table.
    type: bool
    default: false
  key_tables:
    description:
      - Tables (C(schema.table), or C(table) in C(public)) whose rows are counted exactly in the dump's snapshot.
      - When empty, every table is counted exactly if the database is not larger than O(count_all_max_bytes);
        otherwise only the planner's estimates are recorded (C(manifest.row_estimates)).
      - A named table that does not exist fails the backup before anything is written.
    type: list
    elements: str
    default: []
  count_all_max_bytes:
    description: Largest database (pg_database_size) whose tables are all counted exactly when O(key_tables) is empty.
    type: int
    default: 268435456
  space_margin:
    description: The free space needed is this times the last verified backup's size (a first backup - the database's size).
    type: float
    default: 1.2
  keep_last:
    description: Retention - keep the newest N verified backups; V(0) turns this rule off.
    type: int
    default: 7
  keep_days:
    description:
      - Retention - keep the verified backups younger than N days; V(0) turns this rule off.
      - A backup kept by either rule is kept; with both rules off nothing is deleted.
    type: int
    default: 0
  kind:
    description: Recorded in the manifest - C(backup), or C(safety) for the backup a restore takes first.
    type: str
    choices: [backup, safety]
    default: backup
  skip_missing_database:
    description:
      - When O(database) does not exist, report that there is nothing to back up (unchanged) instead of failing.
      - For the safety backup of a restore into a database that is not there yet.
    type: bool
    default: false
notes:
  - The row counts come from the same snapshot as the dump (an exported snapshot that pg_dump uses), so they match
    what a restore of this backup gives, even while the application writes.
  - Long backups keep one session idle in a transaction; a server C(idle_in_transaction_session_timeout) shorter
    than the backup ends it.
seealso:
  - module: arizu.ops.pg_restore
    description: Restore such a backup.
  - name: pg_dump
    description: The PostgreSQL backup tool.
    link: https://www.postgresql.org/docs/current/app-pgdump.html
"""

EXAMPLES = r"""
- name: Back up the Arizu database from its container, keeping a week
  arizu.ops.pg_backup:
    container: arizu-postgres
    user: arizu
    database: arizu
    backup_dir: /var/backups/arizu/postgres
    keep_last: 7
  register: backup

- name: Directory format with 4 jobs, restore-tested, key tables counted
  arizu.ops.pg_backup:
    container: arizu-postgres
    user: arizu
    password: "{{ vault_postgresql_password }}"
    database: arizu
    backup_dir: /var/backups/arizu/postgres
    format: directory
    jobs: 4
    verify_restore: true
    key_tables: [public.users, public.orders]

- name: A managed Postgres, through a client container of the same major version
  arizu.ops.pg_backup:
    client_image: postgres:16
    client_host: db.example.com
    user: backup
    password: "{{ vault_backup_password }}"
    ssl_mode: require
    database: arizu
    backup_dir: /var/backups/arizu/postgres
"""

RETURN = r"""
backup:
  description: Name of the new backup in O(backup_dir).
  returned: success, not in check mode
  type: str
  sample: backup-2025-01-31-020000.dump
backup_path:
  description: Full path of the new backup.
  returned: success, not in check mode
  type: str
manifest:
  description: The manifest written to C(<name>.json).
  returned: success, not in check mode
  type: dict
  sample:
    manifest_version: 1
    name: backup-2025-01-31-020000.dump
    kind: backup
    database: arizu
    format: custom
    jobs: 1
    created_at: "2025-01-31T02:00:00Z"
    finished_at: "2025-01-31T02:00:07Z"
    duration_seconds: 6.9
    size_bytes: 123456789
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    server_version: "15.14 (Debian 15.14-0+deb12u1)"
    server_version_num: 150014
    database_size_bytes: 1181116006
    pg_dump_version: pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)
    row_counts: {public.users: 1200, public.orders: 98000}
    row_estimates: {}
    verification: {pg_dump_exit: 0, non_empty: true, format: custom, pg_restore_list: true, restore_test: null}
    source: {mode: container, container: arizu-postgres, image: "arizu-local/postgres:15"}
    verified: true
deleted:
  description: Backups deleted by the retention (each with its C(.sha256) and C(.json)).
  returned: success
  type: list
  elements: str
kept:
  description: Verified backups kept by the retention, newest first.
  returned: success
  type: list
  elements: str
unverified:
  description: C(backup-*) entries without a verified manifest - not counted, not deleted, worth a look.
  returned: always
  type: list
  elements: str
free_bytes:
  description: Free space in O(backup_dir) before the backup.
  returned: always
  type: int
needed_bytes:
  description: Free space the check asked for.
  returned: when the database was reached
  type: int
duration_seconds:
  description: Time the module took.
  returned: always
  type: float
msg:
  description: One line for the operator.
  returned: always
  type: str
  sample: "backup-2025-01-31-020000.dump: 117.7 MiB custom, verified (pg_restore --list), 6.9 s; retention deleted 1"
"""

import json
import os
import secrets
import shutil
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import RequestException
from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    TEMP_PREFIX,
    BackupError,
    DirLock,
    backup_name,
    build_manifest,
    checksum_listing,
    compare_counts,
    compute_checksums,
    create_database_sql,
    database_properties_sql,
    human_bytes,
    latest_verified,
    mask,
    parse_counts,
    parse_dump_status,
    parse_tagged_rows,
    pg_text_array,
    plan_retention,
    qualified_table,
    quote_ident,
    quote_literal,
    row_count_sql,
    scan_backups,
    sniff_path,
    space_needed,
    table_estimates_sql,
    backup_script,
)
from ansible_collections.arizu.ops.plugins.module_utils.pg_backup_tool import (
    PgTool,
    ToolDockerClient,
    api_reason,
    connection_argument_spec,
    server_facts,
    tool_major,
)


def validate(module):
    p = module.params
    if not os.path.isabs(p['backup_dir']):
        module.fail_json(msg='backup_dir must be an absolute path, got %r' % p['backup_dir'])
    for name in ('jobs',):
        if p[name] < 1:
            module.fail_json(msg='%s must be 1 or more, got %s' % (name, p[name]))
    for name in ('keep_last', 'keep_days', 'lock_wait', 'count_all_max_bytes'):
        if p[name] < 0:
            module.fail_json(msg='%s must be 0 or more, got %s' % (name, p[name]))
    if p['space_margin'] < 1.0:
        module.fail_json(msg='space_margin must be 1.0 or more, got %s' % p['space_margin'])
    try:
        return [qualified_table(t) for t in p['key_tables'] or []]
    except ValueError:
        module.fail_json(msg='key_tables: an entry is empty')


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def make_private(path):
    """0600 files, 0700 folders (pg_dump -Fd writes a folder), fsynced."""
    if os.path.isdir(path):
        os.chmod(path, 0o700)
        for root, dirs, files in os.walk(path):
            for item in dirs:
                os.chmod(os.path.join(root, item), 0o700)
            for item in files:
                full = os.path.join(root, item)
                os.chmod(full, 0o600)
                fd = os.open(full, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        fsync_dir(path)
    else:
        os.chmod(path, 0o600)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_temporaries(backup_dir):
    """Leftovers of a backup that was killed (the lock is ours, so nothing else is writing them)."""
    removed = []
    for name in os.listdir(backup_dir):
        if name.startswith(TEMP_PREFIX):
            remove_path(os.path.join(backup_dir, name))
            removed.append(name)
    return removed


def delete_backup(backup_dir, name):
    """The manifest first: a half-deleted backup is no longer a backup."""
    base = os.path.join(backup_dir, name)
    for path in (base + '.json', base + '.sha256', base):
        if os.path.lexists(path):
            remove_path(path)


def database_properties(tool, database, maintenance_db):
    result = tool.psql(database_properties_sql(database), database=maintenance_db,
                       what='reading the properties of database %s' % database)
    rows = parse_tagged_rows(result.text, 'ARIZU_DB')
    if not rows:
        return None
    return json.loads('|'.join(rows[0]))


def restore_test(tool, params, tmp_path, counts, server, source_props):
    """Restore the new dump into a scratch database and count every table there."""
    maint = params['maintenance_db']
    scratch = 'arizu_verify_%s' % secrets.token_hex(4)
    started = time.monotonic()
    tool.psql(create_database_sql(scratch, source_props), database=maint,
              what='creating the scratch database of the restore test')
    try:
        argv = ['pg_restore', '--no-owner', '--exit-on-error', '-d', scratch]
        if params['format'] == 'directory' and params['jobs'] > 1:
            argv += ['-j', str(params['jobs'])]
        tool.check(tool.exec_(argv + [tmp_path]), 'the restore test (pg_restore into a scratch database)')
        restored = parse_counts(tool.psql(row_count_sql(True), database=scratch,
                                          what='counting the rows of the restore test').text)
    finally:
        tool.psql('DROP DATABASE IF EXISTS %s%s' % (quote_ident(scratch),
                                                    ' WITH (FORCE)' if server['major'] >= 13 else ''),
                  database=maint, what='dropping the scratch database of the restore test')
    mismatches = compare_counts(counts, restored)
    if mismatches:
        raise BackupError('the restore test gave other row counts than the dump\'s snapshot: %s' % ', '.join(
            '%s %s instead of %s' % (m['table'], m['actual'], m['expected']) for m in mismatches[:10]))
    return restored, dict(passed=True, tables=len(restored), rows=sum(restored.values()),
                          seconds=round(time.monotonic() - started, 3))


def run(client):
    module = client.module
    p = module.params
    started_clock = time.monotonic()
    key_tables = validate(module)
    backup_dir = os.path.realpath(p['backup_dir'])
    fmt = p['format']
    result = dict(changed=False, deleted=[], kept=[], unverified=[], free_bytes=None)

    def done(**extra):
        result.update(extra)
        result['duration_seconds'] = round(time.monotonic() - started_clock, 3)
        module.exit_json(**result)

    if module.check_mode:
        entries = scan_backups(backup_dir) if os.path.isdir(backup_dir) else []
        last = latest_verified(entries)
        probe = backup_dir
        while not os.path.isdir(probe):
            probe = os.path.dirname(probe)
        keep, delete = plan_retention(
            [dict(name='(new)', verified=True, created=time.time())] + entries, p['keep_last'], p['keep_days'],
            time.time())
        done(changed=True, free_bytes=shutil.disk_usage(probe).free,
             unverified=[e['name'] for e in entries if not e['verified']],
             kept=[k for k in keep if k != '(new)'], deleted=delete,
             last_verified=last['name'] if last else None,
             msg='would back up %s (%s format) into %s%s; retention would then delete %d' % (
                 p['database'], fmt, backup_dir,
                 (', last verified backup %s (%s)' % (last['name'], human_bytes(last['size_bytes'])))
                 if last else ', the first backup there', len(delete)))

    try:
        os.makedirs(backup_dir, 0o700)
    except OSError:
        if not os.path.isdir(backup_dir):
            raise BackupError('cannot create backup_dir %s' % backup_dir)
    os.chmod(backup_dir, 0o700)

    lock = DirLock(backup_dir, 'backup of %s' % p['database']).acquire(p['lock_wait'])
    tmp_path = script_path = None
    renamed = False
    try:
        clean_temporaries(backup_dir)
        entries = scan_backups(backup_dir)
        result['unverified'] = [e['name'] for e in entries if not e['verified']]
        last = latest_verified(entries)
        started = time.time()
        with PgTool(client, p, [backup_dir], 'pg_backup') as tool:
            if p['skip_missing_database']:
                listed = tool.psql("SELECT datname FROM pg_database WHERE datname = %s" % quote_literal(
                    p['database']), database=p['maintenance_db'], what='looking up database %s' % p['database'])
                if not listed.text.strip():
                    done(msg='database %s does not exist: nothing to back up' % p['database'])
            server = server_facts(tool)
            pg_dump_version = tool.tool_version('pg_dump')
            if tool_major(pg_dump_version) != server['major']:
                raise BackupError('pg_dump of %s is %s, the server is %s: use an image of the server\'s major '
                                  'version (client_image)' % (tool.image_ref, pg_dump_version or 'missing',
                                                              server['version']))
            free = shutil.disk_usage(backup_dir).free
            needed, why = space_needed(last['size_bytes'] if last else None, server['database_size'],
                                       p['space_margin'])
            result.update(free_bytes=free, needed_bytes=needed)
            if free < needed:
                raise BackupError('not enough free space in %s: %s free, a backup needs %s (%s); nothing was '
                                  'written' % (backup_dir, human_bytes(free), human_bytes(needed), why))
            estimates = parse_counts(tool.psql(table_estimates_sql(), what='listing the tables').text, 'ARIZU_EST')
            missing = [t for t in key_tables if t not in estimates]
            if missing:
                raise BackupError('key_tables not found in database %s: %s' % (p['database'], ', '.join(missing)))
            count_all = not key_tables and server['database_size'] <= p['count_all_max_bytes']
            source_props = database_properties(tool, p['database'], p['maintenance_db']) \
                if p['verify_restore'] else None

            name = backup_name(started, fmt, set(os.listdir(backup_dir)))
            tmp_path = os.path.join(backup_dir, TEMP_PREFIX + name)
            script_path = os.path.join(backup_dir, TEMP_PREFIX + name + '.psql')
            write_private(script_path, backup_script(count_all, fmt))
            dump_args = '-Fc' if fmt == 'custom' else '-Fd -j %d' % p['jobs']
            run_ = tool.exec_(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
                               '-v', 'arizu_tables=%s' % pg_text_array(key_tables), '-f', script_path],
                              env={'ARIZU_OUT': tmp_path, 'ARIZU_DUMP_ARGS': dump_args})
            dump_rc, tee_rc, streamed_sha = parse_dump_status(run_.text)
            if dump_rc != 0:
                what = 'pg_dump failed (exit %s)' % dump_rc if dump_rc is not None else \
                    'the backup session failed (exit %s)' % run_.rc
                raise BackupError(mask('%s: %s' % (what, run_.error_text()), tool.secrets))
            if tee_rc != 0 or (fmt == 'custom' and not streamed_sha):
                raise BackupError(mask('writing the dump failed (tee exit %s): %s' % (tee_rc, run_.error_text()),
                                       tool.secrets))
            tool.check(run_, 'the backup session (row counts in the dump\'s snapshot)')
            sniffed = sniff_path(tmp_path)
            if sniffed != fmt:
                raise BackupError('pg_dump exited 0 but wrote %s, not a %s-format dump' % (
                    'nothing' if sniffed in ('missing', 'empty') else 'a file of format ' + sniffed, fmt))
            counts = parse_counts(run_.text)
            tool.check(tool.exec_(['pg_restore', '--list', '-f', '/dev/null', tmp_path]),
                       'pg_restore --list of the new dump')
            verification = dict(pg_dump_exit=0, non_empty=True, format=sniffed, pg_restore_list=True,
                                restore_test=None)
            if p['verify_restore']:
                restored, verification['restore_test'] = restore_test(tool, p, tmp_path, counts, server, source_props)
                counts = restored
            image_ref = tool.image_ref
            source = dict(mode=tool.mode, image=image_ref)
            if tool.mode == 'container':
                source['container'] = tool.server_container
            else:
                source.update(host=p['client_host'], port=p['port'])

        make_private(tmp_path)
        if fmt == 'custom':
            # hashed by sha256sum while pg_dump wrote it (no second pass over the dump)
            size = os.stat(tmp_path).st_size
            sums = dict(sha256=streamed_sha, size_bytes=size, files={name: streamed_sha},
                        listing=checksum_listing([(streamed_sha, name)]))
        else:
            sums = compute_checksums(tmp_path, name, workers=min(4, p['jobs']))
        if sums['size_bytes'] <= 0:
            raise BackupError('pg_dump wrote an empty %s' % ('folder' if fmt == 'directory' else 'file'))
        finished = time.time()
        manifest = build_manifest(
            name=name, database=p['database'], fmt=fmt, started=started, finished=finished,
            size_bytes=sums['size_bytes'], sha256=sums['sha256'], server=server, pg_dump_version=pg_dump_version,
            row_counts=counts, row_estimates=dict((t, n) for t, n in estimates.items() if t not in counts),
            verification=verification, source=source, jobs=p['jobs'],
            files=sums['files'] if fmt == 'directory' else None, kind=p['kind'],
            database_size_bytes=server['database_size'])
        final = os.path.join(backup_dir, name)
        write_private(tmp_path + '.sha256', sums['listing'])
        write_private(tmp_path + '.json', json.dumps(manifest, indent=2, sort_keys=True) + '\n')
        # the data first, the manifest last: until it is there, this is not a backup
        os.rename(tmp_path, final)
        renamed = True
        os.rename(tmp_path + '.sha256', final + '.sha256')
        os.rename(tmp_path + '.json', final + '.json')
        fsync_dir(backup_dir)

        keep, delete = plan_retention(scan_backups(backup_dir), p['keep_last'], p['keep_days'], time.time())
        for old in delete:
            delete_backup(backup_dir, old)
        if delete:
            fsync_dir(backup_dir)
        checks = 'pg_restore --list' + (', restore test' if p['verify_restore'] else '')
        done(changed=True, backup=name, backup_path=final, manifest=manifest, kept=keep, deleted=delete,
             msg='%s: %s %s, verified (%s), %d tables counted, %.1f s; retention kept %d, deleted %d' % (
                 name, human_bytes(sums['size_bytes']), fmt, checks, len(counts), manifest['duration_seconds'],
                 len(keep), len(delete)))
    except BaseException:
        if tmp_path and not renamed:
            for path in (tmp_path, tmp_path + '.sha256', tmp_path + '.json'):
                if os.path.lexists(path):
                    remove_path(path)
        raise
    finally:
        if script_path and os.path.lexists(script_path):
            remove_path(script_path)
        lock.release()


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        format=dict(type='str', default='custom', choices=['custom', 'directory']),
        jobs=dict(type='int', default=2),
        verify_restore=dict(type='bool', default=False),
        key_tables=dict(type='list', elements='str', default=[], no_log=False),
        count_all_max_bytes=dict(type='int', default=268435456),
        space_margin=dict(type='float', default=1.2),
        keep_last=dict(type='int', default=7),
        keep_days=dict(type='int', default=0),
        kind=dict(type='str', default='backup', choices=['backup', 'safety']),
        skip_missing_database=dict(type='bool', default=False),
    )
    client = ToolDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version='1.25')
    module = client.module
    secrets_ = [module.params.get('password')]
    try:
        run(client)
    except BackupError as exc:
        module.fail_json(msg=mask('backup of %s failed: %s' % (module.params['database'], to_native(exc)), secrets_),
                         changed=False)
    except (RequestException, DockerException) as exc:
        module.fail_json(msg=mask('backup of %s failed talking to the Docker daemon: %s' % (
            module.params['database'], api_reason(exc)), secrets_), changed=False)
    except (IOError, OSError) as exc:
        module.fail_json(msg=mask('backup of %s failed: %s: %s' % (
            module.params['database'], getattr(exc, 'filename', '') or '', exc.strerror or exc), secrets_),
            changed=False)


if __name__ == '__main__':
    main()
