# SPDX-License-Identifier: GPL-3.0-or-later
"""The standard-library Docker client: its addresses and errors (the calls themselves run against the real
engine in tests/integration/test_release.py)."""
from __future__ import annotations

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.docker_api import DockerAPIError, DockerClient, q


@pytest.mark.parametrize("url", ["ftp://host", "https://host:2376", "npipe:////./pipe/docker_engine"])
def test_unsupported_hosts_are_named(url):
    with pytest.raises(DockerAPIError, match="docker_host must be"):
        DockerClient(url)


def test_an_engine_that_is_not_there_is_a_clear_error(tmp_path):
    client = DockerClient("unix://%s" % (tmp_path / "nothing.sock"), timeout=2)
    with pytest.raises(DockerAPIError, match="cannot talk to the Docker engine at unix://"):
        client.get("/version")


@pytest.mark.parametrize("name, quoted", [
    ("arizu-app", "arizu-app"),
    ("arizu-local/app:1.0.0", "arizu-local/app:1.0.0"),
    ("app@sha256:ab", "app@sha256:ab"),
    ("a b?c", "a%20b%3Fc"),
])
def test_names_in_paths(name, quoted):
    assert q(name) == quoted
