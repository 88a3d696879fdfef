"""Public endpoints: event types, free times, booking, and the invitee's own cancel and reschedule."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Request, Response

from app.api.schemas import BookingRequest, RescheduleRequest, TokenCancelRequest, TokenRequest
from app.config import get_settings
from app.db import session_scope
from app.edge import client_address
from app.errors import InvalidInput, NotFound, RateLimited, SlotUnavailable
from app.models import Booking
from app.ratelimit import manage_token_guesses as token_guesses
from services import availability, booking_limits, bookings, event_types, hosts, slots, validation

router = APIRouter(prefix='/public', tags=['public'])
MAX_RANGE_DAYS = 62


@router.get('/{username}/event-types')
def list_public_event_types(username: str) -> list[dict[str, Any]]:
    """The host's active, listed event types."""
    with session_scope() as session:
        host = hosts.get_host_by_username(session=session, username=username)
        assert host.id is not None
        return [event_types.public_event_type_json(e)
                for e in event_types.public_event_types(session=session, host_id=host.id)]


@router.get('/{username}/{slug}/slots')
def list_slots(username: str, slug: str, start: Annotated[str, Query(description='YYYY-MM-DD')],
               end: Annotated[str, Query(description='YYYY-MM-DD, inclusive')],
               timezone: Annotated[str, Query(alias='timezone')] = 'UTC') -> dict[str, Any]:
    """Free start times for the invitee's local dates start..end (at most 62 days), shown in their zone."""
    zone_name = validation.time_zone(timezone)
    first, last = validation.iso_date(start, 'start'), validation.iso_date(end, 'end')
    if last < first:
        raise InvalidInput('end must be on or after start')
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f'The date range may span at most {MAX_RANGE_DAYS} days')
    lo, hi = slots.local_dates_span(first, last, zone_name)
    with session_scope() as session:
        _, event_type = event_types.bookable_event_type(session=session, username=username, slug=slug)
        found = availability.offer(session=session, event_type=event_type, start=lo, end=hi, now=_now())
    zone = ZoneInfo(zone_name)
    answer: dict[str, Any] = {'timezone': zone_name, 'slots': [{'start': s.start.astimezone(zone).isoformat(),
                                                                'end': s.end.astimezone(zone).isoformat()}
                                                               for s in found.slots]}
    if found.problem:  # some times could not be checked against the host's calendars: they are left out
        answer['notice'] = availability.CALENDARS_UNCHECKED
    return answer


@router.post('/{username}/{slug}/bookings', status_code=201)
def create_booking(username: str, slug: str, body: BookingRequest, request: Request, response: Response,
                   idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """Book a start time; 409 when it is not offered (any more), 429 with Retry-After when this address has made
    too many bookings lately (CLOUDMEET_BOOKING_RATE_LIMIT)."""
    invitee = bookings.Invitee(name=body.name, email=body.email, timezone=body.timezone, notes=body.notes,
                               answers=body.answers)
    start = _offerable(body.start)
    with session_scope() as session:  # the host's calendars are asked before the write lock is taken
        host_id = event_types.bookable_event_type(session=session, username=username, slug=slug)[1].host_id
    availability.warm_calendars(host_id=host_id, start=start)
    with session_scope(write=True) as session:
        _, event_type = event_types.bookable_event_type(session=session, username=username, slug=slug)
        counted = booking_limits.admit(session, address=client_address(request), rate=get_settings().booking_rate,
                                       now=_now())  # in the booking's transaction: a refused booking counts nothing
        receipt = bookings.book_slot(session=session, event_type=event_type, start=start, invitee=invitee,
                                     now=_now(), idempotency_key=idempotency_key)
        booking_limits.uncount(session, counted if receipt.replayed else None)
    if receipt.replayed:
        response.headers['Idempotent-Replayed'] = 'true'
    return _invitee_view(receipt.booking, receipt.token)


@router.post('/bookings/{uid}/cancel')
def cancel_own_booking(uid: str, body: TokenCancelRequest, request: Request) -> dict[str, Any]:
    """Cancel with the manage token from the confirmation."""
    with session_scope(write=True) as session:
        booking = _by_token(session, uid, body.token, request)
        bookings.cancel_booking(session=session, booking=booking, reason=body.reason, now=_now())
        return _invitee_view(booking, body.token)


@router.post('/bookings/{uid}/reschedule')
def reschedule_own_booking(uid: str, body: RescheduleRequest, request: Request) -> dict[str, Any]:
    """Move to another offered time; the booking keeps its old time when the new one is refused."""
    offered = validation.within_calendar(body.start)
    if offered:
        availability.warm_for_booking(uid=uid, start=body.start)
    with session_scope(write=True) as session:
        booking = _by_token(session, uid, body.token, request)  # a wrong token is a 404 whatever the start
        bookings.reschedule_booking(session=session, booking=booking, start=_offerable(body.start), now=_now())
        return _invitee_view(booking, body.token)


@router.post('/bookings/{uid}/proposal/accept')
def accept_proposal(uid: str, body: TokenRequest, request: Request) -> dict[str, Any]:
    """Take the time the host proposed (409 if it is no longer free or the proposal expired)."""
    availability.warm_for_booking(uid=uid)
    with session_scope(write=True) as session:
        booking = _by_token(session, uid, body.token, request)
        bookings.accept_proposal(session=session, booking=booking, now=_now())
        return _invitee_view(booking, body.token)


@router.post('/bookings/{uid}/proposal/decline')
def decline_proposal(uid: str, body: TokenRequest, request: Request) -> dict[str, Any]:
    """Decline the time the host proposed, which cancels the meeting."""
    with session_scope(write=True) as session:
        booking = _by_token(session, uid, body.token, request)
        bookings.decline_proposal(session=session, booking=booking, now=_now())
        return _invitee_view(booking, body.token)


def manage_url(booking: Booking, token: str) -> str:
    return f'{get_settings().public_url}/booking/{booking.uid}?token={token}'


def _invitee_view(booking: Booking, token: str) -> dict[str, Any]:
    zone = ZoneInfo(booking.invitee_timezone)
    proposal = bookings.pending_proposal(booking, _now())
    return {'uid': booking.uid, 'start': booking.start_at.astimezone(zone).isoformat(),
            'end': booking.end_at.astimezone(zone).isoformat(), 'status': booking.status,
            'manage_url': manage_url(booking, token),
            'proposal': {'start': proposal.start.astimezone(zone).isoformat(),
                         'end': proposal.end.astimezone(zone).isoformat(), 'message': proposal.message,
                         'expires_at': proposal.expires_at.isoformat()} if proposal else None}


def _offerable(start: datetime) -> datetime:
    """A start in the years the app offers times in; one far off is simply not offered (409)."""
    if not validation.within_calendar(start):
        raise SlotUnavailable()
    return start


def _by_token(session: Any, uid: str, token: str, request: Request) -> Booking:
    """The booking behind a right token, always; wrong ones are counted per booking and address (429 when over)."""
    try:
        return bookings.booking_for_token(session=session, uid=uid, token=token)
    except NotFound:
        if token_guesses.wrong(uid, client_address(request)):
            raise RateLimited('Too many attempts; please wait a few minutes', retry_after=600) from None
        raise


def _now() -> datetime:
    return datetime.now(timezone.utc)
