# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.deploy_state: secret values never in the deploy state, always in secret_env."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.deploy_state import deploy_state

INFO = {
    "Name": "/arizu-n8n", "Image": "sha256:abc",
    "Config": {"Image": "arizu-local/n8n:1.123.81", "Env": [
        "N8N_ENCRYPTION_KEY=s3cr3t-key-value", "DB_POSTGRESDB_PASSWORD=pw-value-1", "N8N_PORT=5678",
        "DATABASE_URL=postgres://u:pw-in-url@db/x", "REDISCLI_AUTH=auth-value", "PATH=/usr/bin"],
        "Labels": {"arizu.ops.service": "n8n"}, "Cmd": ["n8n", "start"]},
    "HostConfig": {"PortBindings": {"5678/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5678"}]},
                   "RestartPolicy": {"Name": "unless-stopped"}, "Memory": 1073741824},
    "Mounts": [{"Type": "volume", "Name": "arizu_n8n_data", "Destination": "/home/node/.n8n", "RW": True}],
    "NetworkSettings": {"Networks": {"arizu": {}}}, "State": {"Running": True},
}


def test_secrets_are_kept_apart():
    state = deploy_state([INFO, None])
    text = json.dumps(state["containers"])
    for secret in ("s3cr3t-key-value", "pw-value-1", "pw-in-url", "auth-value"):
        assert secret not in text
    container = state["containers"][0]
    assert container["name"] == "arizu-n8n" and container["image"] == "arizu-local/n8n:1.123.81"
    assert container["env"] == {"N8N_PORT": "5678", "PATH": "/usr/bin"}
    assert container["secret_env_names"] == ["DATABASE_URL", "DB_POSTGRESDB_PASSWORD", "N8N_ENCRYPTION_KEY",
                                             "REDISCLI_AUTH"]
    assert state["secret_env"]["arizu-n8n"]["N8N_ENCRYPTION_KEY"] == "s3cr3t-key-value"
    assert container["published_ports"] == {"5678/tcp": ["127.0.0.1:5678"]}
    assert container["mounts"][0]["source"] == "arizu_n8n_data"


@pytest.mark.parametrize("bad", ["text", {"a": 1}, [1]])
def test_bad_input_is_named(bad):
    with pytest.raises(AnsibleFilterError, match="deploy_state"):
        deploy_state(bad)
