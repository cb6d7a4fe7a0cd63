# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.awx_objects: the AWX configuration checked and rendered (module_utils/awx_config.py)."""

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.awx_objects import awx_objects
from ansible_collections.arizu.ops.plugins.module_utils.awx_config import AwxConfigError, render

BASE = {
    'awx_name_prefix': 'A - ',
    'awx_organization': {'name': 'Org'},
    'awx_execution_environment': {'name': 'EE', 'image': 'registry/ee:1'},
    'awx_project': {'name': 'Proj', 'scm_type': 'git', 'scm_url': 'https://example.invalid/x.git'},
    'awx_inventory': {'name': 'Inv', 'source_path': 'inventories/example/hosts.yml'},
    'awx_credential_types': [{
        'name': 'DB', 'inputs': {'fields': [{'id': 'password', 'type': 'string', 'secret': True}],
                                 'required': ['password']},
        'injectors': {'extra_vars': {'postgresql_password': '{{ password }}'}}}],
    'awx_credentials': [{'name': 'ssh', 'credential_type': 'Machine', 'inputs': {'username': 'deploy'},
                         'secret_inputs': {'ssh_key_data': 'vault_key'}},
                        {'name': 'db', 'credential_type': 'DB', 'secret_inputs': {'password': 'vault_pw'}}],
    'awx_job_templates': [
        {'playbook': 'triage', 'credentials': ['ssh'],
         'survey': [{'variable': 'triage_fail_on', 'question': 'Fail on', 'type': 'multiplechoice',
                     'choices': ['P0', 'P1'], 'required': False}]},
        {'playbook': 'wipe', 'credentials': ['ssh', 'db'], 'destructive': True,
         'survey': [{'variable': 'days', 'question': 'Days', 'type': 'integer', 'default': 7, 'min': 1},
                    {'variable': 'wipe_confirm', 'question': 'Sure?', 'type': 'multiplechoice',
                     'choices': ['false', 'true'], 'default': 'false', 'required': True, 'confirmation': True}]},
    ],
    'awx_schedules': [{'name': 'nightly', 'playbook': 'wipe',
                       'rrule': 'DTSTART;TZID=UTC:20260101T020000 RRULE:FREQ=DAILY;INTERVAL=1'}],
    'awx_workflows': [{'name': 'heal', 'nodes': [
        {'identifier': 'a', 'playbook': 'triage', 'extra_data': {'triage_fail_on': 'P1'}, 'failure_nodes': ['b']},
        {'identifier': 'b', 'playbook': 'wipe', 'extra_data': {'days': 1}}]}],
}
PLAYBOOKS = ['triage', 'wipe', 'awx_configure']


def test_renders_templates_dry_runs_schedules_and_workflows():
    out = render(copy.deepcopy(BASE), PLAYBOOKS)
    names = [t['name'] for t in out['job_templates']]
    assert names == ['A - triage', 'A - wipe', 'A - wipe (dry run)']
    run, dry = out['job_templates'][1], out['job_templates'][2]
    assert (run['job_type'], dry['job_type']) == ('run', 'check')
    assert run['playbook'] == dry['playbook'] == 'playbooks/wipe.yml'
    assert [q['variable'] for q in run['survey_spec']['spec']] == ['days', 'wipe_confirm']
    assert [q['variable'] for q in dry['survey_spec']['spec']] == ['days']
    assert run['survey_spec']['spec'][1] == {
        'question_name': 'Sure?', 'question_description': '', 'variable': 'wipe_confirm', 'type': 'multiplechoice',
        'required': True, 'default': 'false', 'choices': ['false', 'true']}
    assert out['job_templates'][0]['survey_enabled'] is True
    assert out['schedules'][0]['unified_job_template'] == 'A - wipe'
    nodes = out['workflows'][0]['workflow_nodes']
    assert nodes[0]['related']['failure_nodes'] == [{'identifier': 'b'}]
    assert nodes[0]['unified_job_template'] == {'name': 'A - triage', 'type': 'job_template',
                                                'organization': {'name': 'Org'}}
    assert out['credentials'][1]['secret_inputs'] == {'password': 'vault_pw'}
    assert out['credential_types'][0]['injectors']['extra_vars']['postgresql_password'] == '{{ password }}'


def _set(path, value):
    def change(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


BAD = [
    ('playbook without template', lambda c: c['awx_job_templates'].pop(0),
     'playbooks/triage.yml has no job template'),
    ('template for a missing playbook', _set(['awx_job_templates', 0, 'playbook'], 'nope'),
     'A - nope: there is no playbooks/nope.yml'),
    ('awx_configure as a template', _set(['awx_job_templates', 0, 'playbook'], 'awx_configure'),
     'awx_configure is not run from AWX'),
    ('bad survey type', _set(['awx_job_templates', 1, 'survey', 0, 'type'], 'date'),
     "A - wipe: survey days: type must be one of"),
    ('default not a choice', _set(['awx_job_templates', 1, 'survey', 1, 'default'], 'yes'),
     "default 'yes' is not one of the choices false, true"),
    ('choices missing', _set(['awx_job_templates', 0, 'survey', 0, 'choices'], KeyError),
     'choices must be a list of non-empty strings'),
    ('variable not an identifier', _set(['awx_job_templates', 0, 'survey', 0, 'variable'], 'fail on'),
     "variable must be an identifier, got 'fail on'"),
    ('unknown credential', _set(['awx_job_templates', 0, 'credentials'], ['nope']),
     "credential 'nope' is not defined in awx_credentials"),
    ('unknown credential type', _set(['awx_credentials', 1, 'credential_type'], 'Nope'),
     "credential type 'Nope' is neither defined"),
    ('secret given as a value', _set(['awx_credentials', 1, 'secret_inputs', 'password'], 's3cret value!'),
     'secret_inputs.password must name the variable holding the secret'),
    ('required input missing', _set(['awx_credentials', 1, 'secret_inputs'], {}),
     'required input password of DB is not given'),
    ('injector uses an unknown input', _set(['awx_credential_types', 0, 'injectors', 'extra_vars',
                                             'postgresql_password'], '{{ pasword }}'),
     'injector postgresql_password uses pasword, which is not an input'),
    ('secret-looking input not secret', _set(['awx_credential_types', 0, 'inputs', 'fields', 0, 'secret'], False),
     'input password looks like a secret but is not secret: true'),
    ('bad rrule', _set(['awx_schedules', 0, 'rrule'], 'daily at 2'), "rrule 'daily at 2' is not"),
    ('schedule of an unknown playbook', _set(['awx_schedules', 0, 'playbook'], 'nope'),
     "schedule nightly: no job template for playbook 'nope'"),
    ('node extra_data not asked', _set(['awx_workflows', 0, 'nodes', 1, 'extra_data'], {'force': True}),
     'extra_data force is not a survey question of A - wipe (AWX would drop it)'),
    ('node link to unknown node', _set(['awx_workflows', 0, 'nodes', 0, 'failure_nodes'], ['z']),
     "failure_nodes names the unknown node 'z'"),
    ('project without url', _set(['awx_project', 'scm_url'], ''), 'awx_project: scm_url is required'),
    ('no organization', _set(['awx_organization'], None), 'awx_organization: a mapping with a name is required'),
]


@pytest.mark.parametrize('change, expected', [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_problems_are_named(change, expected):
    config = copy.deepcopy(BASE)
    change(config)
    with pytest.raises(AwxConfigError) as info:
        render(config, PLAYBOOKS)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once():
    config = copy.deepcopy(BASE)
    config['awx_schedules'][0]['rrule'] = 'x'
    config['awx_job_templates'][0]['credentials'] = ['nope']
    with pytest.raises(AwxConfigError) as info:
        render(config, PLAYBOOKS)
    assert len(info.value.problems) == 2


def test_filter_turns_problems_into_a_filter_error():
    config = copy.deepcopy(BASE)
    config['awx_schedules'][0]['rrule'] = 'x'
    with pytest.raises(AnsibleFilterError, match=r"awx_objects: 1 problem\(s\) in the AWX configuration:\n- schedule"):
        awx_objects(config, PLAYBOOKS)
    with pytest.raises(AnsibleFilterError, match='playbooks must be a list'):
        awx_objects(config, 'triage')
    with pytest.raises(AnsibleFilterError, match='the configuration must be a mapping'):
        awx_objects(['x'], PLAYBOOKS)
