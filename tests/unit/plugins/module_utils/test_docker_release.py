# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of arizu.ops.docker_release: references, history append/trim, the choice of a rollback
target (previous, tag, digest), protection tags and the definition of a cloned container."""
from __future__ import annotations

import json

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.docker_release import (
    ReleaseError,
    append_entry,
    clone_definition,
    env_changes,
    live_entry,
    load_history,
    protect_plan,
    protect_repository,
    reconcile_tags,
    release_entry,
    select_target,
    split_ref,
    who,
)

ID1, ID2, ID3, IDX = ("sha256:" + c * 64 for c in "123f")


def entry(seq, image, image_id, action="deploy", outcome="live", health="healthy", replaced=None, digests=()):
    return {"seq": seq, "image": image, "image_id": image_id, "action": action, "outcome": outcome,
            "health": health, "replaced": replaced, "digests": list(digests)}


def history(*entries):
    return {"format": 1, "container": "arizu-app", "releases": list(entries)}


@pytest.mark.parametrize("ref, expected", [
    ("arizu-local/app:1.0.0", ("arizu-local/app", "1.0.0", None)),
    ("registry:5000/arizu/app:1.4", ("registry:5000/arizu/app", "1.4", None)),
    ("registry:5000/arizu/app", ("registry:5000/arizu/app", None, None)),
    ("app@sha256:abc", ("app", None, "sha256:abc")),
    ("app:1.0@sha256:abc", ("app", "1.0", "sha256:abc")),
    ("redis", ("redis", None, None)),
])
def test_split_ref(ref, expected):
    assert split_ref(ref) == expected


@pytest.mark.parametrize("name, repo", [
    ("arizu-app", "arizu-release/arizu-app"),
    ("Scratch_REL..app", "arizu-release/scratch_rel-app"),
    ("--", "arizu-release/container"),
])
def test_protect_repository(name, repo):
    assert protect_repository(name) == repo


@pytest.mark.parametrize("job, user, text", [
    ("4711", "alice", "awx job 4711 (alice)"),
    (4711, "", "awx job 4711"),
    ("", "root", "user root"),
    (None, None, "user unknown"),
])
def test_who(job, user, text):
    assert who(job, user) == text


def test_load_history_new_and_corrupt():
    assert load_history("", "c") == {"format": 1, "container": "c", "releases": []}
    with pytest.raises(ReleaseError, match="not valid JSON"):
        load_history("{oops", "c")
    with pytest.raises(ReleaseError, match="no 'releases' list"):
        load_history(json.dumps({"releases": {}}), "c")
    with pytest.raises(ReleaseError, match="not an object"):
        load_history(json.dumps({"releases": [1]}), "c")


def test_append_assigns_seq_and_trims_oldest():
    hist = history()
    for n in range(5):
        append_entry(hist, {"image": "app:%d" % n}, max_entries=3)
    assert [e["seq"] for e in hist["releases"]] == [3, 4, 5]
    assert [e["image"] for e in hist["releases"]] == ["app:2", "app:3", "app:4"]
    with pytest.raises(ReleaseError):
        append_entry(hist, {}, max_entries=0)


def test_live_entry_skips_reverted_and_other_containers():
    hist = history(dict(entry(1, "a", ID1), container_id="aaaaaaaaaaaa"),
                   dict(entry(2, "b", ID2, outcome="reverted"), container_id="bbbbbbbbbbbb"))
    assert live_entry(hist)["seq"] == 1
    assert live_entry(hist, "aaaaaaaaaaaa0000")["seq"] == 1
    assert live_entry(hist, "cccccccccccc") is None


@pytest.mark.parametrize("entries, live_id, expected", [
    # v1 then v2: previous of v2 is v1
    ([entry(1, "app:1", ID1), entry(2, "app:2", ID2)], ID2, ("app:1", ID1)),
    # the newest other image wins
    ([entry(1, "app:1", ID1), entry(2, "app:2", ID2), entry(3, "app:3", ID3)], ID3, ("app:2", ID2)),
    # a release that was reverted (bad) or unhealthy is never "previous"
    ([entry(1, "app:1", ID1), entry(2, "app:2", ID2), entry(3, "bad", IDX, outcome="reverted", health="down")],
     ID2, ("app:1", ID1)),
    ([entry(1, "app:1", ID1), entry(2, "app:x", IDX, health="down"), entry(3, "app:2", ID2)], ID2, ("app:1", ID1)),
    # after v1 -> v2 -> rollback to v1, previous is not v2 again (a rollback left it)
    ([entry(1, "app:0", ID3), entry(2, "app:1", ID1), entry(3, "app:2", ID2),
      entry(4, "app:1", ID1, action="rollback", replaced={"image_id": ID2})], ID1, ("app:0", ID3)),
])
def test_select_previous(entries, live_id, expected):
    choice = select_target(history(*entries), live_id, "app:whatever", "previous")
    assert (choice["ref"], choice["image_id"]) == expected
    assert choice["kind"] == "previous"


@pytest.mark.parametrize("entries", [
    [],
    [entry(1, "app:1", ID1)],
    [entry(1, "app:1", ID1), entry(2, "app:2", ID2, action="rollback", replaced={"image_id": ID1})],
])
def test_select_previous_none(entries):
    live = entries[-1]["image_id"] if entries else ID1
    with pytest.raises(ReleaseError, match="no previous release"):
        select_target(history(*entries), live, "app:1", "previous")


@pytest.mark.parametrize("target, ref, kind, image_id", [
    ("1.0.0", "arizu-local/app:1.0.0", "tag", None),
    ("other/app:2", "other/app:2", "tag", None),
    (ID1, ID1, "digest", ID1),                                  # an image id of the history
    (ID1[7:], ID1, "digest", ID1),                              # without sha256:
    ("arizu-local/app@sha256:" + "d" * 64, ID2, "digest", ID2),  # a repo digest of the history
    ("sha256:" + "d" * 64, ID2, "digest", ID2),                 # the bare digest
    ("sha256:" + "e" * 64, "sha256:" + "e" * 64, "digest", None),  # unknown: looked up as is
    ("x/app@sha256:" + "e" * 64, "x/app@sha256:" + "e" * 64, "digest", None),
])
def test_select_tag_and_digest(target, ref, kind, image_id):
    hist = history(entry(1, "arizu-local/app:1.0.0", ID1),
                   entry(2, "arizu-local/app:1.1.0", ID2, digests=["arizu-local/app@sha256:" + "d" * 64]))
    choice = select_target(hist, ID2, "arizu-local/app:1.1.0", target)
    assert (choice["ref"], choice["kind"], choice["image_id"]) == (ref, kind, image_id)


@pytest.mark.parametrize("target, live_ref, match", [
    ("bad tag!", "app:1", "neither"),
    ("1.0.0", ID1, "no repository"),
])
def test_select_bad_target(target, live_ref, match):
    with pytest.raises(ReleaseError, match=match):
        select_target(history(), ID1, live_ref, target)


def test_protect_plan_keeps_newest_distinct_live_images():
    hist = history(entry(1, "a", ID1), entry(2, "b", ID2), entry(3, "x", IDX, outcome="reverted"),
                   entry(4, "c", ID3), entry(5, "b", ID2))
    assert protect_plan(hist, 2, "arizu-release/app") == {"arizu-release/app:5": ID2, "arizu-release/app:4": ID3}
    assert set(protect_plan(hist, 10, "r").values()) == {ID1, ID2, ID3}


def test_reconcile_tags():
    existing = {"r:1": ID1, "r:2": ID2, "r:3": ID3}
    wanted = {"r:2": ID2, "r:3": IDX, "r:4": ID1}
    assert reconcile_tags(existing, wanted) == ({"r:3": IDX, "r:4": ID1}, ["r:1"])


INSPECT = {
    "Id": "0123456789abcdef",
    "Name": "/arizu-app",
    "Image": ID1,
    "Config": {
        "Hostname": "0123456789ab",
        "Image": "arizu-local/app:1.0.0",
        "Env": ["PORT=3000", "DATABASE_URL=postgresql://u:pw@db/x", "MODEL_PROVIDER=anthropic",
                "ARIZU_APP_VERSION=1.0.0", "ARIZU_APP_BAD_RELEASE=false", "PATH=/usr/bin"],
        "Cmd": ["python3", "-u", "/app/app.py"],
        "Healthcheck": {"Test": ["CMD", "python3", "/app/healthcheck.py"]},
        "Labels": {"arizu.ops": "1", "io.arizu.app.version": "1.0.0"},
        "ExposedPorts": {"3000/tcp": {}},
        "User": "app",
    },
    "HostConfig": {"Memory": 536870912, "PortBindings": {"3000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "3000"}]},
                   "RestartPolicy": {"Name": "unless-stopped"}, "NetworkMode": "arizu"},
    "NetworkSettings": {"Networks": {
        "arizu": {"Aliases": ["app", "0123456789ab", "arizu-app"], "IPAMConfig": None},
        "other": {"Aliases": None}}},
}
IMAGE_CONFIG = {"Env": ["PORT=3000", "ARIZU_APP_VERSION=1.0.0", "ARIZU_APP_BAD_RELEASE=false", "PATH=/usr/bin"],
                "Cmd": ["python3", "-u", "/app/app.py"], "Healthcheck": {"Test": ["CMD", "python3", "/app/healthcheck.py"]},
                "Labels": {"io.arizu.app.version": "1.0.0"}, "ExposedPorts": {"3000/tcp": {}}, "User": "app"}


def test_clone_keeps_the_container_config_and_drops_the_old_image_defaults():
    body, more = clone_definition(INSPECT, IMAGE_CONFIG, "arizu-local/app:1.2.0-bad", {"MODEL_PROVIDER": "openai"})
    assert body["Image"] == "arizu-local/app:1.2.0-bad"
    env = dict(item.split("=", 1) for item in body["Env"])
    # the old image's version and bad-release flag must not override the new image's own
    assert "ARIZU_APP_VERSION" not in env and "ARIZU_APP_BAD_RELEASE" not in env and "PATH" not in env
    assert env["DATABASE_URL"] == "postgresql://u:pw@db/x" and env["MODEL_PROVIDER"] == "openai"
    assert body["Labels"] == {"arizu.ops": "1"}
    for key in ("Cmd", "Healthcheck", "ExposedPorts", "User", "Hostname"):
        assert key not in body, key
    assert body["HostConfig"]["PortBindings"] == INSPECT["HostConfig"]["PortBindings"]
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"arizu": {"Aliases": ["app"]}}}
    assert more == [("other", {})]


def test_clone_keeps_what_the_container_set_itself():
    inspect = json.loads(json.dumps(INSPECT))
    inspect["Config"]["Healthcheck"] = {"Test": ["CMD", "true"]}
    inspect["Config"]["Env"].append("PORT2=1")
    inspect["Config"]["Env"][0] = "PORT=4000"
    body, _more = clone_definition(inspect, IMAGE_CONFIG, "img", None)
    assert body["Healthcheck"] == {"Test": ["CMD", "true"]}
    env = dict(item.split("=", 1) for item in body["Env"])
    assert env["PORT"] == "4000" and env["PORT2"] == "1"


def test_env_changes():
    assert env_changes(INSPECT, {"MODEL_PROVIDER": "anthropic"}) == []
    assert env_changes(INSPECT, {"MODEL_PROVIDER": "openai", "NEW": 1}) == ["MODEL_PROVIDER", "NEW"]


def test_release_entry_has_no_secret_and_names_the_provider():
    image = {"Id": ID1, "RepoTags": ["arizu-local/app:1.0.0"], "RepoDigests": []}
    rec = release_entry("deploy", INSPECT, image, "arizu-local/app:1.0.0", "healthy", "user root", None,
                        now="2026-12-03T00:00:00Z")
    assert rec["repository"] == "arizu-local/app" and rec["tag"] == "1.0.0" and rec["image_id"] == ID1
    assert rec["model_provider"] == "anthropic" and rec["container_id"] == "0123456789ab"
    assert "pw" not in json.dumps(rec)
    by_id = release_entry("rollback", INSPECT, image, ID1, "healthy", "user root", "7")
    assert (by_id["repository"], by_id["tag"], by_id["job_id"]) == ("arizu-local/app", "1.0.0", "7")


@pytest.mark.parametrize("body, expect, unmet", [
    ({"components": {"llm": {"active": "openai"}}}, {"components.llm.active": "openai"}, []),
    ({"components": {"llm": {"active": "anthropic"}}}, {"components.llm.active": "openai"},
     [("components.llm.active", "openai", "anthropic")]),
    ({"components": {"llm": "up"}}, {"components.llm.active": "openai"}, [("components.llm.active", "openai", None)]),
    (None, {"status": "healthy"}, [("status", "healthy", None)]),
    ({"n": 3}, {"n": "3"}, []),
    ({}, {}, []),
])
def test_gate_expectations(body, expect, unmet):
    from ansible_collections.arizu.ops.plugins.module_utils.docker_health import unmet_expectations
    assert unmet_expectations(body, expect) == unmet
