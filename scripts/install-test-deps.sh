#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# System packages the test suite needs besides the virtualenv: Debian's
# chromium (headless screenshots of the triage's HTML report,
# tests/integration/test_report_html.py) and shellcheck (the shellcheck
# sanity test of ansible-test, tests/quality/test_ansible_test.py).
# Idempotent and quiet when present. Installs only as root with apt-get;
# otherwise says what is missing and leaves it to the tests, which fail (they
# are never skipped) without them.
set -euo pipefail

declare -A wanted=([chromium]=/usr/bin/chromium [shellcheck]=/usr/bin/shellcheck)
missing=()
for package in "${!wanted[@]}"; do
  [ -x "${wanted[$package]}" ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[test-deps] missing: ${missing[*]}; install Debian's packages (apt-get install ${missing[*]}) as root" >&2
  exit 0
fi
echo "[test-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing (fresh image) or stale: refresh them once if the install fails.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for package in "${missing[@]}"; do
  if [ ! -x "${wanted[$package]}" ]; then
    echo "[test-deps] $package was installed but ${wanted[$package]} is still missing" >&2
    exit 1
  fi
done
