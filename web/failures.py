"""One answer for every page that fails: a calm 503 while the database is out of reach, else a generic error page
with a reference id. The exception, and any host name or port in it, goes to the log only."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from nicegui import context, ui
from nicegui.client import Client
from nicegui.page import page
from sqlalchemy import exc as sa_exc
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
STATUS_KEY = 'cloudmeet_page_status'
RETRY_AFTER = '5'
OUTAGE_TITLE = 'CloudMeet is temporarily unavailable'
OUTAGE_TEXT = 'Please try again in a moment.'
ERROR_TITLE = 'Something went wrong'


def install(app: Any) -> None:
    """Use these pages for exceptions in page functions and for any other exception on a page request."""
    app.on_page_exception(_page_failed)
    app.add_exception_handler(Exception, _request_failed)  # replaces NiceGUI's page, which shows the exception
    app.add_middleware(PageStatus)


def is_outage(exc: BaseException) -> bool:
    """Whether an exception (or one it came from) says the database cannot be reached or used right now."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)) or (
            isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def render(exc: BaseException) -> int:
    """Log the exception and build its page in the current client; returns the status code."""
    if is_outage(exc):
        log.warning('page unavailable, the database cannot be reached: %s', _one_line(exc))
        with ui.column().classes('w-full items-center gap-2 py-20 text-center'):
            ui.label(OUTAGE_TITLE).classes('text-2xl')
            ui.label(OUTAGE_TEXT).classes('text-lg text-gray-600')
            ui.link('Try again', _here()).classes('text-lg')
        return 503
    reference = secrets.token_hex(4).upper()
    log.error('page failed (reference %s)', reference, exc_info=exc)
    with ui.column().classes('w-full items-center gap-2 py-20 text-center'):
        ui.label(ERROR_TITLE).classes('text-2xl')
        ui.label(f'Please try again. If it keeps happening, mention this reference: {reference}').classes(
            'text-lg text-gray-600'
        )
        ui.link('Back to the start', '/').classes('text-lg')
    return 500


class PageStatus:
    """Gives a failed page the status its error page chose (NiceGUI answers every page exception with 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        state = scope.setdefault('state', {})

        async def send_with_status(message: Message) -> None:
            status = state.get(STATUS_KEY)
            if message['type'] == 'http.response.start' and status and message['status'] == 500:
                headers = list(message.get('headers', []))
                if status == 503:
                    headers.append((b'retry-after', RETRY_AFTER.encode()))
                message = {**message, 'status': status, 'headers': headers}
            await send(message)

        await self.app(scope, receive, send_with_status)


def _page_failed(exc: Exception) -> None:
    status = render(exc)
    request = context.client.request
    if request is not None:  # read by PageStatus on the way out
        request.scope.setdefault('state', {})[STATUS_KEY] = status


async def _request_failed(request: Request, exc: Exception) -> Response:
    """Exceptions that escape a page function or come from elsewhere on a page request."""
    if request.url.path.startswith('/_nicegui') or 'text/html' not in request.headers.get('accept', 'text/html'):
        outage = is_outage(exc)
        if not outage:
            log.error('request failed: %s %s', request.method, request.url.path, exc_info=exc)
        return PlainTextResponse(
            OUTAGE_TEXT if outage else ERROR_TITLE,
            status_code=503 if outage else 500,
            headers={'Retry-After': RETRY_AFTER} if outage else None,
        )
    with Client(page(''), request=request) as client:
        status = render(exc)
    response = client.build_response(request, status)
    if status == 503:
        response.headers['Retry-After'] = RETRY_AFTER
    return response


def _here() -> str:
    request = context.client.request
    return request.url.path if request is not None else '/'


def _one_line(exc: BaseException) -> str:
    return f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'
