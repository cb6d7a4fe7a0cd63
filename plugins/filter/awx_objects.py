# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: awx_objects
short_description: Check the AWX configuration of arizu.ops and render it for the awx.awx modules
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Takes the C(awx_*) variables of C(playbooks/vars/awx.yml) (organization, execution environment, project,
    inventory, credential types, credentials, job templates with their surveys, schedules, workflows) and the
    names of the playbooks present, checks them, and returns the arguments of the C(awx.awx) modules.
  - A destructive job template also gets a check-mode twin named C(<name> (dry run)) whose survey leaves out the
    questions marked C(confirmation).
  - Every problem is reported at once, each naming the object and the field; among them a playbook without a
    job template, a survey default outside its choices, an unknown credential, an injector using an undefined
    input, a schedule's malformed rrule, and a workflow node's C(extra_data) that is not a survey question of its
    template (AWX would drop it).
  - Credentials keep their secrets out of the configuration; C(secret_inputs) names the variable holding each.
positional: _input, playbooks
options:
  _input:
    description: The configuration, a mapping of the C(awx_*) variables.
    type: dict
    required: true
  playbooks:
    description: Names of the playbooks present (C(site) for C(playbooks/site.yml)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Render the AWX objects
  ansible.builtin.set_fact:
    awx_rendered: >-
      {{ {'awx_name_prefix': awx_name_prefix, 'awx_organization': awx_organization,
          'awx_project': awx_project, 'awx_inventory': awx_inventory,
          'awx_execution_environment': awx_execution_environment,
          'awx_credential_types': awx_credential_types, 'awx_credentials': awx_credentials,
          'awx_job_templates': awx_job_templates, 'awx_schedules': awx_schedules,
          'awx_workflows': awx_workflows} | arizu.ops.awx_objects(['site', 'triage']) }}
"""

RETURN = r"""
_value:
  description:
    - The module arguments, by kind - C(organization), C(execution_environment), C(project), C(inventory),
      C(inventory_source) (mappings); C(credential_types), C(credentials), C(job_templates), C(schedules),
      C(workflows) (lists).
    - Credentials carry C(secret_inputs) (input id to variable name) for the caller to resolve.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.module_utils.awx_config import AwxConfigError, render


def awx_objects(config, playbooks):
    """Check the AWX configuration and return the awx.awx module arguments."""
    if isinstance(playbooks, (str, bytes)) or not hasattr(playbooks, '__iter__'):
        raise AnsibleFilterError('awx_objects: playbooks must be a list of playbook names, got %s'
                                 % type(playbooks).__name__)
    try:
        return render(config, [str(p) for p in playbooks])
    except AwxConfigError as exc:
        raise AnsibleFilterError('awx_objects: %s' % '\n'.join(
            ['%d problem(s) in the AWX configuration:' % len(exc.problems)] + ['- ' + p for p in exc.problems]))


class FilterModule:
    """arizu.ops.awx_objects"""

    def filters(self):
        return {'awx_objects': awx_objects}
