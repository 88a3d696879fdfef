"""ICS feed subscriptions (iCloud, Fastmail, Proton, Nextcloud): read-only busy times from a secret URL, with
recurring events expanded (RRULE, RDATE, EXDATE, overridden instances) and all-day events in the host's zone."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import icalendar
import recurring_ical_events

from app.errors import InvalidInput
from services import outbound
from services.calendars.errors import ProviderError
from services.outbound import Target
from services.slots import Busy

MAX_BYTES = 5_000_000
MAX_REDIRECTS = 3


def check_url(url: str, *, allow_private: bool) -> str:
    """An https URL whose host is a public address (private and loopback only when the operator allows them)."""
    return resolve(url, allow_private=allow_private).url


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check a feed URL (webcal:// read as https://) and resolve its host once (see `services.outbound`)."""
    url = url.strip()
    if url.startswith('webcal://'):
        url = 'https://' + url[len('webcal://') :]
    return outbound.resolve(url, allow_private=allow_private, noun='calendar feed', plural='Calendar feeds')


def fetch_busy(
    url: str, start: datetime, end: datetime, *, zone: str, allow_private: bool, timeout: float
) -> list[Busy]:
    """The busy times of a feed in [start, end): starts and ends only. Each hop is resolved once, checked and
    connected to at exactly the addresses checked (the next when one cannot be reached); redirects are followed by
    hand and checked the same way; the whole download has one deadline."""
    deadline = clock.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = resolve(url, allow_private=allow_private)  # again at every fetch and hop: DNS can change
        except InvalidInput as exc:
            raise ProviderError(exc.detail) from None
        try:
            with httpx.Client(
                timeout=timeout, follow_redirects=False, trust_env=False, verify=outbound.tls_context()
            ) as client:
                location, data = outbound.first_reached(target, lambda at: _get(client, at, deadline))
        except httpx.HTTPError:
            raise ProviderError('the feed could not be read') from None
        if location:
            url = str(httpx.URL(target.url).join(location))
            continue
        return busy_from_ics(data, start, end, zone=zone)
    raise ProviderError('the feed redirects too often')


def _get(client: httpx.Client, target: Target, deadline: float) -> tuple[str, bytes]:
    """One hop: where it redirects to (and nothing), or '' and the feed's bytes."""
    with client.stream(
        'GET', target.direct_url, headers={'Host': target.host_header}, extensions={'sni_hostname': target.host}
    ) as response:
        if response.is_redirect and response.headers.get('location'):
            return response.headers['location'], b''
        if response.status_code != 200:
            raise ProviderError(f'the feed answered {response.status_code}')
        data = b''
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > MAX_BYTES:
                raise ProviderError('the feed is larger than 5 MB')
            if clock.monotonic() > deadline:
                raise ProviderError('the feed took too long to download')
        return '', data


def busy_from_ics(data: bytes, start: datetime, end: datetime, *, zone: str) -> list[Busy]:
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception:  # noqa: BLE001 - whatever a feed contains, it is reported, never a crash
        raise ProviderError('the feed is not a valid calendar') from None
    tz, busy = ZoneInfo(zone), []
    for event in events:
        if str(event.get('TRANSP', 'OPAQUE')).upper() == 'TRANSPARENT':
            continue
        if str(event.get('STATUS', '')).upper() == 'CANCELLED':
            continue
        first = _instant(event.decoded('DTSTART'), tz)
        last = _instant(event.decoded('DTEND'), tz) if event.get('DTEND') else first + _duration(event)
        if last > first:
            busy.append(Busy(first, last))
    return sorted(busy, key=lambda b: (b.start, b.end))


def _duration(event: icalendar.Event) -> timedelta:
    if event.get('DURATION'):
        return event.decoded('DURATION')
    return timedelta(days=1) if not isinstance(event.decoded('DTSTART'), datetime) else timedelta(0)


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """All-day dates are whole days in the host's zone; floating times are read in the host's zone too."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=tz).astimezone(timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=tz).astimezone(timezone.utc)
    return value.astimezone(timezone.utc)
