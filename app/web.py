"""HTTP plumbing shared by pages and the API: security headers, and the API served beside NiceGUI."""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = '/api/v1'
TOKEN_PATHS = ('/booking/', '/api/v1/public/bookings/')


class SecurityHeaders:
    """nosniff, no framing by other sites, and no referrer leaking from token-bearing pages (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        policy = 'no-referrer' if scope['path'].startswith(TOKEN_PATHS) else 'strict-origin-when-cross-origin'

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                headers.setdefault('X-Content-Type-Options', 'nosniff')
                headers.setdefault('Content-Security-Policy', "frame-ancestors 'self'")
                headers.setdefault('Referrer-Policy', policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiBeside:
    """Sends /api/v1 straight to the API application; everything else goes through NiceGUI's own stack.

    API clients carry no browser session, so they skip NiceGUI's session and page-storage middlewares (which
    would otherwise create a user storage for every cookie-less request and cost milliseconds each time).
    """

    def __init__(self, api: ASGIApp, pages: ASGIApp) -> None:
        self.api, self.pages = api, pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get('path', '')
        if scope['type'] == 'http' and (path == API_PREFIX or path.startswith(API_PREFIX + '/')):
            scope = {**scope, 'root_path': scope.get('root_path', '') + API_PREFIX, 'path': path[len(API_PREFIX):]
                     or '/'}
            await self.api(scope, receive, send)
        else:
            await self.pages(scope, receive, send)


def install(app: object, api: ASGIApp) -> None:
    """Wrap the NiceGUI application's middleware stack (built on its first request) with the API and headers."""
    def build() -> ASGIApp:
        return SecurityHeaders(ApiBeside(api, type(app).build_middleware_stack(app)))  # type: ignore[attr-defined]

    app.build_middleware_stack = build  # type: ignore[attr-defined]
