# SPDX-License-Identifier: GPL-3.0-or-later
"""The triage's HTML report renders in a real browser.

A tiny playbook on localhost renders roles/triage/templates/report.html.j2 with
ansible.builtin.template from a fixture report (fixtures/triage-report-p1.json:
made by the real triage filters, P1 on two hosts, with reasons, containers,
disks, externals, escalation and status updates, and a log line holding
markup). Headless Chromium (Debian's ``chromium``, installed by
scripts/install-test-deps.sh) then dumps the DOM and takes a screenshot. The
test FAILS (it is never skipped) without chromium. The screenshot is kept as
.state/artifacts/triage-report.png.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".state" / "collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
TEMPLATE = ROOT / "roles" / "triage" / "templates" / "report.html.j2"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "triage-report-p1.json"
ARTIFACT = ROOT / ".state" / "artifacts" / "triage-report.png"
CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 1600
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colours of report.html.j2 that must show in the screenshot (RGB).
P1_BADGE = (0xe6, 0x51, 0x00)
GOOD = (0xc8, 0xe6, 0xc9)
BAD = (0xff, 0xcd, 0xd2)

# The smallest report the triage writes: one host, all checks passed, nothing probed beyond the app.
MINIMAL = {"incident_id": "INC-MINIMAL", "generated_at": "2026-12-03T14:00:00Z", "started_at": None,
           "severity": "none", "summary": "INC-MINIMAL: severity none on 1 host(s)", "lines": [], "reasons": [],
           "hosts": {"localhost": {"severity": "none", "components": [
               {"component": "app", "status": "healthy", "latency_ms": 3.0, "detail": "healthy"}],
               "containers": [{"name": "arizu-app", "state": "missing"}], "disks": [], "api_latency": {},
               "slo": {}, "missing_containers": ["arizu-app"]}},
           "recent_changes": [], "externals": [], "escalation": {}, "status_updates": {}}

PLAYBOOK = textwrap.dedent("""\
    - name: Render the triage's HTML report from a fixture
      hosts: localhost
      gather_facts: false
      tasks:
        - name: Write the HTML report
          ansible.builtin.template:
            src: "{{ template }}"
            dest: "{{ triage_report_files.html }}"
            mode: "0640"
          vars:
            triage_report: "{{ lookup('ansible.builtin.file', fixture) | from_json }}"
            triage_report_files:
              json: "{{ out_dir }}/report.json"
              markdown: "{{ out_dir }}/report.md"
              html: "{{ out_dir }}/report.html"

        - name: Write the HTML report of the smallest report, without triage_report_files
          ansible.builtin.template:
            src: "{{ template }}"
            dest: "{{ out_dir }}/minimal.html"
            mode: "0640"
          vars:
            triage_report: "{{ lookup('ansible.builtin.file', minimal) | from_json }}"
    """)


class _Dom(HTMLParser):
    """Tables (by id or class) with their rows of cell texts, the severity badge, and the tags seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.tags, self.badge = [], set(), None
        self._table = self._row = self._cell = None
        self._in_badge = False
        self.external = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith(("#", "data:")) and not attrs[name].endswith(
                    (".json", ".md", ".html")):
                self.external.append(attrs[name])
        if tag == "table":
            self._table = {"id": attrs.get("id"), "class": attrs.get("class") or "", "rows": []}
            self.tables.append(self._table)
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table["rows"].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row.append(self._cell)
        elif attrs.get("id") == "severity":
            self._in_badge, self.badge = True, ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[-1] = " ".join("".join(self._cell).split())
            self._cell = None
        elif tag == "table":
            self._table = self._row = None
        elif self._in_badge:
            self._in_badge = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_badge:
            self.badge += data.strip()


def _png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour_type, _compression, _filter, interlace = header
    assert depth == 8 and interlace == 0 and colour_type in (2, 6), header
    bpp = 4 if colour_type == 6 else 3
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows, prev, at = [], bytearray(stride), 0
    for _row in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for x in range(stride):
                line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255
        elif kind == 4:
            for x in range(stride):
                a, b = (line[x - bpp] if x >= bpp else 0), prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def _colour_cells(rows, bpp, colour, min_height=18):
    """(pixels of exactly *colour*, most separate vertical runs of it in one pixel column).

    Table cells of one colour stacked in a column are separated by their borders, so in a pixel
    column through the cells' padding (where no glyph cuts a run short) the runs of at least
    *min_height* pixels (a cell is about 23 high) count the coloured cells, whatever the layout.
    """
    pattern, columns = bytes(colour), {}
    for y, line in enumerate(rows):
        at = line.find(pattern)
        while at != -1:
            if at % bpp == 0:
                columns.setdefault(at // bpp, []).append(y)
            at = line.find(pattern, at + 1)
    best = 0
    for ys in columns.values():
        runs, length, last = 0, 0, None
        for y in ys:
            length = length + 1 if last is not None and y == last + 1 else 1
            runs += length == min_height
            last = y
        best = max(best, runs)
    return sum(len(ys) for ys in columns.values()), best


def _chromium(*args, profile):
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=%s" % profile, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian's chromium package); "
                    "this test is not skipped without it")
    work = tmp_path_factory.mktemp("report_html")
    (work / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (work / "minimal.json").write_text(json.dumps(MINIMAL), encoding="utf-8")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "ARIZU_")))
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_CONFIG": str(work / "none.cfg")})
    extra = {"fixture": str(FIXTURE), "minimal": str(work / "minimal.json"), "template": str(TEMPLATE),
             "out_dir": str(work),
             "ansible_python_interpreter": sys.executable}
    proc = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", json.dumps(extra),
                           str(work / "play.yml")], cwd=str(work), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = work / "report.html"
    url = html.as_uri()
    dom = _chromium("--dump-dom", url, profile=work / "profile-dom")
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-3000:]
    png = work / "report.png"
    shot = _chromium("--screenshot=%s" % png, "--window-size=%d,%d" % (WIDTH, HEIGHT), url,
                     profile=work / "profile-shot")
    assert shot.returncode == 0 and png.exists(), shot.stderr[-3000:]
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, ARTIFACT)
    parser = _Dom()
    parser.feed(dom.stdout)
    return {"html": html.read_text(encoding="utf-8"), "dom": dom.stdout, "parsed": parser, "png": png,
            "report": json.loads(FIXTURE.read_text(encoding="utf-8")),
            "minimal": (work / "minimal.html").read_text(encoding="utf-8")}


def _tables(parsed, cls):
    return [t for t in parsed.tables if cls in t["class"].split()]


def test_the_severity_badge(rendered):
    assert rendered["parsed"].badge == "P1"
    assert 'id="severity">P1<' in rendered["html"]  # what the molecule triage scenario looks for


def test_every_host_has_its_status_table_with_every_component(rendered):
    report, tables = rendered["report"], _tables(rendered["parsed"], "status-table")
    assert len(tables) == len(report["hosts"]) == 2
    for table, (host, data) in zip(tables, report["hosts"].items()):
        header, *rows = table["rows"]
        assert header[:2] == ["Component", "Status"], header
        assert [(r[0], r[1]) for r in rows] == [(c["component"], c["status"]) for c in data["components"]], host
    docker1 = dict((r[0], r) for r in tables[0]["rows"][1:])
    assert docker1["app/db"][1] == "down" and docker1["n8n /healthz"][1] == "unreachable"
    assert docker1["app"][2] == "148.2 ms"


def test_the_reasons_containers_and_externals(rendered):
    parsed, report = rendered["parsed"], rendered["report"]
    reasons = [t for t in parsed.tables if t["id"] == "reasons"][0]["rows"][1:]
    assert [(r[0], r[1], r[2]) for r in reasons] == [(x["severity"], x["rule"], x["host"]) for x in report["reasons"]]
    containers = _tables(parsed, "containers")
    assert len(containers) == 2
    n8n = [r for r in containers[0]["rows"] if r[0] == "arizu-n8n"][0]
    assert n8n[1:3] == ["exited", "unhealthy"]
    externals = [t for t in parsed.tables if t["id"] == "externals"][0]["rows"][1:]
    assert [(r[0], r[1]) for r in externals] == [(e["name"], e["status"]) for e in report["externals"]]


def test_self_contained_and_escaped(rendered):
    parsed, html = rendered["parsed"], rendered["html"]
    assert "script" not in parsed.tags and parsed.external == []
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<link" not in html and "@import" not in html and "url(" not in html


def test_the_screenshot_shows_the_tables_in_colour(rendered):
    png = rendered["png"]
    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 10 * 1024, len(data)
    width, height, bpp, rows = _png_pixels(png)
    assert (width, height) == (WIDTH, HEIGHT)
    cells = dict((name, _colour_cells(rows, bpp, colour)) for name, colour in
                 (("P1", P1_BADGE), ("good", GOOD), ("bad", BAD)))
    report = rendered["report"]
    docker1 = [c["status"] for c in report["hosts"]["docker1"]["components"]]
    # every P1 reason's cell is orange; every bad component of docker1 red; its good ones and those of
    # docker2 (the same column, further down) green: no row style hides a status colour
    assert cells["P1"][1] >= sum(1 for x in report["reasons"] if x["severity"] == "P1") == 4, cells
    assert cells["bad"][1] >= sum(1 for s in docker1 if s in ("down", "unreachable")) == 4, cells
    assert cells["good"][1] >= 5, cells
    assert all(pixels > 1000 for pixels, _share in cells.values()), cells
    assert ARTIFACT.read_bytes() == data


def test_the_smallest_report_renders_too(rendered):
    parsed = _Dom()
    parsed.feed(rendered["minimal"])
    assert parsed.badge == "none" and "All checks passed." in rendered["minimal"]
    rows = _tables(parsed, "status-table")[0]["rows"]
    assert rows[1] == ["app", "healthy", "3.0 ms", "healthy"]
    assert "Missing containers: arizu-app" in rendered["minimal"] and "No escalation." in rendered["minimal"]
    assert "Same report as" not in rendered["minimal"]
