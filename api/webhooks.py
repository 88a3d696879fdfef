"""Host webhook endpoints: subscribe to booking events, list and delete subscriptions, read a subscription's
delivery log and send it a test event. The signing secret is in the reply to the POST that creates it, once."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.host import HostId
from api.schemas import Time, WebhookPublic, problems
from app.db import session_scope
from services import validation
from services.webhooks import EVENTS, subscriptions

router = APIRouter(tags=['webhooks'], responses=problems(401, 503))
WebhookId = Annotated[int, Path(ge=1, le=validation.MAX_ID)]


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra='forbid')

    url: str = Field(max_length=subscriptions.MAX_URL_LENGTH, description='https on a public address')
    events: list[str] | None = Field(
        default=None, max_length=len(EVENTS), description=f'Any of {", ".join(EVENTS)}; all of them when left out'
    )


class WebhookCreatedPublic(WebhookPublic):
    secret: str = Field(
        description="The signing secret ('whsec_...'), shown this once; verify with any Standard Webhooks library"
    )


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(extra='forbid')

    id: int
    event: str
    webhook_id: str
    booking_uid: str
    status: Literal['pending', 'retrying', 'delivered', 'failed', 'cancelled']
    attempts: int
    response_code: int | None
    duration_ms: int | None
    response_body: str = Field(description="The first kilobyte of the endpoint's last answer")
    error: str
    created_at: Time
    last_attempt_at: Time | None
    next_attempt_at: Time | None


@router.get('/webhooks', response_model=list[WebhookPublic])
def list_webhooks(host_id: HostId) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            subscriptions.subscription_json(s)
            for s in subscriptions.list_subscriptions(session=session, host_id=host_id)
        ]


@router.post('/webhooks', status_code=201, response_model=WebhookCreatedPublic, responses=problems(400, 409, 422))
def create_webhook(host_id: HostId, body: WebhookRequest) -> dict[str, Any]:
    """Subscribe an https endpoint to booking events. Deliveries are signed per Standard Webhooks (headers
    webhook-id, webhook-timestamp, webhook-signature) and retried after about 5 s, 5 min, 30 min, 2 h, 5 h and 10 h.
    To rotate the secret, create a new subscription and delete the old one."""
    with session_scope(write=True) as session:
        created = subscriptions.subscribe(
            session=session, host_id=host_id, url=body.url, events=body.events, now=_now()
        )
        return subscriptions.subscription_json(created.subscription) | {'secret': created.secret}


@router.delete('/webhooks/{webhook_id}', status_code=204, responses=problems(404, 422))
def delete_webhook(host_id: HostId, webhook_id: WebhookId) -> Response:
    with session_scope(write=True) as session:
        subscriptions.delete_subscription(session=session, host_id=host_id, subscription_id=webhook_id)
    return Response(status_code=204)


@router.get(
    '/webhooks/{webhook_id}/deliveries', response_model=list[WebhookDeliveryPublic], responses=problems(404, 422)
)
def list_deliveries(host_id: HostId, webhook_id: WebhookId) -> list[dict[str, Any]]:
    """The latest 100 deliveries, newest first: status, attempts, the last response code, duration and body."""
    with session_scope() as session:
        return [
            subscriptions.delivery_json(d)
            for d in subscriptions.deliveries(session=session, host_id=host_id, subscription_id=webhook_id)
        ]


@router.post(
    '/webhooks/{webhook_id}/test', status_code=202, response_model=WebhookDeliveryPublic, responses=problems(404, 422)
)
def send_test_event(host_id: HostId, webhook_id: WebhookId) -> dict[str, Any]:
    """Queue a signed 'webhook.test' event to this endpoint now; its delivery appears in the log."""
    with session_scope(write=True) as session:
        return subscriptions.delivery_json(
            subscriptions.send_test(session=session, host_id=host_id, subscription_id=webhook_id, now=_now())
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)
