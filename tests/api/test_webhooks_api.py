"""The webhook endpoints: subscribing (the secret shown once), URL checks as clear 400s, the delivery log after real
deliveries to a local receiver, test events, deleting, and nobody reaching another host's webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from app.config import get_settings
from app.db import session_scope
from services import hosts, use_cases
from services.bookings import Invitee
from services.notifications import worker
from tests.factories import at, make_host, next_monday
from tests.fakes.webhook_receiver import Receiver, serve

NOW = datetime.now(timezone.utc)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', True)  # the receiver is on loopback
    found = serve()
    yield found
    found.stop()


def drain() -> None:
    class Quiet:
        name, idempotent = 'quiet', True

        def send(self, *_args: object) -> None:
            pass

    worker.drain(mailer=Quiet(), settings=get_settings())  # type: ignore[arg-type]


def test_webhook_endpoints_need_a_valid_api_key(client: TestClient, ada: dict) -> None:
    assert client.get('/webhooks').status_code == 401
    assert client.post('/webhooks', json={'url': 'https://93.184.216.34/hook'}).status_code == 401


def test_the_secret_is_shown_once_and_deliveries_are_logged(client: TestClient, ada: dict, receiver: Receiver) -> None:
    created = client.post(
        '/webhooks', headers=ada['auth'], json={'url': receiver.url, 'events': ['booking.cancelled', 'booking.created']}
    )
    assert created.status_code == 201
    body = created.json()
    assert body['secret'].startswith('whsec_') and body['url'] == receiver.url and body['active']
    assert body['events'] == ['booking.created', 'booking.cancelled']
    listed = client.get('/webhooks', headers=ada['auth']).json()
    assert listed == [{k: v for k, v in body.items() if k != 'secret'}]
    receipt = use_cases.book(
        event_type_id=ada['call'].id,
        start=at(next_monday(), '10:00'),
        now=NOW,
        invitee=Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        address='192.0.2.1',
    )
    assert (
        client.post(
            f'/bookings/{receipt.booking.uid}/cancel', headers=ada['auth'], json={'reason': 'Sorry'}
        ).status_code
        == 200
    )
    drain()
    log = client.get(f'/webhooks/{body["id"]}/deliveries', headers=ada['auth']).json()
    assert [(d['event'], d['status'], d['attempts'], d['response_code'], d['booking_uid']) for d in log] == [
        ('booking.cancelled', 'delivered', 1, 200, receipt.booking.uid),
        ('booking.created', 'delivered', 1, 200, receipt.booking.uid),
    ]
    assert all(d['duration_ms'] is not None and d['response_body'] == '{"ok": true}' for d in log)
    for request in receiver.received:
        Webhook(body['secret']).verify(request.body, request.headers)
    cancelled = next(r for r in receiver.received if r.headers['webhook-id'] == log[0]['webhook_id'])
    assert Webhook(body['secret']).verify(cancelled.body, cancelled.headers)['data']['cancel_reason'] == 'Sorry'


def test_a_test_event_is_queued_and_delivered(client: TestClient, ada: dict, receiver: Receiver) -> None:
    hook = client.post('/webhooks', headers=ada['auth'], json={'url': receiver.url}).json()
    queued = client.post(f'/webhooks/{hook["id"]}/test', headers=ada['auth'])
    assert queued.status_code == 202 and queued.json()['status'] == 'pending'
    assert queued.json()['event'] == 'webhook.test'
    drain()
    [entry] = client.get(f'/webhooks/{hook["id"]}/deliveries', headers=ada['auth']).json()
    assert (entry['webhook_id'], entry['status']) == (queued.json()['webhook_id'], 'delivered')
    assert (
        Webhook(hook['secret']).verify(receiver.received[0].body, receiver.received[0].headers)['type']
        == 'webhook.test'
    )


@pytest.mark.parametrize(
    ('url', 'reason'),
    [
        ('http://93.184.216.34/hook', 'must start with https://'),
        ('https://127.0.0.1/hook', 'private or local network'),
        ('https://10.1.2.3/hook', 'private or local network'),
        ('https://[::ffff:192.168.0.1]/hook', 'private or local network'),
        ('https://93.184.216.34:8443/hook', 'standard https port'),
        ('hooks.example.com', 'must start with https://'),
        ('', 'Enter the address'),
    ],
)
def test_unusable_urls_are_a_clear_400(client: TestClient, ada: dict, url: str, reason: str) -> None:
    refused = client.post('/webhooks', headers=ada['auth'], json={'url': url})
    assert refused.status_code == 400 and reason in refused.json()['detail']
    assert client.get('/webhooks', headers=ada['auth']).json() == []


def test_unknown_events_are_a_clear_400(client: TestClient, ada: dict) -> None:
    refused = client.post(
        '/webhooks', headers=ada['auth'], json={'url': 'https://93.184.216.34/hook', 'events': ['booking.moved']}
    )
    assert refused.status_code == 400 and "Unknown event 'booking.moved'" in refused.json()['detail']


def test_deleting_a_webhook_and_other_hosts_get_404(client: TestClient, ada: dict) -> None:
    hook = client.post('/webhooks', headers=ada['auth'], json={'url': 'https://93.184.216.34/hook'}).json()
    with session_scope(write=True) as session:
        eve = make_host(session, username='eve')
        eve_key = hosts.create_api_key(session=session, host_id=eve.id)
    eve_auth = {'Authorization': f'Bearer {eve_key}'}
    assert client.get('/webhooks', headers=eve_auth).json() == []
    for method, path in (
        ('DELETE', f'/webhooks/{hook["id"]}'),
        ('GET', f'/webhooks/{hook["id"]}/deliveries'),
        ('POST', f'/webhooks/{hook["id"]}/test'),
    ):
        assert client.request(method, path, headers=eve_auth).status_code == 404
    assert client.delete(f'/webhooks/{hook["id"]}', headers=ada['auth']).status_code == 204
    assert client.delete(f'/webhooks/{hook["id"]}', headers=ada['auth']).status_code == 404
    assert client.get('/webhooks', headers=ada['auth']).json() == []
    assert client.get('/webhooks/99999999999999999999/deliveries', headers=ada['auth']).status_code == 422


def test_the_account_export_lists_webhooks_without_their_secret(client: TestClient, ada: dict) -> None:
    hook = client.post(
        '/webhooks', headers=ada['auth'], json={'url': 'https://93.184.216.34/hook', 'events': ['booking.created']}
    ).json()
    exported = client.get('/me/export', headers=ada['auth'])
    assert exported.status_code == 200
    assert exported.json()['webhooks'] == [{k: v for k, v in hook.items() if k != 'secret'}]
    assert hook['secret'] not in exported.text and hook['secret'][len('whsec_') :] not in exported.text
