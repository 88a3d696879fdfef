"""The JSON API v1, a FastAPI sub-application mounted at /api/v1 (OpenAPI at /api/v1/openapi.json)."""
from __future__ import annotations

import logging

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from app.api import host, public
from app.errors import Conflict, DomainError, InvalidInput, Moved, NotAllowed, NotFound, RateLimited, Unavailable

log = logging.getLogger(__name__)
STATUS = {InvalidInput: 400, NotAllowed: 401, NotFound: 404, Conflict: 409, RateLimited: 429, Unavailable: 503}


def create_api() -> FastAPI:
    """Build the API application with its routers and error translation."""
    api = FastAPI(title='CloudMeet API', version='1.0.0', openapi_url='/openapi.json', docs_url=None,
                  redoc_url=None, description='Scheduling API: public booking endpoints and host endpoints '
                                              '(Authorization: Bearer <API key>).')
    # Swagger UI from this server (the package ships its files): no CDN, so it works offline and under our CSP.
    api.mount('/docs-assets', StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name='docs-assets')
    api.get('/docs', include_in_schema=False)(_docs)
    api.include_router(public.router)
    api.include_router(host.router)
    api.add_exception_handler(DomainError, _domain_error)
    api.add_exception_handler(Moved, _moved)
    api.add_exception_handler(RequestValidationError, _invalid_body)
    api.add_exception_handler(ValidationError, _invalid_body)
    api.add_exception_handler(OperationalError, _database_unavailable)
    return api


async def _docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url='/api/v1/openapi.json', title='CloudMeet API',
                               swagger_js_url='/api/v1/docs-assets/swagger-ui-bundle.js',
                               swagger_css_url='/api/v1/docs-assets/swagger-ui.css',
                               swagger_favicon_url='/api/v1/docs-assets/favicon-32x32.png')


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {'WWW-Authenticate': 'Bearer'} if status == 401 else None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        headers = {'Retry-After': str(max(1, exc.retry_after))}
    return JSONResponse({'detail': exc.detail}, status_code=status, headers=headers)


async def _moved(request: Request, exc: Exception) -> Response:
    """A released username's public URL leads to the host's current one (308 keeps a booking's POST a POST)."""
    assert isinstance(exc, Moved)
    old = request.path_params.get('username', '')
    parts = request.url.path.split('/')
    if not old or old not in parts:
        return JSONResponse({'detail': exc.detail}, status_code=404)
    parts[parts.index(old)] = exc.username
    return RedirectResponse(request.url.replace(path='/'.join(parts)), status_code=308)


async def _invalid_body(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    errors = [{'field': '.'.join(str(p) for p in e['loc'] if p != 'body'), 'message': e['msg']} for e in exc.errors()]
    summary = '; '.join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
    return JSONResponse({'detail': f'Invalid request: {summary}', 'errors': errors}, status_code=422)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning('database unavailable: %s', type(exc).__name__)
    return JSONResponse({'detail': 'The service is busy right now; nothing was saved. Please try again.'},
                        status_code=503, headers={'Retry-After': '2'})
