"""Slot engine benchmark: one host, 60 days, two windows a day, 300 bookings, 1,000 calendar busy blocks,
15-minute interval. Prints the median and spread of repeated runs."""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from services.slots import Busy, EventRules, ExistingBooking, Schedule, WallInterval, offered_slots

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
DAYS = 60


def scenario() -> dict:
    rng = random.Random(7)
    two_windows = (WallInterval(9 * 60, 12 * 60), WallInterval(13 * 60, 18 * 60))
    schedule = Schedule('Europe/Berlin', {day: two_windows for day in range(7)})
    bookings = [
        ExistingBooking(start, start + timedelta(minutes=30), 5, 10, same_event_type=rng.random() < 0.5)
        for start in (NOW + timedelta(minutes=15 * rng.randrange(4 * 24 * DAYS)) for _ in range(300))
    ]
    busy = [
        Busy(start, start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90])))
        for start in (NOW + timedelta(minutes=5 * rng.randrange(12 * 24 * DAYS)) for _ in range(1000))
    ]
    return {
        'schedule': schedule,
        'rules': EventRules(
            duration=30, interval=15, buffer_before=5, buffer_after=5, max_days_ahead=DAYS, daily_limit=6
        ),
        'now': NOW,
        'start': NOW,
        'end': NOW + timedelta(days=DAYS),
        'busy': busy,
        'bookings': bookings,
    }


def measure(runs: int = 200) -> list[float]:
    inputs = scenario()
    offered_slots(**inputs)  # warm the zone cache
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        offered_slots(**inputs)
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def main() -> None:
    inputs = scenario()
    count = len(offered_slots(**inputs))
    timings = measure()
    q = statistics.quantiles(timings, n=20)
    print(f'slot engine, {DAYS} days, 2 windows/day, 300 bookings, 1000 busy blocks, 15-min interval: {count} slots')
    print(
        f'  median {statistics.median(timings):.2f} ms   p5 {q[0]:.2f} ms   p95 {q[-1]:.2f} ms   ({len(timings)} runs)'
    )


if __name__ == '__main__':
    main()
