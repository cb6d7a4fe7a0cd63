# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runbook's post-mortem, pre-filled from an incident's records (pure, no Ansible imports).

Input: the incident's automation timeline (the event list the
``arizu.ops.incident_timeline`` callback writes to ``timeline.json``) and its
triage reports (the ``triage_report`` dicts the triage writes as JSON).
Output: a mapping holding every value of the runbook's "Post-Mortem Template"
that the records can give (dates, duration, severity, features down, a
timeline table, hints for the root cause) and the post-incident review
checklists. What only people can write is left as ``[TO FILL: ...]``.

Only names, statuses and times are ever copied from the timeline, never a
task's result nor its message, and every copied text goes through a pattern
redaction once more (credentials in URLs, ``Bearer`` tokens, ``password=...``
pairs), although the timeline and the reports are redacted at the source.
"""

from __future__ import annotations

import datetime
import re

__all__ = [
    'CHECKLISTS',
    'PostmortemError',
    'blank',
    'build_postmortem',
    'format_duration',
    'parse_time',
]

SEVERITY_ORDER = {'P0': 0, 'P1': 1, 'P2': 2, 'P3': 3, 'none': 4}
INCIDENT_ID_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,99}')  # whole string (fullmatch)
TEXT_LIMIT = 200
MAX_RULES_IN_ROW = 5
MAX_HOSTS_SHOWN = 3

#: The runbook's "Post-Incident Review Checklist", in its order.
CHECKLISTS = (
    ('within_24_hours', 'Within 24 Hours', (
        ('timeline', 'Timeline Created', 'Document incident start to resolution'),
        ('impact', 'Impact Assessed', 'Users affected, revenue impact, SLO impact'),
        ('root_cause', 'Root Cause', 'Technical and process failures identified'),
        ('immediate_actions', 'Immediate Actions', 'Temporary fixes documented'),
    )),
    ('within_1_week', 'Within 1 Week', (
        ('draft', 'Post-Mortem Draft', 'Complete analysis written'),
        ('action_items', 'Action Items', 'Preventive measures identified'),
        ('stakeholder_review', 'Stakeholder Review', 'Technical team review completed'),
        ('customer_communication', 'Customer Communication', 'Follow-up sent if needed'),
    )),
)

#: How a P0/P1 rule of arizu.ops.severity reads as a feature that is down (others: the rule id in words).
FEATURE_LABELS = {
    'app_down': 'app down',
    'app_error_page': 'app down (5xx error page)',
    'app_invalid': 'app health unreadable',
    'payments_down': 'payments down',
    'n8n_down': 'n8n down',
    'n8n_not_ready': 'n8n not ready',
    'db_down': 'db down',
    'redis_down': 'redis down',
    'llm_unavailable': 'LLM unavailable',
}

_URL_USERINFO_RE = re.compile(r'([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#@]+@')
_BEARER_RE = re.compile(r'(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*')
_KV_RE = re.compile(
    r'(?i)\b([\w.-]*(?:password|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|credential|dsn)[\w.-]*)'
    r'(\s*[=:]\s*)("[^"]*"|\'[^\']*\'|[^\s,;&"\'}\]]+)')
_MASK = '********'
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class PostmortemError(ValueError):
    """Bad input; the message says which."""


def blank(what):
    """A marked blank for people to fill."""
    return '[TO FILL: %s]' % what


def _text(value, limit=TEXT_LIMIT):
    """One line of redacted text, at most *limit* characters."""
    if value is None:
        return ''
    text = ' '.join(str(value).split())
    text = _URL_USERINFO_RE.sub(r'\1' + _MASK + '@', text)
    text = _BEARER_RE.sub(r'\1 ' + _MASK, text)
    text = _KV_RE.sub(lambda m: m.group(1) + m.group(2) + _MASK, text)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def parse_time(value):
    """An aware UTC datetime from ISO 8601 text (``Z``, an offset or none = UTC), or None."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(' ', 'T', 1)
        if text[-1:] in ('Z', 'z'):
            text = text[:-1] + '+00:00'
        # fromisoformat before Python 3.11 takes at most 6 digits of fractions (Docker gives 9)
        text = re.sub(r'(\.\d{6})\d+', r'\1', text)
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _human(moment):
    return moment.strftime('%Y-%m-%d %H:%M:%S UTC')


def format_duration(seconds):
    """``45 s``, ``12 min 05 s``, ``1 h 05 min``, ``2 d 3 h 05 min``."""
    seconds = int(round(max(seconds, 0)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return '%d d %d h %02d min' % (days, hours, minutes)
    if hours:
        return '%d h %02d min' % (hours, minutes)
    if minutes:
        return '%d min %02d s' % (minutes, secs)
    return '%d s' % secs


def _severity_key(severity):
    return SEVERITY_ORDER.get(severity, 4)


def _hosts_text(hosts):
    hosts = list(hosts)
    if len(hosts) <= MAX_HOSTS_SHOWN:
        return ', '.join(hosts)
    return '%d hosts' % len(hosts)


# --------------------------------------------------------------------------
# Triage reports
# --------------------------------------------------------------------------

def _select_reports(incident_id, reports):
    """The reports of this incident, oldest first, and the number left out."""
    if reports is None:
        return [], 0
    if not isinstance(reports, (list, tuple)):
        raise PostmortemError('reports: expected a list of triage reports (the JSON the triage writes)')
    kept, ignored = [], 0
    for index, report in enumerate(reports):
        if not isinstance(report, dict) or ('incident_id' in report and report.get('incident_id') != incident_id):
            ignored += 1  # not a report, or another incident whose id shares the file name prefix
            continue
        moment = parse_time(report.get('generated_at')) or parse_time(report.get('started_at'))
        kept.append((moment, index, report))
    kept.sort(key=lambda item: (item[0] is None, item[0] or _EPOCH, item[1]))
    return [(index, report) for _when, index, report in kept], ignored


def _reasons(report):
    return [r for r in (report.get('reasons') or []) if isinstance(r, dict)]


def _rules(reasons):
    rules = []
    for reason in sorted(reasons, key=lambda r: _severity_key(r.get('severity'))):
        rule = _text(reason.get('rule') or '?', 64)
        if rule not in rules:
            rules.append(rule)
    return rules


def _triage_row(report, index):
    moment = parse_time(report.get('generated_at')) or parse_time(report.get('started_at'))
    severity = _text(report.get('severity') or 'none', 8)
    rules = _rules(_reasons(report))
    if rules:
        shown = ', '.join(rules[:MAX_RULES_IN_ROW])
        if len(rules) > MAX_RULES_IN_ROW:
            shown += ', +%d more' % (len(rules) - MAX_RULES_IN_ROW)
        event = 'Triage: severity %s (%s)' % (severity, shown)
    else:
        event = 'Triage: severity %s (all checks passed)' % severity
    hosts = report.get('hosts') if isinstance(report.get('hosts'), dict) else {}
    involve = [_text(i.get('role'), 40) for i in ((report.get('escalation') or {}).get('involve') or [])
               if isinstance(i, dict) and i.get('role')]
    action = 'triage report written (%d host(s) probed)' % len(hosts)
    if involve:
        action += '; involve now: %s' % ', '.join(involve)
    return {'at': moment, 'order': (1, index), 'source': 'triage', 'kind': 'triage', 'event': event,
            'action': action, 'failed': False, 'severity': severity}


def _features(reports):
    """Features down (P0/P1 reasons) and degraded (P2 reasons), worst first, without repeats."""
    down, degraded = [], []
    reasons = [r for report in reports for r in _reasons(report)]
    for reason in sorted(reasons, key=lambda r: _severity_key(r.get('severity'))):
        rule = str(reason.get('rule') or '')
        if not rule:
            continue
        label = _text(FEATURE_LABELS.get(rule, rule.replace('_', ' ')), 64)
        if reason.get('severity') in ('P0', 'P1') and label not in down:
            down.append(label)
        elif reason.get('severity') == 'P2' and label not in degraded and label not in down:
            degraded.append(label)
    return down, degraded


def _root_cause_hints(reports, limit):
    """The most severe distinct reasons, with the hosts they were seen on."""
    seen = {}
    order = []
    for report in reports:
        for reason in _reasons(report):
            key = (reason.get('severity'), reason.get('rule'), reason.get('detail'))
            if key not in seen:
                seen[key] = []
                order.append(key)
            host = _text(reason.get('host') or '', 64)
            if host and host not in seen[key]:
                seen[key].append(host)
    order.sort(key=lambda k: _severity_key(k[0]))
    hints = []
    for severity, rule, detail in order[:limit]:
        hosts = seen[(severity, rule, detail)]
        hints.append('%s %s%s: %s' % (_text(severity or '?', 8), _text(rule or '?', 64),
                                      (' on ' + _hosts_text(hosts)) if hosts else '', _text(detail)))
    return hints, max(len(order) - limit, 0)


def _recent_changes(reports, limit=5):
    for report in reversed(reports):  # the latest triage knows the latest state
        changes = [c for c in (report.get('recent_changes') or []) if isinstance(c, dict)]
        if changes:
            return ['%s on %s: %s, started %s' % (_text(c.get('container'), 64), _text(c.get('host'), 64),
                                                  _text(c.get('image'), 120), _text(c.get('started_at'), 40))
                    for c in changes[:limit]]
    return []


# --------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------

def _select_events(timeline, exclude_playbooks):
    if timeline is None:
        return []
    if not isinstance(timeline, (list, tuple)):
        raise PostmortemError('timeline: expected the list of events of timeline.json')
    exclude = set(str(p) for p in exclude_playbooks or ())
    events = [e for e in timeline if isinstance(e, dict) and e.get('kind')]
    excluded_runs = set(e.get('run') for e in events
                        if e.get('kind') == 'playbook_start' and e.get('playbook') in exclude)
    return [e for e in events if e.get('run') not in excluded_runs and e.get('playbook') not in exclude]


def _recaps(events):
    """(run, host) -> the run's recap counts for the host."""
    recaps = {}
    for event in events:
        if event.get('kind') == 'run_end' and isinstance(event.get('hosts'), dict):
            for host, counts in event['hosts'].items():
                if isinstance(counts, dict):
                    recaps[(event.get('run'), host)] = counts
    return recaps


def _task_status(event, recaps):
    result = str(event.get('result') or '?')
    if result == 'failed':
        if event.get('ignored'):
            return 'failed (ignored)', False
        recap = recaps.get((event.get('run'), event.get('host')))
        if recap is not None and not recap.get('failed') and recap.get('rescued'):
            return 'FAILED (rescued)', True
        return 'FAILED', True
    if result == 'unreachable':
        return 'UNREACHABLE', True
    return result, False


def _task_groups(events):
    """Consecutive results of one task (same run, play and name) on different hosts form one row."""
    groups = []
    for index, event in enumerate(events):
        if event.get('kind') != 'task':
            groups.append((index, [event]))
            continue
        key = (event.get('run'), event.get('play'), event.get('task'))
        if groups:
            last = groups[-1][1]
            head = last[0]
            if (head.get('kind') == 'task' and (head.get('run'), head.get('play'), head.get('task')) == key
                    and event.get('host') not in [e.get('host') for e in last]):
                last.append(event)
                continue
        groups.append((index, [event]))
    return groups


def _task_row(index, group, recaps):
    statuses = []  # (status, [hosts]) in first-seen order
    failed = False
    for event in group:
        status, bad = _task_status(event, recaps)
        failed = failed or bad
        for entry in statuses:
            if entry[0] == status:
                entry[1].append(_text(event.get('host') or '?', 64))
                break
        else:
            statuses.append((status, [_text(event.get('host') or '?', 64)]))
    starts = [m for m in (parse_time(e.get('start') or e.get('time')) for e in group) if m is not None]
    statuses.sort(key=lambda s: 0 if s[0][:1].isupper() else 1)  # failures (upper case) first
    action = '; '.join('%s on %s' % (status, _hosts_text(hosts)) for status, hosts in statuses)
    if any(e.get('censored') for e in group):
        action += ' (no_log)'
    head = group[0]
    return {'at': min(starts) if starts else None, 'order': (2, index), 'source': 'timeline', 'kind': 'task',
            'event': _text(head.get('task') or head.get('action') or '?'), 'action': action, 'failed': failed,
            'run': head.get('run'), 'play': _text(head.get('play')), 'playbook': _text(head.get('playbook'), 100),
            'skipped': all(str(e.get('result')) == 'skipped' for e in group),
            'failed_hosts': [_text(e.get('host') or '?', 64) for e in group if _task_status(e, recaps)[1]]}


def _other_row(index, event):
    kind = event.get('kind')
    moment = parse_time(event.get('time'))
    run = event.get('run', '?')
    playbook = _text(event.get('playbook') or '?', 100)
    if kind == 'playbook_start':
        event_text = 'Automation run %s started: playbook %s' % (run, playbook)
        action = 'ansible-playbook%s on %s' % (' --check' if event.get('check_mode') else '',
                                               _text(event.get('controller') or '?', 64))
        failed = False
    elif kind == 'play_start':
        event_text = 'Play: %s' % _text(event.get('play'))
        action = 'play started'
        failed = False
    elif kind == 'run_end':
        hosts = event.get('hosts') if isinstance(event.get('hosts'), dict) else {}
        bad = sorted(h for h, c in hosts.items() if isinstance(c, dict) and (c.get('failed') or c.get('unreachable')))
        rescued = sorted(h for h, c in hosts.items() if isinstance(c, dict) and c.get('rescued'))
        failed = str(event.get('result')) == 'failed' or bool(bad)
        event_text = 'Automation run %s ended: playbook %s' % (run, playbook)
        if failed:
            action = 'recap: FAILED on %s' % (_hosts_text(bad) if bad else '?')
        else:
            action = 'recap: ok on %s' % (_hosts_text(sorted(hosts)) if hosts else 'no host')
        if rescued:
            action += '; failures rescued on %s' % _hosts_text(rescued)
    else:
        return None
    return {'at': moment, 'order': (2, index), 'source': 'timeline', 'kind': kind, 'event': event_text,
            'action': action, 'failed': failed, 'run': run, 'playbook': playbook, 'skipped': False}


def _last_end(events):
    ends = []
    for event in events:
        for key in ('end', 'time'):
            moment = parse_time(event.get(key))
            if moment is not None:
                ends.append(moment)
                break
    return max(ends) if ends else None


# --------------------------------------------------------------------------
# The post-mortem
# --------------------------------------------------------------------------

def build_postmortem(incident_id, timeline=None, reports=None, description=None, resolved_at=None,
                     exclude_playbooks=(), include_skipped=False, max_hints=5):
    """Everything of the post-mortem template the records can give; see the filter's RETURN."""
    if not isinstance(incident_id, str) or not INCIDENT_ID_RE.fullmatch(incident_id):
        raise PostmortemError('incident id %r: letters, digits, ".", "_" and "-" only, starting with a letter or '
                              'digit, at most 100 characters' % (incident_id,))
    if isinstance(exclude_playbooks, str):
        exclude_playbooks = [exclude_playbooks]
    try:
        max_hints = int(max_hints)
    except (TypeError, ValueError):
        raise PostmortemError('max_hints: expected a number, got %r' % (max_hints,)) from None
    selected, ignored_reports = _select_reports(incident_id, reports)
    reports = [report for _index, report in selected]
    events = _select_events(timeline, exclude_playbooks)
    has_timeline = bool(events)
    if not reports and not events:
        raise PostmortemError('incident %s: neither a timeline event nor a triage report of this incident to '
                              'draft from' % incident_id)

    # ----- when -----------------------------------------------------------
    starts = []
    for report in reports:
        moment = parse_time(report.get('started_at'))
        if moment is not None:
            starts.append((moment, 'triage'))
    first_event = min((m for m in (parse_time(e.get('time')) for e in events) if m is not None), default=None)
    if first_event is not None:
        starts.append((first_event, 'timeline'))
    if not starts:  # reports without started_at: their generation time is the best known bound
        starts = [(m, 'triage') for m in (parse_time(r.get('generated_at')) for r in reports) if m is not None]
    start, start_source = min(starts, key=lambda s: s[0]) if starts else (None, None)

    if resolved_at not in (None, ''):
        end = parse_time(resolved_at)
        if end is None:
            raise PostmortemError('resolved_at %r is not an ISO 8601 time (e.g. 2026-12-03T15:04:00Z)' % (resolved_at,))
        end_source = 'resolved_at'
    else:
        end = _last_end(events)
        end_source = 'timeline' if end is not None else None
    if start is not None and end is not None and end < start:
        if end_source == 'resolved_at':
            raise PostmortemError('resolved_at %s is before the incident start %s' % (_iso(end), _iso(start)))
        end = start

    # ----- timeline rows ----------------------------------------------------
    recaps = _recaps(events)
    rows, skipped_rows = [], 0
    for index, report in enumerate(reports):
        rows.append(_triage_row(report, index))
    for index, group in _task_groups(events):
        row = _task_row(index, group, recaps) if group[0].get('kind') == 'task' else _other_row(index, group[0])
        if row is None:
            continue
        if row.get('skipped') and not include_skipped:
            skipped_rows += 1
            continue
        rows.append(row)
    if start is not None:
        rows.append({'at': start, 'order': (0, 0), 'source': 'incident', 'kind': 'start',
                     'event': 'Incident start (%s)' % ('earliest triage started_at' if start_source == 'triage'
                                                       else 'first recorded automation event'),
                     'action': blank('how it was detected, who responded'), 'failed': False})
    if end is not None:
        rows.append({'at': end, 'order': (3, 0), 'source': 'incident', 'kind': 'end',
                     'event': ('Incident resolved' if end_source == 'resolved_at'
                               else 'End of the recorded automation (taken as the resolution)'),
                     'action': blank('how the resolution was confirmed'), 'failed': False})
    dated = [r for r in rows if r['at'] is not None]
    undated = len(rows) - len(dated)
    dated.sort(key=lambda r: (r['at'], r['order']))
    same_day = len(set(r['at'].date() for r in dated)) <= 1
    timeline_rows = []
    for row in dated:
        out = dict((k, v) for k, v in row.items() if k not in ('at', 'order', 'skipped'))
        out['at'] = _iso(row['at']) if row['at'].microsecond == 0 else \
            row['at'].strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (row['at'].microsecond // 1000)
        out['time'] = row['at'].strftime('%H:%M:%S' if same_day else '%Y-%m-%d %H:%M:%S')
        timeline_rows.append(out)

    # ----- severity, impact, root cause -----------------------------------------
    severities = [str(r.get('severity') or 'none') for r in reports]
    worst = min(severities, key=_severity_key) if severities else None
    if worst in ('P0', 'P1', 'P2', 'P3'):
        severity, severity_note = worst, 'worst of %d triage report(s)' % len(reports)
    elif reports:
        severity, severity_note = blank('P0-P3'), 'the triage found no issue'
    else:
        severity, severity_note = blank('P0-P3'), 'no triage report'
    down, degraded = _features(reports)
    if down:
        impact = ', '.join(down)
    elif reports:
        impact = 'no feature down per the triage'
    else:
        impact = blank('features down')
    if degraded:
        impact += '; degraded: %s' % ', '.join(degraded)
    hints, more_hints = _root_cause_hints(reports, max(max_hints, 0))
    failed_tasks = [{'time': r['time'], 'at': r['at'], 'task': r['event'], 'play': r['play'],
                     'playbook': r['playbook'], 'run': r['run'], 'hosts': r['failed_hosts'], 'action': r['action']}
                    for r in timeline_rows if r['kind'] == 'task' and r['failed']]
    runs = []
    for event in events:
        if event.get('kind') == 'playbook_start':
            runs.append({'run': event.get('run'), 'playbook': _text(event.get('playbook'), 100),
                         'started': _text(event.get('time'), 40), 'check_mode': bool(event.get('check_mode'))})

    # ----- checklists ----------------------------------------------------------
    done = {'timeline': has_timeline}
    notes = {'timeline': ('automation timeline recorded (%d run(s)); add the human steps' % len(runs))
             if has_timeline else 'no automation timeline was recorded; write it by hand'}
    checklists = []
    for key, title, items in CHECKLISTS:
        checklists.append({'key': key, 'title': title, 'items': [
            {'key': item, 'label': label, 'text': text, 'done': bool(done.get(item)), 'note': notes.get(item, '')}
            for item, label, text in items]})

    description = _text(description) if description not in (None, '') else blank('brief description')
    return {
        'incident_id': incident_id,
        'date': start.strftime('%Y-%m-%d') if start is not None else blank('YYYY-MM-DD'),
        'description': description,
        'title': 'Incident Post-Mortem: %s %s' % (start.strftime('%Y-%m-%d') if start is not None
                                                  else blank('YYYY-MM-DD'), description),
        'start': _human(start) if start is not None else blank('start'),
        'start_at': _iso(start) if start is not None else None,
        'start_source': start_source,
        'end': _human(end) if end is not None else blank('end'),
        'end_at': _iso(end) if end is not None else None,
        'end_source': end_source,
        'duration': format_duration((end - start).total_seconds()) if start and end else blank('duration'),
        'duration_s': round((end - start).total_seconds(), 3) if start and end else None,
        'severity': severity,
        'severity_note': severity_note,
        'impact': impact,
        'features_down': down,
        'degraded': degraded,
        'root_cause_hints': hints,
        'more_root_cause_hints': more_hints,
        'failed_tasks': failed_tasks,
        'recent_changes': _recent_changes(reports),
        'timeline': timeline_rows,
        'same_day': same_day,
        'runs': runs,
        'has_timeline': has_timeline,
        'triage': [{'index': index, 'generated_at': _text(r.get('generated_at'), 40),
                    'severity': _text(r.get('severity') or 'none', 8), 'rules': _rules(_reasons(r))}
                   for index, r in selected],
        'checklists': checklists,
        'counts': {'triage_reports': len(reports), 'ignored_reports': ignored_reports,
                   'timeline_events': len(events), 'rows': len(timeline_rows), 'skipped_tasks': skipped_rows,
                   'undated_rows': undated, 'failed_tasks': len(failed_tasks)},
    }
