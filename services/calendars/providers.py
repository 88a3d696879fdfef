"""Calendar providers behind one Protocol, like the mailers: one adapter per provider (Google, Microsoft 365, ICS
feeds, CalDAV), found by `CalendarConnection.provider`.

Every adapter reads busy times (starts and ends only); the writers also list the account's calendars and create,
move and delete a booking's event under an identity fixed by the booking, so a retried write never makes a second
event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app import crypto
from app.config import Settings
from app.models import CalendarConnection
from services.calendars import caldav, feeds, google, microsoft, tokens
from services.calendars.errors import ProviderError
from services.slots import Busy


@dataclass(frozen=True, slots=True)
class Connection:
    """What a provider needs of a connection, read from the database once (the secret decrypted only in memory)."""

    id: int
    host_id: int
    provider: str
    label: str
    secret: str
    calendars: tuple[str, ...]  # those that count as busy (none: the account's default)
    zone: str = 'UTC'  # the host's, for all-day and floating times in feeds
    target: str = ''  # the calendar that receives new bookings ('' = the account's default)

    @classmethod
    def of(cls, row: CalendarConnection, *, zone: str = 'UTC') -> Connection:
        return cls(
            row.id or 0,
            row.host_id,
            row.provider,
            row.label,
            crypto.decrypt(row.secret_encrypted),
            tuple(row.busy_calendars),
            zone,
            row.target_calendar or '',
        )


@dataclass(frozen=True, slots=True)
class Event:
    """A booking's event, the same for every provider."""

    uid: str  # the booking's uid: the event's fixed identity
    event_id: str  # the provider's id once written, '' before
    title: str
    description: str
    start: datetime
    end: datetime
    invitee: tuple[str, str]  # (e-mail, name)
    others: tuple[tuple[str, str], ...] = ()  # more attendees: the other members of a collective team booking
    location: str = ''
    video: bool = False  # ask the provider for its video link (Meet, Teams)
    sequence: int = 0  # raised on every move (CalDAV's SEQUENCE)


@dataclass(frozen=True, slots=True)
class Written:
    event_id: str
    video_url: str = ''
    pending: bool = False  # the provider is still making the video link: ask again shortly


class CalendarProvider(Protocol):
    key: str  # as stored in `CalendarConnection.provider`
    name: str  # as the host reads it
    writes: bool  # can receive bookings (and has calendars to choose from)
    video_kind: str  # the location kind whose link it makes ('' for none)

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        """The busy times in [start, end) of the calendars that count; raises ProviderError."""

    def calendars(self, connection: Connection) -> list[dict[str, str]]:
        """The account's calendars (`id`, `name`) to choose from; none for a single feed."""

    def write_event(self, connection: Connection, event: Event) -> Written:
        """Create the event (or update it when `event.event_id` is set)."""

    def delete_event(self, connection: Connection, *, uid: str, event_id: str) -> None:
        """Delete the booking's event; one that is already gone is fine."""


class _Adapter:
    """What the adapters share: the settings, and a read-only default."""

    key = ''
    name = ''
    writes = False
    video_kind = ''

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        raise NotImplementedError

    def calendars(self, connection: Connection) -> list[dict[str, str]]:
        return []

    def write_event(self, connection: Connection, event: Event) -> Written:
        raise ProviderError(f'{self.name} cannot receive bookings')

    def delete_event(self, connection: Connection, *, uid: str, event_id: str) -> None:
        raise ProviderError(f'{self.name} cannot receive bookings')


class GoogleCalendar(_Adapter):
    """Google Calendar: freeBusy over the chosen calendars; events with a Meet link, their id derived from the uid."""

    key, name, writes, video_kind = 'google', 'Google Calendar', True, 'google_meet'

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        return google.fetch_busy(connection.secret, list(connection.calendars), start, end, self.settings)

    def calendars(self, connection: Connection) -> list[dict[str, str]]:
        return google.list_calendars(connection.secret, self.settings)

    def write_event(self, connection: Connection, event: Event) -> Written:
        calendar_id = connection.target or 'primary'
        body = google.event_body(
            event.title, event.description, event.start, event.end, event.invitee, event.location, others=event.others
        )
        if event.event_id:
            link = google.update_event(connection.secret, calendar_id, event.event_id, body, self.settings)
            event_id = event.event_id
        else:
            event_id, link = google.create_event(
                connection.secret,
                calendar_id,
                google.event_id_for(event.uid),
                body,
                meet=event.video,
                request_id=event.uid,
                settings=self.settings,
            )
        return Written(event_id, link, pending=event.video and not link)

    def delete_event(self, connection: Connection, *, uid: str, event_id: str) -> None:
        # Without a stored id the event may still exist (a creation that raced this cancellation): its id is fixed.
        google.delete_event(
            connection.secret, connection.target or 'primary', event_id or google.event_id_for(uid), self.settings
        )


class MicrosoftCalendar(_Adapter):
    """Microsoft 365 / Outlook: calendarView over the chosen calendars; events with a Teams link, the uid as their
    transactionId."""

    key, name, writes, video_kind = 'microsoft', 'Microsoft 365', True, 'teams'

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        return microsoft.fetch_busy(self._token(connection), start, end, self.settings, connection.calendars)

    def calendars(self, connection: Connection) -> list[dict[str, str]]:
        return microsoft.list_calendars(self._token(connection), self.settings)

    def write_event(self, connection: Connection, event: Event) -> Written:
        token = self._token(connection)
        body = microsoft.event_body(
            event.title, event.description, event.start, event.end, event.invitee, event.location, others=event.others
        )
        if event.event_id:
            return Written(event.event_id, microsoft.update_event(token, event.event_id, body, self.settings))
        event_id, link = microsoft.create_event(
            token,
            body,
            teams=event.video,
            transaction_id=event.uid,
            settings=self.settings,
            calendar_id=connection.target,
        )
        return Written(event_id, link)

    def delete_event(self, connection: Connection, *, uid: str, event_id: str) -> None:
        token = self._token(connection)  # asked first, as a write is: a refused grant is reported either way
        if event_id:
            microsoft.delete_event(token, event_id, self.settings)

    def _token(self, connection: Connection) -> str:
        return tokens.microsoft_token(connection.id, connection.secret, self.settings)


class FeedCalendar(_Adapter):
    """An ICS feed (iCloud, Fastmail, Proton, Nextcloud): read-only busy times from its secret address."""

    key, name = 'ics', 'calendar feed'

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        return feeds.fetch_busy(
            connection.secret,
            start,
            end,
            zone=connection.zone,
            allow_private=self.settings.allow_private_calendar_urls,
            timeout=self.settings.calendar_timeout_seconds,
        )


class CalDavCalendar(_Adapter):
    """A CalDAV account (iCloud, Fastmail, Nextcloud, ...): busy times by time-range REPORT over the chosen calendars
    (all of them until the host chooses); the booking's event PUT at an address fixed by its uid."""

    key, name, writes = 'caldav', 'CalDAV calendar', True

    def busy(self, connection: Connection, start: datetime, end: datetime) -> list[Busy]:
        return caldav.fetch_busy(
            caldav.Account.of(connection.secret),
            connection.calendars,
            start,
            end,
            zone=connection.zone,
            settings=self.settings,
        )

    def calendars(self, connection: Connection) -> list[dict[str, str]]:
        return caldav.list_calendars(caldav.Account.of(connection.secret), self.settings)

    def write_event(self, connection: Connection, event: Event) -> Written:
        ical = caldav.event_ics(
            uid=event.uid,
            title=event.title,
            description=event.description,
            start=event.start,
            end=event.end,
            invitee=event.invitee,
            location=event.location,
            sequence=event.sequence,
            others=event.others,
        )
        return Written(
            caldav.put_event(
                caldav.Account.of(connection.secret),
                self.settings,
                target=connection.target,
                href=event.event_id,
                uid=event.uid,
                ical=ical,
            )
        )

    def delete_event(self, connection: Connection, *, uid: str, event_id: str) -> None:
        caldav.delete_event(
            caldav.Account.of(connection.secret), self.settings, target=connection.target, href=event_id, uid=uid
        )


ADAPTERS: tuple[type[_Adapter], ...] = (GoogleCalendar, MicrosoftCalendar, FeedCalendar, CalDavCalendar)
WRITERS = frozenset(adapter.key for adapter in ADAPTERS if adapter.writes)
VIDEO_KINDS = {adapter.key: adapter.video_kind for adapter in ADAPTERS if adapter.video_kind}
_NAMES = {adapter.key: adapter.name for adapter in ADAPTERS}


def registry(settings: Settings) -> dict[str, CalendarProvider]:
    """One adapter per provider, keyed like `CalendarConnection.provider`."""
    return {adapter.key: adapter(settings) for adapter in ADAPTERS}


def provider_for(key: str, settings: Settings) -> CalendarProvider:
    found = registry(settings).get(key)
    if found is None:
        raise ProviderError(f'{key} calendars cannot be read yet')
    return found


def provider_name(key: str) -> str:
    """How the host reads the provider's name in a sentence ('Google Calendar', 'calendar feed')."""
    return _NAMES.get(key, key)
