"""Operations endpoints: `/healthz` (the process answers), `/readyz` (the database is reachable and its schema
current) and `/metrics` (Prometheus's text format, see app/metrics.py). Served by the API application at the root
(no session, no page machinery), so /healthz also measures the stack every API answer goes through
(tests/bench/bench_read_path.py compares against it)."""

from __future__ import annotations

import logging
from functools import lru_cache

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from app import metrics as app_metrics
from app.db import MIGRATIONS, get_engine

log = logging.getLogger(__name__)
PATHS = frozenset({'/healthz', '/readyz', '/metrics'})


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse('ok', headers={'Cache-Control': 'no-store'})


def readyz(_request: Request) -> JSONResponse:
    """200 when the database answers with the schema this code expects; 503 naming what is missing otherwise."""
    try:
        with get_engine().connect() as connection:
            current = connection.execute(sa.text('SELECT version_num FROM alembic_version')).scalar()
    except sa.exc.SQLAlchemyError as exc:
        log.warning('not ready: the database cannot be reached (%s)', type(exc).__name__)
        return JSONResponse({'ready': False, 'detail': 'the database cannot be reached'}, status_code=503)
    if current != _head():
        return JSONResponse(
            {'ready': False, 'detail': f'the database schema is at {current}, not {_head()}'}, status_code=503
        )
    return JSONResponse({'ready': True, 'schema': current}, headers={'Cache-Control': 'no-store'})


def metrics(_request: Request) -> Response:
    """This process's metrics (a plain function: Starlette runs it in a worker thread, as the outbox gauges read the
    database)."""
    return Response(app_metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={'Cache-Control': 'no-store'})


@lru_cache(maxsize=1)
def _head() -> str | None:
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def install(api: Starlette) -> None:
    """Add the endpoints to the API application (they are not part of the documented /api/v1)."""
    api.add_route('/healthz', healthz, include_in_schema=False)
    api.add_route('/readyz', readyz, include_in_schema=False)
    api.add_route('/metrics', metrics, include_in_schema=False)
