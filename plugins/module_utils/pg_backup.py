# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The parts of arizu.ops.pg_backup and arizu.ops.pg_restore that need neither Docker nor a database.

Backup names, format sniffing, checksums (``.sha256`` files in the format of
``sha256sum``), manifests, the scan of a backup folder, retention, the free
space rule, the folder lock, SQL quoting and the statements that carry a
database's own properties (owner, grants, settings) over to its restored copy.

A backup is a data file (``backup-YYYY-MM-DD-HHMMSS.dump``) or folder
(``...dir``) together with ``<name>.sha256`` and a manifest ``<name>.json``
that says ``"verified": true``; anything else in the folder is not a backup:
it is never restored as "the latest", never counted by retention and never
deleted by it.
"""

from __future__ import annotations

import calendar
import errno
import fcntl
import hashlib
import json
import os
import re
import time

from concurrent.futures import ThreadPoolExecutor

MANIFEST_VERSION = 1
HASH_CHUNK = 1024 * 1024
TEMP_PREFIX = '.tmp-'
LOCK_NAME = '.lock'
EXTENSIONS = {'custom': 'dump', 'directory': 'dir'}
_NAME_RE = re.compile(r'^backup-(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?\.(dump|dir)$')
_HEX64 = re.compile(r'^[0-9a-f]{64}$')
MASK = '********'


class BackupError(Exception):
    """A backup or restore step failed; the message is for the operator (never holds a secret)."""


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

def backup_name(started, fmt, taken=()):
    """``backup-YYYY-MM-DD-HHMMSS.<ext>`` for *started* (epoch seconds, UTC).

    When the name is in *taken* (two backups within one second), ``-2``,
    ``-3`` ... is added before the extension.
    """
    stamp = time.strftime('%Y-%m-%d-%H%M%S', time.gmtime(started))
    ext = EXTENSIONS[fmt]
    name = 'backup-%s.%s' % (stamp, ext)
    number = 2
    while name in taken:
        name = 'backup-%s-%d.%s' % (stamp, number, ext)
        number += 1
    return name


def parse_backup_name(name):
    """Epoch seconds (UTC) of a name made by :func:`backup_name`, else ``None``."""
    match = _NAME_RE.match(name or '')
    if not match:
        return None
    year, month, day, hour, minute, second = (int(x) for x in match.groups()[:6])
    try:
        return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None


def name_suffix(name):
    """The ``-N`` of a second backup within one second (1 without), to order names of the same second."""
    match = _NAME_RE.match(name or '')
    return int(match.group(7)) if match and match.group(7) else 1


def is_backup_name(name):
    return parse_backup_name(name) is not None


def valid_file_name(name):
    """A plain file name inside the backup folder (no path, no hidden or temporary file)."""
    return bool(name) and '/' not in name and '\0' not in name and name not in ('.', '..') \
        and not name.startswith('.')


def iso_utc(epoch, millis=False):
    """``YYYY-MM-DDTHH:MM:SSZ`` (with *millis*: ``...SS.mmmZ``) of epoch seconds."""
    text = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(epoch))
    if millis:
        text += '.%03d' % min(999, int(round((epoch - int(epoch)) * 1000)))
    return text + 'Z'


def parse_iso_utc(text):
    """Epoch seconds of ``YYYY-MM-DDTHH:MM:SSZ`` (fractions allowed), else ``None``."""
    if not isinstance(text, str):
        return None
    match = re.match(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$', text.strip())
    if not match:
        return None
    parts = [int(x) for x in match.groups()[:6]]
    try:
        value = calendar.timegm(tuple(parts) + (0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return value + (float(match.group(7)) if match.group(7) else 0.0)


def human_bytes(value):
    value = float(value or 0)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if abs(value) < 1024.0 or unit == 'TiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return '%.1f TiB' % value  # pragma: no cover


# --------------------------------------------------------------------------
# Format sniffing: the first bytes, never the name
# --------------------------------------------------------------------------

def sniff_bytes(head):
    """The format of a dump file from its first bytes (at least 512 for tar).

    ``custom`` (``PGDMP``), ``tar`` (``ustar`` at offset 257, pg_dump -Ft),
    ``gzip`` (a compressed file: not restorable as it is), ``plain`` (SQL text
    as pg_dump writes it), ``empty`` or ``unknown``.
    """
    if not head:
        return 'empty'
    if head[:5] == b'PGDMP':
        return 'custom'
    if len(head) >= 262 and head[257:262] == b'ustar':
        return 'tar'
    if head[:2] == b'\x1f\x8b':
        return 'gzip'
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError:
        # the head may end in the middle of a multibyte character
        try:
            text = head[:-3].decode('utf-8')
        except UnicodeDecodeError:
            return 'unknown'
    if '\0' in text:
        return 'unknown'
    stripped = text.lstrip('\ufeff \t\r\n')
    if 'PostgreSQL database dump' in text[:4096]:
        return 'plain'
    first = stripped.split('\n', 1)[0].strip().upper()
    if stripped.startswith('--') or first.startswith(('SET ', 'SELECT ', 'CREATE ', 'BEGIN', '\\')):
        return 'plain'
    return 'unknown'


def sniff_path(path):
    """The format of a backup at *path*: a file (see :func:`sniff_bytes`) or a folder.

    A folder is ``directory`` when it holds a ``toc.dat`` that starts with
    ``PGDMP`` (pg_dump -Fd), else ``unknown``. ``missing`` when nothing is there.
    """
    if os.path.isdir(path):
        toc = os.path.join(path, 'toc.dat')
        try:
            with open(toc, 'rb') as handle:
                head = handle.read(5)
        except (IOError, OSError):
            return 'unknown'
        return 'directory' if head == b'PGDMP' else 'unknown'
    try:
        with open(path, 'rb') as handle:
            return sniff_bytes(handle.read(4096))
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return 'missing'
        raise


# --------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------

def hash_file(path, chunk=HASH_CHUNK):
    """sha256 hex digest and size of a file, read in chunks (constant memory)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, 'rb') as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            size += len(block)
            digest.update(block)
    return digest.hexdigest(), size


def backup_files(path, name):
    """``[(relative name, absolute path)]`` of a backup: the file itself, or every file of a folder, sorted."""
    if not os.path.isdir(path):
        return [(name, path)]
    found = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for item in sorted(files):
            full = os.path.join(root, item)
            found.append((name + '/' + os.path.relpath(full, path).replace(os.sep, '/'), full))
    return sorted(found)


def checksum_listing(entries):
    """The text of a ``.sha256`` file (``sha256sum`` format) for ``[(hex, relative name)]``, sorted by name."""
    return ''.join('%s  %s\n' % (digest, rel) for digest, rel in sorted(entries, key=lambda e: e[1]))


def listing_digest(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def compute_checksums(path, name, workers=1):
    """Checksums of a backup: ``dict(sha256, size_bytes, files, listing)``.

    For a file, ``sha256`` is its digest; for a folder, the digest of its
    listing (the ``.sha256`` file's text), and ``files`` maps every file to
    its digest. The files of a folder are hashed by *workers* threads
    (hashlib releases the GIL).
    """
    entries = []
    files = {}
    total = 0
    listed = backup_files(path, name)
    if workers > 1 and len(listed) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            hashed = list(pool.map(lambda item: hash_file(item[1]), listed))
    else:
        hashed = [hash_file(full) for _rel, full in listed]
    for (rel, _full), (digest, size) in zip(listed, hashed):
        total += size
        entries.append((digest, rel))
        files[rel] = digest
    listing = checksum_listing(entries)
    if os.path.isdir(path):
        return dict(sha256=listing_digest(listing), size_bytes=total, files=files, listing=listing)
    return dict(sha256=entries[0][0], size_bytes=total, files=files, listing=listing)


def parse_checksum_listing(text):
    """``{relative name: hex}`` from a ``.sha256`` file; raises ValueError on a malformed line."""
    result = {}
    for number, line in enumerate((text or '').splitlines(), 1):
        if not line.strip():
            continue
        match = re.match(r'^([0-9a-fA-F]{64}) [ *](.+)$', line)
        if not match:
            raise ValueError('line %d is not "<sha256>  <name>"' % number)
        result[match.group(2)] = match.group(1).lower()
    if not result:
        raise ValueError('no checksum in it')
    return result


def verify_checksums(backup_dir, name, manifest=None):
    """Check a backup against its ``.sha256`` file (and the manifest's digest when given).

    Returns ``dict(ok, problems, sha256, size_bytes)``; *problems* are
    sentences naming what does not match. Reads every byte once.
    """
    path = os.path.join(backup_dir, name)
    problems = []
    sums_path = path + '.sha256'
    try:
        with open(sums_path, 'r') as handle:
            listing_text = handle.read()
        expected = parse_checksum_listing(listing_text)
    except (IOError, OSError) as exc:
        return dict(ok=False, problems=['%s.sha256 cannot be read: %s' % (name, exc.strerror or exc)],
                    sha256=None, size_bytes=None)
    except ValueError as exc:
        return dict(ok=False, problems=['%s.sha256 is malformed: %s' % (name, exc)], sha256=None, size_bytes=None)
    if not os.path.exists(path):
        return dict(ok=False, problems=['%s does not exist' % name], sha256=None, size_bytes=None)
    actual = compute_checksums(path, name)
    for rel in sorted(set(expected) | set(actual['files'])):
        if rel not in actual['files']:
            problems.append('%s is missing' % rel)
        elif rel not in expected:
            problems.append('%s is not in %s.sha256' % (rel, name))
        elif expected[rel] != actual['files'][rel]:
            problems.append('%s has sha256 %s, expected %s' % (rel, actual['files'][rel], expected[rel]))
    if manifest:
        if manifest.get('sha256') and manifest.get('sha256') != actual['sha256']:
            problems.append('the manifest records sha256 %s, the backup has %s' % (manifest.get('sha256'),
                                                                                   actual['sha256']))
        if isinstance(manifest.get('size_bytes'), int) and manifest['size_bytes'] != actual['size_bytes']:
            problems.append('the manifest records %d bytes, the backup has %d'
                            % (manifest['size_bytes'], actual['size_bytes']))
    return dict(ok=not problems, problems=problems, sha256=actual['sha256'], size_bytes=actual['size_bytes'])


def stat_fingerprint(path, name):
    """``[[relative name, size, mtime_ns]]`` of every file of a backup (to notice a change without hashing)."""
    result = []
    for rel, full in backup_files(path, name):
        info = os.stat(full)
        result.append([rel, info.st_size, info.st_mtime_ns])
    return result


# --------------------------------------------------------------------------
# Manifests and the folder scan
# --------------------------------------------------------------------------

def build_manifest(name, database, fmt, started, finished, size_bytes, sha256, server, pg_dump_version,
                   row_counts, row_estimates, verification, source, jobs=1, files=None, kind='backup',
                   database_size_bytes=None, warnings=None):
    """The JSON manifest of a verified backup (``<name>.json``)."""
    manifest = dict(
        manifest_version=MANIFEST_VERSION,
        tool='arizu.ops.pg_backup',
        name=name,
        kind=kind,
        database=database,
        format=fmt,
        jobs=jobs if fmt == 'directory' else 1,
        created_at=iso_utc(started, millis=True),
        finished_at=iso_utc(finished, millis=True),
        duration_seconds=round(max(0.0, finished - started), 3),
        size_bytes=int(size_bytes),
        sha256=sha256,
        server_version=server.get('version'),
        server_version_num=server.get('version_num'),
        database_size_bytes=database_size_bytes,
        pg_dump_version=pg_dump_version,
        row_counts=dict(sorted((row_counts or {}).items())),
        row_estimates=dict(sorted((row_estimates or {}).items())),
        verification=verification,
        source=source,
        verified=True,
    )
    if files:
        manifest['files'] = dict(sorted(files.items()))
    if warnings:
        manifest['warnings'] = list(warnings)
    return manifest


def manifest_is_verified(manifest, name):
    """Whether a manifest vouches for the backup *name*."""
    return isinstance(manifest, dict) and manifest.get('verified') is True and manifest.get('name') == name \
        and isinstance(manifest.get('sha256'), str) and bool(_HEX64.match(manifest.get('sha256') or '')) \
        and parse_iso_utc(manifest.get('created_at')) is not None


def read_manifest(path):
    """The manifest at *path* as a dict, ``None`` when missing or not a JSON object."""
    try:
        with open(path, 'r') as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def scan_backups(backup_dir):
    """Every ``backup-*`` entry of a folder: ``[dict(name, path, verified, created, manifest)]``.

    ``verified`` is true only with a data file or folder, a ``.sha256`` file
    and a manifest that vouches for it; ``created`` (epoch) comes from the
    manifest, else from the name. Sorted newest first.
    """
    try:
        names = os.listdir(backup_dir)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise
    present = set(names)
    entries = []
    for name in names:
        if not is_backup_name(name):
            continue
        path = os.path.join(backup_dir, name)
        manifest = read_manifest(path + '.json') if name + '.json' in present else None
        verified = manifest_is_verified(manifest, name) and name + '.sha256' in present
        created = parse_iso_utc(manifest.get('created_at')) if verified else None
        if created is None:
            created = parse_backup_name(name)
        entries.append(dict(name=name, path=path, verified=verified, created=created,
                            manifest=manifest if verified else None,
                            size_bytes=(manifest or {}).get('size_bytes') if verified else None))
    entries.sort(key=lambda e: (e['created'] or 0, name_suffix(e['name']), e['name']), reverse=True)
    return entries


def latest_verified(entries):
    for entry in entries:
        if entry['verified']:
            return entry
    return None


# --------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------

def plan_retention(entries, keep_last, keep_days, now):
    """Which verified backups to keep and which to delete.

    *entries* are dicts with ``name``, ``verified`` and ``created`` (epoch).
    Only verified backups take part: an unverified entry is neither counted
    nor deleted. Kept: the newest verified backup (always), the *keep_last*
    newest ones (when above 0) and those younger than *keep_days* days (when
    above 0). With both at 0, retention is off and everything is kept.
    Returns ``(keep, delete)``, lists of names, newest first.
    """
    verified = sorted((e for e in entries if e.get('verified')),
                      key=lambda e: (e.get('created') or 0, name_suffix(e.get('name')), e.get('name')), reverse=True)
    if not verified:
        return [], []
    if (keep_last or 0) <= 0 and (keep_days or 0) <= 0:
        return [e['name'] for e in verified], []
    keep = {verified[0]['name']}
    if keep_last and keep_last > 0:
        keep.update(e['name'] for e in verified[:keep_last])
    if keep_days and keep_days > 0:
        horizon = now - keep_days * 86400
        keep.update(e['name'] for e in verified if (e.get('created') or 0) >= horizon)
    return ([e['name'] for e in verified if e['name'] in keep],
            [e['name'] for e in verified if e['name'] not in keep])


# --------------------------------------------------------------------------
# Free space
# --------------------------------------------------------------------------

def space_needed(last_verified_size, database_size, margin):
    """``(bytes needed, explanation)``: *margin* times the last verified backup's size, or for a first
    backup the database's size (pg_database_size, an overestimate of a compressed dump)."""
    margin = float(margin)
    if last_verified_size:
        return int(last_verified_size * margin), '%s x %s, the size of the last verified backup' % (
            _margin_text(margin), human_bytes(last_verified_size))
    return int((database_size or 0) * margin), '%s x %s, the size of the database, as there is no verified backup yet' % (
        _margin_text(margin), human_bytes(database_size or 0))


def _margin_text(margin):
    return ('%.2f' % margin).rstrip('0').rstrip('.')


# --------------------------------------------------------------------------
# Lock
# --------------------------------------------------------------------------

class DirLock(object):
    """An exclusive ``flock`` on ``<folder>/.lock``, released when the process ends (no stale locks)."""

    def __init__(self, folder, what):
        self.path = os.path.join(folder, LOCK_NAME)
        self.what = what
        self.handle = None

    def acquire(self, wait_seconds, sleep=time.sleep, clock=time.monotonic):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, 'r+')
        deadline = clock() + max(0, wait_seconds or 0)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    handle.close()
                    raise
                if clock() >= deadline:
                    holder = ''
                    try:
                        handle.seek(0)
                        holder = handle.read(300).strip()
                    except (IOError, OSError):
                        pass
                    handle.close()
                    waited = ('after waiting %s s' % wait_seconds) if wait_seconds else \
                        'at once (lock_wait is 0)'
                    raise BackupError('another backup or restore is running in %s (lock %s held%s); refusing %s'
                                      % (os.path.dirname(self.path), self.path,
                                         (' by ' + holder) if holder else '', waited))
                sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write('%s pid %d since %s\n' % (self.what, os.getpid(), iso_utc(time.time())))
        handle.flush()
        self.handle = handle
        return self

    def release(self):
        if self.handle is not None:
            try:
                self.handle.seek(0)
                self.handle.truncate()
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            finally:
                self.handle.close()
                self.handle = None


# --------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------

def quote_ident(name):
    return '"%s"' % str(name).replace('"', '""')


def quote_literal(value):
    return "'%s'" % str(value).replace("'", "''")


def qualified_table(name):
    """``schema.table`` as given (``table`` alone is in ``public``); ValueError when empty."""
    name = (name or '').strip()
    if not name:
        raise ValueError('empty table name')
    if '.' in name:
        return name
    return 'public.' + name


def pg_text_array(values):
    """A PostgreSQL array literal (``{"a","b"}``) for text values."""
    return '{%s}' % ','.join('"%s"' % v.replace('\\', '\\\\').replace('"', '\\"') for v in values)


def row_count_sql(all_tables):
    """SELECT giving ``ARIZU_COUNT|schema.table|count`` for every user table (*all_tables*) or those named
    in the psql variable ``arizu_tables`` (a text array), counted exactly."""
    condition = 'true' if all_tables else \
        "(format('%I.%I', n.nspname, c.relname) = ANY (:'arizu_tables'::text[]) " \
        "OR n.nspname || '.' || c.relname = ANY (:'arizu_tables'::text[]))"
    return (
        "SELECT 'ARIZU_COUNT', n.nspname || '.' || c.relname, "
        "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %%I.%%I', n.nspname, c.relname), "
        "false, true, '')))[1]::text "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)' "
        "AND %s ORDER BY 2;" % condition)


def table_estimates_sql():
    return ("SELECT 'ARIZU_EST', n.nspname || '.' || c.relname, c.reltuples::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)' "
            "ORDER BY 2;")


def parse_tagged_rows(text, tag):
    """Rows of psql ``-At`` output (``|``-separated) whose first field is *tag*, without the tag."""
    rows = []
    for line in (text or '').splitlines():
        fields = line.split('|')
        if fields and fields[0] == tag:
            rows.append(fields[1:])
    return rows


def parse_counts(text, tag='ARIZU_COUNT'):
    """``{schema.table: int}`` from tagged rows; a table named with ``|`` keeps it (last field is the count)."""
    counts = {}
    for fields in parse_tagged_rows(text, tag):
        if len(fields) < 2:
            continue
        try:
            counts['|'.join(fields[:-1])] = int(fields[-1])
        except ValueError:
            continue
    return counts


DUMP_STATUS = '/tmp/arizu-pg-dump.status'


def dump_command(fmt):
    """The shell line psql's ``\\!`` runs: pg_dump of the exported snapshot, then one status line in
    ``DUMP_STATUS``: ``<pg_dump exit> <tee exit> <sha256 or ->``.

    The custom format goes through ``tee`` into the file and ``sha256sum`` at the same time, so the checksum costs
    no extra pass over the dump (the archive then has no data offsets, which pg_restore 12+ does without, in
    parallel restores too). The directory format is written by pg_dump itself (``-f``, ``-j``).
    Only environment variables, never user text: ``ARIZU_SNAPSHOT``, ``ARIZU_DUMP_ARGS``, ``ARIZU_OUT``.
    """
    dump = 'pg_dump --snapshot="$ARIZU_SNAPSHOT" $ARIZU_DUMP_ARGS'
    if fmt == 'custom':
        return ('umask 077; rm -f /tmp/arizu-pg-dump.rc /tmp/arizu-tee.rc /tmp/arizu-dump.sum; '
                '{ %s; echo $? > /tmp/arizu-pg-dump.rc; } | { tee "$ARIZU_OUT"; echo $? > /tmp/arizu-tee.rc; } '
                '| sha256sum > /tmp/arizu-dump.sum; '
                'echo "$(cat /tmp/arizu-pg-dump.rc) $(cat /tmp/arizu-tee.rc) $(cut -c1-64 /tmp/arizu-dump.sum)" > %s'
                % (dump, DUMP_STATUS))
    return 'umask 077; %s -f "$ARIZU_OUT"; echo "$? 0 -" > %s' % (dump, DUMP_STATUS)


def parse_dump_status(text):
    """``(pg_dump exit, tee exit, sha256 or None)`` from the ``ARIZU_DUMP|...`` line of the backup session."""
    for fields in parse_tagged_rows(text, 'ARIZU_DUMP'):
        words = ' '.join(fields).split()
        if len(words) == 3 and words[0].lstrip('-').isdigit() and words[1].lstrip('-').isdigit():
            sha = words[2].lower() if _HEX64.match(words[2].lower()) else None
            return int(words[0]), int(words[1]), sha
    return None, None, None


def backup_script(all_tables, fmt='custom'):
    """The psql script of a backup: one REPEATABLE READ transaction exports its snapshot, pg_dump dumps
    that snapshot (run by psql's ``\\!``), then the same transaction counts the rows, so the counts are
    those of the dump.

    Nothing in it comes from the user: the output path, pg_dump's options and
    the table list reach it through environment and psql variables.
    """
    return '\n'.join([
        '\\set ON_ERROR_STOP 1',
        'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;',
        'SELECT pg_export_snapshot() AS arizu_snapshot \\gset',
        '\\setenv ARIZU_SNAPSHOT :arizu_snapshot',
        '\\! ' + dump_command(fmt),
        '\\set arizu_dump_status `cat %s`' % DUMP_STATUS,
        '\\echo ARIZU_DUMP|:arizu_dump_status',
        '\\set arizu_dump_ok `test "$(cut -d" " -f1-2 %s)" = "0 0" && echo on || echo off`' % DUMP_STATUS,
        '\\if :arizu_dump_ok',
        row_count_sql(all_tables),
        '\\endif',
        'COMMIT;',
        '',
    ])


# --------------------------------------------------------------------------
# Restore: carry the database's own properties over to its restored copy
# --------------------------------------------------------------------------

LIST_SETTINGS = ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries')


def create_database_sql(name, props):
    """``CREATE DATABASE`` for the restored copy with the target's encoding and locale (template0).

    *props* is the ``to_jsonb`` of the target's pg_database row (any version), or ``None``.
    """
    parts = ['CREATE DATABASE %s TEMPLATE template0' % quote_ident(name)]
    db = (props or {}).get('db') or {}
    encoding = (props or {}).get('encoding')
    if encoding:
        parts.append('ENCODING %s' % quote_literal(encoding))
    if db.get('datcollate'):
        parts.append('LC_COLLATE %s' % quote_literal(db['datcollate']))
    if db.get('datctype'):
        parts.append('LC_CTYPE %s' % quote_literal(db['datctype']))
    provider = db.get('datlocprovider')
    if provider == 'i':
        locale = db.get('datlocale') or db.get('daticulocale')
        parts.append('LOCALE_PROVIDER icu')
        if locale:
            parts.append('ICU_LOCALE %s' % quote_literal(locale))
    elif provider == 'b' and db.get('datlocale'):
        parts.append('LOCALE_PROVIDER builtin BUILTIN_LOCALE %s' % quote_literal(db['datlocale']))
    return ' '.join(parts)


def _setting_sql(item):
    name, _sep, value = item.partition('=')
    if name in LIST_SETTINGS:
        return '%s TO %s' % (name, value) if value.strip() else '%s TO DEFAULT' % name
    return '%s TO %s' % (name, quote_literal(value))


def database_property_statements(name, props):
    """Statements giving the restored copy *name* the target's owner, grants, settings, connection limit
    and comment (what ``pg_restore --clean`` into the existing database would have kept)."""
    props = props or {}
    db = props.get('db') or {}
    ident = quote_ident(name)
    statements = []
    if props.get('owner'):
        statements.append('ALTER DATABASE %s OWNER TO %s' % (ident, quote_ident(props['owner'])))
    acl = props.get('acl')
    if acl is not None:
        statements.append('REVOKE ALL ON DATABASE %s FROM PUBLIC' % ident)
        for grant in acl:
            grantee = 'PUBLIC' if grant.get('grantee') in (None, '', '-') else quote_ident(grant['grantee'])
            statements.append('GRANT %s ON DATABASE %s TO %s%s' % (
                grant['privilege'], ident, grantee, ' WITH GRANT OPTION' if grant.get('grantable') else ''))
    for entry in props.get('settings') or []:
        for item in entry.get('config') or []:
            if '=' not in item:
                continue
            if entry.get('role'):
                statements.append('ALTER ROLE %s IN DATABASE %s SET %s' % (
                    quote_ident(entry['role']), ident, _setting_sql(item)))
            else:
                statements.append('ALTER DATABASE %s SET %s' % (ident, _setting_sql(item)))
    limit = db.get('datconnlimit')
    if isinstance(limit, int) and limit >= 0:
        statements.append('ALTER DATABASE %s CONNECTION LIMIT %d' % (ident, limit))
    if props.get('comment'):
        statements.append('COMMENT ON DATABASE %s IS %s' % (ident, quote_literal(props['comment'])))
    return statements


def database_properties_sql(database):
    """One JSON row (tag ``ARIZU_DB``) with the pg_database row of *database*, its encoding name, owner,
    grants, settings and comment (no row when it does not exist)."""
    return (
        "SELECT 'ARIZU_DB', json_build_object("
        "'db', to_jsonb(d) - 'datacl', "
        "'encoding', pg_encoding_to_char(d.encoding), "
        "'owner', pg_get_userbyid(d.datdba), "
        "'acl', CASE WHEN d.datacl IS NULL THEN NULL ELSE (SELECT coalesce(json_agg(json_build_object("
        "'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, "
        "'privilege', a.privilege_type, 'grantable', a.is_grantable)), '[]'::json) FROM aclexplode(d.datacl) a) END, "
        "'settings', (SELECT coalesce(json_agg(json_build_object("
        "'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, 'config', s.setconfig)), "
        "'[]'::json) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), "
        "'comment', shobj_description(d.oid, 'pg_database')) "
        "FROM pg_database d WHERE d.datname = %s;" % quote_literal(database))


def compare_counts(expected, actual):
    """``[dict(table, expected, actual)]`` for every table whose exact count differs (or is missing)."""
    mismatches = []
    for table in sorted(expected or {}):
        got = (actual or {}).get(table)
        if got != expected[table]:
            mismatches.append(dict(table=table, expected=expected[table], actual=got))
    return mismatches


def restore_db_names(target, token):
    """Names of the restored copy and of the target once it is set aside (at most 63 bytes each)."""
    base = target[:40]
    return '%s__restore_%s' % (base, token), '%s__previous_%s' % (base, token)


# --------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------

def mask(text, secrets):
    """*text* with every secret (4 characters or longer) replaced by ``********``."""
    text = '' if text is None else str(text)
    for secret in sorted((s for s in secrets or () if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def tail_text(data, limit=4000):
    """The last *limit* characters of bytes or text, decoded leniently."""
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    data = (data or '').strip()
    return data if len(data) <= limit else '...' + data[-limit:]
