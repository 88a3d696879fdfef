"""The slot engine: which start times an event type offers.

A pure implementation of docs/slot-rules.md: plain values in, value objects out. No I/O, no clock, no settings;
`now` is an argument. Internally every instant is an integer POSIX second, which keeps 60 days of slots in
a few milliseconds.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

ALIGNMENTS = (60, 30, 20, 15, 10, 5)
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class WallInterval:
    """A wall-clock interval of one local day, in minutes after midnight (`end` may be 1440, i.e. 24:00)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """Weekly rules (0 = Monday) and date overrides, read in an IANA time zone."""

    timezone: str
    weekly: Mapping[int, Sequence[WallInterval]]
    overrides: Mapping[date, Sequence[WallInterval]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventRules:
    """The event type's slot settings, all in minutes except the booking window (days)."""

    duration: int
    interval: int | None = None
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int = 0
    max_days_ahead: int = 60
    daily_limit: int | None = None
    weekly_limit: int | None = None  # weeks start on Monday in the schedule's zone
    monthly_limit: int | None = None  # calendar months in the schedule's zone
    seats: int = 1  # invitees who may book the same start


@dataclass(frozen=True, slots=True)
class Busy:
    """An opaque busy block from a connected calendar. Its bounds as POSIX seconds (start floored, end ceiled: a
    partial second counts as busy) are worked out once, when it is made: a block is kept in the calendar cache and
    read by every answer that needs it."""

    start: datetime
    end: datetime
    first: int = field(init=False, repr=False, compare=False)
    last: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, 'first', int(self.start.timestamp()))
        object.__setattr__(self, 'last', -int(-self.end.timestamp()))


@dataclass(frozen=True, slots=True)
class ExistingBooking:
    """A confirmed booking of the host, with its own event type's buffers."""

    start: datetime
    end: datetime
    buffer_before: int = 0
    buffer_after: int = 0
    same_event_type: bool = False


class Slot(NamedTuple):
    """One offered meeting time, as UTC instants; `seats_left` when the event type has more than one seat."""

    start: datetime
    end: datetime
    seats_left: int | None = None


def offered_slots(
    *,
    schedule: Schedule,
    rules: EventRules,
    now: datetime,
    start: datetime,
    end: datetime,
    busy: Iterable[Busy] = (),
    bookings: Sequence[ExistingBooking] = (),
) -> list[Slot]:
    """Every slot whose start lies in [start, end), ascending and unique. With seats, a start that already holds
    bookings of this event type (same start and length) stays offered while seats are left, when it would be
    offered without them; any other overlap blocks as usual."""
    if rules.seats > 1:
        return _seated(
            schedule=schedule, rules=rules, now=now, start=start, end=end, busy=list(busy), bookings=bookings
        )
    return _offered(schedule=schedule, rules=rules, now=now, start=start, end=end, busy=busy, bookings=bookings)


def _seated(
    *,
    schedule: Schedule,
    rules: EventRules,
    now: datetime,
    start: datetime,
    end: datetime,
    busy: list[Busy],
    bookings: Sequence[ExistingBooking],
) -> list[Slot]:
    groups: dict[tuple[datetime, datetime], int] = {}
    for b in bookings:
        if b.same_event_type:
            groups[(b.start, b.end)] = groups.get((b.start, b.end), 0) + 1
    found = {
        slot.start: slot._replace(seats_left=rules.seats)
        for slot in _offered(
            schedule=schedule, rules=rules, now=now, start=start, end=end, busy=busy, bookings=bookings
        )
    }
    length = timedelta(minutes=rules.duration)
    for (g0, g1), taken in groups.items():
        if taken >= rules.seats or g1 - g0 != length or not (start <= g0 < end):
            continue
        others = [b for b in bookings if not (b.same_event_type and (b.start, b.end) == (g0, g1))]
        if _offered(
            schedule=schedule, rules=rules, now=now, start=g0, end=g0 + timedelta(seconds=1), busy=busy, bookings=others
        ):
            found[g0] = Slot(g0, g1, rules.seats - taken)
    return [found[key] for key in sorted(found)]


def _offered(
    *,
    schedule: Schedule,
    rules: EventRules,
    now: datetime,
    start: datetime,
    end: datetime,
    busy: Iterable[Busy],
    bookings: Sequence[ExistingBooking],
) -> list[Slot]:
    length, utc = rules.duration * 60, timezone.utc
    return [
        Slot(datetime.fromtimestamp(s, utc), datetime.fromtimestamp(s + length, utc))
        for s in offered_starts(
            schedule=schedule, rules=rules, now=now, start=start, end=end, busy=busy, bookings=bookings
        )
    ]


def offered_starts(
    *,
    schedule: Schedule,
    rules: EventRules,
    now: datetime,
    start: datetime,
    end: datetime,
    busy: Iterable[Busy] = (),
    bookings: Sequence[ExistingBooking] = (),
    shared: dict[tuple[object, ...], Any] | None = None,
) -> list[int]:
    """The starts `offered_slots` gives without seats, as POSIX seconds: for merging many hosts' offers (a team)
    in one pass. `shared` keeps rule 1's windows, and rule 4's aligned instants, between calls for hosts of one
    schedule (most free ranges of a team's members start at the same instants)."""
    zone = ZoneInfo(schedule.timezone)
    step = (rules.interval or rules.duration) * 60
    length = rules.duration * 60
    earliest = math.ceil(now.timestamp()) + rules.min_notice * 60
    lo = math.ceil(start.timestamp())
    hi = min(math.ceil(end.timestamp()), _window_end(now, zone, rules.max_days_ahead))
    if max(lo, earliest) >= hi or step <= 0 or length <= 0:
        return []
    key = (id(schedule), max(lo, earliest), hi, earliest, rules.duration)
    windows = shared.get(key) if shared is not None else None
    if windows is None:
        windows = _windows(schedule, zone, max(lo, earliest), hi, earliest, rules.duration)
        if shared is not None:
            shared[key] = windows
    blocked = _blocked(busy, bookings, rules)
    full_days = _full_periods(bookings, zone, rules)
    alignment = _alignment(step // 60)
    starts: list[int] = []
    for r0, r1 in _subtract(windows, blocked):
        if r1 <= lo or r0 >= hi:
            continue
        s = _aligned(max(r0, earliest), alignment, zone, shared)
        if s < lo:
            s += -(-(lo - s) // step) * step
        starts.extend(range(s, min(r1 - length, hi - 1) + 1, step))  # s, s + step, ... while s + D <= r1, s < hi
    if full_days:
        starts = [s for s in starts if not _inside(s, full_days)]
    return starts


def is_offered(
    *,
    start: datetime,
    schedule: Schedule,
    rules: EventRules,
    now: datetime,
    busy: Iterable[Busy] = (),
    bookings: Sequence[ExistingBooking] = (),
) -> bool:
    """Whether `start` is exactly one of the instants the rules offer (the server-side re-check)."""
    slots = offered_slots(
        schedule=schedule,
        rules=rules,
        now=now,
        start=start,
        end=start + timedelta(seconds=1),
        busy=busy,
        bookings=bookings,
    )
    return any(slot.start == start for slot in slots)


def local_dates_span(first: date, last: date, zone_name: str) -> tuple[datetime, datetime]:
    """The instants [first 00:00, last + 1 day 00:00) of local dates `first`..`last` in a zone."""
    zone = ZoneInfo(zone_name)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def alignment_for(interval_minutes: int) -> int | None:
    """Rule 4: the first of 60, 30, 20, 15, 10, 5 that divides the interval, or None."""
    return _alignment(interval_minutes)


def _alignment(interval_minutes: int) -> int | None:
    return next((a for a in ALIGNMENTS if interval_minutes % a == 0), None)


def _window_end(now: datetime, zone: ZoneInfo, days_ahead: int) -> int:
    """Rule 6: starts must fall before local midnight after today + W days."""
    last_day = now.astimezone(zone).date() + timedelta(days=days_ahead + 1)
    return int(datetime.combine(last_day, time(), zone).timestamp())


def _windows(
    schedule: Schedule, zone: ZoneInfo, first: int, last: int, earliest: int, duration: int
) -> list[tuple[int, int]]:
    """Rule 1: merged availability windows covering every start in [first, last)."""
    day = _local_date(first, zone) - timedelta(days=1)
    floor_day = _local_date(earliest, zone) - timedelta(days=1)
    # A window that runs through midnight may begin days earlier; its start decides the grid (rule 5).
    while day > floor_day and any(w.start == 0 for w in _rules_for(schedule, day)):
        day -= timedelta(days=1)
    stop = _local_date(last, zone) + timedelta(days=1 + math.ceil(duration / MINUTES_PER_DAY))
    spans: list[tuple[int, int]] = []
    while day <= stop:
        for w in _rules_for(schedule, day):
            spans.append((_instant(day, w.start, zone), _instant(day, w.end, zone)))
        day += timedelta(days=1)
    return _merge(spans)


def _rules_for(schedule: Schedule, day: date) -> Sequence[WallInterval]:
    override = schedule.overrides.get(day)
    return override if override is not None else schedule.weekly.get(day.weekday(), ())


def _instant(day: date, minute: int, zone: ZoneInfo) -> int:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    return int(datetime.combine(day, time(minute // 60, minute % 60), zone).timestamp())


def _local_date(ts: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, zone).date()


def _blocked(busy: Iterable[Busy], bookings: Sequence[ExistingBooking], rules: EventRules) -> list[tuple[int, int]]:
    """Rule 2: busy blocks, each widened so that the new meeting's own buffers clear it."""
    before, after = rules.buffer_before * 60, rules.buffer_after * 60
    # int() floors and -int(-x) ceils the (positive) timestamps: a partial second counts as busy.
    spans = [(b.first - after, b.last + before) for b in busy if b.last > b.first]
    spans += [
        (
            int(b.start.timestamp()) - b.buffer_before * 60 - after,
            -int(-b.end.timestamp()) + b.buffer_after * 60 + before,
        )
        for b in bookings
        if b.end > b.start
    ]
    return _merge(spans)


def _full_periods(bookings: Sequence[ExistingBooking], zone: ZoneInfo, rules: EventRules) -> list[tuple[int, int]]:
    """Rule 7: local days, weeks (from Monday) and calendar months that already hold their limit of meetings of
    this event type (the bookings of one seated start are one meeting)."""
    spans: list[tuple[int, int]] = []
    for limit, first_day, next_first in (
        (rules.daily_limit, _same_day, _next_day),
        (rules.weekly_limit, _monday, _next_week),
        (rules.monthly_limit, _first_of_month, _next_month),
    ):
        if limit is None:
            continue
        meetings: dict[date, set[datetime]] = {}
        for b in bookings:
            if b.same_event_type:
                meetings.setdefault(first_day(b.start.astimezone(zone).date()), set()).add(b.start)
        spans += [
            (_instant(day, 0, zone), _instant(next_first(day), 0, zone))
            for day, starts in meetings.items()
            if len(starts) >= limit
        ]
    return _merge(spans)


def period_span(day: date, period: str) -> tuple[date, date]:
    """The local dates [first, next first) of the day, week (from Monday) or calendar month holding `day`."""
    first, following = {
        'day': (_same_day, _next_day),
        'week': (_monday, _next_week),
        'month': (_first_of_month, _next_month),
    }[period]
    return first(day), following(first(day))


def _same_day(day: date) -> date:
    return day


def _next_day(day: date) -> date:
    return day + timedelta(days=1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _next_week(monday: date) -> date:
    return monday + timedelta(days=7)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def _inside(ts: int, spans: list[tuple[int, int]]) -> bool:
    i = bisect_right(spans, (ts, math.inf)) - 1
    return i >= 0 and spans[i][0] <= ts < spans[i][1]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or touching spans."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _subtract(windows: list[tuple[int, int]], blocked: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rule 3: windows minus blocked spans (both sorted and merged)."""
    free: list[tuple[int, int]] = []
    i = 0
    for w0, w1 in windows:
        while i < len(blocked) and blocked[i][1] <= w0:
            i += 1
        cursor, j = w0, i
        while j < len(blocked) and blocked[j][0] < w1:
            if blocked[j][0] > cursor:
                free.append((cursor, blocked[j][0]))
            cursor = max(cursor, blocked[j][1])
            j += 1
        if cursor < w1:
            free.append((cursor, w1))
    return free


def _aligned(ts: int, alignment: int | None, zone: ZoneInfo, shared: dict[tuple[object, ...], Any] | None) -> int:
    if shared is None:
        return _align(ts, alignment, zone)
    key = ('align', zone.key, alignment, ts)
    found = shared.get(key)
    if found is None:
        found = shared[key] = _align(ts, alignment, zone)
    return int(found)


def _align(ts: int, alignment: int | None, zone: ZoneInfo) -> int:
    """Rule 4: the first instant at or after `ts` whose wall-clock minute of day is a multiple of the alignment."""
    if alignment is None:
        return ts
    unit = alignment * 60
    for _ in range(4):  # an offset change inside one unit needs a second look
        # an aware datetime always has an offset; typeshed's Optional covers naive ones
        offset = int(datetime.fromtimestamp(ts, zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        remainder = (ts + offset) % unit
        if remainder == 0:
            return ts
        ts += unit - remainder
    return ts
