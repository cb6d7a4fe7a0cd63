# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/backup_schedule: the cron path for real in a scratch managed host, the systemd units rendered and verified.

- cron: a throwaway container of arizu-local/managed-host:bookworm (PID 1 is not systemd, so the role picks cron and
  installs it); the wrapper is run by the test (exit status and log lines, for a succeeding and a failing
  playbook) and then by cron itself (every minute in this test); a second run of the role changes nothing;
  state=absent removes it all. The "playbook" is a stand-in executable that records its arguments.
- systemd: the role renders the service and timer under a scratch root (backup_schedule_root) and
  ``systemd-analyze verify`` checks them; the timer keeps the runbook's 02:00 default.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import (  # noqa: E402  pylint: disable=wrong-import-position
    COLLECTIONS_ROOT,
    _tool,
    ensure_collection_link,
    python_interpreter,
    require_docker,
    wait_for,
)

HOST = "scratch-bak-host"
IMAGE = "arizu-local/managed-host:bookworm"
FAKE = "/usr/local/bin/fake-ansible-playbook"
LOG = "/var/log/arizu/backup.log"


def apply_role(tmp_path, host, variables):
    """Apply arizu.ops.backup_schedule to one host; (rc, output)."""
    ensure_collection_link()
    run = tmp_path / ("run-%d" % time.monotonic_ns())
    run.mkdir()
    (run / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"target": host}}}))
    (run / "play.yml").write_text(yaml.safe_dump([{
        "name": "Schedule", "hosts": "all", "gather_facts": False,
        "roles": [{"role": "arizu.ops.backup_schedule"}]}]))
    (run / "vars.yml").write_text(yaml.safe_dump(variables))
    (run / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(run / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(run / "tmp"))
    proc = subprocess.run([_tool("ansible-playbook"), "-i", str(run / "hosts.yml"), str(run / "play.yml"),
                           "-e", "@%s" % (run / "vars.yml")], capture_output=True, text=True, check=False,
                          timeout=600, env=env, cwd=str(run))
    return proc.returncode, proc.stdout + proc.stderr


def sh(command, check=True):
    proc = subprocess.run(["docker", "exec", HOST, "sh", "-c", command], capture_output=True, text=True,
                          check=False, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture()
def host():
    require_docker()
    subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)
    proc = subprocess.run(["docker", "run", "-d", "--name", HOST, IMAGE, "sleep", "infinity"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    try:
        sh("printf '#!/bin/sh\\necho \"fake playbook: $*\"\\nexit $(cat /tmp/fake-rc 2>/dev/null || echo 0)\\n' > %s"
           " && chmod 0755 %s" % (FAKE, FAKE))
        yield {"ansible_connection": "community.docker.docker", "ansible_host": HOST,
               "ansible_python_interpreter": "/usr/bin/python3"}
    finally:
        subprocess.run(["docker", "rm", "-f", HOST], capture_output=True, check=False)


def test_cron_schedule_runs_the_wrapper(host, tmp_path):
    variables = {"backup_schedule_ansible_playbook": FAKE, "backup_schedule_cron": "* * * * *",
                 "backup_schedule_playbook": "/opt/arizu/ops/playbooks/full_backup.yml",
                 "backup_schedule_inventory": "/opt/arizu/ops/inventories/production",
                 "backup_schedule_extra_args": ["-e", "full_backup_keep_last=14"]}
    rc, output = apply_role(tmp_path, host, variables)
    assert rc == 0, output[-3000:]
    cron = sh("cat /etc/cron.d/arizu-backup && stat -c %a /etc/cron.d/arizu-backup /usr/local/sbin/arizu-backup").stdout
    assert "* * * * * root /usr/local/sbin/arizu-backup" in cron and "644\n750" in cron

    # the wrapper itself: success, then a failing playbook (non-zero exit, logged)
    assert sh("/usr/local/sbin/arizu-backup", check=False).returncode == 0
    sh("echo 3 > /tmp/fake-rc")
    assert sh("/usr/local/sbin/arizu-backup", check=False).returncode == 3
    log = sh("cat %s" % LOG).stdout
    assert "fake playbook: -i /opt/arizu/ops/inventories/production /opt/arizu/ops/playbooks/full_backup.yml " \
           "-e full_backup_keep_last=14" in log
    assert "end ok (exit 0)" in log and "end FAILED (exit 3)" in log

    # cron runs it by itself
    sh("echo 0 > /tmp/fake-rc && : > %s && cron" % LOG)
    wait_for(lambda: "end ok (exit 0)" in sh("cat %s" % LOG, check=False).stdout, 75, "cron to run the backup")

    rc, output = apply_role(tmp_path, host, variables)
    assert rc == 0 and "changed=0" in output, output[-3000:]
    rc, output = apply_role(tmp_path, host, dict(variables, backup_schedule_state="absent"))
    assert rc == 0, output[-3000:]
    assert sh("test -e /etc/cron.d/arizu-backup || test -e /usr/local/sbin/arizu-backup", check=False).returncode == 1


def test_systemd_units_render_and_verify(tmp_path):
    root = tmp_path / "root"
    local = {"ansible_connection": "local", "ansible_python_interpreter": python_interpreter()}
    variables = {"backup_schedule_root": str(root), "backup_schedule_method": "systemd",
                 "backup_schedule_ansible_playbook": "/usr/bin/true"}
    rc, output = apply_role(tmp_path, local, variables)
    assert rc == 0, output[-3000:]
    timer = (root / "etc/systemd/system/arizu-backup.timer").read_text()
    service = (root / "etc/systemd/system/arizu-backup.service").read_text()
    assert "OnCalendar=*-*-* 02:00:00" in timer and "Persistent=true" in timer
    assert "ExecStart=/usr/local/sbin/arizu-backup" in service and "Type=oneshot" in service
    assert (root / "usr/local/sbin/arizu-backup").stat().st_mode & 0o777 == 0o750
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed to verify the units"
    # the scratch root needs the system's own units (sysinit.target, timers.target ...) beside ours
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    proc = subprocess.run([analyze, "verify", "--root=%s" % root, "/etc/systemd/system/arizu-backup.timer",
                           "/etc/systemd/system/arizu-backup.service"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rc, output = apply_role(tmp_path, local, variables)
    assert rc == 0 and "changed=0" in output, output[-3000:]
    # and verify notices a broken schedule (the check can fail)
    broken = root / "etc/systemd/system/arizu-backup.timer"
    broken.write_text(timer.replace("OnCalendar=*-*-* 02:00:00", "OnCalendar=not a time"))
    proc = subprocess.run([analyze, "verify", "--root=%s" % root, "/etc/systemd/system/arizu-backup.timer"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
