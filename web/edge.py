"""What the open internet meets first: the request body limit, the client's address, and the server's own limits
(timeouts, connections, forwarded headers). A reverse proxy is expected in front; these hold without one too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.config import Settings

KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this
HEADER_SECONDS = 10  # a connection must complete its request's headers within this, from its start or last answer
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers larger than this are refused (uvicorn's h11 limit)
MAX_CONNECTIONS = 1000  # beyond this many open connections and tasks, new requests get a 503


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `ui.run`: forwarded headers only from configured proxies, timeouts, limits, logging."""
    proxies = ','.join(p.strip() for p in settings.trusted_proxies.split(',') if p.strip())
    return {
        'proxy_headers': bool(proxies),
        'forwarded_allow_ips': proxies,
        'http': HeaderDeadline,
        'timeout_keep_alive': KEEP_ALIVE_SECONDS,
        'h11_max_incomplete_event_size': MAX_HEADER_BYTES,
        'limit_concurrency': MAX_CONNECTIONS,
        'ws_max_size': settings.max_body_bytes,
        # uvicorn's log configuration and NiceGUI's welcome line write text; in json neither is used
        **({'log_config': None, 'show_welcome_message': False} if settings.log_format == 'json' else {}),
    }


class HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request headers: its own idle timer restarts on every byte
    and does not run before the first request, so a client sending a byte now and then would hold a connection
    forever."""

    header_seconds: float = HEADER_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers are complete
            self._disarm()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers have the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and self.transport.get_protocol() is self and not self.transport.is_closing():
            self.transport.close()


def session_cookie_options(settings: Settings) -> dict[str, Any]:
    """NiceGUI's own `session` cookie (sign-in state, nonce, PKCE verifier): Secure behind https, never cross-site."""
    return {'https_only': settings.secure_cookies, 'same_site': 'lax'}


def client_address(connection: HTTPConnection) -> str:
    """The client's address as the server saw it: a configured proxy's X-Forwarded-For is already applied by the
    server (see `server_options`), anyone else's is ignored."""
    return connection.client.host if connection.client else 'unknown'


class BodyTooLarge(BaseException):
    """Unwinds the application like a cancellation once the 413 is sent: a BaseException, so that no handler for
    application errors (FastAPI's body parsing, error pages, logging) mistakes it for one of its own."""

    def __init__(self, limit: int) -> None:
        self.detail = f'The request body is larger than {limit} bytes'
        super().__init__(self.detail)


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413 before they are read: at once by their Content-Length, or
    as soon as the streamed chunks pass the limit (pure ASGI, so it holds for the API, pages and uploads alike)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None or declared > self.max_bytes:
            await _refuse(
                send,
                400 if declared is None else 413,
                'Content-Length is not a number' if declared is None else BodyTooLarge(self.max_bytes).detail,
            )
            return
        received, started, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > self.max_bytes:
                    if not started and not refused:  # answered here and now: whatever the app does next is dropped
                        refused = True
                        await _refuse(send, 413, BodyTooLarge(self.max_bytes).detail)
                    raise BodyTooLarge(self.max_bytes)  # the app stops reading; it never sees a truncated body
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if not refused:
                started = started or message['type'] == 'http.response.start'
                await send(message)

        try:
            await self.app(scope, counted, watched)
        except (BodyTooLarge, BaseExceptionGroup, Exception):
            # Once the 413 is sent, the app unwinds: BodyTooLarge itself, bare or grouped by a middleware's task
            # group, with what those middlewares add ("no response returned"). Anything else is not ours.
            if not refused:
                raise


def _content_length(scope: Scope) -> int | None:
    """The declared length (-1 when none is declared), or None when it is not a number."""
    values = [v for k, v in scope['headers'] if k == b'content-length']
    if not values:
        return -1
    try:
        lengths = {int(v) for v in values}
    except ValueError:
        return None
    return lengths.pop() if len(lengths) == 1 and min(lengths) >= 0 else None


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({'detail': detail}).encode()
    await send(
        {
            'type': 'http.response.start',
            'status': status,
            'headers': [
                (b'content-type', b'application/json'),
                (b'content-length', str(len(body)).encode()),
                (b'connection', b'close'),
            ],
        }
    )
    await send({'type': 'http.response.body', 'body': body})
