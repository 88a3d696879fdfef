"""Availability: gathers a host's schedule and busy times from the database and asks the slot engine."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from app.db import session_scope
from app.errors import Unavailable
from app.i18n import N_
from app.models import HOLDING, LONGEST_BOOKING, Booking, BookingStatus, EventType, Schedule
from services import event_types, kept_settings, offer_cache, schedules, slots
from services.calendars import busy

MARGIN = timedelta(days=2)  # room for buffers and windows that run through midnight
YEARS = (1971, 9000)


CALENDARS_UNCHECKED = N_(
    "Some of the host's calendars can't be checked right now, so those times aren't offered. "
    'Please try again in a few minutes.'
)
CALENDAR_UNCHECKED = N_("The host's calendar can't be checked right now. Please try again in a few minutes.")


@dataclass(frozen=True, slots=True)
class Offer:
    slots: list[slots.Slot]
    problem: str = ''  # why some times could not be checked (they are not offered)


def offer(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_uid: str | None = None,
    mode: str = 'page',
    duration: int | None = None,
) -> Offer:
    """The slots of an event type starting in [start, end), as the rules and the host's calendars offer them
    (`mode`: see `busy.busy_times`), for one of its lengths (`duration`, default its own)."""
    if not (YEARS[0] <= start.year and end.year <= YEARS[1]):  # nothing is ever offered there (and no overflow)
        return Offer([])
    calendars = busy.busy_times(
        host_id=event_type.host_id, start=start - MARGIN, end=end + MARGIN, session=session, mode=mode
    )
    calendar_busy = calendars.busy
    if exclude_uid:  # a booking being moved: its own event in the host's calendar does not block its new time
        own = session.exec(
            select(Booking.start_at, Booking.end_at, Booking.status).where(Booking.uid == exclude_uid)
        ).first()
        if own is not None and own[2] == BookingStatus.CONFIRMED:  # a pending request has no event there yet
            calendar_busy = without(calendar_busy, [(own[0], own[1])])
    rules = event_types.engine_rules(event_type, duration)
    schedule = schedules.engine_schedule(schedule_of(session=session, event_type=event_type))
    lo, hi = counted_span(rules, schedule.timezone, max(start, now) - MARGIN, end + MARGIN)
    found = slots.offered_slots(
        schedule=schedule,
        rules=rules,
        now=now,
        start=start,
        end=end,
        busy=calendar_busy,
        bookings=_existing_bookings(session, event_type, lo, hi, exclude_uid),
    )
    return Offer(found, calendars.problem)


def counted_span(rules: slots.EventRules, zone: str, lo: datetime, hi: datetime) -> tuple[datetime, datetime]:
    """The bookings to read for slots in [lo, hi): widened to whole weeks or months when those are limited, since
    every meeting of the period counts, also those before now."""
    period = 'month' if rules.monthly_limit else 'week' if rules.weekly_limit else ''
    if not period:
        return lo, hi
    tz = ZoneInfo(zone)
    first = slots.period_span(lo.astimezone(tz).date(), period)[0]
    last = slots.period_span(hi.astimezone(tz).date(), period)[1]
    return slots.local_dates_span(first, last - timedelta(days=1), zone)


def cached_link_offer(
    *, username: str, slug: str, start: datetime, end: datetime, now: datetime, duration: int | None = None
) -> Offer | None:
    """`link_offer` from memory alone, when everything it needs is cached and the host has no calendar connection
    (no database, no thread: an async route may answer at once); None when something must be read."""
    cache = offer_cache.get()
    plan = cache.peek_plan(username, slug)
    if plan is None or not busy.surely_without_calendars(plan.host_id) or _counts_periods(plan):
        return None
    if not (YEARS[0] <= start.year and end.year <= YEARS[1]):
        return Offer([])
    minutes = event_types.chosen_duration(plan.event_type, duration)
    kept = cache.peek_window(_window_key(plan, minutes), start, end)
    if kept is not None:
        return Offer(kept)
    rows = cache.peek_bookings(plan.host_id, max(start, now) - MARGIN, end + MARGIN)
    if rows is None:
        return None
    return _plan_offer(plan, rows, [], '', start, end, now, minutes)


ANSWER_SECONDS = 30.0


def answer_lifetime(*, username: str, slug: str, found: Offer, now: datetime) -> tuple[int, float] | None:
    """How long a finished answer for this link stays right, as (host id, seconds), or None when it must not be
    kept: a host with calendars (their busy times change on their own) or an answer with unchecked times. Changes
    of bookings and settings drop it at once; the passing of time makes its first slot fall inside the minimum
    notice, which ends its life then, and at most ANSWER_SECONDS later anyway (a grid that moves with `now`, or a
    booking window that grows at midnight, are seen by then)."""
    plan = offer_cache.get().peek_plan(username, slug)
    if plan is None or found.problem or not busy.surely_without_calendars(plan.host_id):
        return None
    seconds = ANSWER_SECONDS
    if found.slots:
        seconds = min(seconds, (found.slots[0].start - timedelta(minutes=plan.rules.min_notice) - now).total_seconds())
    return (plan.host_id, seconds) if seconds > 1 else None


def link_offer(
    *, username: str, slug: str, start: datetime, end: datetime, now: datetime, duration: int | None = None
) -> Offer:
    """The public read path behind a booking link: the plan (event type, schedule, rules) and the host's bookings
    come from the offer cache, so a warm request asks the database only for the host's calendar connections."""
    cache = offer_cache.get()
    changes = cache.changes
    with session_scope() as session:
        plan = cache.plan(username, slug, lambda: offer_cache.load_plan(session, username, slug))
        minutes = event_types.chosen_duration(plan.event_type, duration)
        if not (YEARS[0] <= start.year and end.year <= YEARS[1]):
            return Offer([])
        if busy.surely_without_calendars(plan.host_id) and not _counts_periods(plan):
            return _window_offer(session, plan, minutes, start, end, now, changes)
        calendars = busy.busy_times(
            host_id=plan.host_id, start=start - MARGIN, end=end + MARGIN, session=session, mode='page'
        )
        if _counts_periods(plan):  # whole weeks or months count, also before the cached horizon
            lo, hi = counted_span(plan.rules, plan.schedule.timezone, max(start, now) - MARGIN, end + MARGIN)
            rows = offer_cache.booking_rows(session, plan.host_id, lo, hi)
        else:
            rows = cache.bookings(session, plan.host_id, max(start, now) - MARGIN, end + MARGIN, now)
    return _plan_offer(plan, rows, calendars.busy, calendars.problem, start, end, now, minutes)


def _window_key(plan: offer_cache.Plan, minutes: int) -> tuple[object, ...]:
    return ('window', plan.host_id, plan.event_type_id, minutes)


def _window_offer(
    session: Session, plan: offer_cache.Plan, minutes: int, start: datetime, end: datetime, now: datetime, changes: int
) -> Offer:
    """For a host without calendars: the slots of the link's whole booking window, computed once and kept like a
    finished answer (a change drops it; it lives until its first slot falls inside the notice, at most
    ANSWER_SECONDS), so that every new question (another zone, another range) is a slice of it."""
    cache = offer_cache.get()
    kept = cache.peek_window(_window_key(plan, minutes), start, end)
    if kept is not None:
        return Offer(kept)
    last = now + timedelta(days=plan.rules.max_days_ahead + 2)  # past the window's last local midnight
    rows = cache.bookings(session, plan.host_id, now - MARGIN, last + MARGIN, now)
    whole = _plan_offer(plan, rows, [], '', now, last, now, minutes).slots
    seconds = ANSWER_SECONDS
    if whole:
        seconds = min(seconds, (whole[0].start - timedelta(minutes=plan.rules.min_notice) - now).total_seconds())
    if seconds > 1:
        cache.keep_window(_window_key(plan, minutes), plan.host_id, whole, seconds, changes)
    first, stop = bisect.bisect_left(whole, (start,)), bisect.bisect_left(whole, (end,))
    return Offer(whole[first:stop])


def _counts_periods(plan: offer_cache.Plan) -> bool:
    return bool(plan.rules.weekly_limit or plan.rules.monthly_limit)


def _plan_offer(
    plan: offer_cache.Plan,
    rows: list[tuple[str, datetime, datetime, int, int, int | None]],
    calendar_busy: list[slots.Busy],
    problem: str,
    start: datetime,
    end: datetime,
    now: datetime,
    duration: int,
) -> Offer:
    booked = [
        slots.ExistingBooking(row[1], row[2], row[3], row[4], same_event_type=row[5] == plan.event_type_id)
        for row in rows
    ]
    rules = plan.rules if duration == plan.rules.duration else replace(plan.rules, duration=duration)
    found = slots.offered_slots(
        schedule=plan.schedule, rules=rules, now=now, start=start, end=end, busy=calendar_busy, bookings=booked
    )
    return Offer(found, problem)


def offered_slots(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_uid: str | None = None,
) -> list[slots.Slot]:
    return offer(session=session, event_type=event_type, start=start, end=end, now=now, exclude_uid=exclude_uid).slots


def is_offered(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    now: datetime,
    exclude_uid: str | None = None,
    duration: int | None = None,
) -> slots.Slot | None:
    """The server-side re-check: is `start` exactly one of the offered instants right now? When a calendar of the
    host cannot be checked, nobody can book (503) rather than risk a double booking."""
    found = offer(
        session=session,
        event_type=event_type,
        start=start,
        end=start + timedelta(seconds=1),
        now=now,
        exclude_uid=exclude_uid,
        mode='locked',
        duration=duration,
    )  # under the write lock: cache only
    if found.problem:
        raise Unavailable(CALENDAR_UNCHECKED)
    return next((slot for slot in found.slots if slot.start == start), None)


def warm_calendars(*, host_id: int, start: datetime, session: Session | None = None) -> None:
    """Fetch the host's busy times around `start`, best before a write transaction takes its lock (then the
    re-check under the lock finds them cached). Give the caller's `session` when it may already hold one."""
    if YEARS[0] <= start.year <= YEARS[1]:
        busy.busy_times(host_id=host_id, start=start - MARGIN, end=start + MARGIN, session=session, mode='booking')


def warm_for_booking(*, uid: str, start: datetime | None = None, current: bool = False) -> None:
    """Warm the calendars of a booking's host around `start` (default: the time the host proposed, or with
    `current` its own time), before the write transaction of a reschedule, an accepted proposal or a confirmation."""
    with session_scope() as session:
        found = session.exec(
            select(Booking.host_id, Booking.proposed_start_at, Booking.start_at).where(Booking.uid == uid)
        ).first()
    if found is None:
        return
    host_id, proposed, own = found
    moment = start or (own if current else proposed)
    if moment is not None:
        warm_calendars(host_id=host_id, start=moment)


def without(blocks: list[slots.Busy], cuts: list[tuple[datetime, datetime]]) -> list[slots.Busy]:
    """Busy blocks with each [start, end) of `cuts` cut out of them (bookings being moved: their own events)."""
    for start, end in cuts:
        kept = []
        for block in blocks:
            if block.end <= start or end <= block.start:
                kept.append(block)
                continue
            if block.start < start:
                kept.append(slots.Busy(block.start, start))
            if end < block.end:
                kept.append(slots.Busy(end, block.end))
        blocks = kept
    return blocks


def schedule_of(*, session: Session, event_type: EventType) -> Schedule:
    found = kept_settings.kept(session, event_type.host_id)
    if found is not None and found.event_type.id == event_type.id:
        return found.schedule
    if event_type.schedule_id is not None:
        schedule = session.get(Schedule, event_type.schedule_id)
        if schedule is not None:
            return schedule
    return schedules.default_schedule(session=session, host_id=event_type.host_id)


_BOOKED = Booking.__table__.c  # type: ignore[attr-defined]  # SQLModel tables are untyped here
# Built once, as a Core statement: the re-check runs it inside every booking's write lock. (A Core statement does
# not flush the session first: a booking being changed is left out by `exclude_uid`, never read from its row.)
_EXISTING = sa.select(
    _BOOKED.uid,
    _BOOKED.start_at,
    _BOOKED.end_at,
    _BOOKED.buffer_before_minutes,
    _BOOKED.buffer_after_minutes,
    _BOOKED.event_type_id,
).where(
    _BOOKED.host_id == sa.bindparam('host_id'),
    _BOOKED.status.in_([status.value for status in HOLDING]),
    _BOOKED.end_at > sa.bindparam('lo'),
    _BOOKED.start_at < sa.bindparam('hi'),
    _BOOKED.start_at > sa.bindparam('floor'),  # bounds the index range: past bookings are never read
)


def _existing_bookings(
    session: Session, event_type: EventType, lo: datetime, hi: datetime, exclude_uid: str | None
) -> list[slots.ExistingBooking]:
    rows = session.execute(
        _EXISTING, {'host_id': event_type.host_id, 'lo': lo, 'hi': hi, 'floor': lo - LONGEST_BOOKING}
    )
    return [
        slots.ExistingBooking(start, end, before, after, same_event_type=type_id == event_type.id)
        for uid, start, end, before, after, type_id in rows
        if uid != exclude_uid
    ]


def slots_by_local_day(
    *,
    session: Session,
    event_type: EventType,
    first: date,
    last: date,
    zone: str,
    now: datetime,
    exclude_uid: str | None = None,
    duration: int | None = None,
) -> dict[date, list[slots.Slot]]:
    """Offered slots of the invitee's local dates first..last, grouped by those dates (rule 8)."""
    return month_offer(
        session=session,
        event_type=event_type,
        first=first,
        last=last,
        zone=zone,
        now=now,
        exclude_uid=exclude_uid,
        duration=duration,
    )[0]


def month_offer(
    *,
    session: Session,
    event_type: EventType,
    first: date,
    last: date,
    zone: str,
    now: datetime,
    exclude_uid: str | None = None,
    duration: int | None = None,
) -> tuple[dict[date, list[slots.Slot]], str]:
    """Like `slots_by_local_day`, with the reason some times could not be checked ('' when all could)."""
    if event_type.team_id is not None:  # a team's event type (a team booking being moved): its members' times
        from services import team_slots  # (team slots build on this module)

        return team_slots.month(
            session=session,
            event_type=event_type,
            first=first,
            last=last,
            zone=zone,
            now=now,
            duration=duration,
            exclude_uid=exclude_uid,
        )
    lo, hi = slots.local_dates_span(first, last, zone)
    tz = ZoneInfo(zone)
    days: dict[date, list[slots.Slot]] = {}
    found = offer(
        session=session, event_type=event_type, start=lo, end=hi, now=now, exclude_uid=exclude_uid, duration=duration
    )
    for slot in found.slots:
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return days, CALENDARS_UNCHECKED if found.problem else ''


def first_free_day(
    *, session: Session, event_type: EventType, after: date, zone: str, now: datetime, duration: int | None = None
) -> date | None:
    """The first local date after `after` with a free time, searching up to the end of the booking window."""
    horizon = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=event_type.max_days_ahead + 1)
    first = after + timedelta(days=1)
    while first <= horizon:
        last = min(first + timedelta(days=61), horizon)
        days = slots_by_local_day(
            session=session, event_type=event_type, first=first, last=last, zone=zone, now=now, duration=duration
        )
        if days:
            return min(days)
        first = last + timedelta(days=1)
    return None


# --- read models for the pickers (each in its own short read) --------------------------------------------------


def picker_month(
    *,
    event_type_id: int,
    month: date,
    zone: str,
    now: datetime,
    exclude_uid: str | None = None,
    duration: int | None = None,
) -> tuple[dict[date, list[slots.Slot]], str]:
    """The free times of one month of the invitee's local dates (none once the event type is switched off)."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active:
            return {}, ''
        return month_offer(
            session=session,
            event_type=event_type,
            first=month,
            last=last,
            zone=zone,
            now=now,
            exclude_uid=exclude_uid,
            duration=duration,
        )


def picker_next_free_day(
    *, event_type_id: int, after: date, zone: str, now: datetime, duration: int | None = None
) -> date | None:
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active:
            return None
        return first_free_day(
            session=session, event_type=event_type, after=after, zone=zone, now=now, duration=duration
        )
