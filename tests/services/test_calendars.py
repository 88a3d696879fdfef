"""The host's calendars decide what is free: ICS feeds (recurrence, all-day, transparent, cancelled), Google
freeBusy through the real client against a local stand-in, the cache, and every failure mode: nothing that could
not be checked is offered, and booking it is a clear 503."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.errors import InvalidInput, SlotUnavailable, Unavailable
from app.models import CalendarConnection
from services import availability, bookings
from services.calendars import busy, connections, feeds
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import google_calendar

pytestmark = pytest.mark.usefixtures('database')
BUSY_FIELDS = {'start', 'end', 'first', 'last'}  # a busy block's two instants (also as POSIX seconds), nothing else
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    busy.reset_cache()
    yield
    busy.reset_cache()


@pytest.fixture
def feed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)  # the test server is on loopback
    state, server = google_calendar.serve_ics()
    yield state
    server.shutdown()


@pytest.fixture
def ada() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/London')
        call = make_event_type(session, host, slug='call', duration_minutes=60)
    return {'host': host, 'call': call}


def offered(event_type, day=MONDAY) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        days, problem = availability.month_offer(
            session=session, event_type=event_type, first=day, last=day, zone='Europe/London', now=NOW
        )
    return [
        f'{s.start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")):%H:%M}' for s in days.get(day, [])
    ], problem


def status_when(ready, seconds: float = 5.0) -> CalendarConnection:  # type: ignore[no-untyped-def]
    """The connection's row once its status (noted in the background) satisfies `ready`."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        with session_scope() as session:
            row = session.exec(select(CalendarConnection)).one()
        if ready(row) or time.monotonic() > deadline:
            assert ready(row), (row.status, row.status_detail)
            return row
        time.sleep(0.05)


def ics(day: datetime) -> bytes:
    d = day.strftime('%Y%m%d')
    return (
        google_calendar.ICS_FEED.replace(b'{day}', d.encode())
        .replace(b'{exdate}', (day + timedelta(days=7)).strftime('%Y%m%d').encode())
        .replace(b'{moved}', (day + timedelta(days=14)).strftime('%Y%m%d').encode())
        .replace(b'{allday}', (day + timedelta(days=1)).strftime('%Y%m%d').encode())
        .replace(b'{allday_end}', (day + timedelta(days=2)).strftime('%Y%m%d').encode())
    )


def test_a_feed_expands_recurrences_and_ignores_free_and_cancelled_events() -> None:
    day = datetime(MONDAY.year, MONDAY.month, MONDAY.day)
    found = feeds.busy_from_ics(
        ics(day), at(MONDAY, '00:00'), at(MONDAY, '00:00') + timedelta(days=28), zone='Europe/London'
    )
    as_text = [
        (f'{b.start.astimezone(timezone.utc):%m-%d %H:%M}', f'{b.end.astimezone(timezone.utc):%H:%M}') for b in found
    ]
    weekly = [at(MONDAY + timedelta(days=7 * n), '10:00') for n in (0, 3)]  # week 1 excluded, week 2 moved
    moved = at(MONDAY + timedelta(days=14), '14:00')
    allday = at(MONDAY + timedelta(days=1), '00:00')
    expected = sorted([(s, s + timedelta(hours=1)) for s in [*weekly, moved]] + [(allday, allday + timedelta(days=1))])
    assert [(b.start, b.end) for b in found] == expected, as_text
    assert all(set(type(b).__slots__) == BUSY_FIELDS for b in found)  # no titles, no attendees


@pytest.mark.parametrize(
    'url',
    [
        'http://calendar.example/feed.ics',
        'https://127.0.0.1/feed.ics',
        'https://10.0.0.8/feed.ics',
        'https://169.254.169.254/latest',
        'https://[::1]/feed.ics',
        'ftp://example.com/feed.ics',
        'not a url',
    ],
)
def test_feed_urls_must_be_https_on_public_addresses(url: str) -> None:
    with pytest.raises(InvalidInput):
        feeds.check_url(url, allow_private=False)
    assert feeds.check_url('https://93.184.216.34/feed.ics', allow_private=False)
    assert feeds.check_url('webcal://93.184.216.34/x.ics', allow_private=False).startswith('https://')


def test_busy_times_in_a_feed_remove_the_slot_and_a_broken_feed_offers_nothing(ada: dict, feed: dict) -> None:
    day = datetime(MONDAY.year, MONDAY.month, MONDAY.day)
    feed['body'] = ics(day)
    with session_scope(write=True) as session:
        connections.add_feed(session, host_id=ada['host'].id, url=feed['url'], label='iCloud')
    times, problem = offered(ada['call'])
    assert problem == '' and '10:00' not in times and '11:00' in times
    assert '12:00' in times and '15:00' in times  # transparent and cancelled events do not block
    busy.reset_cache()
    feed['status'] = 500
    times, problem = offered(ada['call'])
    assert times == [] and "can't be checked" in problem
    with session_scope(write=True) as session, pytest.raises(Unavailable):
        bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=at(MONDAY, '11:00'),
            now=NOW,
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
        )
    row = status_when(lambda r: r.status == 'error')
    assert '500' in row.status_detail


def test_google_busy_times_remove_slots_through_the_real_client(ada: dict, google: google_calendar.FakeGoogle) -> None:
    google.busy['primary'] = [{'start': at(MONDAY, '13:00').isoformat(), 'end': at(MONDAY, '14:30').isoformat()}]
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
    times, problem = offered(ada['call'])
    assert problem == '' and '13:00' not in times and '14:00' not in times
    assert '12:00' in times and '15:00' in times  # back to back with the busy block is fine
    token = next(r for r in google.requests if r['path'] == '/token')
    assert b'refresh_token=rt-1' in token['body'] and b'grant_type=refresh_token' in token['body']
    query = next(r for r in google.requests if r['path'].endswith('/freeBusy'))
    assert query['auth'].startswith('Bearer ya29.')


def test_a_warm_cache_answers_without_asking_google_and_a_booking_refreshes_it(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
    offered(ada['call'])
    asked = google.count('POST', '/freeBusy')
    for _ in range(5):
        offered(ada['call'])
    assert google.count('POST', '/freeBusy') == asked  # warm: nobody waits on Google
    with session_scope(write=True) as session:
        bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=at(MONDAY, '09:00'),
            now=NOW,
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
        )
    offered(ada['call'])
    assert google.count('POST', '/freeBusy') > asked  # CloudMeet's own write dropped the cache


def test_a_revoked_grant_marks_the_connection_and_offers_nothing(ada: dict, google: google_calendar.FakeGoogle) -> None:
    google.invalid_grants.add('rt-gone')
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-gone'
        )
    outbox = get_settings().data_dir / 'outbox'
    before = set(outbox.glob('calendar-reconnect.*.eml')) if outbox.exists() else set()
    times, problem = offered(ada['call'])
    assert times == [] and problem
    assert status_when(lambda r: r.status == 'reconnect_needed' and r.reconnect_notice_sent)
    busy.reset_cache()  # asked again later: still broken, but the host is told only once
    offered(ada['call'])
    import time

    time.sleep(0.3)
    sent = set(outbox.glob('calendar-reconnect.*.eml')) - before
    assert len(sent) == 1
    from email import message_from_bytes, policy

    mail = message_from_bytes(sent.pop().read_bytes(), policy=policy.default)
    assert mail['To'] == ada['host'].email and 'reconnect' in mail['Subject'].lower()


@pytest.mark.parametrize('failure', ['outage', 'calendar error', 'rate limit'])
def test_provider_failures_never_offer_a_busy_time_as_free(
    ada: dict, google: google_calendar.FakeGoogle, failure: str
) -> None:
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
    if failure == 'outage':
        google.fail_next = [500] * 10
    elif failure == 'rate limit':
        google.fail_next = [429] * 10
    else:
        google.calendar_errors['primary'] = 'notFound'
    times, problem = offered(ada['call'])
    assert times == [] and "can't be checked" in problem


def test_disconnecting_revokes_and_deletes_and_other_hosts_cannot_touch_it(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    from app.errors import NotFound
    from services.accounts import revoke_google_token

    with session_scope(write=True) as session:
        connection = connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
        bob = make_host(session, username='bob')
    with session_scope(write=True) as session, pytest.raises(NotFound):
        connections.remove(session, host_id=bob.id, connection_id=connection.id, revoke=revoke_google_token)
    with session_scope(write=True) as session:
        connections.remove(session, host_id=ada['host'].id, connection_id=connection.id, revoke=revoke_google_token)
    assert google.revoked == ['rt-1']
    with session_scope() as session:
        assert session.exec(select(CalendarConnection)).all() == []


def test_only_start_and_end_of_busy_times_are_kept_and_tokens_are_encrypted(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-secret'
        )
    offered(ada['call'])
    with session_scope() as session:
        row = session.exec(select(CalendarConnection)).one()
    assert b'rt-secret' not in row.secret_encrypted
    for entries in busy._cache.entries.values():
        for entry in entries:
            assert all(set(type(block).__slots__) == BUSY_FIELDS for block in entry.busy)


def test_the_public_answer_checks_a_calendar_connected_after_it_was_served_from_memory(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    now = datetime.now(timezone.utc)

    def link_times() -> list[str]:
        start, end = at(MONDAY, '00:00'), at(MONDAY, '00:00') + timedelta(days=1)
        found = availability.cached_link_offer(
            username='ada', slug='call', start=start, end=end, now=now
        ) or availability.link_offer(username='ada', slug='call', start=start, end=end, now=now)
        return [s.start.strftime('%H:%M') for s in found.slots]

    assert '13:00' in link_times()
    assert (
        availability.cached_link_offer(
            username='ada', slug='call', start=at(MONDAY, '00:00'), end=at(MONDAY, '23:59'), now=now
        )
        is not None
    )  # now served from memory
    google.busy['primary'] = [{'start': at(MONDAY, '13:00').isoformat(), 'end': at(MONDAY, '14:00').isoformat()}]
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
    assert '13:00' not in link_times()  # the new calendar is asked at once, not after the memory expires


def test_a_calendar_connected_unbeknown_to_this_process_is_asked_before_booking(
    ada: dict, google: google_calendar.FakeGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host known to have had no calendar moments ago is booked without first asking calendars. Should one have
    been connected meanwhile (through another process whose notice has not arrived), it is asked before the
    booking is written: its busy time is refused as taken, never booked and never a 503, and a free time gets its
    calendar event."""
    from app.models import OutboxMessage
    from services import use_cases

    google.busy['primary'] = [{'start': at(MONDAY, '13:00').isoformat(), 'end': at(MONDAY, '14:00').isoformat()}]
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-1'
        )
    monkeypatch.setattr(busy, 'surely_without_calendars', lambda host_id: True)  # the stale note of "none"

    def book(clock: str) -> bookings.Receipt:
        return use_cases.book(
            event_type_id=ada['call'].id,
            host_id=ada['host'].id,
            start=at(MONDAY, clock),
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
            now=NOW,
            address='192.0.2.1',
        )

    with pytest.raises(SlotUnavailable):
        book('13:00')
    made = book('15:00')
    with session_scope() as session:
        kinds = session.exec(select(OutboxMessage.kind).where(OutboxMessage.booking_id == made.booking.id)).all()
    assert 'calendar_sync' in kinds
