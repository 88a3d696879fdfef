"""The invitee's e-mails and invitations in the language kept with the booking (through the outbox worker, on a real
database): a German invitee reads German from the confirmation to the reminder and the cancellation; the host
keeps reading English, and a subject the host typed stays as typed."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
import time_machine

from app.db import session_scope
from app.models import Booking, Host
from services import bookings
from services.bookings import Invitee
from services.notifications import preferences
from tests.factories import at, make_event_type, make_host, next_monday
from tests.services.test_notifications import NOW, Recorder, drain, one_event, parts

pytestmark = pytest.mark.usefixtures('database')

GRETE = Invitee(name='Grete Hopper', email='grete@example.com', timezone='Europe/Berlin', locale='de')


@pytest.fixture
def booked() -> bookings.Receipt:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/Berlin', name='Ada Lovelace')
        call = make_event_type(session, host, slug='call', title='Intro call', location={'kind': 'phone', 'value': ''})
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session, event_type=call, start=at(next_monday(), '09:00', 'Europe/Berlin'), invitee=GRETE, now=NOW
        )


def subject(mail: Message) -> str:
    return str(make_header(decode_header(str(mail['Subject']))))


def by_kind(mailer: Recorder) -> dict[str, Message]:
    return {str(m['X-CloudMeet-Kind']): m for _, m in mailer.sent}


def test_the_booking_keeps_the_invitees_language(booked: bookings.Receipt) -> None:
    with session_scope() as session:
        assert session.get(Booking, booked.booking.id).locale == 'de'  # type: ignore[union-attr]


def test_a_german_invitees_confirmation_and_invitation_are_german(booked: bookings.Receipt) -> None:
    mailer = Recorder()
    drain(mailer)
    mails = by_kind(mailer)
    confirmation = mails['confirmation']
    assert subject(confirmation).startswith('Bestätigt: Intro call mit Ada Lovelace am Montag, ')
    assert subject(confirmation).endswith(' um 09:00')
    text = str(parts(confirmation)['text/plain'])
    assert 'Was: Intro call' in text and 'Gastgeber: Ada Lovelace' in text and 'Wo: Telefonat' in text
    assert 'Wann: Montag, ' in text and '09:00\u201309:30 (Europe/Berlin, Mitteleurop' in text  # CLDR's zone name
    assert 'Verschieben oder absagen' in text and 'Gesendet von CloudMeet' in text
    assert 'Monday' not in text and 'When:' not in text
    assert '<html lang="de">' in str(parts(confirmation)['text/html'])
    _, event = one_event(parts(confirmation)['ics'])  # type: ignore[arg-type]
    assert str(event['SUMMARY']) == 'Intro call mit Ada Lovelace'
    assert str(event['DESCRIPTION']).startswith('Verschieben oder absagen: ')
    assert str(event['LOCATION']) == 'Telefonat'


def test_the_host_keeps_reading_english(booked: bookings.Receipt) -> None:
    mailer = Recorder()
    drain(mailer)
    notice = by_kind(mailer)['host_booking']
    assert subject(notice).startswith('New booking: Grete Hopper, Intro call on Monday ')
    assert 'Invitee: Grete Hopper' in str(parts(notice)['text/plain'])
    _, event = one_event(parts(notice)['ics'])  # type: ignore[arg-type]
    assert str(event['SUMMARY']) == 'Intro call with Grete Hopper'


def test_the_reminder_and_the_cancellation_are_german_too(booked: bookings.Receipt) -> None:
    drain(Recorder())
    start = at(next_monday(), '09:00', 'Europe/Berlin')
    mailer = Recorder()
    with time_machine.travel(start - timedelta(hours=24) + timedelta(seconds=1), tick=False):
        drain(mailer)
    reminder = by_kind(mailer)['reminder']
    assert subject(reminder).startswith('Erinnerung: Intro call mit Ada Lovelace am Montag, ')
    with session_scope(write=True) as session:
        bookings.cancel_booking(
            session=session, booking=session.get(Booking, booked.booking.id), reason='Krank', now=NOW
        )
    drain(mailer)
    cancellation = by_kind(mailer)['cancellation']
    assert subject(cancellation).startswith('Abgesagt: Intro call mit Ada Lovelace am Montag, ')
    text = str(parts(cancellation)['text/plain'])
    assert 'Grund: Krank' in text and 'Erneut buchen: ' in text
    assert text.split('Erneut buchen: ')[1].split()[0].endswith('/ada/call?lang=de')  # books again in German
    calendar, event = one_event(parts(cancellation)['ics'])  # type: ignore[arg-type]
    assert str(calendar['METHOD']) == 'CANCEL' and str(event['SUMMARY']) == 'Intro call mit Ada Lovelace'


def test_a_subject_the_host_typed_stays_as_typed(booked: bookings.Receipt) -> None:
    with session_scope(write=True) as session:
        host = session.get(Host, booked.booking.host_id)
        assert host is not None
        preferences.update_preferences(host, kinds={'confirmation': {'subject': 'See you soon, {attendee_name}!'}})
    mailer = Recorder()
    drain(mailer)
    assert subject(by_kind(mailer)['confirmation']) == 'See you soon, Grete Hopper!'


def test_a_german_request_and_its_decline_are_german(booked: bookings.Receipt) -> None:
    with session_scope(write=True) as session:
        host = session.get(Host, booked.booking.host_id)
        assert host is not None
        review = make_event_type(
            session,
            host,
            slug='review',
            title='Review',
            requires_confirmation=True,
            location={'kind': 'phone', 'value': ''},
        )
    with session_scope(write=True) as session:
        request = bookings.book_slot(
            session=session,
            event_type=review,
            now=NOW,
            invitee=GRETE,
            start=at(next_monday(), '11:00', 'Europe/Berlin'),
        )
    mailer = Recorder()
    drain(mailer)
    asked = next(m for _, m in mailer.sent if str(m['X-CloudMeet-Kind']) == 'request')
    assert subject(asked).startswith('Angefragt: Review mit Ada Lovelace am Montag, ')
    assert subject(asked).endswith('(Bestätigung ausstehend)')
    assert 'Status: Wartet auf die Bestätigung durch Ada Lovelace' in str(parts(asked)['text/plain'])
    with session_scope(write=True) as session:
        bookings.decline_booking(
            session=session, booking=session.get(Booking, request.booking.id), reason='Ausgebucht', now=NOW
        )
    drain(mailer)
    declined = next(m for _, m in mailer.sent if str(m['X-CloudMeet-Kind']) == 'declined')
    assert subject(declined).startswith('Abgelehnt: Review mit Ada Lovelace am Montag, ')
    text = str(parts(declined)['text/plain'])
    assert 'Status: Abgelehnt von Ada Lovelace' in text and 'Grund: Ausgebucht' in text and 'Erneut buchen' in text
