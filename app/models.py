"""The stored data. Every timestamp is UTC and comes back time-zone aware (see `app.db.UTCDateTime`)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime

SQLModel.metadata.naming_convention = {
    'ix': 'ix_%(column_0_label)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}


class BookingStatus(StrEnum):
    """A booking's state; stored as its text, so it compares equal to the plain strings of the API."""

    CONFIRMED = 'confirmed'
    PENDING = 'pending'  # awaits the host's confirmation; holds its time until decided
    DECLINED = 'declined'  # the host declined a pending request (or its start passed undecided)
    CANCELLED = 'cancelled'


BOOKING_CONFIRMED, BOOKING_CANCELLED = BookingStatus.CONFIRMED, BookingStatus.CANCELLED
HOLDING = (BookingStatus.CONFIRMED, BookingStatus.PENDING)  # the statuses that hold a booking's time
LONGEST_BOOKING = timedelta(hours=12)  # event types allow at most 12 h, so queries can bound start_at

DEFAULT_REMINDER_OFFSETS = [1440, 60]  # minutes before the meeting


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _utc(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=sa.Column(sa.JSON, nullable=False))


class Host(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={'unique': True})
    username: str = Field(max_length=40, sa_column_kwargs={'unique': True})
    name: str = Field(max_length=120)
    timezone: str = Field(max_length=64)
    intro: str = Field(default='', max_length=500)
    embed_origins: list[str] = _json(list)
    brand_color: str = Field(default='', max_length=7)
    notification_settings: dict[str, dict[str, Any]] = _json(dict)  # kind -> {enabled, subject, message}
    reminder_offsets: list[int] = _json(lambda: list(DEFAULT_REMINDER_OFFSETS))
    is_owner: bool = False  # the instance owner: the first account, who invites the others
    clock24: bool = True  # how the host's pages and e-mails show times
    clock_chosen: bool = False  # the host chose clock24 for their booking pages too (else the browser's language)
    avatar: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    avatar_type: str = Field(default='', max_length=20)
    created_at: datetime = _utc()


class SettingsVersion(SQLModel, table=True):
    """How many times a host's settings changed, counted by the database itself (triggers of migration 0016) and
    only read by the app. No foreign key: a host id's count outlives the host, so it never starts again."""

    __tablename__ = 'settings_version'
    host_id: int = Field(primary_key=True, sa_column_kwargs={'autoincrement': False})
    version: int


class Schedule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    name: str = Field(max_length=80)
    timezone: str = Field(max_length=64)
    is_default: bool = False
    weekly: dict[str, list[dict[str, str]]] = _json(dict)
    overrides: list[dict[str, Any]] = _json(list)


class EventType(SQLModel, table=True):
    __tablename__ = 'event_type'
    __table_args__ = (sa.UniqueConstraint('host_id', 'slug'),)

    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    schedule_id: int | None = Field(default=None, foreign_key='schedule.id', ondelete='SET NULL')
    slug: str = Field(max_length=60)
    title: str = Field(max_length=120)
    description: str = Field(default='', max_length=2000)
    confirmation_message: str = Field(default='', max_length=1000)  # shown to the invitee once booked
    duration_minutes: int
    slot_interval_minutes: int | None = None
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    max_days_ahead: int = 60
    daily_limit: int | None = None
    weekly_limit: int | None = None  # weeks start on Monday in the host's zone
    monthly_limit: int | None = None  # calendar months in the host's zone
    seats: int = 1  # invitees who can book the same start
    requires_confirmation: bool = False  # bookings are pending until the host confirms them
    duration_options: list[int] = _json(list)  # lengths the invitee may choose (with duration_minutes); [] = only it
    location_kind: str = Field(default='none', max_length=20)
    location_value: str = Field(default='', max_length=500)
    active: bool = True
    hidden: bool = False
    color: str = Field(default='', max_length=7)
    questions: list[dict[str, Any]] = _json(list)
    # A team's event type (services/teams.py): `host_id` is then the team's owner (who need not host it).
    team_id: int | None = Field(default=None, foreign_key='team.id', index=True, ondelete='CASCADE')
    assignment: str = Field(default='', max_length=20)  # teams: round_robin | collective


class Booking(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint('host_id', 'idempotency_key'),
        sa.Index('ix_booking_host_time', 'host_id', 'start_at'),
        sa.Index('ix_booking_host_status_start', 'host_id', 'status', 'start_at', 'end_at'),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=40, sa_column_kwargs={'unique': True})
    host_id: int = Field(foreign_key='host.id', ondelete='CASCADE')
    event_type_id: int | None = Field(default=None, foreign_key='event_type.id', index=True, ondelete='SET NULL')
    start_at: datetime = _utc()
    end_at: datetime = _utc()
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    status: BookingStatus = Field(
        default=BookingStatus.CONFIRMED,
        sa_type=sa.Enum(
            BookingStatus, native_enum=False, length=20, values_callable=lambda kinds: [k.value for k in kinds]
        ),
    )
    sequence: int = 0  # the .ics SEQUENCE: raised on every reschedule and on cancellation
    invitee_name: str = Field(max_length=120)
    invitee_email: str = Field(max_length=254)
    invitee_timezone: str = Field(max_length=64)
    clock24: bool | None = None  # the invitee's clock (12/24 h) when booking: their pages and e-mails keep it
    locale: str = Field(default='en', max_length=12)  # the invitee's language: their pages and e-mails keep it
    # Bookings of one seated start share their seat key, so the database lets them overlap; any other booking has
    # its own (random unless set), so no two holding bookings of a host overlap otherwise.
    seat_key: str = Field(default_factory=lambda: secrets.token_urlsafe(12), max_length=80)
    decided_at: datetime | None = _utc(nullable=True)  # when the host confirmed or declined a pending request
    notes: str = Field(default='', max_length=2000)
    answers: dict[str, Any] = _json(dict)
    manage_token_hash: str = Field(max_length=64)
    manage_token_encrypted: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    idempotency_key: str | None = Field(default=None, max_length=200)
    cancel_reason: str = Field(default='', max_length=1000)
    calendar_connection_id: int | None = None  # which connection holds the event (no constraint: it may go)
    calendar_event_id: str = Field(default='', max_length=1024)  # the event in the host's calendar
    meeting_url: str = Field(default='', max_length=500)  # the Meet or Teams link, once the provider made it
    proposed_start_at: datetime | None = _utc(nullable=True)  # a new time the host proposed, until answered
    proposal_message: str = Field(default='', max_length=1000)
    proposal_expires_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    cancelled_at: datetime | None = _utc(nullable=True)
    # Team bookings (services/team_bookings.py): a collective booking's hold of each other member's time points at
    # the booking it belongs to; the assigned member's reason is kept with a round-robin booking.
    parent_id: int | None = Field(default=None, foreign_key='booking.id', index=True, ondelete='CASCADE')
    assignment_reason: str = Field(default='', max_length=300)


class ApiKey(SQLModel, table=True):
    __tablename__ = 'api_key'

    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    label: str = Field(default='', max_length=80)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, sa_column_kwargs={'unique': True})
    created_at: datetime = _utc()
    last_used_at: datetime | None = _utc(nullable=True)
    revoked_at: datetime | None = _utc(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """One e-mail to send, recorded in the transaction of the change that causes it; a worker claims and sends it."""

    __tablename__ = 'outbox'
    __table_args__ = (sa.Index('ix_outbox_status_due', 'status', 'due_at'),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, sa_column_kwargs={'unique': True})  # (booking, kind[, offset], sequence)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    booking_id: int | None = Field(default=None, foreign_key='booking.id', index=True, ondelete='CASCADE')
    kind: str = Field(max_length=30)
    status: str = Field(default='pending', max_length=20)  # pending | sending | sent | failed | skipped | cancelled
    due_at: datetime = _utc()
    context: dict[str, Any] = _json(dict)  # what the message says, as of the change (times, reason, sequence)
    attempts: int = 0
    claimed_by: str = Field(default='', max_length=80)
    claimed_until: datetime | None = _utc(nullable=True)
    sent_at: datetime | None = _utc(nullable=True)
    last_error: str = Field(default='', max_length=500)
    created_at: datetime = _utc()


class Identity(SQLModel, table=True):
    """A way a host signs in: a provider's subject (or, for e-mailed links, the address itself)."""

    __table_args__ = (sa.UniqueConstraint('provider', 'subject'),)

    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    provider: str = Field(max_length=20)  # google | microsoft | oidc | email
    subject: str = Field(max_length=255)
    email: str = Field(default='', max_length=254)
    refresh_token_encrypted: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    access_token_encrypted: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    created_at: datetime = _utc()
    last_used_at: datetime | None = _utc(nullable=True)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its hash is stored. `pending` carries a verified
    identity that has no account yet (between sign-in and onboarding)."""

    __tablename__ = 'user_session'

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={'unique': True})
    host_id: int | None = Field(default=None, foreign_key='host.id', index=True, ondelete='CASCADE')
    pending: dict[str, Any] = _json(dict)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()


class LoginLink(SQLModel, table=True):
    """An e-mailed sign-in link: single use, short-lived, stored hashed."""

    __tablename__ = 'login_link'

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={'unique': True})
    email: str = Field(max_length=254, index=True)
    invitation: str = Field(default='', max_length=64)  # the hash of the invitation it was asked for with
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)


class Invitation(SQLModel, table=True):
    """A sign-up link the instance owner hands out."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={'unique': True})
    created_by: int = Field(foreign_key='host.id', ondelete='CASCADE')
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(nullable=True)


class InstanceSetting(SQLModel, table=True):
    __tablename__ = 'instance_setting'

    key: str = Field(primary_key=True, max_length=60)
    value: Any = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))


class CalendarConnection(SQLModel, table=True):
    """A calendar that decides when a host is busy: a Google account, a Microsoft account or an ICS feed. Only
    what is needed to ask for busy times is kept; the secrets (tokens, the feed's secret URL) are encrypted."""

    __tablename__ = 'calendar_connection'

    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    provider: str = Field(max_length=20)  # google | microsoft | ics
    label: str = Field(default='', max_length=254)  # the account's address, or the feed's name
    status: str = Field(default='ok', max_length=20)  # ok | reconnect_needed | error
    status_detail: str = Field(default='', max_length=300)
    secret_encrypted: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))  # refresh token or URL
    busy_calendars: list[str] = _json(list)
    receives_events: bool = False  # this connection is where new bookings are written...
    target_calendar: str = Field(default='', max_length=300)  # ...in this calendar ('' = the account's default)
    reconnect_notice_sent: bool = False
    created_at: datetime = _utc()


class BookingRateEvent(SQLModel, table=True):
    """One new booking from a client address (an IPv6 client's /64), counted against CLOUDMEET_BOOKING_RATE_LIMIT
    in the database, so that every process shares the count."""

    __tablename__ = 'booking_rate_event'
    __table_args__ = (
        sa.Index('ix_booking_rate_event_client_at', 'client', 'created_at'),
        sa.Index('ix_booking_rate_event_created_at', 'created_at'),
    )

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=64)
    created_at: datetime = _utc()


class ReleasedUsername(SQLModel, table=True):
    """A username its host gave up by renaming: reserved for that host, and its links redirected to their current
    username, for 90 days after `released_at`, so nobody else inherits the old links and their bookings."""

    __tablename__ = 'released_username'

    username: str = Field(primary_key=True, max_length=40)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    released_at: datetime = _utc()


class RateEvent(SQLModel, table=True):
    """One attempt counted against a limit (a wrong manage token, a sign-in link request) in the database, so that
    every process shares the count."""

    __tablename__ = 'rate_event'
    __table_args__ = (
        sa.Index('ix_rate_event_kind_key_at', 'kind', 'key', 'created_at'),
        sa.Index('ix_rate_event_kind_at', 'kind', 'created_at'),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    key: str = Field(max_length=200)
    created_at: datetime = _utc()


class Team(SQLModel, table=True):
    """A group of hosts with shared booking pages under /team/{slug}."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, sa_column_kwargs={'unique': True})
    name: str = Field(max_length=120)
    created_at: datetime = _utc()


class TeamMember(SQLModel, table=True):
    __tablename__ = 'team_member'
    __table_args__ = (sa.UniqueConstraint('team_id', 'host_id'),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key='team.id', index=True, ondelete='CASCADE')
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    role: str = Field(default='member', max_length=20)  # admin | member
    created_at: datetime = _utc()


class TeamEventMember(SQLModel, table=True):
    """A member who hosts a team event type, with the schedule of theirs that applies (None: their default)."""

    __tablename__ = 'team_event_member'
    __table_args__ = (sa.UniqueConstraint('event_type_id', 'host_id'),)

    id: int | None = Field(default=None, primary_key=True)
    event_type_id: int = Field(foreign_key='event_type.id', index=True, ondelete='CASCADE')
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    schedule_id: int | None = Field(default=None, foreign_key='schedule.id', ondelete='SET NULL')


class WebhookSubscription(SQLModel, table=True):
    """A host's endpoint for booking events, signed with its own secret (Standard Webhooks; encrypted at rest)."""

    __tablename__ = 'webhook_subscription'

    id: int | None = Field(default=None, primary_key=True)
    host_id: int = Field(foreign_key='host.id', index=True, ondelete='CASCADE')
    url: str = Field(max_length=2000)
    events: list[str] = _json(list)
    secret_encrypted: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))  # 'whsec_...'
    active: bool = True
    failure_notice_sent: bool = False  # the host was told that deliveries were given up (until one succeeds)
    created_at: datetime = _utc()


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or being sent) to a subscription: the delivery log the host reads. The body itself and its
    retries are an outbox row (kind 'webhook') recorded in the transaction of the change."""

    __tablename__ = 'webhook_delivery'
    __table_args__ = (sa.Index('ix_webhook_delivery_subscription_created', 'subscription_id', 'created_at'),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key='webhook_subscription.id', ondelete='CASCADE')
    event: str = Field(max_length=40)
    webhook_id: str = Field(max_length=64, sa_column_kwargs={'unique': True})  # the same on every retry
    booking_uid: str = Field(default='', max_length=40)
    status: str = Field(default='pending', max_length=20)  # pending | retrying | delivered | failed | cancelled
    attempts: int = 0
    response_code: int | None = None
    duration_ms: int | None = None
    response_body: str = Field(default='', max_length=1024)  # at most 1 kB of what the receiver answered
    error: str = Field(default='', max_length=500)
    created_at: datetime = _utc()
    last_attempt_at: datetime | None = _utc(nullable=True)
    next_attempt_at: datetime | None = _utc(nullable=True)
