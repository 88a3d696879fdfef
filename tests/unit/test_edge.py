"""The edge of the app: bodies over the limit are refused before they are read, and the server's options (forwarded
headers only from configured proxies, timeouts, a connection limit, Secure session cookies behind https)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from web.edge import BodyLimit, server_options, session_cookie_options

LIMIT = 1000


class Reader:
    """An application that reads the whole body, remembering how much it got."""

    def __init__(self) -> None:
        self.read = 0
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        body = await Request(scope, receive).body()
        self.read = len(body)
        await JSONResponse({'read': len(body)})(scope, receive, send)


def call(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """Send a request in chunks; return the status, the body and how many chunks the server pulled."""
    pulled, sent = 0, []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        if pulled > len(chunks):
            return {'type': 'http.disconnect'}
        return {'type': 'http.request', 'body': chunks[pulled - 1], 'more_body': pulled < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {'type': 'http', 'method': 'POST', 'path': '/', 'headers': headers, 'query_string': b''}
    asyncio.run(BodyLimit(app, LIMIT)(scope, receive, send))
    status = next(m['status'] for m in sent if m['type'] == 'http.response.start')
    return status, b''.join(m.get('body', b'') for m in sent if m['type'] == 'http.response.body'), pulled


def test_a_declared_length_over_the_limit_is_a_413_before_anything_is_read() -> None:
    app = Reader()
    status, body, pulled = call(app, [b'x' * 500] * 10, [(b'content-length', b'5000')])
    assert status == 413 and b'larger than 1000 bytes' in body
    assert pulled == 0 and not app.called


def test_a_streamed_body_is_cut_off_at_the_chunk_that_passes_the_limit() -> None:
    app = Reader()
    status, body, pulled = call(app, [b'x' * 400] * 100, [(b'transfer-encoding', b'chunked')])
    assert status == 413 and b'larger than 1000 bytes' in body
    assert pulled == 3 and app.read == 0


def test_a_body_that_lies_about_its_length_is_still_cut_off() -> None:
    status, _, pulled = call(Reader(), [b'x' * 400] * 100, [(b'content-length', b'10')])
    assert status == 413 and pulled == 3


def test_a_body_within_the_limit_is_read_whole() -> None:
    app = Reader()
    status, body, _ = call(app, [b'x' * 500, b'y' * 500], [(b'content-length', b'1000')])
    assert status == 200 and app.read == 1000 and body == b'{"read":1000}'


def test_a_content_length_that_is_not_a_number_is_a_400() -> None:
    for value in (b'lots', b'-1', b'1e9'):
        app = Reader()
        status, _, pulled = call(app, [b'x'], [(b'content-length', value)])
        assert status == 400 and pulled == 0 and not app.called, value
    status, _, _ = call(Reader(), [b'x'], [(b'content-length', b'1'), (b'content-length', b'2000')])
    assert status == 400


def test_forwarded_headers_are_believed_from_nobody_by_default() -> None:
    options = server_options(Settings())
    assert options['proxy_headers'] is False


def test_forwarded_headers_are_believed_only_from_the_configured_proxies() -> None:
    options = server_options(Settings(trusted_proxies=' 10.0.0.5, 10.0.0.6 '))
    assert options['proxy_headers'] is True and options['forwarded_allow_ips'] == '10.0.0.5,10.0.0.6'


def test_slow_and_idle_clients_are_cut_off_and_connections_are_limited() -> None:
    options = server_options(Settings(max_body_bytes=2048))
    assert 0 < options['timeout_keep_alive'] <= 10
    assert options['h11_max_incomplete_event_size'] <= 64 * 1024
    assert 0 < options['limit_concurrency'] <= 10_000
    assert options['ws_max_size'] == 2048


def test_the_session_cookie_is_secure_when_the_public_address_is_https() -> None:
    assert session_cookie_options(Settings(base_url='https://meet.example.com'))['https_only'] is True
    assert session_cookie_options(Settings(base_url='http://localhost:8080'))['https_only'] is False
    assert session_cookie_options(Settings())['same_site'] == 'lax'
