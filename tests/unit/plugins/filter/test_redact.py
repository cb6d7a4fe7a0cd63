# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.redact import redact


@pytest.mark.parametrize("text, values, expected", [
    ("password pw-1234 here", ["pw-1234"], "password ******** here"),
    ("dsn postgresql://u:p%40ss%2Fw@h/db", ["p@ss/w"], "dsn postgresql://********@h/db"),
    ("a abcd-long and abcd", ["abcd", "abcd-long"], "a ******** and ********"),
    ("short abc stays", ["abc"], "short abc stays"),
    ("nothing", [], "nothing"),
    (None, ["x"], ""),
    ("value 12345678", [12345678], "value ********"),
    ("url https://user:secret@example.com/x", [], "url https://********@example.com/x"),
])
def test_redact(text, values, expected):
    assert redact(text, values) == expected


def test_redact_rejects_a_string_as_values():
    with pytest.raises(AnsibleFilterError, match="values must be a list"):
        redact("x", "secret")
