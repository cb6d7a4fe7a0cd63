# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of arizu.ops.pg_backup / pg_restore: names, format sniffing, checksums, manifests,
the folder scan, retention, free space, the lock and the SQL they generate (no Docker, no database)."""

from __future__ import annotations

import calendar
import hashlib
import json
import os

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import (
    BackupError,
    DirLock,
    backup_name,
    backup_script,
    build_manifest,
    compare_counts,
    compute_checksums,
    create_database_sql,
    database_property_statements,
    human_bytes,
    latest_verified,
    manifest_is_verified,
    mask,
    parse_backup_name,
    parse_checksum_listing,
    parse_counts,
    parse_dump_status,
    parse_iso_utc,
    pg_text_array,
    plan_retention,
    qualified_table,
    quote_ident,
    quote_literal,
    restore_db_names,
    row_count_sql,
    scan_backups,
    sniff_bytes,
    sniff_path,
    space_needed,
    stat_fingerprint,
    valid_file_name,
    verify_checksums,
)

T0 = calendar.timegm((2025, 1, 31, 2, 0, 0, 0, 0, 0))
DAY = 86400
SERVER = dict(version='15.14', version_num=150014)

# ---------------------------------------------------------------- names


def test_backup_name_is_utc_and_sortable():
    assert backup_name(T0, 'custom') == 'backup-2025-01-31-020000.dump'
    assert backup_name(T0 + 59, 'directory') == 'backup-2025-01-31-020059.dir'


def test_names_of_the_same_second_sort_by_their_number():
    now = T0 + 10
    entries = [dict(name=n, created=T0, verified=True) for n in (
        'backup-2025-01-31-020000-2.dump', 'backup-2025-01-31-020000.dump', 'backup-2025-01-31-020000-10.dump')]
    assert plan_retention(entries, 1, 0, now) == (['backup-2025-01-31-020000-10.dump'], [
        'backup-2025-01-31-020000-2.dump', 'backup-2025-01-31-020000.dump'])


def test_backup_name_never_reuses_a_taken_name():
    taken = {'backup-2025-01-31-020000.dump', 'backup-2025-01-31-020000-2.dump'}
    assert backup_name(T0, 'custom', taken) == 'backup-2025-01-31-020000-3.dump'


@pytest.mark.parametrize('name, expected', [
    ('backup-2025-01-31-020000.dump', T0),
    ('backup-2025-01-31-020000-2.dump', T0),
    ('backup-2025-01-31-020000.dir', T0),
    ('backup-2025-01-31-020000.sql', None),
    ('backup-2025-01-31-020000.dump.json', None),
    ('.tmp-backup-2025-01-31-020000.dump', None),
    ('backup-2025-13-31-020000.dump', None),
    ('backup-2025-1-31-020000.dump', None),
    ('', None),
    (None, None),
])
def test_parse_backup_name(name, expected):
    assert parse_backup_name(name) == expected


@pytest.mark.parametrize('name, ok', [
    ('backup-2025-01-31-020000.dump', True),
    ('old-backup.sql', True),
    ('../etc/passwd', False),
    ('a/b', False),
    ('.lock', False),
    ('.tmp-backup-x.dump', False),
    ('', False),
    ('..', False),
])
def test_valid_file_name(name, ok):
    assert valid_file_name(name) is ok


def test_iso_times():
    assert parse_iso_utc('2025-01-31T02:00:00Z') == T0
    assert parse_iso_utc('2025-01-31T02:00:00.5Z') == T0 + 0.5
    assert parse_iso_utc('2025-01-31 02:00:00') is None
    assert parse_iso_utc(None) is None


@pytest.mark.parametrize('value, text', [(0, '0 B'), (1023, '1023 B'), (1024, '1.0 KiB'),
                                         (5 * 1024 ** 2, '5.0 MiB'), (3 * 1024 ** 3, '3.0 GiB')])
def test_human_bytes(value, text):
    assert human_bytes(value) == text


# ---------------------------------------------------------------- format sniffing

TAR_HEAD = b'toc.dat'.ljust(257, b'\0') + b'ustar\x0000' + b'\0' * 243


@pytest.mark.parametrize('head, fmt', [
    (b'PGDMP\x01\x0e\x00\x04\x08\x01\x01', 'custom'),
    (TAR_HEAD, 'tar'),
    (b'\x1f\x8b\x08\x00\x00\x00', 'gzip'),
    (b'--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n', 'plain'),
    (b'\xef\xbb\xbf--\n-- PostgreSQL database dump\n', 'plain'),
    (b'SET client_encoding = \'UTF8\';\nCREATE TABLE t (id int);\n', 'plain'),
    (b'CREATE TABLE t (id int);\n', 'plain'),
    (b'\\connect arizu\n', 'plain'),
    (b'hello world, not sql\n', 'unknown'),
    (b'\x00\x01\x02\x03binary', 'unknown'),
    (b'\xff\xfe\xfd garbage', 'unknown'),
    (b'', 'empty'),
    (b'PGDM', 'unknown'),
    # a dump named .sql is still told by its bytes
    (b'PGDMP' + b'\0' * 100, 'custom'),
])
def test_sniff_bytes(head, fmt):
    assert sniff_bytes(head) == fmt


def test_sniff_bytes_tolerates_a_cut_multibyte_character():
    head = ('-- PostgreSQL database dump ' + '\u00e9' * 10).encode('utf-8')[:-1]
    assert sniff_bytes(head) == 'plain'


def test_sniff_path(tmp_path):
    folder = tmp_path / 'backup-2025-01-31-020000.dir'
    folder.mkdir()
    assert sniff_path(str(folder)) == 'unknown'  # no toc.dat
    (folder / 'toc.dat').write_bytes(b'PGDMP\x01')
    assert sniff_path(str(folder)) == 'directory'
    (folder / 'toc.dat').write_bytes(b'nope')
    assert sniff_path(str(folder)) == 'unknown'
    named_sql = tmp_path / 'x.sql'
    named_sql.write_bytes(b'PGDMP\x01\x0e')
    assert sniff_path(str(named_sql)) == 'custom'
    assert sniff_path(str(tmp_path / 'missing.dump')) == 'missing'
    empty = tmp_path / 'empty.dump'
    empty.write_bytes(b'')
    assert sniff_path(str(empty)) == 'empty'


# ---------------------------------------------------------------- checksums

def _write_backup(folder, name, data=b'PGDMP' + b'x' * 5000, manifest=True, verified=True, sums=True):
    path = folder / name
    path.write_bytes(data)
    checks = compute_checksums(str(path), name)
    if sums:
        (folder / (name + '.sha256')).write_text(checks['listing'])
    if manifest:
        started = parse_backup_name(name) or T0
        doc = build_manifest(name=name, database='arizu', fmt='custom', started=started, finished=started + 3,
                             size_bytes=checks['size_bytes'], sha256=checks['sha256'], server=SERVER,
                             pg_dump_version='pg_dump (PostgreSQL) 15.14', row_counts={'public.t': 3},
                             row_estimates={}, verification={}, source={'mode': 'container'})
        doc['verified'] = verified
        (folder / (name + '.json')).write_text(json.dumps(doc))
    return path


def test_compute_checksums_of_a_file(tmp_path):
    data = b'PGDMP' + os.urandom(3 * 1024 * 1024 + 17)  # more than one read
    path = tmp_path / 'b.dump'
    path.write_bytes(data)
    result = compute_checksums(str(path), 'b.dump')
    assert result['sha256'] == hashlib.sha256(data).hexdigest()
    assert result['size_bytes'] == len(data)
    assert result['listing'] == '%s  b.dump\n' % hashlib.sha256(data).hexdigest()
    assert parse_checksum_listing(result['listing']) == {'b.dump': hashlib.sha256(data).hexdigest()}


def test_compute_checksums_of_a_folder(tmp_path):
    folder = tmp_path / 'b.dir'
    folder.mkdir()
    (folder / 'toc.dat').write_bytes(b'PGDMP')
    (folder / '3001.dat.gz').write_bytes(b'abc')
    result = compute_checksums(str(folder), 'b.dir')
    assert sorted(result['files']) == ['b.dir/3001.dat.gz', 'b.dir/toc.dat']
    assert result['size_bytes'] == 8
    assert result['sha256'] == hashlib.sha256(result['listing'].encode()).hexdigest()
    assert result['listing'].splitlines()[0].endswith('  b.dir/3001.dat.gz')


@pytest.mark.parametrize('damage, problem', [
    ('flip', 'has sha256'),
    ('truncate', 'has sha256'),
    ('delete', 'does not exist'),
    ('no_sums', '.sha256 cannot be read'),
    ('bad_sums', '.sha256 is malformed'),
])
def test_verify_checksums_finds_damage(tmp_path, damage, problem):
    name = 'backup-2025-01-31-020000.dump'
    path = _write_backup(tmp_path, name)
    manifest = json.loads((tmp_path / (name + '.json')).read_text())
    assert verify_checksums(str(tmp_path), name, manifest)['ok']
    data = bytearray(path.read_bytes())
    if damage == 'flip':
        data[1000] ^= 0x01
        path.write_bytes(bytes(data))
    elif damage == 'truncate':
        path.write_bytes(bytes(data[:len(data) // 2]))
    elif damage == 'delete':
        path.unlink()
    elif damage == 'no_sums':
        (tmp_path / (name + '.sha256')).unlink()
    elif damage == 'bad_sums':
        (tmp_path / (name + '.sha256')).write_text('not a checksum line\n')
    result = verify_checksums(str(tmp_path), name, manifest)
    assert not result['ok']
    assert any(problem in p for p in result['problems']), result['problems']


def test_verify_checksums_checks_the_manifest_too(tmp_path):
    name = 'backup-2025-01-31-020000.dump'
    _write_backup(tmp_path, name)
    manifest = json.loads((tmp_path / (name + '.json')).read_text())
    manifest['sha256'] = '0' * 64
    result = verify_checksums(str(tmp_path), name, manifest)
    assert not result['ok'] and 'the manifest records sha256' in result['problems'][0]


def test_verify_checksums_of_a_folder_notices_extra_and_missing_files(tmp_path):
    folder = tmp_path / 'backup-2025-01-31-020000.dir'
    folder.mkdir()
    (folder / 'toc.dat').write_bytes(b'PGDMP')
    (folder / '1.dat.gz').write_bytes(b'one')
    (tmp_path / 'backup-2025-01-31-020000.dir.sha256').write_text(
        compute_checksums(str(folder), folder.name)['listing'])
    assert verify_checksums(str(tmp_path), folder.name)['ok']
    (folder / '2.dat.gz').write_bytes(b'two')
    (folder / '1.dat.gz').unlink()
    problems = verify_checksums(str(tmp_path), folder.name)['problems']
    assert any('1.dat.gz is missing' in p for p in problems)
    assert any('2.dat.gz is not in' in p for p in problems)


def test_parse_checksum_listing():
    digest = 'a' * 64
    assert parse_checksum_listing('%s  x.dump\n%s *y z.dump\n\n' % (digest, digest.upper())) == {
        'x.dump': digest, 'y z.dump': digest}
    with pytest.raises(ValueError):
        parse_checksum_listing('')
    with pytest.raises(ValueError):
        parse_checksum_listing('abc  x.dump')


def test_stat_fingerprint(tmp_path):
    path = _write_backup(tmp_path, 'backup-2025-01-31-020000.dump')
    first = stat_fingerprint(str(path), path.name)
    assert first[0][0] == path.name and first[0][1] == path.stat().st_size
    os.utime(str(path), ns=(1, 1))
    assert stat_fingerprint(str(path), path.name) != first


# ---------------------------------------------------------------- manifests and the scan

def test_build_manifest():
    manifest = build_manifest(name='backup-2025-01-31-020000.dump', database='arizu', fmt='custom', started=T0,
                              finished=T0 + 6.54321, size_bytes=123, sha256='b' * 64, server=SERVER,
                              pg_dump_version='pg_dump (PostgreSQL) 15.14', row_counts={'public.b': 2, 'public.a': 1},
                              row_estimates={'public.big': 10 ** 6}, verification={'pg_restore_list': True},
                              source={'mode': 'container', 'container': 'arizu-postgres'}, jobs=4)
    assert manifest['verified'] is True and manifest['kind'] == 'backup'
    assert manifest['created_at'] == '2025-01-31T02:00:00.000Z' and manifest['finished_at'] == '2025-01-31T02:00:06.543Z'
    assert manifest['duration_seconds'] == 6.543
    assert manifest['jobs'] == 1  # custom format: one job
    assert list(manifest['row_counts']) == ['public.a', 'public.b']
    assert manifest['server_version_num'] == 150014
    assert 'files' not in manifest
    assert json.loads(json.dumps(manifest)) == manifest
    assert manifest_is_verified(manifest, 'backup-2025-01-31-020000.dump')
    assert not manifest_is_verified(manifest, 'backup-2025-01-31-020001.dump')
    assert not manifest_is_verified(dict(manifest, verified='true'), manifest['name'])
    assert not manifest_is_verified(dict(manifest, sha256='xyz'), manifest['name'])
    assert not manifest_is_verified(None, manifest['name'])


def test_scan_backups_only_vouched_backups_are_verified(tmp_path):
    good_old = _write_backup(tmp_path, 'backup-2025-01-29-020000.dump')
    good_new = _write_backup(tmp_path, 'backup-2025-01-31-020000.dump')
    _write_backup(tmp_path, 'backup-2025-01-30-020000.dump', manifest=False)  # a failed run's file
    _write_backup(tmp_path, 'backup-2025-02-01-020000.dump', verified=False)
    _write_backup(tmp_path, 'backup-2025-02-02-020000.dump', sums=False)
    (tmp_path / 'backup-2025-02-03-020000.dump').write_bytes(b'PGDMP')
    (tmp_path / 'backup-2025-02-03-020000.dump.json').write_text('{not json')
    (tmp_path / '.tmp-backup-2025-02-04-020000.dump').write_bytes(b'PGDMP')
    (tmp_path / 'notes.txt').write_text('hello')
    entries = scan_backups(str(tmp_path))
    assert [e['name'] for e in entries if e['verified']] == [good_new.name, good_old.name]
    assert sorted(e['name'] for e in entries if not e['verified']) == [
        'backup-2025-01-30-020000.dump', 'backup-2025-02-01-020000.dump', 'backup-2025-02-02-020000.dump',
        'backup-2025-02-03-020000.dump']
    assert latest_verified(entries)['name'] == good_new.name
    assert entries[0]['name'] == 'backup-2025-02-03-020000.dump'  # newest first, by name when unverified
    assert scan_backups(str(tmp_path / 'missing')) == []
    assert latest_verified([]) is None


# ---------------------------------------------------------------- retention

def _entries(*specs):
    """specs: (age in days, verified)"""
    now = T0 + 100 * DAY
    return now, [dict(name='b%02d' % index, created=now - age * DAY, verified=verified)
                 for index, (age, verified) in enumerate(specs)]


@pytest.mark.parametrize('specs, keep_last, keep_days, keep, delete', [
    # nothing there
    ([], 7, 0, [], []),
    # keep the newest 2 of 4
    ([(0, True), (1, True), (2, True), (3, True)], 2, 0, ['b00', 'b01'], ['b02', 'b03']),
    # failed/unverified entries are neither counted nor deleted
    ([(0, False), (1, True), (2, False), (3, True), (4, True)], 2, 0, ['b01', 'b03'], ['b04']),
    # only unverified: nothing to keep, nothing to delete
    ([(0, False), (1, False)], 1, 0, [], []),
    # keep_last 1 keeps the newest verified, never an unverified newer file
    ([(0, False), (5, True), (6, True)], 1, 0, ['b01'], ['b02']),
    # days: younger than 3 days
    ([(0, True), (1, True), (2.5, True), (3.5, True), (10, True)], 0, 3, ['b00', 'b01', 'b02'], ['b03', 'b04']),
    # days: the newest verified is kept even when older than the window
    ([(10, True), (20, True)], 0, 3, ['b00'], ['b01']),
    # both rules: a backup kept by either is kept
    ([(0, True), (1, True), (2, True), (9, True), (20, True)], 4, 3, ['b00', 'b01', 'b02', 'b03'], ['b04']),
    ([(0, True), (1, True), (2, True), (9, True), (20, True)], 1, 3, ['b00', 'b01', 'b02'], ['b03', 'b04']),
    # both off: retention off
    ([(0, True), (50, True)], 0, 0, ['b00', 'b01'], []),
    # keep_last larger than what is there
    ([(0, True), (1, True)], 7, 0, ['b00', 'b01'], []),
    # entries given in any order
    ([(3, True), (0, True), (1, True)], 2, 0, ['b01', 'b02'], ['b00']),
])
def test_plan_retention(specs, keep_last, keep_days, keep, delete):
    now, entries = _entries(*specs)
    assert plan_retention(entries, keep_last, keep_days, now) == (keep, delete)


def test_plan_retention_never_deletes_the_newest_verified_backup():
    for keep_last in range(0, 4):
        for keep_days in range(0, 4):
            now, entries = _entries((30, True), (31, True), (0, False))
            keep, delete = plan_retention(entries, keep_last, keep_days, now)
            assert 'b00' in keep and 'b00' not in delete
            assert 'b02' not in keep + delete


# ---------------------------------------------------------------- free space

def test_space_needed():
    assert space_needed(1000, 10 ** 9, 1.2) == (1200, '1.2 x 1000 B, the size of the last verified backup')
    needed, why = space_needed(None, 8 * 1024 ** 2, 1.5)
    assert needed == 12 * 1024 ** 2 and why == '1.5 x 8.0 MiB, the size of the database, as there is no verified backup yet'
    assert space_needed(0, None, 1.2)[0] == 0


# ---------------------------------------------------------------- lock

def test_lock_refuses_a_second_holder_at_once(tmp_path):
    first = DirLock(str(tmp_path), 'backup of arizu').acquire(0)
    try:
        assert 'backup of arizu pid %d' % os.getpid() in (tmp_path / '.lock').read_text()
        with pytest.raises(BackupError) as info:
            DirLock(str(tmp_path), 'backup of arizu').acquire(0)
        message = str(info.value)
        assert 'another backup or restore is running in %s' % tmp_path in message
        assert 'held by backup of arizu pid' in message and 'refusing at once' in message
    finally:
        first.release()
    again = DirLock(str(tmp_path), 'restore of arizu').acquire(0)
    again.release()
    assert oct((tmp_path / '.lock').stat().st_mode & 0o777) == '0o600'


def test_lock_waits_then_refuses(tmp_path):
    first = DirLock(str(tmp_path), 'backup').acquire(0)
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    try:
        with pytest.raises(BackupError) as info:
            DirLock(str(tmp_path), 'backup').acquire(3, sleep=sleep, clock=lambda: clock[0])
        assert 'refusing after waiting 3 s' in str(info.value)
        assert sum(slept) >= 3
    finally:
        first.release()


# ---------------------------------------------------------------- SQL

@pytest.mark.parametrize('name, quoted', [('arizu', '"arizu"'), ('we"ird', '"we""ird"'), ('Mixed Case', '"Mixed Case"')])
def test_quote_ident(name, quoted):
    assert quote_ident(name) == quoted


def test_quote_literal_and_arrays():
    assert quote_literal("it's") == "'it''s'"
    assert pg_text_array(['public.a', 'we"ird.b\\c']) == '{"public.a","we\\"ird.b\\\\c"}'
    assert pg_text_array([]) == '{}'


@pytest.mark.parametrize('name, qualified', [('users', 'public.users'), ('app.users', 'app.users'),
                                             (' users ', 'public.users')])
def test_qualified_table(name, qualified):
    assert qualified_table(name) == qualified


def test_qualified_table_refuses_empty():
    with pytest.raises(ValueError):
        qualified_table('  ')


def test_backup_script_takes_nothing_from_the_user():
    script = backup_script(False)
    assert 'pg_export_snapshot()' in script and '--snapshot="$ARIZU_SNAPSHOT"' in script
    assert 'tee "$ARIZU_OUT"' in script and '| sha256sum' in script and ":'arizu_tables'" in script
    assert script.index('\\!') < script.index('ARIZU_COUNT') < script.index('COMMIT')
    assert "'arizu_tables'" not in backup_script(True)
    directory = backup_script(True, 'directory')
    assert '-f "$ARIZU_OUT"' in directory and 'tee' not in directory


@pytest.mark.parametrize('text, status', [
    ('ARIZU_DUMP|0 0 %s\nARIZU_COUNT|public.a|1\n' % ('ab' * 32), (0, 0, 'ab' * 32)),
    ('ARIZU_DUMP|0 0 -\n', (0, 0, None)),
    ('ARIZU_DUMP|1 0 %s\n' % ('0' * 64), (1, 0, '0' * 64)),
    ('ARIZU_DUMP|0 1 %s\n' % ('0' * 64), (0, 1, '0' * 64)),
    ('ARIZU_DUMP|0 0\n', (None, None, None)),
    ('psql: error: connection refused\n', (None, None, None)),
])
def test_parse_dump_status(text, status):
    assert parse_dump_status(text) == status


def test_compute_checksums_with_threads_gives_the_same(tmp_path):
    folder = tmp_path / 'b.dir'
    folder.mkdir()
    for index in range(7):
        (folder / ('%d.dat.gz' % index)).write_bytes(os.urandom(1000 + index))
    assert compute_checksums(str(folder), 'b.dir', workers=4) == compute_checksums(str(folder), 'b.dir')


def test_row_count_sql_counts_with_query_to_xml():
    sql = row_count_sql(True)
    assert "format('SELECT count(*) AS c FROM %I.%I'" in sql and '%%' not in sql


def test_parse_counts():
    text = 'ARIZU_PGDUMP_RC|0\nARIZU_COUNT|public.a|10\nARIZU_COUNT|we|ird.b|2\nARIZU_COUNT|public.bad|x\nnoise\n'
    assert parse_counts(text) == {'public.a': 10, 'we|ird.b': 2}
    assert parse_counts('ARIZU_EST|public.a|-1\n', 'ARIZU_EST') == {'public.a': -1}


def test_compare_counts():
    assert compare_counts({'a': 1, 'b': 2}, {'a': 1, 'b': 2, 'c': 3}) == []
    assert compare_counts({'a': 1, 'b': 2}, {'a': 0}) == [dict(table='a', expected=1, actual=0),
                                                          dict(table='b', expected=2, actual=None)]


def test_create_database_sql():
    props = dict(db=dict(datcollate='C.UTF-8', datctype='C.UTF-8', datlocprovider='c'), encoding='UTF8')
    assert create_database_sql('x__restore_1', props) == (
        'CREATE DATABASE "x__restore_1" TEMPLATE template0 ENCODING \'UTF8\' LC_COLLATE \'C.UTF-8\' '
        'LC_CTYPE \'C.UTF-8\'')
    icu = dict(db=dict(datcollate='en_US.UTF-8', datctype='en_US.UTF-8', datlocprovider='i', daticulocale='en-US'),
               encoding='UTF8')
    assert create_database_sql('y', icu).endswith("LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    assert create_database_sql('z', None) == 'CREATE DATABASE "z" TEMPLATE template0'


def test_database_property_statements():
    props = dict(
        db=dict(datconnlimit=50),
        owner='app owner',
        acl=[dict(grantee='app owner', privilege='CREATE', grantable=False),
             dict(grantee=None, privilege='CONNECT', grantable=False),
             dict(grantee='ops', privilege='TEMPORARY', grantable=True)],
        settings=[dict(role=None, config=['work_mem=64MB', 'search_path="$user", public']),
                  dict(role='reporting', config=['statement_timeout=30s'])],
        comment="Arizu's data")
    assert database_property_statements('arizu__restore_1', props) == [
        'ALTER DATABASE "arizu__restore_1" OWNER TO "app owner"',
        'REVOKE ALL ON DATABASE "arizu__restore_1" FROM PUBLIC',
        'GRANT CREATE ON DATABASE "arizu__restore_1" TO "app owner"',
        'GRANT CONNECT ON DATABASE "arizu__restore_1" TO PUBLIC',
        'GRANT TEMPORARY ON DATABASE "arizu__restore_1" TO "ops" WITH GRANT OPTION',
        'ALTER DATABASE "arizu__restore_1" SET work_mem TO \'64MB\'',
        'ALTER DATABASE "arizu__restore_1" SET search_path TO "$user", public',
        'ALTER ROLE "reporting" IN DATABASE "arizu__restore_1" SET statement_timeout TO \'30s\'',
        'ALTER DATABASE "arizu__restore_1" CONNECTION LIMIT 50',
        'COMMENT ON DATABASE "arizu__restore_1" IS \'Arizu\'\'s data\'',
    ]
    # default privileges (NULL acl) and no limit: nothing to carry over but the owner
    assert database_property_statements('n', dict(db=dict(datconnlimit=-1), owner='arizu', acl=None,
                                                  settings=[])) == ['ALTER DATABASE "n" OWNER TO "arizu"']
    assert database_property_statements('n', None) == []


def test_restore_db_names_fit_in_63_bytes():
    new, old = restore_db_names('a' * 63, 'deadbeef')
    assert len(new) <= 63 and len(old) <= 63 and new != old
    assert restore_db_names('arizu', 'deadbeef') == ('arizu__restore_deadbeef', 'arizu__previous_deadbeef')


def test_mask():
    assert mask('password authentication failed: s3cr3t-pw', ['s3cr3t-pw', None, 'abc']) == \
        'password authentication failed: ********'
    assert mask(None, ['x']) == ''
