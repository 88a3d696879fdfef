"""Free times of a team event type: every rule of slot-rules.md applied per member, then merged.

A member's free time is their schedule (the one they chose for the event type, else their default), their
calendars (a calendar that cannot be checked makes its whole window busy: never offered on a guess) and every
booking they hold, personal or team (a collective booking's holds included). Round robin offers the union of the
members' starts, collective their intersection. The members' data is read in one query per kind (schedules,
bookings, calendar connections), each member's starts come from the one slot engine (services/slots.py) over the
same window, and the merge is one pass over the sorted starts.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app import events
from app.errors import Unavailable
from app.models import HOLDING, LONGEST_BOOKING, Booking, EventType, Schedule, TeamEventMember
from services import event_types, offer_cache, schedules, slots
from services.availability import CALENDARS_UNCHECKED, MARGIN, YEARS, without
from services.calendars import busy as calendar_busy

LIMIT_PERIOD_MARGIN = timedelta(days=32)  # weekly and monthly limits count every meeting of the period


@dataclass(frozen=True, slots=True)
class MemberTimes:
    """What decides one member's free time for one event type over a window."""

    host_id: int
    schedule: slots.Schedule
    busy: list[slots.Busy]
    bookings: list[slots.ExistingBooking]
    problem: str = ''  # why some of their calendars could not be checked


@dataclass(frozen=True, slots=True)
class TeamOffer:
    slots: list[slots.Slot]
    problem: str = ''


def offer(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    end: datetime,
    now: datetime,
    duration: int | None = None,
    mode: str = 'page',
    exclude_uid: str | None = None,
) -> TeamOffer:
    """The starts in [start, end) a team event type offers: union (round robin) or intersection (collective);
    `exclude_uid`: a booking being moved (it and its holds block nothing)."""
    if not (YEARS[0] <= start.year and end.year <= YEARS[1]):
        return TeamOffer([])
    rules = event_types.engine_rules(event_type, duration)
    members = member_times(
        session=session,
        event_type=event_type,
        start=start,
        end=end,
        now=now,
        mode=mode,
        exclude_uids=_with_holds(session, exclude_uid),
    )
    problem = '; '.join(m.problem for m in members if m.problem)
    if rules.seats > 1:  # seats left differ per member: the engine's slots, merged by start
        offered = [
            slots.offered_slots(
                schedule=m.schedule, rules=rules, now=now, start=start, end=end, busy=m.busy, bookings=m.bookings
            )
            for m in members
        ]
        return TeamOffer(_union(offered) if event_type.assignment != 'collective' else _intersection(offered), problem)
    return TeamOffer(
        merged_slots(members, rules, now, start, end, collective=event_type.assignment == 'collective'), problem
    )


def merged_slots(
    members: list[MemberTimes],
    rules: slots.EventRules,
    now: datetime,
    start: datetime,
    end: datetime,
    *,
    collective: bool,
) -> list[slots.Slot]:
    """Each member's starts from the engine as plain seconds (members of one schedule share its windows), merged
    in one pass: the union, or the starts every member has; only the result becomes slots."""
    shared: dict[tuple[object, ...], Any] = {}
    found: set[int] | None = None
    # When the grid is the wall clock's own (the step is one of the alignments), a member can only offer starts of
    # their schedule's unblocked grid: once the union holds all of those, that member (and any other member of the
    # schedule) adds nothing and is skipped.
    on_clock_grid = not collective and slots.alignment_for(rules.interval or rules.duration) == (
        rules.interval or rules.duration
    )
    grids: dict[int, set[int]] = {}
    for member in members:
        if on_clock_grid and found is not None:
            grid = grids.get(id(member.schedule))
            if grid is None:
                grid = grids[id(member.schedule)] = set(
                    slots.offered_starts(
                        schedule=member.schedule, rules=rules, now=now, start=start, end=end, shared=shared
                    )
                )
            if grid <= found:
                continue
        starts = slots.offered_starts(
            schedule=member.schedule,
            rules=rules,
            now=now,
            start=start,
            end=end,
            busy=member.busy,
            bookings=member.bookings,
            shared=shared,
        )
        if found is None:
            found = set(starts)
        elif collective:
            found.intersection_update(starts)
        else:
            found.update(starts)
    length, utc = rules.duration * 60, timezone.utc
    return [
        slots.Slot(datetime.fromtimestamp(s, utc), datetime.fromtimestamp(s + length, utc)) for s in sorted(found or ())
    ]


def free_members(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    now: datetime,
    host_ids: list[int] | None = None,
    exclude_uids: Iterable[str] = (),
    duration: int | None = None,
    every: bool = False,
) -> list[int]:
    """The members (of `host_ids`, default every host of the event type) for whom `start` is offered right now:
    the server-side re-check under the write lock (cached calendars only). A member whose calendar cannot be
    checked is not free; when that leaves nobody free (or `every` member must be free), the answer is 503 rather
    than a guess."""
    rules = event_types.engine_rules(event_type, duration)
    members = member_times(
        session=session,
        event_type=event_type,
        start=start,
        end=start + timedelta(seconds=1),
        now=now,
        mode='locked',
        host_ids=host_ids,
        exclude_uids=set(exclude_uids),
    )
    free = [
        m.host_id
        for m in members
        if not m.problem
        and any(
            s.start == start
            for s in slots.offered_slots(
                schedule=m.schedule,
                rules=rules,
                now=now,
                start=start,
                end=start + timedelta(seconds=1),
                busy=m.busy,
                bookings=m.bookings,
            )
        )
    ]
    if (not free or every) and any(m.problem for m in members):
        raise Unavailable("A team member's calendar can't be checked right now. Please try again in a few minutes.")
    return free


def member_times(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    end: datetime,
    now: datetime,
    mode: str = 'page',
    host_ids: list[int] | None = None,
    exclude_uids: set[str] | None = None,
) -> list[MemberTimes]:
    """Each member's schedule, calendar busy times and bookings around [start, end), read in one query per kind
    (a page's read takes the members' schedules and bookings from memory when they are current)."""
    hosting, chosen = _plan(session, event_type, cached=mode == 'page' and host_ids is None)
    ids = sorted(hosting if host_ids is None else set(host_ids))
    if not ids:
        return []
    if not set(ids) <= set(chosen):
        chosen = _schedules(session, ids, hosting)
    calendars = calendar_busy.busy_times_of_hosts(
        host_ids=ids, start=start - MARGIN, end=end + MARGIN, session=session, mode=mode
    )
    lo, hi = max(start, now) - MARGIN, end + MARGIN
    rules = event_types.engine_rules(event_type)
    if rules.weekly_limit or rules.monthly_limit:
        lo, hi = lo - LIMIT_PERIOD_MARGIN, hi + LIMIT_PERIOD_MARGIN
    if mode == 'page' and not exclude_uids and lo == max(start, now) - MARGIN:  # no weekly or monthly counts
        booked = _cached_bookings(session, ids, event_type.id, lo, hi, now)
    else:
        booked = _bookings(session, ids, event_type.id, lo, hi, exclude_uids or set())
    moving = _moving_blocks(session, exclude_uids or set())
    return [
        MemberTimes(
            host_id,
            chosen[host_id],
            without(calendars[host_id].busy, moving),
            booked.get(host_id, []),
            calendars[host_id].problem,
        )
        for host_id in ids
        if host_id in chosen
    ]


def by_local_day(found: TeamOffer, zone: str) -> tuple[dict[date, list[slots.Slot]], str]:
    tz = ZoneInfo(zone)
    days: dict[date, list[slots.Slot]] = {}
    for slot in found.slots:
        days.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return days, CALENDARS_UNCHECKED if found.problem else ''


def month(
    *,
    session: Session,
    event_type: EventType,
    first: date,
    last: date,
    zone: str,
    now: datetime,
    duration: int | None = None,
    exclude_uid: str | None = None,
) -> tuple[dict[date, list[slots.Slot]], str]:
    """Free times of the invitee's local dates first..last, grouped by those dates."""
    lo, hi = slots.local_dates_span(first, last, zone)
    return by_local_day(
        offer(
            session=session,
            event_type=event_type,
            start=lo,
            end=hi,
            now=now,
            duration=duration,
            exclude_uid=exclude_uid,
        ),
        zone,
    )


def _with_holds(session: Session, uid: str | None) -> set[str] | None:
    """A booking's uid with its holds' uids (None when no booking is named)."""
    if not uid:
        return None
    held = session.exec(
        select(Booking.uid).where(Booking.parent_id == select(Booking.id).where(Booking.uid == uid).scalar_subquery())
    ).all()
    return {uid, *held}


# --- helpers ---------------------------------------------------------------------------------------------------


def _union(offered: list[list[slots.Slot]]) -> list[slots.Slot]:
    merged: list[slots.Slot] = []
    for slot in heapq.merge(*offered, key=lambda s: s.start):
        if not merged or merged[-1].start != slot.start:
            merged.append(slot)
    return merged


def _intersection(offered: list[list[slots.Slot]]) -> list[slots.Slot]:
    if not offered:
        return []
    common = set.intersection(*({s.start for s in found} for found in offered))
    return [s for s in offered[0] if s.start in common]


PLAN_SECONDS = 30.0
_plans: dict[int, tuple[float, dict[int, int | None], dict[int, slots.Schedule]]] = {}


def _plan(
    session: Session, event_type: EventType, *, cached: bool
) -> tuple[dict[int, int | None], dict[int, slots.Schedule]]:
    """Who hosts the event type and each one's engine schedule; kept for pages until a settings change of anybody
    (schedules, teams, event types) or PLAN_SECONDS."""
    found = _plans.get(event_type.id or 0) if cached else None
    if found is not None and found[0] > time.monotonic():
        return found[1], found[2]
    changes = _changes[0]
    hosting = {
        r.host_id: r.schedule_id
        for r in session.exec(select(TeamEventMember).where(TeamEventMember.event_type_id == event_type.id))
    }
    chosen = _schedules(session, sorted(hosting), hosting) if hosting else {}
    if changes == _changes[0]:
        _plans[event_type.id or 0] = (time.monotonic() + PLAN_SECONDS, hosting, chosen)
    return hosting, chosen


_changes = [0]


def listen() -> Callable[[], None]:
    """Forget the kept plans after every committed settings change (the composition root wires this up)."""

    def forget(_event: events.SettingsChanged) -> None:
        _changes[0] += 1
        _plans.clear()

    _plans.clear()
    return events.subscribe_settings(forget)


def _cached_bookings(
    session: Session, ids: list[int], event_type_id: int | None, lo: datetime, hi: datetime, now: datetime
) -> dict[int, list[slots.ExistingBooking]]:
    cache = offer_cache.get()
    return {
        host_id: [
            slots.ExistingBooking(start, end, before, after, same_event_type=type_id == event_type_id)
            for _, start, end, before, after, type_id in cache.bookings(session, host_id, lo, hi, now)
        ]
        for host_id in ids
    }


def _schedules(session: Session, ids: list[int], hosting: dict[int, int | None]) -> dict[int, slots.Schedule]:
    """Each member's chosen schedule (when it is still theirs), else their default."""
    rows = session.exec(select(Schedule).where(col(Schedule.host_id).in_(ids))).all()
    own = {r.id: r for r in rows}
    chosen: dict[int, slots.Schedule] = {}
    for row in rows:
        if row.is_default:
            chosen.setdefault(row.host_id, schedules.engine_schedule(row))
    for host_id in ids:
        picked = own.get(hosting.get(host_id) or -1)
        if picked is not None and picked.host_id == host_id:
            chosen[host_id] = schedules.engine_schedule(picked)
    return chosen


def _bookings(
    session: Session, ids: list[int], event_type_id: int | None, lo: datetime, hi: datetime, exclude_uids: set[str]
) -> dict[int, list[slots.ExistingBooking]]:
    rows = session.exec(
        select(
            Booking.host_id,
            Booking.uid,
            Booking.start_at,
            Booking.end_at,  # type: ignore[call-overload]
            Booking.buffer_before_minutes,
            Booking.buffer_after_minutes,
            Booking.event_type_id,
        ).where(
            col(Booking.host_id).in_(ids),
            col(Booking.status).in_(HOLDING),
            Booking.end_at > lo,
            Booking.start_at < hi,
            Booking.start_at > lo - LONGEST_BOOKING,
        )
    )
    found: dict[int, list[slots.ExistingBooking]] = {}
    for host_id, uid, start, end, before, after, type_id in rows:
        if uid not in exclude_uids:
            found.setdefault(host_id, []).append(
                slots.ExistingBooking(start, end, before, after, same_event_type=type_id == event_type_id)
            )
    return found


def _moving_blocks(session: Session, uids: set[str]) -> list[tuple[datetime, datetime]]:
    """The times of bookings being moved: their own events in the members' calendars do not block a new time."""
    if not uids:
        return []
    return [(s, e) for s, e in session.exec(select(Booking.start_at, Booking.end_at).where(col(Booking.uid).in_(uids)))]
