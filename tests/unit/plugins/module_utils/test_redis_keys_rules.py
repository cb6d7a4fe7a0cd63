# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of arizu.ops.redis_keys: prefix grouping and the flush guards (pure Python, no server)."""

from __future__ import annotations

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.redis_keys_rules import (
    DEFAULT_PROTECTED,
    NO_PREFIX,
    GroupCounter,
    batches,
    check_options,
    describe_groups,
    glob_escape,
    is_protected,
    key_group,
    key_matches,
    match_pattern,
    normalize_group,
    normalize_prefixes,
    protected_groups,
    refusal,
    subtract_groups,
    top_groups,
)

# ---------------------------------------------------------------- grouping


@pytest.mark.parametrize('key, delimiter, group', [
    ('cache:user:42', ':', 'cache'),
    (b'cache:user:42', ':', 'cache'),
    ('sess:abc', ':', 'sess'),
    ('bull:jobs:wait', ':', 'bull'),
    ('{bull}:jobs:wait', ':', '{bull}'),
    ('plainkey', ':', NO_PREFIX),
    (':leading', ':', NO_PREFIX),
    ('a::b', ':', 'a'),
    ('cache/user/1', '/', 'cache'),
    ('cache:user', '/', NO_PREFIX),
    (b'\xffbin:1', ':', u'\ufffdbin'),
    ('', ':', NO_PREFIX),
])
def test_key_group(key, delimiter, group):
    assert key_group(key, delimiter) == group


def test_group_counter_counts_each_key_once():
    counter = GroupCounter()
    assert counter.add([b'cache:1', b'cache:2', b'sess:1']) == [b'cache:1', b'cache:2', b'sess:1']
    # SCAN may return a key again (during a rehash): not counted twice, not returned as new
    assert counter.add([b'cache:2', b'queue:pending', b'plain']) == [b'queue:pending', b'plain']
    assert counter.groups() == {'cache': 2, NO_PREFIX: 1, 'queue': 1, 'sess': 1}
    assert list(counter.groups()) == ['cache', NO_PREFIX, 'queue', 'sess']  # most keys first, then by name
    assert counter.total == 5 and counter.exact


def test_group_counter_stops_deduplicating_past_its_limit():
    counter = GroupCounter(dedupe_limit=2)
    counter.add(['a:1', 'a:2'])
    assert counter.exact
    counter.add(['a:3', 'a:1'])
    assert not counter.exact
    assert counter.groups() == {'a': 4}  # a:1 counted again once the memory is dropped


# ---------------------------------------------------------------- protected groups


@pytest.mark.parametrize('group, expected', [
    ('sess', True), ('SESS', True), ('Session', True), ('sessions', True), ('queue', True), ('bull', True),
    ('{bull}', True), ('bq', True), ('rq', True), ('celery', True), ('cache', False), ('sessionstore', False),
    (NO_PREFIX, False), ('{cache}', False), ('queued_emails', False),
])
def test_is_protected_defaults(group, expected):
    assert is_protected(group, DEFAULT_PROTECTED) is expected


def test_is_protected_wildcards_and_normalisation():
    assert is_protected('sessionstore', ['sess*'])
    assert is_protected('{Jobs}', ['jobs'])
    assert not is_protected('cache', ['sess*', None])
    assert not is_protected('sess', [])
    assert normalize_group(' {Bull} ') == 'bull'
    assert normalize_group('{}') == '{}'


def test_protected_groups_keeps_only_present_session_and_queue_groups():
    groups = {'cache': 1200, 'sess': 3, 'queue': 2, 'bull': 0, 'page': 4}
    assert protected_groups(groups, DEFAULT_PROTECTED) == {'sess': 3, 'queue': 2}


def test_describe_groups():
    assert describe_groups({'sess': 3, 'queue': 5, 'bull': 5}) == 'bull (5), queue (5), sess (3)'
    assert describe_groups({}) == 'nothing'
    assert describe_groups(dict(('g%02d' % i, 1) for i in range(12)), limit=2) == 'g00 (1), g01 (1) and 10 more groups'


# ---------------------------------------------------------------- prefixes and patterns


@pytest.mark.parametrize('prefixes, expected', [
    (['cache'], ['cache']),
    (['cache:', ' cache ', 'cache::'], ['cache']),
    (['cache:user', 'page'], ['cache:user', 'page']),
])
def test_normalize_prefixes(prefixes, expected):
    assert normalize_prefixes(prefixes) == (expected, None)


@pytest.mark.parametrize('prefixes', [[''], [':'], ['cache', '  '], [None]])
def test_normalize_prefixes_refuses_an_empty_prefix(prefixes):
    result, error = normalize_prefixes(prefixes)
    assert result is None and 'empty prefix would match every key' in error


@pytest.mark.parametrize('prefix, pattern', [
    ('cache', 'cache:*'),
    ('cache:user', 'cache:user:*'),
    ('we*rd?[x]', 'we\\*rd\\?\\[x\\]:*'),
    ('back\\slash', 'back\\\\slash:*'),
])
def test_match_pattern_matches_the_prefix_literally(prefix, pattern):
    assert match_pattern(prefix) == pattern


def test_glob_escape_and_key_matches():
    assert glob_escape('a*b') == 'a\\*b'
    assert key_matches(b'cache:1', 'cache')
    assert not key_matches(b'cachet:1', 'cache')
    assert not key_matches('cache', 'cache')
    assert key_matches('cache:user:1', 'cache:user')
    assert not key_matches('sess:1', 'cache')


def test_batches():
    sizes = [len(b) for b in batches(range(1200), 500)]
    assert sizes == [500, 500, 200]
    assert list(batches([], 500)) == []
    assert list(batches([1, 2], 1)) == [[1], [2]]


# ---------------------------------------------------------------- guards


def test_check_options_fine():
    assert check_options('report', [], 0, None, 500, 1000, ':') == []
    assert check_options('delete', ['cache'], 0, None, 500, 1000, ':') == []
    assert check_options('flushdb', [], 3, 3, 500, 1000, ':') == []


@pytest.mark.parametrize('args, message', [
    (('delete', [], 0, None, 500, 1000, ':'), 'mode=delete needs prefixes'),
    (('flushdb', [], 0, None, 500, 1000, ':'), 'mode=flushdb needs confirm: 0'),
    (('flushdb', [], 2, 0, 500, 1000, ':'), 'confirm: 0 does not match db 2'),
    (('flushdb', ['cache'], 0, 0, 500, 1000, ':'), 'takes no prefixes; use mode=delete to delete only cache:*'),
    (('delete', ['cache'], 0, None, 0, 1000, ':'), 'batch_size: must be between 1 and 10000'),
    (('delete', ['cache'], 0, None, 500, 0, ':'), 'scan_count: must be between 1 and 100000'),
    (('delete', ['cache'], 0, None, 500, 1000, ''), 'delimiter: must not be empty'),
    (('wipe', [], 0, None, 500, 1000, ':'), 'mode: must be one of report, delete, flushdb'),
])
def test_check_options_errors(args, message):
    errors = check_options(*args)
    assert any(message in error for error in errors), errors


GROUPS = {'cache': 1200, 'sess': 3, 'queue': 2, 'bull': 5}


def test_flushdb_refused_with_session_and_queue_groups_named_with_counts():
    message = refusal('flushdb', 0, GROUPS, [], DEFAULT_PROTECTED, False)
    assert message.startswith('refusing to flush db 0: it holds session or queue keys: bull (5), sess (3), queue (2)')
    assert 'force_with_sessions=true' in message and 'mode=delete' in message


def test_flushdb_allowed_without_protected_groups_or_with_force():
    assert refusal('flushdb', 1, {'cache': 10, 'page': 3}, [], DEFAULT_PROTECTED, False) is None
    assert refusal('flushdb', 0, GROUPS, [], DEFAULT_PROTECTED, True) is None
    assert refusal('flushdb', 0, {}, [], DEFAULT_PROTECTED, False) is None


def test_prefix_deletion_of_the_cache_is_allowed_next_to_sessions():
    assert refusal('delete', 0, GROUPS, ['cache'], DEFAULT_PROTECTED, False) is None
    assert refusal('report', 0, GROUPS, [], DEFAULT_PROTECTED, False) is None


@pytest.mark.parametrize('prefixes, named', [
    (['sess'], 'sess:* in db 0'),
    (['cache', 'Session'], 'Session:* in db 0'),
    (['bull:jobs'], 'bull:jobs:* in db 0'),
    (['{bull}'], '{bull}:* in db 0'),
])
def test_prefix_deletion_of_a_protected_group_is_refused(prefixes, named):
    message = refusal('delete', 0, GROUPS, prefixes, DEFAULT_PROTECTED, False)
    assert message and named in message and 'force_with_sessions=true' in message
    assert refusal('delete', 0, GROUPS, prefixes, DEFAULT_PROTECTED, True) is None


def test_custom_protected_prefixes():
    assert refusal('flushdb', 0, {'cart': 4}, [], ['cart'], False).endswith(
        'or set force_with_sessions=true to lose them')
    assert refusal('flushdb', 0, GROUPS, [], [], False) is None  # no protection asked for


def test_subtract_and_top_groups():
    assert subtract_groups(GROUPS, {'cache': 1200}) == {'bull': 5, 'sess': 3, 'queue': 2}
    assert subtract_groups({'a': 3}, {'a': 1}) == {'a': 2}
    kept, others = top_groups(GROUPS, 2)
    assert kept == {'cache': 1200, 'bull': 5} and others == {'groups': 2, 'keys': 5}
    assert top_groups({}, 5) == ({}, {'groups': 0, 'keys': 0})
