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

# ansible-rulebook (extensions/eda, tests/integration/test_eda.py) needs a Java 17+ runtime.
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if [ "$(java_major 2>/dev/null || true)" -lt 17 ] 2>/dev/null || ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[venv] installing a Java 17 runtime for ansible-rulebook (openjdk-17-jre-headless)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "[venv] warning: ansible-rulebook needs Java 17 or newer (java on PATH or JAVA_HOME); none found" >&2
  fi
fi
