"""One client address cannot fill a host's calendar or mail strangers: new bookings per address are limited
(CLOUDMEET_BOOKING_RATE_LIMIT, 429 with Retry-After), counted in the database so that every process shares them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.errors import RateLimited
from app.models import Booking, BookingRateEvent
from services import booking_limits
from tests.api.test_public_api import BOOK, booking_body

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three new bookings per 10 minutes per address."""
    monkeypatch.setenv('CLOUDMEET_BOOKING_RATE_LIMIT', '3/10m')
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_fourth_booking_in_ten_minutes_from_one_address_is_a_429_and_books_nothing(
    client: TestClient, ada: dict, limit: None
) -> None:
    for n, clock in enumerate(('09:00', '10:00', '11:00')):
        assert client.post(BOOK, json=booking_body(clock, email=f'g{n}@example.com')).status_code == 201
    refused = client.post(BOOK, json=booking_body('12:00', email='stranger@example.com'))
    assert refused.status_code == 429
    assert 0 < int(refused.headers['Retry-After']) <= 600
    assert 'please wait about 10 minutes' in refused.json()['detail']
    with session_scope() as session:
        emails = {b.invitee_email for b in session.exec(select(Booking))}
    assert 'stranger@example.com' not in emails and len(emails) == 3


def test_refused_and_replayed_bookings_do_not_count(client: TestClient, ada: dict, limit: None) -> None:
    assert client.post(BOOK, json=booking_body('09:00'), headers={'Idempotency-Key': 'k'}).status_code == 201
    for _ in range(3):  # a double-click replays the same booking; a taken time books nothing
        assert client.post(BOOK, json=booking_body('09:00'), headers={'Idempotency-Key': 'k'}).status_code == 201
        assert client.post(BOOK, json=booking_body('09:00', email='x@example.com')).status_code == 409
    assert client.post(BOOK, json=booking_body('10:00')).status_code == 201
    assert client.post(BOOK, json=booking_body('11:00')).status_code == 201


def test_the_count_lives_in_the_database_so_another_process_sees_it(client: TestClient, ada: dict, limit: None) -> None:
    with session_scope(write=True) as session:  # as another process would have recorded them
        for minutes in (1, 2, 3):
            session.add(
                BookingRateEvent(
                    client='testclient', created_at=datetime.now(timezone.utc) - timedelta(minutes=minutes)
                )
            )
    assert client.post(BOOK, json=booking_body()).status_code == 429


def test_the_window_slides_and_old_counts_are_pruned(database: object) -> None:
    rate = (2, 600)
    with session_scope(write=True) as session:
        booking_limits.admit(session, address='203.0.113.9', rate=rate, now=NOW)
        booking_limits.admit(session, address='203.0.113.9', rate=rate, now=NOW + timedelta(minutes=4))
    with session_scope(write=True) as session, pytest.raises(RateLimited) as refused:
        booking_limits.admit(session, address='203.0.113.9', rate=rate, now=NOW + timedelta(minutes=9))
    assert refused.value.retry_after == 60
    with session_scope(write=True) as session:
        booking_limits.admit(session, address='203.0.113.9', rate=rate, now=NOW + timedelta(minutes=10, seconds=1))
        booking_limits.admit(session, address='198.51.100.7', rate=rate, now=NOW + timedelta(minutes=10, seconds=1))
    with session_scope() as session:
        kept = session.exec(select(BookingRateEvent.client)).all()
    assert sorted(kept) == ['198.51.100.7', '203.0.113.9', '203.0.113.9']


def test_one_ipv6_network_counts_as_one_address(database: object) -> None:
    rate = (2, 600)
    with session_scope(write=True) as session:
        booking_limits.admit(session, address='2001:db8:1:2::1', rate=rate, now=NOW)
        booking_limits.admit(session, address='2001:db8:1:2:ffff::9', rate=rate, now=NOW)
    with session_scope(write=True) as session, pytest.raises(RateLimited):
        booking_limits.admit(session, address='2001:db8:1:2:abcd::1', rate=rate, now=NOW)
    with session_scope(write=True) as session:
        booking_limits.admit(session, address='2001:db8:1:3::1', rate=rate, now=NOW)


def test_zero_switches_the_limit_off(client: TestClient, ada: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('CLOUDMEET_BOOKING_RATE_LIMIT', '0')
    get_settings.cache_clear()
    try:
        assert get_settings().booking_rate is None
        for n, clock in enumerate(('09:00', '09:30', '10:00', '10:30')):
            assert client.post(BOOK, json=booking_body(clock, email=f'g{n}@example.com')).status_code == 201
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    'text, rate', [('20/10m', (20, 600)), ('5/h', (5, 3600)), ('100/2h', (100, 7200)), ('0', None)]
)
def test_the_setting_is_written_count_slash_window(text: str, rate: tuple[int, int] | None) -> None:
    from app.config import Settings

    assert Settings(booking_rate_limit=text).booking_rate == rate


@pytest.mark.parametrize('text', ['20', '20/10s', '0/10m', 'lots'])
def test_a_malformed_setting_stops_the_start_naming_the_format(text: str) -> None:
    from pydantic import ValidationError

    from app.config import Settings

    with pytest.raises(ValidationError, match='20/10m'):
        Settings(booking_rate_limit=text)
