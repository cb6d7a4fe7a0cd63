# SPDX-License-Identifier: GPL-3.0-or-later
"""Release history, deploy, rollback and the LLM provider switch on real app containers.

The app runs alone as scratch-rel-app on its own network (scratch-rel-net), published on 127.0.0.1:56110;
without Postgres, Redis and n8n it is "degraded" (HTTP 200), which the gate accepts. The history goes into the
test's tmp folder. The steps build on each other, in file order: v1 by the app role (recorded by the
docker_common hook, idempotent), v2 by deploy_app.yml, rollback to v1, rollback to the running release
(changed=0), the bad release (reverted automatically), a pruned image (clean abort), the provider switch against
a local stand-in (and a refused switch to a closed port). Without Docker the tests fail; they are never skipped.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import require_docker  # noqa: E402  pylint: disable=wrong-import-position
from playbook_run import remove_scratch, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

NAME = "scratch-rel-app"
NETWORK = "scratch-rel-net"
PORT = 56110
LLM_PORT = 56120        # the stand-in provider
CLOSED_PORT = 56121     # nothing listens here
V1, V2, BAD = "arizu-local/app:1.0.0", "arizu-local/app:1.1.0", "arizu-local/app:1.2.0-bad"
GONE = "scratch-rel/app:gone"
PROTECT_REPO = "arizu-release/" + NAME
DB_PASSWORD = "dbPw-" + secrets.token_hex(10)
REDIS_PASSWORD = "rdPw-" + secrets.token_hex(10)
OPENAI_KEY = "sk-rel-" + secrets.token_hex(12)
ANTHROPIC_KEY = "ak-rel-" + secrets.token_hex(12)
SECRETS = (DB_PASSWORD, REDIS_PASSWORD, OPENAI_KEY, ANTHROPIC_KEY)
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def docker(*args, check=True):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail("docker %s failed: %s" % (" ".join(args), proc.stderr.strip()[-500:]))
    return proc.stdout.strip()


def container_id():
    return docker("inspect", "--format", "{{.Id}}", NAME, check=False)


def health():
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/health" % PORT, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def protect_tags():
    out = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", PROTECT_REPO)
    return sorted(line for line in out.splitlines() if line)


class StandIn(BaseHTTPRequestHandler):
    """A provider API that answers 200 to the right key, 401 to any other."""
    seen = []

    def do_GET(self):  # noqa: N802
        StandIn.seen.append(self.headers.get("Authorization"))
        ok = self.headers.get("Authorization") == "Bearer " + OPENAI_KEY
        body = json.dumps({"data": [{"id": "stand-in"}]} if ok else {"error": "bad key"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Stack:
    def __init__(self, tmp):
        self.tmp = tmp
        self.history_dir = tmp / "releases"
        self.runs = 0

    def host_vars(self, **extra):
        base = {
            "app_image": V1, "app_container_name": NAME, "app_docker_network": NETWORK,
            "app_published_port": PORT, "app_db_password": DB_PASSWORD, "app_redis_password": REDIS_PASSWORD,
            "app_db_host": "scratch-rel-nodb", "app_redis_host": "scratch-rel-noredis",
            "app_n8n_url": "http://scratch-rel-non8n:5678", "app_memory": "256m",
            "app_labels": {"arizu.ops.test": "1"}, "app_healthy_timeout": 60,
            "arizu_app_url": "http://127.0.0.1:%d" % PORT, "arizu_release_dir": str(self.history_dir),
            "arizu_release_keep": 3, "release_timeout": 30, "release_stop_timeout": 5,
            "release_llm_providers": {
                "openai": {"url": "http://127.0.0.1:%d/v1/models" % LLM_PORT, "api_key": OPENAI_KEY},
                "anthropic": {"url": "http://127.0.0.1:%d/v1/models" % CLOSED_PORT, "api_key": ANTHROPIC_KEY,
                              "key_header": "x-api-key", "key_prefix": ""},
            },
        }
        base.update(extra)
        return base

    def play(self, playbook, extra_vars=None, check=False, **host_vars):
        self.runs += 1
        run_dir = self.tmp / ("run%d" % self.runs)
        run_dir.mkdir()
        started = time.monotonic()
        rc, out = run_playbook(playbook, run_dir, self.host_vars(**host_vars), extra_vars=extra_vars, check=check)
        elapsed = time.monotonic() - started
        for secret in SECRETS:
            assert secret not in out, "a secret appears in the output of %s" % playbook
        recap = RECAP.findall(out)
        assert recap, "no play recap in the output of %s:\n%s" % (playbook, out[-3000:])
        ok, changed, _unreachable, failed = (int(n) for n in recap[-1])
        return rc, out, changed, failed, elapsed

    def history(self):
        text = (self.history_dir / ("%s.json" % NAME)).read_text()
        for secret in SECRETS:
            assert secret not in text, "a secret appears in the release history"
        return json.loads(text)["releases"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    tmp = tmp_path_factory.mktemp("release")
    play = tmp / "app_role.yml"
    play.write_text("- name: The app alone\n  hosts: docker_hosts\n  gather_facts: false\n"
                    "  roles:\n    - role: arizu.ops.app\n")
    server = ThreadingHTTPServer(("127.0.0.1", LLM_PORT), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    st = Stack(tmp)
    st.app_role = str(play)
    try:
        yield st
    finally:
        server.shutdown()
        server.server_close()
        for name in (NAME, NAME + "-previous"):
            remove_scratch(name)
        subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True, check=False)
        for ref in protect_tags() + [GONE]:
            subprocess.run(["docker", "rmi", ref], capture_output=True, check=False)


def test_role_deploy_is_recorded_once(stack):
    rc, out, changed, _failed, _t = stack.play(stack.app_role)
    assert rc == 0, out[-3000:]
    assert "Record the release of scratch-rel-app" in out and changed >= 1
    releases = stack.history()
    assert len(releases) == 1
    first = releases[0]
    assert (first["action"], first["image"], first["health"], first["outcome"]) == ("role", V1, "healthy", "live")
    assert first["container_id"] == container_id()[:12]
    assert first["deployed_by"].startswith("user ") and first["model_provider"] == "anthropic"
    assert protect_tags() == [PROTECT_REPO + ":1"]
    # a second run changes nothing and records nothing
    rc, out, changed, _failed, _t = stack.play(stack.app_role)
    assert rc == 0 and changed == 0, out[-3000:]
    assert len(stack.history()) == 1


def test_deploy_v2_check_mode_then_for_real(stack):
    before = container_id()
    rc, out, changed, _failed, _t = stack.play("deploy_app.yml", {"image": "1.1.0"}, check=True)
    assert rc == 0 and changed == 1, out[-3000:]
    assert "would switch scratch-rel-app from %s to %s" % (V1, V2) in out
    assert container_id() == before and health()[1]["version"] == "1.0.0"

    rc, out, changed, _failed, _t = stack.play("deploy_app.yml", {"image": "1.1.0"}, awx_job_id=4711,
                                               awx_user_name="alice")
    assert rc == 0 and changed == 1, out[-3000:]
    status, body = health()
    assert status == 200 and body["version"] == "1.1.0"
    assert container_id() != before
    assert "scratch-rel-app-previous" not in docker("ps", "-a", "--format", "{{.Names}}")
    second = stack.history()[-1]
    assert (second["action"], second["image"], second["outcome"]) == ("deploy", V2, "live")
    assert second["health"] == "degraded"  # no db/redis/n8n here: the app serves, degraded
    assert second["deployed_by"] == "awx job 4711 (alice)" and second["job_id"] == "4711"
    assert second["replaced"]["image"] == V1 and second["container_id"] == container_id()[:12]
    assert protect_tags() == [PROTECT_REPO + ":1", PROTECT_REPO + ":2"]
    # the clone kept the configuration: network alias, port, limits, labels, secrets in its env
    inspect = json.loads(docker("inspect", NAME))[0]
    assert inspect["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert "app" in inspect["NetworkSettings"]["Networks"][NETWORK]["Aliases"]
    assert inspect["Config"]["Labels"]["arizu.ops.test"] == "1"
    assert inspect["Config"]["Labels"]["io.arizu.app.version"] == "1.1.0"  # the new image's own label
    assert any(e.startswith("DATABASE_URL=") for e in inspect["Config"]["Env"])
    # so alike that the app role with the new image in the inventory sees nothing to change
    rc, out, changed, _failed, _t = stack.play(stack.app_role, app_image=V2)
    assert rc == 0 and changed == 0, out[-3000:]
    assert container_id() == inspect["Id"] and len(stack.history()) == 2


def test_rollback_to_previous(stack):
    rc, out, changed, _failed, elapsed = stack.play("rollback.yml")
    assert rc == 0 and changed == 1, out[-3000:]
    status, body = health()
    assert status == 200 and body["version"] == "1.0.0"
    steps = [(e["action"], e["image"], e["outcome"]) for e in stack.history()]
    assert steps == [("role", V1, "live"), ("deploy", V2, "live"), ("rollback", V1, "live")]
    assert stack.history()[-1]["replaced"]["image"] == V2
    print("rollback playbook wall time: %.1f s" % elapsed)


def test_rollback_to_the_running_release_changes_nothing(stack):
    before = container_id()
    rc, out, changed, _failed, _t = stack.play("rollback.yml", {"target": "1.0.0"})
    assert rc == 0 and changed == 0, out[-3000:]
    assert "already runs" in out and container_id() == before
    # check mode of a real change: says what, changes nothing
    rc, out, changed, _failed, _t = stack.play("rollback.yml", {"target": "1.1.0"}, check=True)
    assert rc == 0 and changed == 1 and "would switch" in out, out[-3000:]
    assert container_id() == before and len(stack.history()) == 3


def test_bad_release_is_reverted_automatically(stack):
    before = container_id()
    # long enough for the bad release to answer even on a busy machine: its answer is the reason shown
    rc, out, _changed, failed, _t = stack.play("deploy_app.yml", {"image": BAD}, release_timeout=20)
    assert rc != 0 and failed == 1, out[-3000:]
    assert "reverted automatically to %s (same container %s), which is degraded again" % (V1, before[:12]) in out
    assert "bad release: health deliberately failing" in out  # the last probe says why
    status, body = health()
    assert status == 200 and body["version"] == "1.0.0" and container_id() == before
    last = stack.history()[-1]
    assert (last["image"], last["outcome"], last["health"]) == (BAD, "reverted", "down")
    assert "scratch-rel-app-previous" not in docker("ps", "-a", "--format", "{{.Names}}")


def test_rollback_to_a_pruned_image_aborts_cleanly(stack):
    build = subprocess.run(["docker", "build", "-q", "-t", GONE, "-"], capture_output=True, text=True,
                           check=False, timeout=300,
                           input="FROM %s\nLABEL scratch.rel=%s\n" % (V1, secrets.token_hex(6)))
    assert build.returncode == 0, build.stderr
    gone_id = docker("image", "inspect", "--format", "{{.Id}}", GONE)
    rc, out, _changed, _failed, _t = stack.play("deploy_app.yml", {"image": GONE})
    assert rc == 0, out[-3000:]
    rc, out, _changed, _failed, _t = stack.play("deploy_app.yml", {"image": V1})
    assert rc == 0, out[-3000:]
    # prune it: its own tag and its protection tag go, so the image goes
    refs = [line for line in docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines()
            if line.split()[1] == gone_id[7:19]]
    docker("rmi", *[line.split()[0] for line in refs])
    assert docker("image", "inspect", gone_id, check=False) == "[]"
    before = container_id()
    entries = len(stack.history())
    for extra, host_vars in (({}, {}), ({"target": gone_id}, {"release_pull": "never"})):
        rc, out, changed, _failed, _t = stack.play("rollback.yml", extra, **host_vars)
        assert rc != 0 and changed == 0, out[-3000:]
        assert "is not available" in out and "nothing was changed" in out
        assert container_id() == before
    assert health()[1]["version"] == "1.0.0" and len(stack.history()) == entries


def test_a_leftover_of_an_interrupted_switch_stops_the_play(stack):
    docker("create", "--name", NAME + "-previous", "--label", "arizu.ops.test=1", V1)
    try:
        before = container_id()
        rc, out, changed, _failed, _t = stack.play("deploy_app.yml", {"image": "1.1.0"})
        assert rc != 0 and changed == 0, out[-3000:]
        assert "a container scratch-rel-app-previous exists (left by an interrupted switch?)" in out
        assert container_id() == before
    finally:
        remove_scratch(NAME + "-previous")


def test_provider_switch(stack):
    assert health()[1]["components"]["llm"]["active"] == "anthropic"
    # a history that does not know the running release (deployed before it existed): recorded as "observed"
    (stack.history_dir / ("%s.json" % NAME)).rename(stack.history_dir / "older.json")
    rc, out, changed, _failed, _t = stack.play("switch_llm_provider.yml", {"provider": "openai"})
    assert rc == 0 and changed == 1, out[-3000:]
    assert "openai: reachable (HTTP 200)" in out and "anthropic: NOT usable (unreachable" in out
    assert "Bearer " + OPENAI_KEY in StandIn.seen  # the key went where it belongs
    status, body = health()
    assert status == 200 and body["components"]["llm"]["active"] == "openai" and body["version"] == "1.0.0"
    steps = [(e["action"], e["image"], e["model_provider"]) for e in stack.history()]
    assert steps == [("observed", V1, "anthropic"), ("deploy", V1, "openai")]

    before = container_id()
    rc, out, changed, _failed, _t = stack.play("switch_llm_provider.yml", {"provider": "anthropic"})
    assert rc != 0 and changed == 0, out[-3000:]
    assert "Refused: provider anthropic does not answer its API probe" in out
    assert container_id() == before and health()[1]["components"]["llm"]["active"] == "openai"

    # a wrong key is refused as well (the stand-in answers 401)
    providers = stack.host_vars()["release_llm_providers"]
    providers["openai"] = dict(providers["openai"], api_key="wrong-" + secrets.token_hex(4))
    rc, out, changed, _failed, _t = stack.play("switch_llm_provider.yml", {"provider": "openai"},
                                               release_llm_providers=providers)
    assert rc != 0 and "HTTP 401" in out and container_id() == before
