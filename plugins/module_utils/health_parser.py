# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsing of HTTP health endpoint responses.

This file deliberately imports nothing from Ansible: it is shared by the
``arizu.ops.health_check`` module and by event-source plugins.  Only the
Python standard library is used and no function in here performs I/O.

The contract implemented here is described in ``docs/health-contract.md``.
"""

from __future__ import annotations

import json
import math
import re

from collections.abc import Mapping

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # type: ignore[no-redef]


__all__ = [
    'COMPONENT_STATES',
    'FORMATS',
    'MAX_BODY_BYTES',
    'OVERALL_STATES',
    'build_probe_url',
    'http_verdict',
    'normalize_status_word',
    'overall_from',
    'parse_health',
    'redact_url',
    'summarize_components',
    'truncate_raw',
    'worst_overall',
]

#: Largest body (in bytes) that is parsed; callers read at most one byte more.
MAX_BODY_BYTES = 1024 * 1024
#: Longest string kept in ``raw`` (characters).
RAW_STRING_LIMIT = 500
#: Approximate cap of the JSON-serialized ``raw`` value (characters).
RAW_SIZE_LIMIT = 8 * 1024
#: Deepest nesting kept in ``raw``.
RAW_DEPTH_LIMIT = 16
#: Longest non-JSON, non-HTML body that is judged by its HTTP status.
PLAIN_TEXT_LIMIT = 256
#: Longest component message kept.
MESSAGE_LIMIT = 300
#: Longest ``msg_detail`` returned.
DETAIL_LIMIT = 600

COMPONENT_STATES = ('up', 'degraded', 'down', 'unknown')
OVERALL_STATES = ('healthy', 'degraded', 'down', 'unreachable', 'invalid')
FORMATS = ('arizu', 'ietf', 'actuator', 'n8n', 'plain')

_UP_WORDS = frozenset(('ok', 'up', 'pass', 'healthy', 'green'))
_DEGRADED_WORDS = frozenset(('warn', 'warning', 'degraded', 'yellow'))
_DOWN_WORDS = frozenset(('fail', 'error', 'down', 'unhealthy', 'critical', 'red', 'out_of_service'))
_KNOWN_WORDS = _UP_WORDS | _DEGRADED_WORDS | _DOWN_WORDS | frozenset(('unknown',))

# HTTP statuses that mean "the service is down" when the body cannot say more.
_DOWN_HTTP = frozenset((500, 502, 503, 504))

_OVERALL_RANK = {'healthy': 0, 'degraded': 1, 'down': 2}
_COMPONENT_RANK = {'up': 0, 'unknown': 1, 'degraded': 2, 'down': 3}
_WORD_TO_OVERALL = {'up': 'healthy', 'degraded': 'degraded', 'down': 'down'}

_ACTUATOR_WORDS = frozenset(('UP', 'DOWN', 'OUT_OF_SERVICE', 'UNKNOWN'))
_IETF_WORDS = frozenset(('pass', 'warn', 'fail'))

_TITLE_RE = re.compile(r'<title[^>]*>(.*?)</title\s*>', re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r'<[^>]*>')
_WS_RE = re.compile(r'\s+')
_MARKUP_RE = re.compile(r'<[A-Za-z!/][^>]*>')
_USERINFO_RE = re.compile(r'^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@')


# --------------------------------------------------------------------------
# Small public helpers
# --------------------------------------------------------------------------

def normalize_status_word(word):
    """Map a status word to ``up``, ``degraded``, ``down`` or ``unknown``.

    Case-insensitive, surrounding whitespace ignored, ``-`` and blanks are
    treated like ``_`` (so ``Out-Of-Service`` is ``out_of_service``).
    Anything that is not a string, or an unrecognised word, is ``unknown``.
    """
    if not isinstance(word, str):
        return 'unknown'
    key = _WS_RE.sub('_', word.strip().lower()).replace('-', '_')
    if key in _UP_WORDS:
        return 'up'
    if key in _DEGRADED_WORDS:
        return 'degraded'
    if key in _DOWN_WORDS:
        return 'down'
    return 'unknown'


def _is_known_word(word):
    if not isinstance(word, str):
        return False
    key = _WS_RE.sub('_', word.strip().lower()).replace('-', '_')
    return key in _KNOWN_WORDS


def worst_overall(*statuses):
    """Return the worst of ``healthy``/``degraded``/``down`` values (None ignored)."""
    worst = None
    for status in statuses:
        if status is None:
            continue
        if worst is None or _OVERALL_RANK[status] > _OVERALL_RANK[worst]:
            worst = status
    return worst


def http_verdict(http_status):
    """Judge a response by its HTTP status alone.

    ``2xx`` is ``healthy``; 500, 502, 503 and 504 are ``down``; every other
    status is ``invalid``.  ``None`` (no HTTP involved) returns ``None``.
    """
    if http_status is None:
        return None
    if 200 <= http_status <= 299:
        return 'healthy'
    if http_status in _DOWN_HTTP:
        return 'down'
    return 'invalid'


def _component_words(components):
    if isinstance(components, Mapping):
        values = components.values()
    else:
        values = components or ()
    words = []
    for value in values:
        if isinstance(value, Mapping):
            value = value.get('status')
        if isinstance(value, str) and value in _COMPONENT_RANK:
            words.append(value)
        else:
            words.append(normalize_status_word(value))
    return words


def overall_from(body_status, components=(), http_status=None):
    """Combine the body's own status, the component states and the HTTP status.

    :arg body_status: the body's own status word (normalized or not), or
        ``None`` when the body carries none.
    :arg components: iterable of component status words, or the
        ``components`` mapping returned by :func:`parse_health`.
    :arg http_status: HTTP status code, or ``None`` when not known.
    :returns: ``healthy``, ``degraded``, ``down`` or ``invalid``.

    Rules (see docs/health-contract.md):

    * 1xx/3xx/4xx (and anything outside 2xx/5xx) -> ``invalid``.
    * The body's own status is the starting point; when it is absent or
      unknown, known component states give ``healthy`` (then capped below),
      otherwise the HTTP status decides (2xx healthy, 500/502/503/504 down,
      other 5xx invalid).
    * Never ``healthy`` while a component is ``degraded`` or ``down``
      (components alone push the result to ``degraded`` at most).
    * HTTP 503 -> ``down`` whatever the body says; any other 5xx -> at
      least ``degraded``.
    """
    if isinstance(http_status, bool) or not isinstance(http_status, int):
        http_status = None
    if http_status is not None and not (200 <= http_status <= 299 or 500 <= http_status <= 599):
        return 'invalid'

    word = normalize_status_word(body_status) if body_status is not None else 'unknown'
    words = _component_words(components)

    if word != 'unknown':
        overall = _WORD_TO_OVERALL[word]
    elif any(w != 'unknown' for w in words):
        overall = 'healthy'
    else:
        verdict = http_verdict(http_status)
        if verdict is None or verdict == 'invalid':
            return 'invalid'
        overall = verdict

    if overall == 'healthy' and any(w in ('degraded', 'down') for w in words):
        overall = 'degraded'

    if http_status == 503:
        overall = 'down'
    elif http_status is not None and http_status >= 500:
        overall = worst_overall(overall, 'degraded')
    return overall


def redact_url(url):
    """Remove ``user:password@`` from a URL so it can be echoed safely."""
    if not isinstance(url, str):
        return url
    return _USERINFO_RE.sub(r'\1', url)


def build_probe_url(url, detailed=False):
    """Return *url*, with ``detailed=true`` added to its query when *detailed*.

    The existing query is preserved byte for byte, except that a previous
    ``detailed`` parameter is replaced.
    """
    if not detailed:
        return url
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = [p for p in query.split('&') if p and p.split('=', 1)[0] != 'detailed']
    params.append('detailed=true')
    return urlunsplit((scheme, netloc, path, '&'.join(params), fragment))


def _cut(text, limit):
    if len(text) <= limit:
        return text
    return text[:limit] + '...'


def truncate_raw(value, string_limit=RAW_STRING_LIMIT, size_limit=RAW_SIZE_LIMIT):
    """Return a copy of a parsed JSON value that is safe to return.

    Strings longer than *string_limit* are cut, nesting deeper than
    RAW_DEPTH_LIMIT is replaced by a marker, and containers are cut so that
    the serialized size stays around *size_limit* characters; cut
    containers get a ``"..."`` marker entry.
    """
    shrunk = _shrink(value, string_limit, 0)
    try:
        size = len(json.dumps(shrunk))
    except (TypeError, ValueError):
        return _cut(repr(value), string_limit)
    if size <= size_limit:
        return shrunk
    budget = [max(size_limit - 1024, 256)]
    cut = _budget(shrunk, budget)
    if len(json.dumps(cut)) <= size_limit + 1024:
        return cut
    return {'...': 'truncated', 'preview': json.dumps(shrunk)[:string_limit]}


def _shrink(value, limit, depth):
    if isinstance(value, str):
        return _cut(value, limit)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= RAW_DEPTH_LIMIT:
        return '... (nested too deep)'
    if isinstance(value, Mapping):
        return dict((_cut(str(k), limit), _shrink(v, limit, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_shrink(v, limit, depth + 1) for v in value]
    return _cut(str(value), limit)


def _budget(value, budget):
    if isinstance(value, dict):
        out = {}
        items = list(value.items())
        for index, (key, item) in enumerate(items):
            if budget[0] <= 0:
                out['...'] = 'truncated (%d more keys)' % (len(items) - index)
                break
            budget[0] -= len(key) + 6
            out[key] = _budget(item, budget)
        return out
    if isinstance(value, list):
        out_list = []
        for index, item in enumerate(value):
            if budget[0] <= 0:
                out_list.append('... truncated (%d more items)' % (len(value) - index))
                break
            budget[0] -= 2
            out_list.append(_budget(item, budget))
        return out_list
    budget[0] -= len(json.dumps(value))
    return value


def summarize_components(components):
    """``db up, redis degraded (slow)`` style summary of a components mapping."""
    parts = []
    for name, entry in components.items():
        status = entry.get('status', 'unknown')
        part = '%s %s' % (name, status)
        message = entry.get('message')
        if message and status != 'up':
            part += ' (%s)' % _cut(_WS_RE.sub(' ', message).strip(), 120)
        parts.append(part)
    return ', '.join(parts)


# --------------------------------------------------------------------------
# parse_health
# --------------------------------------------------------------------------

def _result(status, fmt, components, raw, detail, version=None):
    return {
        'status': status,
        'format': fmt,
        'components': components,
        'raw': raw,
        'msg_detail': _cut(detail, DETAIL_LIMIT),
        'version': version,
    }


def _safe_text(body):
    try:
        if isinstance(body, str):
            text = body
        else:
            text = bytes(body or b'')[:MAX_BODY_BYTES].decode('utf-8', 'replace')
        return text.lstrip('\ufeff')
    except Exception:  # pylint: disable=broad-except
        return ''


def parse_health(http_status, body, content_type=None, url_path=''):
    """Parse one health endpoint response.

    :arg http_status: HTTP status code (int) or ``None``.
    :arg body: response body (bytes; ``str`` and ``None`` are accepted too).
        Bodies longer than MAX_BODY_BYTES are reported ``invalid``.
    :arg content_type: value of the ``Content-Type`` header, if any.
    :arg url_path: path of the probed URL (a full URL is accepted); used to
        recognise n8n's ``/healthz`` endpoints.
    :returns: dict with keys ``status`` (healthy/degraded/down/invalid),
        ``format`` (arizu/ietf/actuator/n8n/plain), ``components``
        (name -> {status, [latency_ms], [message], [active], [fallback]}),
        ``raw`` (truncated parsed body or first 500 characters of text),
        ``msg_detail`` (human-readable detail) and ``version`` (str or None).

    Never raises: unexpected errors become an ``invalid`` result.
    """
    try:
        return _parse(http_status, body, content_type, url_path)
    except Exception as exc:  # pylint: disable=broad-except
        return _result('invalid', 'plain', {}, _cut(_safe_text(body), RAW_STRING_LIMIT),
                       'parser error: %s: %s' % (type(exc).__name__, _cut(str(exc), 200)))


def _coerce_http_status(http_status):
    if http_status is None or isinstance(http_status, bool):
        return None
    if isinstance(http_status, int):
        return http_status
    try:
        return int(str(http_status).strip())
    except (TypeError, ValueError):
        return None


def _parse(http_status, body, content_type, url_path):
    http_status = _coerce_http_status(http_status)
    if body is None:
        body = b''
    elif isinstance(body, str):
        body = body.encode('utf-8', 'replace')
    elif not isinstance(body, bytes):
        body = bytes(body)
    ctype = content_type.lower() if isinstance(content_type, str) else ''
    path = url_path if isinstance(url_path, str) else ''
    if '://' in path:
        try:
            path = urlsplit(path).path
        except ValueError:
            pass
    path = path.lower()

    if len(body) > MAX_BODY_BYTES:
        return _result('invalid', 'plain', {}, '',
                       'response body exceeds the %d byte (1 MiB) limit' % MAX_BODY_BYTES)

    text = body.decode('utf-8', 'replace')
    if text.startswith('\ufeff'):
        text = text[1:]
    stripped = text.strip()
    raw_text = _cut(text, RAW_STRING_LIMIT)

    if not stripped:
        return _judge_plain(http_status, None, 'empty body', '')

    if stripped[0] in '{["' or 'json' in ctype:
        try:
            value = json.loads(stripped, parse_constant=lambda name: name)
        except ValueError as exc:
            if stripped[0] in '{[':
                if hasattr(exc, 'lineno'):
                    detail = 'malformed JSON: %s: line %d column %d (char %d)' % (
                        exc.msg, exc.lineno, exc.colno, exc.pos)
                else:
                    detail = 'malformed JSON: %s' % exc
                return _result('invalid', 'plain', {}, raw_text, detail)
        except RecursionError:
            return _result('invalid', 'plain', {}, raw_text, 'malformed JSON: nested too deeply')
        else:
            return _parse_json_value(value, http_status, ctype, path, raw_text)

    if _looks_like_html(stripped, ctype):
        return _result('invalid', 'plain', {}, raw_text,
                       'HTML page instead of a health response: %r' % _html_snippet(stripped))

    if len(stripped) > PLAIN_TEXT_LIMIT:
        return _result('invalid', 'plain', {}, raw_text,
                       'unexpected %d character text body (expected JSON or a short status text): %r'
                       % (len(stripped), _cut(_WS_RE.sub(' ', stripped), 80)))

    word = stripped if _is_known_word(stripped) else None
    return _judge_plain(http_status, word, 'text %r' % _cut(_WS_RE.sub(' ', stripped), 80), raw_text)


def _judge_plain(http_status, word, detail, raw):
    """Status for empty/plain bodies: the HTTP status, worsened by a status word."""
    verdict = http_verdict(http_status)
    word_status = _WORD_TO_OVERALL.get(normalize_status_word(word)) if word is not None else None
    if verdict == 'invalid':
        status = 'invalid'
        detail += '; unexpected HTTP status %s' % http_status
    elif verdict is None and word_status is None:
        status = 'invalid'
        detail += '; no HTTP status and no status word'
    else:
        status = worst_overall(verdict, word_status)
    return _result(status, 'plain', {}, raw, detail)


def _looks_like_html(stripped, ctype):
    head = stripped[:4096].lower()
    if head.startswith('<!doctype') or head.startswith('<html'):
        return True
    lower = stripped.lower()
    if '<body' in lower or '<head' in lower:
        return True
    return 'html' in ctype and _MARKUP_RE.search(stripped) is not None


def _html_snippet(stripped):
    match = _TITLE_RE.search(stripped)
    if match:
        title = _WS_RE.sub(' ', _TAG_RE.sub(' ', match.group(1))).strip()
        if title:
            return _cut(title, 80)
    text = _WS_RE.sub(' ', _TAG_RE.sub(' ', stripped)).strip() or _WS_RE.sub(' ', stripped)
    return text[:80]


def _type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'list'
    if isinstance(value, Mapping):
        return 'object'
    return type(value).__name__


def _parse_json_value(value, http_status, ctype, path, raw_text):
    if isinstance(value, dict):
        return _parse_object(value, http_status, ctype, path)
    if isinstance(value, str) and _is_known_word(value):
        status = overall_from(value, (), http_status)
        detail = 'status %r' % value.strip()
        return _result(status, 'plain', {}, truncate_raw(value), detail)
    return _result('invalid', 'plain', {}, truncate_raw(value),
                   'JSON body is a %s, expected an object' % _type_name(value))


# --------------------------------------------------------------------------
# JSON objects
# --------------------------------------------------------------------------

def _detect_format(obj, ctype, path):
    status = obj.get('status')
    status_str = status.strip() if isinstance(status, str) else None
    keys = set(obj)
    if keys == {'status'} and status_str is not None and status_str.lower() in ('ok', 'error'):
        return 'n8n'
    if 'checks' in obj or 'health+json' in ctype or (
            status_str is not None and status_str.lower() in _IETF_WORDS and 'components' not in obj):
        return 'ietf'
    if 'spring-boot.actuator' in ctype or (status_str is not None and status_str in _ACTUATOR_WORDS):
        return 'actuator'
    if '/healthz' in path and not keys & {'components', 'details', 'checks'}:
        return 'n8n'
    return 'arizu'


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def _message_from(value):
    """A message from a ``message``/``error`` value (string or {message: ...})."""
    if isinstance(value, Mapping):
        value = value.get('message', value.get('error'))
    if isinstance(value, str) and value.strip():
        return _cut(value.strip(), MESSAGE_LIMIT)
    return None


def _top_status(obj, notes, keys=('status', 'state')):
    for key in keys:
        if key not in obj:
            continue
        value = obj[key]
        if isinstance(value, str):
            if normalize_status_word(value) == 'unknown' and value.strip().lower() != 'unknown':
                notes.append('unrecognised %s %r' % (key, _cut(value.strip(), 40)))
            return value
        notes.append('ignored %s of type %s' % (key, _type_name(value)))
        return None
    return None


def _version_of(obj, keys=('version',)):
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return _cut(value.strip(), 100)
        if _number(value) is not None:
            return str(value)
    return None


def _object_component(name, value):
    """Normalize one arizu/actuator component value (string, bool or object)."""
    if isinstance(value, str):
        return {'status': normalize_status_word(value)}
    if isinstance(value, bool):
        return {'status': 'up' if value else 'down'}
    if not isinstance(value, Mapping):
        return {'status': 'unknown'}
    raw_status = value.get('status', value.get('state'))
    if isinstance(raw_status, str):
        status = normalize_status_word(raw_status)
    elif isinstance(raw_status, bool):
        status = 'up' if raw_status else 'down'
    elif name == 'llm' and isinstance(value.get('active'), str) and value['active'].strip():
        status = 'up'
    else:
        status = 'unknown'
    entry = {'status': status}
    _merge_extras(entry, name, value)
    return entry


def _merge_extras(entry, name, value):
    latency = _number(value.get('latency_ms'))
    if latency is not None:
        entry['latency_ms'] = latency
    message = _message_from(value.get('message')) or _message_from(value.get('error'))
    if message is not None:
        entry['message'] = message
    if name == 'llm':
        for key in ('active', 'fallback'):
            if key in value and (value[key] is None or isinstance(value[key], (str, int, float, bool))):
                entry[key] = _cut(value[key], 100) if isinstance(value[key], str) else value[key]


def _components_from(container, notes, label='components'):
    """Components from a mapping, or from a list of objects having a ``name``."""
    components = {}
    if container is None:
        return components
    if isinstance(container, Mapping):
        for name, value in container.items():
            components[str(name)] = _object_component(str(name), value)
        return components
    if isinstance(container, list):
        skipped = 0
        for item in container:
            name = item.get('name') if isinstance(item, Mapping) else None
            if isinstance(name, str) and name.strip():
                components[name.strip()] = _object_component(name.strip(), item)
            else:
                skipped += 1
        if skipped:
            notes.append('ignored %d %s list item(s) without a name' % (skipped, label))
        return components
    notes.append('ignored %s of type %s' % (label, _type_name(container)))
    return components


def _parse_object(obj, http_status, ctype, path):
    fmt = _detect_format(obj, ctype, path)
    notes = []
    version = None
    if fmt == 'n8n':
        body_status = _top_status(obj, notes, ('status',))
        name = 'n8n_readiness' if '/healthz/readiness' in path else 'n8n'
        components = {name: {'status': normalize_status_word(body_status)}}
    elif fmt == 'ietf':
        body_status = _top_status(obj, notes, ('status',))
        components = _ietf_checks(obj.get('checks'), notes)
        version = _version_of(obj, ('version', 'releaseId'))
        output = _message_from(obj.get('output'))
        if output:
            notes.append('output: %s' % output)
    elif fmt == 'actuator':
        body_status = _top_status(obj, notes, ('status',))
        components = _actuator_components(obj, notes)
        version = _version_of(obj)
    else:
        body_status = _top_status(obj, notes)
        components = _components_from(obj.get('components'), notes)
        _merge_details(components, obj.get('details'), notes)
        version = _version_of(obj)

    status = overall_from(body_status, components, http_status)

    parts = []
    if components:
        parts.append(summarize_components(components))
    elif body_status is not None:
        parts.append('status %r' % _cut(body_status.strip(), 40))
    else:
        parts.append('no status in body')
        if status != 'invalid':
            parts.append('judged by HTTP status')
    known = normalize_status_word(body_status) if body_status is not None else 'unknown'
    body_overall = _WORD_TO_OVERALL.get(known)
    if status == 'invalid' and http_status is not None and not (200 <= http_status <= 299 or 500 <= http_status <= 599):
        parts.append('unexpected HTTP status %d' % http_status)
    elif body_overall is not None and status != body_overall and http_status is not None and http_status >= 500:
        parts.append('HTTP %d overrides body status %s' % (http_status, body_overall))
    if not components and status != 'healthy':
        message = _message_from(obj.get('message')) or _message_from(obj.get('error'))
        if message:
            parts.append('message: %s' % message)
    parts.extend(notes)
    return _result(status, fmt, components, truncate_raw(obj), '; '.join(parts), version)


def _merge_details(components, details, notes):
    """Merge ``details`` (``?detailed=true``) into the arizu components."""
    if details is None:
        return
    if not isinstance(details, Mapping):
        notes.append('ignored details of type %s' % _type_name(details))
        return
    for name, value in details.items():
        name = str(name)
        if not isinstance(value, Mapping):
            continue
        entry = components.get(name)
        detail_status = value.get('status', value.get('state'))
        if entry is None:
            if detail_status is None:
                continue
            entry = components[name] = {'status': 'unknown'}
        if entry['status'] == 'unknown' and isinstance(detail_status, str):
            entry['status'] = normalize_status_word(detail_status)
        _merge_extras(entry, name, value)


def _ietf_checks(checks, notes):
    components = {}
    if checks is None:
        return components
    if not isinstance(checks, Mapping):
        notes.append('ignored checks of type %s' % _type_name(checks))
        return components
    collected = {}
    order = []
    for key, items in checks.items():
        name = str(key).split(':', 1)[0].strip() or str(key)
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            notes.append('ignored check %r of type %s' % (str(key), _type_name(items)))
            continue
        if name not in collected:
            collected[name] = []
            order.append(name)
        collected[name].extend(item for item in items if isinstance(item, Mapping))
    for name in order:
        items = collected[name]
        statuses = [normalize_status_word(item.get('status')) for item in items]
        known = [s for s in statuses if s != 'unknown']
        worst = max(known, key=_COMPONENT_RANK.get) if known else 'unknown'
        entry = {'status': worst}
        for item in items:
            unit = item.get('observedUnit')
            value = _number(item.get('observedValue'))
            if value is not None and isinstance(unit, str) and unit.strip().lower() in ('ms', 'millisecond', 'milliseconds'):
                entry['latency_ms'] = value
                break
        # message: output of the worst item first, else any output
        ranked = sorted(zip(statuses, items), key=lambda pair: -_COMPONENT_RANK[pair[0]])
        for _status, item in ranked:
            message = _message_from(item.get('output'))
            if message:
                entry['message'] = message
                break
        components[name] = entry
    return components


def _actuator_components(obj, notes):
    container = obj.get('components')
    label = 'components'
    if container is None:
        container = obj.get('details')
        label = 'details'
    if container is None:
        # Spring Boot 1.x: indicators are top-level objects with a status.
        legacy = dict((k, v) for k, v in obj.items() if isinstance(v, Mapping) and 'status' in v)
        container = legacy or None
    if container is None:
        return {}
    components = _components_from(container, notes, label)
    if isinstance(container, Mapping):
        for name, value in container.items():
            entry = components.get(str(name))
            if entry is None or not isinstance(value, Mapping) or 'message' in entry:
                continue
            inner = value.get('details')
            if isinstance(inner, Mapping):
                message = _message_from(inner.get('error')) or _message_from(inner.get('message'))
                if message:
                    entry['message'] = message
    return components
