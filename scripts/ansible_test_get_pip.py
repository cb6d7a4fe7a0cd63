# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test makes each sanity/units virtual environment without pip and then
runs ``get-pip-<version>.py`` from ci-files.testing.ansible.com, which is not
reachable here. scripts/ansible-test.sh saves this file as
``~/.ansible/test/cache/get_pip_<version>.py`` (its private HOME): like
get-pip.py, it runs ``pip install <arguments>`` - with the pip wheel bundled
in the interpreter's own ``ensurepip`` - so the pinned pip comes from PyPI.
"""
from __future__ import annotations

import glob
import os
import sys

import ensurepip


def main() -> int:
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))
    if not wheels:
        sys.stderr.write('no pip wheel bundled with ensurepip of %s\n' % sys.executable)
        return 1
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    # get-pip.py's own options (it never installs setuptools/wheel unless asked)
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    return pip_main(['install', '--upgrade', '--force-reinstall'] + args)


if __name__ == '__main__':
    sys.exit(main())
