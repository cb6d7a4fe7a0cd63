# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the collection importable as ``ansible_collections.arizu.ops``.

The repository root is the collection, so a symlink
``<root>/.state/collections/ansible_collections/arizu/ops -> <root>`` is
created (when missing) and ``<root>/.state/collections`` is put on sys.path.
Under ``ansible-test units`` the collection is already importable and nothing
is changed.
"""

from __future__ import annotations

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, '.state', 'collections')


def _ensure_collection_path():
    try:
        import ansible_collections.arizu.ops.plugins.module_utils.health_parser  # noqa: F401  pylint: disable=unused-import
        return
    except ImportError:
        pass
    namespace_dir = os.path.join(COLLECTIONS_ROOT, 'ansible_collections', 'arizu')
    link = os.path.join(namespace_dir, 'ops')
    if not os.path.exists(link):
        os.makedirs(namespace_dir, exist_ok=True)
        if os.path.islink(link):  # dangling link
            os.unlink(link)
        os.symlink(os.path.join('..', '..', '..', '..'), link)
    if COLLECTIONS_ROOT not in sys.path:
        sys.path.insert(0, COLLECTIONS_ROOT)
    # ``ansible_collections`` may already be imported (namespace package from
    # site-packages); extend its search path so ``arizu`` is found.
    for name in ('ansible_collections', 'ansible_collections.arizu'):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, '__path__'):
            sub = os.path.join(COLLECTIONS_ROOT, *name.split('.'))
            if sub not in list(module.__path__):
                module.__path__.append(sub)


_ensure_collection_path()
