"""Property tests of the slot engine's invariants (slot-rules.md), over random schedules, busy times and zones."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.slots import Busy, EventRules, ExistingBooking, Schedule, WallInterval, local_dates_span, offered_slots

ZONES = [
    'UTC',
    'Europe/London',
    'Europe/Berlin',
    'America/New_York',
    'America/Sao_Paulo',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'America/St_Johns',
]
START = datetime(2026, 10, 20, tzinfo=timezone.utc)  # spans the EU and US clock changes


@st.composite
def day_rules(draw: st.DrawFn) -> tuple[WallInterval, ...]:
    points = sorted(draw(st.lists(st.integers(0, 96), min_size=0, max_size=4, unique=True)))
    pairs = list(zip(points[::2], points[1::2]))
    return tuple(WallInterval(a * 15, b * 15) for a, b in pairs if b > a)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    zone = draw(st.sampled_from(ZONES))
    weekly = {day: draw(day_rules()) for day in range(7)}
    duration = draw(st.sampled_from([8, 15, 20, 30, 45, 60, 90]))
    rules = EventRules(
        duration=duration,
        interval=draw(st.sampled_from([None, 5, 7, 10, 15, 30, 60, 120])),
        buffer_before=draw(st.sampled_from([0, 5, 15, 30])),
        buffer_after=draw(st.sampled_from([0, 10, 15, 60])),
        min_notice=draw(st.sampled_from([0, 30, 240, 1440])),
        max_days_ahead=draw(st.integers(1, 30)),
    )
    now = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 10)))
    busy = [
        Busy(START + timedelta(minutes=m), START + timedelta(minutes=m + length))
        for m, length in draw(st.lists(st.tuples(st.integers(0, 60 * 24 * 20), st.integers(1, 300)), max_size=12))
    ]
    bookings = [
        ExistingBooking(START + timedelta(minutes=m * 15), START + timedelta(minutes=m * 15 + 30), 10, 5)
        for m in draw(st.lists(st.integers(0, 4 * 24 * 20), max_size=8))
    ]
    return {
        'schedule': Schedule(zone, weekly),
        'rules': rules,
        'now': now,
        'busy': busy,
        'bookings': bookings,
        'start': START,
        'end': START + timedelta(days=20),
    }


def _windows_by_day(schedule: Schedule, slot_start: datetime, slot_end: datetime) -> bool:
    """The meeting lies inside the union of the day windows around it (computed naively, minute by minute)."""
    zone = ZoneInfo(schedule.timezone)
    t = slot_start
    while t < slot_end:
        local = t.astimezone(zone)
        day = local.date()
        covered = False
        for offset in (-1, 0):
            d = day + timedelta(days=offset)
            for w in schedule.weekly.get(d.weekday(), ()):
                w0 = _wall(d, w.start, zone)
                w1 = _wall(d, w.end, zone)
                covered = covered or (w0 <= t < w1)
        if not covered:
            return False
        t += timedelta(minutes=1)
    return True


def _wall(d, minute: int, zone: ZoneInfo) -> datetime:
    if minute == 1440:
        d, minute = d + timedelta(days=1), 0
    return datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=zone)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_slots_are_sorted_unique_and_respect_notice_window_and_busy_times(case: dict) -> None:
    slots = offered_slots(**case)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    rules: EventRules = case['rules']
    zone = ZoneInfo(case['schedule'].timezone)
    last_day = case['now'].astimezone(zone).date() + timedelta(days=rules.max_days_ahead)
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=rules.duration)
        assert slot.start >= case['now'] + timedelta(minutes=rules.min_notice)
        assert case['start'] <= slot.start < case['end']
        assert slot.start.astimezone(zone).date() <= last_day
        with_buffers = (
            slot.start - timedelta(minutes=rules.buffer_before),
            slot.end + timedelta(minutes=rules.buffer_after),
        )
        for b in case['busy']:
            assert not (b.start < with_buffers[1] and with_buffers[0] < b.end)
        for b in case['bookings']:
            blocked = (b.start - timedelta(minutes=b.buffer_before), b.end + timedelta(minutes=b.buffer_after))
            assert not (blocked[0] < with_buffers[1] and with_buffers[0] < blocked[1])


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_every_meeting_lies_inside_the_working_windows(case: dict) -> None:
    for slot in offered_slots(**case)[:40]:
        assert _windows_by_day(case['schedule'], slot.start, slot.end)


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_the_invitee_zone_never_changes_which_instants_are_offered(case: dict, zone_a: str, zone_b: str) -> None:
    """Asking day by day in any invitee zone yields the same instants as one request over the whole span."""
    first, last = START.date() + timedelta(days=2), START.date() + timedelta(days=12)
    union = {}
    for zone in (zone_a, zone_b):
        got = []
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            lo, hi = local_dates_span(day, day, zone)
            got += [s.start for s in offered_slots(**{**case, 'start': lo, 'end': hi})]
        union[zone] = got
    lo = max(local_dates_span(first, last, z)[0] for z in (zone_a, zone_b))
    hi = min(local_dates_span(first, last, z)[1] for z in (zone_a, zone_b))
    a = [s for s in union[zone_a] if lo <= s < hi]
    b = [s for s in union[zone_b] if lo <= s < hi]
    assert a == b
    whole = [s.start for s in offered_slots(**{**case, 'start': lo, 'end': hi})]
    assert a == whole
