# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: deploy_state
short_description: The deploy state of containers (images, environment names, mounts, ports), secrets kept apart
version_added: 1.2.0
author:
  - Arizu maintainers (@arizu)
description:
  - Turns the C(container) results of community.docker.docker_container_info into what a rebuild needs - name, image
    (tag) and image ID, environment (values of secret-looking variables left out), labels, mounts, networks,
    published ports, restart policy, memory limit, state.
  - Environment variables whose name contains one of O(secret_words) (or holding a URL with a password) are
    listed by name only under C(secret_env_names); their values go to C(secret_env) only, which the caller may
    vault-encrypt (full_backup.yml) and must never write in plain text.
positional: _input
options:
  _input:
    description: List of container inspect results (docker_container_info's C(container)); C(None) items are skipped.
    type: list
    elements: raw
    required: true
  secret_words:
    description: Name parts (case-insensitive) that make an environment variable a secret.
    type: list
    elements: str
    default: [PASSWORD, PASSWD, SECRET, TOKEN, KEY, AUTH, CREDENTIAL, DSN]
"""

EXAMPLES = r"""
- name: Deploy state without secrets
  ansible.builtin.set_fact:
    state: "{{ infos.results | map(attribute='container') | list | arizu.ops.deploy_state }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: C(containers) (list, no secret values) and C(secret_env) (container name to {variable - value}).
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

DEFAULT_WORDS = ['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'KEY', 'AUTH', 'CREDENTIAL', 'DSN']
_URL_PASSWORD = re.compile(r'[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s@:]*:[^/\s@]+@')


def deploy_state(infos, secret_words=None):
    if not isinstance(infos, (list, tuple)):
        raise AnsibleFilterError('deploy_state: expected a list of container inspect results, got %s'
                                 % type(infos).__name__)
    words = [w.upper() for w in (secret_words or DEFAULT_WORDS)]
    containers = []
    secret_env = {}
    for info in infos:
        if not info:
            continue
        if not isinstance(info, dict):
            raise AnsibleFilterError('deploy_state: an item is not a container inspect result (%s)' % type(info).__name__)
        name = (info.get('Name') or '').lstrip('/')
        config = info.get('Config') or {}
        host = info.get('HostConfig') or {}
        env = {}
        secret_names = []
        for item in config.get('Env') or []:
            key, _sep, value = str(item).partition('=')
            if any(w in key.upper() for w in words) or _URL_PASSWORD.search(value):
                secret_names.append(key)
                secret_env.setdefault(name, {})[key] = value
            else:
                env[key] = value
        mounts = [dict(type=m.get('Type'), source=m.get('Name') or m.get('Source'), target=m.get('Destination'),
                       read_only=not m.get('RW', True)) for m in info.get('Mounts') or []]
        ports = {}
        for port, bindings in sorted((host.get('PortBindings') or {}).items()):
            ports[port] = ['%s:%s' % (b.get('HostIp') or '', b.get('HostPort') or '') for b in bindings or []]
        containers.append(dict(
            name=name, image=config.get('Image'), image_id=info.get('Image'), env=env,
            secret_env_names=sorted(secret_names), labels=config.get('Labels') or {}, mounts=mounts,
            networks=sorted(((info.get('NetworkSettings') or {}).get('Networks') or {}).keys()),
            published_ports=ports, restart_policy=(host.get('RestartPolicy') or {}).get('Name'),
            memory_bytes=host.get('Memory'), command=config.get('Cmd'),
            running=bool((info.get('State') or {}).get('Running'))))
    return dict(containers=containers, secret_env=secret_env)


class FilterModule:
    """arizu.ops.deploy_state"""

    def filters(self):
        return {'deploy_state': deploy_state}
