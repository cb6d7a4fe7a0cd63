# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""community.docker's Engine API client for the arizu.ops Docker modules, whatever its major version.

community.docker 5 made its module_utils private (common_api became _common_api, version _version);
galaxy.yml accepts 3.11 to 5.x, so both names are tried. The _api package has the same path in all.
"""

from __future__ import annotations

try:  # community.docker 5
    from ansible_collections.community.docker.plugins.module_utils._common_api import (  # noqa: F401
        DEFAULT_DOCKER_HOST,
        AnsibleDockerClient,
        RequestException,
    )
    from ansible_collections.community.docker.plugins.module_utils._version import LooseVersion  # noqa: F401
except ImportError:  # community.docker 3 and 4
    from ansible_collections.community.docker.plugins.module_utils.common_api import (  # noqa: F401
        DEFAULT_DOCKER_HOST,
        AnsibleDockerClient,
        RequestException,
    )
    from ansible_collections.community.docker.plugins.module_utils.version import LooseVersion  # noqa: F401

__all__ = ['DEFAULT_DOCKER_HOST', 'AnsibleDockerClient', 'LooseVersion', 'RequestException']
