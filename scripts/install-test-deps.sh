#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# System packages the test suite needs besides the virtualenv: Debian's
# chromium (headless screenshots of the triage's HTML report,
# tests/integration/test_report_html.py). Idempotent and quiet when present.
# Installs only as root with apt-get; otherwise says what is missing and
# leaves it to the test, which fails (it is never skipped) without chromium.
set -euo pipefail

chromium=/usr/bin/chromium
if [ -x "$chromium" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[test-deps] $chromium is missing; install Debian's chromium package (apt-get install chromium) as root" >&2
  exit 0
fi
echo "[test-deps] installing chromium (headless screenshots of the HTML report)" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing (fresh image) or stale: refresh them once if the install fails.
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ ! -x "$chromium" ]; then
  echo "[test-deps] chromium was installed but $chromium is still missing" >&2
  exit 1
fi
