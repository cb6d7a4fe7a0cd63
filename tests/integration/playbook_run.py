# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a playbook of the collection with ansible-playbook against an inventory of localhost.

The inventory (written 0600 into the test's tmp_path) puts ``localhost`` in
``docker_hosts`` with ``ansible_connection: local`` and the virtualenv's
python, plus the host variables the test gives (ports of the scratch
containers, passwords). The output is the default callback's, with the YAML
result format, as an operator sees it.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from scratch import COLLECTIONS_ROOT, ROOT, _tool, ensure_collection_link, python_interpreter, remove_container, \
    start_container

PLAYBOOKS = ROOT / "playbooks"


def run_playbook(playbook, tmp_path, host_vars, extra_vars=None, check=False, timeout=300):
    """Run ``playbooks/<playbook>``; return ``(rc, stdout + stderr)``."""
    ensure_collection_link()
    host = dict(ansible_connection="local", ansible_python_interpreter=python_interpreter())
    host.update(host_vars)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {"docker_hosts": {"hosts": {"localhost": host}}}}}))
    inventory.chmod(0o600)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = False\nstdout_callback = default\n"
                   "callback_result_format = yaml\ninterpreter_python = auto_silent\n")
    argv = [_tool("ansible-playbook"), "-i", str(inventory), str(PLAYBOOKS / playbook)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
               ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout, env=env,
                          cwd=str(tmp_path))
    return proc.returncode, proc.stdout + proc.stderr


def remove_scratch(name):
    """:func:`scratch.remove_container`, quiet when there is no docker CLI (the test has failed already)."""
    try:
        remove_container(name)
    except OSError:
        pass


def start_scratch(name, image, env, host_port, container_port, args=(), attempts=3):
    """:func:`scratch.start_container`, tried again when the port is briefly taken (an ephemeral port of
    some other connection); a container left over by a failed start is removed by the caller's teardown."""
    for attempt in range(attempts):
        try:
            return start_container(name, image, env, host_port, container_port, args=args)
        except pytest.fail.Exception as exc:
            if "address already in use" not in str(exc) or attempt == attempts - 1:
                raise
            remove_scratch(name)
            time.sleep(2)
    return None  # pragma: no cover
