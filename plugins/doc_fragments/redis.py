# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # Redis connection options of the arizu.ops modules (plugins/module_utils/redis_common.py),
    # named as community.general's Redis modules name them.
    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or IP address of the Redis server.
    type: str
    default: localhost
  login_port:
    description:
      - Port of the Redis server.
    type: int
    default: 6379
  login_user:
    description:
      - ACL user to authenticate as (Redis 6 or later).
      - Without it, the password is sent with the one-argument C(AUTH) (the C(default) user).
    type: str
  login_password:
    description:
      - Password to authenticate with (C(requirepass) or the ACL user's password).
      - Never logged, never shown in a message.
    type: str
  db:
    description:
      - Database number to select (C(SELECT)). The queue keys are looked up in this database.
    type: int
    default: 0
  tls:
    description:
      - Whether to connect with TLS.
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to validate the server certificate (and host name) when O(tls=true).
      - Only set to V(false) for servers using self-signed certificates you control.
    type: bool
    default: true
  ca_certs:
    description:
      - File with the certificate authorities to validate the server certificate with when
        O(tls=true); the system's default CA store when not set.
    type: str
  timeout:
    description:
      - Seconds to wait for the connection and for each reply.
    type: float
    default: 5
requirements:
  - redis (the Python library, C(pip install redis)) on the host that runs the module
notes:
  - The password reaches the C(redis) library in memory only; it is never put on a command line
    (unlike C(redis-cli -a)).
"""
