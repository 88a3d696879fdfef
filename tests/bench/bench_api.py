"""API benchmark against the real server on loopback (SQLite): public slots latency for one day and 31 days,
and the booking rate of 10 concurrent clients booking distinct slots."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from app import db
from app.db import session_scope
from tests.e2e.server import running_server
from tests.factories import make_event_type, make_host, next_monday

MONDAY = next_monday(1)


def seed(data_dir: Path) -> None:
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session, username='bench', timezone_name='Europe/Berlin')
        make_event_type(session, host, slug='call', duration_minutes=30, max_days_ahead=90)
        make_event_type(session, host, slug='quick', duration_minutes=15, max_days_ahead=90)
    engine.dispose()


def latency(client: httpx.Client, url: str, params: dict, runs: int = 300) -> list[float]:
    client.get(url, params=params).raise_for_status()
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        client.get(url, params=params).raise_for_status()
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def booking_rate(base: str, clients: int = 10, per_client: int = 40) -> tuple[float, dict[int, int]]:
    """Each client books its own distinct 15-minute slots (weekdays 09:00-17:00 Berlin)."""
    slots = httpx.get(
        f'{base}/api/v1/public/bench/quick/slots',
        params={'start': MONDAY.isoformat(), 'end': (MONDAY + timedelta(days=40)).isoformat(), 'timezone': 'UTC'},
    ).json()
    starts = [s['start'] for s in slots['slots']][: clients * per_client]
    statuses: dict[int, int] = {}
    lock, barrier = threading.Lock(), threading.Barrier(clients + 1)

    def run(mine: list[str]) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            for i, start in enumerate(mine):
                r = client.post(
                    f'{base}/api/v1/public/bench/quick/bookings',
                    json={'start': start, 'name': f'Bench {i}', 'email': f'bench{i}@example.com', 'timezone': 'UTC'},
                )
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=run, args=(starts[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return len(starts) / (time.perf_counter() - t0), statuses


def report(label: str, timings: list[float]) -> None:
    q = statistics.quantiles(timings, n=20)
    print(f'  {label}: p50 {statistics.median(timings):.2f} ms   p95 {q[-1]:.2f} ms   ({len(timings)} requests)')


EXTRA_ENV: dict[str, str] = {}


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-'))
    seed(data_dir)
    # one client address books them all here: the per-address booking limit is switched off for the measurement
    with (
        running_server(data_dir=data_dir, env={'CLOUDMEET_BOOKING_RATE_LIMIT': '0', **EXTRA_ENV}) as base,
        httpx.Client() as client,
    ):
        url = f'{base}/api/v1/public/bench/call/slots'
        day = MONDAY.isoformat()
        print('public slots API on loopback (SQLite, one server process):')
        report('1 day  ', latency(client, url, {'start': day, 'end': day, 'timezone': 'America/New_York'}))
        month_end = (MONDAY + timedelta(days=30)).isoformat()
        report('31 days', latency(client, url, {'start': day, 'end': month_end, 'timezone': 'America/New_York'}))
        rates = [booking_rate(base, per_client=20) for _ in range(3)]
        for rate, statuses in rates:
            print(f'  10 concurrent clients booking distinct slots: {rate:.0f} bookings/s   statuses {statuses}')


if __name__ == '__main__':
    main()
