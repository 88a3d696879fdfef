"""E-mails and reminders on a real database (SQLite and PostgreSQL): what is queued with each change, what the
messages say (parsed back with `email` and `icalendar`), and that each goes out exactly once, on time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path

import icalendar
import pytest
import time_machine
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.errors import SlotUnavailable
from app.models import Booking, Host, OutboxMessage
from services import bookings
from services.bookings import Invitee
from services.notifications import outbox, preferences, worker
from services.notifications.mailers import DeliveryError, FileMailer
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
GRACE = Invitee(name='Grace Hopper', email='grace@example.com', timezone='America/New_York')


class Recorder:
    """A mailer that keeps what it is given (thread-safe), optionally failing first."""

    name = 'recorder'
    idempotent = False

    def __init__(self, failures: list[DeliveryError] | None = None) -> None:
        self.sent: list[tuple[str, EmailMessage]] = []
        self.failures = failures or []
        self.lock = threading.Lock()

    def send(self, message: Message, key: str) -> None:
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            # kept as it arrives: the bytes on the wire, parsed back
            self.sent.append((key, message_from_bytes(message.as_bytes(), policy=policy.default)))

    def kinds(self) -> list[str]:
        return sorted(str(m['X-CloudMeet-Kind']) for _, m in self.sent)


@pytest.fixture
def setup() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/Berlin', name='Ada Lovelace')
        call = make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            location={'kind': 'link', 'value': 'https://meet.example/ada'},
        )
    monday = next_monday()
    return {'host': host, 'call': call, 'start': at(monday, '09:00', 'Europe/Berlin')}


def book(setup: dict, invitee: Invitee = GRACE, start: datetime | None = None) -> bookings.Receipt:
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session, event_type=setup['call'], start=start or setup['start'], invitee=invitee, now=NOW
        )


def drain(mailer: object, **kw: object) -> worker.DrainStats:
    return worker.drain(mailer=mailer, settings=get_settings(), **kw)  # type: ignore[arg-type]


def rows(uid: str) -> list[OutboxMessage]:
    with session_scope() as session:
        booking = session.exec(select(Booking).where(Booking.uid == uid)).one()
        return list(
            session.exec(select(OutboxMessage).where(OutboxMessage.booking_id == booking.id).order_by(OutboxMessage.id))
        )


def parts(message: EmailMessage) -> dict[str, str | bytes]:
    found: dict[str, str | bytes] = {}
    for part in message.walk():
        if part.get_filename():
            found['ics'] = part.get_payload(decode=True)
            found['ics_type'] = part['Content-Type']
        elif part.get_content_type() in ('text/plain', 'text/html'):
            found[part.get_content_type()] = part.get_content()
    return found


def one_event(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    events = list(calendar.walk('VEVENT'))
    assert len(events) == 1
    return calendar, events[0]


def test_a_booking_queues_the_confirmation_the_host_notice_and_two_reminders_with_it(setup: dict) -> None:
    receipt = book(setup)
    queued = {(m.kind, m.status, m.due_at) for m in rows(receipt.booking.uid)}
    start = setup['start']
    assert queued == {
        ('confirmation', 'pending', NOW),
        ('host_booking', 'pending', NOW),
        ('reminder', 'pending', start - timedelta(hours=24)),
        ('reminder', 'pending', start - timedelta(hours=1)),
    }


def test_a_refused_booking_queues_nothing(setup: dict) -> None:
    book(setup)
    with pytest.raises(SlotUnavailable):
        book(setup, Invitee('Ada', 'ada@example.org', 'UTC'))
    with session_scope() as session:
        assert len(list(session.exec(select(OutboxMessage)))) == 4


def test_the_confirmation_names_the_time_in_the_invitees_zone_and_carries_a_valid_invitation(
    setup: dict, tmp_path: Path
) -> None:
    receipt = book(setup)
    stats = drain(FileMailer(tmp_path))
    assert (stats.sent, stats.skipped) == (2, 0)  # reminders are not due yet
    files = {p.name.split('.')[1]: p for p in tmp_path.glob('*.eml')}
    assert set(files) == {'confirmation', 'host_booking'}
    mail = message_from_bytes(files['confirmation'].read_bytes(), policy=policy.default)
    assert mail['To'] == 'Grace Hopper <grace@example.com>'
    # 09:00 in Berlin is 03:00 in New York: the invitee reads their own time, with the zone named
    assert mail['Subject'] == f'Confirmed: Intro call with Ada Lovelace on {_day(setup, "America/New_York")} at 03:00'
    body = parts(mail)
    assert '03:00\u201303:30 (America/New_York, EST)' in body['text/plain']
    assert 'https://meet.example/ada' in body['text/plain']
    assert f'/booking/{receipt.booking.uid}?token={receipt.token}' in body['text/plain']
    assert f'?token={receipt.token}' in body['text/html']
    calendar, event = one_event(body['ics'])  # type: ignore[arg-type]
    assert 'method="REQUEST"' in str(body['ics_type'])
    assert calendar['METHOD'] == 'REQUEST'
    assert str(event['UID']) == f'{receipt.booking.uid}@127.0.0.1'
    assert event['SEQUENCE'] == 0 and event['STATUS'] == 'CONFIRMED'
    assert event.decoded('DTSTART') == setup['start'] and event.decoded('DTEND') == setup['start'] + timedelta(
        minutes=30
    )
    assert str(event['ATTENDEE']) == 'mailto:grace@example.com'
    assert str(event['ORGANIZER']).startswith('mailto:') and event['ORGANIZER'].params['CN'] == 'Ada Lovelace'
    assert str(event['LOCATION']) == 'https://meet.example/ada'
    host_mail = message_from_bytes(files['host_booking'].read_bytes(), policy=policy.default)
    assert host_mail['To'] == 'Ada Lovelace <ada@example.com>' and host_mail['Reply-To'] == 'grace@example.com'
    assert '09:00\u201309:30 (Europe/Berlin, CET)' in parts(host_mail)['text/plain']
    assert one_event(parts(host_mail)['ics'])[1]['UID'] == event['UID']  # type: ignore[arg-type]


def _day(setup: dict, zone: str) -> str:
    from zoneinfo import ZoneInfo

    local = setup['start'].astimezone(ZoneInfo(zone))
    return f'{local:%A} {local.day} {local:%B %Y}'


def test_reschedule_and_cancel_update_the_same_invitation_with_a_rising_sequence(setup: dict) -> None:
    mailer = Recorder()
    receipt = book(setup)
    drain(mailer)
    later = setup['start'] + timedelta(hours=2)
    with session_scope(write=True) as session:
        booking = session.get(Booking, receipt.booking.id)
        bookings.reschedule_booking(session=session, booking=booking, start=later, now=NOW)
    drain(mailer)
    with session_scope(write=True) as session:
        booking = session.get(Booking, receipt.booking.id)
        bookings.cancel_booking(session=session, booking=booking, reason='Sorry, <b>ill</b>', now=NOW)
    drain(mailer)
    assert mailer.kinds() == [
        'cancellation',
        'confirmation',
        'host_booking',
        'host_cancellation',
        'host_reschedule',
        'reschedule',
    ]
    by_kind = {str(m['X-CloudMeet-Kind']): m for _, m in mailer.sent}
    sequences = {}
    for kind in ('confirmation', 'reschedule', 'cancellation'):
        calendar, event = one_event(parts(by_kind[kind])['ics'])  # type: ignore[arg-type]
        assert str(event['UID']) == f'{receipt.booking.uid}@127.0.0.1'
        sequences[kind] = (int(event['SEQUENCE']), str(calendar['METHOD']), event.decoded('DTSTART'))
    assert sequences == {
        'confirmation': (0, 'REQUEST', setup['start']),
        'reschedule': (1, 'REQUEST', later),
        'cancellation': (2, 'CANCEL', later),
    }
    moved = parts(by_kind['reschedule'])['text/plain']
    assert 'Was: ' in moved and '03:00\u201303:30' in moved and 'Now: ' in moved and '05:00\u201305:30' in moved
    cancelled = parts(by_kind['cancellation'])
    assert 'Reason: Sorry, <b>ill</b>' in cancelled['text/plain']
    assert 'Sorry, &lt;b&gt;ill&lt;/b&gt;' in cancelled['text/html']
    assert '/ada/call' in cancelled['text/plain'] and 'token=' not in cancelled['text/plain']  # book again
    statuses = {
        (m.kind, m.context.get('sequence'), m.status) for m in rows(receipt.booking.uid) if m.kind == 'reminder'
    }
    assert statuses == {('reminder', 0, 'cancelled'), ('reminder', 1, 'cancelled')}


PAYLOADS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)']


def test_typed_text_is_inert_in_html_and_in_the_invitation(setup: dict) -> None:
    notes = (
        'Agenda <script>alert(1)</script>\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injected\n'
        'see https://evil.example/phish and javascript:alert(1) ' + 'x' * 200
    )
    receipt = book(
        setup, Invitee(name='<img src=x onerror=alert(1)>', email='grace@example.com', timezone='UTC', notes=notes)
    )
    mailer = Recorder()
    drain(mailer)
    for _key, message in mailer.sent:
        body = parts(message)
        for payload in PAYLOADS[:2]:
            assert payload not in body['text/html']
        _calendar, event = one_event(body['ics'])  # type: ignore[arg-type]
        assert 'Injected' not in str(event['SUMMARY']) and 'Injected' not in str(event.get('LOCATION', ''))
        # the manage link is in the invitee's own invitation only, never in the host's (host calendars are shared)
        invitee_copy = message['X-CloudMeet-Kind'] == 'confirmation'
        assert ('token=' in body['ics'].decode()) is invitee_copy  # type: ignore[union-attr]
        assert all(len(line) <= 75 for line in body['ics'].split(b'\r\n'))  # type: ignore[union-attr]
    host = next(m for _, m in mailer.sent if m['X-CloudMeet-Kind'] == 'host_booking')
    body = parts(host)
    assert '&lt;img src=x onerror=alert(1)&gt;' in body['text/html']
    assert 'https://evil.example' not in body['text/html'] and 'href="javascript' not in body['text/html']
    assert 'https://evil.example/phish' in body['text/plain']  # plain text as typed (copies exactly)
    assert '\u200b' not in body['text/plain'] + body['text/html']
    assert body['text/html'].count('<a ') == 3  # the meeting link, the invitee's mailto, the dashboard
    _, event = one_event(body['ics'])  # type: ignore[arg-type]
    assert str(event['DESCRIPTION']).startswith('Agenda <script>')  # the notes, as text, in the host's copy
    assert 'https://evil.example' not in str(event['DESCRIPTION'])  # calendar apps make links clickable too
    assert 'evil[.]example' in str(event['DESCRIPTION'])  # visibly broken up, nothing hidden
    assert receipt.booking.uid in str(event['UID'])


def test_a_host_can_switch_a_kind_off_and_word_subject_and_message_with_plain_variables(setup: dict) -> None:
    with session_scope(write=True) as session:
        host = session.get(Host, setup['host'].id)
        preferences.update_preferences(
            host,
            kinds={
                'host_booking': {'enabled': False},
                'confirmation': {
                    'subject': 'See you {date}, {attendee_name}! {__class__} {0}',
                    'message': 'Hello {attendee_name}, {host_name} here about {event_name} at {time}.',
                },
            },
            reminder_offsets_minutes=[120],
        )
        session.add(host)
    receipt = book(setup)
    assert sorted(m.kind for m in rows(receipt.booking.uid)) == ['confirmation', 'reminder']
    mailer = Recorder()
    drain(mailer)
    ((_, mail),) = mailer.sent
    assert mail['Subject'] == f'See you {_day(setup, "America/New_York")}, Grace Hopper! {{__class__}} {{0}}'
    assert parts(mail)['text/plain'].startswith('Hello Grace Hopper, Ada Lovelace here about Intro call at 03:00.')


def test_preferences_refuse_multi_line_subjects_unknown_kinds_and_odd_offsets(setup: dict) -> None:
    from app.errors import InvalidInput

    host = setup['host']
    for kinds, offsets in (
        ({'confirmation': {'subject': 'a\r\nBcc: x@example.com'}}, None),
        ({'nonsense': {}}, None),
        (None, [1]),
        (None, [60] * 1 + [61, 62, 63, 64, 65]),
    ):
        with pytest.raises(InvalidInput):
            preferences.update_preferences(host, kinds=kinds, reminder_offsets_minutes=offsets)


# --- reminders on a controlled clock -------------------------------------------------------------------------


def test_a_reminder_goes_out_when_due_and_not_before(setup: dict) -> None:
    receipt = book(setup)
    due = setup['start'] - timedelta(hours=24)
    drain(Recorder())  # the confirmation and host notice
    mailer = Recorder()
    with time_machine.travel(due - timedelta(seconds=30), tick=False):
        assert drain(mailer).sent == 0
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert drain(mailer).sent == 1
        assert drain(mailer).sent == 0
    ((key, mail),) = mailer.sent
    assert key == f'{receipt.booking.uid}.reminder.1440.0'
    assert mail['Subject'].startswith('Reminder: Intro call with Ada Lovelace')
    assert 'ics' not in parts(mail)


def test_a_cancelled_bookings_reminders_are_never_sent(setup: dict) -> None:
    receipt = book(setup)
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    mailer = Recorder()
    with time_machine.travel(setup['start'] - timedelta(minutes=5), tick=False):
        drain(mailer)
    assert 'reminder' not in mailer.kinds()


def test_a_moved_booking_reminds_at_the_new_time_only(setup: dict) -> None:
    receipt = book(setup)
    later = setup['start'] + timedelta(days=1)
    with session_scope(write=True) as session:
        bookings.reschedule_booking(
            session=session, booking=session.get(Booking, receipt.booking.id), start=later, now=NOW
        )
    drain(Recorder())
    mailer = Recorder()
    with time_machine.travel(setup['start'] - timedelta(minutes=30), tick=False):  # both old reminders are due
        drain(mailer)
    assert mailer.sent == []
    with time_machine.travel(later - timedelta(minutes=30), tick=False):
        drain(mailer)
    assert [key for key, _ in mailer.sent] == [
        f'{receipt.booking.uid}.reminder.1440.1',
        f'{receipt.booking.uid}.reminder.60.1',
    ]


def test_reminders_due_during_downtime_go_out_on_return_unless_the_meeting_has_started(setup: dict) -> None:
    receipt = book(setup)
    drain(Recorder())
    mailer = Recorder()
    # the app was down from two days before until 20 minutes before the meeting: both reminders are overdue
    with time_machine.travel(setup['start'] - timedelta(minutes=20), tick=False):
        drain(mailer)
    assert sorted(key for key, _ in mailer.sent) == [
        f'{receipt.booking.uid}.reminder.1440.0',
        f'{receipt.booking.uid}.reminder.60.0',
    ]
    other = book(setup, Invitee('Ada', 'ada@example.org', 'UTC'), start=setup['start'] + timedelta(hours=3))
    late = Recorder()
    with time_machine.travel(other.booking.start_at + timedelta(minutes=1), tick=False):  # back too late
        stats = drain(late)
    assert [str(m['X-CloudMeet-Kind']) for _, m in late.sent] == ['confirmation', 'host_booking']
    assert stats.skipped == 2
    assert {m.status for m in rows(other.booking.uid) if m.kind == 'reminder'} == {'skipped'}


def test_two_workers_racing_send_each_reminder_exactly_once(setup: dict) -> None:
    with session_scope(write=True) as session:
        host = make_host(session, username='busy', timezone_name='UTC')
        call = make_event_type(session, host, slug='quick', duration_minutes=15, slot_interval_minutes=15)
    day = next_monday()
    uids = []
    for i in range(24):  # 09:00-15:00 in 15-minute steps: 48 reminders
        start = at(day, f'{9 + i // 4:02d}:{15 * (i % 4):02d}', 'UTC')
        with session_scope(write=True) as session:
            uids.append(
                bookings.book_slot(
                    session=session,
                    event_type=call,
                    start=start,
                    now=NOW,
                    invitee=Invitee(f'Guest {i}', f'g{i}@example.com', 'UTC'),
                ).booking.uid
            )
    drain(Recorder())
    mailers = [Recorder(), Recorder()]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait()
        drain(mailers[index], worker=f'process-{index}', batch=5)

    with time_machine.travel(at(day, '07:30', 'UTC'), tick=False):  # every 24-hour reminder, no 1-hour one
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    keys = [key for m in mailers for key, _ in m.sent]
    assert sorted(keys) == sorted(f'{uid}.reminder.1440.0' for uid in uids)
    assert len(keys) == len(set(keys)) == 24


def test_a_worker_that_died_holding_a_claim_delays_its_messages_and_loses_none(setup: dict) -> None:
    book(setup)
    with session_scope(write=True) as session:
        claimed = outbox.claim(session, now=datetime.now(timezone.utc), limit=10, worker='crashed')
    assert len(claimed) == 2  # then the process died before sending
    mailer = Recorder()
    assert drain(mailer).sent == 0  # the claim still holds
    with time_machine.travel(datetime.now(timezone.utc) + outbox.LEASE + timedelta(seconds=1), tick=False):
        assert drain(mailer).sent == 2
    assert mailer.kinds() == ['confirmation', 'host_booking']


def test_failed_deliveries_are_retried_with_backoff_and_give_up_when_permanent(setup: dict) -> None:
    receipt = book(setup)
    mailer = Recorder([DeliveryError('421 try later'), DeliveryError('550 no such user', permanent=True)])
    stats = drain(mailer)
    assert (stats.retried, stats.failed, stats.sent) == (1, 1, 0)
    state = {m.kind: (m.status, m.attempts, m.last_error) for m in rows(receipt.booking.uid) if m.kind != 'reminder'}
    assert sorted(state.values()) == [('failed', 1, '550 no such user'), ('pending', 1, '421 try later')]
    retry = next(m for m in rows(receipt.booking.uid) if m.status == 'pending' and m.kind != 'reminder')
    assert timedelta(seconds=55) < retry.due_at - datetime.now(timezone.utc) <= timedelta(seconds=60)
    assert drain(mailer).sent == 0  # not yet
    with time_machine.travel(retry.due_at + timedelta(seconds=1), tick=False):
        assert drain(mailer).sent == 1
    with session_scope() as session:
        seen = outbox.deliveries(session, booking_id=receipt.booking.id)
    assert {(d['kind'], d['status']) for d in seen} >= {(retry.kind, 'sent')}


# --- proposals -----------------------------------------------------------------------------------------------


def propose(uid: str, start: datetime, message: str = '', now: datetime = NOW) -> Booking:
    with session_scope(write=True) as session:
        booking = session.exec(select(Booking).where(Booking.uid == uid)).one()
        return bookings.propose_time(session=session, booking=booking, start=start, message=message, now=now)


def test_a_proposal_e_mail_offers_accept_pick_and_decline_links_that_only_open_the_manage_page(setup: dict) -> None:
    receipt = book(setup)
    drain(Recorder())
    propose(receipt.booking.uid, setup['start'] + timedelta(hours=4), 'Sorry, a <b>clash</b>')
    mailer = Recorder()
    drain(mailer)
    ((key, mail),) = mailer.sent
    assert key.startswith(f'{receipt.booking.uid}.proposal.')
    day = _day(setup, 'America/New_York')
    assert mail['Subject'] == f'Ada Lovelace proposes a new time for Intro call: {day} at 07:00'
    text = parts(mail)['text/plain']
    assert 'Currently: ' in text and '03:00\u201303:30' in text and 'Proposed: ' in text and '07:00\u201307:30' in text
    assert 'Message from Ada Lovelace: Sorry, a <b>clash</b>' in text and 'Please answer by' in text
    base = f'/booking/{receipt.booking.uid}?token={receipt.token}'
    for action in ('accept', 'pick', 'decline'):
        assert f'{base}&amp;action={action}' in parts(mail)['text/html']
    assert 'a &lt;b&gt;clash&lt;/b&gt;' in parts(mail)['text/html']
    assert 'ics' not in parts(mail)  # nothing changes in the calendar until the invitee accepts


def test_accepting_moves_the_meeting_and_sends_the_reschedule_declining_cancels(setup: dict) -> None:
    first, second = (
        book(setup),
        book(setup, Invitee('Ada', 'ada@example.org', 'UTC'), start=setup['start'] + timedelta(hours=1)),
    )
    new_time = setup['start'] + timedelta(hours=5)
    propose(first.booking.uid, new_time)
    propose(second.booking.uid, setup['start'] + timedelta(hours=6))
    with session_scope(write=True) as session:
        accepted = bookings.accept_proposal(session=session, booking=session.get(Booking, first.booking.id), now=NOW)
        declined = bookings.decline_proposal(session=session, booking=session.get(Booking, second.booking.id), now=NOW)
    assert (accepted.start_at, accepted.sequence, accepted.proposed_start_at) == (new_time, 1, None)
    assert declined.status == 'cancelled' and declined.cancel_reason == 'The invitee declined the proposed new time'
    mailer = Recorder()
    drain(mailer)
    kinds = sorted(key.split('.')[1] for key, _ in mailer.sent)
    # the proposals (and the confirmations, not sent yet) were overtaken by the answers: only what holds goes out
    assert kinds == ['cancellation', 'host_cancellation', 'host_reschedule', 'reschedule']


def test_a_proposal_must_be_a_free_time_and_expires_after_seven_days(setup: dict) -> None:
    from app.errors import Conflict

    first, second = (
        book(setup),
        book(setup, Invitee('Ada', 'ada@example.org', 'UTC'), start=setup['start'] + timedelta(hours=1)),
    )
    with pytest.raises(SlotUnavailable):
        propose(first.booking.uid, second.booking.start_at)  # taken by another booking
    with pytest.raises(SlotUnavailable):
        propose(first.booking.uid, setup['start'] + timedelta(minutes=7))  # not an offered start
    propose(first.booking.uid, setup['start'] + timedelta(hours=3))
    later = NOW + timedelta(days=7, seconds=1)
    with session_scope(write=True) as session, pytest.raises(Conflict, match='expired'):
        bookings.accept_proposal(session=session, booking=session.get(Booking, first.booking.id), now=later)


def test_a_notice_still_waiting_when_the_booking_changes_again_is_not_sent(setup: dict) -> None:
    receipt = book(setup)
    with session_scope(write=True) as session:  # cancelled before the worker got to the confirmation
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    mailer = Recorder()
    stats = drain(mailer)
    assert mailer.kinds() == ['cancellation', 'host_cancellation'] and stats.skipped == 2
