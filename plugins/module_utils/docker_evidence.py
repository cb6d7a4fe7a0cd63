# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of the ``arizu.ops.docker_evidence`` module.

Nothing in here imports Ansible or talks to Docker: the module fetches the
Docker Engine API answers (container inspect, stats, logs) and hands them to
these functions, which

* compute memory and CPU figures the way ``docker stats`` does,
* decode the multiplexed log stream (8-byte frame headers) incrementally,
* mask secrets in everything that comes out of the container (log lines,
  health check output, label values),
* summarise the health check state, and
* reduce an inspect answer to the evidence an operator needs, never the
  container's environment, command line or the full inspect.

Only the Python standard library is used.
"""

from __future__ import annotations

import calendar
import re
import struct

try:
    from urllib.parse import quote, quote_plus, unquote, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote, quote_plus, unquote  # type: ignore[no-redef,attr-defined]
    from urlparse import urlsplit  # type: ignore[no-redef]


__all__ = [
    'HEALTH_STATUSES',
    'LOG_LINE_LIMIT',
    'MASK',
    'HEALTH_OUTPUT_LIMIT',
    'LogDecoder',
    'Masker',
    'FrameDemuxer',
    'LineAssembler',
    'arizu_labels',
    'container_evidence',
    'cpu_percent',
    'decode_logs',
    'disk_entry',
    'disk_error_entry',
    'format_ports',
    'health_summary',
    'is_secret_env_name',
    'memory_from_stats',
    'overall_message',
    'parse_docker_time',
    'secret_values_from_env',
    'summary_line',
]

#: What every masked value is replaced with.
MASK = '********'
#: Longest log line returned (characters, after masking).
LOG_LINE_LIMIT = 1000
#: Longest health check output returned (characters, after masking).
HEALTH_OUTPUT_LIMIT = 300
#: How many health check results are returned (the newest ones).
HEALTH_CHECKS_KEPT = 3
#: Bytes of one log line kept before masking; the rest of a longer line is dropped.
MAX_LINE_BYTES = 64 * 1024
#: Shortest environment value that is masked (shorter ones would mangle ordinary text).
MIN_SECRET_LENGTH = 4

HEALTH_STATUSES = ('healthy', 'unhealthy', 'starting', 'none')
STATES = ('created', 'running', 'restarting', 'exited', 'paused', 'dead', 'removing')

# Multiplexed stream ids (the first byte of each frame header).
STDIN, STDOUT, STDERR = 0, 1, 2

#: Parts of an environment variable NAME that mark its value as secret.
SECRET_NAME_WORDS = ('PASS', 'SECRET', 'KEY', 'TOKEN', 'AUTH', 'CREDENTIAL')
#: Name endings whose value is secret when it holds ``@`` (a connection string with credentials).
SECRET_URL_SUFFIXES = ('_URL', '_DSN', '_URI')
#: Values that are never treated as secrets, whatever the name (flags, not credentials).
_NOT_SECRET_VALUES = frozenset(('true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null', 'enabled', 'disabled'))

# scheme://user:password@ -- the password runs to the last "@" before a "/", "?", "#" or blank.
_USERINFO_RE = re.compile(r'(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*):(?P<pw>[^\s/?#]*)@')
_TIME_RE = re.compile(
    r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$')


# --------------------------------------------------------------------------
# Secret masking
# --------------------------------------------------------------------------

def is_secret_env_name(name, value=''):
    """True when the environment variable *name* (with *value*) holds a secret.

    A name containing PASS(WORD), SECRET, KEY, TOKEN, AUTH or CREDENTIAL
    (case-insensitive) is secret; so is a name ending in ``_URL``, ``_DSN`` or
    ``_URI`` whose value contains ``@`` (credentials in a connection string).
    """
    if not isinstance(name, str):
        return False
    upper = name.upper()
    if any(word in upper for word in SECRET_NAME_WORDS):
        return True
    return upper.endswith(SECRET_URL_SUFFIXES) and isinstance(value, str) and '@' in value


def _url_password(value):
    """The password of a ``scheme://user:password@host`` value, else None."""
    if '://' not in value or '@' not in value:
        return None
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        password = None
    if not password:
        match = _USERINFO_RE.search(value)
        password = match.group('pw') if match else None
    return password or None


def secret_values_from_env(env):
    """Return the set of values in a Docker ``Config.Env`` list that must be masked.

    *env* is a list of ``NAME=value`` strings (a dict is accepted too). The
    values of secret-looking names are returned, plus the password of every
    value that is a URL with ``user:password@`` (whatever its name), in the
    form written and URL-decoded. Values shorter than four characters and
    flag words such as ``true`` are left out: masking them would garble the
    logs without hiding anything.
    """
    if isinstance(env, dict):
        pairs = list(env.items())
    else:
        pairs = []
        for item in env or []:
            if isinstance(item, str) and '=' in item:
                pairs.append(tuple(item.split('=', 1)))
    found = set()
    for name, value in pairs:
        if not isinstance(value, str):
            continue
        candidates = []
        if is_secret_env_name(name, value):
            candidates.append(value)
        password = _url_password(value)
        if password:
            candidates.extend((password, unquote(password)))
        for candidate in candidates:
            if len(candidate) >= MIN_SECRET_LENGTH and candidate.strip().lower() not in _NOT_SECRET_VALUES:
                found.add(candidate)
    return found


class Masker(object):
    """Replace secrets (as written and URL-encoded) and URL passwords with ``********``."""

    def __init__(self, secrets=(), extra=()):
        forms = set()
        for value in list(secrets) + list(extra):
            if not isinstance(value, str) or not value:
                continue
            forms.add(value)
            forms.add(quote(value, safe=''))
            forms.add(quote_plus(value, safe=''))
            forms.add(quote(value))
        forms.discard('')
        # Longest first, so a value containing another value is masked whole.
        self.forms = sorted(forms, key=lambda f: (-len(f), f))
        self._re = re.compile('|'.join(re.escape(f) for f in self.forms)) if self.forms else None
        self.max_len = max([len(f) for f in self.forms] or [0])

    def mask(self, text):
        """Return *text* with every secret and every URL password replaced."""
        if not isinstance(text, str) or not text:
            return text
        if self._re is not None:
            text = self._re.sub(MASK, text)
        return _USERINFO_RE.sub(lambda m: m.group('head') + ':' + MASK + '@', text)

    def mask_cut_tail(self, text):
        """Mask a trailing piece of a secret, for text that was cut in the middle.

        When a line is cut, a secret may straddle the cut; the part that is
        kept (a prefix of the secret) is replaced as well.
        """
        if not isinstance(text, str) or not text:
            return text
        for form in self.forms:
            for size in range(min(len(form) - 1, len(text)), 2, -1):
                if text.endswith(form[:size]):
                    return text[:-size] + MASK
        return text


def cut(text, limit):
    """*text* shortened to at most *limit* characters, ending in ``...`` when cut."""
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return text[:max(0, limit - 3)] + '...'


# --------------------------------------------------------------------------
# Log stream
# --------------------------------------------------------------------------

class FrameDemuxer(object):
    """Incremental decoder of Docker's multiplexed stream format.

    Each frame is an 8-byte header (stream id 0/1/2, three zero bytes, payload
    size as big-endian uint32) followed by the payload. Data may arrive split
    anywhere, also inside a header. :meth:`feed` returns ``(stream, bytes)``
    pieces; a frame's payload may be handed out in several pieces.

    A container with a TTY sends raw bytes without headers (``tty=True``).
    When the very first header is not a valid header the stream is taken as
    raw too. A bad header later on stops the decoding and sets :attr:`error`.
    """

    def __init__(self, tty=False):
        self.raw = bool(tty)
        self.error = None
        self._header = b''
        self._remaining = 0
        self._stream = STDOUT
        self._frames = 0
        self._offset = 0
        self._stopped = False

    def feed(self, data):
        out = []
        if not data or self._stopped:
            return out
        data = bytes(data)
        pos = 0
        size = len(data)
        while pos < size:
            if self.raw:
                out.append((STDOUT, data[pos:]))
                self._offset += size - pos
                break
            if self._remaining:
                piece = data[pos:pos + self._remaining]
                out.append((self._stream, piece))
                self._remaining -= len(piece)
                pos += len(piece)
                self._offset += len(piece)
                continue
            need = 8 - len(self._header)
            chunk = data[pos:pos + need]
            self._header += chunk
            pos += len(chunk)
            if len(self._header) < 8:
                break
            header, self._header = self._header, b''
            stream_id = header[0] if isinstance(header[0], int) else ord(header[0])
            if stream_id not in (STDIN, STDOUT, STDERR) or header[1:4] != b'\x00\x00\x00':
                if self._frames == 0:
                    # no multiplexing after all: everything is raw output
                    self.raw = True
                    out.append((STDOUT, header))
                    self._offset += 8
                    continue
                self.error = 'malformed log stream: bad frame header at byte %d' % self._offset
                self._stopped = True
                break
            self._offset += 8
            self._frames += 1
            self._stream = STDOUT if stream_id == STDIN else stream_id
            self._remaining = struct.unpack('>I', header[4:8])[0]
        return out

    def close(self):
        """Return what is left at the end of the stream (only ever raw text)."""
        out = []
        if self._header and self._frames == 0 and not self._stopped:
            # fewer than 8 bytes in all: it was plain text, not a header
            out.append((STDOUT, self._header))
        elif self._header or self._remaining:
            if not self.error:
                self.error = 'log stream ended inside a frame'
        self._header = b''
        self._remaining = 0
        return out


class LineAssembler(object):
    """Split per-stream byte pieces into lines, calling ``on_line(stream, line, was_cut)``.

    stdout and stderr are assembled separately (a partial stdout line is not
    broken by a stderr frame). A line longer than *max_line_bytes* is cut and
    the rest of it dropped. A trailing ``\\r`` (TTY output) is removed.
    """

    def __init__(self, on_line, max_line_bytes=MAX_LINE_BYTES):
        self._on_line = on_line
        self._max = max_line_bytes
        self._buf = {}
        self._cut = {}

    def feed(self, stream, data):
        buf = self._buf.setdefault(stream, bytearray())
        start = 0
        while True:
            newline = data.find(b'\n', start)
            piece = data[start:] if newline < 0 else data[start:newline]
            room = self._max - len(buf)
            if len(piece) > room:
                buf += piece[:max(room, 0)]
                self._cut[stream] = True
            else:
                buf += piece
            if newline < 0:
                return
            self._emit(stream)
            start = newline + 1

    def _emit(self, stream):
        buf = self._buf.setdefault(stream, bytearray())
        line = bytes(buf)
        del buf[:]
        was_cut = self._cut.pop(stream, False)
        if line.endswith(b'\r'):
            line = line[:-1]
        self._on_line(stream, line, was_cut)

    def finish(self):
        for stream in sorted(self._buf):
            if self._buf[stream]:
                self._emit(stream)


def render_log_line(raw, was_cut, masker, limit=LOG_LINE_LIMIT):
    """Decode one raw log line, mask it, and cut it to *limit* characters."""
    text = raw.decode('utf-8', 'replace')
    masker = masker or Masker()
    text = masker.mask(text)
    if was_cut:
        text = masker.mask_cut_tail(text)
    return cut(text, limit)


class LogDecoder(object):
    """Feed chunks of a ``/containers/{id}/logs`` answer; :meth:`finish` returns the lines.

    Lines come out in the order they were completed, stdout and stderr
    together (as ``docker logs`` prints them), masked and cut to *line_limit*.
    """

    def __init__(self, tty=False, masker=None, line_limit=LOG_LINE_LIMIT, max_line_bytes=MAX_LINE_BYTES):
        self._demux = FrameDemuxer(tty=tty)
        self._masker = masker or Masker()
        self._limit = line_limit
        self.lines = []
        self.streams = []
        self._lines = LineAssembler(self._collect, max_line_bytes=max_line_bytes)

    def _collect(self, stream, raw, was_cut):
        self.lines.append(render_log_line(raw, was_cut, self._masker, self._limit))
        self.streams.append('stderr' if stream == STDERR else 'stdout')

    def feed(self, chunk):
        for stream, piece in self._demux.feed(chunk):
            self._lines.feed(stream, piece)

    def finish(self):
        for stream, piece in self._demux.close():
            self._lines.feed(stream, piece)
        self._lines.finish()
        return self.lines

    @property
    def error(self):
        return self._demux.error


def decode_logs(chunks, tty=False, masker=None, line_limit=LOG_LINE_LIMIT, max_line_bytes=MAX_LINE_BYTES):
    """Decode an iterable of byte chunks; return ``(lines, error)``."""
    decoder = LogDecoder(tty=tty, masker=masker, line_limit=line_limit, max_line_bytes=max_line_bytes)
    for chunk in chunks:
        decoder.feed(chunk)
    return decoder.finish(), decoder.error


# --------------------------------------------------------------------------
# Stats
# --------------------------------------------------------------------------

def _num(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def memory_from_stats(stats, configured_limit=None):
    """Memory use from a stats answer, computed like ``docker stats``.

    usage = ``memory_stats.usage`` minus the page cache that can be dropped:
    ``total_inactive_file`` (cgroup v1), else ``inactive_file`` (cgroup v2),
    each only when smaller than the usage (the order of the Docker CLI); when
    the answer has neither, ``cache`` (the figure old CLIs used). *configured_limit* is ``HostConfig.Memory`` from the
    inspect (``0`` = no limit); when it is unknown, a missing, zero or huge
    limit counts as no limit. Without a limit the engine reports the host's
    memory as the limit, and ``pct`` is relative to that (as ``docker stats``).

    Returns ``None`` when the answer has no memory usage (stopped container).
    """
    if not isinstance(stats, dict):
        return None
    mem = stats.get('memory_stats') or {}
    usage = _num(mem.get('usage'))
    if usage is None:
        return None
    detail = mem.get('stats') or {}
    keys = ('total_inactive_file', 'inactive_file')
    if not any(key in detail for key in keys):
        keys = ('cache',)
    for key in keys:
        drop = _num(detail.get(key))
        if drop is not None and drop < usage:
            usage -= drop
            break
    limit = _num(mem.get('limit')) or 0
    if configured_limit is not None and _num(configured_limit) is not None:
        unlimited = configured_limit <= 0
    else:
        unlimited = limit <= 0 or limit >= 2 ** 60
    pct = round(usage * 100.0 / limit, 2) if 0 < limit < 2 ** 60 else None
    return dict(usage_bytes=int(usage), limit_bytes=int(limit), pct=pct, unlimited=bool(unlimited))


def cpu_percent(stats):
    """CPU use in percent (100 = one full CPU), computed like ``docker stats``.

    ``(cpu_delta / system_delta) * online_cpus * 100`` between ``precpu_stats``
    and ``cpu_stats``; ``0.0`` when either delta is not positive. ``None``
    when the answer holds one sample only (``one-shot`` stats leave
    ``precpu_stats`` empty) or no CPU figures at all.
    """
    if not isinstance(stats, dict):
        return None
    cpu = stats.get('cpu_stats') or {}
    pre = stats.get('precpu_stats') or {}
    total = _num((cpu.get('cpu_usage') or {}).get('total_usage'))
    system = _num(cpu.get('system_cpu_usage'))
    pre_total = _num((pre.get('cpu_usage') or {}).get('total_usage')) or 0
    pre_system = _num(pre.get('system_cpu_usage'))
    if total is None or system is None or not pre_system:
        return None
    online = _num(cpu.get('online_cpus')) or len((cpu.get('cpu_usage') or {}).get('percpu_usage') or [])
    cpu_delta = float(total) - float(pre_total)
    system_delta = float(system) - float(pre_system)
    if system_delta > 0.0 and cpu_delta > 0.0 and online:
        return round(cpu_delta / system_delta * online * 100.0, 2)
    return 0.0


# --------------------------------------------------------------------------
# Inspect
# --------------------------------------------------------------------------

def parse_docker_time(value):
    """Seconds since the epoch for a Docker RFC 3339 time (nanoseconds allowed).

    ``None`` for Docker's zero time (``0001-01-01T00:00:00Z``), an empty or
    unparsable value.
    """
    if not isinstance(value, str):
        return None
    match = _TIME_RE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    if int(year) <= 1:
        return None
    try:
        seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if frac:
        seconds += float('0.' + frac[:9])
    if zone and zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        digits = zone[1:].replace(':', '')
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def _time_or_none(value):
    return value if parse_docker_time(value) is not None else None


def health_summary(inspect, masker=None):
    """Summarise ``State.Health`` and ``Config.Healthcheck`` of an inspect answer.

    Returns ``(has_healthcheck, health)`` where *health* is
    ``{status, failing_streak, last_checks}``; ``status`` is ``none`` without a
    health check. ``last_checks`` holds the newest three results, oldest
    first, with the output masked and cut to 300 characters.
    """
    masker = masker or Masker()
    config = (inspect or {}).get('Config') or {}
    test = (config.get('Healthcheck') or {}).get('Test') or []
    has_healthcheck = bool(test) and test[0] != 'NONE'
    state_health = ((inspect or {}).get('State') or {}).get('Health') or {}
    status = state_health.get('Status') if has_healthcheck else None
    if not isinstance(status, str) or not status:
        status = 'none'
    checks = []
    for entry in (state_health.get('Log') or [])[-HEALTH_CHECKS_KEPT:] if has_healthcheck else []:
        if not isinstance(entry, dict):
            continue
        output = entry.get('Output')
        output = output.rstrip() if isinstance(output, str) else ''
        checks.append(dict(
            start=entry.get('Start'),
            end=entry.get('End'),
            exit_code=entry.get('ExitCode'),
            output=cut(masker.mask(output), HEALTH_OUTPUT_LIMIT),
        ))
    streak = state_health.get('FailingStreak') if has_healthcheck else 0
    health = dict(status=status.lower(), failing_streak=streak if isinstance(streak, int) else 0, last_checks=checks)
    return has_healthcheck, health


def format_ports(ports):
    """``NetworkSettings.Ports`` as ``docker ps`` shows them, sorted by port.

    ``{"5678/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5678"}], "6379/tcp": null}``
    becomes ``["127.0.0.1:5678->5678/tcp", "6379/tcp"]``.
    """
    result = []

    def order(key):
        number, _sep, proto = str(key).partition('/')
        return (int(number) if number.isdigit() else 0, proto, str(key))

    for container_port in sorted((ports or {}).keys(), key=order):
        bindings = (ports or {}).get(container_port)
        if not bindings:
            result.append(str(container_port))
            continue
        for binding in bindings:
            host_ip = (binding or {}).get('HostIp') or '0.0.0.0'
            host_port = (binding or {}).get('HostPort') or ''
            if ':' in host_ip:
                host_ip = '[%s]' % host_ip
            text = '%s:%s->%s' % (host_ip, host_port, container_port)
            if text not in result:
                result.append(text)
    return result


def arizu_labels(labels, masker=None):
    """Only the labels whose key starts with ``arizu.`` (values masked)."""
    masker = masker or Masker()
    return dict((key, masker.mask(value) if isinstance(value, str) else value)
                for key, value in sorted((labels or {}).items())
                if isinstance(key, str) and key.startswith('arizu.'))


def container_evidence(inspect, stats=None, logs=None, masker=None, now=None):
    """Reduce an inspect answer (plus stats and log lines) to the returned evidence.

    Never copies ``Config.Env``, ``Config.Cmd``, ``Args`` or anything else
    that is not listed here. *stats* is a stats answer or ``None``; *logs* a
    list of already masked lines or ``None`` (then no ``logs`` key).
    """
    masker = masker or Masker()
    inspect = inspect or {}
    state = inspect.get('State') or {}
    config = inspect.get('Config') or {}
    host_config = inspect.get('HostConfig') or {}
    started_at = _time_or_none(state.get('StartedAt'))
    finished_at = _time_or_none(state.get('FinishedAt'))
    running = bool(state.get('Running'))
    uptime = None
    if running and started_at and now is not None:
        uptime = max(0, int(now - parse_docker_time(started_at)))
    has_healthcheck, health = health_summary(inspect, masker)
    memory = memory_from_stats(stats, host_config.get('Memory')) if stats is not None else None
    status = state.get('Status')
    if not isinstance(status, str):
        status = 'running' if running else 'exited'
    result = dict(
        exists=True,
        id=(inspect.get('Id') or '')[:12],
        name=(inspect.get('Name') or '').lstrip('/'),
        image=config.get('Image'),
        image_id=inspect.get('Image'),
        state=status,
        running=running,
        restarting=bool(state.get('Restarting')),
        exit_code=state.get('ExitCode'),
        oom_killed=bool(state.get('OOMKilled')),
        restart_count=inspect.get('RestartCount') or 0,
        started_at=started_at,
        finished_at=finished_at,
        uptime_seconds=uptime,
        health=health,
        has_healthcheck=has_healthcheck,
        memory=memory,
        cpu_pct=cpu_percent(stats) if stats is not None else None,
        labels=arizu_labels(config.get('Labels'), masker),
        ports=format_ports((inspect.get('NetworkSettings') or {}).get('Ports')),
    )
    if logs is not None:
        result['logs'] = list(logs)
    return result


def summary_line(name, evidence):
    """One line per container, e.g. ``arizu-app running healthy mem 12% restarts 0``."""
    if not evidence.get('exists'):
        return '%s %s' % (name, 'error: %s' % evidence['error'] if evidence.get('error') else 'missing')
    words = [name, evidence.get('state') or 'unknown']
    if evidence.get('state') in ('exited', 'dead'):
        words[-1] += '(%s)' % evidence.get('exit_code')
    if evidence.get('oom_killed'):
        words.append('oom-killed')
    health = (evidence.get('health') or {}).get('status') or 'none'
    if health == 'none':
        words.append('no-healthcheck')
    elif health == 'unhealthy' and (evidence.get('health') or {}).get('failing_streak'):
        words.append('unhealthy(%s failing)' % evidence['health']['failing_streak'])
    else:
        words.append(health)
    memory = evidence.get('memory')
    if memory and memory.get('pct') is not None:
        words.append('mem %s%%%s' % (_short_pct(memory['pct']), ' of host' if memory.get('unlimited') else ''))
    elif evidence.get('running'):
        words.append('mem n/a')
    if evidence.get('cpu_pct') is not None:
        words.append('cpu %s%%' % _short_pct(evidence['cpu_pct']))
    words.append('restarts %s' % evidence.get('restart_count', 0))
    return ' '.join(words)


def _short_pct(value):
    if value >= 10 or value == 0:
        return '%d' % round(value)
    return '%.1f' % value


def overall_message(results):
    """One line over all containers for ``msg``."""
    total = len(results)
    missing = [n for n, e in results.items() if not e.get('exists') and not e.get('error')]
    failed = [n for n, e in results.items() if not e.get('exists') and e.get('error')]
    found = [e for e in results.values() if e.get('exists')]
    running = [e for e in found if e.get('running')]
    not_running = [n for n, e in results.items() if e.get('exists') and not e.get('running')]
    unhealthy = [n for n, e in results.items()
                 if e.get('exists') and (e.get('health') or {}).get('status') == 'unhealthy']
    parts = ['%d of %d container%s found, %d running' % (len(found), total, '' if total == 1 else 's', len(running))]
    if not_running:
        parts.append('not running: %s' % ', '.join(not_running))
    if unhealthy:
        parts.append('unhealthy: %s' % ', '.join(unhealthy))
    if missing:
        parts.append('missing: %s' % ', '.join(missing))
    if failed:
        parts.append('not inspected: %s' % ', '.join(failed))
    return '; '.join(parts)


# --------------------------------------------------------------------------
# Disk
# --------------------------------------------------------------------------

def disk_entry(path, total, used, free):
    """Disk figures for *path* (bytes as from ``shutil.disk_usage``).

    ``used_pct`` is ``used / (used + free)`` like ``df`` (blocks reserved for
    root are not counted as free).
    """
    usable = used + free
    pct = round(used * 100.0 / usable, 2) if usable > 0 else 0.0
    return dict(path=path, total_bytes=int(total), used_bytes=int(used), free_bytes=int(free), used_pct=pct)


def disk_error_entry(path, exc):
    """Entry for a path that could not be measured (never fails the module)."""
    reason = getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__
    return dict(path=path, error=reason)
