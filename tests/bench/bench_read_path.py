"""The read path against the stack's floor (issue 18), on loopback (SQLite, one server process): a trivial endpoint,
one, 31 and 60 days of public slots, the booking page's first HTML, the host page and /privacy, interleaved
round-robin by one client opening a fresh connection per request, each figure also as a ratio to the trivial one.

The host has 200 upcoming confirmed bookings inside the 60 days asked for and no calendar connection, so its
calendar cache is warm by construction: `busy_times` answers after one query without asking any provider.
Every page GET leaves a NiceGUI client that never connects (about 60 s until pruned, its outbox polling ten times a
second), as a crawler's would: the later rounds run beside a few hundred of them, for every endpoint alike.
"""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import sqlalchemy as sa

from app import db
from app.db import session_scope
from app.models import BOOKING_CONFIRMED, Booking
from services import zones
from tests.e2e.server import running_server
from tests.factories import at, make_event_type, make_host, next_monday

ZONE = 'Europe/Berlin'
FIRST = next_monday(1)
BOOKINGS = 200
ROUNDS = 200
WARM_UP = 20


def seed(data_dir: Path) -> None:
    """Host 'bench' (Berlin, the default Monday-Friday 09:00-17:00) with a 30-minute 'call' and 200 bookings."""
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session, username='bench', timezone_name=ZONE)
        event_type = make_event_type(session, host, slug='call', duration_minutes=30, max_days_ahead=90)
        assert event_type.id is not None
        session.execute(sa.insert(Booking), _upcoming_bookings(event_type.host_id, event_type.id))
    engine.dispose()


def _upcoming_bookings(host_id: int, event_type_id: int) -> list[dict[str, object]]:
    """200 half-hour bookings on the weekdays of the 60 days from FIRST, up to five a day (09:00, 10:30, ...)."""
    weekdays = [d for d in (FIRST + timedelta(days=n) for n in range(60)) if d.weekday() < 5]
    rows = []
    for n in range(BOOKINGS):
        day, slot = weekdays[n % len(weekdays)], n // len(weekdays)
        start = at(day, f'{9 + slot * 3 // 2:02d}:{30 * (slot % 2):02d}', ZONE)
        rows.append(
            {
                'uid': f'bench-{n}',
                'host_id': host_id,
                'event_type_id': event_type_id,
                'start_at': start,
                'end_at': start + timedelta(minutes=30),
                'status': BOOKING_CONFIRMED,
                'buffer_before_minutes': 0,
                'buffer_after_minutes': 0,
                'sequence': 0,
                'invitee_name': f'Guest {n}',
                'invitee_email': f'guest{n}@example.com',
                'invitee_timezone': ZONE,
                'notes': '',
                'answers': {},
                'manage_token_hash': f'{n:064d}',
                'manage_token_encrypted': b'-',
                'cancel_reason': '',
                'calendar_event_id': '',
                'meeting_url': '',
                'proposal_message': '',
                'created_at': start - timedelta(days=30),
                'updated_at': start - timedelta(days=30),
            }
        )
    return rows


def endpoints(trivial: str) -> dict[str, str]:
    """Label -> path and query, in the order one round asks them."""

    def slots(days: int, zone: str = ZONE) -> str:
        last: date = FIRST + timedelta(days=days - 1)
        query = urlencode({'start': FIRST.isoformat(), 'end': last.isoformat(), 'timezone': zone})
        return f'/api/v1/public/bench/call/slots?{query}'

    # The same question again is answered from the kept answer; a new question (another zone each round: every
    # request misses the answer cache) shows what computing an answer costs.
    return {
        trivial: trivial,
        'slots 1 day': slots(1),
        'slots 31 days': slots(31),
        'slots 60 days': slots(60),
        'slots 1 day, new question': slots(1, '{zone}'),
        'slots 60 days, new question': slots(60, '{zone}'),
        'booking page HTML': '/bench/call',
        'host page /bench': '/bench',
        '/privacy': '/privacy',
    }


FRESH_ZONES = zones.zone_names()  # canonical names: every one a different question


def fetch(host: str, port: int, path: str) -> tuple[float, int]:
    """Milliseconds for one GET on a fresh connection (connect to last body byte), and the body's size."""
    t0 = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status != 200:
        raise RuntimeError(f'GET {path} answered {response.status}: {body[:300]!r}')
    return elapsed, len(body)


def measure(base: str, paths: dict[str, str]) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Every endpoint once per round, round-robin; the first WARM_UP rounds are not counted."""
    parts = urlsplit(base)
    host, port = parts.hostname or '127.0.0.1', parts.port or 80
    timings: dict[str, list[float]] = {label: [] for label in paths}
    sizes: dict[str, int] = {}
    for round_number in range(WARM_UP + ROUNDS):
        for label, path in paths.items():
            zone = FRESH_ZONES[(round_number * 2 + ('60' in label)) % len(FRESH_ZONES)]
            elapsed, size = fetch(host, port, path.replace('%7Bzone%7D', quote(zone, safe='')))
            if round_number >= WARM_UP:
                timings[label].append(elapsed)
                sizes[label] = size
    return timings, sizes


def trivial_endpoint(base: str) -> str:
    """/healthz when the server has it, else the cached OpenAPI document."""
    parts = urlsplit(base)
    try:
        fetch(parts.hostname or '127.0.0.1', parts.port or 80, '/healthz')
        return '/healthz'
    except RuntimeError:
        return '/api/v1/openapi.json'


def report(timings: dict[str, list[float]], sizes: dict[str, int], trivial: str) -> None:
    p50 = {label: statistics.median(values) for label, values in timings.items()}
    for label, values in timings.items():
        p95 = statistics.quantiles(values, n=20)[-1]
        extra = f'   {p50[label] / p50["/privacy"]:.2f}x /privacy' if label == 'booking page HTML' else ''
        print(
            f'  {label:<22} p50 {p50[label]:7.2f} ms   p95 {p95:7.2f} ms   {p50[label] / p50[trivial]:5.2f}x trivial'
            f'{extra}   ({len(values)} requests, {sizes[label]} bytes)'
        )


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-read-'))
    seed(data_dir)
    with running_server(data_dir=data_dir) as base:
        trivial = trivial_endpoint(base)
        before = os.getloadavg()
        timings, sizes = measure(base, endpoints(trivial))
        after = os.getloadavg()
    print(
        f'read path on loopback (SQLite, one server process; one client, a fresh connection per request, '
        f'{ROUNDS} rounds round-robin after {WARM_UP} warm-up rounds; {os.cpu_count()} CPUs):'
    )
    print(
        f'  host with {BOOKINGS} upcoming bookings, no calendar connection (calendar cache warm by construction); '
        f'trivial endpoint {trivial}'
    )
    report(timings, sizes, trivial)
    print('  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}'.format(*before, *after))


if __name__ == '__main__':
    main()
