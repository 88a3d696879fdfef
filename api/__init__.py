"""The JSON API v1, a FastAPI sub-application mounted at /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import OperationalError

from api import calendars, host, public, teams, webhooks
from app.errors import Conflict, DomainError, InvalidInput, Moved, NotAllowed, NotFound, RateLimited, Unavailable
from services import messages
from web import ops

log = logging.getLogger(__name__)
STATUS = {InvalidInput: 400, NotAllowed: 401, NotFound: 404, Conflict: 409, RateLimited: 429, Unavailable: 503}


def create_api() -> FastAPI:
    """Build the API application with its routers and error translation."""
    api = FastAPI(
        title='CloudMeet API',
        version='1.0.0',
        openapi_url='/openapi.json',
        docs_url=None,
        redoc_url=None,
        description='Scheduling API: public booking endpoints and host endpoints (Authorization: Bearer <API key>).',
    )
    # No Swagger UI: it loads from a CDN (and packaged copies predate OpenAPI 3.1); the description itself is here.
    api.get('/docs', include_in_schema=False)(_docs)
    ops.install(api)
    api.include_router(public.router)
    api.include_router(host.router)
    api.include_router(calendars.router)
    api.include_router(teams.router)
    api.include_router(teams.public_router)
    api.include_router(webhooks.router)
    api.add_exception_handler(DomainError, _domain_error)
    api.add_exception_handler(Moved, _moved)
    api.add_exception_handler(RequestValidationError, _invalid_body)
    api.add_exception_handler(ValidationError, _invalid_body)
    api.add_exception_handler(OperationalError, _database_unavailable)
    return api


async def _docs() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)


DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>CloudMeet API</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>CloudMeet API</h1>
<p>The API is described by its OpenAPI 3.1 document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
Open it in any OpenAPI viewer or client generator. Host endpoints take
<code>Authorization: Bearer &lt;API key&gt;</code>;
create a key in Settings.</p></body></html>"""


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {'WWW-Authenticate': 'Bearer'} if status == 401 else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        headers = {'Retry-After': str(max(1, exc.retry_after))}
    return JSONResponse({'detail': exc.detail}, status_code=status, headers=headers)


async def _moved(request: Request, exc: Exception) -> Response:
    """A released username's public URL leads to the host's current one (307: not cached for good, and a booking's
    POST stays a POST)."""
    assert isinstance(exc, Moved)
    old = request.path_params.get('username', '')
    parts = request.url.path.split('/')
    if not old or old not in parts:
        return JSONResponse({'detail': exc.detail}, status_code=404)
    parts[parts.index(old)] = exc.username
    return RedirectResponse(request.url.replace(path='/'.join(parts)), status_code=307)


async def _invalid_body(_request: Request, exc: Exception) -> JSONResponse:
    """Each mistake in the words the pages use (services/messages), at its dotted place in the request."""
    assert isinstance(exc, RequestValidationError | ValidationError)
    errors = [_field_problem(e, from_request=isinstance(exc, RequestValidationError)) for e in exc.errors()]
    summary = '; '.join(f'{e["field"] or "body"}: {e["message"]}' for e in errors)
    return JSONResponse({'detail': f'Invalid request: {summary}', 'errors': errors}, status_code=422)


def _field_problem(error: ErrorDetails, *, from_request: bool) -> dict[str, str]:
    if from_request:  # the request's errors start with where the value came from: body, query, path, header
        error = {**error, 'loc': error['loc'][1:]}
    return {'field': '.'.join(str(part) for part in error['loc']), 'message': messages.sentence(error, {})}


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning('database unavailable: %s', type(exc).__name__)
    return JSONResponse(
        {'detail': 'The service is busy right now; nothing was saved. Please try again.'},
        status_code=503,
        headers={'Retry-After': '2'},
    )
