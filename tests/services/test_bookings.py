"""Booking use cases on a real database (SQLite and PostgreSQL): re-checks, atomic moves, idempotency."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict, InvalidInput, NotFound, SlotUnavailable
from app.models import Booking
from services import bookings
from services.bookings import Invitee
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')
GRACE = Invitee(name='Grace Hopper', email='grace@example.com', timezone='America/New_York')
NOW = datetime.now(timezone.utc)


@pytest.fixture
def setup() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(session, host, slug='call')
        long = make_event_type(
            session,
            host,
            slug='long',
            title='Long',
            duration_minutes=60,
            slot_interval_minutes=30,
            min_notice_minutes=60 * 24,
        )
    return {'host': host, 'call': call, 'long': long, 'monday': next_monday()}


def book(event_type, start, invitee=GRACE, key=None, now=NOW):  # type: ignore[no-untyped-def]
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session, event_type=event_type, start=start, invitee=invitee, now=now, idempotency_key=key
        )


def stored(uid: str) -> Booking:
    with session_scope() as session:
        return session.exec(select(Booking).where(Booking.uid == uid)).one()


def test_a_booked_slot_is_stored_in_utc_and_read_back_time_zone_aware(setup: dict) -> None:
    receipt = book(setup['call'], at(setup['monday'], '09:00'))
    booking = stored(receipt.booking.uid)
    assert booking.start_at == at(setup['monday'], '09:00')
    assert booking.start_at.tzinfo is not None and booking.start_at.utcoffset() == timedelta(0)
    assert booking.end_at - booking.start_at == timedelta(minutes=30)
    assert booking.created_at.tzinfo is not None
    assert booking.manage_token_hash != receipt.token and len(receipt.token) >= 22


def test_a_taken_slot_is_refused(setup: dict) -> None:
    book(setup['call'], at(setup['monday'], '09:00'))
    with pytest.raises(SlotUnavailable):
        book(setup['call'], at(setup['monday'], '09:00'), Invitee('Ada', 'ada@example.com', 'UTC'))


def test_a_booking_of_another_event_type_blocks_the_overlapping_time(setup: dict) -> None:
    book(setup['long'], at(setup['monday'], '10:00'))
    with pytest.raises(SlotUnavailable):
        book(setup['call'], at(setup['monday'], '10:30'))
    assert book(setup['call'], at(setup['monday'], '11:00')).booking.uid


@pytest.mark.parametrize(
    ('label', 'start'),
    [
        ('outside working hours', lambda d: at(d, '18:00')),
        ('on a weekend', lambda d: at(d - timedelta(days=1), '10:00')),
        ('unaligned', lambda d: at(d, '09:10')),
        ('in the past', lambda d: at(datetime.now(timezone.utc).date() - timedelta(days=3), '10:00')),
        ('beyond the booking window', lambda d: at(d + timedelta(days=400), '10:00')),
    ],
)
def test_starts_the_rules_do_not_offer_are_refused(setup: dict, label: str, start) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SlotUnavailable):
        book(setup['call'], start(setup['monday']))


def test_a_start_inside_minimum_notice_is_refused(setup: dict) -> None:
    now = at(setup['monday'], '08:00')
    with pytest.raises(SlotUnavailable):
        book(setup['long'], at(setup['monday'], '10:00'), now=now)
    assert book(setup['long'], at(setup['monday'] + timedelta(days=1), '10:00'), now=now).booking.uid


def test_the_same_idempotency_key_returns_the_same_booking(setup: dict) -> None:
    first = book(setup['call'], at(setup['monday'], '09:00'), key='click-1')
    again = book(setup['call'], at(setup['monday'], '09:00'), key='click-1')
    assert again.replayed and again.booking.uid == first.booking.uid and again.token == first.token
    with session_scope() as session:
        assert len(session.exec(select(Booking)).all()) == 1
    with pytest.raises(Conflict):
        book(setup['call'], at(setup['monday'], '09:30'), key='click-1')


def test_reschedule_moves_the_booking_and_frees_the_old_time(setup: dict) -> None:
    receipt = book(setup['call'], at(setup['monday'], '09:00'))
    with session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=receipt.booking.uid, token=receipt.token)
        bookings.reschedule_booking(session=session, booking=booking, start=at(setup['monday'], '14:00'), now=NOW)
    assert stored(receipt.booking.uid).start_at == at(setup['monday'], '14:00')
    assert book(setup['call'], at(setup['monday'], '09:00'), Invitee('Ada', 'ada@example.com', 'UTC')).booking.uid


def test_a_refused_reschedule_keeps_the_old_time(setup: dict) -> None:
    mine = book(setup['call'], at(setup['monday'], '09:00'))
    book(setup['call'], at(setup['monday'], '10:00'), Invitee('Ada', 'ada@example.com', 'UTC'))
    with pytest.raises(SlotUnavailable), session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=mine.booking.uid, token=mine.token)
        bookings.reschedule_booking(session=session, booking=booking, start=at(setup['monday'], '10:00'), now=NOW)
    assert stored(mine.booking.uid).start_at == at(setup['monday'], '09:00')


def test_a_booking_may_move_to_a_time_overlapping_its_own_old_time(setup: dict) -> None:
    receipt = book(setup['long'], at(setup['monday'], '10:00'))
    with session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=receipt.booking.uid, token=receipt.token)
        bookings.reschedule_booking(session=session, booking=booking, start=at(setup['monday'], '10:30'), now=NOW)
    assert stored(receipt.booking.uid).start_at == at(setup['monday'], '10:30')


def test_cancel_frees_the_slot_and_a_cancelled_booking_cannot_be_moved(setup: dict) -> None:
    receipt = book(setup['call'], at(setup['monday'], '09:00'))
    with session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=receipt.booking.uid, token=receipt.token)
        bookings.cancel_booking(session=session, booking=booking, reason='Sick', now=NOW)
    assert stored(receipt.booking.uid).status == 'cancelled'
    assert stored(receipt.booking.uid).cancel_reason == 'Sick'
    with pytest.raises(Conflict), session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=receipt.booking.uid, token=receipt.token)
        bookings.reschedule_booking(session=session, booking=booking, start=at(setup['monday'], '11:00'), now=NOW)
    assert book(setup['call'], at(setup['monday'], '09:00'), Invitee('Ada', 'ada@example.com', 'UTC')).booking.uid


def test_a_wrong_or_foreign_token_finds_nothing(setup: dict) -> None:
    mine = book(setup['call'], at(setup['monday'], '09:00'))
    theirs = book(setup['call'], at(setup['monday'], '10:00'), Invitee('Ada', 'ada@example.com', 'UTC'))
    with session_scope() as session:
        for uid, token in ((mine.booking.uid, 'guess'), (mine.booking.uid, theirs.token), ('nope', mine.token)):
            with pytest.raises(NotFound):
                bookings.booking_for_token(session=session, uid=uid, token=token)


def test_the_daily_limit_closes_the_day(setup: dict) -> None:
    with session_scope(write=True) as session:
        limited = make_event_type(session, setup['host'], slug='limited', daily_limit=1)
    book(limited, at(setup['monday'], '09:00'))
    with pytest.raises(SlotUnavailable):
        book(limited, at(setup['monday'], '15:00'), Invitee('Ada', 'ada@example.com', 'UTC'))
    assert book(setup['call'], at(setup['monday'], '15:00')).booking.uid


@pytest.mark.parametrize(
    ('field', 'invitee'),
    [
        ('name', Invitee('Eve\r\nBcc: x@example.com', 'eve@example.com', 'UTC')),
        ('email', Invitee('Eve', 'eve@example.com\nBcc: x@example.com', 'UTC')),
        ('timezone', Invitee('Eve', 'eve@example.com', 'Mars/Olympus')),
    ],
)
def test_invalid_invitee_details_are_refused_and_nothing_is_stored(setup: dict, field: str, invitee: Invitee) -> None:
    with pytest.raises(InvalidInput):
        book(setup['call'], at(setup['monday'], '09:00'), invitee)
    with session_scope() as session:
        assert session.exec(select(Booking)).all() == []


def test_required_questions_must_be_answered(setup: dict) -> None:
    with session_scope(write=True) as session:
        asked = make_event_type(
            session,
            setup['host'],
            slug='asked',
            questions=[{'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True}],
        )
    with pytest.raises(InvalidInput, match='Topic'):
        book(asked, at(setup['monday'], '09:00'))
    answered = Invitee('Grace', 'grace@example.com', 'UTC', answers={'topic': 'COBOL', 'extra': 'dropped'})
    assert stored(book(asked, at(setup['monday'], '09:00'), answered).booking.uid).answers == {'topic': 'COBOL'}


def test_the_database_refuses_overlapping_confirmed_bookings_written_directly(setup: dict, database: sa.Engine) -> None:
    """The last line of defence, below the services: an exclusion constraint or a trigger."""
    book(setup['long'], at(setup['monday'], '10:00'))
    original = stored(book(setup['call'], at(setup['monday'], '12:00')).booking.uid)

    def insert(start: str, end: str, status: str = 'confirmed', host_id: int | None = None) -> None:
        copy = Booking(
            **{
                **original.model_dump(exclude={'id'}),
                'uid': f'x{start}{status}{host_id}',
                'start_at': at(setup['monday'], start),
                'end_at': at(setup['monday'], end),
                'status': status,
                'host_id': host_id or original.host_id,
                'idempotency_key': None,
            }
        )
        with session_scope(write=True) as session:
            session.add(copy)

    with pytest.raises(sa.exc.IntegrityError):
        insert('10:30', '11:30')
    with pytest.raises(sa.exc.IntegrityError):
        insert('10:00', '10:15')
    insert('11:00', '11:30')  # back to back with the 10:00-11:00 booking
    insert('10:15', '10:45', status='cancelled')
    with session_scope(write=True) as session:
        other = make_host(session, username='bob')
    insert('10:00', '11:00', host_id=other.id)


def test_threads_racing_for_one_slot_get_exactly_one_booking(setup: dict) -> None:
    start, barrier, results = at(setup['monday'], '09:00'), threading.Barrier(8), []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            book(setup['call'], start, Invitee(f'Racer {i}', f'racer{i}@example.com', 'UTC'))
            results.append('booked')
        except SlotUnavailable:
            results.append('refused')

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ['booked'] + ['refused'] * 7


def test_a_moved_booking_takes_its_event_types_current_buffers(setup: dict) -> None:
    receipt = book(setup['call'], at(setup['monday'], '09:00'))
    from services import event_types

    with session_scope(write=True) as session:
        event_types.update_event_type(
            session=session,
            host_id=setup['host'].id,
            event_type_id=setup['call'].id,
            changes={'buffer_after_minutes': 30},
        )
    with session_scope(write=True) as session:
        booking = bookings.booking_for_token(session=session, uid=receipt.booking.uid, token=receipt.token)
        bookings.reschedule_booking(session=session, booking=booking, start=at(setup['monday'], '14:00'), now=NOW)
    assert stored(receipt.booking.uid).buffer_after_minutes == 30
