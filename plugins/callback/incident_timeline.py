# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: incident_timeline
type: aggregate
short_description: Record every task of a run in an incident timeline (JSON and a post-mortem Markdown table)
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Records every task result of a playbook run (start and end time, host, task name, action, result
    V(ok), V(changed), V(failed), V(skipped) or V(unreachable), changed, failed, play, playbook) as the
    incident's automation timeline, for the runbook's post-incident review (its first item is to create
    the timeline, from incident start to resolution).
  - "Writes C(<timeline_dir>/<incident_id>/timeline.json) (a JSON list of events) and
    C(<timeline_dir>/<incident_id>/timeline.md) (a Markdown table C(Time | Host | Event | Action Taken | Result)
    whose C(Time), C(Event) and C(Action Taken) columns are those of the runbook's post-mortem Timeline table).
    Both files are rewritten after every event (write to a temporary file, then rename, under a lock file),
    so an interrupted run still leaves a complete timeline."
  - Runs with the same O(incident_id) append to the same timeline, so one timeline can span several
    playbooks (triage, then remediation). Each run gets the next run number.
  - "Events: C(playbook_start), C(play_start), C(task) and C(run_end) (with the per-host recap). A C(task) event has
    C(run), C(time) (= C(start)), C(start), C(end), C(duration_s), C(host), C(task), C(action), C(result),
    C(changed), C(failed), C(unreachable), C(censored), C(play), C(playbook), and C(ignored) for an ignored
    failure. Times are UTC, ISO 8601."
  - Never copies result contents, with one exception. For a failed or unreachable task that is not
    C(no_log), a short C(msg) (at most 300 characters) is kept, after redaction.
  - "A C(no_log) task (or a result Ansible censored) is recorded with its name, status and timing only, and
    C(censored: true). Its C(msg) is never kept, even when it fails."
  - "Redaction of every kept C(msg) and task name. The values (5 characters or more) of the variables whose
    names contain C(pass), C(secret), C(token), C(key), C(credential) or C(dsn) are replaced by C(********),
    as they are and URL-encoded.
    The variables are read from the play's variable manager, without templating, for the task's host.
    So are the values registered by C(no_log) tasks. Then URL credentials (C(scheme://user:pass@)),
    C(Authorization:) values, C(Bearer) tokens, PEM private keys, and C(name=value) / C(name: value) pairs
    whose name contains password, passwd, secret, token, key, credential or dsn are redacted."
  - The directory of an incident is created with mode 0700, the files with mode 0600.
  - The callback never fails a run; a problem (for example a directory that cannot be written) is shown
    once as a warning and recording stops.
requirements:
  - "Enable it: C(callbacks_enabled = arizu.ops.incident_timeline) in the C([defaults]) section of C(ansible.cfg),
    or C(ANSIBLE_CALLBACKS_ENABLED=arizu.ops.incident_timeline)."
options:
  incident_id:
    description:
      - The incident this run belongs to; names the timeline's directory.
      - Letters, digits, C(.), C(_) and C(-) only, starting with a letter or digit, at most 100 characters.
        Any other value disables the callback for the run (with a warning).
      - Defaults to C(INC-YYYYMMDD-HHMM) from the UTC time the run started, so set it (for example
        C(ARIZU_INCIDENT_ID=INC-20250101-1400)) to collect several runs in one timeline.
      - As a variable it is read from the play variables and extra vars (C(-e)) of the first play, not
        from inventory variables (those are per host).
    type: str
    env:
      - name: ARIZU_INCIDENT_ID
    ini:
      - section: callback_incident_timeline
        key: incident_id
    vars:
      - name: arizu_incident_id
  timeline_dir:
    description:
      - Directory holding one sub-directory per incident.
      - The default is per user and does not depend on the current directory nor on the playbook's directory,
        so playbooks run from different places add to the same timeline. Point it at a shared
        directory for a team.
      - A relative path given in C(ansible.cfg) is relative to that file; from the environment or a variable,
        to the current directory.
    type: path
    default: ~/.ansible/arizu/incidents
    env:
      - name: ARIZU_TIMELINE_DIR
    ini:
      - section: callback_incident_timeline
        key: timeline_dir
    vars:
      - name: arizu_timeline_dir
notes:
  - Results are recorded once per task and host; the items of a loop are not recorded one by one.
  - Secrets that only come from lookups or templates (for example an C(env) lookup) are not known by
    value to the callback; they are caught only by the patterns above.
"""

import datetime
import json
import os
import re
import socket
import tempfile
import time

from collections.abc import Mapping
from urllib.parse import quote, quote_plus

try:
    import fcntl
except ImportError:  # pragma: no cover  (not on a POSIX controller)
    fcntl = None

from ansible.plugins.callback import CallbackBase

try:
    from ansible.template import Templar
except ImportError:  # pragma: no cover
    Templar = None


MASK = '********'
MSG_LIMIT = 300
MSG_SCAN_LIMIT = 100000
NAME_LIMIT = 200
SECRET_MIN_LEN = 5
INCIDENT_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')

_SECRET_NAME_RE = re.compile(r'(?i)(pass|secret|token|key|credential|dsn)')
_PRIVATE_KEY_RE = re.compile(r'-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)', re.S)
_URL_USERINFO_RE = re.compile(r'([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#@]+@')
_AUTH_HEADER_RE = re.compile(r'(?i)(authorization["\']?\s*[:=]\s*["\']?)(?:(?:bearer|basic|token|digest)\s+)?[^\s"\',;]+')
_BEARER_RE = re.compile(r'(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*')
_KV_RE = re.compile(
    r'(?i)(["\']?)([\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|private[_-]?key|'
    r'access[_-]?key|credential|dsn)[\w.-]*)\1(\s*[=:]\s*)("[^"]*"|\'[^\']*\'|[^\s,;&"\'}\]]+)')
# Variables never searched for secrets (large, or not values of this play).
_SKIP_VARS = frozenset((
    'hostvars', 'vars', 'groups', 'group_names', 'omit', 'ansible_facts', 'environment', 'playbook_dir',
    'inventory_dir', 'inventory_file', 'role_path', 'role_names', 'play_hosts', 'ansible_play_hosts',
    'ansible_play_hosts_all', 'ansible_play_batch', 'ansible_search_path', 'ansible_config_file',
    'ansible_playbook_python', 'ansible_version', 'ansible_run_tags', 'ansible_skip_tags',
    'ansible_inventory_sources', 'ansible_role_names', 'ansible_dependent_role_names',
    'ansible_play_role_names', 'ansible_collection_name', 'ansible_parent_role_names', 'ansible_parent_role_paths',
))
# Keys of a registered no_log result that hold no secret of their own.
_RESULT_META_KEYS = frozenset(('cmd', 'start', 'end', 'delta', 'rc', 'changed', 'failed', 'skipped', 'attempts',
                               'invocation', 'warnings', 'deprecations', 'skip_reason', 'ansible_loop_var'))
_BORING_VALUES = frozenset(('true', 'false', 'yes', 'no', 'none', 'null', 'present', 'absent'))


# --------------------------------------------------------------------------
# Pure helpers (unit tested directly)
# --------------------------------------------------------------------------

def utc_iso(timestamp):
    """ISO 8601 UTC with milliseconds, e.g. 2025-01-01T14:00:05.123Z."""
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (moment.microsecond // 1000)


def default_incident_id(timestamp=None):
    """INC-YYYYMMDD-HHMM from the UTC time."""
    moment = datetime.datetime.fromtimestamp(time.time() if timestamp is None else timestamp,
                                             tz=datetime.timezone.utc)
    return moment.strftime('INC-%Y%m%d-%H%M')


def valid_incident_id(value):
    return isinstance(value, str) and INCIDENT_ID_RE.match(value) is not None


def redact(text, secrets=()):
    """Remove known secret values and anything that looks like a credential."""
    if not isinstance(text, str):
        text = str(text)
    forms = set()
    for secret in secrets:
        if secret:
            # the value as it sits in a URL or DSN, too
            forms.update((secret, quote(secret, safe=''), quote_plus(secret, safe='')))
    for secret in sorted(forms, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PRIVATE_KEY_RE.sub('[private key redacted]', text)
    text = _URL_USERINFO_RE.sub(r'\1' + MASK + '@', text)
    text = _AUTH_HEADER_RE.sub(r'\1' + MASK, text)
    text = _BEARER_RE.sub(r'\1 ' + MASK, text)
    text = _KV_RE.sub(lambda m: m.group(1) + m.group(2) + m.group(1) + m.group(3) + MASK, text)
    return text


def shorten(text, limit):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _as_text(value):
    """Plain text of a secret-ish scalar (vaulted values are decrypted), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return ''.join((value,))
    kind = type(value).__name__
    if 'Vault' in kind or 'Encrypted' in kind:
        try:
            return str(value)
        except Exception:  # pylint: disable=broad-except  # undecryptable: nothing to redact
            return None
    return None


def _leaves(value, out, depth, skip_keys=frozenset()):
    if depth > 6 or len(out) > 5000:
        return
    text = _as_text(value)
    if text is not None:
        text = text.strip()
        if len(text) >= SECRET_MIN_LEN and '{{' not in text and '{%' not in text and text.lower() not in _BORING_VALUES:
            out.add(text)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip_keys:
                _leaves(item, out, depth + 1, skip_keys)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out, depth + 1, skip_keys)


def collect_secrets(variables, extra_secret_names=(), depth=0, out=None):
    """Values of variables (and nested keys) whose names look secret.

    *extra_secret_names* are whole variables treated as secret (the
    registered results of no_log tasks).
    """
    out = set() if out is None else out
    if depth > 6 or not isinstance(variables, Mapping):
        return out
    for name, value in variables.items():
        if not isinstance(name, str):
            continue
        if depth == 0 and name in extra_secret_names:
            _leaves(value, out, depth + 1, _RESULT_META_KEYS)
        elif _SECRET_NAME_RE.search(name):
            _leaves(value, out, depth + 1)
        elif depth == 0 and (name in _SKIP_VARS or name.startswith('ansible_')):
            continue
        elif isinstance(value, Mapping):
            collect_secrets(value, (), depth + 1, out)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Mapping):
                    collect_secrets(item, (), depth + 1, out)
    return out


def _cell(value):
    text = ' '.join(str(value).split())
    return text.replace('\\', '\\\\').replace('|', '\\|')


def _md_time(iso):
    return iso[:19].replace('T', ' ') if isinstance(iso, str) else ''


def _recap(hosts):
    parts = []
    for host in sorted(hosts):
        counts = hosts[host]
        parts.append('%s: %s' % (host, ' '.join('%s=%s' % (key, counts.get(key, 0)) for key in
                                                ('ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'))))
    return '; '.join(parts)


def render_markdown(incident_id, events):
    """The timeline as Markdown: a title, a note and one table."""
    lines = [
        '# Incident %s: automation timeline' % incident_id,
        '',
        'Recorded by the `arizu.ops.incident_timeline` callback. Times are UTC. `Time`, `Event` and `Action Taken`',
        'are the columns of the post-mortem Timeline table; copy the rows that matter into it.',
        '',
        '| Time | Host | Event | Action Taken | Result |',
        '|------|------|-------|--------------|--------|',
    ]
    for event in events:
        if not isinstance(event, dict):
            continue
        kind = event.get('kind')
        time_cell = _md_time(event.get('time'))
        if kind == 'playbook_start':
            row = (time_cell, '', 'Run %s: playbook %s started' % (event.get('run', '?'), event.get('playbook', '?')),
                   'ansible-playbook%s on %s' % (' --check' if event.get('check_mode') else '', event.get('controller', '?')),
                   '')
        elif kind == 'play_start':
            row = (time_cell, '', 'Play: %s' % event.get('play', ''), 'play started', '')
        elif kind == 'run_end':
            row = (time_cell, '', 'Run %s ended' % event.get('run', '?'), 'recap',
                   '%s: %s' % (event.get('result', ''), _recap(event.get('hosts') or {})))
        elif kind == 'task':
            result = str(event.get('result', ''))
            if event.get('ignored'):
                result += ' (ignored)'
            if event.get('duration_s') is not None:
                result += ', %.1f s' % event['duration_s']
            if event.get('censored'):
                result += ', censored (no_log)'
            if event.get('msg'):
                result += ': %s' % event['msg']
            row = (time_cell, event.get('host', ''), event.get('task', ''), event.get('action', ''), result)
        else:
            continue
        lines.append('| %s |' % ' | '.join(_cell(cell) for cell in row))
    return '\n'.join(lines) + '\n'


# --------------------------------------------------------------------------
# The callback
# --------------------------------------------------------------------------

def _attr(obj, public, private):
    """``result.task``/``result.host``/``result.result`` on 2.19+, the underscore names before."""
    value = getattr(obj, public, None)
    return value if value is not None else getattr(obj, private, None)


class CallbackModule(CallbackBase):
    """Record every task of every run in an incident timeline."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'arizu.ops.incident_timeline'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._started_at = time.time()
        self._ready = False
        self._disabled = False
        self._incident_id = None
        self._dir = None
        self._run = None
        self._events_written = 0
        self._playbook = None
        self._playbook_path = None
        self._pending = []
        self._play = None
        self._play_name = ''
        self._task_start = None
        self._host_starts = {}
        self._nolog_registers = set()
        self._secret_cache = {}

    # ----- setup --------------------------------------------------------

    def _warn(self, message):
        if not self._disabled:
            self._display.warning('arizu.ops.incident_timeline: %s; recording stops' % message)
        self._disabled = True

    def _play_options(self, play):
        """arizu_incident_id / arizu_timeline_dir from the play's variables (templated)."""
        try:
            manager = play.get_variable_manager()
            if manager is None:
                return {}
            variables = manager.get_vars(play=play, include_hostvars=False)
        except Exception:  # pylint: disable=broad-except
            return {}
        found = {}
        for name in ('arizu_incident_id', 'arizu_timeline_dir'):
            value = variables.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            if ('{{' in value or '{%' in value) and Templar is not None:
                try:
                    value = Templar(loader=play.get_loader(), variables=variables).template(value)
                except Exception as exc:  # pylint: disable=broad-except
                    self._display.warning('arizu.ops.incident_timeline: cannot template %s (%s); ignored'
                                          % (name, type(exc).__name__))
                    continue
            if isinstance(value, str):
                found[name] = ''.join((value,))
        return found

    def _setup(self, play=None):
        if self._ready or self._disabled:
            return
        self._ready = True
        try:
            if play is not None:
                variables = self._play_options(play)
                if variables:
                    self.set_options(var_options=variables)
            incident_id = self.get_option('incident_id') or default_incident_id(self._started_at)
            if not valid_incident_id(incident_id):
                self._warn('invalid incident_id %r (letters, digits, ".", "_", "-"; up to 100 characters)'
                           % shorten(incident_id, 40))
                return
            base = os.path.abspath(os.path.expanduser(self.get_option('timeline_dir') or '~/.ansible/arizu/incidents'))
            if not os.path.isdir(base):
                os.makedirs(base, mode=0o700)
            path = os.path.join(base, incident_id)
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
            try:
                os.chmod(path, 0o700)
            except OSError:
                pass
            self._incident_id = incident_id
            self._dir = path
        except Exception as exc:  # pylint: disable=broad-except
            self._warn('cannot prepare the timeline directory (%s: %s)' % (type(exc).__name__, shorten(exc, 200)))
            return
        pending, self._pending = self._pending, []
        if pending:
            self._append(pending)

    # ----- storage ------------------------------------------------------

    def _load(self, path):
        if not os.path.exists(path):
            return []
        with open(path, 'r', encoding='utf-8') as handle:
            try:
                data = json.load(handle)
            except ValueError:
                data = None
        if isinstance(data, list):
            return data
        aside = '%s.unreadable-%d' % (path, int(time.time()))
        os.replace(path, aside)
        self._display.warning('arizu.ops.incident_timeline: %s is not a JSON list; moved to %s, starting anew'
                              % (path, aside))
        return []

    def _write(self, path, text):
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=self._dir)
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _append(self, events):
        if self._disabled:
            return
        if not self._ready:
            self._pending.extend(events)
            return
        if self._dir is None:
            return
        lock_fd = None
        try:
            lock_fd = os.open(os.path.join(self._dir, '.lock'), os.O_RDWR | os.O_CREAT, 0o600)
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            json_path = os.path.join(self._dir, 'timeline.json')
            timeline = self._load(json_path)
            if self._run is None:
                runs = [e.get('run') for e in timeline if isinstance(e, dict) and isinstance(e.get('run'), int)]
                self._run = max(runs) + 1 if runs else 1
            for event in events:
                event['run'] = self._run
            timeline.extend(events)
            self._write(json_path, json.dumps(timeline, indent=2, ensure_ascii=False) + '\n')
            self._write(os.path.join(self._dir, 'timeline.md'), render_markdown(self._incident_id, timeline))
            self._events_written += len(events)
        except Exception as exc:  # pylint: disable=broad-except
            self._warn('cannot write the timeline in %s (%s: %s)' % (self._dir, type(exc).__name__, shorten(exc, 200)))
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # also releases the lock

    # ----- secrets ------------------------------------------------------

    def _secrets(self, host, task, refresh=False):
        """Secret values for *host* (cached per play and host, refreshed on failures)."""
        key = (id(self._play), host.get_name() if host is not None else None)
        if not refresh and key in self._secret_cache:
            return self._secret_cache[key]
        secrets = set()
        try:
            manager = self._play.get_variable_manager() if self._play is not None else None
            if manager is not None:
                variables = manager.get_vars(play=self._play, host=host, task=task, include_hostvars=False)
                secrets = collect_secrets(variables, self._nolog_registers)
        except Exception:  # pylint: disable=broad-except  # fall back to the patterns
            secrets = set()
        self._secret_cache[key] = secrets
        return secrets

    # ----- events -------------------------------------------------------

    def _event(self, kind, **fields):
        now = time.time()
        event = {'kind': kind, 'time': utc_iso(now)}
        event.update(fields)
        return event

    def v2_playbook_on_start(self, playbook):
        path = getattr(playbook, '_file_name', None) or ''
        self._playbook_path = os.path.abspath(path) if path else ''
        self._playbook = os.path.basename(path) or '?'
        try:
            from ansible import context
            check_mode = bool(context.CLIARGS.get('check'))
        except Exception:  # pylint: disable=broad-except
            check_mode = False
        self._append([self._event('playbook_start', playbook=self._playbook, playbook_path=self._playbook_path,
                                  controller=socket.gethostname(), check_mode=check_mode)])

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._secret_cache = {}
        self._setup(play)
        name = play.get_name() if hasattr(play, 'get_name') else getattr(play, 'name', '')
        self._play_name = shorten(redact(name or ''), NAME_LIMIT)
        self._append([self._event('play_start', play=self._play_name, playbook=self._playbook)])

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start = time.time()

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start = time.time()

    def v2_runner_on_start(self, host, task):
        self._host_starts[(getattr(task, '_uuid', id(task)), host.get_name())] = time.time()

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        self._setup(None)
        hosts = {}
        worst = 'ok'
        try:
            for host in sorted(stats.processed.keys()):
                summary = stats.summarize(host)
                hosts[host] = dict((key, int(summary.get(key, 0))) for key in
                                   ('ok', 'changed', 'failures', 'unreachable', 'skipped', 'rescued', 'ignored'))
                hosts[host]['failed'] = hosts[host].pop('failures')
                if hosts[host]['unreachable'] or hosts[host]['failed']:
                    worst = 'failed'
        except Exception:  # pylint: disable=broad-except
            pass
        self._append([self._event('run_end', playbook=self._playbook, result=worst, hosts=hosts)])
        if self._dir is not None and not self._disabled:
            self._display.display('arizu.ops.incident_timeline: incident %s, run %s: %s'
                                  % (self._incident_id, self._run, os.path.join(self._dir, 'timeline.md')),
                                  stderr=True)

    @staticmethod
    def _censored(task, data):
        no_log = getattr(task, 'no_log', None)
        if no_log is True or (no_log not in (None, False) and not isinstance(no_log, bool)):
            return True  # a no_log that is not plainly false (e.g. a template) counts as set
        if not isinstance(data, dict):
            return True
        if data.get('_ansible_no_log') or 'censored' in data:
            return True
        results = data.get('results')
        if isinstance(results, list):
            return any(isinstance(item, dict) and (item.get('_ansible_no_log') or 'censored' in item) for item in results)
        return False

    def _record(self, result, status, ignored=False):
        if self._disabled:
            return
        try:
            task = _attr(result, 'task', '_task')
            host = _attr(result, 'host', '_host')
            data = _attr(result, 'result', '_result')
            if not isinstance(data, dict):
                data = dict(data) if data is not None else {}
            now = time.time()
            hostname = host.get_name()
            started = self._host_starts.pop((getattr(task, '_uuid', id(task)), hostname), None) \
                or self._task_start or now
            censored = self._censored(task, data)
            register = getattr(task, 'register', None)
            # a name; since ansible-core 2.21 also a mapping of names to what each one keeps
            names = [register] if isinstance(register, str) else list(register) if isinstance(register, Mapping) else []
            names = [name for name in names if isinstance(name, str) and name]
            if censored and names:
                self._nolog_registers.update(names)
                self._secret_cache = {}
            failing = status in ('failed', 'unreachable')
            secrets = self._secrets(host, task, refresh=failing)
            try:
                changed = bool(result.is_changed())
            except Exception:  # pylint: disable=broad-except
                changed = bool(data.get('changed'))
            if status == 'ok' and changed:
                status = 'changed'
            action = getattr(task, 'resolved_action', None) or getattr(task, 'action', '') or ''
            event = {
                'kind': 'task',
                'time': utc_iso(started),
                'start': utc_iso(started),
                'end': utc_iso(now),
                'duration_s': round(max(now - started, 0.0), 3),
                'host': hostname,
                'task': shorten(redact(task.get_name() or action, secrets), NAME_LIMIT),
                'action': str(action),
                'result': status,
                'changed': changed,
                'failed': status == 'failed',
                'unreachable': status == 'unreachable',
                'censored': censored,
                'play': self._play_name,
                'playbook': self._playbook,
            }
            if ignored:
                event['ignored'] = True
            if failing and not censored:
                msg = data.get('msg')
                if msg is not None and not isinstance(msg, str):
                    msg = json.dumps(msg, default=str)
                if msg:
                    # Redact before shortening, so that no cut can split a secret out of reach of the redaction.
                    event['msg'] = shorten(redact(msg[:MSG_SCAN_LIMIT], secrets), MSG_LIMIT)
        except Exception as exc:  # pylint: disable=broad-except
            self._warn('cannot record a task result (%s)' % type(exc).__name__)
            return
        self._append([event])
