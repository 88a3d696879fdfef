"""CalDAV accounts (iCloud, Fastmail, Nextcloud, Radicale, any RFC 4791 server) through the `caldav` client.

Busy times come from a time-range REPORT asking the server to expand recurrences; whatever it leaves unexpanded
(servers that ignore the request) is expanded here by the same code as ICS feeds (RRULE, EXDATE, moved instances,
all-day events in the host's zone, transparent and cancelled events ignored), and only starts and ends are kept.
A booking's event is PUT at an address fixed by the booking's uid (its UID), so a retried write replaces the one
event instead of adding a second. Every request goes through the guarded session of `dav_http`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlparse

import caldav
import requests
from caldav.lib import error as dav_error
from icalendar import Calendar, Event, vCalAddress, vText
from lxml import etree

from app.config import Settings
from app.errors import InvalidInput
from services import outbound
from services.calendars import dav_http, feeds
from services.calendars.errors import ProviderError, ReconnectNeeded
from services.slots import Busy

PRODID = '-//CloudMeet//Scheduling//EN'
REFUSED = 'the server refused the username or app password'


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    url: str  # '{host}' stands for the host's own server name
    help: str  # where the app password is made


PRESETS = {
    'icloud': Preset(
        'iCloud',
        'https://caldav.icloud.com',
        'Use your Apple Account e-mail and an app-specific password made at account.apple.com '
        '(Sign-In and Security, App-Specific Passwords).',
    ),
    'fastmail': Preset(
        'Fastmail',
        'https://caldav.fastmail.com/dav/',
        'Use your Fastmail address and an app password made in Settings, Privacy & Security, '
        'Manage app passwords (with calendar access).',
    ),
    'nextcloud': Preset(
        'Nextcloud',
        'https://{host}/remote.php/dav',
        'Use your Nextcloud username and an app password made in Settings, Security, Devices & sessions.',
    ),
    'other': Preset(
        'Other CalDAV server',
        '',
        "Use the server's CalDAV address, your username and a password (an app password where the server offers them).",
    ),
}


@dataclass(frozen=True, slots=True)
class Account:
    """What a CalDAV connection stores, encrypted, as its secret."""

    url: str
    username: str
    password: str

    def secret(self) -> str:
        return json.dumps({'url': self.url, 'username': self.username, 'password': self.password})

    @classmethod
    def of(cls, secret: str) -> Account:
        data = json.loads(secret)
        return cls(str(data['url']), str(data['username']), str(data['password']))

    @property
    def label(self) -> str:
        """How the host recognises it: the username at the server's host name (never the password)."""
        return f'{self.username} at {urlparse(self.url).hostname or self.url}'


def preset_url(preset: str, host: str = '') -> str:
    """The CalDAV address of a preset ('' for other servers); Nextcloud's needs the host's server name."""
    found = PRESETS.get(preset)
    return found.url.replace('{host}', host.strip().strip('/')) if found else ''


def check(account: Account, settings: Settings) -> list[dict[str, str]]:
    """Connect once with these details and list the calendars; a clear InvalidInput when that fails."""
    if not account.username or not account.password:
        raise InvalidInput('Enter the username and the (app) password')
    _resolve(account.url, settings)  # a bad address is named before anything is sent
    try:
        found = list_calendars(account, settings)
    except ReconnectNeeded:
        raise InvalidInput(
            'The CalDAV server refused this username and password (iCloud and Fastmail need an '
            'app password, not your account password)'
        ) from None
    except ProviderError as exc:
        raise InvalidInput(f'Connecting failed: {exc}') from None
    if not found:
        raise InvalidInput('No calendars were found at this CalDAV address')
    return found


def list_calendars(account: Account, settings: Settings) -> list[dict[str, str]]:
    """The account's calendars (`id` is the calendar's URL, `name` its display name)."""
    with _dav(account, settings) as client:
        return [{'id': str(c.url), 'name': c.name or _last_segment(str(c.url))} for c in _calendars(client)]


def fetch_busy(
    account: Account,
    chosen: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    zone: str,
    settings: Settings,
    server_expand: bool = True,
) -> list[Busy]:
    """The busy times in [start, end) of the chosen calendars (every calendar while none is chosen, or when none
    of the chosen exists any more: a guess never frees time). Only starts and ends are kept."""
    busy: list[Busy] = []
    with _dav(account, settings) as client:
        calendars = _calendars(client)
        wanted = [c for c in calendars if str(c.url) in chosen] or calendars
        for calendar in wanted:
            found: list[caldav.CalendarObjectResource] = calendar.search(
                start=start, end=end, event=True, split_expanded=False, expand='server' if server_expand else False
            )
            for item in found:
                busy += _busy_of(_bytes(item.data), start, end, zone)
    return sorted(busy, key=lambda b: (b.start, b.end))


def put_event(account: Account, settings: Settings, *, target: str, href: str, uid: str, ical: bytes) -> str:
    """Create the event (in the target calendar, else the first that takes events) or replace it at `href`;
    its address is returned."""
    with _dav(account, settings) as client:
        if href:
            _put(client, href, ical, create=False)
            return href
        href = _href(_destination(client, target), uid)
        if not _put(client, href, ical, create=True):  # an earlier try made it already: it is ours, replace it
            _put(client, href, ical, create=False)
        return href


def delete_event(account: Account, settings: Settings, *, target: str, href: str, uid: str) -> None:
    """Delete the booking's event; one that is already gone is fine."""
    with _dav(account, settings) as client:
        status = client.delete(href or _href(_destination(client, target), uid)).status
        if status not in (200, 204, 404, 410):
            raise ProviderError(f'the CalDAV server refused to delete the event ({status})')


def event_ics(
    *,
    uid: str,
    title: str,
    description: str,
    start: datetime,
    end: datetime,
    invitee: tuple[str, str],
    location: str,
    sequence: int,
    others: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """One VEVENT whose UID is the booking's, the invitee as attendee. SCHEDULE-AGENT=CLIENT: CloudMeet sends the
    invitation itself, so the server must not send another."""
    cal = Calendar()
    cal.add('prodid', PRODID)
    cal.add('version', '2.0')
    event = Event()
    event.add('uid', uid)
    event.add('dtstamp', datetime.now(timezone.utc))
    event.add('sequence', sequence)
    event.add('dtstart', start.astimezone(timezone.utc))
    event.add('dtend', end.astimezone(timezone.utc))
    event.add('summary', title)
    if description:
        event.add('description', description)
    if location:
        event.add('location', location)
    for email, name in (invitee, *others):  # the other members of a collective team booking too
        attendee = vCalAddress(f'mailto:{email}')
        attendee.params.update(
            {
                'cn': vText(name),
                'role': vText('REQ-PARTICIPANT'),
                'partstat': vText('ACCEPTED'),
                'schedule-agent': vText('CLIENT'),
            }
        )
        event.add('attendee', attendee)
    event.add('status', 'CONFIRMED')
    event.add('transp', 'OPAQUE')
    cal.add_component(event)
    return cal.to_ical()


@contextmanager
def _dav(account: Account, settings: Settings) -> Iterator[caldav.DAVClient]:
    """A client on the guarded session; whatever goes wrong becomes a ProviderError (ReconnectNeeded for a refused
    password) whose message is safe to show."""
    session, adapter = dav_http.session(
        allow_private=settings.allow_private_calendar_urls,
        timeout=settings.calendar_timeout_seconds,
        check=lambda url, allow_private: [target.address for target in _resolve(url, settings).each()],
    )
    client = caldav.DAVClient(
        url=account.url,
        username=account.username,
        password=account.password,
        timeout=int(settings.calendar_timeout_seconds) or 1,
    )
    client.session.close()
    client.session = session
    try:
        yield client
    except ProviderError:
        raise
    except dav_error.AuthorizationError:
        if adapter.last_status == 401:
            raise ReconnectNeeded(REFUSED) from None
        raise ProviderError('the server refused access to a calendar') from None
    except InvalidInput as exc:
        raise ProviderError(exc.detail) from None
    except requests.RequestException:
        raise ProviderError('the CalDAV server could not be reached') from None
    except (dav_error.DAVError, etree.LxmlError, ValueError, KeyError, IndexError, NotImplementedError):
        if adapter.last_status >= 400:
            raise ProviderError(f'the CalDAV server answered {adapter.last_status}') from None
        raise ProviderError('this address does not answer like a CalDAV server') from None
    finally:
        session.close()


def _resolve(url: str, settings: Settings) -> outbound.Target:
    return outbound.resolve(
        url, allow_private=settings.allow_private_calendar_urls, noun='CalDAV server', plural='CalDAV servers'
    )


def _calendars(client: caldav.DAVClient) -> list[caldav.Calendar]:
    return list(client.principal().calendars())


def _destination(client: caldav.DAVClient, target: str) -> caldav.Calendar:
    """The calendar chosen for new bookings, else the first one that takes events."""
    calendars = _calendars(client)
    chosen = next((c for c in calendars if str(c.url) == target), None)
    found = chosen or next((c for c in calendars if _takes_events(c)), None)
    if found is None:
        raise ProviderError('the CalDAV account has no calendar that takes events')
    return found


def _takes_events(calendar: caldav.Calendar) -> bool:
    try:
        return 'VEVENT' in calendar.get_supported_components()
    except (dav_error.DAVError, KeyError):  # a server that does not say: assume it does
        return True


def _href(calendar: caldav.Calendar, uid: str) -> str:
    if calendar.url is None:
        raise ProviderError('the CalDAV server named a calendar without an address')
    return str(calendar.url.join(quote(uid, safe='') + '.ics'))


def _put(client: caldav.DAVClient, href: str, ical: bytes, *, create: bool) -> bool:
    """PUT the event; with `create`, only where none is (False when one already is)."""
    headers = {'Content-Type': 'text/calendar; charset=utf-8', **({'If-None-Match': '*'} if create else {})}
    status = client.put(href, ical.decode(), headers).status
    if create and status == 412:
        return False
    if status not in (200, 201, 204):
        raise ProviderError(f'the CalDAV server refused the event ({status})')
    return True


def _busy_of(data: bytes, start: datetime, end: datetime, zone: str) -> list[Busy]:
    """One calendar object's busy times, expanded (again, harmlessly) the way feeds are."""
    try:
        return feeds.busy_from_ics(data, start, end, zone=zone)
    except ProviderError:
        raise ProviderError('an event on the CalDAV server cannot be read') from None


def _bytes(data: str | bytes | None) -> bytes:
    return data.encode() if isinstance(data, str) else data or b''


def _last_segment(url: str) -> str:
    return url.rstrip('/').rsplit('/', 1)[-1] or url
