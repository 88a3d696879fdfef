"""The booking's event in the host's calendar, kept in step with the booking: created (with a Meet or Teams link
when the event type asks for one), moved on reschedule, deleted on cancellation.

It runs as an outbox job after the booking committed, with the outbox's retries and backoff. Each run brings the
event to the booking's current state, and creation uses an id fixed per booking, so retries make exactly one
event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, select

from app import crypto
from app.config import Settings
from app.models import BOOKING_CONFIRMED, Booking, CalendarConnection, EventType, Host
from services.calendars import google, microsoft, tokens

WRITERS = ('google', 'microsoft')


@dataclass(frozen=True, slots=True)
class Synced:
    event_id: str
    connection_id: int | None
    meeting_url: str
    pending: bool = False  # the provider is still making the video link: ask again shortly


def destination(session: Session, *, host_id: int) -> CalendarConnection | None:
    """Where new bookings are written: the connection chosen for it, else the first that can take events."""
    rows = session.exec(select(CalendarConnection).where(CalendarConnection.host_id == host_id)
                        .order_by(CalendarConnection.id)).all()  # type: ignore[arg-type]
    writers = [r for r in rows if r.provider in WRITERS]
    return next((r for r in writers if r.receives_events), writers[0] if writers else None)


def has_writer(session: Session, *, host_id: int) -> bool:
    return destination(session, host_id=host_id) is not None


VIDEO_KINDS = {'google': 'google_meet', 'microsoft': 'teams'}


def video_kind(session: Session, *, host_id: int) -> str:
    """The video link new bookings can get ('google_meet' or 'teams'), from the connection that receives them;
    '' when no Google or Microsoft account takes the host's bookings (then no link will come)."""
    connection = destination(session, host_id=host_id)
    return VIDEO_KINDS.get(connection.provider, '') if connection else ''


def sync(booking: Booking, host: Host, event_type: EventType | None, connection: CalendarConnection | None,
         settings: Settings) -> Synced:
    """Bring the booking's event to the booking's state (no database access: the caller records the result)."""
    if connection is None or connection.host_id != booking.host_id:
        return Synced(booking.calendar_event_id, booking.calendar_connection_id, booking.meeting_url)
    token = crypto.decrypt(connection.secret_encrypted)
    if connection.provider == 'microsoft':
        return _sync_microsoft(booking, event_type, connection, token, settings)
    calendar_id = connection.target_calendar or 'primary'
    if booking.status != BOOKING_CONFIRMED:
        # Without a stored id the event may still exist (a creation that raced this cancellation): its id is fixed.
        google.delete_event(token, calendar_id, booking.calendar_event_id or google.event_id_for(booking.uid),
                            settings)
        return Synced('', connection.id, booking.meeting_url)
    meet = bool(event_type and event_type.location_kind == 'google_meet')
    body = _event_body(booking, host, event_type)
    if booking.calendar_event_id:
        link = google.update_event(token, calendar_id, booking.calendar_event_id, body, settings)
        event_id = booking.calendar_event_id
    else:
        event_id, link = google.create_event(token, calendar_id, google.event_id_for(booking.uid), body, meet=meet,
                                             request_id=booking.uid, settings=settings)
    if meet and not link:
        return Synced(event_id, connection.id, booking.meeting_url, pending=True)
    return Synced(event_id, connection.id, link or booking.meeting_url)


def _sync_microsoft(booking: Booking, event_type: EventType | None, connection: CalendarConnection, refresh: str,
                    settings: Settings) -> Synced:
    token = tokens.microsoft_token(connection.id or 0, refresh, settings)
    if booking.status != BOOKING_CONFIRMED:
        if booking.calendar_event_id:
            microsoft.delete_event(token, booking.calendar_event_id, settings)
        return Synced('', connection.id, booking.meeting_url)
    google_body = _event_body(booking, None, event_type)
    body = microsoft.event_body(google_body['summary'], google_body['description'], booking.start_at,
                                booking.end_at, (booking.invitee_email, booking.invitee_name),
                                google_body.get('location', ''))
    teams = bool(event_type and event_type.location_kind == 'teams')
    if booking.calendar_event_id:
        link = microsoft.update_event(token, booking.calendar_event_id, body, settings)
        event_id = booking.calendar_event_id
    else:
        event_id, link = microsoft.create_event(token, body, teams=teams, transaction_id=booking.uid,
                                                settings=settings, calendar_id=connection.target_calendar)
    return Synced(event_id, connection.id, link or booking.meeting_url)


def _event_body(booking: Booking, host: Host | None, event_type: EventType | None) -> dict:
    title = event_type.title if event_type else 'Meeting'
    location = event_type.location_value if event_type and event_type.location_kind in ('in_person', 'phone',
                                                                                       'link') else ''
    body = {'summary': f'{title} with {booking.invitee_name}',
            'description': f'Booked through CloudMeet.\n\n{booking.notes}'.strip(),
            'start': {'dateTime': _z(booking.start_at)}, 'end': {'dateTime': _z(booking.end_at)},
            'attendees': [{'email': booking.invitee_email, 'displayName': booking.invitee_name}],
            'reminders': {'useDefault': True}}
    if location:
        body['location'] = location
    return body


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
