#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: n8n_restore
short_description: Plan or carry out the restore of an n8n backup made by arizu.ops.n8n_backup
version_added: 1.2.0
description:
  - O(action=plan) (read-only, also in check mode) - picks the backup (O(backup), or the newest verified one) and,
    before anything else, compares the sha256 fingerprint of the backup's encryption key with the one of the target
    n8n's key (O(encryption_key), else the container's C(N8N_ENCRYPTION_KEY)); a mismatch is refused (the restored
    credentials could not be decrypted) unless O(ignore_key_mismatch). Then every byte of the archive is checked
    against its C(.sha256) file and the manifest. A failed check fails the module before anything is touched.
  - O(action=restore) - requires O(confirm) to equal O(container). Runs the plan's checks again, stops n8n, replaces
    the data folder with the archive's (keeping the target's own C(config) when a key mismatch was waived), imports
    the credentials, then the workflows with n8n's CLI (C(import:credentials --separate),
    C(import:workflow --separate)) in a helper container of the n8n image, checks that every backed-up workflow and
    credential ID is there, starts n8n again and waits until its readiness health check passes. n8n is started
    again also when a step failed.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - O(action=restore) in check mode runs the plan's checks and reports what it would do.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  action:
    description: V(plan) checks and describes the restore (read-only); V(restore) carries it out.
    type: str
    choices: [plan, restore]
    default: plan
  container:
    description: Name of the target n8n container (it must exist; it may be stopped).
    type: str
    default: arizu-n8n
  backup_dir:
    description: Folder of the n8n backups on the Docker host.
    type: path
    required: true
  backup:
    description: File name of the backup in O(backup_dir); empty - the newest verified one.
    type: str
    default: ''
  encryption_key:
    description:
      - The encryption key the target n8n is configured with (the n8n role's C(n8n_encryption_key)); only its
        fingerprint is used and shown. Empty - the container's C(N8N_ENCRYPTION_KEY).
    type: str
  ignore_key_mismatch:
    description:
      - Restore although the keys differ (or the target has none). The target keeps its own C(config), so n8n
        starts; the restored credentials cannot be decrypted.
    type: bool
    default: false
  confirm:
    description: Must equal O(container) for O(action=restore), or the module refuses.
    type: str
    default: ''
  data_path:
    description: n8n's data folder inside the container.
    type: str
    default: /home/node/.n8n
  cli_user:
    description: User the n8n CLI runs as in the helper container.
    type: str
    default: node
  healthy_timeout:
    description: Seconds to wait for n8n to be healthy (its readiness check) after the start.
    type: int
    default: 300
  lock_wait:
    description: Seconds to wait while a backup or restore holds the folder's lock; V(0) refuses at once.
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
seealso:
  - module: arizu.ops.n8n_backup
"""

EXAMPLES = r"""
- name: Plan
  arizu.ops.n8n_restore:
    backup_dir: /var/backups/arizu/n8n
    encryption_key: "{{ n8n_encryption_key }}"
  register: plan

- name: Restore the newest backup
  arizu.ops.n8n_restore:
    action: restore
    confirm: arizu-n8n
    backup_dir: /var/backups/arizu/n8n
    encryption_key: "{{ n8n_encryption_key }}"
"""

RETURN = r"""
backup:
  description: Name of the backup checked (and restored).
  returned: success
  type: str
manifest:
  description: The backup's manifest.
  returned: success
  type: dict
key_check:
  description: The result of the key comparison (fingerprints shortened to 16 hex characters).
  returned: success
  type: dict
  sample: {match: true, backup: 5e884898da280471, target: 5e884898da280471, ignored: false}
checksum_ok:
  description: Whether the archive matched its .sha256 file and the manifest.
  returned: success
  type: bool
restored:
  description: After a restore - workflows and credentials found again, missing IDs, seconds per phase.
  returned: action=restore, not in check mode
  type: dict
msg:
  description: One line for the operator.
  returned: always
  type: str
"""

import os
import time

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import BackupError, DirLock, human_bytes
from ansible_collections.arizu.ops.plugins.module_utils.pg_backup_tool import ToolDockerClient
from ansible_collections.arizu.ops.plugins.module_utils.backup_tool import (
    ToolContainer, container_env, container_networks, inspect_container, is_running, mount_of, run_or_fail,
    start_container, stop_container, wait_healthy)
from ansible_collections.arizu.ops.plugins.module_utils.service_backup import (
    export_ids, key_check, key_fingerprint, pick_backup, short_fp, verify_file)

STAGE = '/tmp/arizu-n8n-restore'

# As root: unpack, then replace the data folder (its owner kept), the target's config kept when told.
REPLACE_SCRIPT = r'''
set -e
owner=$(stat -c %u:%g "$DATA")
rm -rf "$STAGE" && mkdir -p "$STAGE/unpacked"
tar --numeric-owner -xzf "$ARCHIVE" -C "$STAGE/unpacked"
test -d "$STAGE/unpacked/data" && test -d "$STAGE/unpacked/workflows" && test -d "$STAGE/unpacked/credentials"
if [ "$KEEP_CONFIG" = 1 ] && [ -f "$DATA/config" ]; then cp -p "$DATA/config" "$STAGE/keep-config"; fi
find "$DATA" -mindepth 1 -delete
cp -a "$STAGE/unpacked/data/." "$DATA/"
if [ "$KEEP_CONFIG" = 1 ]; then
  rm -f "$DATA/config"
  if [ -f "$STAGE/keep-config" ]; then cp -p "$STAGE/keep-config" "$DATA/config"; fi
fi
chown -R "$owner" "$DATA"
chown -R "$CLI_USER" "$STAGE"
'''

# As the CLI user: credentials first (workflows refer to them), then workflows.
IMPORT_SCRIPT = r'''
if [ -n "$(ls "$STAGE/unpacked/credentials")" ]; then
  n8n import:credentials --separate --input="$STAGE/unpacked/credentials" > "$STAGE/cred.log" 2>&1 \
    || { tail -c 2000 "$STAGE/cred.log" >&2; exit 93; }
fi
if [ -n "$(ls "$STAGE/unpacked/workflows")" ]; then
  n8n import:workflow --separate --input="$STAGE/unpacked/workflows" > "$STAGE/wf.log" 2>&1 \
    || { tail -c 2000 "$STAGE/wf.log" >&2; exit 94; }
fi
mkdir -p "$STAGE/check/workflows" "$STAGE/check/credentials"
n8n export:workflow --backup --output="$STAGE/check/workflows/" > /dev/null 2>&1
n8n export:credentials --backup --output="$STAGE/check/credentials/" > /dev/null 2>&1
echo ARIZU_WF; ls "$STAGE/check/workflows"; echo ARIZU_CRED; ls "$STAGE/check/credentials"
'''


def validate(module):
    p = module.params
    for name in ('backup_dir', 'data_path'):
        if not os.path.isabs(p[name]):
            module.fail_json(msg='%s must be an absolute path, got %r' % (name, p[name]))
    for name in ('healthy_timeout', 'lock_wait'):
        if p[name] < 0:
            module.fail_json(msg='%s must be 0 or more, got %s' % (name, p[name]))
    if p['tool_timeout'] < 60:
        module.fail_json(msg='tool_timeout must be 60 or more, got %s' % p['tool_timeout'])


def plan(client, p, backup_dir):
    """The checks before anything is touched: the key fingerprints first, then every byte of the archive."""
    entry = pick_backup('n8n', backup_dir, p['backup'])
    manifest = entry['manifest']
    info = inspect_container(client, p['container'], 'n8n')
    target_key = p['encryption_key'] or container_env(info).get('N8N_ENCRYPTION_KEY') or None
    backup_fp = manifest.get('encryption_key_sha256')
    target_fp = key_fingerprint(target_key)
    ok, why = key_check(backup_fp, target_fp, p['ignore_key_mismatch'])
    match = bool(backup_fp) and backup_fp == target_fp
    if not ok:
        raise BackupError('refusing to restore %s into %s: %s. Nothing was changed.' % (entry['name'],
                                                                                        p['container'], why))
    problems = verify_file(backup_dir, entry['name'], manifest)
    if problems:
        raise BackupError('refusing to restore %s: the archive is not the one that was backed up (%s). Nothing was '
                          'changed.' % (entry['name'], '; '.join(problems)))
    return dict(entry=entry, info=info, manifest=manifest, checksum_ok=True,
                key_check=dict(match=match, backup=short_fp(backup_fp), target=short_fp(target_fp),
                               ignored=not match, message=why))


def restore(client, p, backup_dir, planned):
    entry, info, manifest = planned['entry'], planned['info'], planned['manifest']
    data_mount = mount_of(info, p['data_path'])
    if not data_mount:
        raise BackupError('the n8n container %s has no volume or bind mount at %s (data_path)'
                          % (p['container'], p['data_path']))
    networks = container_networks(info)
    env = container_env(info)
    env.setdefault('HOME', os.path.dirname(p['data_path']))
    secrets_ = [v for k, v in env.items() if any(w in k.upper() for w in ('PASSWORD', 'KEY', 'SECRET', 'TOKEN'))]
    phases = {}
    started = time.monotonic()

    def phase(name):
        now = time.monotonic()
        phases[name] = round(now - phase.last, 3)
        phase.last = now
    phase.last = started

    was_running = is_running(info)
    stopped = False
    try:
        if was_running:
            stop_container(client, p['container'])
            stopped = True
        phase('stop')
        mounts = [dict(data_mount), dict(Type='bind', Source=backup_dir, Target=backup_dir, ReadOnly=True)]
        with ToolContainer(client, info['Image'], p['tool_name_prefix'], 'n8n_restore', mounts,
                           networks[0] if networks else 'bridge', p['tool_timeout'], secrets_) as tool:
            tool.check(tool.exec_(['sh', '-c', REPLACE_SCRIPT], env=dict(
                STAGE=STAGE, DATA=p['data_path'], ARCHIVE=entry['path'], CLI_USER=p['cli_user'],
                KEEP_CONFIG='1' if planned['key_check']['ignored'] else '0')), 'replacing the data folder')
            phase('data_folder')
            out = tool.check(tool.exec_(['sh', '-c', IMPORT_SCRIPT], env=dict(env, STAGE=STAGE),
                                        user=p['cli_user']), 'the n8n CLI import (credentials, then workflows)')
            phase('import')
            text = out.text
            wf_part, _sep, cred_part = text.partition('ARIZU_CRED')
            present_wf = export_ids(wf_part.replace('ARIZU_WF', ''))
            present_cred = export_ids(cred_part)
            tool.exec_(['rm', '-rf', STAGE])
        missing_wf = sorted(set(manifest.get('workflow_ids') or []) - set(present_wf))
        missing_cred = sorted(set(manifest.get('credential_ids') or []) - set(present_cred))
        start_container(client, p['container'])
        stopped = False
        waited = wait_healthy(client, p['container'], p['healthy_timeout'])
        phase('start_ready')
        if missing_wf or missing_cred:
            raise BackupError('after the import %d workflows and %d credentials of the backup are missing (%s)' % (
                len(missing_wf), len(missing_cred), ', '.join((missing_wf + missing_cred)[:10])))
        return dict(workflows=len(present_wf), credentials=len(present_cred), missing_workflows=missing_wf,
                    missing_credentials=missing_cred, expected_workflows=manifest.get('workflows'),
                    expected_credentials=manifest.get('credentials'), ready_after_seconds=waited,
                    phases=phases, seconds=round(time.monotonic() - started, 3))
    finally:
        if stopped:
            try:
                start_container(client, p['container'])
            except Exception:  # pylint: disable=broad-except
                pass


def run(client):
    module = client.module
    p = module.params
    validate(module)
    backup_dir = os.path.realpath(p['backup_dir'])
    if p['action'] == 'restore' and p['confirm'] != p['container'] and not module.check_mode:
        raise BackupError('refusing to restore into %s without confirmation: set confirm to the n8n container\'s '
                          'name (%s). Nothing was changed.' % (p['container'], p['container']))
    planned = plan(client, p, backup_dir)
    manifest = planned['manifest']
    result = dict(changed=False, backup=planned['entry']['name'], manifest=manifest,
                  key_check=planned['key_check'], checksum_ok=True)
    summary = '%s (%s, %d workflows, %d credentials, taken %s)' % (
        result['backup'], human_bytes(manifest.get('size_bytes')), manifest.get('workflows') or 0,
        manifest.get('credentials') or 0, manifest.get('created_at'))
    if p['action'] == 'plan' or module.check_mode:
        result.update(changed=p['action'] == 'restore', msg='%s %s into %s: checksums ok, %s' % (
            'would restore' if p['action'] == 'restore' else 'can restore', summary, p['container'],
            planned['key_check']['message']))
        module.exit_json(**result)
    lock = DirLock(backup_dir, 'n8n restore into %s' % p['container']).acquire(p['lock_wait'])
    try:
        restored = restore(client, p, backup_dir, planned)
    finally:
        lock.release()
    result.update(changed=True, restored=restored, msg='restored %s into %s: %d workflows, %d credentials, ready '
                  'after %.1f s, %.1f s in all' % (summary, p['container'], restored['workflows'],
                                                   restored['credentials'], restored['ready_after_seconds'],
                                                   restored['seconds']))
    module.exit_json(**result)


def main():
    argument_spec = dict(
        action=dict(type='str', default='plan', choices=['plan', 'restore']),
        container=dict(type='str', default='arizu-n8n'),
        backup_dir=dict(type='path', required=True),
        backup=dict(type='str', default=''),
        encryption_key=dict(type='str', no_log=True),
        ignore_key_mismatch=dict(type='bool', default=False),
        confirm=dict(type='str', default=''),
        data_path=dict(type='str', default='/home/node/.n8n'),
        cli_user=dict(type='str', default='node'),
        healthy_timeout=dict(type='int', default=300),
        lock_wait=dict(type='int', default=0),
        tool_name_prefix=dict(type='str', default='arizu-n8n-tool'),
        tool_timeout=dict(type='int', default=3600),
    )
    client = ToolDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version='1.25')
    module = client.module
    secrets_ = [module.params.get('encryption_key')]
    what = 'n8n restore' if module.params['action'] == 'restore' else 'n8n restore plan'
    run_or_fail(module, what, secrets_, run, client)


if __name__ == '__main__':
    main()
