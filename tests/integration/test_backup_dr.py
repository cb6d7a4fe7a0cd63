# SPDX-License-Identifier: GPL-3.0-or-later
"""full_backup.yml, disaster_recovery.yml and restore_n8n.yml against a real scratch stack.

The whole Arizu stack (Postgres 15, Redis 7, n8n 1.123.81, the app) is
deployed with site.yml's roles under scratch names (scratch-bak-*: network,
containers, volumes; ports 127.0.0.1:56201-56204). Seeded: three Postgres
tables with 100k rows in all, three n8n workflows and one credential (its
secret value known only to this test), 300 Redis keys. A full backup set is
taken, the containers AND volumes are destroyed, disaster_recovery.yml
rebuilds the stack from nothing and restores the set; the table checksums
(md5 of the ordered rows), the n8n counts and the Redis keys come back
identical and the credential still decrypts to the seeded value. Then an n8n
restore with another encryption key and one of a corrupted archive are both
refused before anything is touched. No secret ever appears in an output.
Without Docker the tests fail; they are never skipped.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

import psycopg2
import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import (  # noqa: E402  pylint: disable=wrong-import-position
    COLLECTIONS_ROOT,
    ROOT,
    _tool,
    ensure_collection_link,
    python_interpreter,
    require_docker,
)

P = "scratch-bak"
NET = P + "-net"
PG, REDIS, N8N, APP = P + "-pg", P + "-redis", P + "-n8n", P + "-app"
CONTAINERS = [APP, N8N, REDIS, PG]
VOLUMES = [P + "-pg-data", P + "-redis-data", P + "-n8n-data"]
PG_PORT, REDIS_PORT, N8N_PORT, APP_PORT = 56201, 56202, 56203, 56204
TOOLS = P + "-tool"
TABLES = {"public.accounts": 40000, "public.ledger": 35000, "app.events": 25000}
WORKFLOWS = 3


def docker(*args, check=True, input_text=None, env=None, timeout=300):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, input=input_text,
                          env=env, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail("docker %s failed: %s" % (" ".join(args[:3]), proc.stderr[-1500:]))
    return proc


def destroy():
    for name in CONTAINERS:
        docker("rm", "-f", "-v", name, check=False)
    out = docker("ps", "-aq", "--filter", "name=^" + TOOLS, check=False).stdout.split()
    for cid in out:
        docker("rm", "-f", cid, check=False)
    for vol in VOLUMES:
        docker("volume", "rm", "-f", vol, check=False)


class Stack:
    def __init__(self, tmp):
        self.tmp = tmp
        self.secrets = {
            "postgresql_password": "bakPg-" + secrets.token_hex(10),
            "redis_password": "bakRd-" + secrets.token_hex(10),
            "n8n_encryption_key": "bakKey-" + secrets.token_hex(16),
        }
        self.cred_secret = "bakCredValue-" + secrets.token_hex(12)
        self.vault_password = "bakVault-" + secrets.token_hex(8)
        self.sets = tmp / "sets"

    def host_vars(self, **extra):
        values = dict(
            ansible_connection="local", ansible_python_interpreter=python_interpreter(),
            arizu_docker_network=NET,
            postgresql_image="arizu-local/postgres:15", redis_image="arizu-local/redis:7",
            n8n_image="arizu-local/n8n:1.123.81", app_image="arizu-local/app:1.0.0",
            postgresql_container_name=PG, redis_container_name=REDIS, n8n_container_name=N8N,
            app_container_name=APP,
            postgresql_data_volume=VOLUMES[0], redis_data_volume=VOLUMES[1], n8n_data_volume=VOLUMES[2],
            postgresql_published_port=PG_PORT, redis_published_port=REDIS_PORT, n8n_published_port=N8N_PORT,
            app_published_port=APP_PORT, redis_config_dir=str(self.tmp / "redis-conf"),
            postgresql_memory="512m", n8n_memory="1g",
            arizu_app_url="http://127.0.0.1:%d" % APP_PORT, arizu_n8n_url="http://127.0.0.1:%d" % N8N_PORT,
            postgresql_backup_tool_name_prefix=TOOLS, postgresql_restore_tool_name_prefix=TOOLS,
            n8n_backup_tool_name_prefix=TOOLS, n8n_restore_tool_name_prefix=TOOLS,
            redis_backup_tool_name_prefix=TOOLS, redis_restore_tool_name_prefix=TOOLS,
            full_backup_dir=str(self.sets),
        )
        values.update(self.secrets)
        values.update(extra)
        return values

    def play(self, playbook, extra_vars=None, check=False, host_vars=None, timeout=900):
        """ansible-playbook with an inventory (0600) holding the stack's variables; (rc, output)."""
        ensure_collection_link()
        run = self.tmp / ("run-%s" % secrets.token_hex(3))
        run.mkdir()
        inventory = run / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"all": {"children": {"docker_hosts": {"hosts": {
            "localhost": self.host_vars(**(host_vars or {}))}}}}}))
        inventory.chmod(0o600)
        cfg = run / "ansible.cfg"
        cfg.write_text("[defaults]\nretry_files_enabled = False\ncallback_result_format = yaml\n")
        argv = [_tool("ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / playbook)]
        if extra_vars:
            vars_file = run / "extra.yml"
            vars_file.write_text(yaml.safe_dump(extra_vars))
            vars_file.chmod(0o600)
            argv += ["-e", "@%s" % vars_file]
        if check:
            argv.append("--check")
        env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
                   ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(run / "tmp"))
        started = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout, env=env,
                              cwd=str(run))
        output = proc.stdout + proc.stderr
        (run / "output.txt").write_text(output)
        for value in list(self.secrets.values()) + [self.cred_secret, self.vault_password]:
            assert value not in output, "a seeded secret appears in the output of %s" % playbook
        return proc.returncode, output, time.monotonic() - started

    # ---------------------------------------------------------------- data

    def pg(self, sql, dbname="arizu"):
        conn = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="arizu",
                                password=self.secrets["postgresql_password"], dbname=dbname, connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def seed(self):
        self.pg("CREATE SCHEMA IF NOT EXISTS app")
        self.pg("CREATE TABLE accounts (id int PRIMARY KEY, name text, balance numeric(12,2))")
        self.pg("INSERT INTO accounts SELECT g, 'acct ' || g, g * 1.25 FROM generate_series(1, 40000) g")
        self.pg("CREATE TABLE ledger (id bigserial PRIMARY KEY, account int REFERENCES accounts, amount numeric, "
                "note text)")
        self.pg("INSERT INTO ledger (account, amount, note) SELECT 1 + g % 40000, g / 3.0, md5(g::text) "
                "FROM generate_series(1, 35000) g")
        self.pg("CREATE TABLE app.events (id int PRIMARY KEY, payload jsonb)")
        self.pg("INSERT INTO app.events SELECT g, jsonb_build_object('n', g, 's', md5(g::text)) "
                "FROM generate_series(1, 25000) g")
        # n8n: workflows and a credential, imported with n8n's CLI (the credential's data as plain JSON is
        # encrypted by the import with the configured key); the secret goes in through stdin only
        seed = "/tmp/bak-seed"
        docker("exec", "-u", "node", N8N, "sh", "-c", "rm -rf %s && mkdir -p %s/wf %s/cred" % (seed, seed, seed))
        for number in range(1, WORKFLOWS + 1):
            workflow = {"id": "bakWf%011d" % number, "name": "backup seed %d" % number, "active": False,
                        "nodes": [{"parameters": {}, "id": "1f3c2a1e-0000-4000-8000-00000000000%d" % number,
                                   "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                                   "position": [0, 0]}],
                        "connections": {}, "settings": {}}
            docker("exec", "-i", "-u", "node", N8N, "sh", "-c", "cat > %s/wf/%d.json" % (seed, number),
                   input_text=json.dumps(workflow))
        credential = {"id": "bakCred000001", "name": "backup seed credential", "type": "httpHeaderAuth",
                      "data": {"name": "X-Api-Key", "value": self.cred_secret}}
        docker("exec", "-i", "-u", "node", N8N, "sh", "-c", "cat > %s/cred/1.json" % seed,
               input_text=json.dumps(credential))
        docker("exec", "-u", "node", N8N, "n8n", "import:credentials", "--separate", "--input=%s/cred" % seed)
        docker("exec", "-u", "node", N8N, "n8n", "import:workflow", "--separate", "--input=%s/wf" % seed)
        docker("exec", "-u", "node", N8N, "rm", "-rf", seed)
        # Redis: 300 keys through redis-cli's stdin (REDISCLI_AUTH is in the container's environment)
        commands = "".join("SET bak:key:%d value-%d\n" % (i, i) for i in range(300))
        docker("exec", "-i", REDIS, "redis-cli", input_text=commands)

    def checksums(self):
        result = {}
        for table in TABLES:
            result[table] = self.pg("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM %s t"
                                    % table)[0]
        return result

    def n8n_export(self, what, decrypted=False):
        """IDs (and for credentials with decrypted=True the data) exported by n8n's CLI in the container."""
        folder = "/tmp/bak-check-%s" % what
        argv = ["exec", "-u", "node", N8N, "sh", "-c",
                'rm -rf "$0" && mkdir -p "$0" && n8n export:%s --all --separate --output="$0/" %s >/dev/null 2>&1; '
                'cat "$0"/*.json 2>/dev/null | head -c 1000000; echo; rm -rf "$0"' % (what, "--decrypted" if
                                                                                      decrypted else ""), folder]
        out = docker(*argv, check=False).stdout
        items = []
        decoder = json.JSONDecoder()
        index = 0
        while True:
            match = re.compile(r"\S").search(out, index)
            if not match:
                break
            item, index = decoder.raw_decode(out, match.start())
            items.append(item)
        return items

    def redis_keys(self):
        out = docker("exec", REDIS, "redis-cli", "--scan", "--pattern", "bak:key:*").stdout.split()
        value = docker("exec", REDIS, "redis-cli", "get", "bak:key:123").stdout.strip()
        return len(out), value

    def started_at(self, name):
        return docker("inspect", "-f", "{{.State.StartedAt}}", name).stdout.strip()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    for image in ("arizu-local/n8n:1.123.81", "arizu-local/app:1.0.0", "arizu-local/postgres:15"):
        docker("image", "inspect", image)
    destroy()
    tmp = tmp_path_factory.mktemp("bak")
    st = Stack(tmp)
    try:
        for attempt in range(3):
            rc, output, _log = st.play("site.yml")
            # a published port may be briefly taken by an ephemeral port of another connection
            if rc == 0 or "address already in use" not in output or attempt == 2:
                break
            destroy()
            time.sleep(3)
        assert rc == 0, output[-4000:]
        st.seed()
        yield st
    finally:
        destroy()
        docker("network", "rm", NET, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def test_full_backup_then_disaster_recovery_round_trip(stack):
    before = stack.checksums()
    assert {t: c[0] for t, c in before.items()} == TABLES and sum(TABLES.values()) == 100000
    workflows = sorted(w["id"] for w in stack.n8n_export("workflow"))
    credentials = stack.n8n_export("credentials", decrypted=True)
    assert len(workflows) == WORKFLOWS and len(credentials) == 1
    assert credentials[0]["data"]["value"] == stack.cred_secret
    assert stack.redis_keys() == (300, "value-123")

    rc, output, _log = stack.play("full_backup.yml", extra_vars={"full_backup_vault_password": stack.vault_password})
    assert rc == 0, output[-4000:]
    sets = sorted(p.name for p in stack.sets.iterdir() if p.name.startswith("set-"))
    assert len(sets) == 1, sets
    set_dir = stack.sets / sets[0]
    manifest = json.loads((set_dir / "set.json").read_text())
    assert manifest["verified"] is True and set(manifest["components"]) == {"postgres", "n8n", "redis", "state"}
    n8n_part = manifest["components"]["n8n"]
    assert (n8n_part["workflows"], n8n_part["credentials"]) == (WORKFLOWS, 1)
    assert manifest["components"]["redis"]["keys"] >= 300
    n8n_manifest = json.loads((set_dir / "n8n" / (n8n_part["file"] + ".json")).read_text())
    assert n8n_manifest["encryption_key_sha256"] == __import__("hashlib").sha256(
        stack.secrets["n8n_encryption_key"].encode()).hexdigest()
    # private files; no secret in plain text anywhere in the set except the n8n archive's config (the key) and
    # the vault file, which holds them encrypted
    for path in set_dir.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode in (0o600, 0o700), "%s has mode %o" % (path, mode)
        if path.is_file() and not path.name.endswith(".tar.gz") and path.suffix not in (".dump", ".rdb"):
            text = path.read_text(errors="replace")
            for value in list(stack.secrets.values()) + [stack.cred_secret]:
                assert value not in text, "a secret is in plain text in %s" % path.name
    state = json.loads((set_dir / "state" / "deploy-state.json").read_text())
    n8n_state = next(c for c in state["containers"] if c["name"] == N8N)
    assert "N8N_ENCRYPTION_KEY" in n8n_state["secret_env_names"] and "N8N_ENCRYPTION_KEY" not in n8n_state["env"]
    assert (set_dir / "state" / "secrets.vault.yml").read_text().startswith("$ANSIBLE_VAULT;")

    # the disaster: containers AND volumes gone
    destroy()
    assert not docker("volume", "ls", "-q", "--filter", "name=" + P).stdout.strip()

    rc, output, _log = stack.play("disaster_recovery.yml")
    assert rc != 0 and "Refusing the disaster recovery" in output, output[-3000:]
    rc, output, seconds = stack.play("disaster_recovery.yml", extra_vars={"disaster_recovery_confirm": sets[0]})
    assert rc == 0, output[-6000:]
    found = re.search(r"Recovered localhost from (set-\S+) in ([0-9.]+) s", output)
    assert found and found.group(1) == sets[0], output[-3000:]
    print("disaster recovery: %s s measured by the playbook, %.1f s wall" % (found.group(2), seconds))

    assert stack.checksums() == before
    assert sorted(w["id"] for w in stack.n8n_export("workflow")) == workflows
    restored = stack.n8n_export("credentials", decrypted=True)
    assert len(restored) == 1 and restored[0]["data"]["value"] == stack.cred_secret, "the credential no longer decrypts"
    assert stack.redis_keys() == (300, "value-123")
    assert not docker("ps", "-aq", "--filter", "name=^" + TOOLS).stdout.strip(), "a helper container was left"


def _n8n_volume_listing():
    return docker("run", "--rm", "-v", VOLUMES[2] + ":/d:ro", "--entrypoint", "sh", "arizu-local/n8n:1.123.81",
                  "-c", "cd /d && find . -type f | sort | xargs sha256sum").stdout


def test_n8n_restore_with_another_key_is_refused_untouched(stack):
    sets = sorted(p for p in stack.sets.iterdir() if p.name.startswith("set-"))
    assert sets, "needs the set of the round trip"
    n8n_dir = str(sets[-1] / "n8n")
    started, listing = stack.started_at(N8N), _n8n_volume_listing()
    other_key = "bakOther-" + secrets.token_hex(16)
    stack.secrets["other_key"] = other_key
    rc, output, _log = stack.play("restore_n8n.yml", host_vars={"n8n_encryption_key": other_key},
                                  extra_vars={"n8n_restore_dir": n8n_dir, "n8n_restore_confirm": N8N})
    assert rc != 0
    assert "encryption key mismatch" in output and "Nothing was changed" in output, output[-3000:]
    assert stack.started_at(N8N) == started and _n8n_volume_listing() == listing

    # check mode with the right key: the plan, nothing touched
    rc, output, _log = stack.play("restore_n8n.yml", check=True, extra_vars={"n8n_restore_dir": n8n_dir})
    assert rc == 0 and "check mode: nothing was changed" in output and "fingerprints match" in output, output[-3000:]
    assert stack.started_at(N8N) == started


def test_corrupted_n8n_archive_is_refused_untouched(stack, tmp_path):
    sets = sorted(p for p in stack.sets.iterdir() if p.name.startswith("set-"))
    source = sets[-1] / "n8n"
    copy = tmp_path / "n8n"
    shutil.copytree(source, copy)
    archive = next(copy.glob("n8n-*.tar.gz"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    started, listing = stack.started_at(N8N), _n8n_volume_listing()
    rc, output, _log = stack.play("restore_n8n.yml", extra_vars={"n8n_restore_dir": str(copy),
                                                                 "n8n_restore_confirm": N8N})
    assert rc != 0 and "is not the one that was backed up" in output and "sha256" in output, output[-3000:]
    assert stack.started_at(N8N) == started and _n8n_volume_listing() == listing
