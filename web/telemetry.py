"""Every HTTP request gets an id and is counted: the id (the client's `X-Request-ID` when it is a short safe token,
else a new one) is echoed in the answer and carried by the log lines written meanwhile; the request is counted by
route template, method and status, and timed (pure ASGI, outermost, a few microseconds)."""

from __future__ import annotations

import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import HTTP_REQUESTS, HTTP_SECONDS
from web.logs import REQUEST_ID

SAFE_ID = re.compile(rb'[A-Za-z0-9._:-]{1,64}')
METHODS = frozenset({'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'})
OTHER = 'other'  # requests no route matched (unknown paths, static files): one bucket keeps the label set bounded


class Telemetry:
    def __init__(self, app: ASGIApp, api_prefix: str) -> None:
        self.app, self.api_prefix = app, api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or secrets.token_hex(8)
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message['type'] == 'http.response.start':
                status = message['status']
                message['headers'] = [*message.get('headers', ()), (b'x-request-id', request_id.encode())]
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            route = self.route(scope)
            method = scope['method'] if scope['method'] in METHODS else OTHER
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)

    def route(self, scope: Scope) -> str:
        """The matched route's template (`/api/v1/public/{username}/{slug}/slots`), never the raw path."""
        template = getattr(scope.get('route'), 'path', None)
        if not isinstance(template, str):
            return OTHER
        api = scope['path'].startswith(self.api_prefix + '/') and not template.startswith(self.api_prefix)
        return self.api_prefix + template if api else template


def _incoming_id(scope: Scope) -> str:
    for name, value in scope['headers']:
        if name == b'x-request-id':
            return value.decode() if SAFE_ID.fullmatch(value) else ''
    return ''
