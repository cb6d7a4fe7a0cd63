#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_restore
short_description: Plan or carry out the restore of a verified PostgreSQL backup into a database in Docker
version_added: 1.1.0
description:
  - O(action=plan) (read-only, also in check mode) - picks the backup (O(backup), or the newest verified one),
    checks every byte against its C(.sha256) file and the manifest, and tells the format from the first bytes
    (C(PGDMP) - custom; a folder with a C(toc.dat) - directory; C(ustar) - tar; SQL text - plain), never from the name.
    Fails, before anything is touched, when a check does not pass.
  - O(action=restore) - requires O(confirm) to equal O(database). Checks the backup again (the checksums only when
    a file changed since the plan, see O(verified)), runs C(pg_restore --list), then restores into a new database
    next to the target (same encoding and locale, C(pg_restore --no-owner --exit-on-error), O(jobs) in parallel),
    compares the exact row counts of the manifest there, gives it the target's owner, grants, settings and
    connection limit, and only then swaps it in - new connections to the target are blocked
    (C(ALLOW_CONNECTIONS false)), the remaining sessions terminated until none is left, then the two databases are
    renamed in one transaction and the old one dropped.
  - Until the swap, the target is never written to - a restore that fails leaves it as it was (its connections are
    allowed again) and drops the new database.
  - The tools run in a short-lived tool container, as for M(arizu.ops.pg_backup); pg_restore reads the backup from
    the bind-mounted folder, so no byte of it passes through the module.
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
      - O(action=plan) runs as usual. O(action=restore) runs the plan and reports what it would do.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  action:
    description: V(plan) checks and describes the restore (read-only); V(restore) carries it out.
    type: str
    choices: [plan, restore]
    default: plan
  backup:
    description:
      - File (or folder) name of the backup in O(backup_dir). Needs a C(.sha256) file beside it; a manifest
        (C(<name>.json)), when there, must vouch for it.
      - When empty, the newest verified backup (one with a manifest saying C(verified=true)).
    type: str
    default: ''
  confirm:
    description: Must equal O(database) for O(action=restore), or the module refuses.
    type: str
    default: ''
  jobs:
    description: Parallel jobs of pg_restore (custom and directory formats).
    type: int
    default: 1
  sessions_timeout:
    description: Seconds to wait for the target's sessions to end after they were terminated.
    type: int
    default: 30
  verified:
    description:
      - RV(fingerprint) of a plan of the same backup; when every file still has the same size and modification time,
        the checksums are not read a second time.
    type: list
    elements: raw
    default: []
seealso:
  - module: arizu.ops.pg_backup
    description: Take the backups this module restores.
"""

EXAMPLES = r"""
- name: Plan the restore of the newest verified backup
  arizu.ops.pg_restore:
    action: plan
    database: arizu
    backup_dir: /var/backups/arizu/postgres
  register: plan

- name: Restore it (the writers are stopped by the caller)
  arizu.ops.pg_restore:
    action: restore
    container: arizu-postgres
    user: arizu
    database: arizu
    confirm: arizu
    backup_dir: /var/backups/arizu/postgres
    backup: "{{ plan.backup }}"
    verified: "{{ plan.fingerprint }}"
"""

RETURN = r"""
backup:
  description: Name of the backup in O(backup_dir).
  returned: when one was found
  type: str
  sample: backup-2025-01-31-020000.dump
format:
  description: Format told from the first bytes.
  returned: when a backup was found
  type: str
  choices: [custom, directory, tar, plain]
checksum_ok:
  description: Whether every file matched its C(.sha256) entry and the manifest.
  returned: when a backup was found
  type: bool
size_bytes:
  description: Size of the backup.
  returned: when a backup was found
  type: int
manifest:
  description: The backup's manifest, or V(null) for a named backup without one.
  returned: when a backup was found
  type: dict
fingerprint:
  description: Size and modification time of each file of the backup (see O(verified)).
  returned: when the checksums were checked
  type: list
warnings_list:
  description: Things worth knowing that do not stop the restore (another database name in the manifest ...).
  returned: always
  type: list
  elements: str
row_counts:
  description: "Exact row counts checked after the restore - C({table: {expected, actual}})."
  returned: after a restore
  type: dict
sessions_terminated:
  description: Sessions of the target that were terminated before the swap.
  returned: after a restore
  type: int
phases:
  description: Seconds each step of the restore took.
  returned: after a restore
  type: dict
msg:
  description: One line for the operator.
  returned: always
  type: str
"""

import json
import os
import re
import secrets
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import RequestException
from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    BackupError,
    DirLock,
    compare_counts,
    create_database_sql,
    database_properties_sql,
    database_property_statements,
    human_bytes,
    latest_verified,
    manifest_is_verified,
    mask,
    parse_counts,
    parse_tagged_rows,
    quote_ident,
    quote_literal,
    read_manifest,
    restore_db_names,
    row_count_sql,
    scan_backups,
    sniff_path,
    stat_fingerprint,
    valid_file_name,
    verify_checksums,
)
from ansible_collections.arizu.ops.plugins.module_utils.pg_backup_tool import (
    PgTool,
    ToolDockerClient,
    api_reason,
    connection_argument_spec,
    tool_major,
)

SUPPORTED = ('custom', 'directory', 'tar', 'plain')


def plan(params, check_bytes=True):
    """Pick and check the backup; raise BackupError naming the first problem."""
    backup_dir = os.path.realpath(params['backup_dir'])
    if not os.path.isdir(backup_dir):
        raise BackupError('backup_dir %s does not exist' % backup_dir)
    entries = scan_backups(backup_dir)
    name = (params['backup'] or '').strip()
    if name:
        if not valid_file_name(name):
            raise BackupError('backup must be a file or folder name in %s, got %r' % (backup_dir, name))
        path = os.path.join(backup_dir, name)
        if not os.path.lexists(path):
            newest = [e['name'] for e in entries if e['verified']][:5]
            raise BackupError('%s does not exist in %s (newest verified: %s)' % (
                name, backup_dir, ', '.join(newest) or 'none'))
        manifest = read_manifest(path + '.json')
        if os.path.exists(path + '.json') and not manifest_is_verified(manifest, name):
            raise BackupError('%s.json does not vouch for %s (not a verified backup)' % (name, name))
    else:
        entry = latest_verified(entries)
        if entry is None:
            raise BackupError('no verified backup in %s' % backup_dir)
        name, path, manifest = entry['name'], entry['path'], entry['manifest']
    warnings = []
    if not os.path.exists(path + '.sha256'):
        raise BackupError('%s has no %s.sha256: its integrity cannot be checked' % (name, name))
    fingerprint = stat_fingerprint(path, name)
    if check_bytes or params['verified'] != fingerprint:
        checks = verify_checksums(backup_dir, name, manifest)
        if not checks['ok']:
            raise BackupError('%s does not match its checksums: %s' % (name, '; '.join(checks['problems'][:5])))
        size, sha256 = checks['size_bytes'], checks['sha256']
    else:
        size = sum(item[1] for item in fingerprint)
        sha256 = (manifest or {}).get('sha256')
    fmt = sniff_path(path)
    if fmt not in SUPPORTED:
        raise BackupError('%s is not a backup pg_restore or psql can read (its first bytes say: %s)' % (name, fmt))
    if manifest and manifest.get('format') and manifest['format'] != fmt:
        raise BackupError('%s: the manifest says %s format, its first bytes say %s' % (name, manifest['format'], fmt))
    if not manifest:
        warnings.append('%s has no manifest: the row counts cannot be checked after the restore' % name)
    elif manifest.get('database') != params['database']:
        warnings.append('%s is a backup of database %s, restored into %s' % (
            name, manifest.get('database'), params['database']))
    return dict(backup=name, backup_dir=backup_dir, path=path, format=fmt, checksum_ok=True, size_bytes=size,
                sha256=sha256, manifest=manifest, fingerprint=fingerprint, warnings_list=warnings,
                created_at=(manifest or {}).get('created_at'))


def swap_in(tool, p, maint, major, target, new_name, old_name):
    """Terminate every session of the target (and of the restored copy) and rename both databases in one
    transaction, in one psql session; again until no session slipped in between, or the timeout.
    Returns the pids terminated."""
    names = ', '.join(quote_literal(n) for n in (target, new_name))
    # from PostgreSQL 14 pg_terminate_backend waits (up to 5 s) until the backend is gone
    terminate = 'pg_terminate_backend(pid, 5000)' if major >= 14 else 'pg_terminate_backend(pid)'
    argv = ['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', maint,
            '-c', "SELECT 'ARIZU_SESSION', pid, %s FROM pg_stat_activity WHERE datname IN (%s) "
                  "AND pid <> pg_backend_pid()" % (terminate, names),
            '-c', 'BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT;' % (
                quote_ident(target), quote_ident(old_name), quote_ident(new_name), quote_ident(target))]
    deadline = time.monotonic() + max(1, p['sessions_timeout'])
    terminated = set()
    while True:
        attempt = tool.exec_(argv)
        present = set(int(row[0]) for row in parse_tagged_rows(attempt.text, 'ARIZU_SESSION')
                      if row and row[0].isdigit())
        terminated.update(present)
        if attempt.rc == 0:
            return terminated
        if time.monotonic() >= deadline:
            raise BackupError(mask('sessions still connected to %s after %d s (%s); nothing was changed' % (
                target, p['sessions_timeout'], attempt.error_text(300)), tool.secrets))
        time.sleep(0.2)


def run_restore(client, found):
    module = client.module
    p = module.params
    target = p['database']
    maint = p['maintenance_db']
    manifest = found['manifest'] or {}
    expected = manifest.get('row_counts') or {}
    phases = {}
    result = dict(changed=True, sessions_terminated=0, row_counts={}, phases=phases)
    clock = [time.monotonic()]

    def phase(name):
        now = time.monotonic()
        phases[name] = round(now - clock[0], 3)
        clock[0] = now

    params = dict(p, database=maint)
    with PgTool(client, params, [found['backup_dir']], 'pg_restore') as tool:
        token = secrets.token_hex(4)
        new_name, old_name = restore_db_names(target, token)
        leftover_re = '^' + re.escape(new_name.rsplit('_', 1)[0]) + '_[0-9a-f]{8}$'
        # the server, the target's properties and leftovers of a restore that was killed, in one session
        facts = tool.psql(
            "SELECT 'ARIZU_SERVER', current_setting('server_version'), current_setting('server_version_num')",
            database_properties_sql(target),
            "SELECT 'ARIZU_LEFTOVER', datname FROM pg_database WHERE datname ~ %s" % quote_literal(leftover_re),
            database=maint, what='connecting to PostgreSQL').text
        server_row = parse_tagged_rows(facts, 'ARIZU_SERVER')
        if not server_row:
            raise BackupError('cannot read the server version: %s' % facts[-300:])
        major = int(server_row[0][1]) // 10000
        rows = parse_tagged_rows(facts, 'ARIZU_DB')
        props = json.loads('|'.join(rows[0])) if rows else None
        force = ' WITH (FORCE)' if major >= 13 else ''
        tool_name = 'psql' if found['format'] == 'plain' else 'pg_restore'
        version = tool.tool_version(tool_name)
        if tool_major(version) != major:
            raise BackupError('%s of %s is %s, the server is %s: use an image of the server\'s major version' % (
                tool_name, tool.image_ref, version or 'missing', server_row[0][0]))
        if found['format'] != 'plain':
            tool.check(tool.exec_(['pg_restore', '--list', '-f', '/dev/null', found['path']]),
                       'pg_restore --list of %s' % found['backup'])
        phase('checks')
        statements = ['DROP DATABASE IF EXISTS %s%s' % (quote_ident(row[0]), force)
                      for row in parse_tagged_rows(facts, 'ARIZU_LEFTOVER')]
        tool.psql(*(statements + [create_database_sql(new_name, props)]), database=maint,
                  what='creating the database to restore into')
        blocked = swapped = False
        allow_before = (props or {}).get('db', {}).get('datallowconn', True)
        try:
            if found['format'] == 'plain':
                argv = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', new_name,
                        '-f', found['path']]
            else:
                argv = ['pg_restore', '--no-owner', '--exit-on-error', '-d', new_name]
                if p['jobs'] > 1 and found['format'] in ('custom', 'directory'):
                    argv += ['-j', str(p['jobs'])]
                argv.append(found['path'])
            tool.check(tool.exec_(argv), '%s of %s' % (argv[0], found['backup']))
            phase('restore')
            if expected:
                actual = parse_counts(tool.psql(row_count_sql(True), database=new_name,
                                                what='counting the restored rows').text)
                mismatches = compare_counts(expected, actual)
                if mismatches:
                    raise BackupError('the restored rows differ from the manifest: %s; the target was not touched' % (
                        ', '.join('%s %s instead of %s' % (m['table'], m['actual'], m['expected'])
                                  for m in mismatches[:10])))
                result['row_counts'] = dict((t, dict(expected=n, actual=actual.get(t))) for t, n in expected.items())
            phase('row_counts')
            statements = database_property_statements(new_name, props) + [
                'ALTER DATABASE %s ALLOW_CONNECTIONS false' % quote_ident(new_name)]
            if props is None:
                statements += ['ALTER DATABASE %s RENAME TO %s' % (quote_ident(new_name), quote_ident(target)),
                               'ALTER DATABASE %s ALLOW_CONNECTIONS true' % quote_ident(target)]
                tool.psql(*statements, database=maint, what='naming the restored database %s' % target)
                swapped = True
            else:
                blocked = True
                tool.psql(*(statements + ['ALTER DATABASE %s ALLOW_CONNECTIONS false' % quote_ident(target)]),
                          database=maint, what='blocking new connections to %s' % target)
                terminated = swap_in(tool, p, maint, major, target, new_name, old_name)
                swapped = True
                result['sessions_terminated'] = len(terminated)
                phase('swap')
                final = tool.exec_(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', maint,
                                    '-c', 'ALTER DATABASE %s ALLOW_CONNECTIONS %s' % (
                                        quote_ident(target), 'true' if allow_before else 'false'),
                                    '-c', "SELECT 'ARIZU_ALLOWED'",
                                    '-c', 'DROP DATABASE %s%s' % (quote_ident(old_name), force)])
                if 'ARIZU_ALLOWED' not in final.text:
                    tool.check(final, 'allowing connections to %s again' % target)
                if final.rc != 0:
                    result.setdefault('warnings_list', []).append(
                        'the previous database was kept as %s (DROP failed: %s)' % (old_name, final.error_text(300)))
                    result['previous_database'] = old_name
                phase('drop_previous')
        except BaseException:
            if not swapped:
                tool.exec_(['psql', '-X', '-q', '-d', maint, '-c', 'DROP DATABASE IF EXISTS %s%s' % (
                    quote_ident(new_name), force)])
                if blocked:
                    tool.exec_(['psql', '-X', '-q', '-d', maint, '-c', 'ALTER DATABASE %s ALLOW_CONNECTIONS %s' % (
                        quote_ident(target), 'true' if allow_before else 'false')])
            raise
    return result


def run(client):
    module = client.module
    p = module.params
    started = time.monotonic()
    if p['jobs'] < 1 or p['sessions_timeout'] < 0 or p['lock_wait'] < 0:
        module.fail_json(msg='jobs must be 1 or more, sessions_timeout and lock_wait 0 or more')
    if p['database'] == p['maintenance_db']:
        module.fail_json(msg='cannot restore into %s, the maintenance database the tools connect to: set '
                             'maintenance_db to another database' % p['database'])
    if p['action'] == 'plan':
        found = plan(p, check_bytes=True)
        found.pop('path', None)
        module.exit_json(changed=False, msg='%s (%s, %s, %s): checksums ok, restorable into %s' % (
            found['backup'], found['format'], human_bytes(found['size_bytes']),
            found['created_at'] or 'no manifest', p['database']), **found)
    if p['confirm'] != p['database']:
        module.fail_json(msg='refusing to restore into %s: set confirm to the name of the target database (%s) '
                             'to say that its current contents may be replaced' % (p['database'], p['database']),
                         changed=False)
    if module.check_mode:
        found = plan(p, check_bytes=True)
        found.pop('path', None)
        module.exit_json(changed=True, msg='would restore %s (%s) into %s' % (
            found['backup'], found['format'], p['database']), **found)
    backup_dir = os.path.realpath(p['backup_dir'])
    if not os.path.isdir(backup_dir):
        raise BackupError('backup_dir %s does not exist' % backup_dir)
    lock = DirLock(backup_dir, 'restore of %s' % p['database']).acquire(p['lock_wait'])
    try:
        found = plan(p, check_bytes=False)
        result = run_restore(client, found)
    finally:
        lock.release()
    warnings = found['warnings_list'] + result.pop('warnings_list', [])
    found.pop('path', None)
    found.update(result)
    found['warnings_list'] = warnings
    found['duration_seconds'] = round(time.monotonic() - started, 3)
    checked = len(found['row_counts'])
    module.exit_json(msg='restored %s (%s, %s) into %s in %.1f s; %s; %d sessions terminated' % (
        found['backup'], found['format'], human_bytes(found['size_bytes']), p['database'], found['duration_seconds'],
        ('row counts of %d tables match the manifest' % checked) if checked else 'no row counts to check',
        found['sessions_terminated']), **found)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        action=dict(type='str', default='plan', choices=['plan', 'restore']),
        backup=dict(type='str', default=''),
        confirm=dict(type='str', default=''),
        jobs=dict(type='int', default=1),
        sessions_timeout=dict(type='int', default=30),
        verified=dict(type='list', elements='raw', default=[]),
    )
    client = ToolDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version='1.25')
    module = client.module
    secrets_ = [module.params.get('password')]
    what = 'restore' if module.params['action'] == 'restore' else 'restore plan'
    try:
        run(client)
    except BackupError as exc:
        module.fail_json(msg=mask('%s of %s refused or failed: %s' % (what, module.params['database'], to_native(exc)),
                                  secrets_), changed=False)
    except (RequestException, DockerException) as exc:
        module.fail_json(msg=mask('%s of %s failed talking to the Docker daemon: %s' % (
            what, module.params['database'], api_reason(exc)), secrets_), changed=False)
    except (IOError, OSError) as exc:
        module.fail_json(msg=mask('%s of %s failed: %s: %s' % (
            what, module.params['database'], getattr(exc, 'filename', '') or '', exc.strerror or exc), secrets_),
            changed=False)


if __name__ == '__main__':
    main()
