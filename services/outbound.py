"""Requests to addresses that users type in (calendar feeds, webhook endpoints): the URL is checked and its host
resolved once, every address it has must be public (unless the operator allows private ones), and the request then
connects to exactly the addresses that were checked, so a second DNS answer cannot point it somewhere else. Like a
browser or curl, a request that cannot connect to the first address tries the next one (an IPv6 address first, say,
on a machine without an IPv6 route)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import TypeVar
from urllib.parse import urlparse

import httpx
import idna

from app.errors import InvalidInput

T = TypeVar('T')

# IPv6 forms that carry an IPv4 address: NAT64 (well-known and local-use prefixes) and IPv4-translated; mapped
# (::ffff:0:0/96), 6to4 (2002::/16) and Teredo are read by the ipaddress module itself.
NAT64 = (
    ipaddress.ip_network('64:ff9b::/96'),
    ipaddress.ip_network('64:ff9b:1::/48'),
    ipaddress.ip_network('::ffff:0:0:0/96'),
)
IPV4_COMPATIBLE = ipaddress.ip_network('::/96')  # deprecated '::a.b.c.d', which some stacks still route as IPv4


@dataclass(frozen=True, slots=True)
class Target:
    """A URL resolved once: `url` names the host in ASCII (IDNA), `address` is the first address it was checked at
    (`others` the rest, in the resolver's order), and the request connects to exactly those (no second lookup that
    could answer differently)."""

    url: str
    host: str
    port: int
    address: str
    others: tuple[str, ...] = ()

    def each(self) -> Iterator[Target]:
        """This target at each of its checked addresses in turn."""
        yield self
        for address in self.others:
            yield replace(self, address=address, others=())

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

    def pinned(self) -> dict[str, object]:
        """The httpx request arguments that reach the checked address under the URL's own name (Host, TLS SNI)."""
        return {
            'url': self.direct_url,
            'headers': {'Host': self.host_header},
            'extensions': {'sni_hostname': self.host},
        }


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every outbound request (as httpx would build it, but once: building it loads
    the CA bundle, which costs more than a whole webhook delivery on loopback)."""
    return httpx.create_ssl_context(trust_env=False)


def resolve(url: str, *, allow_private: bool, noun: str, plural: str) -> Target:
    """Check a URL and resolve its host once; every address it has must be public unless private ones are allowed.
    `noun` and `plural` name what the URL is in the errors ('calendar feed', 'Calendar feeds')."""
    try:
        parsed = urlparse(url.strip())
    except ValueError:  # an unclosed IPv6 bracket, say
        raise InvalidInput(f'This is not a {noun} address') from None
    if parsed.scheme != 'https' and not (allow_private and parsed.scheme == 'http'):
        raise InvalidInput(f'A {noun} address must start with https://')
    try:
        port = parsed.port
    except ValueError:
        raise InvalidInput(f'This is not a {noun} address') from None
    if not parsed.hostname:
        raise InvalidInput(f'This is not a {noun} address')
    if not allow_private and port not in (None, 443):
        raise InvalidInput(f'A {noun} address must use the standard https port')
    host, port = _ascii_host(parsed.hostname, noun), port or (443 if parsed.scheme == 'https' else 80)
    addresses = _addresses(host, port)
    if not allow_private and not all(public(ipaddress.ip_address(a)) for a in addresses):
        raise InvalidInput(f'{plural} on private or local network addresses are not allowed')
    netloc = f'[{host}]' if ':' in host else host
    userinfo = parsed.netloc.rpartition('@')[0]
    netloc = (f'{userinfo}@' if userinfo else '') + netloc + (f':{parsed.port}' if parsed.port else '')
    return Target(
        url=parsed._replace(netloc=netloc).geturl(),
        host=host,
        port=port,
        address=addresses[0],
        others=tuple(addresses[1 : 1 + MORE_ADDRESSES]),
    )


MORE_ADDRESSES = 2  # tried after the first one when it cannot be connected to (each may take the connect timeout)


def first_reached(target: Target, send: Callable[[Target], T]) -> T:
    """`send(target)` at its first address; while that cannot connect (refused, unreachable, no answer to connect),
    at its next one. Anything else (an answer, a timeout after connecting) ends it; the last failure is raised."""
    failure: httpx.TransportError | None = None
    for attempt in target.each():
        try:
            return send(attempt)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failure = exc
    assert failure is not None
    raise failure


def public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address, also when an IPv6 form carries an IPv4 one (mapped, NAT64, 6to4, Teredo)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in IPV4_COMPATIBLE:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not public(embedded):
            return False
    return ip.is_global and not ip.is_multicast


def _ascii_host(hostname: str, noun: str) -> str:
    """The host as DNS and TLS see it: an IP literal as it is, a name in IDNA (UTS 46) ASCII, so that the name
    checked is the name fetched."""
    try:
        return str(ipaddress.ip_address(hostname.split('%')[0]))
    except ValueError:
        pass
    try:
        return idna.encode(hostname.rstrip('.'), uts46=True).decode('ascii')
    except idna.IDNAError:
        raise InvalidInput(f'This {noun} address has a host name that cannot be used') from None


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidInput(f'The address {host} cannot be found') from None
    found = list(dict.fromkeys(str(info[4][0]).split('%')[0] for info in infos))
    if not found:
        raise InvalidInput(f'The address {host} cannot be found')
    return found
