"""Booking options on a real database (SQLite and PostgreSQL): seats, requests that await the host's confirmation,
several durations, weekly and monthly limits; what the invitee and host are told at each step."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.errors import Conflict, InvalidInput, SlotUnavailable
from app.models import Booking, BookingStatus, OutboxMessage
from services import availability, bookings, use_cases
from services.bookings import Invitee
from services.calendars import busy, connections
from services.notifications import worker
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import google_calendar
from tests.services.test_calendars import ics as ics_feed
from tests.services.test_notifications import Recorder, parts

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()
LONDON = ZoneInfo('Europe/London')


def guest(n: int) -> Invitee:
    return Invitee(name=f'Guest {n}', email=f'guest{n}@example.com', timezone='Europe/London')


@pytest.fixture
def host() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/London')
        return {'host': host, 'id': host.id}


def event_type(host: dict, **fields: object):  # type: ignore[no-untyped-def]
    with session_scope(write=True) as session:
        return make_event_type(session, host['host'], **fields)


def book(kind, start: datetime, n: int = 1, **kw: object) -> Booking:  # type: ignore[no-untyped-def]
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session, event_type=kind, start=start, invitee=guest(n), now=NOW, **kw
        ).booking  # type: ignore[arg-type]


def offered(kind, day: date, **kw: object) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    """The day's offered starts (London wall clock) with their seats left."""
    with session_scope() as session:
        found = availability.slots_by_local_day(
            session=session, event_type=kind, first=day, last=day, zone='Europe/London', now=NOW, **kw
        )  # type: ignore[arg-type]
    return {s.start.astimezone(LONDON).strftime('%H:%M'): s.seats_left for s in found.get(day, [])}


def stored(uid: str) -> Booking:
    with session_scope() as session:
        return session.exec(select(Booking).where(Booking.uid == uid)).one()


def sent_kinds(uid: str) -> list[str]:
    with session_scope() as session:
        booking = stored(uid)
        return sorted(m.kind for m in session.exec(select(OutboxMessage).where(OutboxMessage.booking_id == booking.id)))


# --- seats -------------------------------------------------------------------------------------------------------


def test_a_seated_start_stays_offered_with_the_seats_left_until_full(host: dict) -> None:
    seminar = event_type(host, slug='seminar', duration_minutes=60, seats=3)
    assert offered(seminar, MONDAY)['10:00'] == 3
    first = book(seminar, at(MONDAY, '10:00'), 1)
    assert offered(seminar, MONDAY)['10:00'] == 2
    book(seminar, at(MONDAY, '10:00'), 2)
    assert offered(seminar, MONDAY)['10:00'] == 1
    book(seminar, at(MONDAY, '10:00'), 3)
    assert '10:00' not in offered(seminar, MONDAY)
    with pytest.raises(SlotUnavailable, match='seats'):
        book(seminar, at(MONDAY, '10:00'), 4)
    # a cancelled seat is free again; each invitee has their own booking and manage link
    use_cases.cancel_as_host(host_id=host['id'], uid=first.uid, reason='', now=NOW)
    assert offered(seminar, MONDAY)['10:00'] == 1


def test_seats_share_their_start_only_other_overlaps_are_still_refused(host: dict) -> None:
    seminar = event_type(host, slug='seminar', duration_minutes=60, seats=5, slot_interval_minutes=30)
    call = event_type(host, slug='call')
    book(seminar, at(MONDAY, '10:00'), 1)
    times = offered(seminar, MONDAY)
    assert times['10:00'] == 4 and '10:30' not in times and '09:30' not in times  # no second meeting overlaps
    with pytest.raises(SlotUnavailable):
        book(call, at(MONDAY, '10:30'), 2)  # another event type cannot take the host's time either
    assert '10:00' not in offered(call, MONDAY)


# --- requests that need the host's confirmation ----------------------------------------------------------------------


def test_a_request_is_pending_holds_its_time_and_tells_both_sides(host: dict) -> None:
    review = event_type(host, slug='review', requires_confirmation=True)
    request = book(review, at(MONDAY, '09:00'))
    assert stored(request.uid).status == BookingStatus.PENDING
    assert '09:00' not in offered(review, MONDAY)  # held until decided
    assert sent_kinds(request.uid) == ['host_request', 'request']  # no reminders, no calendar write yet
    mailer = Recorder()
    worker.drain(mailer=mailer, settings=get_settings())  # type: ignore[arg-type]
    by_kind = {str(m['X-CloudMeet-Kind']): m for _, m in mailer.sent}
    assert 'awaiting confirmation' in str(by_kind['request']['Subject']).lower()
    host_text = str(parts(by_kind['host_request'])['text/plain'])
    assert f'/dashboard/requests/{request.uid}?action=confirm' in host_text
    assert f'/dashboard/requests/{request.uid}?action=decline' in host_text


def test_confirming_plans_reminders_and_the_confirmation_and_twice_is_harmless(host: dict) -> None:
    review = event_type(host, slug='review', requires_confirmation=True)
    request = book(review, at(MONDAY, '09:00'))
    confirmed = use_cases.confirm_as_host(host_id=host['id'], uid=request.uid, now=NOW)
    assert confirmed.status == BookingStatus.CONFIRMED and confirmed.decided_at is not None
    again = use_cases.confirm_as_host(host_id=host['id'], uid=request.uid, now=NOW)
    assert again.status == BookingStatus.CONFIRMED
    kinds = sent_kinds(request.uid)
    assert kinds.count('confirmation') == 1 and kinds.count('reminder') == 2
    with pytest.raises(Conflict):
        use_cases.decline_as_host(host_id=host['id'], uid=request.uid, reason='', now=NOW)


def test_declining_frees_the_time_and_tells_the_invitee_with_the_reason(host: dict) -> None:
    review = event_type(host, slug='review', requires_confirmation=True)
    request = book(review, at(MONDAY, '09:00'))
    declined = use_cases.decline_as_host(host_id=host['id'], uid=request.uid, reason='Fully booked that week', now=NOW)
    assert declined.status == BookingStatus.DECLINED
    assert '09:00' in offered(review, MONDAY)
    mailer = Recorder()
    worker.drain(mailer=mailer, settings=get_settings())  # type: ignore[arg-type]
    declined_mail = [m for _, m in mailer.sent if m['X-CloudMeet-Kind'] == 'declined']
    assert len(declined_mail) == 1
    text = str(parts(declined_mail[0])['text/plain'])
    assert 'Fully booked that week' in text and '/ada/review' in text  # the reason, and a link to book again
    assert not [m for _, m in mailer.sent if m['X-CloudMeet-Kind'] == 'host_request']  # decided: not asked again
    with pytest.raises(Conflict):
        use_cases.confirm_as_host(host_id=host['id'], uid=request.uid, now=NOW)


def test_confirming_rechecks_the_time_and_never_double_books(host: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    review = event_type(host, slug='review', requires_confirmation=True, duration_minutes=60)
    call = event_type(host, slug='call')
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)  # the feed is served on loopback
    feed, server = google_calendar.serve_ics()
    try:
        feed['body'] = b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n'
        with session_scope(write=True) as session:
            connections.add_feed(session, host_id=host['id'], url=feed['url'], label='Work')
        request = book(review, at(MONDAY, '10:00'))
        with pytest.raises(SlotUnavailable):  # the request holds its time against every other booking
            book(call, at(MONDAY, '10:00'), 2)
        # meanwhile an event appears in the host's calendar at that time
        feed['body'] = ics_feed(datetime(MONDAY.year, MONDAY.month, MONDAY.day))
        busy.reset_cache()
        with pytest.raises(SlotUnavailable, match='no longer free'):
            use_cases.confirm_as_host(host_id=host['id'], uid=request.uid, now=NOW)
        assert stored(request.uid).status == BookingStatus.PENDING  # still the host's to decide
    finally:
        server.shutdown()
        busy.reset_cache()


def test_requests_whose_start_passed_undecided_are_declined(host: dict) -> None:
    review = event_type(host, slug='review', requires_confirmation=True)
    request = book(review, at(MONDAY, '09:00'))
    assert use_cases.decline_expired_requests(now=NOW) == 0
    assert use_cases.decline_expired_requests(now=at(MONDAY, '09:01')) == 1
    assert stored(request.uid).status == BookingStatus.DECLINED
    assert 'declined' in sent_kinds(request.uid)


# --- several durations -----------------------------------------------------------------------------------------


def test_the_invitee_picks_one_of_the_lengths_and_the_rules_use_it(host: dict) -> None:
    chat = event_type(host, slug='chat', duration_minutes=30, duration_options=[15, 60])
    assert offered(chat, MONDAY, duration=60).keys() != offered(chat, MONDAY).keys()
    long = book(chat, at(MONDAY, '10:00'), duration=60)
    assert stored(long.uid).end_at - stored(long.uid).start_at == timedelta(minutes=60)
    times = offered(chat, MONDAY, duration=15)
    assert '10:00' not in times and '10:45' not in times and '11:00' in times  # the whole hour is taken
    with pytest.raises(InvalidInput, match='15, 30, 60'):
        book(chat, at(MONDAY, '14:00'), 2, duration=45)
    last = at(MONDAY, '16:00')  # a 60-minute meeting must fit before the working day ends at 17:00
    assert '16:30' not in offered(chat, MONDAY, duration=60) and '16:30' in offered(chat, MONDAY)
    book(chat, last, 3, duration=60)


# --- weekly and monthly limits --------------------------------------------------------------------------------


def test_a_weekly_limit_closes_the_rest_of_the_week_from_monday(host: dict) -> None:
    coaching = event_type(host, slug='coaching', weekly_limit=2)
    book(coaching, at(MONDAY, '09:00'), 1)
    assert offered(coaching, MONDAY + timedelta(days=2))
    book(coaching, at(MONDAY + timedelta(days=1), '09:00'), 2)
    for day in range(5):
        assert not offered(coaching, MONDAY + timedelta(days=day))
    assert offered(coaching, MONDAY + timedelta(days=7))  # the next week starts afresh


def test_a_monthly_limit_counts_the_calendar_month_in_the_hosts_zone(host: dict) -> None:
    day = MONDAY + timedelta(days=28)
    first = day.replace(day=1)
    workday = next(first + timedelta(days=n) for n in range(7) if (first + timedelta(days=n)).weekday() < 5)
    monthly = event_type(host, slug='monthly', monthly_limit=1, max_days_ahead=120)
    book(monthly, at(workday, '09:00'), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    later = next(following + timedelta(days=n) for n in range(7) if (following + timedelta(days=n)).weekday() < 5)
    assert not offered(
        monthly, workday + timedelta(days=1) if (workday + timedelta(days=1)).month == workday.month else workday
    )
    assert offered(monthly, later)


def test_limits_must_grow_from_day_to_week_to_month(host: dict) -> None:
    with pytest.raises(ValueError, match='daily limit cannot exceed'):
        event_type(host, slug='odd', daily_limit=5, weekly_limit=2)
