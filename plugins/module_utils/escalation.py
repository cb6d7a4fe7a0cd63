# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who to involve in an incident now, after the runbook's escalation matrix.

The Arizu operations runbook ("On-Call & Escalation") escalates P0/P1
incidents over time: the on-call engineer responds at once, the technical
lead from 15 minutes, the infrastructure team from 30 and the executives from
60. The levels are cumulative. The runbook has no matrix for P2/P3; here they
involve the on-call engineer only (``DEFAULT_MATRIX``, overridable).

Communication channels: the internal ``#incidents`` Slack channel for every
incident; status page updates and customer e-mail notifications for P0/P1.

This file imports nothing from Ansible (the filter ``arizu.ops.escalation``
wraps it) and performs no I/O.
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from collections.abc import Mapping


__all__ = [
    'AUDIENCES',
    'DEFAULT_CHANNELS',
    'DEFAULT_MATRIX',
    'EscalationError',
    'FUTURE_TOLERANCE_MINUTES',
    'NO_CONTACT',
    'SEVERITIES',
    'escalation',
    'parse_time',
]


class EscalationError(ValueError):
    """Bad severity, time, contacts, matrix or channels; the message says which."""


SEVERITIES = ('P0', 'P1', 'P2', 'P3')
NO_SEVERITY = 'none'
NO_CONTACT = '(no contact configured)'
#: A start up to this many minutes after "now" is clock skew (elapsed 0); later is an error.
FUTURE_TOLERANCE_MINUTES = 5
#: Channel audiences; a channel is written "<audience>: <text>".
AUDIENCES = ('internal', 'external', 'customer')

_P0_P1_MATRIX = (
    {'role': 'on_call', 'after_minutes': 0},
    {'role': 'technical_lead', 'after_minutes': 15},
    {'role': 'infrastructure', 'after_minutes': 30},
    {'role': 'executives', 'after_minutes': 60},
)
_P2_P3_MATRIX = (
    {'role': 'on_call', 'after_minutes': 0},
)

#: The runbook's escalation matrix: severity -> levels (cumulative).
DEFAULT_MATRIX = {
    'P0': [dict(level) for level in _P0_P1_MATRIX],
    'P1': [dict(level) for level in _P0_P1_MATRIX],
    # Not in the runbook (its matrix is for P0/P1 only): the on-call engineer handles P2/P3.
    'P2': [dict(level) for level in _P2_P3_MATRIX],
    'P3': [dict(level) for level in _P2_P3_MATRIX],
}

_SLACK = 'internal: #incidents Slack channel'
_STATUS_PAGE = 'external: status page updates'
_CUSTOMER_EMAIL = 'customer: email notifications'

#: The runbook's communication channels by severity.
DEFAULT_CHANNELS = {
    'P0': [_SLACK, _STATUS_PAGE, _CUSTOMER_EMAIL],
    'P1': [_SLACK, _STATUS_PAGE, _CUSTOMER_EMAIL],
    'P2': [_SLACK],
    'P3': [_SLACK],
}

_ROLE_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_.-]{0,63}$')
_ISO_RE = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?'
    r'\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$')
_EPOCH_RE = re.compile(r'^\d{1,12}(\.\d{1,9})?$')
_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_TEXT_LIMIT = 200


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def _type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, (list, tuple)):
        return 'a list'
    return type(value).__name__


def _plain_str(value):
    # Tagged/unsafe str subclasses become plain str so the output is plain data.
    return ''.join((value,))


def _show(value):
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT - 3] + '...'


def _is_number(value):
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _exact(value):
    """A number as an exact Fraction (a float by its shortest decimal form: 14.9 is 149/10)."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def _floor1(value):
    """Round a Fraction down to 1 decimal, as a float."""
    return math.floor(value * 10) / 10


def _ceil1(value):
    """Round a Fraction up to 1 decimal, as a float."""
    return math.ceil(value * 10) / 10


def _minutes_out(value):
    """after_minutes for output: an int when whole, else a float."""
    if value.denominator == 1:
        return int(value)
    return float(value)


# --------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------

def parse_time(value, name):
    """An aware UTC datetime from ISO 8601 text (with Z or an offset), epoch seconds or an aware datetime."""
    if isinstance(value, bool) or value is None:
        raise EscalationError('%s: expected an ISO 8601 time with Z or an offset, or epoch seconds, got %s'
                              % (name, _type_name(value)))
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise EscalationError('%s: the datetime has no time zone; pass ISO 8601 text with Z or an offset '
                                  '(e.g. 2026-12-03T14:00:00Z), or epoch seconds' % name)
        return value.astimezone(_UTC)
    if _is_number(value):
        return _from_epoch(value, name)
    if not isinstance(value, str):
        raise EscalationError('%s: expected an ISO 8601 time with Z or an offset, or epoch seconds, got %s'
                              % (name, _type_name(value)))
    text = value.strip()
    if _EPOCH_RE.match(text):
        return _from_epoch(Decimal(text), name)
    match = _ISO_RE.match(text)
    if not match:
        raise EscalationError('%s: cannot read %s as a time; expected ISO 8601 with Z or an offset '
                              '(e.g. 2026-12-03T14:00:00Z or 2026-12-03T15:00:00+01:00), or epoch seconds'
                              % (name, _show(value)))
    if match.group('tz') is None:
        raise EscalationError('%s: %s has no time zone; add Z (UTC) or an offset such as +01:00'
                              % (name, _show(value)))
    try:
        year, month, day = (int(part) for part in match.group('date').split('-'))
        micro = int((match.group('frac') or '0').ljust(6, '0')[:6])
        tz = match.group('tz')
        if tz in ('Z', 'z'):
            offset = datetime.timedelta(0)
        else:
            digits = tz[1:].replace(':', '')
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            if hours > 23 or minutes > 59:
                raise ValueError('offset out of range')
            offset = datetime.timedelta(hours=hours, minutes=minutes)
            if tz[0] == '-':
                offset = -offset
        moment = datetime.datetime(year, month, day, int(match.group('h')), int(match.group('m')),
                                   int(match.group('s') or 0), micro, tzinfo=datetime.timezone(offset))
        return moment.astimezone(_UTC)
    except (ValueError, OverflowError) as exc:
        raise EscalationError('%s: %s is not a valid time (%s)' % (name, _show(value), exc)) from None


def _from_epoch(value, name):
    try:
        number = Decimal(value) if isinstance(value, (int, Decimal)) else Decimal(repr(float(value)))
        if not number.is_finite() or number < 0:
            raise ValueError('must be a finite number of seconds, 0 or more')
        micro = int((number * 1000000).to_integral_value())
        return _EPOCH + datetime.timedelta(microseconds=micro)
    except (ValueError, OverflowError, InvalidOperation) as exc:
        raise EscalationError('%s: %s is not a valid epoch time (%s)' % (name, _show(value), exc)) from None


def _iso(moment):
    text = moment.strftime('%Y-%m-%dT%H:%M:%S')
    if moment.microsecond:
        text += ('.%06d' % moment.microsecond).rstrip('0')
    return text + 'Z'


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

def _severity(value):
    if isinstance(value, Mapping) and 'severity' in value:  # arizu.ops.severity(explain=true)
        value = value['severity']
    if not isinstance(value, str):
        raise EscalationError('severity: expected P0, P1, P2, P3 or none, got %s' % _type_name(value))
    word = value.strip()
    if word.lower() == NO_SEVERITY:
        return NO_SEVERITY
    if word.upper() in SEVERITIES:
        return word.upper()
    raise EscalationError('severity: expected P0, P1, P2, P3 or none, got %s' % _show(value))


def _severity_key(key, name):
    if not isinstance(key, str) or key.strip().upper() not in SEVERITIES:
        raise EscalationError('%s: keys must be severities P0, P1, P2 or P3, got %s' % (name, _show(key)))
    return key.strip().upper()


def _levels(value, where):
    if not isinstance(value, (list, tuple)):
        raise EscalationError('%s: expected a list of {role, after_minutes}, got %s' % (where, _type_name(value)))
    levels, seen = [], set()
    for index, level in enumerate(value):
        at = '%s[%d]' % (where, index)
        if not isinstance(level, Mapping):
            raise EscalationError('%s: expected a mapping {role, after_minutes}, got %s' % (at, _type_name(level)))
        unknown = sorted(str(key) for key in level if key not in ('role', 'after_minutes'))
        if unknown:
            raise EscalationError('%s: unknown key %s (expected role and after_minutes)' % (at, ', '.join(unknown)))
        role = level.get('role')
        if not isinstance(role, str) or not _ROLE_RE.match(role):
            raise EscalationError('%s.role: expected a role name (letters, digits, _ . -), got %s'
                                  % (at, _show(role) if isinstance(role, str) else _type_name(role)))
        if role in seen:
            raise EscalationError('%s.role: %s is listed twice' % (at, _show(role)))
        seen.add(role)
        after = level.get('after_minutes')
        if not _is_number(after):
            raise EscalationError('%s.after_minutes: expected a number of minutes, got %s' % (at, _type_name(after)))
        if isinstance(after, float) and not math.isfinite(after) or isinstance(after, Decimal) and not after.is_finite():
            raise EscalationError('%s.after_minutes: expected a finite number, got %s' % (at, after))
        if after < 0:
            raise EscalationError('%s.after_minutes: must be 0 or more, got %s' % (at, after))
        levels.append((_exact(after), index, _plain_str(role)))
    levels.sort()
    return [(after, role) for after, _index, role in levels]


def _matrix(override):
    table = dict((sev, _levels(levels, 'matrix.%s' % sev)) for sev, levels in DEFAULT_MATRIX.items())
    if override is None:
        return table
    if not isinstance(override, Mapping):
        raise EscalationError('matrix: expected a mapping of severity to a list of {role, after_minutes}, got %s'
                              % _type_name(override))
    for key, levels in override.items():
        sev = _severity_key(key, 'matrix')
        table[sev] = _levels(levels, 'matrix.%s' % sev)
    return table


def _channel_list(value, where):
    if not isinstance(value, (list, tuple)):
        raise EscalationError('%s: expected a list of "<audience>: <text>" strings, got %s' % (where, _type_name(value)))
    channels = []
    for index, channel in enumerate(value):
        at = '%s[%d]' % (where, index)
        if not isinstance(channel, str):
            raise EscalationError('%s: expected a string, got %s' % (at, _type_name(channel)))
        audience, sep, text = channel.partition(':')
        if not sep or audience.strip().lower() not in AUDIENCES or not text.strip():
            raise EscalationError('%s: expected "<audience>: <text>" with audience %s, got %s'
                                  % (at, ', '.join(AUDIENCES), _show(channel)))
        channels.append('%s: %s' % (audience.strip().lower(), _plain_str(text.strip())))
    return channels


def _channels(override):
    table = dict((sev, list(channels)) for sev, channels in DEFAULT_CHANNELS.items())
    if override is None:
        return table
    if not isinstance(override, Mapping):
        raise EscalationError('channels: expected a mapping of severity to a list of channels, got %s'
                              % _type_name(override))
    for key, channels in override.items():
        sev = _severity_key(key, 'channels')
        table[sev] = _channel_list(channels, 'channels.%s' % sev)
    return table


def _contacts(value):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EscalationError('contacts: expected a mapping of role to contact, got %s' % _type_name(value))
    contacts = {}
    for role, contact in value.items():
        if contact is None or contact == '':
            continue
        if isinstance(contact, (list, tuple)) and all(isinstance(item, str) for item in contact):
            contact = ', '.join(item.strip() for item in contact if item.strip())
        if isinstance(contact, bool) or not isinstance(contact, (str, int, float)):
            raise EscalationError('contacts.%s: expected a contact string (or a list of strings), got %s'
                                  % (role, _type_name(contact)))
        text = _plain_str(str(contact)).strip()
        if text:
            contacts[str(role)] = text
    return contacts


# --------------------------------------------------------------------------
# Escalation
# --------------------------------------------------------------------------

def escalation(severity, started_at=None, now=None, contacts=None, matrix=None, channels=None):
    """Who to involve now and on which channels; see the filter's documentation."""
    sev = _severity(severity)
    # Every argument is checked, whatever the severity, so a typo never waits for a P0 to show.
    table = _matrix(matrix)
    channel_table = _channels(channels)
    contact_map = _contacts(contacts)
    if started_at is None or started_at == '':
        raise EscalationError('started_at: required, when the incident started (ISO 8601 with Z or an offset, '
                              'or epoch seconds)')
    start = parse_time(started_at, 'started_at')
    current = datetime.datetime.now(_UTC) if now is None else parse_time(now, 'now')

    delta = current - start
    elapsed = Fraction(delta.days * 86400000000 + delta.seconds * 1000000 + delta.microseconds, 60000000)
    if elapsed < -FUTURE_TOLERANCE_MINUTES:
        raise EscalationError('started_at: %s is %.1f minutes after now (%s); more than %d minutes in the future'
                              % (_iso(start), float(-elapsed), _iso(current), FUTURE_TOLERANCE_MINUTES))
    elapsed = max(elapsed, Fraction(0))

    levels = [] if sev == NO_SEVERITY else table[sev]
    involve, upcoming = [], None
    for after, role in levels:
        if after <= elapsed:
            involve.append({'role': role, 'since_minutes': _minutes_out(after),
                            'contact': contact_map.get(role, NO_CONTACT)})
        elif upcoming is None:
            upcoming = {'role': role, 'at_minutes': _minutes_out(after), 'in_minutes': _ceil1(after - elapsed)}
    chosen = [] if sev == NO_SEVERITY else list(channel_table[sev])
    return {
        'severity': sev,
        'started_at': _iso(start),
        'now': _iso(current),
        'elapsed_minutes': _floor1(elapsed),
        'involve': involve,
        'next': upcoming,
        'channels': chosen,
        'customer_notification': any(channel.startswith('customer:') for channel in chosen),
    }
