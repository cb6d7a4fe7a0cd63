# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of arizu.ops.n8n_backup / n8n_restore / redis_snapshot: names, the folder scan, the key
fingerprint check, export listings, INFO parsing, checksum verification (no Docker)."""

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import BackupError
from ansible_collections.arizu.ops.plugins.module_utils.service_backup import (
    backup_name,
    build_manifest,
    config_key,
    export_ids,
    key_check,
    key_fingerprint,
    keyspace_keys,
    parse_backup_name,
    parse_info,
    pick_backup,
    publish,
    scan,
    verify_file,
)


@pytest.mark.parametrize("kind, taken, expected", [
    ("n8n", (), "n8n-2025-01-31-020000.tar.gz"),
    ("n8n", ("n8n-2025-01-31-020000.tar.gz",), "n8n-2025-01-31-020000-2.tar.gz"),
    ("redis", (), "redis-2025-01-31-020000.rdb"),
])
def test_backup_name(kind, taken, expected):
    assert backup_name(kind, 1738288800, taken) == expected
    assert parse_backup_name(kind, expected)[0] == 1738288800


@pytest.mark.parametrize("kind, name", [
    ("n8n", "n8n-2025-01-31-020000.tgz"), ("n8n", "redis-2025-01-31-020000.rdb"), ("redis", "redis-2025-13-40-990000.rdb"),
    ("n8n", ".tmp-n8n-2025-01-31-020000.tar.gz"), ("redis", ""),
])
def test_not_a_backup_name(kind, name):
    assert parse_backup_name(kind, name) is None


def test_fingerprint_is_sha256_and_never_the_key():
    key = "k" * 32
    assert key_fingerprint(key) == hashlib.sha256(key.encode()).hexdigest()
    assert key_fingerprint("") is None


@pytest.mark.parametrize("backup_fp, target_fp, ignore, ok, words", [
    ("a" * 64, "a" * 64, False, True, "match"),
    ("a" * 64, "b" * 64, False, False, "mismatch"),
    ("a" * 64, "b" * 64, True, True, "mismatch"),
    ("a" * 64, None, False, False, "no encryption key"),
    (None, "a" * 64, True, False, "not made by"),
])
def test_key_check(backup_fp, target_fp, ignore, ok, words):
    result, message = key_check(backup_fp, target_fp, ignore)
    assert result is ok and words in message
    assert "a" * 17 not in message and "b" * 17 not in message  # fingerprints shortened


@pytest.mark.parametrize("text, expected", [
    ('{"encryptionKey": "xyz"}', "xyz"), ("{}", None), ("not json", None), ("[1]", None),
])
def test_config_key(text, expected):
    assert config_key(text) == expected


def test_export_ids():
    assert export_ids("b.json\na.json\n\nnotes.txt\nsub/c.json\n.json\n") == ["a", "b", "c"]


def test_info_and_keyspace():
    info = parse_info("# Server\r\nredis_version:7.0.15\r\n# Keyspace\r\ndb0:keys=12,expires=1,avg_ttl=0\r\n"
                      "db3:keys=5,expires=0,avg_ttl=0\r\n")
    assert info["redis_version"] == "7.0.15" and keyspace_keys(info) == 17
    assert keyspace_keys(parse_info("")) == 0


def _backup(folder, kind, started, payload=b"data"):
    name = backup_name(kind, started)
    tmp = folder / (".tmp-" + name)
    tmp.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    manifest = build_manifest(kind, name, started, started + 1, len(payload), digest, {}, {})
    publish(str(folder), tmp.name, name, digest, manifest)
    return name


def test_publish_scan_pick_and_verify(tmp_path):
    older = _backup(tmp_path, "n8n", 1738288800)
    newer = _backup(tmp_path, "n8n", 1738375200)
    (tmp_path / "n8n-2025-02-02-020000.tar.gz").write_bytes(b"no manifest")
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 in (0o600, 0o644) and not path.name.startswith(".tmp-")
    entries = scan("n8n", str(tmp_path))
    assert [e["name"] for e in entries if e["verified"]] == [newer, older]
    assert pick_backup("n8n", str(tmp_path), "")["name"] == newer
    assert pick_backup("n8n", str(tmp_path), older)["name"] == older
    with pytest.raises(BackupError, match="not a verified backup"):
        pick_backup("n8n", str(tmp_path), "n8n-2025-02-02-020000.tar.gz")
    with pytest.raises(BackupError, match="no backup"):
        pick_backup("n8n", str(tmp_path), "n8n-2020-01-01-000000.tar.gz")
    with pytest.raises(BackupError, match="file name"):
        pick_backup("n8n", str(tmp_path), "../etc/passwd")
    with pytest.raises(BackupError, match="no verified redis"):
        pick_backup("redis", str(tmp_path), "")
    entry = pick_backup("n8n", str(tmp_path), newer)
    assert verify_file(str(tmp_path), newer, entry["manifest"]) == []
    (tmp_path / newer).write_bytes(b"dat4")
    problems = verify_file(str(tmp_path), newer, entry["manifest"])
    assert problems and "sha256" in problems[0]
    manifest = json.loads((tmp_path / (older + ".json")).read_text())
    assert manifest["verified"] is True and manifest["kind"] == "n8n"
