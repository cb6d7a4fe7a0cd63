#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_snapshot
short_description: Take a verified RDB snapshot of Redis in Docker, or restore one
version_added: 1.2.0
description:
  - O(action=backup) - C(redis-cli --rdb) (the server's own version, in a short-lived helper container made from the
    Redis container's image and joined to its network namespace) asks the server for a fresh RDB snapshot and writes
    it to a temporary name in the bind-mounted O(backup_dir); C(redis-check-rdb) checks it; only then is it renamed to
    C(redis-YYYY-MM-DD-HHMMSS.rdb) with C(<name>.sha256) and the manifest C(<name>.json) (key count at the time,
    server version). Files 0600, folder 0700, the folder's lock, retention of verified snapshots only.
  - O(action=restore) - requires O(confirm) to equal O(container). Checks the snapshot against its C(.sha256) and
    manifest first (nothing is touched when it does not match), stops Redis, empties its data volume, loads the
    snapshot in a helper Redis (same image, no network), rewrites the append-only file from it (so a server with
    C(appendonly yes) loads it too), starts Redis again, waits until healthy and compares the key count.
  - The password (O(password), else the container's C(REDISCLI_AUTH)) reaches C(redis-cli) only as C(REDISCLI_AUTH)
    in the environment of an C(exec).
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports what it would do; a restore in check mode checks the snapshot's checksums.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing) in diff mode.
    support: none
options:
  action:
    description: V(backup) takes a snapshot; V(restore) restores one.
    type: str
    choices: [backup, restore]
    default: backup
  container:
    description: Name of the Redis container.
    type: str
    default: arizu-redis
  password:
    description: Password of Redis; empty - the container's C(REDISCLI_AUTH).
    type: str
  port:
    description: Port Redis listens on inside its container.
    type: int
    default: 6379
  backup_dir:
    description: Folder of the snapshots on the Docker host (created 0700).
    type: path
    required: true
  backup:
    description: O(action=restore) - file name of the snapshot; empty - the newest verified one.
    type: str
    default: ''
  confirm:
    description: Must equal O(container) for O(action=restore), or the module refuses.
    type: str
    default: ''
  data_path:
    description: Redis's data folder inside its container (the C(dir) of redis.conf).
    type: str
    default: /data
  keep_last:
    description: Retention - keep the newest N verified snapshots; V(0) turns this rule off.
    type: int
    default: 7
  keep_days:
    description: Retention - keep the verified snapshots younger than N days; V(0) turns this rule off.
    type: int
    default: 0
  lock_wait:
    description: Seconds to wait while another backup or restore holds the folder's lock; V(0) refuses at once.
    type: int
    default: 0
  healthy_timeout:
    description: Seconds to wait for Redis to be healthy after a restore.
    type: int
    default: 120
  tool_name_prefix:
    description: Name prefix of the helper container.
    type: str
    default: arizu-redis-tool
  tool_timeout:
    description: Seconds after which the helper container ends itself whatever happens.
    type: int
    default: 3600
"""

EXAMPLES = r"""
- name: Snapshot Redis
  arizu.ops.redis_snapshot:
    container: arizu-redis
    backup_dir: /var/backups/arizu/redis

- name: Restore the newest snapshot
  arizu.ops.redis_snapshot:
    action: restore
    confirm: arizu-redis
    container: arizu-redis
    backup_dir: /var/backups/arizu/redis
"""

RETURN = r"""
backup:
  description: Name of the snapshot taken or restored.
  returned: success, not in check mode
  type: str
  sample: redis-2025-01-31-020000.rdb
manifest:
  description: The snapshot's manifest.
  returned: success, not in check mode
  type: dict
key_count:
  description:
    - Keys in Redis after the restore (action=restore), or at the snapshot (action=backup).
    - Also returned as C(keys), read as C(result['keys']) only (C(result.keys) is the dict method in Jinja).
  returned: success, not in check mode
  type: int
deleted:
  description: Snapshots deleted by the retention.
  returned: action=backup
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
    ToolContainer, container_env, inspect_container, is_running, mount_of, run_or_fail, start_container,
    stop_container, wait_healthy)
from ansible_collections.arizu.ops.plugins.module_utils.service_backup import (
    TEMP_PREFIX, backup_name, build_manifest, clean_temporaries, delete_backup, keyspace_keys, make_backup_dir,
    parse_info, pick_backup, publish, scan, verify_file)

SOCKET = '/tmp/arizu-redis-restore.sock'

# As root in the helper: the snapshot into the emptied volume, loaded by a private server (unix socket only),
# the AOF rewritten from it, saved, and the files given back to the volume's owner.
RESTORE_SCRIPT = r'''
set -e
owner=$(stat -c %u:%g "$DATA")
find "$DATA" -mindepth 1 -delete
cp "$RDB" "$DATA/dump.rdb"
redis-server --port 0 --unixsocket "$SOCK" --dir "$DATA" --dbfilename dump.rdb --appendonly no --save "" \
  --daemonize yes --logfile "$DATA/.restore.log"
i=0; until [ "$(redis-cli -s "$SOCK" ping 2>/dev/null)" = PONG ]; do i=$((i+1)); [ $i -lt 600 ] || exit 95; sleep 0.5; done
echo "ARIZU_KEYS $(redis-cli -s "$SOCK" dbsize)"
redis-cli -s "$SOCK" config set appendonly yes > /dev/null
i=0; while :; do
  info=$(redis-cli -s "$SOCK" info persistence | tr -d '\r')
  echo "$info" | grep -q '^aof_rewrite_in_progress:0' && echo "$info" | grep -q '^aof_rewrite_scheduled:0' \
    && echo "$info" | grep -q '^aof_enabled:1' && break
  i=$((i+1)); [ $i -lt 3600 ] || exit 96; sleep 0.5
done
echo "$info" | grep -q '^aof_last_bgrewrite_status:ok' || exit 97
redis-cli -s "$SOCK" shutdown save > /dev/null 2>&1 || true
i=0; while [ -S "$SOCK" ]; do i=$((i+1)); [ $i -lt 600 ] || exit 98; sleep 0.5; done
rm -f "$DATA/.restore.log"
chown -R "$owner" "$DATA"
'''


def common_checks(module):
    p = module.params
    if not os.path.isabs(p['backup_dir']):
        module.fail_json(msg='backup_dir must be an absolute path, got %r' % p['backup_dir'])
    for name in ('keep_last', 'keep_days', 'lock_wait', 'healthy_timeout'):
        if p[name] < 0:
            module.fail_json(msg='%s must be 0 or more, got %s' % (name, p[name]))
    if p['tool_timeout'] < 60:
        module.fail_json(msg='tool_timeout must be 60 or more, got %s' % p['tool_timeout'])


def redis_env(p, info):
    password = p['password'] or container_env(info).get('REDISCLI_AUTH') or ''
    return ({'REDISCLI_AUTH': password} if password else {}), [password]


def backup(client, p, backup_dir):
    module = client.module
    if module.check_mode:
        entries = scan('redis', backup_dir)
        keep, delete = plan_retention([dict(name='(new)', verified=True, created=time.time())] + entries,
                                      p['keep_last'], p['keep_days'], time.time())
        module.exit_json(changed=True, deleted=delete, msg='would snapshot %s into %s; retention would then delete %d'
                         % (p['container'], backup_dir, len(delete)))
    info = inspect_container(client, p['container'], 'Redis')
    if not is_running(info):
        raise BackupError('the Redis container %s is not running' % p['container'])
    env, secrets_ = redis_env(p, info)
    make_backup_dir(backup_dir)
    lock = DirLock(backup_dir, 'redis snapshot').acquire(p['lock_wait'])
    tmp = None
    try:
        clean_temporaries(backup_dir, 'redis')
        started = time.time()
        name = backup_name('redis', started, set(os.listdir(backup_dir)))
        tmp = os.path.join(backup_dir, TEMP_PREFIX + name)
        mounts = [dict(Type='bind', Source=backup_dir, Target=backup_dir)]
        cli = ['redis-cli', '-h', '127.0.0.1', '-p', str(p['port'])]
        with ToolContainer(client, info['Image'], p['tool_name_prefix'], 'redis_snapshot', mounts,
                           'container:%s' % info['Id'], p['tool_timeout'], secrets_) as tool:
            server = parse_info(tool.check(tool.exec_(cli + ['info'], env=env), 'redis-cli INFO').text)
            if 'redis_version' not in server:
                raise BackupError('Redis did not answer INFO (wrong password?)')
            tool.check(tool.exec_(cli + ['--rdb', tmp], env=env), 'redis-cli --rdb')
            checked = tool.exec_(['redis-check-rdb', tmp])
            if checked.rc == 127:
                check_tool = None
            else:
                tool.check(checked, 'redis-check-rdb of the new snapshot')
                check_tool = True
        digest, size = hash_file(tmp)
        with open(tmp, 'rb') as handle:
            if handle.read(5) != b'REDIS':
                raise BackupError('redis-cli --rdb exited 0 but the file is not an RDB snapshot')
        keys = keyspace_keys(server)
        manifest = build_manifest(
            'redis', name, started, time.time(), size, digest,
            source=dict(container=p['container'], image=(info.get('Config') or {}).get('Image'), image_id=info['Image']),
            verification=dict(rdb_magic=True, redis_check_rdb=check_tool), keys=keys,
            redis_version=server.get('redis_version'), aof_enabled=server.get('aof_enabled') == '1')
        final = publish(backup_dir, TEMP_PREFIX + name, name, digest, manifest)
        tmp = None
        keep, delete = plan_retention(scan('redis', backup_dir), p['keep_last'], p['keep_days'], time.time())
        for old in delete:
            delete_backup(backup_dir, old)
        module.exit_json(changed=True, backup=name, backup_path=final, manifest=manifest, keys=keys, key_count=keys, kept=keep,
                         deleted=delete, msg='%s: %s, %d keys, redis %s; retention kept %d, deleted %d' % (
                             name, human_bytes(size), keys, server.get('redis_version'), len(keep), len(delete)))
    finally:
        if tmp and os.path.lexists(tmp):
            os.unlink(tmp)
        lock.release()


def restore(client, p, backup_dir):
    module = client.module
    if p['confirm'] != p['container'] and not module.check_mode:
        raise BackupError('refusing to restore into %s without confirmation: set confirm to the Redis container\'s '
                          'name (%s). Nothing was changed.' % (p['container'], p['container']))
    entry = pick_backup('redis', backup_dir, p['backup'])
    problems = verify_file(backup_dir, entry['name'], entry['manifest'])
    if problems:
        raise BackupError('refusing to restore %s: %s. Nothing was changed.' % (entry['name'], '; '.join(problems)))
    info = inspect_container(client, p['container'], 'Redis')
    if module.check_mode:
        module.exit_json(changed=True, backup=entry['name'], manifest=entry['manifest'],
                         msg='would restore %s (%d keys) into %s: checksums ok' % (
                             entry['name'], entry['manifest'].get('keys') or 0, p['container']))
    data_mount = mount_of(info, p['data_path'])
    if not data_mount:
        raise BackupError('the Redis container %s has no volume or bind mount at %s' % (p['container'],
                                                                                        p['data_path']))
    env, secrets_ = redis_env(p, info)
    lock = DirLock(backup_dir, 'redis restore into %s' % p['container']).acquire(p['lock_wait'])
    stopped = False
    try:
        if is_running(info):
            stop_container(client, p['container'])
            stopped = True
        mounts = [dict(data_mount), dict(Type='bind', Source=backup_dir, Target=backup_dir, ReadOnly=True)]
        with ToolContainer(client, info['Image'], p['tool_name_prefix'], 'redis_restore', mounts, 'none',
                           p['tool_timeout'], secrets_) as tool:
            out = tool.check(tool.exec_(['sh', '-c', RESTORE_SCRIPT], env=dict(
                DATA=p['data_path'], RDB=entry['path'], SOCK=SOCKET)), 'loading the snapshot and rewriting the AOF')
        loaded = None
        for line in out.text.splitlines():
            if line.startswith('ARIZU_KEYS '):
                loaded = int(line.split()[1])
        start_container(client, p['container'])
        stopped = False
        wait_healthy(client, p['container'], p['healthy_timeout'])
        probe = ToolContainer(client, None, 'unused', 'redis_restore', [], 'none', 60, secrets_)
        probe.container_id = info['Id']
        keys = None
        for _attempt in range(30):
            res = probe.exec_(['redis-cli', '-p', str(p['port']), 'dbsize'], env=env, user='')
            if res.rc == 0 and res.text.strip().isdigit():
                keys = int(res.text.strip())
                break
            time.sleep(1)
        expected = entry['manifest'].get('keys')
        if keys is None or (isinstance(expected, int) and keys != expected):
            raise BackupError('Redis holds %s keys after the restore, the snapshot had %s' % (keys, expected))
        module.exit_json(changed=True, backup=entry['name'], manifest=entry['manifest'], keys=keys, key_count=keys,
                         loaded_keys=loaded, msg='restored %s into %s: %d keys, healthy' % (
                             entry['name'], p['container'], keys))
    finally:
        if stopped:
            try:
                start_container(client, p['container'])
            except Exception:  # pylint: disable=broad-except
                pass
        lock.release()


def main():
    argument_spec = dict(
        action=dict(type='str', default='backup', choices=['backup', 'restore']),
        container=dict(type='str', default='arizu-redis'),
        password=dict(type='str', no_log=True),
        port=dict(type='int', default=6379),
        backup_dir=dict(type='path', required=True),
        backup=dict(type='str', default=''),
        confirm=dict(type='str', default=''),
        data_path=dict(type='str', default='/data'),
        keep_last=dict(type='int', default=7),
        keep_days=dict(type='int', default=0),
        lock_wait=dict(type='int', default=0),
        healthy_timeout=dict(type='int', default=120),
        tool_name_prefix=dict(type='str', default='arizu-redis-tool'),
        tool_timeout=dict(type='int', default=3600),
    )
    client = ToolDockerClient(argument_spec=argument_spec, supports_check_mode=True, min_docker_api_version='1.25')
    module = client.module
    common_checks(module)
    backup_dir = os.path.realpath(module.params['backup_dir'])
    secrets_ = [module.params.get('password')]
    what = 'Redis %s' % ('restore' if module.params['action'] == 'restore' else 'snapshot')
    run_or_fail(module, what, secrets_, backup if module.params['action'] == 'backup' else restore,
                client, module.params, backup_dir)


if __name__ == '__main__':
    main()
