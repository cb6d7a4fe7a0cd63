# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the arizu.ops.incident_timeline callback.

Two real ``ansible-playbook`` runs (fixtures/triage.yml, then
fixtures/remediate.yml) with the callback enabled and the same incident id:
both must land in one timeline, with every result kind, and none of the
secrets in the fixtures may ever reach the timeline files.
"""

from __future__ import annotations

import json
import os
import stat
import shutil
import subprocess
import sys

from pathlib import Path

import pytest

from ansible_collections.arizu.ops.plugins.callback import incident_timeline
from ansible_collections.arizu.ops.plugins.callback.incident_timeline import (
    MASK,
    CallbackModule,
    collect_secrets,
    default_incident_id,
    redact,
    render_markdown,
    utc_iso,
    valid_incident_id,
)

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / 'fixtures'
REPO_ROOT = HERE.parents[3]
COLLECTIONS = REPO_ROOT / '.state' / 'collections'
# the virtualenv's; under ansible-test units (no scripts in its virtualenv) the one on PATH
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / 'ansible-playbook'
if not ANSIBLE_PLAYBOOK.exists() and shutil.which('ansible-playbook'):
    ANSIBLE_PLAYBOOK = Path(shutil.which('ansible-playbook'))
INCIDENT = 'INC-TEST-0001'
# Every secret string in the fixtures; none may appear in the timeline.
SECRETS = ('Pw-VARSECRET-1111', 'Pw-URLSECRET-2222', 'TOK-NOLOG-3333', 'SK-VARONLY-4444', 'NOLOGFAIL-5555',
           'abcdefSECRETBEARER')
TASK_KEYS = {'kind', 'run', 'time', 'start', 'end', 'duration_s', 'host', 'task', 'action', 'result', 'changed',
             'failed', 'unreachable', 'censored', 'play', 'playbook'}


def _run_playbook(workdir, playbook, env_extra, extra_args=()):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'ARIZU_')))
    env.update({
        'ANSIBLE_CONFIG': str(workdir / 'ansible.cfg'),
        'ANSIBLE_CALLBACKS_ENABLED': 'arizu.ops.incident_timeline',
        'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS),
        'ANSIBLE_LOCAL_TEMP': str(workdir / 'tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ARIZU_TIMELINE_DIR': str(workdir / 'incidents'),
    })
    env.update(env_extra)
    argv = [str(ANSIBLE_PLAYBOOK), '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % sys.executable]
    argv.extend(extra_args)
    argv.append(str(FIXTURES / playbook))
    return subprocess.run(argv, cwd=str(workdir), env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope='module')
def timeline(tmp_path_factory):
    if not (COLLECTIONS / 'ansible_collections' / 'arizu' / 'ops').exists():
        pytest.skip('the collection link under .state/collections is missing (see tests/unit/conftest.py)')
    workdir = tmp_path_factory.mktemp('timeline')
    (workdir / 'ansible.cfg').write_text('[defaults]\nretry_files_enabled = False\n', encoding='utf-8')
    run1 = _run_playbook(workdir, 'triage.yml', {'ARIZU_INCIDENT_ID': INCIDENT})
    assert run1.returncode == 0, run1.stdout + run1.stderr
    # The second run names the incident by variable, which wins over the environment.
    run2 = _run_playbook(workdir, 'remediate.yml', {'ARIZU_INCIDENT_ID': 'INC-NOT-THIS-ONE'},
                         ['-e', 'arizu_incident_id=%s' % INCIDENT])
    assert run2.returncode == 2, run2.stdout + run2.stderr
    incident_dir = workdir / 'incidents' / INCIDENT
    events = json.loads((incident_dir / 'timeline.json').read_text(encoding='utf-8'))
    markdown = (incident_dir / 'timeline.md').read_text(encoding='utf-8')
    return {'workdir': workdir, 'dir': incident_dir, 'run1': run1, 'run2': run2, 'events': events, 'md': markdown}


def _tasks(events, run=None):
    return dict((e['task'], e) for e in events if e['kind'] == 'task' and (run is None or e['run'] == run))


def test_two_runs_append_to_one_timeline(timeline):
    assert sorted(os.listdir(str(timeline['workdir'] / 'incidents'))) == [INCIDENT]
    events = timeline['events']
    assert [(e['kind'], e['run'], e.get('playbook')) for e in events if e['kind'] != 'task'] == [
        ('playbook_start', 1, 'triage.yml'), ('play_start', 1, 'triage.yml'), ('run_end', 1, 'triage.yml'),
        ('playbook_start', 2, 'remediate.yml'), ('play_start', 2, 'remediate.yml'), ('run_end', 2, 'remediate.yml')]
    runs = [e['run'] for e in events]
    assert runs == sorted(runs) and set(runs) == {1, 2}
    ends = [e for e in events if e['kind'] == 'run_end']
    assert [e['result'] for e in ends] == ['ok', 'failed']
    assert ends[0]['hosts'] == {'localhost': {'ok': 6, 'changed': 1, 'failed': 0, 'unreachable': 0, 'skipped': 1,
                                              'rescued': 2, 'ignored': 0}}
    assert ends[1]['hosts']['localhost']['failed'] == 1 and ends[1]['hosts']['localhost']['ignored'] == 1
    assert 'incident %s, run 2' % INCIDENT in timeline['run2'].stderr


EXPECTED = [
    # run, task, result, changed, censored
    (1, 'Look at the app', 'ok', False, False),
    (1, 'Restart nothing, but say so', 'changed', True, False),
    (1, 'Skip this one', 'skipped', False, False),
    (1, 'Fetch the API token', 'ok', False, True),
    (1, 'Show the registered token', 'ok', False, False),
    (1, 'Log in to the database', 'failed', False, False),
    (1, 'Rotate the secret quietly', 'ok', False, True),
    (1, 'Fail a no_log task', 'failed', False, True),
    (1, 'Carry on', 'ok', False, False),
    (2, 'Restart n8n', 'changed', True, False),
    (2, 'Clear the n8n queue (allowed to fail)', 'failed', False, False),
    (2, 'Verify n8n is healthy', 'failed', False, False),
]


def test_every_task_is_recorded(timeline):
    tasks = [e for e in timeline['events'] if e['kind'] == 'task']
    assert [(e['run'], e['task'], e['result'], e['changed'], e['censored']) for e in tasks] == EXPECTED
    for event in tasks:
        assert TASK_KEYS <= set(event) <= TASK_KEYS | {'msg', 'ignored'}
        assert event['host'] == 'localhost'
        assert event['failed'] is (event['result'] == 'failed')
        assert event['unreachable'] is False
        assert event['time'] == event['start'] <= event['end']
        assert event['duration_s'] >= 0
        assert event['action'].startswith('ansible.builtin.')
        assert event['play'] == ('Triage the incident' if event['run'] == 1 else 'Remediate the incident')
        assert event['start'].endswith('Z')


def test_failures_keep_a_redacted_msg(timeline):
    tasks = _tasks(timeline['events'])
    login = tasks['Log in to the database']
    assert login['failed'] is True and 'ignored' not in login
    assert login['msg'].startswith('login failed: password=%s dsn postgresql://%s@db:5432/app' % (MASK, MASK))
    assert 'token %s' % MASK in login['msg']       # registered by a no_log task
    assert 'key %s' % MASK in login['msg']         # a variable whose name contains "key"
    assert tasks['Clear the n8n queue (allowed to fail)']['ignored'] is True
    assert tasks['Clear the n8n queue (allowed to fail)']['msg'] == 'queue already empty'
    assert tasks['Verify n8n is healthy']['msg'] == 'n8n still down'


def test_no_result_contents_are_copied(timeline):
    for event in timeline['events']:
        if event['kind'] == 'task' and (event['censored'] or event['result'] not in ('failed', 'unreachable')):
            assert 'msg' not in event, event
    assert 'looking' not in json.dumps(timeline['events'])       # a debug msg of an ok task
    assert 'carrying on' not in timeline['md']


def test_no_secret_reaches_the_timeline(timeline):
    # The secrets really were in play: Ansible's own output shows those that were not no_log.
    for secret in ('Pw-VARSECRET-1111', 'Pw-URLSECRET-2222', 'SK-VARONLY-4444', 'abcdefSECRETBEARER', 'TOK-NOLOG-3333'):
        assert secret in timeline['run1'].stdout
    for path in timeline['dir'].iterdir():
        text = path.read_text(encoding='utf-8')
        for secret in SECRETS:
            assert secret not in text, (path.name, secret)


def test_markdown_table(timeline):
    lines = timeline['md'].splitlines()
    assert lines[0] == '# Incident %s: automation timeline' % INCIDENT
    header = lines.index('| Time | Host | Event | Action Taken | Result |')
    assert lines[header + 1] == '|------|------|-------|--------------|--------|'
    rows = lines[header + 2:]
    assert len(rows) == len(timeline['events'])
    assert all(row.startswith('| ') and row.endswith(' |') and row.count(' | ') == 4 for row in rows)
    text = timeline['md']
    assert '| Run 1: playbook triage.yml started | ansible-playbook on ' in text
    assert '| Run 2: playbook remediate.yml started |' in text
    assert '| Play: Remediate the incident | play started |' in text
    assert '| localhost | Fetch the API token | ansible.builtin.command | ok, ' in text
    assert 'censored (no_log)' in text
    verify = [row for row in rows if '| Verify n8n is healthy |' in row]
    assert len(verify) == 1 and verify[0].endswith(': n8n still down |')
    assert '| failed (ignored), ' in text
    assert '| Run 2 ended | recap | failed: localhost: ok=2 changed=1 failed=1 unreachable=0 ' in text


def test_permissions_and_no_leftovers(timeline):
    assert stat.S_IMODE(timeline['dir'].stat().st_mode) == 0o700
    assert sorted(os.listdir(str(timeline['dir']))) == ['.lock', 'timeline.json', 'timeline.md']
    for name in ('timeline.json', 'timeline.md', '.lock'):
        assert stat.S_IMODE((timeline['dir'] / name).stat().st_mode) == 0o600, name


# --------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------

REDACT_CASES = [
    ('postgresql://app:s3cr3t-pw@db:5432/app', 'postgresql://%s@db:5432/app' % MASK),
    ('redis://:s3cr3t-pw@redis:6379/0', 'redis://%s@redis:6379/0' % MASK),
    ('password=hunter2 user=app', 'password=%s user=app' % MASK),
    ('PGPASSWORD=hunter2 psql', 'PGPASSWORD=%s psql' % MASK),
    ('{"db_password": "hunter2", "user": "app"}', '{"db_password": %s, "user": "app"}' % MASK),
    ("api_key: 'abc123def'", 'api_key: %s' % MASK),
    ('client_secret=xyz&grant=1', 'client_secret=%s&grant=1' % MASK),
    ('Authorization: Bearer eyJhbGciOi.payload.sig', 'Authorization: %s' % MASK),
    ('Authorization: Basic dXNlcjpwYXNz', 'Authorization: %s' % MASK),
    ('sent Bearer eyJhbGciOi.payload.sig to the API', 'sent Bearer %s to the API' % MASK),
    ('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----', '[private key redacted]'),
    ('password authentication failed for user "app"', 'password authentication failed for user "app"'),
    ('n8n still down (HTTP 503)', 'n8n still down (HTTP 503)'),
    ('http://example.com/path?q=1', 'http://example.com/path?q=1'),
]


@pytest.mark.parametrize('text, expected', REDACT_CASES)
def test_redact_patterns(text, expected):
    assert redact(text) == expected


def test_redact_known_values_longest_first():
    assert redact('token abcdef and abcdefgh', {'abcdef', 'abcdefgh'}) == 'token %s and %s' % (MASK, MASK)
    assert redact(12345) == '12345'
    assert redact('dsn=x host=db pw p%40ss%2Fw0rd', {'p@ss/w0rd'}) == 'dsn=%s host=db pw %s' % (MASK, MASK)
    assert redact('q=a+b%26c', {'a b&c'}) == 'q=%s' % MASK


def test_collect_secrets():
    variables = {
        'db_password': 'Pw-1111-long',
        'app': {'env': {'N8N_ENCRYPTION_KEY': 'enc-2222-long', 'PORT': '3000'}, 'name': 'arizu-app'},
        'api_tokens': ['tok-3333-long', {'inner': 'tok-4444-long'}],
        'templated_secret': '{{ vault_secret }}',
        'short_key': 'abc',
        'secret_flag': True,
        'fetched': {'stdout': 'reg-5555-long', 'cmd': ['printf', 'x'], 'rc': 0, 'start': '2025-01-01 00:00:00'},
        'hostvars': {'other': {'db_password': 'not-this-one'}},
        'ansible_facts': {'ssh_host_key_rsa_public': 'AAAAB3Nza'},
        'plain': 'nothing-secret-here',
    }
    found = collect_secrets(variables, extra_secret_names={'fetched'})
    assert found == {'Pw-1111-long', 'enc-2222-long', 'tok-3333-long', 'tok-4444-long', 'reg-5555-long'}


def test_incident_ids_and_times():
    assert default_incident_id(0) == 'INC-19700101-0000'
    assert default_incident_id(1735740300) == 'INC-20250101-1405'
    assert utc_iso(1735740300.5) == '2025-01-01T14:05:00.500Z'
    for good in ('INC-20250101-1400', 'inc_7', 'P0.2025-01-01'):
        assert valid_incident_id(good)
    for bad in ('', '../etc', 'a/b', '.hidden', '-x', 'x' * 101, 'INC 1', None, 5):
        assert not valid_incident_id(bad)


def test_markdown_cells_are_escaped():
    md = render_markdown('INC-1', [
        {'kind': 'task', 'time': '2025-01-01T14:00:00.000Z', 'host': 'h|1', 'task': 'line\nbreak | pipe',
         'action': 'ansible.builtin.fail', 'result': 'failed', 'duration_s': 1.25, 'msg': 'a|b'},
        'not an event', {'kind': 'unknown'},
    ])
    row = md.splitlines()[-1]
    assert row == '| 2025-01-01 14:00:00 | h\\|1 | line break \\| pipe | ansible.builtin.fail | failed, 1.2 s: a\\|b |'


# --------------------------------------------------------------------------
# Robustness, in-process (no playbook run)
# --------------------------------------------------------------------------

class _Display:
    verbosity = 0

    def __init__(self):
        self.warnings = []
        self.messages = []

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)

    def display(self, msg, *args, **kwargs):
        self.messages.append(msg)


def _callback(options):
    display = _Display()
    callback = CallbackModule(display=display)
    callback._plugin_options = dict(options)  # what set_options() would have loaded
    return callback, display


def test_invalid_incident_id_disables_recording(tmp_path):
    callback, display = _callback({'incident_id': '../escape', 'timeline_dir': str(tmp_path)})
    callback._setup(None)
    callback._append([{'kind': 'task'}])
    assert list(tmp_path.iterdir()) == []
    assert len(display.warnings) == 1 and 'invalid incident_id' in display.warnings[0]


def test_unwritable_directory_warns_once(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x', encoding='utf-8')
    callback, display = _callback({'incident_id': 'INC-1', 'timeline_dir': str(blocker / 'sub')})
    callback._setup(None)
    callback._append([{'kind': 'task'}])
    callback._append([{'kind': 'task'}])
    assert len(display.warnings) == 1 and 'cannot prepare the timeline directory' in display.warnings[0]


def test_default_incident_id_and_unreadable_timeline(tmp_path, monkeypatch):
    callback, display = _callback({'incident_id': None, 'timeline_dir': str(tmp_path)})
    callback._started_at = 1735740300
    callback._setup(None)
    incident_dir = tmp_path / 'INC-20250101-1405'
    (incident_dir / 'timeline.json').write_text('{"not": "a list"}', encoding='utf-8')
    callback._append([{'kind': 'task', 'task': 'x'}])
    assert json.loads((incident_dir / 'timeline.json').read_text(encoding='utf-8')) == [
        {'kind': 'task', 'task': 'x', 'run': 1}]
    assert [p.name for p in incident_dir.iterdir() if p.name.startswith('timeline.json.unreadable-')]
    assert len(display.warnings) == 1 and 'not a JSON list' in display.warnings[0]


def test_module_constants():
    assert incident_timeline.CallbackModule.CALLBACK_NEEDS_ENABLED is True
    assert incident_timeline.CallbackModule.CALLBACK_TYPE == 'aggregate'


class _Host:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class _Task:
    _uuid = 'uuid-1'
    action = 'ansible.builtin.ping'
    resolved_action = 'ansible.builtin.ping'
    register = None

    def __init__(self, name, no_log=False):
        self.name = name
        self.no_log = no_log

    def get_name(self):
        return self.name


class _Result:
    def __init__(self, task, host, data):
        self.task, self.host, self.result = task, host, data

    def is_changed(self):
        return bool(self.result.get('changed'))


@pytest.mark.parametrize('no_log, data, expected_msg', [
    (False, {'unreachable': True, 'msg': 'Failed to connect to the host via ssh: ssh://ops:pw-secret-1@10.0.0.9 '
                                         'refused'},
     'Failed to connect to the host via ssh: ssh://%s@10.0.0.9 refused' % MASK),
    (True, {'unreachable': True, 'msg': 'anything'}, None),
    (False, {'unreachable': True, 'censored': 'hidden'}, None),
])
def test_unreachable_result(tmp_path, no_log, data, expected_msg):
    callback, display = _callback({'incident_id': 'INC-U', 'timeline_dir': str(tmp_path)})
    callback._setup(None)
    callback._record(_Result(_Task('Ping the host', no_log), _Host('docker-2'), data), 'unreachable')
    events = json.loads((tmp_path / 'INC-U' / 'timeline.json').read_text(encoding='utf-8'))
    assert len(events) == 1 and display.warnings == []
    event = events[0]
    assert (event['host'], event['task'], event['result'], event['unreachable'], event['failed']) == (
        'docker-2', 'Ping the host', 'unreachable', True, False)
    assert event['censored'] is (expected_msg is None)
    assert event.get('msg') == expected_msg
    assert 'pw-secret-1' not in (tmp_path / 'INC-U' / 'timeline.md').read_text(encoding='utf-8')
