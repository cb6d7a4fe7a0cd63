#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Create .venv with the pinned toolchain (requirements.txt) when it is missing
# or the requirements changed, and link the working tree as the collection
# arizu.ops under .state/collections. Idempotent and quiet when up to date.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=$here/.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[venv] installing the pinned toolchain into $venv" >&2
  "$python" -m venv "$venv"
  # (this machine's pip config names local indexes that may not exist: drop that noise)
  { "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  } 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
else
  echo "[venv] $venv is up to date" >&2
fi

link_dir=$here/.state/collections/ansible_collections/arizu
mkdir -p "$link_dir"
ln -sfn ../../../.. "$link_dir/ops"
