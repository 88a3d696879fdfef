"""The team merge against the slot engine itself: for members in different zones with their own busy times and
bookings, the round-robin offer is exactly the union of each member's offer and the collective one exactly the
intersection (the shared windows and alignments change nothing)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from services import slots
from services.slots import Busy, EventRules, ExistingBooking, Schedule, WallInterval
from services.team_slots import MemberTimes, merged_slots

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
ZONES = ('Europe/London', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe')


def members(seed: int, count: int) -> list[MemberTimes]:
    rng = random.Random(seed)
    shared = {
        zone: Schedule(zone, {d: (WallInterval(8 * 60, 12 * 60), WallInterval(13 * 60, 18 * 60)) for d in range(5)})
        for zone in ZONES
    }
    found = []
    for n in range(count):
        zone = ZONES[n % len(ZONES)]
        busy = [
            Busy(start, start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90])))
            for start in (NOW + timedelta(minutes=15 * rng.randrange(4 * 24 * 35)) for _ in range(40))
        ]
        booked = [
            ExistingBooking(start, start + timedelta(minutes=30), 5, 10, same_event_type=rng.random() < 0.5)
            for start in (NOW + timedelta(minutes=30 * rng.randrange(2 * 24 * 35)) for _ in range(10))
        ]
        found.append(MemberTimes(n + 1, shared[zone], sorted(busy, key=lambda b: b.start), booked))
    return found


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize(
    'rules',
    [
        EventRules(duration=30),
        EventRules(duration=45, interval=15, buffer_before=10, buffer_after=5, min_notice=120, daily_limit=2),
        EventRules(duration=60, interval=20, max_days_ahead=20),
    ],
)
def test_the_merge_is_the_union_or_intersection_of_the_members_engine_offers(seed: int, rules: EventRules) -> None:
    team = members(seed, 12)
    start, end = NOW, NOW + timedelta(days=31)
    each = [
        {
            s.start
            for s in slots.offered_slots(
                schedule=m.schedule, rules=rules, now=NOW, start=start, end=end, busy=m.busy, bookings=m.bookings
            )
        }
        for m in team
    ]
    union = merged_slots(team, rules, NOW, start, end, collective=False)
    common = merged_slots(team[:3], rules, NOW, start, end, collective=True)
    assert [s.start for s in union] == sorted(set().union(*each))
    assert [s.start for s in common] == sorted(set.intersection(*each[:3]))
    assert union and common  # neither side is trivially empty
    assert all(s.end - s.start == timedelta(minutes=rules.duration) for s in union)


@pytest.mark.parametrize('seed', range(3))
@pytest.mark.parametrize(
    'rules', [EventRules(duration=30), EventRules(duration=45, interval=15, daily_limit=3), EventRules(duration=45)]
)
def test_a_large_round_robin_whose_union_fills_its_grids_is_still_exactly_the_union(
    seed: int, rules: EventRules
) -> None:
    """Members whose schedule's grid the union already holds are skipped; the answer stays the exact union."""
    team = members(seed, 60)
    start, end = NOW, NOW + timedelta(days=31)
    each = [
        {
            s.start
            for s in slots.offered_slots(
                schedule=m.schedule, rules=rules, now=NOW, start=start, end=end, busy=m.busy, bookings=m.bookings
            )
        }
        for m in team
    ]
    assert [s.start for s in merged_slots(team, rules, NOW, start, end, collective=False)] == sorted(set().union(*each))
