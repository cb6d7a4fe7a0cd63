# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/backup_postgres.yml and playbooks/restore_postgres.yml against a real PostgreSQL 15.

A throwaway server (scratch-backup-pg, 127.0.0.1:55611) with a few seeded
tables, and a throwaway "writer" container (scratch-backup-writer) that the
restore must stop and start again. The playbooks run with ansible-playbook
against an inventory of localhost (local connection, the virtualenv's
Python); the password reaches them only through a 0600 vars file and must
never appear in any output. Each test has its own backup folder. Without
Docker the tests fail; they are never skipped.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
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
    remove_container,
    require_docker,
    start_container,
    wait_for,
)

NAME = "scratch-backup-pg"
WRITER = "scratch-backup-writer"
IMAGE = "arizu-local/postgres:15"
PORT = 55611
TOOL_PREFIX = "scratch-pg-tool"
SEED = {"public.customers": 3000, "public.orders": 5000, "app.events": 1200}


class Server:
    def __init__(self, password):
        self.password = password

    def connect(self, **extra):
        return psycopg2.connect(host="127.0.0.1", port=PORT, user="arizu", password=self.password,
                                dbname=extra.pop("dbname", "arizu"), connect_timeout=5, **extra)

    def query(self, sql, args=None, dbname="arizu"):
        conn = self.connect(dbname=dbname)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def counts(self):
        return {table: self.query("SELECT count(*) FROM %s" % table)[0][0] for table in SEED}

    def tables(self):
        return {"%s.%s" % row for row in self.query(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")}

    def databases(self):
        return {row[0] for row in self.query("SELECT datname FROM pg_database")}


@pytest.fixture(scope="module")
def server():
    require_docker()
    password = "bkPw-" + secrets.token_hex(12)
    start_container(NAME, IMAGE, {"POSTGRES_USER": "arizu", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "arizu"},
                    PORT, 5432)
    remove_container(WRITER)
    proc = subprocess.run(["docker", "run", "-d", "--init", "--name", WRITER, "--entrypoint", "sleep",
                           "--health-cmd", "true", "--health-interval", "1s", IMAGE, "infinity"],
                          capture_output=True, text=True, check=False, timeout=120)
    try:
        assert proc.returncode == 0, proc.stderr
        srv = Server(password)
        wait_for(lambda: srv.query("SELECT 1"), 120, "PostgreSQL in " + NAME)
        srv.query("CREATE SCHEMA app")
        srv.query("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)")
        srv.query("INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 3000) g")
        srv.query("CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers, "
                  "amount numeric(10, 2), note text)")
        srv.query("INSERT INTO orders (customer_id, amount, note) SELECT 1 + g % 3000, g / 7.0, md5(g::text) "
                  "FROM generate_series(1, 5000) g")
        srv.query("CREATE TABLE app.events (at timestamptz DEFAULT now(), payload jsonb)")
        srv.query("INSERT INTO app.events (payload) SELECT jsonb_build_object('n', g) FROM generate_series(1, 1200) g")
        assert srv.counts() == SEED
        wait_for(lambda: _writer_state() == ("running", "healthy"), 60, "the writer to be healthy")
        yield srv
    finally:
        for name in (WRITER, NAME):
            remove_container(name)
        _remove_tool_containers()


def _remove_tool_containers():
    proc = subprocess.run(["docker", "ps", "-aq", "--filter", "name=^" + TOOL_PREFIX], capture_output=True,
                          text=True, check=False)
    for cid in proc.stdout.split():
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)


def _writer_state():
    proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}"
                           "{{end}}", WRITER], capture_output=True, text=True, check=False)
    words = proc.stdout.split()
    return tuple(words) if len(words) == 2 else (words[0] if words else "missing", None)


def _writer_started_at():
    return subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", WRITER], capture_output=True,
                          text=True, check=False).stdout.strip()


@pytest.fixture(autouse=True)
def _tool_containers_leave_nothing(server):
    """No tool container is left, and none made a (anonymous) volume: the image's PGDATA VOLUME gets a tmpfs."""
    events = subprocess.Popen(  # pylint: disable=consider-using-with
        ["docker", "events", "--since", str(int(time.time()) - 1), "--format", "{{json .}}",
         "--filter", "type=container", "--filter", "type=volume"], stdout=subprocess.PIPE, text=True)
    yield
    proc = subprocess.run(["docker", "ps", "-aq", "--filter", "name=^" + TOOL_PREFIX], capture_output=True,
                          text=True, check=False)
    time.sleep(1)
    events.terminate()
    output = events.communicate(timeout=30)[0]
    assert proc.stdout.strip() == "", "a tool container was left behind"
    tools = set()
    mounted = []
    for line in output.splitlines():
        event = json.loads(line)
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        if event.get("Type") == "container" and event.get("Action") == "create" and \
                attributes.get("name", "").startswith(TOOL_PREFIX):
            tools.add(actor.get("ID"))
        elif event.get("Type") == "volume" and event.get("Action") == "mount":
            mounted.append(attributes.get("container"))
    assert not tools & set(mounted), "a tool container mounted a volume"


def play(server, tmp_path, playbook, check=False, password=None, **overrides):
    """Run a playbook of the collection; (rc, output). The password never appears in the output."""
    ensure_collection_link()
    run_dir = tmp_path / ("run-%s" % secrets.token_hex(3))
    run_dir.mkdir()
    inventory = run_dir / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"docker_hosts": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": python_interpreter()}}}}}}))
    variables = {
        "postgresql_container_name": NAME,
        "postgresql_password": server.password if password is None else password,
        "postgresql_backup_dir": str(tmp_path / "backups"),
        "postgresql_backup_tool_name_prefix": TOOL_PREFIX,
        "postgresql_restore_tool_name_prefix": TOOL_PREFIX,
        # never the demo's arizu-app / arizu-n8n
        "postgresql_restore_writers": [WRITER, "scratch-backup-no-such-writer"],
        "postgresql_restore_writers_timeout": 60,
    }
    variables.update(overrides)
    vars_file = run_dir / "vars.yml"
    vars_file.write_text(yaml.safe_dump(variables))
    vars_file.chmod(0o600)
    cfg = run_dir / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = False\ncallback_result_format = yaml\n")
    argv = [_tool("ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / playbook), "-e", "@%s" % vars_file]
    if check:
        argv.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
               ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(run_dir / "tmp"))
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600, env=env, cwd=str(run_dir))
    output = proc.stdout + proc.stderr
    assert server.password not in output, "the database password appears in the output of %s" % playbook
    if password:
        assert password not in output, "the given password appears in the output of %s" % playbook
    return proc.returncode, output


def backups(folder):
    """Names of the backups (data entries) in a folder, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("backup-") and p.suffix in (".dump", ".dir"))


def manifest(folder, name):
    return json.loads((folder / (name + ".json")).read_text())


def mode(path):
    return oct(path.stat().st_mode & 0o777)


def backup_ok(server, tmp_path, **overrides):
    before = set(backups(tmp_path / "backups"))
    rc, out = play(server, tmp_path, "backup_postgres.yml", **overrides)
    assert rc == 0, out[-4000:]
    new = sorted(set(backups(tmp_path / "backups")) - before)
    assert len(new) == 1, (new, out[-2000:])
    return new[0], out


# ---------------------------------------------------------------- backup

def test_backup_is_verified_checksummed_and_private(server, tmp_path):
    name, out = backup_ok(server, tmp_path)
    folder = tmp_path / "backups"
    assert name.endswith(".dump") and "verified (pg_restore --list)" in out
    path = folder / name
    assert path.read_bytes()[:5] == b"PGDMP"
    assert mode(folder) == "0o700"
    for item in (path, folder / (name + ".sha256"), folder / (name + ".json")):
        assert mode(item) == "0o600", item
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (folder / (name + ".sha256")).read_text() == "%s  %s\n" % (digest, name)
    assert subprocess.run(["sha256sum", "-c", name + ".sha256"], cwd=folder, capture_output=True,
                          check=False).returncode == 0
    doc = manifest(folder, name)
    assert doc["verified"] is True and doc["name"] == name and doc["kind"] == "backup"
    assert doc["database"] == "arizu" and doc["format"] == "custom"
    assert doc["sha256"] == digest and doc["size_bytes"] == path.stat().st_size
    assert doc["server_version"].startswith("15.") and doc["pg_dump_version"].startswith("pg_dump (PostgreSQL) 15.")
    assert doc["row_counts"] == SEED  # every table counted exactly (small database)
    assert doc["verification"]["pg_restore_list"] is True and doc["verification"]["pg_dump_exit"] == 0
    assert doc["source"] == {"mode": "container", "container": NAME, "image": IMAGE}
    assert doc["duration_seconds"] > 0
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_directory_format_with_jobs_and_restore_test(server, tmp_path):
    name, out = backup_ok(server, tmp_path, postgresql_backup_format="directory", postgresql_backup_jobs=2,
                          postgresql_backup_verify_restore=True, postgresql_backup_key_tables=["orders"])
    folder = tmp_path / "backups"
    assert name.endswith(".dir") and "restore test" in out
    assert mode(folder / name) == "0o700"
    assert all(mode(p) == "0o600" for p in (folder / name).iterdir())
    assert (folder / name / "toc.dat").read_bytes()[:5] == b"PGDMP"
    doc = manifest(folder, name)
    assert doc["format"] == "directory" and doc["jobs"] == 2
    assert doc["verification"]["restore_test"]["passed"] is True
    assert doc["row_counts"] == SEED  # the restore test counts every table
    assert set(doc["files"]) == {"%s/%s" % (name, p.name) for p in (folder / name).iterdir()}
    assert subprocess.run(["sha256sum", "-c", name + ".sha256"], cwd=folder, capture_output=True,
                          check=False).returncode == 0
    assert not {d for d in server.databases() if d.startswith("arizu_verify_")}


def test_backup_check_mode_writes_nothing(server, tmp_path):
    rc, out = play(server, tmp_path, "backup_postgres.yml", check=True)
    assert rc == 0, out[-3000:]
    assert "would back up arizu (custom format)" in out
    assert not (tmp_path / "backups").exists()


def test_retention_keeps_the_newest_and_ignores_unverified(server, tmp_path):
    folder = tmp_path / "backups"
    first, _out = backup_ok(server, tmp_path, postgresql_backup_keep_last=2)
    # a failed run's leftover: an older file without a manifest is not a backup
    stray = folder / "backup-2000-01-01-000000.dump"
    stray.write_bytes(b"PGDMP garbage")
    # and one whose manifest does not say verified
    (folder / "backup-2000-01-02-000000.dump").write_bytes(b"PGDMP")
    (folder / "backup-2000-01-02-000000.dump.json").write_text(json.dumps({"name": "backup-2000-01-02-000000.dump",
                                                                           "verified": False}))
    time.sleep(1.1)
    second, _out = backup_ok(server, tmp_path, postgresql_backup_keep_last=2)
    time.sleep(1.1)
    third, out = backup_ok(server, tmp_path, postgresql_backup_keep_last=2)
    assert "retention kept 2, deleted 1" in out
    names = backups(folder)
    assert first not in names and not (folder / (first + ".json")).exists()
    assert not (folder / (first + ".sha256")).exists()
    assert {second, third} <= set(names)
    assert stray.exists() and (folder / "backup-2000-01-02-000000.dump").exists()
    # keep_last 1 keeps the newest only; keep_last 0 with keep_days 0 turns retention off
    rc, out = play(server, tmp_path, "backup_postgres.yml", postgresql_backup_keep_last=1)
    assert rc == 0 and "retention kept 1, deleted 2" in out, out[-2000:]
    assert len([n for n in backups(folder) if (folder / (n + ".json")).exists()
                and manifest(folder, n).get("verified") is True]) == 1


def test_two_backups_at_once_the_second_refuses(server, tmp_path):
    """The first backup hangs in pg_dump (the test holds a table lock), holding the folder's lock."""
    blocker = server.connect()
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    results = {}

    def first():
        results["first"] = play(server, tmp_path, "backup_postgres.yml")

    thread = threading.Thread(target=first)
    thread.start()
    try:
        lock_file = tmp_path / "backups" / ".lock"
        wait_for(lambda: lock_file.exists() and "backup of arizu pid" in lock_file.read_text(), 120,
                 "the first backup to take the lock")
        wait_for(lambda: server.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'arizu.ops.pg_backup' "
                                      "AND wait_event_type = 'Lock'")[0][0] > 0, 60, "pg_dump to wait")
        started = time.monotonic()
        rc, out = play(server, tmp_path, "backup_postgres.yml")
        assert rc != 0
        assert "another backup or restore is running in %s" % (tmp_path / "backups") in out
        assert "refusing at once" in out
        assert time.monotonic() - started < 60
    finally:
        blocker.rollback()
        blocker.close()
        thread.join(300)
    rc, out = results["first"]
    assert rc == 0, out[-3000:]
    assert len(backups(tmp_path / "backups")) == 1


def test_second_backup_waits_for_the_lock(server, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    handle = open(folder / ".lock", "a")  # pylint: disable=consider-using-with
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    timer = threading.Timer(4, lambda: (fcntl.flock(handle.fileno(), fcntl.LOCK_UN), handle.close()))
    timer.start()
    try:
        name, _out = backup_ok(server, tmp_path, postgresql_backup_lock_wait=90)
        assert manifest(folder, name)["verified"] is True
    finally:
        timer.join()


@pytest.fixture()
def small_dir(tmp_path):
    """A 1 MiB tmpfs as the backup folder (unmounted at the end)."""
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail("cannot mount a tmpfs (this test needs root): %s" % proc.stderr.strip())
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def test_backup_folder_too_small_fails_before_writing(server, tmp_path, small_dir):
    # first backup: judged against the database's size (over 1 MiB): refused, nothing written
    rc, out = play(server, tmp_path, "backup_postgres.yml")
    assert rc != 0
    assert "not enough free space in %s" % small_dir in out
    assert "the size of the database, as there is no verified backup yet); nothing was written" in out
    assert backups(small_dir) == [] and [p.name for p in small_dir.iterdir()] == [".lock"]

    # with a verified backup there (taken elsewhere: the first could not be taken here), the next backup is
    # judged against its size
    source = tmp_path / "elsewhere"
    rc, out = play(server, tmp_path, "backup_postgres.yml", postgresql_backup_dir=str(source))
    assert rc == 0, out[-3000:]
    good = backups(source)[0]
    for suffix in ("", ".sha256", ".json"):
        shutil.copy2(source / (good + suffix), small_dir / (good + suffix))
    size = (small_dir / good).stat().st_size
    filler = small_dir / "filler"
    free = shutil.disk_usage(small_dir).free
    filler.write_bytes(b"\0" * (free - int(size * 1.1)))  # leaves less than 1.2 x the last backup
    before = sorted(p.name for p in small_dir.iterdir())
    rc, out = play(server, tmp_path, "backup_postgres.yml")
    assert rc != 0
    assert "not enough free space" in out and "the size of the last verified backup); nothing was written" in out
    assert sorted(p.name for p in small_dir.iterdir()) == before
    assert (small_dir / good).stat().st_size == size

    # room for 1.2 x the last one, but the dump grew past the folder: pg_dump fails, no file is left
    filler.unlink()
    server.query("CREATE TABLE bulk AS SELECT g, md5(g::text) || md5((g * 7)::text) AS h "
                 "FROM generate_series(1, 60000) g")
    try:
        rc, out = play(server, tmp_path, "backup_postgres.yml", postgresql_backup_keep_last=1)
        assert rc != 0
        assert "No space left on device" in out, out[-3000:]
        assert "writing the dump failed (tee exit 1)" in out
        assert sorted(p.name for p in small_dir.iterdir() if p.name != "filler") == sorted(
            n for n in before if n != "filler")
        assert (small_dir / good).exists()  # retention did not run
    finally:
        server.query("DROP TABLE bulk")


def test_wrong_password_in_client_mode_fails_and_keeps_nothing(server, tmp_path):
    folder = tmp_path / "backups"
    client = dict(postgresql_backup_client_image=IMAGE, postgresql_backup_client_host="127.0.0.1",
                  postgresql_backup_client_network="host", postgresql_backup_port=PORT)
    good, _out = backup_ok(server, tmp_path, postgresql_backup_keep_last=1, **client)
    doc = manifest(folder, good)
    assert doc["source"] == {"mode": "client", "image": IMAGE, "host": "127.0.0.1", "port": PORT}
    assert doc["row_counts"] == SEED
    before = sorted(p.name for p in folder.iterdir())
    wrong = "wrongPw-" + secrets.token_hex(8)
    time.sleep(1.1)
    rc, out = play(server, tmp_path, "backup_postgres.yml", password=wrong, postgresql_backup_keep_last=1, **client)
    assert rc != 0
    assert "backup of arizu failed" in out and "password authentication failed" in out
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing kept, retention untouched


def test_key_table_that_does_not_exist_fails_before_writing(server, tmp_path):
    rc, out = play(server, tmp_path, "backup_postgres.yml", postgresql_backup_key_tables=["public.nope"])
    assert rc != 0 and "key_tables not found in database arizu: public.nope" in out
    assert backups(tmp_path / "backups") == []


# ---------------------------------------------------------------- restore

def restore(server, tmp_path, check=False, **overrides):
    variables = {"postgresql_restore_confirm": "arizu"}
    variables.update(overrides)
    return play(server, tmp_path, "restore_postgres.yml", check=check, **variables)


def _marker(server):
    server.query("CREATE TABLE IF NOT EXISTS marker (id int)")
    server.query("INSERT INTO marker VALUES (1)")


def _untouched(server, started_at):
    assert "public.marker" in server.tables()
    server.query("DROP TABLE marker")
    assert server.counts() == SEED
    assert _writer_state() == ("running", "healthy")
    assert _writer_started_at() == started_at, "the writer was restarted"
    assert not {d for d in server.databases() if "__restore_" in d or "__previous_" in d}


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_backup_is_refused_before_touching_anything(server, tmp_path, damage):
    name, _out = backup_ok(server, tmp_path)
    path = tmp_path / "backups" / name
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    else:
        del data[len(data) - 100:]
    path.write_bytes(bytes(data))
    _marker(server)
    started_at = _writer_started_at()
    rc, out = restore(server, tmp_path)
    assert rc != 0
    assert "%s does not match its checksums" % name in out
    assert not (tmp_path / "backups" / "pre-restore").exists()
    _untouched(server, started_at)


def test_wrong_confirmation_is_refused(server, tmp_path):
    backup_ok(server, tmp_path)
    _marker(server)
    started_at = _writer_started_at()
    rc, out = restore(server, tmp_path, postgresql_restore_confirm="arizu2")
    assert rc != 0
    assert "Refusing to restore into arizu: set postgresql_restore_confirm to the name of the target" in out
    assert not (tmp_path / "backups" / "pre-restore").exists()
    _untouched(server, started_at)
    rc, out = restore(server, tmp_path, postgresql_restore_confirm="")
    assert rc != 0 and "Refusing to restore into arizu" in out


def test_restore_check_mode_prints_the_plan_only(server, tmp_path):
    name, _out = backup_ok(server, tmp_path)
    _marker(server)
    started_at = _writer_started_at()
    rc, out = restore(server, tmp_path, check=True, postgresql_restore_confirm="")
    assert rc == 0, out[-3000:]
    for line in ("backup: %s (custom" % name, "checksums: ok", "target: database arizu in container " + NAME,
                 "confirmation: MISSING (set postgresql_restore_confirm=arizu)",
                 "writers to stop and start again: %s (not found: scratch-backup-no-such-writer)" % WRITER,
                 "row counts checked after the restore: 3 tables", "check mode: nothing was changed"):
        assert line in out, line
    assert not (tmp_path / "backups" / "pre-restore").exists()
    _untouched(server, started_at)


def test_restore_while_a_client_holds_a_connection(server, tmp_path):
    name, _out = backup_ok(server, tmp_path)
    # what the restore must undo: rows gone, rows added, a new table
    server.query("DELETE FROM orders WHERE id > 4000")
    server.query("INSERT INTO customers VALUES (999999, 'late')")
    server.query("CREATE TABLE after_backup (x int)")
    changed = server.counts()
    idle = server.connect(application_name="it-idle-client")
    idle.autocommit = True
    with idle.cursor() as cur:
        cur.execute("SELECT 1")
    started_at = _writer_started_at()

    rc, out = restore(server, tmp_path, postgresql_restore_backup=name)
    assert rc == 0, out[-5000:]
    assert "restored %s (custom" % name in out and "row counts of 3 tables match the manifest" in out
    assert "1 sessions terminated" in out
    assert server.counts() == SEED
    assert "public.after_backup" not in server.tables()
    assert not {d for d in server.databases() if "__restore_" in d or "__previous_" in d}
    with pytest.raises(psycopg2.Error):
        with idle.cursor() as cur:
            cur.execute("SELECT 1")
    idle.close()
    # the writer was stopped and started again, and is healthy
    assert _writer_state() == ("running", "healthy")
    assert _writer_started_at() != started_at
    # the safety backup holds the state before the restore
    safety = tmp_path / "backups" / "pre-restore"
    names = backups(safety)
    assert len(names) == 1
    doc = manifest(safety, names[0])
    assert doc["kind"] == "safety" and doc["verified"] is True
    assert {t: doc["row_counts"][t] for t in SEED} == changed and "public.after_backup" in doc["row_counts"]
    # the latest verified backup is still the one restored (the safety backup is kept apart)
    assert backups(tmp_path / "backups") == [name]
    # connections are allowed again
    assert server.query("SELECT datallowconn FROM pg_database WHERE datname = 'arizu'")[0][0] is True


def test_restore_tells_the_format_from_the_bytes(server, tmp_path):
    """A plain SQL dump named .dump and a custom dump named .sql (no manifests): both restore by name."""
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    for fmt, file_name in (("-Fp", "legacy.dump"), ("-Fc", "legacy.sql")):
        proc = subprocess.run(["docker", "exec", NAME, "pg_dump", "-U", "arizu", "-d", "arizu", fmt],
                              capture_output=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr
        (folder / file_name).write_bytes(proc.stdout)
        (folder / (file_name + ".sha256")).write_text("%s  %s\n" % (hashlib.sha256(proc.stdout).hexdigest(),
                                                                    file_name))
    for file_name, fmt in (("legacy.dump", "plain"), ("legacy.sql", "custom")):
        server.query("DELETE FROM orders WHERE id > 100")
        rc, out = restore(server, tmp_path, postgresql_restore_backup=file_name, postgresql_restore_safety_backup=False,
                          postgresql_restore_writers=[])
        assert rc == 0, out[-4000:]
        assert "restored %s (%s," % (file_name, fmt) in out
        assert "has no manifest: the row counts cannot be checked" in out
        assert server.counts() == SEED
    # no verified backup there: "the latest" is refused
    rc, out = restore(server, tmp_path)
    assert rc != 0 and "no verified backup in %s" % folder in out


def test_failed_restore_leaves_the_target_as_it_was(server, tmp_path):
    """A manifest whose counts do not match what the backup holds: the restore stops before the swap."""
    name, _out = backup_ok(server, tmp_path)
    folder = tmp_path / "backups"
    doc = manifest(folder, name)
    doc["row_counts"]["public.orders"] += 1
    (folder / (name + ".json")).write_text(json.dumps(doc))
    _marker(server)
    rc, out = restore(server, tmp_path, postgresql_restore_safety_backup=False)
    assert rc != 0
    assert "the restored rows differ from the manifest: public.orders 5000 instead of 5001" in out
    assert "the target was not touched" in out
    assert _writer_state() == ("running", "healthy")  # started again after the failure
    assert "public.marker" in server.tables()
    server.query("DROP TABLE marker")
    assert server.counts() == SEED
    assert not {d for d in server.databases() if "__restore_" in d or "__previous_" in d}
    assert server.query("SELECT datallowconn FROM pg_database WHERE datname = 'arizu'")[0][0] is True
