"""The worked examples of slot-rules.md and the named DST, midnight, notice, window and limit cases."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from services.slots import Busy, EventRules, ExistingBooking, Schedule, WallInterval, is_offered, offered_slots

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def hm(text: str) -> int:
    hours, minutes = text.split(':')
    return int(hours) * 60 + int(minutes)


def windows(*pairs: tuple[str, str]) -> tuple[WallInterval, ...]:
    return tuple(WallInterval(hm(a), hm(b)) for a, b in pairs)


def every_day(zone: str, *pairs: tuple[str, str]) -> Schedule:
    return Schedule(zone, {day: windows(*pairs) for day in range(7)})


def weekdays(zone: str, *pairs: tuple[str, str]) -> Schedule:
    return Schedule(zone, {day: windows(*pairs) for day in range(5)})


def starts(
    schedule: Schedule, rules: EventRules, first: str, last: str, now: datetime = NOW, **inputs: object
) -> list[str]:
    slots = offered_slots(schedule=schedule, rules=rules, now=now, start=utc(first), end=utc(last), **inputs)
    return [slot.start.strftime('%H:%M') for slot in slots]


KOLKATA = every_day('Asia/Kolkata', ('09:30', '18:00'))
DAY = ('2026-12-07 00:00', '2026-12-08 00:00')


def rules(**kw: int) -> EventRules:
    return EventRules(**{'max_days_ahead': 365, **kw})


@pytest.mark.parametrize(
    ('name', 'event', 'inputs', 'expected'),
    [
        (
            '1: D = I = 30 gives 17 half-hour slots',
            rules(duration=30),
            {},
            [f'{h:02d}:{m:02d}' for h in range(4, 13) for m in (0, 30)][:17],
        ),
        (
            '2: D = I = 45 aligns to 15',
            rules(duration=45),
            {},
            ['04:00', '04:45', '05:30', '06:15', '07:00', '07:45', '08:30', '09:15', '10:00', '10:45', '11:30'],
        ),
        (
            '3: the grid restarts at the end of a booking',
            rules(duration=45),
            {'bookings': [ExistingBooking(utc('2026-12-07 04:00'), utc('2026-12-07 04:15'))]},
            ['04:15', '05:00', '05:45', '06:30', '07:15', '08:00', '08:45', '09:30', '10:15', '11:00', '11:45'],
        ),
        (
            '4: interval 120 aligns to the hour',
            rules(duration=30, interval=120),
            {},
            ['04:30', '06:30', '08:30', '10:30'],
        ),
        (
            '5: buffers clear a calendar busy block',
            rules(duration=120, buffer_before=120, buffer_after=120),
            {'busy': [Busy(utc('2026-12-07 04:00'), utc('2026-12-07 06:00'))]},
            ['08:30', '10:30'],
        ),
    ],
)
def test_worked_examples_in_kolkata(name: str, event: EventRules, inputs: dict, expected: list[str]) -> None:
    assert starts(KOLKATA, event, *DAY, **inputs) == expected, name


def test_example_6_override_replaces_the_weekly_rules_in_london_summer_time() -> None:
    monday = date(2027, 6, 7)
    schedule = Schedule('Europe/London', {0: windows(('09:00', '17:00'))}, {monday: windows(('12:00', '15:00'))})
    assert starts(schedule, rules(duration=60), '2027-06-07 00:00', '2027-06-08 00:00') == ['11:00', '12:00', '13:00']


def test_example_7_first_slot_after_clocks_go_back_in_new_york_stays_at_nine_local() -> None:
    schedule = weekdays('America/New_York', ('09:00', '17:00'))
    got = starts(schedule, rules(duration=60), '2026-11-02 00:00', '2026-11-03 00:00', now=utc('2026-10-01 00:00'))
    assert got[0] == '14:00'
    assert got[-1] == '21:00'


def test_example_8_an_interval_with_no_alignment_steps_from_the_free_range_start() -> None:
    schedule = every_day('UTC', ('07:22', '08:00'))
    assert starts(schedule, rules(duration=8), *DAY) == ['07:22', '07:30', '07:38', '07:46']


def test_spring_forward_offers_no_slot_in_the_skipped_hour_and_keeps_wall_clock_hours() -> None:
    schedule = every_day('Europe/Berlin', ('01:00', '04:00'))
    got = offered_slots(
        schedule=schedule, rules=rules(duration=30), now=NOW, start=utc('2027-03-27 22:00'), end=utc('2027-03-28 22:00')
    )
    local = [s.start.astimezone(ZoneInfo('Europe/Berlin')).strftime('%H:%M') for s in got]
    # 02:00-03:00 does not exist on 28 March 2027 in Berlin; the window is 01:00 CET to 04:00 CEST: two hours.
    assert local == ['01:00', '01:30', '03:00', '03:30']


def test_fall_back_offers_no_duplicate_in_the_repeated_hour() -> None:
    schedule = every_day('Europe/Berlin', ('01:00', '04:00'))
    got = offered_slots(
        schedule=schedule, rules=rules(duration=60), now=NOW, start=utc('2027-10-30 22:00'), end=utc('2027-10-31 22:00')
    )
    assert [s.start for s in got] == sorted(set(s.start for s in got))
    # 01:00 CEST to 04:00 CET is four real hours.
    assert [s.start.strftime('%H:%M') for s in got] == ['23:00', '00:00', '01:00', '02:00']


def test_windows_touching_at_midnight_merge_into_one_range() -> None:
    schedule = Schedule('UTC', {0: windows(('23:00', '24:00')), 1: windows(('00:00', '00:30'))})
    got = starts(schedule, rules(duration=90, interval=30), '2026-12-07 00:00', '2026-12-09 00:00')
    assert got == ['23:00']


def test_a_slot_may_run_past_midnight_inside_a_merged_window() -> None:
    schedule = Schedule('UTC', {0: windows(('22:00', '24:00')), 1: windows(('00:00', '01:00'))})
    got = starts(schedule, rules(duration=60), '2026-12-07 00:00', '2026-12-08 00:00')
    assert got == ['22:00', '23:00']


def test_half_hour_zone_aligns_on_local_wall_clock() -> None:
    schedule = every_day('Asia/Kathmandu', ('09:00', '11:00'))  # UTC+05:45
    got = starts(schedule, rules(duration=60), '2026-12-07 00:00', '2026-12-08 00:00')
    assert got == ['03:15', '04:15']


def test_minimum_notice_moves_the_first_slot_to_the_next_aligned_time() -> None:
    schedule = every_day('UTC', ('09:00', '17:00'))
    now = utc('2026-12-07 09:10')
    got = starts(schedule, rules(duration=30, min_notice=120), '2026-12-07 00:00', '2026-12-08 00:00', now=now)
    assert got[0] == '11:30'


def test_past_times_are_never_offered() -> None:
    schedule = every_day('UTC', ('09:00', '17:00'))
    got = starts(schedule, rules(duration=60), '2026-12-07 00:00', '2026-12-08 00:00', now=utc('2026-12-07 15:00'))
    assert got == ['15:00', '16:00']


def test_booking_window_ends_at_local_midnight_after_today_plus_w_days() -> None:
    schedule = every_day('America/Los_Angeles', ('09:00', '10:00'))
    now = utc('2026-12-01 12:00')  # 04:00 on 1 December in Los Angeles
    got = offered_slots(
        schedule=schedule,
        rules=EventRules(duration=60, max_days_ahead=2),
        now=now,
        start=utc('2026-12-01 00:00'),
        end=utc('2026-12-10 00:00'),
    )
    assert [s.start.astimezone(ZoneInfo('America/Los_Angeles')).day for s in got] == [1, 2, 3]


def test_daily_limit_closes_a_day_with_enough_bookings_of_this_event_type() -> None:
    schedule = every_day('UTC', ('09:00', '12:00'))
    own = ExistingBooking(utc('2026-12-07 09:00'), utc('2026-12-07 09:30'), same_event_type=True)
    other = ExistingBooking(utc('2026-12-08 09:00'), utc('2026-12-08 09:30'), same_event_type=False)
    got = offered_slots(
        schedule=schedule,
        rules=rules(duration=60, daily_limit=1),
        now=NOW,
        start=utc('2026-12-07 00:00'),
        end=utc('2026-12-09 00:00'),
        bookings=[own, other],
    )
    assert [s.start.strftime('%d %H:%M') for s in got] == ['08 10:00', '08 11:00']  # 09:30 rounds up to the hour


def test_buffers_of_existing_booking_and_new_event_stack() -> None:
    schedule = every_day('UTC', ('09:00', '13:00'))
    booking = ExistingBooking(utc('2026-12-07 10:00'), utc('2026-12-07 10:30'), buffer_before=15, buffer_after=15)
    got = starts(schedule, rules(duration=30, buffer_before=15, buffer_after=15), *DAY, bookings=[booking])
    # Blocked 09:45-10:45, widened by the new meeting's buffers to 09:30-11:00.
    assert got == ['09:00', '11:00', '11:30', '12:00', '12:30']


def test_buffers_may_lie_outside_working_hours() -> None:
    schedule = every_day('UTC', ('09:00', '10:00'))
    got = starts(schedule, rules(duration=60, buffer_before=30, buffer_after=30), *DAY)
    assert got == ['09:00']


def test_is_offered_accepts_an_offered_start_and_refuses_an_unaligned_one() -> None:
    inputs = {'schedule': KOLKATA, 'rules': rules(duration=30), 'now': NOW}
    assert is_offered(start=utc('2026-12-07 04:30'), **inputs)
    assert not is_offered(start=utc('2026-12-07 04:10'), **inputs)
    assert not is_offered(start=utc('2026-12-07 12:30'), **inputs)
