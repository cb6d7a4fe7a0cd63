#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_set
short_description: Begin, seal, find and check a timestamped set of Arizu backups (full backup, disaster recovery)
version_added: 1.2.0
description:
  - A set is a folder C(set-YYYY-MM-DD-HHMMSS) in O(base_dir) with one sub-folder per component (C(postgres),
    C(n8n), C(redis), C(state)) and the set manifest C(set.json).
  - O(action=begin) creates a new set folder (0700) and returns its path.
  - O(action=finish) checks every component backup of the set against its C(.sha256) file, records each one
    (name, sha256, size, its manifest's counts) and every file of C(state/) with its sha256 in C(set.json)
    (C(verified=true) only when every component in O(required) is there), then applies the retention to the sets
    of O(base_dir) (verified sets only; the newest is never deleted; a set without a verified C(set.json) is never
    touched).
  - O(action=find) (read-only) picks a set (O(set), or the newest verified one) and checks every file the set
    manifest lists against its recorded sha256 - a changed or missing file fails the module, naming it.
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - O(action=find) runs as usual; begin and finish report what they would do.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  action:
    description: V(begin), V(finish) or V(find).
    type: str
    choices: [begin, finish, find]
    required: true
  base_dir:
    description: Folder of the sets on the Docker host.
    type: path
    required: true
  set:
    description: Set folder name (C(set-...)); required for V(finish); for V(find) empty means the newest verified set.
    type: str
    default: ''
  required:
    description: Components that must be in the set for it to be verified (V(finish)).
    type: list
    elements: str
    default: [postgres, n8n, redis, state]
  keep_last:
    description: Retention after V(finish) - keep the newest N verified sets; V(0) turns retention off.
    type: int
    default: 7
  extra:
    description: Further facts recorded in the set manifest (V(finish)), for example the hosts and durations.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Begin a set
  arizu.ops.backup_set:
    action: begin
    base_dir: /var/backups/arizu/sets
  register: backup_set

- name: Find the newest verified set and check its files
  arizu.ops.backup_set:
    action: find
    base_dir: /var/backups/arizu/sets
  register: found
"""

RETURN = r"""
set:
  description: Name of the set folder.
  returned: success
  type: str
  sample: set-2025-01-31-020000
set_dir:
  description: Full path of the set folder.
  returned: success
  type: str
manifest:
  description: The set manifest (finish, find).
  returned: action is finish or find
  type: dict
components:
  description: Per component, the backup file name in its sub-folder (find, finish).
  returned: action is finish or find
  type: dict
  sample: {postgres: backup-2025-01-31-020001.dump, n8n: n8n-2025-01-31-020010.tar.gz, redis: redis-2025-01-31-020015.rdb}
deleted:
  description: Sets deleted by the retention (finish).
  returned: action is finish
  type: list
  elements: str
msg:
  description: One line for the operator.
  returned: always
  type: str
"""

import json
import os
import re
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    BackupError, hash_file, human_bytes, iso_utc, parse_iso_utc, read_manifest, scan_backups,
    verify_checksums)
from ansible_collections.arizu.ops.plugins.module_utils.service_backup import (
    fsync_path, make_backup_dir, scan, verify_file, write_private)

SET_RE = re.compile(r'^set-(\d{4})-(\d{2})-(\d{2})-(\d{6})(?:-(\d+))?$')
MANIFEST = 'set.json'


def set_entries(base_dir):
    try:
        names = os.listdir(base_dir)
    except OSError:
        return []
    entries = []
    for name in names:
        if not SET_RE.match(name) or not os.path.isdir(os.path.join(base_dir, name)):
            continue
        manifest = read_manifest(os.path.join(base_dir, name, MANIFEST))
        verified = isinstance(manifest, dict) and manifest.get('verified') is True and manifest.get('set') == name
        entries.append(dict(name=name, verified=verified, manifest=manifest if verified else None,
                            created=parse_iso_utc((manifest or {}).get('created_at')) or 0))
    entries.sort(key=lambda e: (e['name'], e['created']), reverse=True)
    return entries


def component_record(set_dir, component):
    """The newest verified backup of a component sub-folder, checked against its checksums."""
    folder = os.path.join(set_dir, component)
    if component == 'postgres':
        entries = [e for e in scan_backups(folder) if e['verified']]
        if not entries:
            return None
        entry = entries[0]
        check = verify_checksums(folder, entry['name'], entry['manifest'])
        if not check['ok']:
            raise BackupError('postgres/%s does not match its checksums: %s' % (entry['name'],
                                                                                '; '.join(check['problems'])))
        man = entry['manifest']
        return dict(file=entry['name'], sha256=man['sha256'], size_bytes=man.get('size_bytes'),
                    database=man.get('database'), format=man.get('format'),
                    row_counts_total=sum((man.get('row_counts') or {}).values()))
    if component in ('n8n', 'redis'):
        entries = [e for e in scan(component, folder) if e['verified']]
        if not entries:
            return None
        entry = entries[0]
        problems = verify_file(folder, entry['name'], entry['manifest'])
        if problems:
            raise BackupError('%s/%s does not match its checksums: %s' % (component, entry['name'],
                                                                          '; '.join(problems)))
        man = entry['manifest']
        record = dict(file=entry['name'], sha256=man['sha256'], size_bytes=man.get('size_bytes'))
        if component == 'n8n':
            record.update(workflows=man.get('workflows'), credentials=man.get('credentials'),
                          encryption_key_sha256=man.get('encryption_key_sha256'))
        else:
            record.update(keys=man.get('keys'))
        return record
    # any other component: every file with its sha256
    if not os.path.isdir(folder):
        return None
    files = {}
    for item in sorted(os.listdir(folder)):
        full = os.path.join(folder, item)
        if os.path.isfile(full):
            files[item] = hash_file(full)[0]
    return dict(files=files) if files else None


def finish(module, p, base_dir):
    name = p['set']
    if not SET_RE.match(name or ''):
        raise BackupError('set must be a set folder name (set-YYYY-MM-DD-HHMMSS), got %r' % name)
    set_dir = os.path.join(base_dir, name)
    if not os.path.isdir(set_dir):
        raise BackupError('there is no set %s in %s' % (name, base_dir))
    components = {}
    for component in sorted(set(p['required']) | set(x for x in os.listdir(set_dir)
                                                     if os.path.isdir(os.path.join(set_dir, x)))):
        record = component_record(set_dir, component)
        if record:
            components[component] = record
    missing = [c for c in p['required'] if c not in components]
    stamp = SET_RE.match(name).groups()
    created = '%s-%s-%sT%s:%s:%sZ' % (stamp[0], stamp[1], stamp[2], stamp[3][:2], stamp[3][2:4], stamp[3][4:])
    size = 0
    for root, _dirs, files in os.walk(set_dir):
        for item in files:
            size += os.path.getsize(os.path.join(root, item))
    manifest = dict(manifest_version=1, tool='arizu.ops.backup_set', set=name, created_at=created,
                    finished_at=iso_utc(time.time()), components=components, missing=missing,
                    size_bytes=size, verified=not missing)
    manifest.update(p['extra'] or {})
    if module.check_mode:
        module.exit_json(changed=True, set=name, set_dir=set_dir, manifest=manifest,
                         msg='would seal %s (%s)' % (name, ', '.join(sorted(components))))
    write_private(os.path.join(set_dir, MANIFEST), json.dumps(manifest, indent=2, sort_keys=True) + '\n')
    fsync_path(set_dir)
    if missing:
        raise BackupError('the set %s lacks %s: it is not verified (set.json says so)' % (name, ', '.join(missing)))
    deleted = []
    if p['keep_last'] > 0:
        verified = [e for e in set_entries(base_dir) if e['verified']]
        for old in verified[p['keep_last']:]:
            if old['name'] == name:
                continue
            # the manifest first: a half-deleted set is no longer a set
            os.unlink(os.path.join(base_dir, old['name'], MANIFEST))
            shutil.rmtree(os.path.join(base_dir, old['name']), ignore_errors=True)
            deleted.append(old['name'])
    module.exit_json(changed=True, set=name, set_dir=set_dir, manifest=manifest, deleted=deleted,
                     components=dict((c, r.get('file')) for c, r in components.items() if r.get('file')),
                     msg='%s sealed: %s, %s; retention deleted %d' % (
                         name, ', '.join('%s %s' % (c, r.get('file') or '%d files' % len(r.get('files', {})))
                                         for c, r in sorted(components.items())), human_bytes(size), len(deleted)))


def find(module, p, base_dir):
    entries = set_entries(base_dir)
    if p['set']:
        entry = next((e for e in entries if e['name'] == p['set']), None)
        if entry is None:
            raise BackupError('there is no set %s in %s' % (p['set'], base_dir))
        if not entry['verified']:
            raise BackupError('%s in %s is not a verified set (no set.json saying verified=true)' % (p['set'],
                                                                                                     base_dir))
    else:
        entry = next((e for e in entries if e['verified']), None)
        if entry is None:
            raise BackupError('there is no verified backup set in %s' % base_dir)
    set_dir = os.path.join(base_dir, entry['name'])
    manifest = entry['manifest']
    problems = []
    for component, record in sorted((manifest.get('components') or {}).items()):
        folder = os.path.join(set_dir, component)
        if record.get('file'):
            path = os.path.join(folder, record['file'])
            if not os.path.exists(path):
                problems.append('%s/%s is missing' % (component, record['file']))
            elif component == 'postgres':
                check = verify_checksums(folder, record['file'], dict(sha256=record['sha256']))
                problems += ['%s: %s' % (component, x) for x in check['problems']]
            else:
                digest = hash_file(path)[0]
                if digest != record['sha256']:
                    problems.append('%s/%s has sha256 %s, the set manifest records %s' % (
                        component, record['file'], digest, record['sha256']))
        for item, digest in sorted((record.get('files') or {}).items()):
            path = os.path.join(folder, item)
            if not os.path.isfile(path):
                problems.append('%s/%s is missing' % (component, item))
            elif hash_file(path)[0] != digest:
                problems.append('%s/%s does not match the sha256 of the set manifest' % (component, item))
    if problems:
        raise BackupError('the set %s is damaged, refusing to use it: %s' % (entry['name'], '; '.join(problems)))
    module.exit_json(changed=False, set=entry['name'], set_dir=set_dir, manifest=manifest,
                     components=dict((c, r.get('file')) for c, r in (manifest.get('components') or {}).items()
                                     if r.get('file')),
                     msg='%s: every file matches the set manifest (%s)' % (
                         entry['name'], ', '.join(sorted(manifest.get('components') or {}))))


def main():
    module = AnsibleModule(argument_spec=dict(
        action=dict(type='str', required=True, choices=['begin', 'finish', 'find']),
        base_dir=dict(type='path', required=True),
        set=dict(type='str', default=''),
        required=dict(type='list', elements='str', default=['postgres', 'n8n', 'redis', 'state']),
        keep_last=dict(type='int', default=7),
        extra=dict(type='dict', default={}),
    ), supports_check_mode=True)
    p = module.params
    if not os.path.isabs(p['base_dir']):
        module.fail_json(msg='base_dir must be an absolute path, got %r' % p['base_dir'])
    if p['keep_last'] < 0:
        module.fail_json(msg='keep_last must be 0 or more, got %s' % p['keep_last'])
    base_dir = os.path.realpath(p['base_dir'])
    try:
        if p['action'] == 'begin':
            stamp = time.strftime('%Y-%m-%d-%H%M%S', time.gmtime())
            name = 'set-%s' % stamp
            number = 2
            while os.path.exists(os.path.join(base_dir, name)):
                name = 'set-%s-%d' % (stamp, number)
                number += 1
            set_dir = os.path.join(base_dir, name)
            if module.check_mode:
                module.exit_json(changed=True, set=name, set_dir=set_dir, msg='would begin %s' % set_dir)
            make_backup_dir(base_dir)
            os.mkdir(set_dir, 0o700)
            module.exit_json(changed=True, set=name, set_dir=set_dir, msg='began %s' % set_dir)
        elif p['action'] == 'finish':
            finish(module, p, base_dir)
        else:
            find(module, p, base_dir)
    except BackupError as exc:
        module.fail_json(msg='backup set %s failed: %s' % (p['action'], exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='backup set %s failed: %s: %s' % (p['action'], getattr(exc, 'filename', '') or '',
                                                               exc.strerror or exc))


if __name__ == '__main__':
    main()
