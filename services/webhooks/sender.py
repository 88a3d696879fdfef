"""Sending one webhook delivery (the outbox worker's handler for kind 'webhook'): the frozen body is signed afresh
per attempt under its one `webhook-id`, POSTed with httpx to exactly the address that was checked, with no redirects
followed and a 10 s deadline; retried on the Standard Webhooks schedule, then given up with the host told once."""

from __future__ import annotations

import logging
import secrets
import time as clock
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from cryptography.fernet import InvalidToken
from sqlalchemy import CursorResult, update
from sqlmodel import col
from standardwebhooks.webhooks import Webhook

from app import crypto
from app.config import Settings
from app.db import session_scope
from app.errors import InvalidInput
from app.models import Host, OutboxMessage, WebhookDelivery, WebhookSubscription, utcnow
from services import outbound
from services.notifications import outbox
from services.notifications.mailers import DeliveryError, Mailer
from services.notifications.templates import notice_message
from services.webhooks import CANCELLED, DELIVERED, FAILED, RETRYING

log = logging.getLogger(__name__)
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)  # after the 1st, 2nd ... failed attempt; then given up
TIMEOUT_SECONDS = 10.0
MAX_STORED_BODY = 1024
USER_AGENT = 'CloudMeet-Webhooks/1'


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: the receiver's status code and the first kilobyte of its answer, or why none."""

    code: int | None
    body: str
    duration_ms: int
    error: str = ''

    @property
    def ok(self) -> bool:
        return not self.error and self.code is not None and 200 <= self.code < 300


def deliver(message: OutboxMessage, mailer: Mailer, settings: Settings) -> outbox.Outcome:
    """Send one claimed delivery and log the attempt; the outcome tells the outbox when to try again."""
    assert message.id is not None
    now, ctx = utcnow(), message.context
    if not ctx.get('body'):
        return outbox.Outcome(message.id, outbox.SKIPPED, "the booking's personal data was erased")
    with session_scope() as session:
        subscription = session.get(WebhookSubscription, ctx['subscription_id'])
        host = session.get(Host, message.host_id)
    if subscription is None or host is None or not subscription.active:
        return outbox.Outcome(message.id, outbox.SKIPPED, 'the webhook was deleted')
    try:
        secret = crypto.decrypt(subscription.secret_encrypted)
    except InvalidToken:  # keys dropped before `rotate-keys` ran: retried, in case the old key is put back
        answer = Answer(None, '', 0, 'the signing secret cannot be read with the configured encryption keys')
    else:
        answer = post(
            subscription.url,
            ctx['body'],
            webhook_id=ctx['webhook_id'],
            secret=secret,
            allow_private=settings.allow_private_webhook_urls,
        )
    if answer.ok:
        outcome = outbox.Outcome(message.id, outbox.SENT)
    elif message.attempts > len(RETRY_DELAYS):
        outcome = outbox.Outcome(message.id, outbox.FAILED, answer.error or f'answered {answer.code}')
    else:
        outcome = outbox.Outcome(
            message.id,
            outbox.PENDING,
            answer.error or f'answered {answer.code}',
            now + RETRY_DELAYS[message.attempts - 1],
        )
    _log_attempt(ctx['webhook_id'], message.attempts, answer, outcome, now)
    if answer.ok and subscription.failure_notice_sent:
        _reset_notice(subscription)
    if outcome.status == outbox.FAILED:
        log.warning(
            'webhook %s to subscription %s given up after %d attempts: %s',
            ctx['webhook_id'],
            subscription.id,
            message.attempts,
            outcome.error,
        )
        _tell_host_once(subscription, host, ctx['event'], outcome.error, mailer, settings)
    return outcome


def post(url: str, body: str, *, webhook_id: str, secret: str, allow_private: bool) -> Answer:
    """POST the signed body to the URL's checked address (resolved now: DNS can change); redirects are answers."""
    started = clock.monotonic()
    try:
        target = outbound.resolve(url, allow_private=allow_private, noun='webhook', plural='Webhooks')
    except InvalidInput as exc:
        return Answer(None, '', 0, exc.detail)
    sent_at = utcnow()
    headers = {
        'Host': target.host_header,
        'Content-Type': 'application/json',
        'User-Agent': USER_AGENT,
        'Accept-Encoding': 'identity',
        'webhook-id': webhook_id,
        'webhook-timestamp': str(int(sent_at.timestamp())),
        'webhook-signature': Webhook(secret).sign(webhook_id, sent_at, body),
    }

    def send(at: outbound.Target) -> tuple[httpx.Response, bytes]:
        with client.stream(
            'POST', at.direct_url, content=body.encode(), headers=headers, extensions={'sni_hostname': at.host}
        ) as response:
            return response, _first_kilobyte(response, deadline=started + TIMEOUT_SECONDS)

    try:
        with httpx.Client(
            timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=outbound.tls_context()
        ) as client:
            response, data = outbound.first_reached(target, send)
    except httpx.TimeoutException:
        return Answer(None, '', _ms(started), f'no answer within {TIMEOUT_SECONDS:g} s')
    except httpx.HTTPError as exc:
        return Answer(None, '', _ms(started), f'could not connect ({type(exc).__name__})')
    text = data.decode('utf-8', errors='ignore')
    if response.is_redirect:
        return Answer(
            response.status_code, text, _ms(started), f'answered {response.status_code} (redirects are not followed)'
        )
    return Answer(response.status_code, text, _ms(started))


def _first_kilobyte(response: httpx.Response, *, deadline: float) -> bytes:
    """At most 1 kB of the answer: the rest is never read, and reading stops at the deadline."""
    data = b''
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= MAX_STORED_BODY or clock.monotonic() > deadline:
            break
    return data[:MAX_STORED_BODY]


def _ms(started: float) -> int:
    return int((clock.monotonic() - started) * 1000)


def _log_attempt(webhook_id: str, attempts: int, answer: Answer, outcome: outbox.Outcome, now: datetime) -> None:
    status = {outbox.SENT: DELIVERED, outbox.FAILED: FAILED, outbox.PENDING: RETRYING}.get(outcome.status, CANCELLED)
    with session_scope(write=True) as session:
        session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.webhook_id) == webhook_id)
            .values(
                status=status,
                attempts=attempts,
                response_code=answer.code,
                duration_ms=answer.duration_ms,
                response_body=answer.body[:MAX_STORED_BODY],
                error=answer.error[:500],
                last_attempt_at=now,
                next_attempt_at=outcome.due_at,
            )
        )


def _reset_notice(subscription: WebhookSubscription) -> None:
    with session_scope(write=True) as session:
        session.execute(
            update(WebhookSubscription)
            .where(col(WebhookSubscription.id) == subscription.id)
            .values(failure_notice_sent=False)
        )


def _tell_host_once(
    subscription: WebhookSubscription, host: Host, event: str, error: str, mailer: Mailer, settings: Settings
) -> None:
    """One e-mail per run of given-up deliveries (claimed in a transaction; a later success re-arms it)."""
    with session_scope(write=True) as session:
        claimed = session.execute(
            update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == subscription.id, col(WebhookSubscription.failure_notice_sent).is_(False)
            )
            .values(failure_notice_sent=True)
        )
    if not isinstance(claimed, CursorResult) or claimed.rowcount != 1:
        return
    message = notice_message(
        to_email=host.email,
        subject='A webhook could not be delivered',
        mail_from=settings.mail_from,
        kind='webhook_failed',
        button=('Open the webhook settings', f'{settings.public_url}/settings'),
        intro=(
            f'CloudMeet gave up sending a {event} event to {subscription.url} after '
            f'{len(RETRY_DELAYS) + 1} attempts over about a day (last: {error}). Later events are still sent; '
            'the delivery log in your settings shows each attempt.'
        ),
    )
    try:
        mailer.send(message, f'webhook-failed.{subscription.id}.{secrets.token_hex(4)}')
    except DeliveryError:  # the notice is a courtesy; the delivery's outcome is recorded regardless
        log.warning('could not tell host %s about webhook %s', host.id, subscription.id)
