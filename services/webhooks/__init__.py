"""Webhooks: a host's endpoints hear of booking changes, each delivery signed per Standard Webhooks.

`record` runs inside the transaction of the change (called from `outbox.record`, so every path that changes a
booking emits exactly its events): one delivery-log row and one outbox row (kind 'webhook') per subscription that
wants the event, the body frozen in the row, so every retry sends the same bytes under the same `webhook-id`.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from app.models import Booking, BookingStatus, Host, OutboxMessage, WebhookDelivery, WebhookSubscription
from services import kept_settings

KIND = 'webhook'  # the outbox rows that carry deliveries
EVENTS = (
    'booking.created',
    'booking.rescheduled',
    'booking.cancelled',
    'booking.pending',
    'booking.confirmed',
    'booking.declined',
)
TEST_EVENT = 'webhook.test'
PENDING, RETRYING, DELIVERED, FAILED, CANCELLED = 'pending', 'retrying', 'delivered', 'failed', 'cancelled'


def event_for(change: str, booking: Booking) -> str:
    """The event a booking change means (`outbox.record`'s change): a request that awaits the host's confirmation
    is 'booking.pending'."""
    if change == 'requested' or (change == 'created' and booking.status == BookingStatus.PENDING):
        return 'booking.pending'
    return f'booking.{change}'


def record(session: Session, *, booking: Booking, host: Host, event: str, now: datetime) -> int:
    """Queue `event` for every active subscription of the host that wants it, in the caller's transaction; the body
    is the booking as the host API shows it at this moment. Returns how many deliveries were queued."""
    assert event in EVENTS, event
    assert host.id is not None and booking.id is not None
    found = kept_settings.kept(session, host.id)
    if found is not None and found.no_webhooks:  # this unit of work knows the host has none
        return 0
    wanted = [
        s
        for s in session.exec(
            select(WebhookSubscription).where(
                WebhookSubscription.host_id == host.id, col(WebhookSubscription.active).is_(True)
            )
        )
        if event in s.events
    ]
    if not wanted:
        return 0
    from services.bookings import booking_json  # bookings records through the outbox, which calls us

    return len(_queue(session, wanted, event=event, data=booking_json(booking), booking=booking, now=now))


def record_test(session: Session, *, subscription: WebhookSubscription, now: datetime) -> str:
    """Queue a test event to one subscription (whatever events it chose); returns its webhook-id."""
    data = {
        'message': 'A test event from CloudMeet: this endpoint receives signed deliveries.',
        'subscription_id': subscription.id,
    }
    return _queue(session, [subscription], event=TEST_EVENT, data=data, booking=None, now=now)[0]


def withdraw(session: Session, *, booking: Booking) -> None:
    """A booking's deliveries still waiting are not sent (the invitee's data was erased); the log says so."""
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.booking_uid) == booking.uid, col(WebhookDelivery.status).in_((PENDING, RETRYING)))
        .values(status=CANCELLED, next_attempt_at=None, error='withdrawn: the invitee was erased')
    )


def _queue(
    session: Session,
    subscriptions: list[WebhookSubscription],
    *,
    event: str,
    data: dict[str, Any],
    booking: Booking | None,
    now: datetime,
) -> list[str]:
    """One log row and one outbox row per subscription, in two statements; the webhook-ids, in order."""
    body = json.dumps({'type': event, 'timestamp': now.isoformat(), 'data': data}, separators=(',', ':'))
    logs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for subscription in subscriptions:
        webhook_id = f'msg_{secrets.token_urlsafe(18)}'
        logs.append(
            {
                'subscription_id': subscription.id,
                'event': event,
                'webhook_id': webhook_id,
                'booking_uid': booking.uid if booking else '',
                'status': PENDING,
                'attempts': 0,
                'response_body': '',
                'error': '',
                'created_at': now,
                'next_attempt_at': now,
            }
        )
        rows.append(
            {
                'key': f'webhook.{webhook_id}',
                'host_id': subscription.host_id,
                'booking_id': booking.id if booking else None,
                'kind': KIND,
                'status': 'pending',
                'due_at': now,
                'context': {'webhook_id': webhook_id, 'subscription_id': subscription.id, 'event': event, 'body': body},
                'attempts': 0,
                'claimed_by': '',
                'last_error': '',
                'created_at': now,
            }
        )
    session.execute(insert(WebhookDelivery), logs)
    session.execute(insert(OutboxMessage), rows)
    return [log['webhook_id'] for log in logs]
