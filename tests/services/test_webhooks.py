"""Webhooks on a real database (SQLite and PostgreSQL) and a real HTTP receiver: every kind of booking change emits
exactly its event, signed per Standard Webhooks; retries keep the webhook-id and follow the schedule; the host is told
once when a delivery is given up; and the endpoint is reached only as checked (no redirects, 1 kB, a deadline)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.message import Message
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app import crypto
from app.config import get_settings
from app.db import session_scope
from app.errors import InvalidInput, NotFound, SlotUnavailable
from app.models import OutboxMessage, WebhookDelivery
from services import accounts, bookings, outbound, use_cases
from services.bookings import Invitee
from services.notifications import worker
from services.webhooks import EVENTS, sender, subscriptions
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes.tls import self_signed
from tests.fakes.webhook_receiver import Receiver, Reply, serve

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
real_getaddrinfo = socket.getaddrinfo
GRACE = Invitee(name='Grace Hopper', email='grace@example.com', timezone='America/New_York')


class Mailbox:
    """A mailer that keeps the subject and recipient of every message."""

    name = 'mailbox'
    idempotent = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def send(self, message: Message, key: str) -> None:
        with self.lock:
            self.sent.append((str(message['X-CloudMeet-Kind']), str(message['To']), str(message['Subject'])))

    def of_kind(self, kind: str) -> list[tuple[str, str, str]]:
        return [m for m in self.sent if m[0] == kind]


@pytest.fixture(autouse=True)
def private_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', True)  # the receiver is on loopback


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = serve()
    yield found
    found.stop()


@pytest.fixture
def setup() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/Berlin', name='Ada Lovelace')
        call = make_event_type(session, host, slug='call', title='Intro call')
    monday = next_monday()
    return {'host': host, 'call': call, 'start': at(monday, '09:00', 'Europe/Berlin'), 'monday': monday}


def subscribe(setup: dict, url: str, events: list[str] | None = None) -> subscriptions.Created:
    with session_scope(write=True) as session:
        return subscriptions.subscribe(session=session, host_id=setup['host'].id, url=url, events=events, now=NOW)


def book(setup: dict, start: datetime | None = None) -> bookings.Receipt:
    return use_cases.book(
        event_type_id=setup['call'].id, start=start or setup['start'], invitee=GRACE, now=NOW, address='192.0.2.1'
    )


def drain(mailer: Mailbox | None = None) -> worker.DrainStats:
    return worker.drain(mailer=mailer or Mailbox(), settings=get_settings())  # type: ignore[arg-type]


def log(created: subscriptions.Created) -> list[WebhookDelivery]:
    with session_scope() as session:
        found = subscriptions.deliveries(
            session=session, host_id=created.subscription.host_id, subscription_id=created.subscription.id or 0
        )
    return list(reversed(found))  # oldest first


def events_received(receiver: Receiver) -> list[tuple[str, str]]:
    return [(json.loads(r.body)['type'], json.loads(r.body)['data'].get('status', '')) for r in receiver.received]


def test_a_booking_reaches_the_endpoint_signed_with_the_booking_as_the_host_api_shows_it(
    setup: dict, receiver: Receiver
) -> None:
    created = subscribe(setup, receiver.url)
    assert created.secret.startswith('whsec_')
    receipt = book(setup)
    assert drain().sent >= 1
    [request] = receiver.received
    payload = Webhook(created.secret).verify(request.body, request.headers)
    assert payload['type'] == 'booking.created'
    with session_scope() as session:
        shown = bookings.booking_json(
            bookings.host_booking(session=session, host_id=setup['host'].id, uid=receipt.booking.uid)
        )
    assert payload['data'] == json.loads(json.dumps(shown))
    assert payload['data']['invitee']['email'] == 'grace@example.com'
    assert datetime.fromisoformat(payload['timestamp']) == NOW
    assert request.headers['content-type'] == 'application/json'
    [entry] = log(created)
    assert (entry.event, entry.status, entry.attempts, entry.response_code, entry.webhook_id) == (
        'booking.created',
        'delivered',
        1,
        200,
        request.headers['webhook-id'],
    )
    assert entry.duration_ms is not None and entry.response_body == '{"ok": true}'
    with pytest.raises(WebhookVerificationError):  # another secret does not verify
        Webhook(subscribe(setup, receiver.url).secret).verify(request.body, request.headers)


def test_every_kind_of_change_emits_exactly_its_event(setup: dict, receiver: Receiver) -> None:
    created = subscribe(setup, receiver.url)
    monday, host_id = setup['monday'], setup['host'].id
    first = book(setup)  # booking.created
    use_cases.reschedule_by_token(
        uid=first.booking.uid,
        token=first.token,
        start=at(monday, '10:00', 'Europe/Berlin'),
        now=NOW,
        address='192.0.2.1',
    )  # booking.rescheduled (the invitee's link)
    use_cases.propose_as_host(
        host_id=host_id, uid=first.booking.uid, start=at(monday, '11:00', 'Europe/Berlin'), message='Later?', now=NOW
    )  # a proposal alone changes nothing yet: no event
    use_cases.accept_proposal_by_token(
        uid=first.booking.uid, token=first.token, now=NOW, address='192.0.2.1'
    )  # booking.rescheduled (the e-mailed link)
    use_cases.cancel_by_token(
        uid=first.booking.uid, token=first.token, reason='', now=NOW, address='192.0.2.1'
    )  # booking.cancelled
    second = book(setup, at(monday, '13:00', 'Europe/Berlin'))  # booking.created
    use_cases.propose_as_host(
        host_id=host_id, uid=second.booking.uid, start=at(monday, '14:00', 'Europe/Berlin'), message='', now=NOW
    )
    use_cases.decline_proposal_by_token(
        uid=second.booking.uid, token=second.token, now=NOW, address='192.0.2.1'
    )  # booking.cancelled
    third = book(setup, at(monday, '15:00', 'Europe/Berlin'))  # booking.created
    use_cases.cancel_as_host(host_id=host_id, uid=third.booking.uid, reason='Ill', now=NOW)  # booking.cancelled
    fourth = book(setup, at(monday, '16:00', 'Europe/Berlin'))  # booking.created
    use_cases.erase_as_host(host_id=host_id, uid=fourth.booking.uid, now=NOW)  # booking.cancelled, data erased
    use_cases.erase_as_host(host_id=host_id, uid=third.booking.uid, now=NOW)  # already cancelled: no event
    expected = [
        ('booking.created', first.booking.uid),
        ('booking.rescheduled', first.booking.uid),
        ('booking.rescheduled', first.booking.uid),
        ('booking.cancelled', first.booking.uid),
        ('booking.created', second.booking.uid),
        ('booking.cancelled', second.booking.uid),
        ('booking.created', third.booking.uid),
        ('booking.cancelled', third.booking.uid),
        ('booking.created', fourth.booking.uid),
        ('booking.cancelled', fourth.booking.uid),
    ]
    assert [(e.event, e.booking_uid) for e in log(created)] == expected
    drain()
    bodies = [json.loads(r.body) for r in receiver.received]
    sent = sorted((b['type'], b['data']['uid']) for b in bodies)
    # an erased booking's queued deliveries are withdrawn with the invitee's data; a cancellation that erasure
    # causes goes out with the data erased
    withdrawn = [
        ('booking.created', third.booking.uid),
        ('booking.cancelled', third.booking.uid),
        ('booking.created', fourth.booking.uid),
    ]
    assert sent == sorted(e for e in expected if e not in withdrawn)
    assert [e.status for e in log(created)] == ['delivered'] * 6 + ['cancelled'] * 3 + ['delivered']
    erased = next(b for b in bodies if b['data']['uid'] == fourth.booking.uid)
    assert erased['data']['invitee']['email'] == bookings.ERASED_EMAIL and erased['data']['status'] == 'cancelled'
    moved = [b for b in bodies if b['type'] == 'booking.rescheduled']
    assert sorted(b['data']['start'] for b in moved) == sorted(
        [at(monday, '10:00', 'Europe/Berlin').isoformat(), at(monday, '11:00', 'Europe/Berlin').isoformat()]
    )


def test_a_subscription_hears_only_the_events_it_chose(setup: dict, receiver: Receiver) -> None:
    created = subscribe(setup, receiver.url, ['booking.cancelled'])
    receipt = book(setup)
    use_cases.cancel_as_host(host_id=setup['host'].id, uid=receipt.booking.uid, reason='', now=NOW)
    drain()
    assert [json.loads(r.body)['type'] for r in receiver.received] == ['booking.cancelled']
    assert [e.event for e in log(created)] == ['booking.cancelled']


def test_a_refused_booking_emits_nothing(setup: dict, receiver: Receiver) -> None:
    created = subscribe(setup, receiver.url)
    book(setup)
    with pytest.raises(SlotUnavailable):
        book(setup)
    assert [e.event for e in log(created)] == ['booking.created']


def test_retries_keep_the_webhook_id_follow_the_schedule_and_the_host_is_told_once_when_given_up(setup: dict) -> None:
    failing = serve([Reply(status=503, body=b'down for maintenance')])
    try:
        created = subscribe(setup, failing.url)
        mailbox = Mailbox()
        moment = datetime.now(timezone.utc)
        with time_machine.travel(moment, tick=False) as clock:
            book(setup)
            drain(mailbox)
            waits = []
            for _ in range(len(sender.RETRY_DELAYS)):
                [entry] = log(created)
                assert entry.status == 'retrying' and entry.response_code == 503
                assert entry.response_body == 'down for maintenance'
                assert entry.next_attempt_at is not None
                waits.append(entry.next_attempt_at - entry.last_attempt_at)  # type: ignore[operator]
                clock.move_to(entry.next_attempt_at - timedelta(seconds=1))
                assert drain(mailbox).handled == 0  # not due yet
                clock.move_to(entry.next_attempt_at)
                drain(mailbox)
            assert waits == [
                timedelta(seconds=5),
                timedelta(minutes=5),
                timedelta(minutes=30),
                timedelta(hours=2),
                timedelta(hours=5),
                timedelta(hours=10),
            ]
            [entry] = log(created)
            assert (entry.status, entry.attempts, entry.next_attempt_at) == ('failed', 7, None)
            ids = {r.headers['webhook-id'] for r in failing.received}
            assert len(failing.received) == 7 and ids == {entry.webhook_id}
            timestamps = [int(r.headers['webhook-timestamp']) for r in failing.received]
            assert timestamps == sorted(timestamps) and len(set(timestamps)) == 7  # signed afresh per attempt
            bodies = {r.body for r in failing.received}
            assert len(bodies) == 1  # the same frozen body every time
            notices = mailbox.of_kind('webhook_failed')
            assert notices == [('webhook_failed', 'ada@example.com', 'A webhook could not be delivered')]
            with session_scope() as session:  # nothing left to send
                assert (
                    session.exec(
                        select(OutboxMessage).where(OutboxMessage.kind == 'webhook', OutboxMessage.status == 'pending')
                    ).all()
                    == []
                )
            # a second delivery given up does not tell the host again
            use_cases.cancel_as_host(host_id=setup['host'].id, uid=entry.booking_uid, reason='', now=NOW)
            for _ in range(len(sender.RETRY_DELAYS) + 1):
                drain(mailbox)
                clock.shift(timedelta(hours=11))
            assert [e.status for e in log(created)] == ['failed', 'failed']
            assert len(mailbox.of_kind('webhook_failed')) == 1
    finally:
        failing.stop()


def test_a_success_after_failures_rearms_the_notice(setup: dict) -> None:
    flaky = serve([Reply(status=500), Reply(status=204, body=b'')])
    try:
        created = subscribe(setup, flaky.url)
        with session_scope(write=True) as session:
            subscription = subscriptions.get_subscription(
                session=session, host_id=setup['host'].id, subscription_id=created.subscription.id or 0
            )
            subscription.failure_notice_sent = True
            session.add(subscription)
        moment = datetime.now(timezone.utc)
        with time_machine.travel(moment, tick=False) as clock:
            book(setup)
            drain()
            clock.shift(timedelta(seconds=5))
            drain()
        [entry] = log(created)
        assert (entry.status, entry.attempts, entry.response_code) == ('delivered', 2, 204)
        with session_scope() as session:
            assert not subscriptions.get_subscription(
                session=session, host_id=setup['host'].id, subscription_id=created.subscription.id or 0
            ).failure_notice_sent
    finally:
        flaky.stop()


def test_a_redirect_is_not_followed(setup: dict, receiver: Receiver) -> None:
    redirecting = serve([Reply(status=307, body=b'', headers={'Location': receiver.url})])
    try:
        created = subscribe(setup, redirecting.url)
        book(setup)
        drain()
        assert len(redirecting.received) == 1 and receiver.received == []
        [entry] = log(created)
        assert (entry.status, entry.response_code) == ('retrying', 307)
        assert 'redirects are not followed' in entry.error
    finally:
        redirecting.stop()


def test_at_most_one_kilobyte_of_the_answer_is_stored(setup: dict) -> None:
    chatty = serve([Reply(status=200, body=b'x' * 50_000)])
    try:
        created = subscribe(setup, chatty.url)
        book(setup)
        drain()
        [entry] = log(created)
        assert entry.status == 'delivered' and entry.response_body == 'x' * 1024
    finally:
        chatty.stop()


def test_an_endpoint_that_does_not_answer_in_time_is_retried(setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sender.TIMEOUT_SECONDS == 10
    monkeypatch.setattr(sender, 'TIMEOUT_SECONDS', 0.3)  # the same deadline, shortened for the test
    slow = serve([Reply(status=200, delay=2)])
    try:
        created = subscribe(setup, slow.url)
        book(setup)
        drain()
        [entry] = log(created)
        assert entry.status == 'retrying' and entry.response_code is None
        assert entry.error == 'no answer within 0.3 s'
    finally:
        slow.stop()


@pytest.mark.parametrize(
    'url',
    [
        'http://hooks.example.com/x',
        'https://127.0.0.1/hook',
        'https://10.0.0.8/hook',
        'https://169.254.169.254/latest',
        'https://[::1]/hook',
        'ftp://example.com/x',
        'not a url',
        'https://93.184.216.34:8443/hook',
        '',
    ],
)
def test_only_https_on_public_addresses_may_subscribe(setup: dict, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', False)
    with pytest.raises(InvalidInput):
        subscribe(setup, url)
    assert subscribe(setup, 'https://93.184.216.34/hook').subscription.url == 'https://93.184.216.34/hook'


def test_an_endpoint_whose_address_turned_private_is_not_contacted(
    setup: dict, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = subscribe(setup, receiver.url)
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', False)
    book(setup)
    drain()
    assert receiver.received == []
    [entry] = log(created)
    assert entry.status == 'retrying' and 'must start with https://' in entry.error


def test_unknown_or_no_events_are_refused(setup: dict, receiver: Receiver) -> None:
    with pytest.raises(InvalidInput, match=r"Unknown event 'booking\.eaten'"):
        subscribe(setup, receiver.url, ['booking.created', 'booking.eaten'])
    with pytest.raises(InvalidInput, match='at least one'):
        subscribe(setup, receiver.url, [])
    assert subscribe(setup, receiver.url).subscription.events == list(EVENTS)


def test_a_test_event_is_signed_and_logged(setup: dict, receiver: Receiver) -> None:
    from app import events

    created = subscribe(setup, receiver.url, ['booking.cancelled'])
    heard: list[events.Queued] = []
    stop = events.queued.subscribe(heard.append)  # what wakes the outbox worker at once
    try:
        with session_scope(write=True) as session:
            queued = subscriptions.send_test(
                session=session, host_id=setup['host'].id, subscription_id=created.subscription.id or 0, now=NOW
            )
            assert heard == []  # not before the commit
    finally:
        stop()
    assert heard == [events.Queued(setup['host'].id)]
    assert queued.status == 'pending'
    drain()
    [request] = receiver.received
    payload = Webhook(created.secret).verify(request.body, request.headers)
    assert payload['type'] == 'webhook.test' and payload['data']['subscription_id'] == created.subscription.id
    assert [(e.event, e.status) for e in log(created)] == [('webhook.test', 'delivered')]


def test_a_deleted_subscription_gets_nothing_more_and_others_cannot_touch_it(setup: dict, receiver: Receiver) -> None:
    created = subscribe(setup, receiver.url)
    with session_scope(write=True) as session:
        other = make_host(session, username='eve')
    with session_scope(write=True) as session, pytest.raises(NotFound):
        subscriptions.delete_subscription(
            session=session, host_id=other.id or 0, subscription_id=created.subscription.id or 0
        )
    book(setup)
    with session_scope(write=True) as session:
        subscriptions.delete_subscription(
            session=session, host_id=setup['host'].id, subscription_id=created.subscription.id or 0
        )
    assert drain().skipped >= 1
    assert receiver.received == []


def test_requests_emit_pending_then_confirmed_or_declined(setup: dict, receiver: Receiver) -> None:
    created = subscribe(setup, receiver.url)
    with session_scope(write=True) as session:
        asks = make_event_type(session, setup['host'], slug='asks', title='Ask first', requires_confirmation=True)
    monday, host_id = setup['monday'], setup['host'].id

    def request(clock: str) -> str:
        return use_cases.book(
            event_type_id=asks.id, start=at(monday, clock, 'Europe/Berlin'), invitee=GRACE, now=NOW, address='192.0.2.1'
        ).booking.uid

    confirmed, declined, lapsed = request('09:00'), request('10:00'), request('11:00')
    use_cases.confirm_as_host(host_id=host_id, uid=confirmed, now=NOW)
    use_cases.decline_as_host(host_id=host_id, uid=declined, reason='Fully booked', now=NOW)
    use_cases.decline_expired_requests(now=at(monday, '11:30', 'Europe/Berlin'))  # its start passed undecided
    assert [(e.event, e.booking_uid) for e in log(created)] == [
        ('booking.pending', confirmed),
        ('booking.pending', declined),
        ('booking.pending', lapsed),
        ('booking.confirmed', confirmed),
        ('booking.declined', declined),
        ('booking.declined', lapsed),
    ]
    with time_machine.travel(at(monday, '11:30', 'Europe/Berlin')):  # when the upkeep job declined the last one
        drain()
    statuses = sorted((json.loads(r.body)['type'], json.loads(r.body)['data']['status']) for r in receiver.received)
    assert statuses == [
        ('booking.confirmed', 'confirmed'),
        ('booking.declined', 'declined'),
        ('booking.declined', 'declined'),
        ('booking.pending', 'pending'),
        ('booking.pending', 'pending'),
        ('booking.pending', 'pending'),
    ]


@pytest.mark.parametrize(
    'lookups',
    [
        # a rebinding name: a second lookup would answer elsewhere
        pytest.param([('127.0.0.1',), ('192.0.2.66',)], id='rebinding'),
        # the first address refuses (nothing listens on 127.0.0.3; an IPv6 address on a machine without an IPv6
        # route, say): as browsers and curl do, the next checked address of the same one lookup is tried
        pytest.param([('127.0.0.3', '127.0.0.1')], id='first-refuses'),
    ],
)
def test_the_endpoint_is_contacted_at_exactly_the_addresses_that_were_checked(
    setup: dict, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, lookups: list[tuple[str, ...]]
) -> None:
    port = receiver.url.split(':')[2].split('/')[0]
    created = subscribe(setup, receiver.url)
    asked: list[str] = []
    lookups = list(lookups)  # (the parameter is shared by both databases' runs)

    def resolver(host: object, port: object, *args: object, **kwargs: object) -> list[object]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name != 'hooks.example':
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, '', (a, int(port or 0))) for a in lookups.pop(0)]  # type: ignore

    with session_scope(write=True) as session:  # the stored address names a host (the form checked it then)
        subscription = subscriptions.get_subscription(
            session=session, host_id=setup['host'].id, subscription_id=created.subscription.id or 0
        )
        subscription.url = f'http://hooks.example:{port}/hooks/cloudmeet'
        session.add(subscription)
    monkeypatch.setattr(socket, 'getaddrinfo', resolver)
    book(setup)
    drain()
    assert asked == ['hooks.example']  # looked up once for the attempt...
    [request] = receiver.received  # ...and reached there, under its own name
    assert request.headers['host'] == f'hooks.example:{port}'
    assert [e.status for e in log(created)] == ['delivered']


def test_finished_deliveries_are_forgotten_after_thirty_days_and_waiting_ones_kept(
    setup: dict, receiver: Receiver
) -> None:
    created = subscribe(setup, receiver.url)
    book(setup)  # delivered below
    receipt = book(setup, at(setup['monday'], '11:00', 'Europe/Berlin'))
    drain()
    use_cases.cancel_as_host(host_id=setup['host'].id, uid=receipt.booking.uid, reason='', now=NOW)  # still pending
    assert subscriptions.prune_log(now=NOW + timedelta(days=29)) == 0
    assert subscriptions.prune_log(now=NOW + timedelta(days=31)) == 2
    assert [(e.event, e.status) for e in log(created)] == [('booking.cancelled', 'pending')]


@pytest.mark.parametrize(('certified', 'delivered'), [(('hooks.example',), True), (('other.example',), False)])
def test_an_https_endpoint_is_reached_under_its_name_and_its_certificate_checked_for_that_name(
    setup: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certified: tuple[str, ...], delivered: bool
) -> None:
    cert, key = self_signed(tmp_path, names=certified)
    secure = serve(tls=(cert, key))
    try:
        port = secure.url.split(':')[2].split('/')[0]
        trusting = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(outbound, 'tls_context', lambda: trusting)  # the test CA instead of the public ones

        def resolver(host: object, port: object, *args: object, **kwargs: object) -> list[object]:
            if host in ('hooks.example', b'hooks.example'):
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, '', ('127.0.0.1', int(port or 0)))]  # type: ignore
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(socket, 'getaddrinfo', resolver)
        created = subscribe(setup, f'https://hooks.example:{port}/hooks/cloudmeet')
        book(setup)
        drain()
        [entry] = log(created)
        if delivered:
            [request] = secure.received
            assert request.headers['host'] == f'hooks.example:{port}' and entry.status == 'delivered'
            Webhook(created.secret).verify(request.body, request.headers)
        else:  # a certificate for another name: no request is sent at all
            assert secure.received == [] and entry.status == 'retrying'
            assert entry.error == 'could not connect (ConnectError)'
    finally:
        secure.stop()


def test_rotating_keys_keeps_the_signing_secret_and_an_unreadable_one_is_retried_not_crashed(
    setup: dict, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = subscribe(setup, receiver.url)
    old, new = get_settings().encryption_keys, Fernet.generate_key().decode()
    try:
        monkeypatch.setattr(get_settings(), 'encryption_keys', f'{new},{old}')
        crypto.reset_keys()
        with session_scope(write=True) as session:
            accounts.rotate_keys(session)
        monkeypatch.setattr(get_settings(), 'encryption_keys', new)  # the old key is gone
        crypto.reset_keys()
        book(setup)
        drain()
        [request] = receiver.received
        assert Webhook(created.secret).verify(request.body, request.headers)['type'] == 'booking.created'
        monkeypatch.setattr(get_settings(), 'encryption_keys', Fernet.generate_key().decode())  # a wrong key
        crypto.reset_keys()
        use_cases.cancel_as_host(
            host_id=setup['host'].id, uid=json.loads(request.body)['data']['uid'], reason='', now=NOW
        )
        assert drain().retried == 1
        assert len(receiver.received) == 1
        assert log(created)[-1].error == 'the signing secret cannot be read with the configured encryption keys'
    finally:
        monkeypatch.undo()
        crypto.reset_keys()


def test_a_bookings_events_reach_the_endpoint_in_the_order_they_happened(
    setup: dict, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several changes of one booking sent in one pass arrive one after the other, in order, however many senders
    work at once (other bookings' go meanwhile): a booking's first delivery that takes long holds back its next."""
    send, first_seen = worker._send_webhook, set()

    def slow_first(message: OutboxMessage, *args: object) -> object:
        if message.booking_id not in first_seen:
            first_seen.add(message.booking_id)
            time.sleep(0.2)
        return send(message, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(worker, '_send_webhook', slow_first)
    subscribe(setup, receiver.url)
    monday, made = setup['monday'], []
    for clock in ('09:00', '10:00', '11:00'):
        receipt = book(setup, at(monday, clock, 'Europe/Berlin'))
        use_cases.reschedule_by_token(
            uid=receipt.booking.uid,
            token=receipt.token,
            start=at(monday + timedelta(days=1), clock, 'Europe/Berlin'),
            now=NOW,
            address='192.0.2.1',
        )
        use_cases.cancel_by_token(uid=receipt.booking.uid, token=receipt.token, reason='', now=NOW, address='192.0.2.1')
        made.append(receipt.booking.uid)
    drain()  # all of them in one pass
    heard: dict[str, list[str]] = {}
    for request in receiver.received:
        payload = json.loads(request.body)
        heard.setdefault(payload['data']['uid'], []).append(payload['type'])
    assert heard == {uid: ['booking.created', 'booking.rescheduled', 'booking.cancelled'] for uid in made}
