"""Read models for the public pages: what an invitee may see of a host, an event type and their own booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session

from app.db import session_scope
from app.errors import NotFound
from app.i18n import N_
from app.models import BOOKING_CONFIRMED, HOLDING, Booking, BookingStatus, EventType, Host
from services import bookings, event_types, hosts, offer_cache
from services.calendars import events as calendar_events

LOCATION_LABELS = {
    'google_meet': N_('Google Meet'),
    'teams': N_('Microsoft Teams'),
    'phone': N_('Phone call'),
    'in_person': N_('In person'),
    'link': N_('Web conference'),
    'none': N_('Details follow from the host'),
}
VIDEO_KINDS = frozenset({'google_meet', 'teams'})
# A Meet or Teams link needs the matching account to receive the booking; without it none will come.
NO_VIDEO_LABEL = N_('Online: the host will send the details')


def location_label(kind: str, video: str) -> str:
    """What the invitee is told about the place; `video` is the link kind the host can make now ('' for none)."""
    if kind in VIDEO_KINDS and kind != video:
        return NO_VIDEO_LABEL
    return LOCATION_LABELS.get(kind, kind)


@dataclass(frozen=True, slots=True)
class PublicHost:
    id: int
    username: str
    name: str
    intro: str
    timezone: str
    brand_color: str = ''
    has_avatar: bool = False
    clock24: bool | None = None  # the host's chosen clock for their pages; None: the invitee's browser decides

    @property
    def initials(self) -> str:
        return ''.join(part[0] for part in self.name.split()[:2]).upper() or '?'


@dataclass(frozen=True, slots=True)
class PublicEventType:
    id: int
    slug: str
    title: str
    description: str
    duration_minutes: int
    location_kind: str
    questions: tuple[dict[str, Any], ...]
    video: str = ''  # the video link the host's calendars can make for it ('google_meet', 'teams' or '')
    durations: tuple[int, ...] = ()  # the lengths the invitee may choose (more than one: a choice is shown)
    seats: int = 1
    requires_confirmation: bool = False

    @property
    def location_label(self) -> str:
        return location_label(self.location_kind, self.video)


@dataclass(frozen=True, slots=True)
class ManageView:
    """An invitee's own booking, as the manage page shows it."""

    uid: str
    token: str
    status: str
    start: datetime
    end: datetime
    invitee_name: str
    invitee_email: str
    invitee_timezone: str
    host: PublicHost
    event_type: PublicEventType | None
    location_kind: str
    location_value: str
    cancel_reason: str
    reschedulable: bool
    sequence: int = 0
    clock24: bool = True  # the invitee's clock, chosen when booking
    proposal: bookings.Proposal | None = None  # a new time the host proposed, awaiting the invitee's answer
    confirmation_message: str = ''  # the event type's own words for those who booked
    host_email: str = ''  # the organiser in the invitee's .ics (their e-mails reply to it too); never shown on pages
    locale: str = 'en'  # the invitee's language, kept with the booking

    @property
    def confirmed(self) -> bool:
        return self.status == BOOKING_CONFIRMED

    @property
    def pending(self) -> bool:
        """A request awaiting the host's confirmation (it holds its time)."""
        return self.status == BookingStatus.PENDING

    @property
    def location_label(self) -> str:
        if self.location_kind in VIDEO_KINDS and self.location_value:
            return LOCATION_LABELS[self.location_kind]  # the link came
        return location_label(self.location_kind, self.event_type.video if self.event_type else '')


def avatar(*, username: str) -> tuple[bytes, str]:
    """A host's picture and its type (it was checked by content when uploaded)."""
    with session_scope() as session:
        host = hosts.get_host_by_username(session=session, username=username)
        if host.avatar is None:
            raise NotFound('No picture')
        return host.avatar, host.avatar_type


def host_page(*, username: str) -> tuple[PublicHost, list[PublicEventType]]:
    """The host's public profile and their listed event types."""
    with session_scope() as session:
        return _host_page(session, username)


def booking_page(*, username: str, slug: str) -> tuple[PublicHost, PublicEventType]:
    """The host and the event type behind a booking link (NotFound when it is not bookable); kept between
    requests until the host changes something (`offer_cache`)."""

    def load() -> tuple[int, tuple[PublicHost, PublicEventType]]:
        with session_scope() as session:
            found = _booking_page(session, username, slug)
        return found[0].id, found

    return offer_cache.get().page(username, slug, load)


def _host_page(session: Session, username: str) -> tuple[PublicHost, list[PublicEventType]]:
    host = hosts.get_host_by_username(session=session, username=username)
    assert host.id is not None
    video = calendar_events.video_kind(session, host_id=host.id)
    return _host(host), [
        _event_type(e, video) for e in event_types.public_event_types(session=session, host_id=host.id)
    ]


def _booking_page(session: Session, username: str, slug: str) -> tuple[PublicHost, PublicEventType]:
    host, event_type = event_types.bookable_event_type(session=session, username=username, slug=slug)
    assert host.id is not None
    return _host(host), _event_type(event_type, calendar_events.video_kind(session, host_id=host.id))


def manage_view(*, session: Session, uid: str, token: str, now: datetime | None = None) -> ManageView:
    """The booking a manage link names; a wrong token is 'not found', nothing else."""
    booking = bookings.booking_for_token(session=session, uid=uid, token=token)
    host = session.get(Host, booking.host_id)
    if host is None:
        raise NotFound('This link is not valid')
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    public_type = (
        _event_type(event_type, calendar_events.video_kind(session, host_id=host.id or 0)) if event_type else None
    )
    return ManageView(
        uid=booking.uid,
        token=token,
        status=booking.status,
        start=booking.start_at,
        end=booking.end_at,
        invitee_name=booking.invitee_name,
        invitee_email=booking.invitee_email,
        invitee_timezone=booking.invitee_timezone,
        host=_host(host),
        event_type=public_type,
        location_kind=event_type.location_kind if event_type else 'none',
        location_value=booking.meeting_url or (event_type.location_value if event_type else ''),
        cancel_reason=booking.cancel_reason,
        reschedulable=booking.status in HOLDING and event_type is not None and event_type.active,
        sequence=booking.sequence,
        clock24=_clock24(booking, host),
        proposal=bookings.pending_proposal(booking, now or datetime.now(timezone.utc)),
        host_email=host.email,
        confirmation_message=event_type.confirmation_message if event_type else '',
        locale=booking.locale,
    )


def _clock24(booking: Booking, host: Host) -> bool:
    """The clock the invitee booked with; older bookings follow the host's."""
    return booking.clock24 if booking.clock24 is not None else host.clock24


def _host(host: Host) -> PublicHost:
    assert host.id is not None
    return PublicHost(
        id=host.id,
        username=host.username,
        name=host.name,
        intro=host.intro,
        timezone=host.timezone,
        brand_color=host.brand_color,
        has_avatar=host.avatar is not None,
        clock24=host.clock24 if host.clock_chosen else None,
    )


def _event_type(event_type: EventType, video: str) -> PublicEventType:
    assert event_type.id is not None
    return PublicEventType(
        id=event_type.id,
        slug=event_type.slug,
        title=event_type.title,
        description=event_type.description,
        duration_minutes=event_type.duration_minutes,
        location_kind=event_type.location_kind,
        questions=tuple(event_type.questions),
        video=video,
        durations=tuple(event_types.durations(event_type)),
        seats=event_type.seats,
        requires_confirmation=event_type.requires_confirmation,
    )
