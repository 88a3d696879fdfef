"""The Webhooks section of the settings page with NiceGUI's simulated user: empty state, adding an endpoint (the
secret shown once, with a copy button), refusals, a test event followed in the delivery log until it went, and
deleting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from nicegui.testing.user import User
from sqlalchemy.exc import OperationalError
from standardwebhooks.webhooks import Webhook

from app.config import get_settings
from app.db import session_scope
from services import accounts
from services.accounts import VerifiedIdentity
from services.notifications import worker
from services.webhooks import subscriptions
from tests.fakes.webhook_receiver import Receiver, Reply, serve

NOW = datetime.now(timezone.utc)


@pytest.fixture
def ada(user: User) -> int:
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=NOW
        )
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    assert host.id is not None
    return host.id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = serve()
    yield found
    found.stop()


class Quiet:
    name, idempotent = 'quiet', True

    def send(self, *_args: object) -> None:
        pass


async def test_a_host_adds_a_webhook_sees_the_secret_once_sends_a_test_event_and_deletes_it(
    user: User, ada: int, receiver: Receiver
) -> None:
    get_settings().allow_private_webhook_urls = True  # the receiver is on loopback (the fixture resets settings)
    await user.open('/settings')
    await user.should_see('No webhooks yet', retries=40)
    user.find(marker='webhook-url').type(receiver.url)
    user.find(marker='webhook-event-booking.rescheduled').click()  # untick one
    user.find(marker='add-webhook').click()
    await user.should_see('shown only once', retries=40)
    secret = user.find(marker='new-webhook-secret').elements.pop().text
    assert secret.startswith('whsec_')
    user.find(marker='copy-webhook-secret').click()
    await user.should_see('Secret copied')
    await user.should_see(marker='webhook-address', retries=40)
    with session_scope() as session:
        [stored] = subscriptions.list_subscriptions(session=session, host_id=ada)
    assert stored.url == receiver.url and 'booking.rescheduled' not in stored.events
    user.find(marker='webhook-log').click()
    await user.should_see('No deliveries yet', retries=40)
    user.find(marker='webhook-test').click()
    await user.should_see('Test event queued', retries=40)
    await user.should_see('pending', retries=40)  # the log shows the test event waiting to go out...
    await asyncio.to_thread(worker.drain, mailer=Quiet(), settings=get_settings())  # type: ignore[arg-type]
    assert Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)['type'] == 'webhook.test'
    await user.should_see('delivered', retries=40)  # ...and follows it, with no click, until it went
    await user.should_see('HTTP 200', retries=40)
    user.find(marker='webhook-delete').click()
    user.find(marker='confirm-delete-webhook').click()
    await user.should_see('Webhook deleted', retries=40)
    await user.should_see('No webhooks yet', retries=40)
    with session_scope() as session:
        assert subscriptions.list_subscriptions(session=session, host_id=ada) == []


async def test_a_private_or_plain_http_address_is_refused_with_its_reason(user: User, ada: int) -> None:
    await user.open('/settings')
    await user.should_see('No webhooks yet', retries=40)
    user.find(marker='webhook-url').type('https://10.0.0.8/hook')
    user.find(marker='add-webhook').click()
    await user.should_see('Webhooks on private or local network addresses are not allowed', retries=40)
    user.find(marker='webhook-url').clear().type('ftp://example.com/hook')
    user.find(marker='add-webhook').click()
    await user.should_see('The address must start with https://', retries=40)
    with session_scope() as session:
        assert subscriptions.list_subscriptions(session=session, host_id=ada) == []
    user.find(marker='webhook-url').clear()
    for event in ('created', 'rescheduled', 'cancelled', 'pending', 'confirmed', 'declined'):
        user.find(marker=f'webhook-event-booking.{event}').click()
    user.find(marker='webhook-url').type('https://93.184.216.34/hook')
    user.find(marker='add-webhook').click()
    await user.should_see('Choose at least one event', retries=40)


async def test_a_list_that_cannot_be_loaded_says_so_and_can_be_tried_again(
    user: User, ada: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**_kwargs: object) -> None:
        raise OperationalError('SELECT', {}, Exception('the database is not reachable'))

    with monkeypatch.context() as patched:
        patched.setattr(subscriptions, 'list_subscriptions', unavailable)
        await user.open('/settings')
        await user.should_see('Your webhooks could not be loaded right now.', retries=40)
    user.find('Try again').click()
    await user.should_see('No webhooks yet', retries=40)


async def test_a_failing_endpoint_shows_its_answer_and_the_next_try_in_the_log(user: User, ada: int) -> None:
    get_settings().allow_private_webhook_urls = True
    failing = serve([Reply(status=500, body=b'oops')])
    try:
        with session_scope(write=True) as session:
            subscriptions.subscribe(session=session, host_id=ada, url=failing.url, events=None, now=NOW)
        await user.open('/settings')
        await user.should_see(marker='webhook-address', retries=40)
        user.find(marker='webhook-test').click()
        await user.should_see('Test event queued', retries=40)
        await asyncio.to_thread(worker.drain, mailer=Quiet(), settings=get_settings())  # type: ignore[arg-type]
        await user.should_see('retrying', retries=40)  # the opened log follows the test event
        await user.should_see('HTTP 500', retries=40)
        await user.should_see('next try', retries=40)
    finally:
        failing.stop()
