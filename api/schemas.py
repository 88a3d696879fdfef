"""The JSON API's bodies: requests (`*Request`, `*Update`), responses (`*Public`) and errors (`Problem`).

Responses describe the services' JSON shapes field for field and forbid anything else, so a key added to a service's
JSON without its model fails the API tests instead of vanishing from the answer."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from app.errors import InvalidInput
from app.models import BookingStatus
from services import hosts, validation
from services.event_types import (
    Buffer,
    Color,
    ConfirmationMessage,
    DailyLimit,
    DaysAhead,
    Description,
    Duration,
    Location,
    LocationKind,
    Minutes,
    PeriodLimit,
    Question,
    QuestionKind,
    ScheduleId,
    Seats,
    SlotInterval,
    Slug,
    Title,
)


def _email(value: str) -> str:
    try:
        return validation.email(value)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 at +23:59, year 9999 at -23:59: no such instant in UTC
        raise ValueError('must be a time between the years 1 and 9999 in UTC') from None


# An aware time, converted to UTC on the way in (so no later arithmetic meets an unrepresentable instant).
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
# A time on the way out: ISO 8601 with its offset, as the services write it.
Time = Annotated[str, Field(json_schema_extra={'format': 'date-time'})]


class Strict(BaseModel):
    model_config = ConfigDict(extra='forbid')


# --- requests ---------------------------------------------------------------------------------------------------


class BookingRequest(Strict):
    start: Instant
    name: Annotated[str, validation.line('Name', 120)]
    email: Annotated[str, AfterValidator(_email)]
    timezone: Annotated[str, Field(max_length=64)]
    notes: Annotated[str, Field(max_length=2000)] = ''
    answers: dict[str, Any] = Field(default_factory=dict, max_length=20)
    duration_minutes: Duration | None = Field(
        default=None, description="One of the event type's duration_options (default: its duration_minutes)"
    )
    locale: Annotated[str, Field(max_length=35)] | None = Field(
        default=None, description="The invitee's language, e.g. 'de' (default: from Accept-Language)"
    )


class EmptyRequest(Strict):
    """No fields: `{}`."""


class CancelRequest(Strict):
    reason: Annotated[str, Field(max_length=1000)] = ''


class TokenCancelRequest(CancelRequest):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class RescheduleRequest(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    start: Instant


class NotificationKindChange(Strict):
    enabled: bool | None = None
    subject: str | None = Field(default=None, max_length=200)
    message: str | None = Field(default=None, max_length=2000)


class NotificationSettingsRequest(Strict):
    kinds: dict[str, NotificationKindChange] | None = None
    reminder_offsets_minutes: list[int] | None = Field(default=None, max_length=5)


class ProposalRequest(Strict):
    start: Instant
    message: Annotated[str, Field(max_length=1000)] = ''


class TokenRequest(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class HostUpdate(Strict):
    """A change to the profile: the fields sent change, a null leaves its field as it is. The profile service
    checks the values (400 for a bad one, like an unknown time zone or a taken username: 409)."""

    model_config = ConfigDict(
        json_schema_extra={'examples': [{'intro': 'Book a call with me', 'embed_origins': ['https://www.example.com']}]}
    )

    name: str | None = None
    intro: str | None = None
    timezone: str | None = None
    embed_origins: Annotated[list[str] | None, BeforeValidator(lambda v: v if v is None else validation.origins(v))] = (
        None  # the sites allowed to iframe the pages
    )
    brand_color: str | None = None
    clock24: bool | None = None
    username: str | None = None

    @model_validator(mode='before')
    @classmethod
    def _profile_fields_only(cls, data: Any) -> Any:
        if isinstance(data, dict):  # an unknown field is the profile's 400, as for every caller of the service
            hosts.known_profile_fields(data)
        return data


class EventTypeUpdate(Strict):
    """A partial change to an event type: only the fields sent change (a null clears a field that may be empty);
    the whole result is then checked again, like a new one."""

    model_config = ConfigDict(json_schema_extra={'examples': [{'active': False}]})

    slug: Slug | None = None
    title: Title | None = None
    description: Description | None = None
    confirmation_message: ConfirmationMessage | None = None
    duration_minutes: Duration | None = None
    slot_interval_minutes: SlotInterval | None = None
    buffer_before_minutes: Buffer | None = None
    buffer_after_minutes: Buffer | None = None
    min_notice_minutes: Minutes | None = None
    max_days_ahead: DaysAhead | None = None
    daily_limit: DailyLimit | None = None
    weekly_limit: PeriodLimit | None = None
    monthly_limit: PeriodLimit | None = None
    seats: Seats | None = None
    requires_confirmation: bool | None = None
    duration_options: list[Duration] | None = Field(default=None, max_length=10)
    location: Location | None = None
    schedule_id: ScheduleId | None = None
    active: bool | None = None
    hidden: bool | None = None
    color: Color | None = None
    questions: list[Question] | None = Field(default=None, max_length=20)


# --- responses --------------------------------------------------------------------------------------------------


class Public(BaseModel):
    model_config = ConfigDict(extra='forbid')


class HostPublic(Public):
    id: int
    email: str
    name: str
    username: str
    timezone: str
    intro: str
    embed_origins: list[str]
    brand_color: str
    clock24: bool
    has_avatar: bool


class EmailKindPublic(Public):
    label: str
    enabled: bool
    subject: str
    message: str
    default_subject: str


class NotificationSettingsPublic(Public):
    kinds: dict[str, EmailKindPublic]
    reminder_offsets_minutes: list[int]
    variables: list[str]


class IntervalPublic(Public):
    start: str = Field(examples=['09:00'])
    end: str = Field(examples=['17:00'])


class OverridePublic(Public):
    date: Annotated[str, Field(json_schema_extra={'format': 'date'})]
    intervals: list[IntervalPublic]


class SchedulePublic(Public):
    id: int
    name: str
    timezone: str
    is_default: bool
    weekly: dict[str, list[IntervalPublic]]
    overrides: list[OverridePublic]


class LocationPublic(Public):
    kind: LocationKind
    value: str


class QuestionPublic(Public):
    id: str
    label: str
    kind: QuestionKind
    required: bool
    options: list[str]


class EventTypePublic(Public):
    id: int
    slug: str
    title: str
    description: str
    confirmation_message: str
    duration_minutes: int
    slot_interval_minutes: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    max_days_ahead: int
    daily_limit: int | None
    weekly_limit: int | None
    monthly_limit: int | None
    seats: int
    requires_confirmation: bool
    duration_options: list[int]
    location: LocationPublic
    schedule_id: int | None
    active: bool
    hidden: bool
    color: str
    questions: list[QuestionPublic]


class LocationKindPublic(Public):
    kind: LocationKind


class OfferedEventTypePublic(Public):
    """An event type as an invitee sees it before booking: the place's kind only."""

    slug: str
    title: str
    description: str
    duration_minutes: int
    duration_options: list[int]
    seats: int
    requires_confirmation: bool
    questions: list[QuestionPublic]
    location: LocationKindPublic


class SlotPublic(Public):
    start: Time
    end: Time
    seats_left: int | None = Field(
        default=None, description='Seats still free at this start (event types with more than one seat only)'
    )


class SlotsPublic(Public):
    timezone: str
    slots: list[SlotPublic]
    notice: str | None = Field(
        default=None,
        description="Present when some of the host's calendars could not be checked: their times are left out",
    )


class ProposalPublic(Public):
    start: Time
    end: Time
    message: str
    expires_at: Time


class InviteeBookingPublic(Public):
    """A booking as its invitee sees it, times in their zone."""

    uid: str
    start: Time
    end: Time
    status: BookingStatus
    manage_url: str
    proposal: ProposalPublic | None


class InviteePublic(Public):
    name: str
    email: str
    timezone: str


class BookingPublic(Public):
    """A booking as its host sees it."""

    uid: str
    event_type_id: int | None
    start: Time
    end: Time
    status: BookingStatus
    invitee: InviteePublic
    notes: str
    answers: dict[str, Any]
    cancel_reason: str
    created_at: Time
    proposal: ProposalPublic | None


class DeliveryPublic(Public):
    kind: str
    label: str
    status: Literal['pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled']
    due_at: Time
    sent_at: Time | None
    attempts: int
    error: str


class BookingDetailPublic(BookingPublic):
    """A booking with the delivery status of each of its e-mails and reminders."""

    messages: list[DeliveryPublic]


class ProfileExport(HostPublic):
    created_at: Time
    is_owner: bool


class IdentityExport(Public):
    provider: str
    email: str
    created_at: Time
    has_stored_token: bool


class ApiKeyExport(Public):
    label: str
    prefix: str
    created_at: Time
    revoked: bool


class WebhookPublic(Public):
    """A webhook subscription (never its secret)."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: Time


class CalendarPublic(Public):
    """A connected calendar of any kind; never its token, feed address or password."""

    id: int
    kind: str = Field(description='google | microsoft | ics | caldav')
    label: str = Field(description="The account's address, the feed's name, or 'username at server' for CalDAV")
    status: str = Field(description='ok | error (cannot be read right now) | reconnect_needed')
    status_detail: str
    busy_calendars: list[str] = Field(
        description='The calendars that count as busy (empty: the default, every '
        "CalDAV calendar or the account's main one)"
    )
    target_calendar: str = Field(description="The calendar new bookings are written to ('' = the default)")
    receives_events: bool = Field(description='Whether new bookings are written to this connection')
    created_at: Time


class AccountExport(Public):
    """Everything stored about a host, without secrets."""

    profile: ProfileExport
    notification_settings: dict[str, dict[str, Any]]
    reminder_offsets_minutes: list[int]
    schedules: list[SchedulePublic]
    event_types: list[EventTypePublic]
    bookings: list[BookingPublic]
    sign_in: list[IdentityExport]
    api_keys: list[ApiKeyExport]
    webhooks: list[WebhookPublic]
    calendars: list[CalendarPublic]


# --- errors -----------------------------------------------------------------------------------------------------


class Problem(BaseModel):
    """Every error: a sentence that is safe to show."""

    detail: str


class FieldProblem(BaseModel):
    field: str = Field(description="Where in the request, dotted ('location.kind'); '' for the whole body")
    message: str


class InvalidRequest(Problem):
    errors: list[FieldProblem]


PROBLEMS = {
    400: 'A bad argument, such as an unknown time zone or a malformed date',
    401: 'No valid API key ("Authorization: Bearer <key>") or signed-in session',
    404: 'Not found, or not yours',
    409: 'A conflict: the time is not offered (any more), the slug or username is taken, or the change does not '
    'fit the current state',
    422: 'An invalid request: each bad field with a sentence saying why',
    429: 'Too many attempts; Retry-After says how many seconds to wait',
    503: 'The database is busy; nothing was saved. Retry-After says when to try again',
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries documenting these error statuses with their JSON bodies."""
    return {
        code: {'model': InvalidRequest if code == 422 else Problem, 'description': PROBLEMS[code]} for code in codes
    }
