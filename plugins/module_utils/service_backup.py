# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The parts of arizu.ops.n8n_backup, n8n_restore and redis_snapshot that need no Docker.

Backup names (``n8n-YYYY-MM-DD-HHMMSS.tar.gz``, ``redis-YYYY-MM-DD-HHMMSS.rdb``),
the scan of a backup folder (a backup is the data file with ``<name>.sha256``
and a manifest ``<name>.json`` that says ``"verified": true``), the n8n
encryption key's fingerprint, the listing of an n8n export, and the checks a
restore makes before it touches anything. Retention and the folder lock are
those of the Postgres backups (``pg_backup``).
"""

from __future__ import annotations

import calendar
import errno
import hashlib
import json
import os
import re
import time

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    BackupError,
    hash_file,
    iso_utc,
    parse_checksum_listing,
    parse_iso_utc,
    read_manifest,
)

MANIFEST_VERSION = 1
KINDS = {'n8n': 'tar.gz', 'redis': 'rdb'}
_HEX64 = re.compile(r'^[0-9a-f]{64}$')


def name_re(kind):
    return re.compile(r'^%s-(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?\.%s$'
                      % (re.escape(kind), re.escape(KINDS[kind])))


def backup_name(kind, started, taken=()):
    """``<kind>-YYYY-MM-DD-HHMMSS.<ext>`` (UTC); ``-2``, ``-3`` ... when the name is taken."""
    stamp = time.strftime('%Y-%m-%d-%H%M%S', time.gmtime(started))
    name = '%s-%s.%s' % (kind, stamp, KINDS[kind])
    number = 2
    while name in taken:
        name = '%s-%s-%d.%s' % (kind, stamp, number, KINDS[kind])
        number += 1
    return name


def parse_backup_name(kind, name):
    """``(epoch, suffix)`` of a name made by :func:`backup_name`, else ``None``."""
    match = name_re(kind).match(name or '')
    if not match:
        return None
    parts = [int(x) for x in match.groups()[:6]]
    try:
        epoch = calendar.timegm(tuple(parts) + (0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return epoch, int(match.group(7) or 1)


def manifest_is_verified(manifest, name, kind):
    return isinstance(manifest, dict) and manifest.get('verified') is True and manifest.get('name') == name \
        and manifest.get('kind') == kind and bool(_HEX64.match(str(manifest.get('sha256') or ''))) \
        and parse_iso_utc(manifest.get('created_at')) is not None


def scan(kind, backup_dir):
    """Every ``<kind>-*`` backup of a folder, newest first: ``[dict(name, path, verified, created, manifest,
    size_bytes)]``; only a data file with a ``.sha256`` and a manifest vouching for it is verified."""
    try:
        names = os.listdir(backup_dir)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise
    present = set(names)
    entries = []
    for name in names:
        parsed = parse_backup_name(kind, name)
        if not parsed:
            continue
        path = os.path.join(backup_dir, name)
        manifest = read_manifest(path + '.json') if name + '.json' in present else None
        verified = manifest_is_verified(manifest, name, kind) and name + '.sha256' in present \
            and os.path.isfile(path)
        created = parse_iso_utc(manifest.get('created_at')) if verified else None
        entries.append(dict(name=name, path=path, verified=verified, created=created or parsed[0],
                            suffix=parsed[1], manifest=manifest if verified else None,
                            size_bytes=manifest.get('size_bytes') if verified else None))
    entries.sort(key=lambda e: (e['created'] or 0, e['suffix'], e['name']), reverse=True)
    return entries


def pick_backup(kind, backup_dir, wanted):
    """The entry of backup *wanted* (a plain name), or the newest verified one; BackupError naming the problem."""
    entries = scan(kind, backup_dir)
    if wanted:
        if '/' in wanted or wanted.startswith('.'):
            raise BackupError('backup must be a file name in %s, got %r' % (backup_dir, wanted))
        for entry in entries:
            if entry['name'] == wanted:
                if not entry['verified']:
                    raise BackupError('%s in %s is not a verified backup (no .sha256 and manifest saying '
                                      'verified=true)' % (wanted, backup_dir))
                return entry
        raise BackupError('there is no backup %s in %s' % (wanted, backup_dir))
    for entry in entries:
        if entry['verified']:
            return entry
    raise BackupError('there is no verified %s backup in %s' % (kind, backup_dir))


def verify_file(backup_dir, name, manifest):
    """Check the data file against its ``.sha256`` and the manifest; ``[problem sentences]`` (empty: good)."""
    path = os.path.join(backup_dir, name)
    try:
        with open(path + '.sha256', 'r') as handle:
            expected = parse_checksum_listing(handle.read())
    except (IOError, OSError) as exc:
        return ['%s.sha256 cannot be read: %s' % (name, exc.strerror or exc)]
    except ValueError as exc:
        return ['%s.sha256 is malformed: %s' % (name, exc)]
    try:
        digest, size = hash_file(path)
    except (IOError, OSError) as exc:
        return ['%s cannot be read: %s' % (name, exc.strerror or exc)]
    problems = []
    if expected.get(name) != digest:
        problems.append('%s has sha256 %s, its .sha256 file says %s' % (name, digest, expected.get(name)))
    if manifest.get('sha256') != digest:
        problems.append('the manifest records sha256 %s, the file has %s' % (manifest.get('sha256'), digest))
    if isinstance(manifest.get('size_bytes'), int) and manifest['size_bytes'] != size:
        problems.append('the manifest records %d bytes, the file has %d' % (manifest['size_bytes'], size))
    return problems


def key_fingerprint(key):
    """sha256 (hex) of an n8n encryption key; ``None`` for no key. The key itself is never recorded."""
    if not key:
        return None
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


def short_fp(fingerprint):
    return (fingerprint or 'none')[:16]


def key_check(backup_fp, target_fp, ignore):
    """``(ok, message)``: whether the target's key is the backup's (or the mismatch is waived)."""
    if not backup_fp:
        return False, 'the backup records no encryption key fingerprint: it was not made by arizu.ops.n8n_backup'
    if not target_fp:
        return ignore, ('the target n8n has no encryption key configured (N8N_ENCRYPTION_KEY / n8n_encryption_key); '
                        'the backup\'s key has fingerprint %s' % short_fp(backup_fp))
    if backup_fp == target_fp:
        return True, 'encryption key fingerprints match (%s)' % short_fp(backup_fp)
    return ignore, ('encryption key mismatch: the backup was taken with the key of fingerprint %s, the target n8n is '
                    'configured with the key of fingerprint %s; its credentials could not be decrypted. Configure the '
                    'backup\'s key (n8n_encryption_key from the vault of that time), or set '
                    'n8n_restore_ignore_key_mismatch=true to restore anyway (credentials unreadable, the target '
                    'keeps its own key)' % (short_fp(backup_fp), short_fp(target_fp)))


def config_key(text):
    """The ``encryptionKey`` of an n8n config file's text, else ``None``."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get('encryptionKey') if isinstance(data, dict) else None


def export_ids(listing):
    """IDs from the file names an n8n ``export --backup`` wrote (``<id>.json``, one per line), sorted."""
    ids = set()
    for line in (listing or '').splitlines():
        name = line.strip().rsplit('/', 1)[-1]
        if name.endswith('.json') and len(name) > 5:
            ids.add(name[:-5])
    return sorted(ids)


def build_manifest(kind, name, started, finished, size_bytes, sha256, source, verification, **extra):
    manifest = dict(manifest_version=MANIFEST_VERSION, tool='arizu.ops.%s' % ('n8n_backup' if kind == 'n8n'
                                                                              else 'redis_snapshot'),
                    kind=kind, name=name, created_at=iso_utc(started, millis=True),
                    finished_at=iso_utc(finished, millis=True),
                    duration_seconds=round(max(0.0, finished - started), 3), size_bytes=int(size_bytes),
                    sha256=sha256, source=source, verification=verification, verified=True)
    manifest.update(extra)
    return manifest


def parse_info(text):
    """``{field: value}`` of Redis ``INFO`` output (values as text)."""
    result = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or ':' not in line:
            continue
        key, value = line.split(':', 1)
        result[key] = value
    return result


def keyspace_keys(info):
    """Total keys over every ``dbN:keys=..,expires=..`` line of parsed INFO."""
    total = 0
    for key, value in info.items():
        if re.match(r'^db\d+$', key):
            for part in value.split(','):
                if part.startswith('keys='):
                    try:
                        total += int(part[5:])
                    except ValueError:
                        pass
    return total


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

TEMP_PREFIX = '.tmp-'


def write_private(path, text):
    """Write *text* to *path*, mode 0600, fsynced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)


def fsync_path(path):
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


def make_backup_dir(path):
    try:
        os.makedirs(path, 0o700)
    except OSError:
        if not os.path.isdir(path):
            raise BackupError('cannot create backup_dir %s' % path)
    os.chmod(path, 0o700)


def clean_temporaries(backup_dir, kind):
    """Leftovers of a killed backup of this kind (the caller holds the folder's lock)."""
    for name in os.listdir(backup_dir):
        if name.startswith(TEMP_PREFIX + kind + '-'):
            try:
                os.unlink(os.path.join(backup_dir, name))
            except OSError:
                pass


def delete_backup(backup_dir, name):
    """The manifest first: a half-deleted backup is no longer a backup."""
    base = os.path.join(backup_dir, name)
    for path in (base + '.json', base + '.sha256', base):
        try:
            os.unlink(path)
        except OSError:
            pass


def publish(backup_dir, tmp_name, name, sha256, manifest):
    """Write ``.sha256`` and the manifest beside the verified temporary file, then rename all three
    (the data first, the manifest last: until it is there, this is not a backup)."""
    tmp = os.path.join(backup_dir, tmp_name)
    final = os.path.join(backup_dir, name)
    os.chmod(tmp, 0o600)
    fsync_path(tmp)
    write_private(tmp + '.sha256', '%s  %s\n' % (sha256, name))
    write_private(tmp + '.json', json.dumps(manifest, indent=2, sort_keys=True) + '\n')
    os.rename(tmp, final)
    os.rename(tmp + '.sha256', final + '.sha256')
    os.rename(tmp + '.json', final + '.json')
    fsync_path(backup_dir)
    return final
