# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small Docker Engine API client on the standard library (a Unix socket, or plain TCP).

For modules whose run time matters (arizu.ops.docker_release switches a live container): it imports
nothing but http.client, where the community.docker client brings requests and urllib3 along, about half
a second of a module's start on a busy host. One connection per call, so calls from two threads are safe.
"""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import quote, urlencode, urlsplit

DEFAULT_HOST = "unix:///var/run/docker.sock"


class DockerAPIError(Exception):
    """The engine answered an error status, or could not be reached (status None)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class NotFound(DockerAPIError):
    pass


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def q(name):
    """A container, image or network name for a URL path (image references keep their / and :)."""
    return quote(str(name), safe="/:@")


class DockerClient(object):
    def __init__(self, base_url=None, timeout=60):
        self.base_url = base_url or DEFAULT_HOST
        self.timeout = timeout
        parts = urlsplit(self.base_url)
        if parts.scheme == "unix":
            self._unix = parts.path
        elif parts.scheme in ("tcp", "http"):
            self._unix = None
            self._host, self._port = parts.hostname, parts.port or 2375
        else:
            raise DockerAPIError("docker_host must be unix:///path or tcp://host:port (no TLS), got %s"
                                 % self.base_url)

    def _connection(self, timeout):
        if self._unix:
            return _UnixConnection(self._unix, timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def request(self, method, path, params=None, body=None, timeout=None, lines=False, raw_body=False):
        """(status, decoded JSON body or None); *lines*: a list of the JSON lines of a streamed answer;
        *raw_body*: the body's bytes as they came (a log stream)."""
        url = path + ("?" + urlencode(params) if params else "")
        headers = {"Host": "docker"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = self._connection(timeout or self.timeout)
        try:
            conn.request(method, url, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            raise DockerAPIError("cannot talk to the Docker engine at %s: %s" % (self.base_url, exc))
        finally:
            conn.close()
        if raw_body and status < 400:
            return status, raw
        text = raw.decode("utf-8", "replace")
        if status >= 400:
            try:
                message = json.loads(text).get("message") or text
            except (ValueError, AttributeError):
                message = text
            cls = NotFound if status == 404 else DockerAPIError
            raise cls("%s (HTTP %d)" % (message.strip()[:500], status), status)
        if lines:
            out = []
            for line in text.splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
            return status, out
        try:
            return status, json.loads(text) if text.strip() else None
        except ValueError:
            return status, None

    def get(self, path, params=None):
        return self.request("GET", path, params=params)[1]

    def post(self, path, params=None, body=None, timeout=None):
        return self.request("POST", path, params=params, body=body, timeout=timeout)[1]

    def delete(self, path, params=None):
        return self.request("DELETE", path, params=params)[1]
