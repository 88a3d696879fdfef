"""Public endpoints: event types, free times, booking, and the invitee's own cancel and reschedule."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.schemas import (
    BookingRequest,
    InviteeBookingPublic,
    OfferedEventTypePublic,
    RescheduleRequest,
    SlotsPublic,
    TokenCancelRequest,
    TokenRequest,
    problems,
)
from app import i18n
from app.config import get_settings
from app.db import session_scope
from app.errors import InvalidInput
from app.models import Booking
from services import availability, bookings, event_types, hosts, offer_cache, slots, use_cases, validation
from web.edge import client_address

router = APIRouter(prefix='/public', tags=['public'], responses=problems(503))
MOVED: dict[int | str, dict[str, Any]] = {
    307: {'description': 'The host now goes by another username: the same request at their current address'}
}
MAX_RANGE_DAYS = 62


@router.get(
    '/{username}/event-types', response_model=list[OfferedEventTypePublic], responses=MOVED | problems(404, 422)
)
def list_public_event_types(username: str) -> list[dict[str, Any]]:
    """The host's active, listed event types."""
    with session_scope() as session:
        host = hosts.get_host_by_username(session=session, username=username)
        assert host.id is not None
        return [
            event_types.public_event_type_json(e)
            for e in event_types.public_event_types(session=session, host_id=host.id)
        ]


@router.get(
    '/{username}/{slug}/slots',
    response_model=SlotsPublic,
    response_model_exclude_unset=True,
    responses=MOVED | problems(400, 404, 422),
)
async def list_slots(
    username: str,
    slug: str,
    start: Annotated[str, Query(description='YYYY-MM-DD')],
    end: Annotated[str, Query(description='YYYY-MM-DD, inclusive')],
    timezone: Annotated[str, Query(alias='timezone')] = 'UTC',
    duration: Annotated[
        int | None, Query(description="One of the event type's duration_options, in minutes (default: its duration)")
    ] = None,
) -> Response:
    """Free start times for the invitee's local dates start..end (at most 62 days), shown in their zone."""
    zone_name = validation.time_zone(timezone)
    first, last = validation.iso_date(start, 'start'), validation.iso_date(end, 'end')
    if last < first:
        raise InvalidInput('end must be on or after start')
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f'The date range may span at most {MAX_RANGE_DAYS} days')
    cache = offer_cache.get()
    key = ('slots', username.lower(), slug.lower(), first, last, zone_name, duration)
    kept = cache.peek_answer(key)
    if kept is not None:
        return Response(kept, media_type='application/json')
    changes, now = cache.changes, _now()
    lo, hi = slots.local_dates_span(first, last, zone_name)
    # A week or less from memory is answered on the event loop (microseconds of work, no thread hop); anything
    # that needs the database or more computing goes to a worker thread.
    found = (
        availability.cached_link_offer(username=username, slug=slug, start=lo, end=hi, now=now, duration=duration)
        if (last - first).days < 7
        else None
    )
    if found is None:
        found = await run_in_threadpool(
            availability.link_offer, username=username, slug=slug, start=lo, end=hi, now=now, duration=duration
        )
    zone = ZoneInfo(zone_name)
    answer: dict[str, Any] = {'timezone': zone_name, 'slots': [_slot_json(s, zone) for s in found.slots]}
    if found.problem:  # some times could not be checked against the host's calendars: they are left out
        answer['notice'] = availability.CALENDARS_UNCHECKED
    # The answer is built to SlotsPublic's shape here, so it is serialised once, not validated again (a 60-day
    # answer holds ~1,000 slots); tests/api/test_public_api.py checks the shape against the schema.
    body = orjson.dumps(answer)
    lifetime = availability.answer_lifetime(username=username, slug=slug, found=found, now=now)
    if lifetime is not None:  # the same question gets the same bytes until a change or time makes them wrong
        cache.keep_answer(key, lifetime[0], body, lifetime[1], changes)
    return Response(body, media_type='application/json')


@router.post(
    '/{username}/{slug}/bookings',
    status_code=201,
    response_model=InviteeBookingPublic,
    responses=MOVED | problems(400, 404, 409, 422, 429),
)
def create_booking(
    username: str,
    slug: str,
    body: BookingRequest,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Book a start time; 409 when it is not offered (any more), 429 with Retry-After when this address has made
    too many bookings lately (CLOUDMEET_BOOKING_RATE_LIMIT)."""
    invitee = bookings.Invitee(
        name=body.name,
        email=body.email,
        timezone=body.timezone,
        notes=body.notes,
        answers=body.answers,
        locale=i18n.choose(body.locale, accept_language=request.headers.get('accept-language')),
    )
    link = use_cases.link(username=username, slug=slug)
    receipt = use_cases.book(
        event_type_id=link.event_type_id,
        host_id=link.host_id,
        slug=link.slug,
        start=body.start,
        invitee=invitee,
        now=_now(),
        address=client_address(request),
        idempotency_key=idempotency_key,
        duration=body.duration_minutes,
    )
    if receipt.replayed:
        response.headers['Idempotent-Replayed'] = 'true'
    return _invitee_view(receipt.booking, receipt.token)


@router.post('/bookings/{uid}/cancel', response_model=InviteeBookingPublic, responses=problems(404, 409, 422, 429))
def cancel_own_booking(uid: str, body: TokenCancelRequest, request: Request) -> dict[str, Any]:
    """Cancel with the manage token from the confirmation."""
    booking = use_cases.cancel_by_token(
        uid=uid, token=body.token, reason=body.reason, now=_now(), address=client_address(request)
    )
    return _invitee_view(booking, body.token)


@router.post('/bookings/{uid}/reschedule', response_model=InviteeBookingPublic, responses=problems(404, 409, 422, 429))
def reschedule_own_booking(uid: str, body: RescheduleRequest, request: Request) -> dict[str, Any]:
    """Move to another offered time; the booking keeps its old time when the new one is refused."""
    booking = use_cases.reschedule_by_token(
        uid=uid, token=body.token, start=body.start, now=_now(), address=client_address(request)
    )
    return _invitee_view(booking, body.token)


@router.post(
    '/bookings/{uid}/proposal/accept', response_model=InviteeBookingPublic, responses=problems(404, 409, 422, 429)
)
def accept_proposal(uid: str, body: TokenRequest, request: Request) -> dict[str, Any]:
    """Take the time the host proposed (409 if it is no longer free or the proposal expired)."""
    booking = use_cases.accept_proposal_by_token(uid=uid, token=body.token, now=_now(), address=client_address(request))
    return _invitee_view(booking, body.token)


@router.post(
    '/bookings/{uid}/proposal/decline', response_model=InviteeBookingPublic, responses=problems(404, 409, 422, 429)
)
def decline_proposal(uid: str, body: TokenRequest, request: Request) -> dict[str, Any]:
    """Decline the time the host proposed, which cancels the meeting."""
    booking = use_cases.decline_proposal_by_token(
        uid=uid, token=body.token, now=_now(), address=client_address(request)
    )
    return _invitee_view(booking, body.token)


def _slot_json(slot: slots.Slot, zone: ZoneInfo) -> dict[str, Any]:
    """One slot for orjson, which writes aware times as ISO 8601 with their offset (the same text as
    `isoformat()`, in a fraction of the time: a 60-day answer holds about a thousand of them)."""
    found: dict[str, Any] = {'start': slot.start.astimezone(zone), 'end': slot.end.astimezone(zone)}
    if slot.seats_left is not None:
        found['seats_left'] = slot.seats_left
    return found


def manage_url(booking: Booking, token: str) -> str:
    return f'{get_settings().public_url}/booking/{booking.uid}?token={token}'


def _invitee_view(booking: Booking, token: str) -> dict[str, Any]:
    zone = ZoneInfo(booking.invitee_timezone)
    proposal = bookings.pending_proposal(booking, _now())
    return {
        'uid': booking.uid,
        'start': booking.start_at.astimezone(zone).isoformat(),
        'end': booking.end_at.astimezone(zone).isoformat(),
        'status': booking.status,
        'manage_url': manage_url(booking, token),
        'proposal': {
            'start': proposal.start.astimezone(zone).isoformat(),
            'end': proposal.end.astimezone(zone).isoformat(),
            'message': proposal.message,
            'expires_at': proposal.expires_at.isoformat(),
        }
        if proposal
        else None,
    }


def _now() -> datetime:
    return datetime.now(timezone.utc)
