"""Bookings land in the host's Google Calendar through the outbox job: one event with the invitee and a Meet link,
moved on reschedule, deleted on cancellation; failures are retried and never make a second event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.models import Booking, CalendarConnection, OutboxMessage
from services import bookings
from services.calendars import busy, connections
from services.calendars.google import event_id_for
from services.notifications import worker
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import google_calendar
from tests.services.test_notifications import Recorder, parts

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture
def ada(google: google_calendar.FakeGoogle) -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        meet = make_event_type(session, host, slug='meet', title='Intro', location={'kind': 'google_meet'})
        connections.add_account(
            session, provider='google', host_id=host.id, email='ada@example.com', refresh_token='rt-1'
        )
    return {'host': host, 'meet': meet}


def book(ada: dict, clock: str = '10:00') -> bookings.Receipt:
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session,
            event_type=ada['meet'],
            start=at(MONDAY, clock),
            now=NOW,
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        )


def drain(mailer: Recorder | None = None) -> Recorder:
    mailer = mailer or Recorder()
    worker.drain(mailer=mailer, settings=get_settings())
    return mailer


def stored(uid: str) -> Booking:
    with session_scope() as session:
        return session.exec(select(Booking).where(Booking.uid == uid)).one()


def test_a_booking_creates_one_event_with_the_attendee_and_a_meet_link_that_the_confirmation_carries(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    receipt = book(ada)
    mailer = drain()
    [event] = google.events.values()
    assert event['attendees'] == [{'email': 'grace@example.com', 'displayName': 'Grace Hopper'}]
    assert event['start'] == {'dateTime': at(MONDAY, '10:00').strftime('%Y-%m-%dT%H:%M:%SZ')}
    assert event['conferenceData']['createRequest']['requestId'] == receipt.booking.uid
    insert = next(r for r in google.requests if r['method'] == 'POST' and r['path'].endswith('/events'))
    assert insert['query']['conferenceDataVersion'] == ['1']
    link = event['conferenceData']['entryPoints'][0]['uri']
    booking = stored(receipt.booking.uid)
    assert booking.meeting_url == link and booking.calendar_event_id == event_id_for(receipt.booking.uid)
    confirmation = next(m for _, m in mailer.sent if m['X-CloudMeet-Kind'] == 'confirmation')
    assert link in parts(confirmation)['text/plain']


def test_reschedule_moves_the_event_and_cancel_deletes_it(ada: dict, google: google_calendar.FakeGoogle) -> None:
    receipt = book(ada)
    drain()
    later = at(MONDAY, '14:00')
    with session_scope(write=True) as session:
        bookings.reschedule_booking(
            session=session, booking=session.get(Booking, receipt.booking.id), start=later, now=NOW
        )
    drain()
    [event] = google.events.values()
    assert event['start'] == {'dateTime': later.strftime('%Y-%m-%dT%H:%M:%SZ')}
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    drain()
    assert google.events == {} and google.count('DELETE', '/events/') == 1


def test_a_failed_creation_is_retried_with_backoff_and_makes_exactly_one_event(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    receipt = book(ada)
    google.fail_next = [503]
    mailer = drain()
    assert google.events == {}
    with session_scope() as session:
        job = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'calendar_sync')).one()
    assert job.status == 'pending' and job.attempts == 1 and '503' in job.last_error
    assert 'confirmation' in mailer.kinds()  # the invitee is told anyway, with the invitation
    with time_machine.travel(job.due_at + timedelta(seconds=1), tick=False):
        drain()
    assert len(google.events) == 1 and stored(receipt.booking.uid).meeting_url


def test_a_creation_that_succeeded_before_a_crash_is_not_repeated(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    receipt = book(ada)
    event_id = event_id_for(receipt.booking.uid)  # Google made it, then the worker died before recording it
    google.events[event_id] = {
        'id': event_id,
        'conferenceData': {'entryPoints': [{'entryPointType': 'video', 'uri': 'https://meet.google.com/abc-defg-hij'}]},
    }
    drain()
    assert list(google.events) == [event_id]
    assert stored(receipt.booking.uid).meeting_url == 'https://meet.google.com/abc-defg-hij'


def test_a_revoked_grant_marks_the_connection_and_stops_retrying(ada: dict, google: google_calendar.FakeGoogle) -> None:
    book(ada)
    google.invalid_grants.add('rt-1')  # the host revoked CloudMeet's access at Google after booking
    drain()
    with session_scope() as session:
        job = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'calendar_sync')).one()
    assert job.status == 'failed'
    import time

    for _ in range(100):
        with session_scope() as session:
            if session.exec(select(CalendarConnection)).one().status == 'reconnect_needed':
                break
        time.sleep(0.05)
    with session_scope() as session:
        assert session.exec(select(CalendarConnection)).one().status == 'reconnect_needed'


def test_a_pending_meet_link_is_followed_up_until_it_exists(ada: dict, google: google_calendar.FakeGoogle) -> None:
    google.pending_conferences = 1
    receipt = book(ada)
    drain()
    with session_scope() as session:
        job = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'calendar_sync')).one()
    assert job.status == 'pending' and job.last_error == 'waiting for the video link'
    assert len(google.events) == 1 and not stored(receipt.booking.uid).meeting_url
    with time_machine.travel(job.due_at + timedelta(seconds=1), tick=False):
        drain()
    assert len(google.events) == 1  # followed up, not created again
    assert stored(receipt.booking.uid).meeting_url.startswith('https://meet.google.com/')


def test_the_host_chooses_which_google_calendars_count_as_busy(ada: dict, google: google_calendar.FakeGoogle) -> None:
    from app import crypto
    from services.calendars import google as google_api

    with session_scope() as session:
        connection = session.exec(select(CalendarConnection)).one()
    listed = google_api.list_calendars(crypto.decrypt(connection.secret_encrypted), get_settings())
    assert [c['name'] for c in listed] == ['ada@example.com', 'Team']
    google.busy['team@group.calendar.google.com'] = [
        {'start': at(MONDAY, '15:00').isoformat(), 'end': at(MONDAY, '16:00').isoformat()}
    ]
    with session_scope(write=True) as session:
        connections.set_busy_calendars(
            session,
            host_id=ada['host'].id,
            connection_id=connection.id,
            calendars=['primary', 'team@group.calendar.google.com'],
        )
    bookings.availability.warm_calendars(host_id=ada['host'].id, start=at(MONDAY, '15:00'))
    with session_scope() as session:
        assert not bookings.availability.is_offered(
            session=session, event_type=ada['meet'], start=at(MONDAY, '15:00'), now=NOW
        )
    query = [r for r in google.requests if r['path'].endswith('/freeBusy')][-1]
    assert b'team@group.calendar.google.com' in query['body']


def test_a_booking_moved_by_a_quarter_hour_is_not_blocked_by_its_own_event(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    with session_scope(write=True) as session:
        from app.models import Host

        quarter = make_event_type(
            session, session.get(Host, ada['host'].id), slug='quarter', title='Quarter', slot_interval_minutes=15
        )
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=quarter,
            start=at(MONDAY, '10:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        )
    drain()
    google.busy['primary'] = [{'start': at(MONDAY, '10:00').isoformat(), 'end': at(MONDAY, '10:30').isoformat()}]
    busy.reset_cache()  # Google now reports the booking's own event as busy
    bookings.availability.warm_for_booking(uid=receipt.booking.uid, start=at(MONDAY, '10:15'))
    with session_scope(write=True) as session:
        moved = bookings.reschedule_booking(
            session=session, booking=session.get(Booking, receipt.booking.id), start=at(MONDAY, '10:15'), now=NOW
        )
    assert moved.start_at == at(MONDAY, '10:15')


def test_a_cancellation_that_raced_the_creation_still_removes_the_event(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    receipt = book(ada)
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    event_id = event_id_for(receipt.booking.uid)  # the create job ran elsewhere and never recorded its event
    google.events[event_id] = {'id': event_id}
    drain()
    assert google.events == {}


def test_a_feed_that_cannot_be_resolved_is_reported_not_raised(ada: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import crypto
    from app.errors import InvalidInput  # noqa: F401
    from app.models import CalendarConnection
    from services.calendars import feeds

    with pytest.raises(feeds.ProviderError):
        feeds.fetch_busy(
            'https://calendar.invalid/feed.ics',
            NOW,
            NOW + timedelta(days=1),
            zone='UTC',
            allow_private=False,
            timeout=2,
        )
    with session_scope(write=True) as session:
        session.add(
            CalendarConnection(
                host_id=ada['host'].id,
                provider='ics',
                label='Gone',
                secret_encrypted=crypto.encrypt('https://calendar.invalid/feed.ics'),
            )
        )
    busy.reset_cache()
    with session_scope() as session:
        found = bookings.availability.offer(
            session=session, event_type=ada['meet'], start=at(MONDAY, '00:00'), end=at(MONDAY, '23:00'), now=NOW
        )
    assert found.slots == [] and 'cannot be found' in found.problem


def test_bookings_are_written_to_the_chosen_google_calendar(ada: dict, google: google_calendar.FakeGoogle) -> None:
    with session_scope() as session:
        connection = session.exec(select(CalendarConnection)).one()
    with session_scope(write=True) as session:
        connections.set_busy_calendars(
            session,
            host_id=ada['host'].id,
            connection_id=connection.id,
            calendars=['primary'],
            target='team@group.calendar.google.com',
        )
    book(ada)
    drain()
    [event] = google.events.values()
    assert event['calendarId'] == 'team@group.calendar.google.com'


def test_calendar_writes_that_gave_up_for_want_of_access_are_retried_after_reconnecting(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    receipt = book(ada)
    google.invalid_grants.add('rt-1')
    drain()
    assert google.events == {}
    with session_scope(write=True) as session:  # the host connects the same account again
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt-2'
        )
    drain()
    assert list(google.events) == [event_id_for(receipt.booking.uid)]


def test_erasing_an_invitee_removes_the_event_from_the_hosts_calendar_and_tells_open_pages(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    from app import events

    receipt = book(ada)
    drain()
    assert len(google.events) == 1
    seen: list[events.BookingChanged] = []
    unsubscribe = events.subscribe(seen.append)
    try:
        with session_scope(write=True) as session:
            bookings.erase_invitee(session=session, host_id=ada['host'].id, uid=receipt.booking.uid, now=NOW)
    finally:
        unsubscribe()
    mailer = drain()
    assert google.events == {} and google.count('DELETE', '/events/') == 1
    assert mailer.sent == []  # nobody is e-mailed at the erased address
    erased = stored(receipt.booking.uid)
    assert erased.sequence == receipt.booking.sequence + 1 and erased.invitee_email == bookings.ERASED_EMAIL
    assert [(e.uid, e.kind) for e in seen] == [(receipt.booking.uid, 'cancelled')]


def test_a_seated_start_is_one_event_listing_its_attendees_until_the_last_seat_goes(
    ada: dict, google: google_calendar.FakeGoogle
) -> None:
    with session_scope(write=True) as session:
        seminar = make_event_type(session, ada['host'], slug='seminar', title='Seminar', duration_minutes=60, seats=3)

    def seat(name: str, clock: str = '10:00') -> Booking:
        with session_scope(write=True) as session:
            return bookings.book_slot(
                session=session,
                event_type=seminar,
                start=at(MONDAY, clock),
                now=NOW,
                invitee=bookings.Invitee(name, f'{name.lower()}@example.com', 'UTC'),
            ).booking

    def cancel(booking: Booking) -> None:
        with session_scope(write=True) as session:
            bookings.cancel_booking(session=session, booking=session.get(Booking, booking.id), reason='', now=NOW)

    grace, alan = seat('Grace'), seat('Alan')
    drain()
    [event] = google.events.values()
    assert [a['email'] for a in event['attendees']] == ['grace@example.com', 'alan@example.com']
    assert event['summary'] == 'Seminar (2 booked)'
    assert stored(grace.uid).calendar_event_id == stored(alan.uid).calendar_event_id != ''
    cancel(grace)
    drain()
    [event] = google.events.values()
    assert [a['email'] for a in event['attendees']] == ['alan@example.com']
    with session_scope(write=True) as session:  # Alan moves to another start: its own event; the old one goes
        bookings.reschedule_booking(
            session=session, booking=session.get(Booking, alan.id), start=at(MONDAY, '14:00'), now=NOW
        )
    drain()
    [event] = google.events.values()
    assert event['start'] == {'dateTime': at(MONDAY, '14:00').strftime('%Y-%m-%dT%H:%M:%SZ')}
    assert [a['email'] for a in event['attendees']] == ['alan@example.com']
    cancel(alan)
    drain()
    assert google.events == {}
