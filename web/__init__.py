"""HTTP plumbing shared by pages and the API: security headers, the body limit, and the API served beside NiceGUI."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import ops
from web.edge import BodyLimit
from web.telemetry import Telemetry

API_PREFIX = '/api/v1'
TOKEN_PATHS = ('/booking/', '/api/v1/public/bookings/')
BOOKING_PAGE = re.compile(r'^/([a-z0-9-]{1,40})/([a-z0-9-]{1,60})$')
EmbedOrigins = Callable[[str], Awaitable[list[str]]]
# As strict as NiceGUI allows: Vue compiles its templates in the browser ('unsafe-eval') and NiceGUI writes its
# page state and styles inline ('unsafe-inline'). No other origin may serve scripts, styles, fonts or connections.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; "
)
HSTS = 'max-age=31536000'


async def _no_origins(_username: str) -> list[str]:
    return []


class SecurityHeaders:
    """nosniff, a content security policy (no framing by other sites), HSTS behind https, and no referrer leaking
    from token-bearing pages (pure ASGI)."""

    def __init__(self, app: ASGIApp, embed_origins: EmbedOrigins = _no_origins, *, hsts: bool = False) -> None:
        self.app, self.embed_origins, self.hsts = app, embed_origins, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        policy = 'no-referrer' if scope['path'].startswith(TOKEN_PATHS) else 'strict-origin-when-cross-origin'
        ancestors = ' '.join(["'self'", *await self._embedders(scope)])
        is_api = scope['path'] == API_PREFIX or scope['path'].startswith(API_PREFIX + '/')  # its docs load a CDN
        csp = ('' if is_api else PAGE_POLICY) + f'frame-ancestors {ancestors}'

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                headers.setdefault('X-Content-Type-Options', 'nosniff')
                headers.setdefault('Content-Security-Policy', csp)
                headers.setdefault('Referrer-Policy', policy)
                if self.hsts:
                    headers.setdefault('Strict-Transport-Security', HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _embedders(self, scope: Scope) -> list[str]:
        """A booking page asked for with ?embed=1 may be framed by the origins its host allows."""
        match = BOOKING_PAGE.match(scope['path'])
        query = parse_qs(scope.get('query_string', b'').decode(errors='ignore'))
        if not match or query.get('embed') != ['1'] or match.group(1) in ('booking', 'api', 'auth'):
            return []
        return await self.embed_origins(match.group(1))


class ApiBeside:
    """Sends /api/v1 straight to the API application; everything else goes through NiceGUI's own stack.

    API clients carry no browser session, so they skip NiceGUI's session and page-storage middlewares (which
    would otherwise create a user storage for every cookie-less request and cost milliseconds each time).
    """

    def __init__(self, api: ASGIApp, pages: ASGIApp) -> None:
        self.api, self.pages = api, pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get('path', '')
        if scope['type'] == 'http' and path in ops.PATHS:  # the API application serves them at the root too
            await self.api(scope, receive, send)
        elif scope['type'] == 'http' and (path == API_PREFIX or path.startswith(API_PREFIX + '/')):
            # ASGI: `path` keeps the full path and `root_path` names the mount point (Starlette's mounts and
            # static files resolve against both).
            inner = {**scope, 'root_path': scope.get('root_path', '') + API_PREFIX}
            try:
                await self.api(inner, receive, send)
            finally:  # the matched route, for the request metrics outside (web.telemetry)
                if 'route' in inner:
                    scope['route'] = inner['route']
        else:
            await self.pages(scope, receive, send)


def install(
    app: object,
    api: ASGIApp,
    embed_origins: EmbedOrigins = _no_origins,
    *,
    max_body_bytes: int = 1024 * 1024,
    hsts: bool = False,
) -> None:
    """Wrap the NiceGUI application's middleware stack (built on its first request) with the API, the body limit,
    the headers, and the request id and metrics outermost."""

    def build() -> ASGIApp:
        pages = type(app).build_middleware_stack(app)  # type: ignore[attr-defined]
        stack = SecurityHeaders(BodyLimit(ApiBeside(api, pages), max_body_bytes), embed_origins, hsts=hsts)
        return Telemetry(stack, API_PREFIX)

    app.build_middleware_stack = build  # type: ignore[attr-defined]
