"""Free times for the pickers of the booking and manage pages: read in a worker thread, shared per host change."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import partial

from app.db import session_scope
from app.live import shared_load
from app.models import EventType
from components.slot_picker import MonthSlots
from pages.blocking import off_loop
from services import availability
from services.slots import Slot


def now() -> datetime:
    return datetime.now(timezone.utc)


async def month_slots(host_id: int, event_type_id: int, month: date, zone: str,
                      exclude_uid: str | None = None) -> MonthSlots:
    """The free times of one month of the invitee's local dates (none once the event type is switched off)."""
    days, problem = await shared_load(host_id, ('month', event_type_id, month, zone, exclude_uid),
                                      partial(_month_slots, event_type_id, month, zone, exclude_uid))
    return MonthSlots(days=days, degraded=problem)


async def first_free_day(event_type_id: int, after: date, zone: str) -> date | None:
    return await off_loop(_first_free_day, event_type_id, after, zone)


def _month_slots(event_type_id: int, month: date, zone: str,
                 exclude_uid: str | None) -> tuple[dict[date, list[Slot]], str]:
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active:
            return {}, ''
        return availability.month_offer(session=session, event_type=event_type, first=month, last=last,
                                        zone=zone, now=now(), exclude_uid=exclude_uid)


def _first_free_day(event_type_id: int, after: date, zone: str) -> date | None:
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active:
            return None
        return availability.first_free_day(session=session, event_type=event_type, after=after, zone=zone, now=now())
