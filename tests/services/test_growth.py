"""Past bookings cost nothing: the slots and the upcoming list read only the bookings that can still matter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.db import session_scope
from app.models import BOOKING_CONFIRMED, LONGEST_BOOKING, Booking
from services import availability, bookings, event_types
from tests.factories import add_past_bookings, at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)


@pytest.fixture
def host_with_history() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(session, host, slug='call')
        add_past_bookings(session, call, count=300, before=NOW - timedelta(days=3))
    return {'host_id': host.id, 'call': call}


def test_the_longest_booking_is_the_longest_event_type() -> None:
    longest = event_types.EventTypeInput.model_fields['duration_minutes'].metadata
    assert any(getattr(rule, 'le', None) == LONGEST_BOOKING / timedelta(minutes=1) for rule in longest)


def test_a_twelve_hour_booking_that_began_hours_ago_is_still_upcoming_and_still_blocks(host_with_history: dict) -> None:
    began = (NOW - LONGEST_BOOKING + timedelta(minutes=5)).replace(microsecond=0)
    _insert(host_with_history['call'], began, began + LONGEST_BOOKING)
    with session_scope() as session:
        upcoming = bookings.list_bookings(
            session=session, host_id=host_with_history['host_id'], status='upcoming', now=NOW
        )
        count = bookings.count_bookings(
            session=session, host_id=host_with_history['host_id'], status='upcoming', now=NOW
        )
        past = bookings.count_bookings(session=session, host_id=host_with_history['host_id'], status='past', now=NOW)
        offered = availability.offered_slots(
            session=session,
            event_type=host_with_history['call'],
            start=NOW - timedelta(hours=1),
            end=NOW + timedelta(days=1),
            now=NOW - timedelta(hours=1),
        )
    assert [b.uid for b in upcoming] == ['long-one'] and count == 1 and past == 270
    assert all(slot.start >= began + LONGEST_BOOKING for slot in offered)


def test_slots_and_the_upcoming_list_search_a_bounded_index_range_on_sqlite(
    database: sa.Engine, host_with_history: dict
) -> None:
    if database.dialect.name != 'sqlite':
        pytest.skip('EXPLAIN QUERY PLAN is SQLite; the PostgreSQL plans are printed by tests/bench/bench_growth.py')
    monday = next_monday()
    with _booking_queries(database) as seen, session_scope() as session:
        availability.offered_slots(
            session=session,
            event_type=host_with_history['call'],
            start=at(monday, '00:00'),
            end=at(monday, '23:59'),
            now=NOW,
        )
        bookings.list_bookings(session=session, host_id=host_with_history['host_id'], status='upcoming', now=NOW)
        bookings.count_bookings(session=session, host_id=host_with_history['host_id'], status='upcoming', now=NOW)
    plans = [_plan(database, statement, parameters) for statement, parameters in seen]
    assert len(plans) == 3
    for plan in plans:  # a search by host (and status) with start_at bounded from below, never a scan of history
        # (with two holding statuses, confirmed and pending, SQLite may prefer the host-and-time index)
        assert re.search(
            r'USING (COVERING )?INDEX ix_booking_host_(status_start \(host_id=\? AND status=\? AND|'
            r'time \(host_id=\? AND) start_at>',
            plan,
        ), plan


def _insert(event_type: object, start: datetime, end: datetime) -> None:
    with session_scope(write=True) as session:
        session.add(
            Booking(
                uid='long-one',
                host_id=event_type.host_id,
                event_type_id=event_type.id,  # type: ignore
                start_at=start,
                end_at=end,
                status=BOOKING_CONFIRMED,
                invitee_name='Grace',
                invitee_email='grace@example.com',
                invitee_timezone='UTC',
                manage_token_hash='0' * 64,
                manage_token_encrypted=b'-',
            )
        )


def _plan(engine: sa.Engine, statement: str, parameters: object) -> str:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f'EXPLAIN QUERY PLAN {statement}', parameters).all()  # type: ignore[arg-type]
    return ' | '.join(row[-1] for row in rows if 'booking' in row[-1])


@contextmanager
def _booking_queries(engine: sa.Engine) -> Iterator[list[tuple[str, object]]]:
    """The SQL statements that read the booking table while the block runs."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if 'FROM booking' in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)
