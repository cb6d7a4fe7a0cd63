# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX configuration of arizu.ops (playbooks/vars/awx.yml), checked and
rendered into the arguments of the awx.awx modules.

Pure data in, data out: used by the ``arizu.ops.awx_objects`` filter, which
playbooks/awx_configure.yml runs before it contacts AWX (and alone, in its
validate-only mode). Every problem found is reported at once, each naming
the object and the field.
"""

from __future__ import annotations

import re

SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
BUILTIN_CREDENTIAL_TYPES = ('Machine', 'Source Control', 'Vault', 'Container Registry')
JOB_TYPES = ('run', 'check')
_IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_PLAYBOOK = re.compile(r'^[a-z0-9_]+$')
# DTSTART[;TZID=zone]:YYYYMMDDTHHMMSS[Z] RRULE:FREQ=...;... (what AWX's schedule accepts)
_RRULE = re.compile(r'^DTSTART(;TZID=[A-Za-z0-9_/+-]+)?:\d{8}T\d{6}Z? RRULE:FREQ=(MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)'
                    r'(;[A-Z]+=[A-Za-z0-9,+-]+)*$')
_INJECTOR_REF = re.compile(r'{{\s*([A-Za-z_][A-Za-z0-9_]*)')
_NODE_LINKS = ('success_nodes', 'failure_nodes', 'always_nodes')


class AwxConfigError(ValueError):
    """The configuration has problems; ``problems`` lists each one."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(AwxConfigError, self).__init__('%d problem(s) in the AWX configuration: %s'
                                             % (len(self.problems), '; '.join(self.problems)))


def _list(value, where, problems):
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append('%s: expected a list, got %s' % (where, type(value).__name__))
        return []
    return value


def _mapping(value, where, problems):
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append('%s: expected a mapping, got %s' % (where, type(value).__name__))
        return {}
    return value


def survey_spec(name, questions, problems, dry_run=False):
    """AWX's survey_spec for *questions* (the config's compact form); {} when there are none."""
    spec = []
    seen = set()
    for index, question in enumerate(questions):
        where = '%s: survey[%d]' % (name, index)
        if not isinstance(question, dict):
            problems.append('%s: expected a mapping' % where)
            continue
        variable = question.get('variable')
        if not isinstance(variable, str) or not _IDENT.match(variable):
            problems.append('%s: variable must be an identifier, got %r' % (where, variable))
            continue
        where = '%s: survey %s' % (name, variable)
        if variable in seen:
            problems.append('%s: asked twice' % where)
        seen.add(variable)
        unknown = set(question) - {'variable', 'question', 'description', 'type', 'required', 'default', 'choices',
                                   'min', 'max', 'confirmation'}
        if unknown:
            problems.append('%s: unknown keys %s' % (where, ', '.join(sorted(unknown))))
        kind = question.get('type', 'text')
        if kind not in SURVEY_TYPES:
            problems.append('%s: type must be one of %s, got %r' % (where, ', '.join(SURVEY_TYPES), kind))
        if not question.get('question'):
            problems.append('%s: question (the text shown) is missing' % where)
        required = question.get('required', False)
        if not isinstance(required, bool):
            problems.append('%s: required must be true or false, got %r' % (where, required))
        default = question.get('default', '')
        choices = question.get('choices')
        if kind in ('multiplechoice', 'multiselect'):
            if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
                problems.append('%s: choices must be a list of non-empty strings for type %s' % (where, kind))
                choices = []
            if default not in ('', None) and default not in choices:
                problems.append('%s: default %r is not one of the choices %s' % (where, default, ', '.join(choices)))
        elif choices is not None:
            problems.append('%s: choices are only for multiplechoice and multiselect' % where)
        for bound in ('min', 'max'):
            if bound in question and (isinstance(question[bound], bool) or not isinstance(question[bound], int)):
                problems.append('%s: %s must be an integer' % (where, bound))
        if question.get('confirmation') and dry_run:
            continue
        item = {
            'question_name': question.get('question', ''),
            'question_description': question.get('description', ''),
            'variable': variable,
            'type': kind,
            'required': bool(required),
            'default': '' if default is None else default,
        }
        if choices:
            item['choices'] = list(choices)
        for bound in ('min', 'max'):
            if bound in question:
                item[bound] = question[bound]
        spec.append(item)
    if not spec:
        return {}
    return {'name': '', 'description': '', 'spec': spec}


def _credential_types(config, problems):
    rendered = []
    for index, ctype in enumerate(_list(config.get('awx_credential_types'), 'awx_credential_types', problems)):
        where = 'awx_credential_types[%d]' % index
        if not isinstance(ctype, dict) or not ctype.get('name'):
            problems.append('%s: a mapping with a name is expected' % where)
            continue
        where = 'credential type %s' % ctype['name']
        inputs = _mapping(ctype.get('inputs'), where + ': inputs', problems)
        fields = _list(inputs.get('fields'), where + ': inputs.fields', problems)
        ids = [f.get('id') for f in fields if isinstance(f, dict)]
        for field_id in ids:
            if not isinstance(field_id, str) or not _IDENT.match(field_id):
                problems.append('%s: input id %r is not an identifier' % (where, field_id))
        for field in fields:
            if isinstance(field, dict) and not field.get('secret') and re.search('password|key|dsn|token|secret',
                                                                                 str(field.get('id'))):
                problems.append('%s: input %s looks like a secret but is not secret: true' % (where, field.get('id')))
        for req in _list(inputs.get('required'), where + ': inputs.required', problems):
            if req not in ids:
                problems.append('%s: required input %r is not a field' % (where, req))
        injectors = _mapping(ctype.get('injectors'), where + ': injectors', problems)
        if not injectors:
            problems.append('%s: no injectors (extra_vars or env)' % where)
        for kind, values in injectors.items():
            if kind not in ('extra_vars', 'env', 'file'):
                problems.append('%s: unknown injector kind %s' % (where, kind))
                continue
            for var, template in _mapping(values, '%s: injectors.%s' % (where, kind), problems).items():
                if kind == 'extra_vars' and not _IDENT.match(str(var)):
                    problems.append('%s: extra var %r is not an identifier' % (where, var))
                refs = _INJECTOR_REF.findall(str(template))
                if not refs:
                    problems.append('%s: injector %s does not use any input' % (where, var))
                for ref in refs:
                    if ref not in ids:
                        problems.append('%s: injector %s uses %s, which is not an input' % (where, var, ref))
        rendered.append({'name': ctype['name'], 'description': ctype.get('description', ''),
                         'kind': ctype.get('kind', 'cloud'), 'inputs': inputs, 'injectors': injectors})
    return rendered


def _credentials(config, ctypes, problems):
    rendered = []
    custom = dict((c['name'], c) for c in ctypes)
    for index, cred in enumerate(_list(config.get('awx_credentials'), 'awx_credentials', problems)):
        if not isinstance(cred, dict) or not cred.get('name'):
            problems.append('awx_credentials[%d]: a mapping with a name is expected' % index)
            continue
        where = 'credential %s' % cred['name']
        ctype = cred.get('credential_type')
        if ctype not in custom and ctype not in BUILTIN_CREDENTIAL_TYPES:
            problems.append('%s: credential type %r is neither defined in awx_credential_types nor built in (%s)'
                            % (where, ctype, ', '.join(BUILTIN_CREDENTIAL_TYPES)))
        inputs = _mapping(cred.get('inputs'), where + ': inputs', problems)
        secret_inputs = _mapping(cred.get('secret_inputs'), where + ': secret_inputs', problems)
        for key, var in secret_inputs.items():
            if not isinstance(var, str) or not _IDENT.match(var):
                problems.append('%s: secret_inputs.%s must name the variable holding the secret, got %r'
                                % (where, key, var))
        if ctype in custom:
            ids = [f.get('id') for f in custom[ctype]['inputs'].get('fields') or [] if isinstance(f, dict)]
            for key in list(inputs) + list(secret_inputs):
                if key not in ids:
                    problems.append('%s: input %s is not a field of %s' % (where, key, ctype))
            for req in custom[ctype]['inputs'].get('required') or []:
                if req not in inputs and req not in secret_inputs:
                    problems.append('%s: required input %s of %s is not given' % (where, req, ctype))
        rendered.append({'name': cred['name'], 'credential_type': ctype, 'inputs': inputs,
                         'secret_inputs': secret_inputs, 'description': cred.get('description', '')})
    return rendered


def render(config, playbooks, exclude=('awx_configure',)):
    """Check *config* (the awx_* variables) against the *playbooks* present; return the awx.awx module arguments.

    Raises AwxConfigError listing every problem.
    """
    problems = []
    if not isinstance(config, dict):
        raise AwxConfigError(['the configuration must be a mapping, got %s' % type(config).__name__])
    prefix = config.get('awx_name_prefix', '')
    if not isinstance(prefix, str):
        problems.append('awx_name_prefix must be a string')
        prefix = ''
    for key in ('awx_organization', 'awx_project', 'awx_inventory', 'awx_execution_environment'):
        if not isinstance(config.get(key), dict) or not config[key].get('name'):
            problems.append('%s: a mapping with a name is required' % key)
    if problems:
        raise AwxConfigError(problems)
    org = config['awx_organization']['name']
    project = config['awx_project']
    inventory = config['awx_inventory']
    ee = config['awx_execution_environment']
    for key in ('scm_type', 'scm_url'):
        if not project.get(key):
            problems.append('awx_project: %s is required' % key)
    if not inventory.get('source_path'):
        problems.append('awx_inventory: source_path (the inventory file in the project) is required')
    if not ee.get('image'):
        problems.append('awx_execution_environment: image is required')

    ctypes = _credential_types(config, problems)
    creds = _credentials(config, ctypes, problems)
    cred_names = set(c['name'] for c in creds)

    templates = []
    by_playbook = {}
    wanted = sorted(set(playbooks) - set(exclude))
    for index, item in enumerate(_list(config.get('awx_job_templates'), 'awx_job_templates', problems)):
        if not isinstance(item, dict):
            problems.append('awx_job_templates[%d]: expected a mapping' % index)
            continue
        playbook = item.get('playbook')
        if not isinstance(playbook, str) or not _PLAYBOOK.match(playbook):
            problems.append('awx_job_templates[%d]: playbook must be a playbook name such as site, got %r'
                            % (index, playbook))
            continue
        name = prefix + playbook
        unknown = set(item) - {'playbook', 'description', 'credentials', 'survey', 'destructive', 'extra_vars',
                               'timeout'}
        if unknown:
            problems.append('%s: unknown keys %s' % (name, ', '.join(sorted(unknown))))
        if playbook in by_playbook:
            problems.append('%s: defined twice' % name)
        if playbook not in playbooks:
            problems.append('%s: there is no playbooks/%s.yml' % (name, playbook))
        if playbook in exclude:
            problems.append('%s: %s is not run from AWX' % (name, playbook))
        credentials = _list(item.get('credentials'), name + ': credentials', problems)
        for cred in credentials:
            if cred not in cred_names:
                problems.append('%s: credential %r is not defined in awx_credentials' % (name, cred))
        questions = _list(item.get('survey'), name + ': survey', problems)
        destructive = item.get('destructive', False)
        if not isinstance(destructive, bool):
            problems.append('%s: destructive must be true or false' % name)
        for job_type, suffix in (('run', ''), ('check', ' (dry run)')):
            if job_type == 'check' and not destructive:
                continue
            spec = survey_spec(name + suffix, questions, problems if job_type == 'run' else [],
                               dry_run=job_type == 'check')
            template = {
                'name': name + suffix,
                'description': item.get('description', '') + (' - check mode: nothing is changed'
                                                              if job_type == 'check' else ''),
                'organization': org,
                'project': project['name'],
                'inventory': inventory['name'],
                'playbook': 'playbooks/%s.yml' % playbook,
                'job_type': job_type,
                'execution_environment': ee['name'],
                'credentials': list(credentials),
                'survey_enabled': bool(spec),
                'survey_spec': spec,
                'ask_variables_on_launch': False,
                'ask_job_type_on_launch': False,
                'extra_vars': _mapping(item.get('extra_vars'), name + ': extra_vars', problems),
                'timeout': item.get('timeout', 0),
            }
            templates.append(template)
            by_playbook.setdefault(playbook, {})[job_type] = template
    for playbook in wanted:
        if playbook not in by_playbook:
            problems.append('playbooks/%s.yml has no job template in awx_job_templates' % playbook)

    schedules = []
    for index, item in enumerate(_list(config.get('awx_schedules'), 'awx_schedules', problems)):
        if not isinstance(item, dict) or not item.get('name'):
            problems.append('awx_schedules[%d]: a mapping with a name is required' % index)
            continue
        where = 'schedule %s' % item['name']
        if item.get('playbook') not in by_playbook:
            problems.append('%s: no job template for playbook %r' % (where, item.get('playbook')))
            continue
        if not _RRULE.match(str(item.get('rrule', ''))):
            problems.append('%s: rrule %r is not "DTSTART;TZID=UTC:YYYYMMDDTHHMMSS RRULE:FREQ=...;INTERVAL=n"'
                            % (where, item.get('rrule')))
        schedules.append({'name': item['name'], 'description': item.get('description', ''),
                          'unified_job_template': by_playbook[item['playbook']]['run']['name'],
                          'rrule': item.get('rrule'), 'enabled': item.get('enabled', True),
                          'organization': org})

    workflows = []
    for index, item in enumerate(_list(config.get('awx_workflows'), 'awx_workflows', problems)):
        if not isinstance(item, dict) or not item.get('name'):
            problems.append('awx_workflows[%d]: a mapping with a name is required' % index)
            continue
        name = prefix + item['name']
        nodes = _list(item.get('nodes'), name + ': nodes', problems)
        ids = [n.get('identifier') for n in nodes if isinstance(n, dict)]
        if not nodes:
            problems.append('%s: no nodes' % name)
        if len(set(ids)) != len(ids):
            problems.append('%s: node identifiers must be unique' % name)
        rendered_nodes = []
        for node in nodes:
            if not isinstance(node, dict) or not node.get('identifier'):
                problems.append('%s: every node needs an identifier' % name)
                continue
            where = '%s: node %s' % (name, node['identifier'])
            template = by_playbook.get(node.get('playbook'), {}).get('run')
            if template is None:
                problems.append('%s: no job template for playbook %r' % (where, node.get('playbook')))
                continue
            asked = set(q['variable'] for q in (template['survey_spec'] or {}).get('spec', []))
            extra = _mapping(node.get('extra_data'), where + ': extra_data', problems)
            for var in extra:
                if var not in asked:
                    problems.append('%s: extra_data %s is not a survey question of %s (AWX would drop it)'
                                    % (where, var, template['name']))
            related = {}
            for link in _NODE_LINKS:
                targets = _list(node.get(link), '%s: %s' % (where, link), problems)
                for target in targets:
                    if target not in ids:
                        problems.append('%s: %s names the unknown node %r' % (where, link, target))
                related[link] = [{'identifier': t} for t in targets]
            rendered_nodes.append({
                'identifier': node['identifier'],
                'unified_job_template': {'name': template['name'], 'type': 'job_template',
                                         'organization': {'name': org}},
                'extra_data': extra,
                'related': related,
            })
        workflows.append({'name': name, 'description': item.get('description', ''), 'organization': org,
                          'inventory': inventory['name'], 'workflow_nodes': rendered_nodes})

    if problems:
        raise AwxConfigError(problems)
    return {
        'organization': {'name': org, 'description': config['awx_organization'].get('description', '')},
        'execution_environment': {'name': ee['name'], 'image': ee['image'], 'pull': ee.get('pull', 'missing'),
                                  'organization': org},
        'project': dict(project, organization=org, default_environment=ee['name']),
        'inventory': {'name': inventory['name'], 'description': inventory.get('description', ''),
                      'organization': org},
        'inventory_source': {'name': inventory.get('source_name', inventory['name']), 'inventory': inventory['name'],
                             'source': 'scm', 'source_project': project['name'],
                             'source_path': inventory['source_path'], 'overwrite': True, 'update_on_launch': True,
                             'organization': org},
        'credential_types': ctypes,
        'credentials': [dict(c, organization=org) for c in creds],
        'job_templates': templates,
        'schedules': schedules,
        'workflows': workflows,
    }
