"""A host's webhook subscriptions (add, list, delete, send a test event) and their delivery log. Each function runs
inside the caller's unit of work and checks that the subscription is the host's own."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app import crypto, db, events
from app.config import get_settings
from app.db import session_scope
from app.errors import Conflict, InvalidInput, NotFound
from app.models import WebhookDelivery, WebhookSubscription
from services import outbound, validation
from services.webhooks import CANCELLED, DELIVERED, EVENTS, FAILED, record_test

MAX_SUBSCRIPTIONS = 10
MAX_URL_LENGTH = 2000
LOG_LIMIT = 100
LOG_RETENTION = timedelta(days=30)  # finished deliveries are forgotten after this


@dataclass(frozen=True, slots=True)
class Created:
    """A new subscription with its signing secret: the one moment the plain secret is handed out."""

    subscription: WebhookSubscription
    secret: str


def check_url(url: str) -> str:
    """An https URL on public addresses (private ones only when the operator allows them), in its checked form."""
    url = url.strip()
    if not url:
        raise InvalidInput('Enter the address of your webhook endpoint')
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f'A webhook address must be at most {MAX_URL_LENGTH} characters')
    validation.no_controls(url, 'The webhook address')
    return outbound.resolve(
        url, allow_private=get_settings().allow_private_webhook_urls, noun='webhook', plural='Webhooks'
    ).url


def check_events(events: list[str] | None) -> list[str]:
    """The events asked for, known ones only, in the documented order; None means all of them."""
    if events is None:
        return list(EVENTS)
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidInput(f'Unknown event {unknown[0]!r}; choose from {", ".join(EVENTS)}')
    if not events:
        raise InvalidInput('Choose at least one event')
    return [e for e in EVENTS if e in events]


def subscribe(*, session: Session, host_id: int, url: str, events: list[str] | None, now: datetime) -> Created:
    """Add a subscription with a new secret ('whsec_' and 32 random bytes, stored encrypted)."""
    url, events = check_url(url), check_events(events)
    count = session.exec(
        select(func.count()).select_from(WebhookSubscription).where(WebhookSubscription.host_id == host_id)
    ).one()
    if count >= MAX_SUBSCRIPTIONS:
        raise Conflict(f'You have {MAX_SUBSCRIPTIONS} webhooks already; delete one first')
    secret = 'whsec_' + base64.b64encode(secrets.token_bytes(32)).decode()
    subscription = WebhookSubscription(
        host_id=host_id, url=url, events=events, secret_encrypted=crypto.encrypt(secret), created_at=now
    )
    session.add(subscription)
    session.flush()
    return Created(subscription, secret)


def list_subscriptions(*, session: Session, host_id: int) -> list[WebhookSubscription]:
    return list(
        session.exec(
            select(WebhookSubscription)
            .where(WebhookSubscription.host_id == host_id)
            .order_by(col(WebhookSubscription.created_at), col(WebhookSubscription.id))
        )
    )


def get_subscription(*, session: Session, host_id: int, subscription_id: int) -> WebhookSubscription:
    subscription = (
        session.get(WebhookSubscription, subscription_id) if validation.storable_id(subscription_id) else None
    )
    if subscription is None or subscription.host_id != host_id:
        raise NotFound('Webhook not found')
    return subscription


def delete_subscription(*, session: Session, host_id: int, subscription_id: int) -> None:
    """Delete a subscription and its log; deliveries still queued for it are not sent."""
    session.delete(get_subscription(session=session, host_id=host_id, subscription_id=subscription_id))


def send_test(*, session: Session, host_id: int, subscription_id: int, now: datetime) -> WebhookDelivery:
    """Queue a signed test event to the subscription now (sent by the outbox worker like every delivery)."""
    subscription = get_subscription(session=session, host_id=host_id, subscription_id=subscription_id)
    webhook_id = record_test(session, subscription=subscription, now=now)
    db.after_commit(session, events.Queued(host_id))  # the worker sends it at once, not at its next look
    found = session.exec(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)).one()
    return found


def deliveries(
    *, session: Session, host_id: int, subscription_id: int, limit: int = LOG_LIMIT
) -> list[WebhookDelivery]:
    """The subscription's latest deliveries, newest first."""
    get_subscription(session=session, host_id=host_id, subscription_id=subscription_id)
    return list(
        session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
            .limit(limit)
        )
    )


def prune_log(*, now: datetime) -> int:
    """Forget finished deliveries older than LOG_RETENTION (an upkeep chore, in its own unit of work); returns how
    many. Deliveries still pending or retrying are kept whatever their age."""
    with session_scope(write=True) as session:
        result = session.execute(
            delete(WebhookDelivery).where(
                col(WebhookDelivery.created_at) < now - LOG_RETENTION,
                col(WebhookDelivery.status).in_((DELIVERED, FAILED, CANCELLED)),
            )
        )
    return int(getattr(result, 'rowcount', 0) or 0)


def subscription_json(subscription: WebhookSubscription) -> dict[str, Any]:
    """A subscription as its host sees it (never the secret)."""
    return {
        'id': subscription.id,
        'url': subscription.url,
        'events': subscription.events,
        'active': subscription.active,
        'created_at': subscription.created_at.isoformat(),
    }


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        'id': delivery.id,
        'event': delivery.event,
        'webhook_id': delivery.webhook_id,
        'booking_uid': delivery.booking_uid,
        'status': delivery.status,
        'attempts': delivery.attempts,
        'response_code': delivery.response_code,
        'duration_ms': delivery.duration_ms,
        'response_body': delivery.response_body,
        'error': delivery.error,
        'created_at': delivery.created_at.isoformat(),
        'last_attempt_at': when(delivery.last_attempt_at),
        'next_attempt_at': when(delivery.next_attempt_at),
    }
