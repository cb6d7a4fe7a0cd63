#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: n8n_backup
short_description: Back up n8n in Docker (workflows, encrypted credentials, data folder) into a verified archive
version_added: 1.2.0
description:
  - Exports every workflow and every credential (still encrypted) with n8n's own CLI
    (C(n8n export:workflow --backup), C(n8n export:credentials --backup)) and archives them together with the n8n
    data folder (O(data_path), whose C(config) holds the encryption key) as one C(tar.gz).
  - The CLI runs in a short-lived helper container made from the n8n container's own image (its image ID), on the
    n8n container's network, with its data volume mounted and its environment given to each C(exec) (never in a
    command line); it runs as O(cli_user), the archive is written as root with umask 077 straight into the
    bind-mounted O(backup_dir). No byte of the archive passes through the module.
  - Under the folder's lock (C(<backup_dir>/.lock), shared with nothing else) the archive is written to a temporary
    name, checked (C(tar -tz) reads every byte; the workflow and credential files in it match the export), and only
    then renamed to C(n8n-YYYY-MM-DD-HHMMSS.tar.gz) with C(<name>.sha256) and the manifest C(<name>.json) (counts,
    IDs, n8n version, the sha256 fingerprint of the encryption key - never the key). Files 0600, folder 0700.
  - The archive holds the encryption key (in C(data/config)) - it is a secret, keep it like the vault.
  - Retention (O(keep_last), O(keep_days)) runs after a successful backup only and counts verified backups only.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports the plan (folder, last verified backup, what the retention would delete) and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  container:
    description: Name of the n8n container.
    type: str
    default: arizu-n8n
  backup_dir:
    description: Folder of the n8n backups on the Docker host (created 0700).
    type: path
    required: true
  data_path:
    description: n8n's data folder inside the container (its C(config) holds the encryption key).
    type: str
    default: /home/node/.n8n
  cli_user:
    description: User the n8n CLI runs as in the helper container (the user n8n runs as).
    type: str
    default: node
  keep_last:
    description: Retention - keep the newest N verified backups; V(0) turns this rule off.
    type: int
    default: 7
  keep_days:
    description: Retention - keep the verified backups younger than N days; V(0) turns this rule off.
    type: int
    default: 0
  lock_wait:
    description: Seconds to wait while another backup or restore holds the folder's lock; V(0) refuses at once.
    type: int
    default: 0
  tool_name_prefix:
    description: Name prefix of the helper container.
    type: str
    default: arizu-n8n-tool
  tool_timeout:
    description: Seconds after which the helper container ends itself whatever happens.
    type: int
    default: 3600
notes:
  - The exports read n8n's database while n8n runs; a workflow saved during the backup may or may not be in it.
seealso:
  - module: arizu.ops.n8n_restore
    description: Restore such a backup.
"""

EXAMPLES = r"""
- name: Back up n8n
  arizu.ops.n8n_backup:
    container: arizu-n8n
    backup_dir: /var/backups/arizu/n8n
    keep_last: 7
  register: n8n_backup
"""

RETURN = r"""
backup:
  description: Name of the new backup in O(backup_dir).
  returned: success, not in check mode
  type: str
  sample: n8n-2025-01-31-020000.tar.gz
backup_path:
  description: Full path of the new backup.
  returned: success, not in check mode
  type: str
manifest:
  description: The manifest written to C(<name>.json).
  returned: success, not in check mode
  type: dict
  sample:
    kind: n8n
    name: n8n-2025-01-31-020000.tar.gz
    workflows: 12
    credentials: 3
    workflow_ids: [AbC123]
    credential_ids: [XyZ789]
    encryption_key_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
    encryption_key_source: env
    n8n_version: 1.123.81
    size_bytes: 48213
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    verified: true
deleted:
  description: Backups deleted by the retention.
  returned: success
  type: list
  elements: str
kept:
  description: Verified backups kept by the retention, newest first.
  returned: success
  type: list
  elements: str
msg:
  description: One line for the operator.
  returned: always
  type: str
"""

import os
import time

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    BackupError, DirLock, hash_file, human_bytes, plan_retention)
from ansible_collections.arizu.ops.plugins.module_utils.pg_backup_tool import ToolDockerClient
from ansible_collections.arizu.ops.plugins.module_utils.backup_tool import (
    ToolContainer, container_env, container_networks, inspect_container, is_running, mount_of, run_or_fail)
from ansible_collections.arizu.ops.plugins.module_utils.service_backup import (
    TEMP_PREFIX, backup_name, build_manifest, clean_temporaries, config_key, delete_backup, export_ids,
    key_fingerprint, make_backup_dir, publish, scan)

STAGE = '/tmp/arizu-n8n'

# Run as the CLI user: both exports into the stage; "nothing found" is an empty export, not a failure.
EXPORT_SCRIPT = r'''
rm -rf "$STAGE" && mkdir -p "$STAGE/workflows" "$STAGE/credentials" || exit 90
n8n export:workflow --backup --output="$STAGE/workflows/" > "$STAGE/wf.log" 2>&1
rc=$?; if [ $rc -ne 0 ] && ! grep -q 'No workflows found' "$STAGE/wf.log"; then tail -c 2000 "$STAGE/wf.log" >&2; exit 91; fi
n8n export:credentials --backup --output="$STAGE/credentials/" > "$STAGE/cred.log" 2>&1
rc=$?; if [ $rc -ne 0 ] && ! grep -q 'No credentials found' "$STAGE/cred.log"; then tail -c 2000 "$STAGE/cred.log" >&2; exit 92; fi
rm -f "$STAGE/wf.log" "$STAGE/cred.log"
n8n --version 2>/dev/null | tail -n 1 > "$STAGE/version" || true
'''

# Run as root: the data folder next to the exports, one archive, then its listing (reads every byte).
ARCHIVE_SCRIPT = r'''
set -e
mkdir -p "$STAGE/data"
cp -a "$DATA/." "$STAGE/data/"
tar --numeric-owner -C "$STAGE" -czf "$OUT" version workflows credentials data
tar -tzf "$OUT"
'''


def validate(module):
    p = module.params
    if not os.path.isabs(p['backup_dir']):
        module.fail_json(msg='backup_dir must be an absolute path, got %r' % p['backup_dir'])
    if not os.path.isabs(p['data_path']):
        module.fail_json(msg='data_path must be an absolute path, got %r' % p['data_path'])
    for name in ('keep_last', 'keep_days', 'lock_wait'):
        if p[name] < 0:
            module.fail_json(msg='%s must be 0 or more, got %s' % (name, p[name]))
    if p['tool_timeout'] < 60:
        module.fail_json(msg='tool_timeout must be 60 or more, got %s' % p['tool_timeout'])


def run(client):
    module = client.module
    p = module.params
    clock = time.monotonic()
    validate(module)
    backup_dir = os.path.realpath(p['backup_dir'])
    result = dict(changed=False, deleted=[], kept=[])

    if module.check_mode:
        entries = scan('n8n', backup_dir)
        last = next((e for e in entries if e['verified']), None)
        keep, delete = plan_retention([dict(name='(new)', verified=True, created=time.time())] + entries,
                                      p['keep_last'], p['keep_days'], time.time())
        module.exit_json(changed=True, kept=[k for k in keep if k != '(new)'], deleted=delete,
                         msg='would back up n8n (%s) into %s%s; retention would then delete %d' % (
                             p['container'], backup_dir,
                             (', last verified backup %s' % last['name']) if last else ', the first backup there',
                             len(delete)))

    info = inspect_container(client, p['container'], 'n8n')
    if not is_running(info):
        raise BackupError('the n8n container %s is not running (state %s): the CLI export needs its database and '
                          'configuration as it runs' % (p['container'], (info.get('State') or {}).get('Status')))
    data_mount = mount_of(info, p['data_path'])
    if not data_mount:
        raise BackupError('the n8n container %s has no volume or bind mount at %s (data_path)'
                          % (p['container'], p['data_path']))
    networks = container_networks(info)
    env = container_env(info)
    env.setdefault('HOME', os.path.dirname(p['data_path']))
    secrets_ = [v for k, v in env.items() if any(w in k.upper() for w in ('PASSWORD', 'KEY', 'SECRET', 'TOKEN'))]

    make_backup_dir(backup_dir)
    lock = DirLock(backup_dir, 'n8n backup').acquire(p['lock_wait'])
    tmp = None
    try:
        clean_temporaries(backup_dir, 'n8n')
        started = time.time()
        name = backup_name('n8n', started, set(os.listdir(backup_dir)))
        tmp = os.path.join(backup_dir, TEMP_PREFIX + name)
        mounts = [dict(data_mount), dict(Type='bind', Source=backup_dir, Target=backup_dir)]
        with ToolContainer(client, info['Image'], p['tool_name_prefix'], 'n8n_backup', mounts,
                           networks[0] if networks else 'bridge', p['tool_timeout'], secrets_) as tool:
            run_env = dict(env, STAGE=STAGE)
            tool.check(tool.exec_(['sh', '-c', EXPORT_SCRIPT], env=run_env, user=p['cli_user']),
                       'the n8n CLI export (export:workflow / export:credentials)')
            workflow_ids = export_ids(tool.exec_(['ls', STAGE + '/workflows']).text)
            credential_ids = export_ids(tool.exec_(['ls', STAGE + '/credentials']).text)
            version = tool.exec_(['cat', STAGE + '/version']).text.strip() or None
            key = env.get('N8N_ENCRYPTION_KEY') or None
            key_source = 'env' if key else None
            file_key = None
            config = tool.exec_(['cat', p['data_path'] + '/config'])
            if config.rc == 0:
                file_key = config_key(config.text)
            warnings = []
            if not key and file_key:
                key, key_source = file_key, 'config'
            elif key and file_key and file_key != key:
                warnings.append('the data folder\'s config holds another key than N8N_ENCRYPTION_KEY (n8n refuses '
                                'to start like that)')
            if not key:
                raise BackupError('n8n has no encryption key (neither N8N_ENCRYPTION_KEY nor %s/config): its '
                                  'credentials could not be restored' % p['data_path'])
            tool.secrets.append(key)
            archived = tool.check(tool.exec_(['sh', '-c', ARCHIVE_SCRIPT],
                                             env=dict(STAGE=STAGE, DATA=p['data_path'], OUT=tmp)),
                                  'archiving the export and the data folder')
            members = archived.text.splitlines()
            tool.exec_(['rm', '-rf', STAGE])
        archived_wf = export_ids('\n'.join(m for m in members if m.startswith('workflows/')))
        archived_cred = export_ids('\n'.join(m for m in members if m.startswith('credentials/')))
        if archived_wf != workflow_ids or archived_cred != credential_ids:
            raise BackupError('the archive does not hold what was exported (%d/%d workflows, %d/%d credentials)' % (
                len(archived_wf), len(workflow_ids), len(archived_cred), len(credential_ids)))
        if not any(m.rstrip('/') == 'data' or m.startswith('data/') for m in members):
            raise BackupError('the archive has no data folder')
        digest, size = hash_file(tmp)
        if size <= 0:
            raise BackupError('the archive is empty')
        finished = time.time()
        manifest = build_manifest(
            'n8n', name, started, finished, size, digest,
            source=dict(container=p['container'], image=(info.get('Config') or {}).get('Image'),
                        image_id=info['Image'], data_path=p['data_path']),
            verification=dict(cli_export=True, tar_listing=True, counts_match=True),
            workflows=len(workflow_ids), credentials=len(credential_ids), workflow_ids=workflow_ids,
            credential_ids=credential_ids, encryption_key_sha256=key_fingerprint(key),
            encryption_key_source=key_source, n8n_version=version, warnings=warnings,
            contains_secrets='data/config holds the n8n encryption key: keep this archive like the vault')
        final = publish(backup_dir, TEMP_PREFIX + name, name, digest, manifest)
        tmp = None
        keep, delete = plan_retention(scan('n8n', backup_dir), p['keep_last'], p['keep_days'], time.time())
        for old in delete:
            delete_backup(backup_dir, old)
        result.update(changed=True, backup=name, backup_path=final, manifest=manifest, kept=keep, deleted=delete,
                      duration_seconds=round(time.monotonic() - clock, 3),
                      msg='%s: %s, %d workflows, %d credentials, key fingerprint %s, %.1f s; retention kept %d, '
                          'deleted %d' % (name, human_bytes(size), len(workflow_ids), len(credential_ids),
                                          manifest['encryption_key_sha256'][:16], manifest['duration_seconds'],
                                          len(keep), len(delete)))
        module.exit_json(**result)
    finally:
        if tmp and os.path.lexists(tmp):
            os.unlink(tmp)
        lock.release()


def main():
    argument_spec = dict(
        container=dict(type='str', default='arizu-n8n'),
        backup_dir=dict(type='path', required=True),
        data_path=dict(type='str', default='/home/node/.n8n'),
        cli_user=dict(type='str', default='node'),
        keep_last=dict(type='int', default=7),
        keep_days=dict(type='int', default=0),
        lock_wait=dict(type='int', default=0),
        tool_name_prefix=dict(type='str', default='arizu-n8n-tool'),
        tool_timeout=dict(type='int', default=3600),
    )
    client = ToolDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version='1.25')
    module = client.module
    run_or_fail(module, 'n8n backup', [], run, client)


if __name__ == '__main__':
    main()
