#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test sanity or units for arizu.ops, offline-friendly.
#
#   scripts/ansible-test.sh sanity [ansible-test options]   # with .venv (ansible 12, core 2.19, Python 3.11)
#   scripts/ansible-test.sh units  [ansible-test options]
#   VENV=.state/venv-core-latest scripts/ansible-test.sh sanity   # another toolchain (scripts/core-latest.sh)
#
# ansible-test needs the collection at .../ansible_collections/arizu/ops: the
# files of the collection (git's tracked and untracked-but-not-ignored files,
# minus galaxy.yml's build_ignore: what `ansible-galaxy collection build`
# ships) are copied to .state/ansible-test/<venv>/ansible_collections/arizu/ops,
# next to links to the collections it depends on (from the venv's `ansible`).
# HOME is .state/ansible-test-home: ansible-test's per-test virtualenvs are
# cached there, and its pip bootstrap script (downloaded from
# ci-files.testing.ansible.com, not reachable here) is replaced by
# scripts/ansible_test_get_pip.py. Requirements come from PyPI.
#
# Sanity tests left out (always): pslint (PowerShell; there are no .ps1 files
# and no pwsh). Everything else runs, the check of the shell scripts too
# (with Debian's package, installed by scripts/install-test-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$here/.venv}
case "$venv" in /*) ;; *) venv=$here/$venv ;; esac
command=${1:?usage: scripts/ansible-test.sh sanity|units [ansible-test options]}
shift
case "$command" in sanity|units) ;; *) echo "usage: scripts/ansible-test.sh sanity|units [options]" >&2; exit 2 ;; esac

python=$venv/bin/python
if [ ! -x "$python" ] || [ ! -x "$venv/bin/ansible-test" ]; then
  echo "[ansible-test] no ansible-test in $venv (run scripts/setup-venv.sh or scripts/core-latest.sh)" >&2
  exit 2
fi
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site=$("$python" -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))' 2>/dev/null || true)

# The collection's files, as the build would ship them.
work=$here/.state/ansible-test/$(basename "$venv")
tree=$work/ansible_collections/arizu/ops
rm -rf "$work"
mkdir -p "$tree"
mapfile -t ignored < <("$python" - "$here/galaxy.yml" <<'EOF'
import sys, yaml
for entry in (yaml.safe_load(open(sys.argv[1])) or {}).get('build_ignore') or []:
    print(entry)
EOF
)
cd "$here"
git ls-files -co --exclude-standard -z | "$python" -c '
import fnmatch, os, sys
patterns = sys.argv[1:]
for path in sys.stdin.read().split("\0"):
    if not path or not os.path.exists(path):
        continue
    parts = path.split("/")
    if any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[-1], p) or parts[0] == p for p in patterns):
        continue
    sys.stdout.write(path + "\0")
' "${ignored[@]}" | xargs -0 cp --parents -t "$tree"
# its own git repository: ansible-test lists the files with git, and .state is ignored by the checkout's
git -C "$tree" init -q
git -C "$tree" add -A
# units: the link setup-venv.sh makes (unit tests that run ansible-playbook, or load the EDA source from an
# installed-like path, use it); not for sanity, whose symlinks test would flag it
if [ "$command" = units ]; then
  mkdir -p "$tree/.state/collections/ansible_collections/arizu"
  ln -sfn ../../../.. "$tree/.state/collections/ansible_collections/arizu/ops"
fi

# The collections arizu.ops depends on (galaxy.yml), from the venv's ansible package.
for dep in $("$python" -c 'import yaml; print(" ".join(yaml.safe_load(open("galaxy.yml")).get("dependencies") or {}))'); do
  ns=${dep%%.*} name=${dep#*.}
  if [ -z "$site" ] || [ ! -d "$site/ansible_collections/$ns/$name" ]; then
    echo "[ansible-test] collection $dep is not in $venv (the ansible package provides it)" >&2
    exit 2
  fi
  mkdir -p "$work/ansible_collections/$ns"
  ln -sfn "$site/ansible_collections/$ns/$name" "$work/ansible_collections/$ns/$name"
done

# A private HOME with the offline pip bootstrap for the pip version ansible-test pins.
export HOME=$here/.state/ansible-test-home
pip_version=$("$python" - <<'EOF'
import os, re, ansible_test
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
EOF
)
mkdir -p "$HOME/.ansible/test/cache"
cp "$here/scripts/ansible_test_get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
export PIP_DISABLE_PIP_VERSION_CHECK=1 ANSIBLE_COLLECTIONS_PATH=$work

cd "$tree"
version=$("$venv/bin/ansible" --version)
echo "[ansible-test] $command with ${version%%$'\n'*}, Python $pyver, in $tree" >&2
case "$command" in
  sanity)
    exec "$venv/bin/ansible-test" sanity --local --python "$pyver" --requirements --color no \
      --skip-test pslint "$@" ;;
  units)
    # one worker: some unit tests measure latencies against local servers (a 2-core machine)
    exec "$venv/bin/ansible-test" units --venv --python "$pyver" --requirements --color no --num-workers 1 "$@" ;;
esac
