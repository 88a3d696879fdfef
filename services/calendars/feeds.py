"""ICS feed subscriptions (iCloud, Fastmail, Proton, Nextcloud): read-only busy times from a secret URL, with
recurring events expanded (RRULE, RDATE, EXDATE, overridden instances) and all-day events in the host's zone."""
from __future__ import annotations

import ipaddress
import socket
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx
import icalendar
import idna
import recurring_ical_events

from app.errors import InvalidInput
from services.calendars.errors import ProviderError
from services.slots import Busy

MAX_BYTES = 5_000_000
MAX_REDIRECTS = 3
# IPv6 forms that carry an IPv4 address: NAT64 (well-known and local-use prefixes) and IPv4-translated; mapped
# (::ffff:0:0/96), 6to4 (2002::/16) and Teredo are read by the ipaddress module itself.
NAT64 = (ipaddress.ip_network('64:ff9b::/96'), ipaddress.ip_network('64:ff9b:1::/48'),
         ipaddress.ip_network('::ffff:0:0:0/96'))
IPV4_COMPATIBLE = ipaddress.ip_network('::/96')  # deprecated '::a.b.c.d', which some stacks still route as IPv4


@dataclass(frozen=True, slots=True)
class Target:
    """A feed URL resolved once: `url` names the host in ASCII (IDNA), `address` is the one address it was checked
    at, and the download connects to exactly that address (no second lookup that could answer differently)."""

    url: str
    host: str
    port: int
    address: str

    @property
    def direct_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parsed = urlparse(self.url)
        literal = f'[{self.address}]' if ':' in self.address else self.address
        return parsed._replace(netloc=f'{literal}:{self.port}').geturl()

    @property
    def host_header(self) -> str:
        default = 443 if self.url.startswith('https:') else 80
        return self.host if self.port == default else f'{self.host}:{self.port}'


def check_url(url: str, *, allow_private: bool) -> str:
    """An https URL whose host is a public address (private and loopback only when the operator allows them)."""
    return resolve(url, allow_private=allow_private).url


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check a feed URL and resolve its host once; every address it has must be public unless private ones are
    allowed."""
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
    host, port = _ascii_host(parsed.hostname), port or (443 if parsed.scheme == 'https' else 80)
    addresses = _addresses(host, port)
    if not allow_private and not all(_public(ipaddress.ip_address(a)) for a in addresses):
        raise InvalidInput('Calendar feeds on private or local network addresses are not allowed')
    netloc = f'[{host}]' if ':' in host else host
    userinfo = parsed.netloc.rpartition('@')[0]
    netloc = (f'{userinfo}@' if userinfo else '') + netloc + (f':{parsed.port}' if parsed.port else '')
    return Target(url=parsed._replace(netloc=netloc).geturl(), host=host, port=port, address=addresses[0])


def fetch_busy(url: str, start: datetime, end: datetime, *, zone: str, allow_private: bool,
               timeout: float) -> list[Busy]:
    """The busy times of a feed in [start, end): starts and ends only. Each hop is resolved once, checked and
    connected to at exactly that address; redirects are followed by hand and checked the same way; the whole download
    has one deadline."""
    deadline = clock.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = resolve(url, allow_private=allow_private)  # again at every fetch and hop: DNS can change
        except InvalidInput as exc:
            raise ProviderError(exc.detail) from None
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client, \
                    client.stream('GET', target.direct_url, headers={'Host': target.host_header},
                                  extensions={'sni_hostname': target.host}) as response:
                if response.is_redirect and response.headers.get('location'):
                    url = str(httpx.URL(target.url).join(response.headers['location']))
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


def _ascii_host(hostname: str) -> str:
    """The host as DNS and TLS see it: an IP literal as it is, a name in IDNA (UTS 46) ASCII, so that the name
    checked is the name fetched."""
    try:
        return str(ipaddress.ip_address(hostname.split('%')[0]))
    except ValueError:
        pass
    try:
        return idna.encode(hostname.rstrip('.'), uts46=True).decode('ascii')
    except idna.IDNAError:
        raise InvalidInput('This calendar feed address has a host name that cannot be used') from None


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidInput(f'The address {host} cannot be found') from None
    found = list(dict.fromkeys(str(info[4][0]).split('%')[0] for info in infos))
    if not found:
        raise InvalidInput(f'The address {host} cannot be found')
    return found


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address, also when an IPv6 form carries an IPv4 one (mapped, NAT64, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in IPV4_COMPATIBLE:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _public(embedded):
            return False
    return ip.is_global and not ip.is_multicast


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
