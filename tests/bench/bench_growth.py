"""Growth benchmark: a host holding 20,000 past bookings (inserted directly, it is only data) against a host with
none, both with the same ten upcoming bookings. Times one day of slots and the dashboard's upcoming list with its
count, on SQLite and, when it is reachable, PostgreSQL; prints the medians, the ratio (target: within 30%) and the
query plans of the booking reads."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault('CLOUDMEET_DATA_DIR', tempfile.mkdtemp(prefix='cloudmeet-bench-'))

import sqlalchemy as sa

from app import db
from app.models import EventType
from services import availability, bookings
from tests.factories import add_past_bookings, at, make_event_type, make_host, next_monday

PAST = 20_000
RUNS = 300
ADMIN_URL = os.environ.get('CLOUDMEET_TEST_POSTGRES_URL', 'postgresql+psycopg://postgres@127.0.0.1:5432/test')
BENCH_DB = 'cloudmeet_bench_growth'


def seed(now: datetime) -> dict[str, EventType]:
    """Two hosts with ten upcoming bookings each; 'history' also holds PAST bookings before now."""
    with db.session_scope(write=True) as session:
        types = {
            name: make_event_type(session, make_host(session, username=name), slug='call')
            for name in ('history', 'fresh')
        }
        add_past_bookings(session, types['history'], count=PAST, before=now)
    monday = next_monday()
    for event_type in types.values():
        for day in range(10):
            _book(event_type, at(monday + timedelta(days=day // 5 * 7 + day % 5), '10:00'), now)
    return types


def measure(event_type: EventType, day: date, now: datetime) -> dict[str, list[float]]:
    def one_day() -> object:
        with db.session_scope() as session:
            return availability.slots_by_local_day(
                session=session, event_type=event_type, first=day, last=day, zone='Europe/London', now=now
            )

    def upcoming() -> object:
        with db.session_scope() as session:
            return (
                bookings.list_bookings(
                    session=session, host_id=event_type.host_id, status='upcoming', now=now, limit=20
                ),
                bookings.count_bookings(session=session, host_id=event_type.host_id, status='upcoming', now=now),
            )

    return {'slots for one day': _timings(one_day), 'upcoming list + count': _timings(upcoming)}


def plans(engine: sa.Engine, event_type: EventType, day: date, now: datetime) -> list[str]:
    """The plans of the booking reads that one day of slots and the upcoming list make."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if 'FROM booking' in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, 'before_cursor_execute', record)
    with db.session_scope() as session:
        availability.slots_by_local_day(
            session=session, event_type=event_type, first=day, last=day, zone='Europe/London', now=now
        )
        bookings.list_bookings(session=session, host_id=event_type.host_id, status='upcoming', now=now, limit=20)
        bookings.count_bookings(session=session, host_id=event_type.host_id, status='upcoming', now=now)
    sa.event.remove(engine, 'before_cursor_execute', record)
    explain = 'EXPLAIN QUERY PLAN ' if engine.dialect.name == 'sqlite' else 'EXPLAIN '
    shown = []
    with engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()  # type: ignore[arg-type]
            shown.append(' / '.join(str(row[-1]).strip() for row in rows))
    return shown


def run(name: str, url: str) -> None:
    engine = db.use_engine(db.create_db_engine(url))
    db.migrate(engine)
    now = datetime.now(timezone.utc)
    types = seed(now)
    with engine.begin() as conn:
        conn.exec_driver_sql('ANALYZE')
    day = next_monday()
    figures = {who: measure(event_type, day, now) for who, event_type in types.items()}
    print(f'  {name}:')
    for what in figures['fresh']:
        fresh, history = (statistics.median(figures[who][what]) for who in ('fresh', 'history'))
        print(
            f'    {what:<22} no past bookings {fresh:6.2f} ms   {PAST:,} past {history:6.2f} ms   '
            f'ratio {history / fresh:.2f}   (medians of {RUNS})'
        )
    for plan in plans(engine, types['history'], day, now):
        print(f'    plan: {plan}')
    engine.dispose()


def main() -> None:
    print(
        f'growth: one day of slots and the upcoming list, a host with {PAST:,} past bookings vs one with none '
        '(target: ratio within 1.30)'
    )
    with tempfile.TemporaryDirectory(prefix='cloudmeet-bench-growth-') as directory:
        run('sqlite', f'sqlite:///{Path(directory) / "bench.sqlite"}')
    url = _postgres_database()
    if url is None:
        print('  postgresql: skipped (not reachable)')
    else:
        try:
            run('postgresql', url)
        finally:
            _drop_postgres()
    sys.stdout.flush()


def _timings(call: Callable[[], object]) -> list[float]:
    for _ in range(20):  # warm the caches and the connection pool
        call()
    timings = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        call()
        timings.append((time.perf_counter() - t0) * 1000)
    return timings


def _book(event_type: EventType, start: datetime, now: datetime) -> None:
    invitee = bookings.Invitee(name='Grace Hopper', email='grace@example.com', timezone='Europe/London')
    with db.session_scope(write=True) as session:
        bookings.book_slot(session=session, event_type=event_type, start=start, invitee=invitee, now=now)


def _postgres_database() -> str | None:
    try:
        engine = sa.create_engine(ADMIN_URL, isolation_level='AUTOCOMMIT')
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS {BENCH_DB}')
            conn.exec_driver_sql(f'CREATE DATABASE {BENCH_DB}')
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return ADMIN_URL.rsplit('/', 1)[0] + f'/{BENCH_DB}'


def _drop_postgres() -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)')
    engine.dispose()


if __name__ == '__main__':
    main()
