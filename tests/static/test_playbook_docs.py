# SPDX-License-Identifier: GPL-3.0-or-later
"""Every playbook has its page, docs/playbooks/<playbook>.md, with what it does (the paragraph under the
title), its inputs, outputs, safety rails and an example - the headings the existing pages use."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml"))
SECTIONS = {"inputs": r"Inputs", "outputs": r"Outputs?", "safety rails": r"Safety rails", "example": r"Examples?"}


def test_playbooks_found():
    assert "site" in PLAYBOOKS and len(PLAYBOOKS) >= 10


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_has_a_page_with_the_sections(playbook):
    page = ROOT / "docs" / "playbooks" / f"{playbook}.md"
    assert page.exists(), f"playbooks/{playbook}.yml has no page {page.relative_to(ROOT)}"
    text = page.read_text()
    title = re.search(r"^# (.+)$", text, re.MULTILINE)
    assert title and title.group(1).startswith(f"playbooks/{playbook}.yml"), \
        f"{page.name}: the title must start with playbooks/{playbook}.yml"
    intro = text[title.end():].split("\n## ", 1)[0]
    assert len(intro.split()) >= 10, f"{page.name}: say what the playbook does under the title"
    headings = re.findall(r"^## (.+?)\s*$", text, re.MULTILINE)
    for section, pattern in SECTIONS.items():
        matching = [h for h in headings if re.fullmatch(pattern, h)]
        assert matching, f"{page.name}: no '## {section.capitalize()}' section (headings: {headings})"
        body = text.split(f"\n## {matching[0]}", 1)[1].split("\n## ", 1)[0]
        assert body.strip(), f"{page.name}: the {section} section is empty"
    example = text.split("\n## Example", 1)[1].split("\n## ", 1)[0]
    assert f"playbooks/{playbook}.yml" in example, f"{page.name}: the example does not run the playbook"
