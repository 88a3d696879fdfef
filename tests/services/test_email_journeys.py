"""E-mails as a new host and their invitees meet them (through the outbox worker, on a real database): who a reply
reaches, who organises the invitation, what the invitee's own invitation carries, the clock and the place in words."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.db import session_scope
from app.models import Booking, Host
from services import bookings
from services.bookings import Invitee
from tests.factories import at, make_event_type, make_host, next_monday
from tests.services.test_notifications import GRACE, NOW, Recorder, drain, one_event, parts

pytestmark = pytest.mark.usefixtures('database')


@pytest.fixture
def host() -> Host:
    with session_scope(write=True) as session:
        return make_host(session, timezone_name='Europe/Berlin', name='Ada Lovelace')


def booked(host: Host, *, location: dict | None = None, invitee: Invitee = GRACE) -> bookings.Receipt:
    with session_scope(write=True) as session:
        call = make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            location=location or {'kind': 'link', 'value': 'https://meet.example/ada'},
        )
    with session_scope(write=True) as session:
        return bookings.book_slot(session=session, event_type=call, start=start(), invitee=invitee, now=NOW)


def start() -> datetime:
    return at(next_monday(), '09:00', 'Europe/Berlin')


def sent(mailer: Recorder) -> dict[str, dict[str, str | bytes]]:
    return {str(m['X-CloudMeet-Kind']): parts(m) | {'reply_to': str(m['Reply-To'])} for _, m in mailer.sent}


def test_replies_reach_the_other_person_and_invitations_are_organised_by_the_host(host: Host) -> None:
    booked(host)
    mailer = Recorder()
    drain(mailer)
    mails = sent(mailer)
    assert mails['confirmation']['reply_to'] == 'ada@example.com'  # the invitee answers the host, not no-reply
    assert mails['host_booking']['reply_to'] == 'grace@example.com'
    for kind in ('confirmation', 'host_booking'):
        calendar, event = one_event(mails[kind]['ics'])  # type: ignore[arg-type]
        assert str(event['ORGANIZER']) == 'mailto:ada@example.com' and event['ORGANIZER'].params['CN'] == 'Ada Lovelace'
        assert str(calendar['METHOD']) == 'REQUEST' and str(event['ATTENDEE']) == 'mailto:grace@example.com'


def test_the_invitees_invitation_carries_their_manage_link_and_the_hosts_never_does(host: Host) -> None:
    receipt = booked(host)
    mailer = Recorder()
    drain(mailer)
    with session_scope(write=True) as session:
        booking = session.get(Booking, receipt.booking.id)
        bookings.reschedule_booking(session=session, booking=booking, start=start() + timedelta(hours=2), now=NOW)
    drain(mailer)
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    drain(mailer)
    mails = sent(mailer)
    link = f'/booking/{receipt.booking.uid}?token={receipt.token}'
    for kind in ('confirmation', 'reschedule'):
        _, event = one_event(mails[kind]['ics'])  # type: ignore[arg-type]
        assert str(event['URL']).endswith(link) and link in str(event['DESCRIPTION'])
    for kind in ('cancellation', 'host_booking', 'host_reschedule', 'host_cancellation'):
        assert b'token=' not in mails[kind]['ics'] and b'URL' not in mails[kind]['ics']  # type: ignore[operator]


def test_the_hosts_twelve_hour_clock_holds_in_the_hosts_e_mails(host: Host) -> None:
    with session_scope(write=True) as session:
        session.get(Host, host.id).clock24 = False  # type: ignore[union-attr]
    booked(host)
    mailer = Recorder()
    drain(mailer)
    mails = sent(mailer)
    assert '9:00 am\u20139:30 am (Europe/Berlin, CET)' in mails['host_booking']['text/plain']  # type: ignore[operator]
    # Bookings do not record the invitee's own clock yet: the invitee's e-mails follow the host's choice meanwhile.
    assert '3:00 am\u20133:30 am (America/New_York, EST)' in mails['confirmation']['text/plain']  # type: ignore


@pytest.mark.parametrize(
    ('location', 'invitee_reads', 'host_reads'),
    [
        ({'kind': 'none'}, 'Where: Ada Lovelace will send you the details', 'Where: You will send the details'),
        (
            {'kind': 'in_person', 'value': 'Room 4, Babbage House'},
            'Where: Room 4, Babbage House',
            'Where: Room 4, Babbage House',
        ),
    ],
)
def test_the_place_reads_naturally_in_both_e_mails(
    host: Host, location: dict, invitee_reads: str, host_reads: str
) -> None:
    booked(host, location=location)
    mailer = Recorder()
    drain(mailer)
    mails = sent(mailer)
    assert invitee_reads in mails['confirmation']['text/plain']  # type: ignore[operator]
    assert host_reads in mails['host_booking']['text/plain']  # type: ignore[operator]
    for mail in mails.values():
        assert 'None' not in mail['text/plain'] and 'details follow' not in mail['text/plain']  # type: ignore
