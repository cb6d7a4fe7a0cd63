#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# check-no-secrets.sh PATH...: fail when any seeded secret (the values in the
# demo's and the tests' secrets.yml) appears in the files under PATH. Says
# which file and which variable, never the value.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secret_files=()
for f in "$here/inventories/local/group_vars/all/secrets.yml" "$here/molecule/shared/group_vars/all/secrets.yml"; do
  [ -s "$f" ] && secret_files+=("$f")
done
[ ${#secret_files[@]} -gt 0 ] || { echo "[secrets] no seeded secrets to look for" >&2; exit 0; }
python3 - "${secret_files[@]}" -- "$@" <<'PY'
import os, re, sys, urllib.parse
args = sys.argv[1:]
sep = args.index("--")
secret_files, paths = args[:sep], args[sep + 1:]
secrets = {}
for sf in secret_files:
    for line in open(sf, encoding="utf-8"):
        m = re.match(r'^(\w+):\s*"(.*)"\s*$', line)
        if m and len(m.group(2)) >= 8:
            secrets[f"{os.path.relpath(sf)}:{m.group(1)}"] = m.group(2)
files = []
for p in paths:
    if os.path.isfile(p):
        files.append(p)
    elif os.path.isdir(p):
        for root, _, names in os.walk(p):
            files.extend(os.path.join(root, n) for n in names)
found = 0
for f in files:
    if f in secret_files:
        continue
    try:
        data = open(f, "rb").read()
    except OSError:
        continue
    for name, value in secrets.items():
        # as written, and URL-encoded as it sits in DATABASE_URL / REDIS_URL
        for needle in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote(value)}:
            if needle.encode() in data:
                print(f"[secrets] FOUND {name} in {f}")
                found += 1
                break
print(f"[secrets] {'FAIL' if found else 'ok'}: looked for {len(secrets)} seeded secrets in {len(files)} files, found {found}")
sys.exit(1 if found else 0)
PY
