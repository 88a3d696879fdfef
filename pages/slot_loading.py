"""Free times for the pickers of the booking and manage pages: read in a worker thread, shared per host change."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import partial

from components.slot_picker import MonthSlots
from pages.blocking import off_loop
from pages.live import shared_load
from services import availability


def now() -> datetime:
    return datetime.now(timezone.utc)


async def month_slots(
    host_id: int,
    event_type_id: int,
    month: date,
    zone: str,
    exclude_uid: str | None = None,
    duration: int | None = None,
) -> MonthSlots:
    """The free times of one month of the invitee's local dates (none once the event type is switched off), for
    one of its lengths."""
    days, problem = await shared_load(
        host_id,
        ('month', event_type_id, month, zone, exclude_uid, duration),
        partial(
            availability.picker_month,
            event_type_id=event_type_id,
            month=month,
            zone=zone,
            now=now(),
            exclude_uid=exclude_uid,
            duration=duration,
        ),
    )
    return MonthSlots(days=days, degraded=problem)


async def first_free_day(event_type_id: int, after: date, zone: str, duration: int | None = None) -> date | None:
    return await off_loop(
        availability.picker_next_free_day,
        event_type_id=event_type_id,
        after=after,
        zone=zone,
        now=now(),
        duration=duration,
    )
