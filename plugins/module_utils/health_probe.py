# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP health probe: fetch (capped body, no secrets in errors) and parse.

Shared by the modules health_check and triage_probe.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import time

from http.client import HTTPException, IncompleteRead, RemoteDisconnected
from urllib.error import HTTPError, URLError
from urllib import request as urllib_request
from urllib.parse import urlsplit

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.health_parser import (
    MAX_BODY_BYTES,
    build_probe_url,
    parse_health,
    redact_url,
)

STATUSES = ['healthy', 'degraded', 'down', 'unreachable', 'invalid']
RETRY_ON = ('unreachable', 'down')


_PLAIN_OPENER = []


def http_get(url, headers, timeout, validate_certs=True):
    """GET *url* and return the response (an HTTPError for 4xx/5xx is raised, as urllib does).

    Plain http goes through urllib's own opener (environment proxies and
    redirects as usual): ansible's open_url builds a TLS context with the
    system's CA bundle on every call, ~100 ms on a small machine, which a
    latency probe would count as the server's. https, and a URL with
    credentials, use open_url.
    """
    if url[:7].lower() == 'http://' and '@' not in urlsplit(url).netloc:  # credentials: open_url handles them
        if not _PLAIN_OPENER:
            _PLAIN_OPENER.append(urllib_request.build_opener())
        req = urllib_request.Request(url, headers=dict(headers or {}), method='GET')
        return _PLAIN_OPENER[0].open(req, timeout=timeout)
    # imported here: ansible.module_utils.urls is slow to import, and plain http never needs it
    from ansible.module_utils.urls import ConnectionError as UrlsConnectionError  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.urls import SSLValidationError, open_url  # pylint: disable=import-outside-toplevel
    try:
        return open_url(url, method='GET', headers=dict(headers or {}), timeout=timeout,
                        validate_certs=validate_certs, follow_redirects='safe')
    except SSLValidationError as exc:
        raise Unreachable('TLS error: %s' % to_native(exc))
    except UrlsConnectionError as exc:
        raise Unreachable(to_native(exc) or 'connection error')


class Unreachable(Exception):
    """No usable HTTP answer; the message is the human reason."""


def _is_timeout(exc):
    return isinstance(exc, (socket.timeout, TimeoutError)) or 'timed out' in str(exc).lower()


def describe_error(exc, timeout):
    """Turn a connection-level exception into a short reason (no URL, no secrets)."""
    reason = exc
    if isinstance(exc, URLError) and not isinstance(exc, HTTPError):
        reason = exc.reason
    if isinstance(reason, str):
        if 'timed out' in reason.lower():
            return 'timeout after %g s' % timeout
        return reason
    if _is_timeout(reason):
        return 'timeout after %g s' % timeout
    if isinstance(reason, ConnectionRefusedError):
        return 'connection refused'
    if isinstance(reason, socket.gaierror):
        return 'DNS name resolution failed (%s)' % (reason.strerror or reason)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return 'TLS error: certificate verification failed (%s)' % (reason.verify_message or reason.reason)
    if isinstance(reason, ssl.SSLError):
        return 'TLS error: %s' % (reason.reason or reason)
    if isinstance(reason, ConnectionResetError):
        return 'connection reset by peer'
    if isinstance(reason, RemoteDisconnected):
        return 'server closed the connection without a response'
    if isinstance(reason, HTTPException):
        return 'HTTP protocol error (%s: %s)' % (type(reason).__name__, to_native(reason)[:100])
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    text = to_native(reason) or type(reason).__name__
    return text


def read_capped(response):
    """Read at most MAX_BODY_BYTES + 1 bytes of a response."""
    if response is None or getattr(response, 'fp', True) is None:
        return b''
    chunks = []
    remaining = MAX_BODY_BYTES + 1
    while remaining > 0:
        chunk = response.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


def fetch(url, headers, timeout, validate_certs):
    """GET *url*; return (http_status, content_type, body). Raise Unreachable."""
    response = None
    try:
        try:
            response = http_get(url, headers, timeout, validate_certs)
            code = response.getcode()
        except HTTPError as exc:
            response = exc
            code = exc.code
        content_type = None
        if response.headers is not None:
            content_type = response.headers.get('Content-Type')
        if isinstance(response, HTTPError) and response.headers is not None and \
                (response.headers.get('Content-Encoding') or '').lower() == 'gzip' and response.fp is not None:
            body = read_capped(gzip.GzipFile(fileobj=response.fp))
        else:
            body = read_capped(response)
        return code, content_type, body
    except IncompleteRead as exc:
        raise Unreachable('connection closed after %d bytes of the body' % len(exc.partial or b''))
    except (URLError, HTTPException, OSError, ValueError) as exc:
        raise Unreachable(describe_error(exc, timeout))
    finally:
        if response is not None:
            try:
                response.close()
            except Exception:  # pylint: disable=broad-except
                pass


def probe(url, safe_url, headers, timeout, validate_certs, latency_slo_ms):
    """One attempt; returns the result dict (without attempts/changed)."""
    started = time.perf_counter()
    try:
        http_status, content_type, body = fetch(url, headers, timeout, validate_certs)
    except Unreachable as exc:
        latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
        return dict(
            status='unreachable', http_status=None, latency_ms=latency_ms, slo_ok=False,
            format=None, components={}, raw=None, url=safe_url,
            msg='unreachable: %s (%s)' % (exc, safe_url),
        )
    latency_ms = round((time.perf_counter() - started) * 1000.0, 3)

    if len(body) > MAX_BODY_BYTES:
        # Never hand the parser more than the cap: the body is rejected as is.
        parsed = dict(
            status='invalid', format='plain', components={}, version=None,
            raw=body[:2048].decode('utf-8', 'replace').lstrip('\ufeff')[:500],
            msg_detail='response body exceeds the 1 MiB limit (%d bytes read, rest not downloaded)'
                       % MAX_BODY_BYTES,
        )
    else:
        parsed = parse_health(http_status, body, content_type, urlsplit(url).path)

    result = dict(
        status=parsed['status'],
        http_status=http_status,
        latency_ms=latency_ms,
        slo_ok=latency_ms <= latency_slo_ms,
        format=parsed['format'],
        components=parsed['components'],
        raw=parsed['raw'],
        url=safe_url,
    )
    if parsed.get('version') is not None:
        result['version'] = parsed['version']
    result['msg'] = '%s (%s, HTTP %s, %.1f ms): %s' % (
        parsed['status'], parsed['format'], http_status, latency_ms, parsed['msg_detail'])
    return result


def probe_with_retries(url, detailed, headers, timeout, validate_certs, latency_slo_ms, retries=0, delay=1.0):
    """Probe *url* (its detailed form when *detailed*), again after *delay* s while unreachable or down,
    up to *retries* more times; returns the result with ``attempts``."""
    target = build_probe_url(url, detailed)
    safe_url = redact_url(target)
    attempts = 0
    while True:
        attempts += 1
        result = probe(target, safe_url, headers, timeout, validate_certs, latency_slo_ms)
        if result['status'] not in RETRY_ON or attempts > retries:
            break
        time.sleep(delay)
    result['attempts'] = attempts
    return result
