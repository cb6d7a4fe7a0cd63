#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Refresh changelogs/changelog.yaml and CHANGELOG.md from changelogs/fragments
# (kept, keep_fragments: true) for the version in galaxy.yml, with
# antsibull-changelog. Run it after adding a fragment; `antsibull-changelog
# lint` and tests/static/test_changelog.py check the result.
#   scripts/changelog.sh            refresh the release of galaxy.yml's version
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH=$here/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$here/.state/collections
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
antsibull-changelog lint
if grep -q "^  ${version//./\\.}:" changelogs/changelog.yaml 2>/dev/null; then
  antsibull-changelog release --version "$version" --update-existing --refresh-fragments without-archives \
    --refresh-plugins allow-removal --reload-plugins
else
  antsibull-changelog release --version "$version" --reload-plugins
fi
