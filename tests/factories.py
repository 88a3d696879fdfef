"""Readable factories for tests: make_host(...), make_event_type(...), and dates that are always ahead."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session

from app.models import EventType, Host
from services import event_types, hosts
from services.event_types import EventTypeInput


def make_host(session: Session, *, username: str = 'ada', timezone_name: str = 'Europe/London', **kw: Any) -> Host:
    return hosts.create_host(session=session, email=kw.get('email', f'{username}@example.com'),
                             name=kw.get('name', username.title()), username=username, timezone=timezone_name)


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
