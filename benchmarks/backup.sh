#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Backup and restore against the raw tools, and the disaster recovery time (issue 5, acceptance).
#
# Deploys a scratch stack with site.yml's roles (scratch-bak-bench-*: network, containers, volumes; 127.0.0.1
# ports 56250-56253), then for each database size in SIZES (GB; default "1 4", e.g. SIZES="0.2 0.5" for a quick
# run) fills the app's database with three large tables and measures, each once:
#   backup   playbooks/backup_postgres.yml (-Fc)        vs raw `docker exec pg_dump -Fc > file`
#   restore  playbooks/restore_postgres.yml             vs raw `pg_restore` (single job) into a new database
#   -Fd -j2  backup_postgres.yml format=directory jobs=2 vs the raw single-job pg_dump -Fc
#   memory   peak RSS of ansible-playbook and every process under it (module included), polled every 0.1 s,
#            and /usr/bin/time's largest single process
# then fits time = intercept + slope x GB for each method, and finally takes full_backup.yml at the largest size,
# removes the stack's containers AND volumes and runs disaster_recovery.yml, printing its measured recovery time.
# Not part of make test. Everything it made is removed at the end (trap).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$here/.venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$here/.state/collections ANSIBLE_NOCOLOR=1
export BENCH_ROOT=$here SIZES=${SIZES:-1 4}
exec python3 - "$@" <<'PY'
import json, os, secrets, shutil, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.environ['BENCH_ROOT']
SIZES = [float(x) for x in os.environ['SIZES'].split()]
P = 'scratch-bak-bench'
PG, REDIS, N8N, APP, NET = P + '-pg', P + '-redis', P + '-n8n', P + '-app', P + '-net'
VOLUMES = [P + '-pg-data', P + '-redis-data', P + '-n8n-data']
work = tempfile.mkdtemp(prefix='bak-bench-')
os.chmod(work, 0o700)
secret = dict(postgresql_password='bench-' + secrets.token_hex(10), redis_password='bench-' + secrets.token_hex(10),
              n8n_encryption_key='bench-' + secrets.token_hex(16))


def sh(argv, **kw):
    kw.setdefault('check', True)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def destroy(volumes=True):
    for name in (APP, N8N, REDIS, PG):
        sh(['docker', 'rm', '-f', '-v', name], check=False)
    for cid in sh(['docker', 'ps', '-aq', '--filter', 'name=^' + P + '-tool'], check=False).stdout.split():
        sh(['docker', 'rm', '-f', cid], check=False)
    if volumes:
        for vol in VOLUMES:
            sh(['docker', 'volume', 'rm', '-f', vol], check=False)


host = dict(ansible_connection='local', ansible_python_interpreter=os.path.join(ROOT, '.venv/bin/python'),
            arizu_docker_network=NET, postgresql_image='arizu-local/postgres:15', redis_image='arizu-local/redis:7',
            n8n_image='arizu-local/n8n:1.123.81', app_image='arizu-local/app:1.0.0', postgresql_container_name=PG,
            redis_container_name=REDIS, n8n_container_name=N8N, app_container_name=APP,
            postgresql_data_volume=VOLUMES[0], redis_data_volume=VOLUMES[1], n8n_data_volume=VOLUMES[2],
            postgresql_published_port=56250, redis_published_port=56251, n8n_published_port=56252,
            app_published_port=56253, redis_config_dir=work + '/redis-conf', postgresql_memory='2g',
            arizu_app_url='http://127.0.0.1:56253', arizu_n8n_url='http://127.0.0.1:56252',
            full_backup_dir=work + '/sets', postgresql_restore_writers=[],
            **{k + '_tool_name_prefix': P + '-tool' for k in ('postgresql_backup', 'postgresql_restore', 'n8n_backup',
                                                               'n8n_restore', 'redis_backup', 'redis_restore')})
host.update(secret)
inventory = work + '/hosts.yml'
with open(os.open(inventory, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
    json.dump({'all': {'children': {'docker_hosts': {'hosts': {'localhost': host}}}}}, f)
with open(work + '/ansible.cfg', 'w') as f:
    f.write('[defaults]\nretry_files_enabled = False\n')
os.environ['ANSIBLE_CONFIG'] = work + '/ansible.cfg'


def tree_rss(pid):
    """Sum of VmRSS (kB) of pid and all its descendants."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open('/proc/%d/status' % p) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def play(playbook, extra=None, label=''):
    """(seconds, peak tree RSS MiB, largest single process MiB) of one ansible-playbook run."""
    argv = ['/usr/bin/time', '-v', 'ansible-playbook', '-i', inventory, os.path.join(ROOT, 'playbooks', playbook)]
    if extra:
        path = work + '/extra.json'
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as f:
            json.dump(extra, f)
        argv += ['-e', '@' + path]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    peak = [0]

    def poll():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.1)
    thread = threading.Thread(target=poll)
    thread.start()
    out, err = proc.communicate()
    thread.join()
    seconds = time.monotonic() - t0
    with open(work + '/last-%s.log' % playbook, 'w') as f:
        f.write(out + err)
    for value in secret.values():
        assert value not in out + err, 'a secret appears in the output of ' + playbook
    if proc.returncode != 0:
        print(out[-4000:], err[-2000:])
        raise SystemExit('%s failed (%s)' % (playbook, label))
    single = next((int(l.split(':')[1]) for l in err.splitlines() if 'Maximum resident set size' in l), 0)
    return seconds, peak[0] / 1024.0, single / 1024.0, out


def psql(sql, db='arizu'):
    return sh(['docker', 'exec', PG, 'psql', '-U', 'arizu', '-d', db, '-Atqc', sql]).stdout.strip()


def seed(gb):
    rows = int(gb * 1024 ** 3 / 235)
    psql('DROP TABLE IF EXISTS big1, big2, big3')
    for name, share in (('big1', 0.5), ('big2', 0.3), ('big3', 0.2)):
        n = int(rows * share)
        psql('CREATE TABLE %s (id bigint, payload text, at timestamptz, score float8)' % name)
        psql("INSERT INTO %s SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 4), now(), random() * 1000 "
             "FROM generate_series(1, %d) g" % (name, n))
    psql('ALTER TABLE big1 ADD PRIMARY KEY (id)')
    psql('CHECKPOINT')
    return int(psql('SELECT pg_database_size(current_database())'))


def timed(argv, stdout_path=None, stdin_path=None):
    t0 = time.monotonic()
    with open(stdout_path, 'wb') if stdout_path else open(os.devnull, 'wb') as out, \
            open(stdin_path, 'rb') if stdin_path else open(os.devnull, 'rb') as inp:
        subprocess.run(argv, stdout=out, stdin=inp, check=True)
    return time.monotonic() - t0


def fit(xs, ys):
    if len(xs) < 2:
        return ys[0], float('nan')
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


results = []
try:
    destroy()
    t0 = time.monotonic()
    for attempt in range(3):  # a published port may be briefly taken by an ephemeral port of another connection
        try:
            play('site.yml', label='deploy')
            break
        except SystemExit:
            if attempt == 2:
                raise
            destroy()
            time.sleep(3)
    print('stack deployed in %.0f s' % (time.monotonic() - t0), flush=True)
    for gb in SIZES:
        size = seed(gb)
        gib = size / 1024.0 ** 3
        row = dict(target_gb=gb, db_gib=gib)
        raw_dump = work + '/raw.dump'
        row['raw_dump'] = timed(['docker', 'exec', PG, 'pg_dump', '-U', 'arizu', '-Fc', 'arizu'], raw_dump)
        row['dump_mib'] = os.path.getsize(raw_dump) / 1048576.0
        bdir = work + '/pg-%s' % gb
        row['play_backup'], row['mem_backup'], row['mem1_backup'], _ = play(
            'backup_postgres.yml', dict(postgresql_backup_dir=bdir), 'backup')
        row['play_backup_fd'], row['mem_backup_fd'], row['mem1_backup_fd'], _ = play(
            'backup_postgres.yml', dict(postgresql_backup_dir=bdir + '-fd', postgresql_backup_format='directory',
                                        postgresql_backup_jobs=2), 'backup -Fd -j2')
        psql('DROP DATABASE IF EXISTS bench_raw', 'postgres')
        psql('CREATE DATABASE bench_raw', 'postgres')
        row['raw_restore'] = timed(['docker', 'exec', '-i', PG, 'pg_restore', '-U', 'arizu', '--no-owner', '-d',
                                    'bench_raw'], None, raw_dump)
        psql('DROP DATABASE bench_raw', 'postgres')
        os.unlink(raw_dump)
        row['play_restore'], row['mem_restore'], row['mem1_restore'], _ = play(
            'restore_postgres.yml', dict(postgresql_restore_dir=bdir, postgresql_restore_confirm='arizu',
                                         postgresql_restore_safety_backup=False), 'restore')
        shutil.rmtree(bdir, ignore_errors=True)
        shutil.rmtree(bdir + '-fd', ignore_errors=True)
        results.append(row)
        print(('%.2f GiB db (%.0f MiB dump): backup raw %.1f s / playbook %.1f s / -Fd -j2 playbook %.1f s; '
               'restore raw %.1f s / playbook %.1f s; peak RSS (tree) backup %.0f MiB, -Fd %.0f MiB, restore %.0f MiB;'
               ' largest process %.0f MiB') % (gib, row['dump_mib'], row['raw_dump'], row['play_backup'],
                                               row['play_backup_fd'], row['raw_restore'], row['play_restore'],
                                               row['mem_backup'], row['mem_backup_fd'], row['mem_restore'],
                                               max(row['mem1_backup'], row['mem1_restore'])), flush=True)
    xs = [r['db_gib'] for r in results]
    print('\nfit: time = intercept + slope x GiB')
    for key, label in (('raw_dump', 'raw pg_dump -Fc'), ('play_backup', 'backup_postgres.yml -Fc'),
                       ('play_backup_fd', 'backup_postgres.yml -Fd -j2'), ('raw_restore', 'raw pg_restore'),
                       ('play_restore', 'restore_postgres.yml')):
        a, b = fit(xs, [r[key] for r in results])
        print('  %-30s intercept %6.1f s   slope %6.1f s/GiB' % (label, a, b))

    # disaster recovery at the largest size (the database as last seeded)
    fb = play('full_backup.yml', label='full backup')
    print('\nfull_backup.yml: %.1f s, peak RSS %.0f MiB' % (fb[0], fb[1]), flush=True)
    set_name = sorted(n for n in os.listdir(work + '/sets') if n.startswith('set-'))[-1]
    destroy()
    dr = play('disaster_recovery.yml', dict(disaster_recovery_confirm=set_name), 'disaster recovery')
    line = next((l.strip() for l in dr[3].splitlines() if 'Recovered localhost' in l), '?')
    print('disaster_recovery.yml: %.1f s wall, peak RSS %.0f MiB\n  %s' % (dr[0], dr[1], line))
    check = psql('SELECT count(*) FROM big1')
    print('  big1 rows after the recovery: %s' % check)
finally:
    destroy()
    sh(['docker', 'network', 'rm', NET], check=False)
    shutil.rmtree(work, ignore_errors=True)
PY
