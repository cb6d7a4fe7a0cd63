# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: redact
short_description: Mask secret values, and their URL-encoded forms, in a text
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Replaces every occurrence of each given value in the input text with C(********), longest value
    first, together with the value's URL-encoded forms (as it sits in a DSN such as C(DATABASE_URL)).
  - Also removes C(user:password@) userinfo from any C(scheme://) URL in the text.
  - Values shorter than O(min_length) are left alone, since masking them would mangle unrelated text.
positional: _input, values
options:
  _input:
    description: The text to mask. Anything else is turned into text first.
    type: raw
    required: true
  values:
    description: The secret values (a list; non-string items are turned into text).
    type: list
    elements: raw
    required: true
  min_length:
    description: Shortest value that is masked.
    type: int
    default: 4
"""

EXAMPLES = r"""
- name: Show an error message without the container's secrets
  ansible.builtin.debug:
    msg: "{{ result.msg | arizu.ops.redact(container_env.values()) }}"
"""

RETURN = r"""
_value:
  description: The text with the values masked.
  type: str
"""

import re
from urllib.parse import quote

from ansible.errors import AnsibleFilterError

MASK = "********"
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]*@")


def redact(text, values, min_length=4):
    """Mask each value (and its URL-encoded forms) in text, longest first."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise AnsibleFilterError("redact: values must be a list of strings, got %s" % type(values).__name__)
    text = "" if text is None else str(text)
    needles = set()
    for value in values:
        value = "" if value is None else str(value)
        if len(value) >= int(min_length):
            needles.update({value, quote(value, safe=""), quote(value)})
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, MASK)
    return _USERINFO.sub(r"\g<scheme>" + MASK + "@", text)


class FilterModule:
    """arizu.ops.redact"""

    def filters(self):
        return {"redact": redact}
