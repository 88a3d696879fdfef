"""Which e-mails a host sends, with what subject and message, and when reminders go out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput
from app.i18n import N_
from app.models import DEFAULT_REMINDER_OFFSETS, Host
from services import validation

VARIABLES = ('{event_name}', '{host_name}', '{attendee_name}', '{date}', '{time}')
MAX_OFFSETS = 5
MAX_OFFSET_MINUTES = 30 * 24 * 60


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    label: str
    to_host: bool
    subject: str
    ics: str = ''  # 'REQUEST' or 'CANCEL' when the message carries the calendar invitation


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            'confirmation',
            N_('Booking confirmation (invitee)'),
            False,
            N_('Confirmed: {event_name} with {host_name} on {date} at {time}'),
            'REQUEST',
        ),
        Kind(
            'cancellation',
            N_('Cancellation (invitee)'),
            False,
            N_('Cancelled: {event_name} with {host_name} on {date} at {time}'),
            'CANCEL',
        ),
        Kind(
            'reschedule',
            N_('Reschedule (invitee)'),
            False,
            N_('Rescheduled: {event_name} with {host_name}, now {date} at {time}'),
            'REQUEST',
        ),
        Kind(
            'proposal',
            N_('New time proposed (invitee)'),
            False,
            N_('{host_name} proposes a new time for {event_name}: {date} at {time}'),
        ),
        Kind(
            'reminder',
            N_('Reminder (invitee)'),
            False,
            N_('Reminder: {event_name} with {host_name} on {date} at {time}'),
        ),
        Kind(
            'request',
            N_('Booking request received (invitee)'),
            False,
            N_('Requested: {event_name} with {host_name} on {date} at {time} (awaiting confirmation)'),
        ),
        Kind(
            'declined',
            N_('Request declined (invitee)'),
            False,
            N_('Declined: {event_name} with {host_name} on {date} at {time}'),
        ),
        Kind(
            'host_booking',
            N_('New booking (you)'),
            True,
            N_('New booking: {attendee_name}, {event_name} on {date} at {time}'),
            'REQUEST',
        ),
        Kind(
            'host_cancellation',
            N_('Cancellation (you)'),
            True,
            N_('Cancelled: {attendee_name}, {event_name} on {date} at {time}'),
            'CANCEL',
        ),
        Kind(
            'host_reschedule',
            N_('Reschedule (you)'),
            True,
            N_('Rescheduled: {attendee_name}, {event_name}, now {date} at {time}'),
            'REQUEST',
        ),
        Kind(
            'host_request',
            N_('Booking request to confirm (you)'),
            True,
            N_('Please confirm: {attendee_name}, {event_name} on {date} at {time}'),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Preference:
    kind: str
    enabled: bool
    subject: str
    message: str


def preference(host: Host, kind: str) -> Preference:
    """The host's setting for one kind, defaults filled in."""
    saved = (host.notification_settings or {}).get(kind, {})
    return Preference(
        kind=kind,
        enabled=bool(saved.get('enabled', True)),
        subject=saved.get('subject') or KINDS[kind].subject,
        message=saved.get('message', ''),
    )


def preferences_json(host: Host) -> dict[str, Any]:
    return {
        'kinds': {
            name: {
                'label': kind.label,
                'enabled': p.enabled,
                'subject': p.subject,
                'message': p.message,
                'default_subject': kind.subject,
            }
            for name, kind in KINDS.items()
            for p in [preference(host, name)]
        },
        'reminder_offsets_minutes': reminder_offsets(host),
        'variables': list(VARIABLES),
    }


def update_preferences(
    host: Host, *, kinds: dict[str, dict[str, Any]] | None = None, reminder_offsets_minutes: list[int] | None = None
) -> None:
    """Validate and apply a change (the caller commits); unknown kinds and bad values are refused whole."""
    settings = dict(host.notification_settings or {})
    for name, change in (kinds or {}).items():
        if name not in KINDS:
            raise InvalidInput(f"Unknown e-mail kind '{name}'; expected one of {', '.join(KINDS)}")
        current = preference(host, name)
        subject = str(change.get('subject', current.subject)).strip()
        if '\r' in subject or '\n' in subject:
            raise InvalidInput('A subject must be a single line')
        validation.no_controls(subject, 'A subject')
        if len(subject) > 200:
            raise InvalidInput('A subject must be at most 200 characters')
        message = str(change.get('message', current.message)).strip()
        if len(message) > 2000:
            raise InvalidInput('A custom message must be at most 2000 characters')
        settings[name] = {
            'enabled': bool(change.get('enabled', current.enabled)),
            'subject': '' if subject == KINDS[name].subject else subject,
            'message': message,
        }
    host.notification_settings = settings
    if reminder_offsets_minutes is not None:
        host.reminder_offsets = clean_offsets(reminder_offsets_minutes)


def reminder_offsets(host: Host) -> list[int]:
    offsets = host.reminder_offsets
    return list(DEFAULT_REMINDER_OFFSETS if offsets is None else offsets)


def clean_offsets(offsets: list[int]) -> list[int]:
    values = sorted({int(o) for o in offsets}, reverse=True)
    if len(values) > MAX_OFFSETS:
        raise InvalidInput(f'At most {MAX_OFFSETS} reminders per booking')
    if any(not 5 <= o <= MAX_OFFSET_MINUTES for o in values):
        raise InvalidInput('A reminder must be between 5 minutes and 30 days before the meeting')
    return values


_VARIABLE = re.compile('|'.join(re.escape(v) for v in VARIABLES))


def fill(template: str, values: dict[str, str]) -> str:
    """Plain substitution of the known variables in one pass: nothing else in the text, and nothing inside a
    substituted value (an invitee called '{host_name}', say), is interpreted."""
    return _VARIABLE.sub(lambda match: values[match.group(0)[1:-1]], template)
