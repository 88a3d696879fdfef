"""HTTP concerns shared by every page and endpoint: security headers."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

TOKEN_PAGES = ('/booking/', '/api/v1/public/bookings/')


def install_security_headers(app: FastAPI) -> None:
    """nosniff, no framing by other sites, and no referrer leaking from token-bearing pages."""

    @app.middleware('http')
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault('X-Content-Type-Options', 'nosniff')
        response.headers.setdefault('Content-Security-Policy', "frame-ancestors 'self'")
        token_page = request.url.path.startswith(TOKEN_PAGES)
        policy = 'no-referrer' if token_page else 'strict-origin-when-cross-origin'
        response.headers.setdefault('Referrer-Policy', policy)
        return response
