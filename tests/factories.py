"""Readable factories for tests: make_host(...), make_event_type(...), and dates that are always ahead."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from app.models import BOOKING_CANCELLED, BOOKING_CONFIRMED, Booking, EventType, Host
from services import event_types, hosts
from services.event_types import EventTypeInput


def make_host(session: Session, *, username: str = 'ada', timezone_name: str = 'Europe/London', **kw: Any) -> Host:
    return hosts.create_host(
        session=session,
        email=kw.get('email', f'{username}@example.com'),
        name=kw.get('name', username.title()),
        username=username,
        timezone=timezone_name,
    )


def make_event_type(session: Session, host: Host, **fields: Any) -> EventType:
    assert host.id is not None
    data = {'title': '30 minute call', 'duration_minutes': 30, 'max_days_ahead': 120, **fields}
    return event_types.create_event_type(session=session, host_id=host.id, data=EventTypeInput(**data))


def next_monday(weeks_ahead: int = 2) -> date:
    """A Monday at least `weeks_ahead` weeks from today, so notice and 'now' never interfere."""
    today = datetime.now(timezone.utc).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def at(day: date, clock: str, zone: str = 'Europe/London') -> datetime:
    """An aware instant for a wall-clock time on a day in a zone."""
    from zoneinfo import ZoneInfo

    hours, minutes = map(int, clock.split(':'))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def add_past_bookings(session: Session, event_type: EventType, *, count: int, before: datetime) -> None:
    """`count` half-hour bookings of an event type, one every hour back from `before`, every tenth cancelled:
    plain rows inserted directly (history is only data), the newest first so SQLite's overlap check stays cheap."""
    template = {
        'host_id': event_type.host_id,
        'event_type_id': event_type.id,
        'buffer_before_minutes': 0,
        'buffer_after_minutes': 0,
        'sequence': 0,
        'invitee_name': 'Past Guest',
        'invitee_email': 'past@example.com',
        'invitee_timezone': 'Europe/London',
        'notes': '',
        'answers': {},
        'manage_token_hash': '0' * 64,
        'manage_token_encrypted': b'-',
        'cancel_reason': '',
        'calendar_event_id': '',
        'meeting_url': '',
        'proposal_message': '',
        'created_at': before,
        'updated_at': before,
    }
    rows = [
        {
            **template,
            'uid': f'past-{event_type.id}-{n}',
            'start_at': before - timedelta(hours=n + 1),
            'end_at': before - timedelta(hours=n + 1) + timedelta(minutes=30),
            'status': BOOKING_CANCELLED if n % 10 == 9 else BOOKING_CONFIRMED,
        }
        for n in range(count)
    ]
    for first in range(0, count, 2000):
        session.execute(sa.insert(Booking), rows[first : first + 2000])
