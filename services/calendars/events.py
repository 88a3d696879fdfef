"""The booking's event in the host's calendar, kept in step with the booking: created (with a Meet or Teams link
when the event type asks for one), moved on reschedule, deleted on cancellation.

It runs as an outbox job after the booking committed, with the outbox's retries and backoff. Each run brings the
event to the booking's current state, and creation uses an id fixed per booking, so retries make exactly one
event. The provider is whichever adapter the connection names (services/calendars/providers.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.config import Settings
from app.models import BOOKING_CONFIRMED, Booking, CalendarConnection, EventType, Host
from services.calendars import busy, providers

EVENT_LOCATIONS = ('in_person', 'phone', 'link')  # location kinds written into the event as its place


@dataclass(frozen=True, slots=True)
class Synced:
    event_id: str
    connection_id: int | None
    meeting_url: str
    pending: bool = False  # the provider is still making the video link: ask again shortly


def members_of(session: Session, booking: Booking) -> tuple[tuple[str, str], ...]:
    """The other members a collective team booking holds time for, as (e-mail, name): attendees of its event."""
    rows = session.exec(
        select(Host.email, Host.name)
        .join(Booking, col(Booking.host_id) == Host.id)
        .where(Booking.parent_id == booking.id)
        .order_by(col(Host.id))
    ).all()
    return tuple((email, name) for email, name in rows)


def destination(session: Session, *, host_id: int) -> CalendarConnection | None:
    """Where new bookings are written: the connection chosen for it, else the first that can take events."""
    rows = session.exec(
        select(CalendarConnection).where(CalendarConnection.host_id == host_id).order_by(col(CalendarConnection.id))
    ).all()
    writers = [r for r in rows if r.provider in providers.WRITERS]
    return next((r for r in writers if r.receives_events), writers[0] if writers else None)


def has_writer(session: Session, *, host_id: int) -> bool:
    """Whether some connection of the host can take bookings (one indexed look-up, no rows decrypted; none when
    this unit of work already read that the host has no connection at all)."""
    if busy.read_none(session, host_id):
        return False
    found = session.exec(
        select(CalendarConnection.id)
        .where(CalendarConnection.host_id == host_id, col(CalendarConnection.provider).in_(providers.WRITERS))
        .limit(1)
    )
    return found.first() is not None


def video_kind(session: Session, *, host_id: int) -> str:
    """The video link new bookings can get ('google_meet' or 'teams'), from the connection that receives them;
    '' when no Google or Microsoft account takes the host's bookings (then no link will come)."""
    connection = destination(session, host_id=host_id)
    return providers.VIDEO_KINDS.get(connection.provider, '') if connection else ''


def sync(
    booking: Booking,
    event_type: EventType | None,
    connection: CalendarConnection | None,
    settings: Settings,
    others: tuple[tuple[str, str], ...] = (),
) -> Synced:
    """Bring the booking's event to the booking's state (no database access: the caller records the result);
    `others` are more attendees (the other members of a collective team booking, on the organiser's event)."""
    unchanged = Synced(booking.calendar_event_id, booking.calendar_connection_id, booking.meeting_url)
    if connection is None or connection.host_id != booking.host_id:
        return unchanged
    provider = providers.registry(settings).get(connection.provider)
    if provider is None or not provider.writes:
        return unchanged
    account = providers.Connection.of(connection)
    if booking.status != BOOKING_CONFIRMED:
        provider.delete_event(account, uid=booking.uid, event_id=booking.calendar_event_id)
        return Synced('', connection.id, booking.meeting_url)
    written = provider.write_event(account, _event(booking, event_type, provider.video_kind, others))
    return Synced(written.event_id, connection.id, written.video_url or booking.meeting_url, written.pending)


def seat_group_uid(host_id: int, seat_key: str) -> str:
    """The fixed identity of a seated start's one event (its bookings share it; retries never make a second)."""
    return 'seats-' + hashlib.sha256(f'{host_id}/{seat_key}'.encode()).hexdigest()[:32]


def seated(session: Session, *, host_id: int, seat_key: str) -> tuple[list[Booking], str]:
    """The confirmed bookings of one seated start (oldest first) and its event's id once written ('' before)."""
    rows = list(
        session.exec(
            select(Booking).where(Booking.host_id == host_id, Booking.seat_key == seat_key).order_by(col(Booking.id))
        )
    )
    event_id = next((b.calendar_event_id for b in rows if b.calendar_event_id), '')
    return [b for b in rows if b.status == BOOKING_CONFIRMED], event_id


def sync_seats(
    attendees: list[Booking],
    *,
    uid: str,
    event_id: str,
    event_type: EventType | None,
    connection: CalendarConnection | None,
    settings: Settings,
) -> Synced:
    """Bring a seated start's one event to its attendees: every confirmed booking of it as an attendee, deleted
    with the last of them (no database access: the caller records the result on each booking)."""
    unchanged = Synced(event_id, connection.id if connection else None, '')
    if connection is None:
        return unchanged
    provider = providers.registry(settings).get(connection.provider)
    if provider is None or not provider.writes:
        return unchanged
    account = providers.Connection.of(connection)
    if not attendees:
        provider.delete_event(account, uid=uid, event_id=event_id)
        return Synced('', connection.id, '')
    first = attendees[0]
    title = event_type.title if event_type else 'Meeting'
    kind = event_type.location_kind if event_type else ''
    written = provider.write_event(
        account,
        providers.Event(
            uid=uid,
            event_id=event_id,
            title=f'{title} ({len(attendees)} booked)',
            description='Booked through CloudMeet.',
            start=first.start_at,
            end=first.end_at,
            invitee=(first.invitee_email, first.invitee_name),
            others=tuple((b.invitee_email, b.invitee_name) for b in attendees[1:]),
            location=event_type.location_value if event_type and kind in EVENT_LOCATIONS else '',
            video=bool(provider.video_kind) and kind == provider.video_kind,
            sequence=max(b.sequence for b in attendees) + len(attendees),
        ),
    )
    return Synced(written.event_id, connection.id, written.video_url or first.meeting_url, written.pending)


def remove(connection: CalendarConnection, *, uid: str, event_id: str, settings: Settings) -> None:
    """Delete a booking's event from a calendar it no longer belongs in (a team booking gone to another member)."""
    provider = providers.registry(settings).get(connection.provider)
    if provider is not None and provider.writes:
        provider.delete_event(providers.Connection.of(connection), uid=uid, event_id=event_id)


def _event(
    booking: Booking, event_type: EventType | None, video_kind: str, others: tuple[tuple[str, str], ...] = ()
) -> providers.Event:
    kind = event_type.location_kind if event_type else ''
    return providers.Event(
        uid=booking.uid,
        event_id=booking.calendar_event_id,
        title=f'{event_type.title if event_type else "Meeting"} with {booking.invitee_name}',
        description=f'Booked through CloudMeet.\n\n{booking.notes}'.strip(),
        start=booking.start_at,
        end=booking.end_at,
        invitee=(booking.invitee_email, booking.invitee_name),
        location=event_type.location_value if event_type and kind in EVENT_LOCATIONS else '',
        video=bool(video_kind) and kind == video_kind,
        sequence=booking.sequence,
        others=others,
    )
