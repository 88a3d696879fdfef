"""Host endpoints, authenticated with `Authorization: Bearer <API key>`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import (
    AccountExport,
    BookingDetailPublic,
    BookingPublic,
    CancelRequest,
    EmptyRequest,
    EventTypePublic,
    EventTypeUpdate,
    HostPublic,
    HostUpdate,
    NotificationSettingsPublic,
    NotificationSettingsRequest,
    ProposalRequest,
    SchedulePublic,
    problems,
)
from app.config import get_settings
from app.db import session_scope
from app.errors import NotAllowed
from services import accounts, bookings, event_types, hosts, schedules, use_cases, validation
from services.event_types import EventTypeInput
from services.notifications import outbox, preferences
from services.schedules import ScheduleInput
from web.auth import same_origin, session_token

bearer = HTTPBearer(auto_error=False, description='An API key made with `python main.py api-key create`')


def current_host_id(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> int:
    """The host whose API key the request carries, or whose signed-in session (the dashboard's own calls)."""
    if credentials is None or credentials.scheme.lower() != 'bearer':
        with session_scope() as session:
            signed_in = accounts.host_for_session(session, session_token(request), _now())
        if signed_in is None or signed_in.id is None:
            raise NotAllowed('Send an API key as "Authorization: Bearer <key>", or sign in')
        if request.method not in ('GET', 'HEAD') and not same_origin(request, get_settings()):
            raise NotAllowed("A signed-in change must come from this site's own pages")
        return signed_in.id
    with session_scope() as session:
        host = hosts.host_for_api_key(session=session, secret=credentials.credentials)
    assert host.id is not None
    return host.id


HostId = Annotated[int, Depends(current_host_id)]
router = APIRouter(tags=['host'], responses=problems(401, 503))


@router.get('/me', response_model=HostPublic)
def me(host_id: HostId) -> dict[str, Any]:
    with session_scope() as session:
        return hosts.host_json(hosts.get_host(session=session, host_id=host_id))


@router.patch('/me', response_model=HostPublic, responses=problems(400, 409, 422))
def update_me(host_id: HostId, body: HostUpdate) -> dict[str, Any]:
    """Change the profile: name, intro, timezone, and embed_origins (sites allowed to iframe the booking pages)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    with session_scope(write=True) as session:
        return hosts.host_json(hosts.update_profile(session=session, host_id=host_id, changes=changes))


@router.get('/me/export', response_model=AccountExport)
def export_me(host_id: HostId) -> dict[str, Any]:
    """Everything stored about this host, without secrets."""
    with session_scope() as session:
        return accounts.export_account(session, host_id=host_id)


@router.delete('/me', status_code=204)
def delete_me(host_id: HostId) -> Response:
    """Delete this account and every row of it (Google access is revoked first; a failed revocation does not
    stop the deletion)."""
    accounts.close_account(host_id=host_id, revoke=accounts.revoke_google_token)
    return Response(status_code=204)


@router.get('/me/notifications', response_model=NotificationSettingsPublic)
def notification_settings(host_id: HostId) -> dict[str, Any]:
    """Each e-mail kind (on/off, subject, custom message) and the reminder offsets in minutes before a meeting."""
    with session_scope() as session:
        return preferences.preferences_json(hosts.get_host(session=session, host_id=host_id))


@router.patch('/me/notifications', response_model=NotificationSettingsPublic, responses=problems(400, 422))
def update_notification_settings(host_id: HostId, body: NotificationSettingsRequest) -> dict[str, Any]:
    """Change some kinds and/or the reminder offsets; subjects and messages may use the listed variables."""
    with session_scope(write=True) as session:
        host = hosts.get_host(session=session, host_id=host_id)
        preferences.update_preferences(
            host,
            kinds={k: v.model_dump(exclude_none=True) for k, v in (body.kinds or {}).items()},
            reminder_offsets_minutes=body.reminder_offsets_minutes,
        )
        session.add(host)
        session.flush()
        return preferences.preferences_json(host)


@router.get('/schedules', response_model=list[SchedulePublic])
def list_schedules(host_id: HostId) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [schedules.schedule_json(s) for s in schedules.list_schedules(session=session, host_id=host_id)]


@router.post('/schedules', status_code=201, response_model=SchedulePublic, responses=problems(400, 422))
def create_schedule(host_id: HostId, body: ScheduleInput) -> dict[str, Any]:
    with session_scope(write=True) as session:
        return schedules.schedule_json(schedules.create_schedule(session=session, host_id=host_id, data=body))


@router.get('/schedules/{schedule_id}', response_model=SchedulePublic, responses=problems(404, 422))
def get_schedule(host_id: HostId, schedule_id: int) -> dict[str, Any]:
    with session_scope() as session:
        return schedules.schedule_json(
            schedules.get_schedule(session=session, host_id=host_id, schedule_id=schedule_id)
        )


@router.put('/schedules/{schedule_id}', response_model=SchedulePublic, responses=problems(400, 404, 409, 422))
def replace_schedule(host_id: HostId, schedule_id: int, body: ScheduleInput) -> dict[str, Any]:
    with session_scope(write=True) as session:
        return schedules.schedule_json(
            schedules.update_schedule(session=session, host_id=host_id, schedule_id=schedule_id, data=body)
        )


@router.delete('/schedules/{schedule_id}', status_code=204, responses=problems(404, 409, 422))
def delete_schedule(host_id: HostId, schedule_id: int) -> Response:
    with session_scope(write=True) as session:
        schedules.delete_schedule(session=session, host_id=host_id, schedule_id=schedule_id)
    return Response(status_code=204)


@router.get('/event-types', response_model=list[EventTypePublic])
def list_event_types(host_id: HostId) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [event_types.event_type_json(e) for e in event_types.list_event_types(session=session, host_id=host_id)]


@router.post('/event-types', status_code=201, response_model=EventTypePublic, responses=problems(400, 404, 409, 422))
def create_event_type(host_id: HostId, body: EventTypeInput) -> dict[str, Any]:
    with session_scope(write=True) as session:
        return event_types.event_type_json(event_types.create_event_type(session=session, host_id=host_id, data=body))


@router.get('/event-types/{event_type_id}', response_model=EventTypePublic, responses=problems(404, 422))
def get_event_type(host_id: HostId, event_type_id: int) -> dict[str, Any]:
    with session_scope() as session:
        return event_types.event_type_json(
            event_types.get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
        )


@router.patch('/event-types/{event_type_id}', response_model=EventTypePublic, responses=problems(400, 404, 409, 422))
def update_event_type(host_id: HostId, event_type_id: int, body: EventTypeUpdate) -> dict[str, Any]:
    with session_scope(write=True) as session:
        return event_types.event_type_json(
            event_types.update_event_type(
                session=session,
                host_id=host_id,
                event_type_id=event_type_id,
                changes=body.model_dump(exclude_unset=True),
            )
        )


@router.delete('/event-types/{event_type_id}', status_code=204, responses=problems(404, 422))
def delete_event_type(host_id: HostId, event_type_id: int) -> Response:
    with session_scope(write=True) as session:
        event_types.delete_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
    return Response(status_code=204)


@router.get('/bookings', response_model=list[BookingPublic], responses=problems(422))
def list_bookings(
    host_id: HostId,
    status: Annotated[str, Query(pattern='^(upcoming|pending|past|cancelled)$')] = 'upcoming',
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=validation.MAX_ID)] = 0,
) -> list[dict[str, Any]]:
    with session_scope() as session:
        found = bookings.list_bookings(
            session=session, host_id=host_id, status=status, now=_now(), limit=limit, offset=offset
        )
        return [bookings.booking_json(b) for b in found]


@router.get('/bookings/{uid}', response_model=BookingDetailPublic, responses=problems(404, 422))
def get_booking(host_id: HostId, uid: str) -> dict[str, Any]:
    """One booking, with the delivery status of each of its e-mails and reminders."""
    with session_scope() as session:
        booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
        assert booking.id is not None
        return bookings.booking_json(booking) | {'messages': outbox.deliveries(session, booking_id=booking.id)}


@router.post('/bookings/{uid}/cancel', response_model=BookingPublic, responses=problems(404, 409, 422))
def cancel_booking(host_id: HostId, uid: str, body: CancelRequest) -> dict[str, Any]:
    return bookings.booking_json(use_cases.cancel_as_host(host_id=host_id, uid=uid, reason=body.reason, now=_now()))


@router.post('/bookings/{uid}/confirm', response_model=BookingPublic, responses=problems(404, 409, 422))
def confirm_booking(host_id: HostId, uid: str, body: EmptyRequest) -> dict[str, Any]:
    """Confirm a pending request (409 when its time is no longer free, or it was declined or cancelled); the
    invitee is e-mailed, the event goes into the calendar. Confirming twice is harmless."""
    return bookings.booking_json(use_cases.confirm_as_host(host_id=host_id, uid=uid, now=_now()))


@router.post('/bookings/{uid}/decline', response_model=BookingPublic, responses=problems(404, 409, 422))
def decline_booking(host_id: HostId, uid: str, body: CancelRequest) -> dict[str, Any]:
    """Decline a pending request, with an optional reason the invitee is told."""
    return bookings.booking_json(use_cases.decline_as_host(host_id=host_id, uid=uid, reason=body.reason, now=_now()))


@router.post('/bookings/{uid}/propose', response_model=BookingPublic, responses=problems(404, 409, 422))
def propose_new_time(host_id: HostId, uid: str, body: ProposalRequest) -> dict[str, Any]:
    """Propose another free time; the invitee gets an e-mail to accept, decline (which cancels) or pick another
    time. The proposal expires after 7 days; a new proposal replaces the previous one."""
    return bookings.booking_json(
        use_cases.propose_as_host(host_id=host_id, uid=uid, start=body.start, message=body.message, now=_now())
    )


@router.post('/bookings/{uid}/erase', response_model=BookingPublic, responses=problems(404, 409, 422))
def erase_invitee(host_id: HostId, uid: str) -> dict[str, Any]:
    """Erase the invitee's personal data from one booking on their request (an upcoming one is cancelled
    without e-mails)."""
    return bookings.booking_json(use_cases.erase_as_host(host_id=host_id, uid=uid, now=_now()))


def _now() -> datetime:
    return datetime.now(timezone.utc)
