"""Calendar feed URLs: the host name is checked and fetched in one spelling (IDNA), resolved once, and fetched from
exactly the address that was checked; IPv6 forms that carry a private IPv4 address are refused; a download is
bounded in size and time."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from app.errors import InvalidInput
from services.calendars import feeds
from tests.fakes import google_calendar
from tests.fakes.http import start

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
real_getaddrinfo = socket.getaddrinfo


class Resolver:
    """A DNS stand-in: names map to a list of answers, one per lookup (the last one repeats), like a rebinding
    attacker's server; an answer of several addresses separates them with commas. Numeric addresses resolve as they
    are. `asked` records every name looked up."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers, self.asked = answers, []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        self.asked.append(name)
        queue = self.answers[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (
                socket.AF_INET6 if ':' in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                '',
                (address, int(port or 0)),
            )
            for address in answer.split(',')
        ]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Resolver]:
    resolver = Resolver({})
    monkeypatch.setattr(socket, 'getaddrinfo', resolver)
    yield resolver


@pytest.mark.parametrize(
    'address',
    [
        '::127.0.0.1',
        '::10.0.0.1',
        '::8.8.8.8',  # IPv4-compatible ('[::127.0.0.1]'), deprecated
        '::ffff:127.0.0.1',
        '::ffff:169.254.169.254',  # IPv4-mapped
        '64:ff9b::7f00:1',
        '64:ff9b::a9fe:a9fe',
        '64:ff9b:1::a00:1',  # NAT64, well-known and local-use prefixes
        '2002:7f00:1::808:808',
        '2002:a00:1::1',  # 6to4 carrying 127.0.0.1 and 10.0.0.1
        '::ffff:0:7f00:1',  # IPv4-translated
        '100.64.0.1',
        '0.0.0.0',
        'fe80::1',
        'fc00::1',
        'ff02::1',
    ],
)
def test_private_addresses_in_any_ipv6_spelling_are_refused(address: str, dns: Resolver) -> None:
    literal = f'[{address}]' if ':' in address else address
    with pytest.raises(InvalidInput, match='private or local'):
        feeds.check_url(f'https://{literal}/feed.ics', allow_private=False)
    dns.answers['calendar.example'] = [address]
    with pytest.raises(InvalidInput, match='private or local'):
        feeds.check_url('https://calendar.example/feed.ics', allow_private=False)


@pytest.mark.parametrize('address', ['93.184.216.34', '2606:4700::1111', '64:ff9b::5db8:d822', '2002:5db8:d822::1'])
def test_public_addresses_pass_also_through_nat64_and_6to4(address: str, dns: Resolver) -> None:
    dns.answers['calendar.example'] = [address]
    assert feeds.check_url('https://calendar.example/feed.ics', allow_private=False)


def test_a_name_with_any_private_address_among_its_answers_is_refused(
    dns: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def two_answers(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, '', ('93.184.216.34', 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, '', ('10.0.0.8', 443)),
        ]

    monkeypatch.setattr(socket, 'getaddrinfo', two_answers)
    with pytest.raises(InvalidInput, match='private or local'):
        feeds.check_url('https://calendar.example/feed.ics', allow_private=False)


def test_a_non_ascii_host_is_checked_and_kept_in_its_one_idna_spelling(dns: Resolver) -> None:
    # IDNA 2003 (Python's own codec) spells faß as fass; IDNA 2008, which HTTP clients use, as xn--fa-hia
    dns.answers['fass.example'] = ['93.184.216.34']
    dns.answers['xn--fa-hia.example'] = ['127.0.0.1']
    with pytest.raises(InvalidInput, match='private or local'):
        feeds.check_url('https://faß.example/feed.ics', allow_private=False)
    assert dns.asked == ['xn--fa-hia.example']
    dns.answers['xn--bcher-kva.example'] = ['93.184.216.34']
    assert (
        feeds.check_url('https://Bücher.example/feed.ics', allow_private=False)
        == 'https://xn--bcher-kva.example/feed.ics'
    )


def test_a_fullwidth_spelling_of_localhost_is_refused(dns: Resolver) -> None:
    with pytest.raises(InvalidInput, match='private or local'):
        feeds.check_url('https://ｌｏｃａｌｈｏｓｔ/feed.ics', allow_private=False)


@pytest.mark.parametrize(
    'answers',
    [
        # rebinding: the first answer is the feed server, every later one a loopback address nothing listens on
        pytest.param(['127.0.0.1', '127.0.0.3'], id='rebinding'),
        # the first address refuses (nothing listens on 127.0.0.3): the next checked address of the same lookup
        pytest.param(['127.0.0.3,127.0.0.1'], id='first-refuses'),
    ],
)
def test_the_feed_is_fetched_from_exactly_the_addresses_that_were_checked(dns: Resolver, answers: list[str]) -> None:
    state, server = google_calendar.serve_ics()
    try:
        state['body'] = b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'
        port = int(state['url'].rsplit(':', 1)[1].split('/')[0])
        dns.answers['calendar.test'] = list(answers)
        found = feeds.fetch_busy(
            f'http://calendar.test:{port}/feed.ics',
            NOW,
            NOW + timedelta(days=1),
            zone='UTC',
            allow_private=True,
            timeout=5,
        )
    finally:
        server.shutdown()
    assert found == [] and state['requests'] == 1
    assert dns.asked == ['calendar.test']


class Trickle(BaseHTTPRequestHandler):
    """A feed that sends a line every 0.2 s for ever (well within any read timeout, never done)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header('Content-Type', 'text/calendar')
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b'X-FILLER:' + b'x' * 60 + b'\r\n')
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


def test_a_feed_larger_than_5_mb_is_refused_not_read_whole() -> None:
    state, server = google_calendar.serve_ics()
    try:
        state['body'] = b'BEGIN:VCALENDAR\r\n' + b'X-FILLER:' + b'x' * (6 * 1024 * 1024) + b'\r\nEND:VCALENDAR\r\n'
        with pytest.raises(feeds.ProviderError, match='larger than 5 MB'):
            feeds.fetch_busy(state['url'], NOW, NOW + timedelta(days=1), zone='UTC', allow_private=True, timeout=10)
    finally:
        server.shutdown()


def test_a_feed_that_never_finishes_is_given_up_at_one_deadline() -> None:
    server, url = start(Trickle)
    try:
        begun = time.monotonic()
        with pytest.raises(feeds.ProviderError, match='took too long'):
            feeds.fetch_busy(f'{url}/feed.ics', NOW, NOW + timedelta(days=1), zone='UTC', allow_private=True, timeout=1)
        assert time.monotonic() - begun < 3
    finally:
        server.shutdown()
