"""What the read path needs per request, kept between requests: the plan behind a booking link (host, event type,
the slot engine's schedule and rules) and each host's standing bookings.

Only the public read path (slots API, pickers) uses it; every booking and reschedule re-checks against the
database under the write lock. Entries are dropped by the change that makes them stale, published after its
commit (`SettingsChanged` for event types, schedules and profiles; `BookingChanged` for bookings), and expire
after a short while in any case, so a change made by another process is seen within seconds.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar, cast

from sqlmodel import Session, col, select

from app import events
from app.models import HOLDING, LONGEST_BOOKING, Booking, EventType, Schedule
from services import event_types, schedules, slots

PLAN_SECONDS = 30.0
T = TypeVar('T')
BOOKINGS_SECONDS = 10.0
HORIZON = timedelta(days=3)  # bookings are kept from this long before now (buffers, windows through midnight)


@dataclass(frozen=True, slots=True)
class Plan:
    host_id: int
    event_type_id: int
    event_type: EventType  # a detached snapshot: read it, never add it to a session
    schedule: slots.Schedule
    rules: slots.EventRules


@dataclass(frozen=True, slots=True)
class _Booked:
    starts: list[datetime]  # sorted, for bisecting a range
    rows: list[tuple[str, datetime, datetime, int, int, int | None]]
    since: datetime


class OfferCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[tuple[str, str], tuple[float, Plan]] = {}
        self._booked: dict[int, tuple[float, _Booked]] = {}
        self._generation: dict[int, int] = {}  # per host: bookings loaded before a change are not kept
        self._changes = 0  # any change: answers and windows computed before it are not kept
        self._settings_changes = 0  # a change of settings: plans and pages loaded before it are not kept
        self._pages: dict[tuple[str, str], tuple[float, int, object]] = {}
        self._answers: dict[tuple[object, ...], tuple[float, int, bytes]] = {}  # whole public answers
        # a link's offer over its whole booking window, sliced for each new question (another zone or range)
        self._windows: dict[tuple[object, ...], tuple[float, int, list[datetime], list[slots.Slot]]] = {}

    def plan(self, username: str, slug: str, load: Callable[[], Plan]) -> Plan:
        key = (username.lower(), slug.lower())
        found = self._plans.get(key)
        if found is not None and found[0] > time.monotonic():
            return found[1]
        changes = self._settings_changes
        plan = load()
        with self._lock:
            if self._settings_changes == changes:  # no settings changed while it loaded
                self._plans[key] = (time.monotonic() + PLAN_SECONDS, plan)
        return plan

    def page(self, username: str, slug: str, load: Callable[[], tuple[int, T]]) -> T:
        """A booking page's read model (host profile, event type, video link), kept like a plan; `load` returns
        the host's id with it."""
        key = (username.lower(), slug.lower())
        found = self._pages.get(key)
        if found is not None and found[0] > time.monotonic():
            return cast(T, found[2])
        changes = self._settings_changes
        host_id, value = load()
        with self._lock:
            if self._settings_changes == changes:
                self._pages[key] = (time.monotonic() + PLAN_SECONDS, host_id, value)
        return value

    def peek_answer(self, key: tuple[object, ...]) -> bytes | None:
        found = self._answers.get(key)
        return found[2] if found is not None and found[0] > time.monotonic() else None

    def keep_answer(self, key: tuple[object, ...], host_id: int, body: bytes, seconds: float, changes: int) -> None:
        """Keep a finished answer for `seconds`, unless something changed since `changes` was read."""
        with self._lock:
            if self._changes == changes:
                if len(self._answers) > 5000:  # a bound on memory: many zones and ranges of many links
                    self._answers.clear()
                self._answers[key] = (time.monotonic() + seconds, host_id, body)

    def peek_window(self, key: tuple[object, ...], start: datetime, end: datetime) -> list[slots.Slot] | None:
        """The kept slots starting in [start, end) of a whole-window offer, if one is kept."""
        found = self._windows.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        starts, kept = found[2], found[3]
        return kept[bisect.bisect_left(starts, start) : bisect.bisect_left(starts, end)]

    def keep_window(
        self, key: tuple[object, ...], host_id: int, found: list[slots.Slot], seconds: float, changes: int
    ) -> None:
        """Keep a whole-window offer for `seconds`, unless something changed since `changes` was read."""
        with self._lock:
            if self._changes == changes:
                if len(self._windows) > 1000:
                    self._windows.clear()
                self._windows[key] = (time.monotonic() + seconds, host_id, [slot.start for slot in found], found)

    @property
    def changes(self) -> int:
        return self._changes

    def peek_plan(self, username: str, slug: str) -> Plan | None:
        """The plan when it is cached and current, else None (never asks the database)."""
        found = self._plans.get((username.lower(), slug.lower()))
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def peek_bookings(
        self, host_id: int, lo: datetime, hi: datetime
    ) -> list[tuple[str, datetime, datetime, int, int, int | None]] | None:
        """The host's bookings touching [lo, hi) when the cache holds them, else None."""
        found = self._booked.get(host_id)
        if found is None or found[0] <= time.monotonic() or lo < found[1].since:
            return None
        return _within(found[1], lo, hi)

    def bookings(
        self, session: Session, host_id: int, lo: datetime, hi: datetime, now: datetime
    ) -> list[tuple[str, datetime, datetime, int, int, int | None]]:
        """The host's confirmed bookings that may touch [lo, hi): from the cache when it covers `lo`."""
        found = self._booked.get(host_id)
        if found is None or found[0] <= time.monotonic() or lo < found[1].since:
            generation = self._generation.get(host_id, 0)
            since = min(lo, now - HORIZON)
            booked = _load_bookings(session, host_id, since)
            with self._lock:
                if self._generation.get(host_id, 0) == generation:
                    self._booked[host_id] = (time.monotonic() + BOOKINGS_SECONDS, booked)
        else:
            booked = found[1]
        return _within(booked, lo, hi)

    def forget(self, host_id: int, *, settings: bool = True) -> None:
        """Drop what a change of the host's bookings makes stale (their bookings, finished answers and windows),
        and with `settings` also their plans and pages (a booking changes neither)."""
        with self._lock:
            self._generation[host_id] = self._generation.get(host_id, 0) + 1
            self._booked.pop(host_id, None)
            self._answers = {k: v for k, v in self._answers.items() if v[1] != host_id}
            self._windows = {k: v for k, v in self._windows.items() if v[1] != host_id}
            self._changes += 1
            if settings:
                self._plans = {k: v for k, v in self._plans.items() if v[1].host_id != host_id}
                self._pages = {k: v for k, v in self._pages.items() if v[1] != host_id}
                self._settings_changes += 1


def _within(booked: _Booked, lo: datetime, hi: datetime) -> list[tuple[str, datetime, datetime, int, int, int | None]]:
    first = bisect.bisect_right(booked.starts, lo - LONGEST_BOOKING)
    last = bisect.bisect_left(booked.starts, hi)
    return [row for row in booked.rows[first:last] if row[2] > lo]


def load_plan(session: Session, username: str, slug: str) -> Plan:
    """The plan behind a booking link, read from the database (NotFound when it is not bookable)."""
    host, event_type = event_types.bookable_event_type(session=session, username=username, slug=slug)
    schedule = _schedule_of(session, event_type)
    assert host.id is not None and event_type.id is not None
    session.expunge(event_type)
    return Plan(
        host.id, event_type.id, event_type, schedules.engine_schedule(schedule), event_types.engine_rules(event_type)
    )


def _schedule_of(session: Session, event_type: EventType) -> Schedule:
    if event_type.schedule_id is not None:
        schedule = session.get(Schedule, event_type.schedule_id)
        if schedule is not None:
            return schedule
    return schedules.default_schedule(session=session, host_id=event_type.host_id)


def _load_bookings(session: Session, host_id: int, since: datetime) -> _Booked:
    rows = session.exec(
        select(
            Booking.uid,
            Booking.start_at,
            Booking.end_at,  # type: ignore[call-overload]  # typed for 4 columns
            Booking.buffer_before_minutes,
            Booking.buffer_after_minutes,
            Booking.event_type_id,
        )
        .where(
            Booking.host_id == host_id,
            col(Booking.status).in_(HOLDING),
            col(Booking.start_at) > since - LONGEST_BOOKING,
        )
        .order_by(col(Booking.start_at))
    ).all()
    found = [tuple(row) for row in rows]
    return _Booked([row[1] for row in found], found, since)


def booking_rows(
    session: Session, host_id: int, lo: datetime, hi: datetime
) -> list[tuple[str, datetime, datetime, int, int, int | None]]:
    """The host's holding bookings overlapping [lo, hi), read now (for spans the cache does not keep)."""
    rows = session.exec(
        select(
            Booking.uid,
            Booking.start_at,
            Booking.end_at,  # type: ignore[call-overload]  # typed for 4 columns
            Booking.buffer_before_minutes,
            Booking.buffer_after_minutes,
            Booking.event_type_id,
        ).where(
            Booking.host_id == host_id,
            col(Booking.status).in_(HOLDING),
            col(Booking.end_at) > lo,
            col(Booking.start_at) < hi,
            col(Booking.start_at) > lo - LONGEST_BOOKING,
        )
    ).all()
    return [tuple(row) for row in rows]


_cache = OfferCache()


def get() -> OfferCache:
    return _cache


def listen() -> Callable[[], None]:
    """Start an empty cache that drops a host's entries after each committed change of its bookings or settings
    (the composition root wires this up; without it the entries only expire)."""
    global _cache
    cache = _cache = OfferCache()
    stops = [
        events.subscribe(lambda event: cache.forget(event.host_id, settings=False)),
        events.subscribe_settings(lambda event: cache.forget(event.host_id)),
    ]

    def stop() -> None:
        for unsubscribe in stops:
            unsubscribe()

    return stop
