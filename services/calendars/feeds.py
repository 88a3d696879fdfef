"""ICS feed subscriptions (iCloud, Fastmail, Proton, Nextcloud): read-only busy times from a secret URL, with
recurring events expanded (RRULE, RDATE, EXDATE, overridden instances) and all-day events in the host's zone."""
from __future__ import annotations

import ipaddress
import socket
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx
import icalendar
import recurring_ical_events

from app.errors import InvalidInput
from services.calendars.errors import ProviderError
from services.slots import Busy

MAX_BYTES = 5_000_000
MAX_REDIRECTS = 3
NAT64 = ipaddress.ip_network('64:ff9b::/96')


def check_url(url: str, *, allow_private: bool) -> str:
    """An https URL whose host is a public address (private and loopback only when the operator allows them)."""
    url = url.strip()
    if url.startswith('webcal://'):
        url = 'https://' + url[len('webcal://'):]
    parsed = urlparse(url)
    if parsed.scheme != 'https' and not (allow_private and parsed.scheme == 'http'):
        raise InvalidInput('A calendar feed address must start with https://')
    try:
        port = parsed.port
    except ValueError:
        raise InvalidInput('This is not a calendar feed address') from None
    if not parsed.hostname:
        raise InvalidInput('This is not a calendar feed address')
    if not allow_private and port not in (None, 443):
        raise InvalidInput('A calendar feed address must use the standard https port')
    if not allow_private:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parsed.hostname, parsed.port or 443)}
        except OSError:
            raise InvalidInput(f'The address {parsed.hostname} cannot be found') from None
        for address in addresses:
            ip = ipaddress.ip_address(address.split('%')[0])
            if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip in NAT64 or ip.sixtofour):
                ip = ip.ipv4_mapped or ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if not ip.is_global:
                raise InvalidInput('Calendar feeds on private or local network addresses are not allowed')
    return url


def fetch_busy(url: str, start: datetime, end: datetime, *, zone: str, allow_private: bool,
               timeout: float) -> list[Busy]:
    """The busy times of a feed in [start, end): starts and ends only. Redirects are followed by hand, each target
    checked like the address itself; the whole download has one deadline."""
    deadline = clock.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        try:
            url = check_url(url, allow_private=allow_private)  # again at every fetch and hop: DNS can change
        except InvalidInput as exc:
            raise ProviderError(exc.detail) from None
        try:
            with httpx.stream('GET', url, timeout=timeout, follow_redirects=False) as response:
                if response.is_redirect and response.headers.get('location'):
                    url = str(response.url.join(response.headers['location']))
                    continue
                if response.status_code != 200:
                    raise ProviderError(f'the feed answered {response.status_code}')
                data = b''
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise ProviderError('the feed is larger than 5 MB')
                    if clock.monotonic() > deadline:
                        raise ProviderError('the feed took too long to download')
        except httpx.HTTPError:
            raise ProviderError('the feed could not be read') from None
        return busy_from_ics(data, start, end, zone=zone)
    raise ProviderError('the feed redirects too often')


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
