#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# arizu.ops against the newest ansible-core: a Python 3.13 virtualenv with
# ansible 14.x (core 2.21, tests/core-latest-requirements.txt) in
# .state/venv-core-latest - made again only when the requirements or the
# interpreter change (a hash in the venv) - then ansible-test units and
# sanity there (scripts/ansible-test.sh).
#   scripts/core-latest.sh [all|units|sanity|venv]
# CORE_LATEST_PYTHON overrides the interpreter (/root/.pyenv/versions/3.13.0/bin/python).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
what=${1:-all}
case "$what" in all|units|sanity|venv) ;; *) echo "usage: scripts/core-latest.sh [all|units|sanity|venv]" >&2; exit 2 ;; esac
python=${CORE_LATEST_PYTHON:-/root/.pyenv/versions/3.13.0/bin/python}
venv=$here/.state/venv-core-latest
requirements=$here/tests/core-latest-requirements.txt
if [ ! -x "$python" ]; then
  echo "[core-latest] no Python 3.13 at $python (set CORE_LATEST_PYTHON)" >&2
  exit 2
fi
want=$( { sha256sum "$requirements" | cut -d' ' -f1; "$python" -VV; } | sha256sum | cut -d' ' -f1)
stamp=$venv/.requirements.sha256
if [ ! -x "$venv/bin/ansible-test" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[core-latest] installing $(grep -v '^#' "$requirements" | xargs) with $("$python" -V) into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  { "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  } 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
else
  echo "[core-latest] $venv is up to date" >&2
fi
version=$("$venv/bin/ansible" --version)  # (not piped into head: a broken pipe would end the script)
echo "${version%%$'\n'*}" >&2

status=0
if [ "$what" = all ] || [ "$what" = units ]; then
  VENV=$venv scripts/ansible-test.sh units || status=1
fi
if [ "$what" = all ] || [ "$what" = sanity ]; then
  VENV=$venv scripts/ansible-test.sh sanity || status=1
fi
exit "$status"
