# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of arizu.ops.docker_restart: Docker's times, and which
health check counts as newer than the restart."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.arizu.ops.plugins.modules.docker_restart import fresh_passing_check, parse_time

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2026-12-03T13:51:42.853532354Z", datetime.datetime(2026, 12, 3, 13, 51, 42, 853532, tzinfo=UTC)),
    ("2026-12-03T13:51:42Z", datetime.datetime(2026, 12, 3, 13, 51, 42, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", None),
    ("", None),
    (None, None),
    ("garbage", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def inspect(started, checks, running=True):
    return {"State": {"Running": running, "StartedAt": started,
                      "Health": {"Status": "healthy", "Log": [{"Start": s, "ExitCode": c} for s, c in checks]}}}


@pytest.mark.parametrize("started, checks, running, expected", [
    # a passing check from before the restart never counts
    ("2026-12-03T10:00:05.5Z", [("2026-12-03T10:00:01Z", 0)], True, False),
    ("2026-12-03T10:00:05.5Z", [("2026-12-03T10:00:01Z", 0), ("2026-12-03T10:00:10Z", 0)], True, True),
    # a failing fresh check does not count either
    ("2026-12-03T10:00:05.5Z", [("2026-12-03T10:00:10Z", 1)], True, False),
    # nanoseconds: a check 1 microsecond after the start counts
    ("2026-12-03T10:00:05.000001000Z", [("2026-12-03T10:00:05.000002000Z", 0)], True, True),
    ("2026-12-03T10:00:05Z", [("2026-12-03T10:00:10Z", 0)], False, False),
    ("2026-12-03T10:00:05Z", [], True, False),
])
def test_fresh_passing_check(started, checks, running, expected):
    assert fresh_passing_check(inspect(started, checks, running)) is expected
