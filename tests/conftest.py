"""Shared fixtures: settings isolated in a temporary data dir, and a fresh database per test on SQLite and
PostgreSQL (PostgreSQL tests skip with a reason when no server answers, and fail instead under CI=true)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ['CLOUDMEET_DATA_DIR'] = tempfile.mkdtemp(prefix='cloudmeet-test-')
os.environ.pop('CLOUDMEET_DATABASE_URL', None)

import bootstrap
from app import db

PG_ADMIN_URL = os.environ.get('CLOUDMEET_TEST_POSTGRES_URL', 'postgresql+psycopg://postgres@127.0.0.1:5432/test')
TABLES = (
    'webhook_delivery',
    'webhook_subscription',
    'team_event_member',
    'team_member',
    'team',
    'rate_event',
    'booking_rate_event',
    'released_username',
    'calendar_connection',
    'instance_setting',
    'invitation',
    'login_link',
    'user_session',
    'identity',
    'outbox',
    'booking',
    'event_type',
    'schedule',
    'api_key',
    'host',
)


def postgres_unavailable_reason() -> str | None:
    """None when PostgreSQL answers; else why not (a failure under CI=true)."""
    try:
        engine = sa.create_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, connect_args={'connect_timeout': 3})
        with engine.connect():
            pass
        return None
    except sa.exc.OperationalError as exc:
        reason = f'PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}'
        if os.environ.get('CI') == 'true':
            pytest.fail(reason + ' (required under CI=true)')
        return reason


class PostgresDatabases:
    """Creates throwaway databases on the local server and drops them at the end of the run."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level='AUTOCOMMIT', poolclass=sa.pool.NullPool)
        self.created: list[str] = []

    def create(self) -> str:
        name = f'cloudmeet_test_{uuid.uuid4().hex[:12]}'
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE {name}')
        self.created.append(name)
        return PG_ADMIN_URL.rsplit('/', 1)[0] + f'/{name}'

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


@pytest.fixture(scope='session')
def postgres_databases() -> Iterator[PostgresDatabases]:
    reason = postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope='session')
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp('template') / 'template.sqlite'
    engine = db.create_db_engine(f'sqlite:///{path}')
    db.migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql('PRAGMA wal_checkpoint(TRUNCATE)')
    engine.dispose()
    return path


@pytest.fixture(scope='session')
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    url = postgres_databases.create()
    engine = db.create_db_engine(url)
    db.migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(params=['sqlite', 'postgresql'])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A fresh, migrated database bound as the app's engine; runs each test on SQLite and on PostgreSQL."""
    if request.param == 'sqlite':
        path = tmp_path / 'test.sqlite'
        shutil.copy(request.getfixturevalue('sqlite_template'), path)
        engine = db.create_db_engine(f'sqlite:///{path}')
    else:
        engine = db.create_db_engine(request.getfixturevalue('postgres_url'))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'TRUNCATE {", ".join(TABLES)} RESTART IDENTITY CASCADE')
    db.use_engine(engine)
    stop_listening = bootstrap.listen()  # the in-process listeners the composition root wires up
    yield engine
    stop_listening()
    engine.dispose()
