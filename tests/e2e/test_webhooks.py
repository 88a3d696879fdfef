"""Webhooks through the real server (`python main.py` with its own outbox worker): a receiver on loopback gets a
signed delivery for each change made through the public API, the invitee's manage link and the host API, a failed
delivery is retried with the same webhook-id, and the host API's delivery log shows it all."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from app import db
from app.db import session_scope
from services import hosts
from tests.e2e.server import running_server
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes.webhook_receiver import Reply, serve

MONDAY = next_monday()


def prepare(url: str) -> str:
    """A host with a 30-minute 'call' and an API key, in a migrated database; returns the key."""
    engine = db.init_engine(url)
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        make_event_type(session, host, slug='call', title='Intro call')
        return hosts.create_api_key(session=session, host_id=host.id)


def wait_for(found: Callable[[], object], seconds: float = 30) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.1)
    return found()


def test_a_receiver_gets_every_change_signed_and_a_failed_delivery_again_under_the_same_id(tmp_path: Path) -> None:
    key = prepare(f'sqlite:///{tmp_path / "cloudmeet.sqlite"}')
    auth = {'Authorization': f'Bearer {key}'}
    receiver = serve([Reply(status=500, body=b'not yet'), Reply(status=200)])  # the first attempt fails
    try:
        with running_server(data_dir=tmp_path, env={'CLOUDMEET_ALLOW_PRIVATE_WEBHOOK_URLS': 'true'}) as base:
            api = f'{base}/api/v1'
            hook = httpx.post(f'{api}/webhooks', headers=auth, json={'url': receiver.url}, timeout=30).json()
            made = httpx.post(
                f'{api}/public/ada/call/bookings',
                timeout=30,
                json={
                    'start': at(MONDAY, '10:00').isoformat(),
                    'name': 'Grace Hopper',
                    'email': 'grace@example.com',
                    'timezone': 'America/New_York',
                },
            ).json()
            token = made['manage_url'].split('token=')[1]
            assert wait_for(lambda: len(receiver.received) >= 2)  # the failure, then the retry about 5 s later
            moved = httpx.post(
                f'{api}/public/bookings/{made["uid"]}/reschedule',
                timeout=30,
                json={'token': token, 'start': at(MONDAY, '11:00').isoformat()},
            )
            assert moved.status_code == 200, moved.text
            assert (
                httpx.post(
                    f'{api}/bookings/{made["uid"]}/cancel', headers=auth, json={'reason': 'Ill'}, timeout=30
                ).status_code
                == 200
            )
            assert wait_for(lambda: len(receiver.received) >= 4)
            log = wait_for(
                lambda: (
                    (found := httpx.get(f'{api}/webhooks/{hook["id"]}/deliveries', headers=auth, timeout=30).json())
                    and all(d['status'] == 'delivered' for d in found)
                    and found
                )
            )
    finally:
        receiver.stop()
    payloads = [Webhook(hook['secret']).verify(r.body, r.headers) for r in receiver.received]
    assert [p['type'] for p in payloads] == [
        'booking.created',
        'booking.created',
        'booking.rescheduled',
        'booking.cancelled',
    ]
    first, retry = receiver.received[:2]
    assert first.headers['webhook-id'] == retry.headers['webhook-id'] and first.body == retry.body
    assert payloads[2]['data']['start'] == at(MONDAY, '11:00').isoformat()
    assert payloads[3]['data']['cancel_reason'] == 'Ill'
    assert isinstance(log, list)
    assert [(d['event'], d['attempts'], d['response_code']) for d in log] == [
        ('booking.cancelled', 1, 200),
        ('booking.rescheduled', 1, 200),
        ('booking.created', 2, 200),
    ]
    assert json.loads(receiver.received[0].body)['data']['uid'] == made['uid']
