"""Event types: what can be booked, for how long, with which rules and questions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import db, events
from app.errors import Conflict, InvalidInput, Moved, NotFound
from app.models import Booking, EventType, Host, utcnow
from services import schedules, slots, usernames, validation

LocationKind = Literal['google_meet', 'teams', 'phone', 'in_person', 'link', 'none']
QuestionKind = Literal['short_text', 'long_text', 'single_choice', 'checkbox', 'phone']
Minutes = Annotated[int, Field(ge=0, le=7 * 24 * 60)]
# Each field's rules, shared by the whole event type (create) and a partial change (the API's PATCH body).
Slug = Annotated[str, Field(max_length=60)]
Title = Annotated[str, Field(min_length=1, max_length=120)]
Description = Annotated[str, Field(max_length=2000)]
ConfirmationMessage = Annotated[str, Field(max_length=1000)]
Duration = Annotated[int, Field(ge=5, le=12 * 60)]
SlotInterval = Annotated[int, Field(ge=5, le=24 * 60)]
Buffer = Annotated[int, Field(ge=0, le=24 * 60)]
DaysAhead = Annotated[int, Field(ge=1, le=730)]
DailyLimit = Annotated[int, Field(ge=1, le=100)]
PeriodLimit = Annotated[int, Field(ge=1, le=1000)]
Seats = Annotated[int, Field(ge=1, le=1000)]
ScheduleId = Annotated[int, Field(ge=1, le=validation.MAX_ID)]
Color = Annotated[str, Field(max_length=7)]


class Location(BaseModel):
    model_config = ConfigDict(extra='forbid')

    kind: LocationKind = 'none'
    value: Annotated[str, Field(max_length=500), validation.no_controls_field('Location')] = ''


class Question(BaseModel):
    model_config = ConfigDict(extra='forbid')

    id: Annotated[str, Field(pattern=r'^[a-z0-9_-]{1,40}$')]
    label: Annotated[str, Field(min_length=1, max_length=200), validation.line('Question', 200)]
    kind: QuestionKind = 'short_text'
    required: bool = False
    options: list[Annotated[str, Field(max_length=100), validation.no_controls_field('Choice')]] = Field(
        default_factory=list, max_length=20
    )


class EventTypeInput(BaseModel):
    """Every field of an event type; PATCH sends a subset."""

    model_config = ConfigDict(extra='forbid')

    slug: Slug | None = None
    title: Title
    description: Description = ''
    confirmation_message: ConfirmationMessage = ''
    duration_minutes: Duration = 30
    slot_interval_minutes: SlotInterval | None = None
    buffer_before_minutes: Buffer = 0
    buffer_after_minutes: Buffer = 0
    min_notice_minutes: Minutes = 0
    max_days_ahead: DaysAhead = 60
    daily_limit: DailyLimit | None = None
    weekly_limit: PeriodLimit | None = None
    monthly_limit: PeriodLimit | None = None
    seats: Seats = 1
    requires_confirmation: bool = False
    duration_options: list[Duration] = Field(default_factory=list, max_length=10)
    location: Location = Field(default_factory=Location)
    schedule_id: ScheduleId | None = None
    active: bool = True
    hidden: bool = False
    color: Color = ''
    questions: list[Question] = Field(default_factory=list, max_length=20)

    @model_validator(mode='after')
    def _consistent(self) -> EventTypeInput:
        if self.min_notice_minutes > (self.max_days_ahead + 1) * 24 * 60:
            raise ValueError('minimum notice is longer than the booking window')
        if self.duration_options:
            self.duration_options = sorted({*self.duration_options, self.duration_minutes})
        limits = [limit for limit in (self.daily_limit, self.weekly_limit, self.monthly_limit) if limit is not None]
        if limits != sorted(limits):
            raise ValueError('the daily limit cannot exceed the weekly one, nor the weekly one the monthly one')
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError('question ids must be unique')
        for q in self.questions:
            if q.kind == 'single_choice' and not q.options:
                raise ValueError(f"question '{q.id}' needs options")
        return self


def list_event_types(*, session: Session, host_id: int) -> list[EventType]:
    return list(
        session.exec(
            select(EventType)
            .where(EventType.host_id == host_id, col(EventType.team_id).is_(None))
            .order_by(col(EventType.id))
        )
    )  # a team's event types belong to the team


def public_event_types(*, session: Session, host_id: int) -> list[EventType]:
    """Active and not hidden: what a host's public page lists."""
    return [e for e in list_event_types(session=session, host_id=host_id) if e.active and not e.hidden]


def get_event_type(*, session: Session, host_id: int, event_type_id: int) -> EventType:
    event_type = session.get(EventType, event_type_id) if validation.storable_id(event_type_id) else None
    if event_type is None or event_type.host_id != host_id or event_type.team_id is not None:
        raise NotFound('Event type not found')
    return event_type


def bookable_event_type(*, session: Session, username: str, slug: str) -> tuple[Host, EventType]:
    """The host and active event type behind a public booking link (hidden ones included: secret links)."""
    row = session.exec(
        select(Host, EventType)
        .join(EventType, col(EventType.host_id) == Host.id)
        .where(Host.username == username.lower(), EventType.slug == slug.lower(), col(EventType.team_id).is_(None))
    ).first()
    if row is None and (moved := usernames.moved_to(session, username=username, now=utcnow())):
        raise Moved(moved)
    if row is None or not row[1].active:
        raise NotFound('This booking page does not exist')
    return row[0], row[1]


def create_event_type(*, session: Session, host_id: int, data: EventTypeInput) -> EventType:
    event_type = EventType(host_id=host_id, slug='', title='', duration_minutes=data.duration_minutes)
    return _save(session, event_type, data)


def update_event_type(*, session: Session, host_id: int, event_type_id: int, changes: dict[str, Any]) -> EventType:
    """Apply a partial change; the whole result is validated again."""
    event_type = get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
    current = {k: v for k, v in event_type_json(event_type).items() if k != 'id'}
    data = EventTypeInput.model_validate({**current, **changes})
    return _save(session, event_type, data)


def delete_event_type(*, session: Session, host_id: int, event_type_id: int) -> None:
    """Delete; existing bookings stay (their event type becomes empty)."""
    event_type = get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
    for booking in session.exec(select(Booking).where(Booking.event_type_id == event_type.id)):
        booking.event_type_id = None
        session.add(booking)
    session.delete(event_type)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))


def duplicate_event_type(*, session: Session, host_id: int, event_type_id: int) -> EventType:
    """A copy with '(copy)' in the title and a free slug; switched off until the host is happy with it."""
    original = get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
    data = {k: v for k, v in event_type_json(original).items() if k != 'id'}
    taken = {s for s in session.exec(select(EventType.slug).where(EventType.host_id == host_id))}
    n, slug = 1, ''
    while not slug or slug in taken:
        suffix = '-copy' if n == 1 else f'-copy-{n}'
        slug, n = original.slug[: 60 - len(suffix)].rstrip('-') + suffix, n + 1
    title = f'{original.title} (copy)'[:120]
    copy = EventTypeInput.model_validate({**data, 'slug': slug, 'title': title, 'active': False})
    return create_event_type(session=session, host_id=host_id, data=copy)


def event_type_json(event_type: EventType) -> dict[str, Any]:
    """The contract's JSON shape."""
    return {
        'id': event_type.id,
        'slug': event_type.slug,
        'title': event_type.title,
        'description': event_type.description,
        'confirmation_message': event_type.confirmation_message,
        'duration_minutes': event_type.duration_minutes,
        'slot_interval_minutes': event_type.slot_interval_minutes,
        'buffer_before_minutes': event_type.buffer_before_minutes,
        'buffer_after_minutes': event_type.buffer_after_minutes,
        'min_notice_minutes': event_type.min_notice_minutes,
        'max_days_ahead': event_type.max_days_ahead,
        'daily_limit': event_type.daily_limit,
        'weekly_limit': event_type.weekly_limit,
        'monthly_limit': event_type.monthly_limit,
        'seats': event_type.seats,
        'requires_confirmation': event_type.requires_confirmation,
        'duration_options': list(event_type.duration_options),
        'location': {'kind': event_type.location_kind, 'value': event_type.location_value},
        'schedule_id': event_type.schedule_id,
        'active': event_type.active,
        'hidden': event_type.hidden,
        'color': event_type.color,
        'questions': event_type.questions,
    }


def public_event_type_json(event_type: EventType) -> dict[str, Any]:
    """What an invitee may see before booking: no schedule ids, no hidden flags, the location's kind only (the
    address, number or link is for those who booked)."""
    data = event_type_json(event_type)
    keep = (
        'slug',
        'title',
        'description',
        'duration_minutes',
        'duration_options',
        'seats',
        'requires_confirmation',
        'questions',
    )
    return {**{key: data[key] for key in keep}, 'location': {'kind': event_type.location_kind}}


def engine_rules(event_type: EventType, duration: int | None = None) -> slots.EventRules:
    """The slot engine's rules for the event type, for one of its lengths (default: its own)."""
    return slots.EventRules(
        duration=duration or event_type.duration_minutes,
        interval=event_type.slot_interval_minutes,
        buffer_before=event_type.buffer_before_minutes,
        buffer_after=event_type.buffer_after_minutes,
        min_notice=event_type.min_notice_minutes,
        max_days_ahead=event_type.max_days_ahead,
        daily_limit=event_type.daily_limit,
        weekly_limit=event_type.weekly_limit,
        monthly_limit=event_type.monthly_limit,
        seats=event_type.seats,
    )


def durations(event_type: EventType) -> list[int]:
    """The lengths an invitee may choose, the event type's own first among them when it offers no others."""
    return list(event_type.duration_options) or [event_type.duration_minutes]


def chosen_duration(event_type: EventType, minutes: int | None) -> int:
    """The length an invitee asked for: one of the options (a clear 400 otherwise), else the event type's own."""
    if minutes is None:
        return event_type.duration_minutes
    if minutes not in durations(event_type):
        choices = ', '.join(str(m) for m in durations(event_type))
        raise InvalidInput(f'duration must be one of the offered lengths in minutes: {choices}')
    return minutes


def _save(session: Session, event_type: EventType, data: EventTypeInput) -> EventType:
    if data.schedule_id is not None:
        schedules.get_schedule(session=session, host_id=event_type.host_id, schedule_id=data.schedule_id)
    fields = data.model_dump(exclude={'location', 'questions', 'slug'})
    for key, value in fields.items():
        setattr(event_type, key, value)
    event_type.title = validation.single_line(data.title, 'Title', 120)
    event_type.color = validation.hex_color(data.color)
    event_type.slug = validation.slug(data.slug) if data.slug else validation.slugify(data.title)
    event_type.location_kind, event_type.location_value = data.location.kind, data.location.value
    event_type.questions = [q.model_dump() for q in data.questions]
    taken = session.exec(
        select(EventType.id).where(EventType.host_id == event_type.host_id, EventType.slug == event_type.slug)
    ).first()
    if taken is not None and taken != event_type.id:
        raise Conflict(f"You already have an event type with the slug '{event_type.slug}'")
    session.add(event_type)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"You already have an event type with the slug '{event_type.slug}'") from None
    db.after_commit(session, events.SettingsChanged(event_type.host_id))
    return event_type
