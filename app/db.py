"""The one owner of the database: the engine, `session_scope()`, the UTC column type and migrations."""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import bus, events, files

MIGRATIONS = Path(__file__).parent / 'migrations'
MIGRATION_LOCK = 0x436C6F75644D6565  # 'CloudMee': the advisory lock taken while migrating
_engine: Engine | None = None
_immediate = contextvars.ContextVar('sqlite_begin_immediate', default=False)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores UTC and always returns aware UTC datetimes, on SQLite (which drops tzinfo) and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError('naive datetimes are not stored; give a time zone')
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == 'sqlite' else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def create_db_engine(url: str) -> Engine:
    """An engine tuned for the dialect: WAL, busy timeout and immediate write transactions on SQLite."""
    if not url.startswith('sqlite'):
        return sa.create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    _private_sqlite_files(url)
    engine = sa.create_engine(
        url, connect_args={'timeout': 15, 'check_same_thread': False}, pool_size=20, max_overflow=20
    )

    @sa.event.listens_for(engine, 'connect')
    def _pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        for pragma in ('journal_mode=WAL', 'busy_timeout=15000', 'foreign_keys=ON', 'synchronous=NORMAL'):
            cursor.execute(f'PRAGMA {pragma}')
        cursor.close()

    @sa.event.listens_for(engine, 'begin')
    def _begin(connection: sa.Connection) -> None:
        # A write scope takes SQLite's write lock up front, so its re-check and insert are serialised.
        connection.exec_driver_sql('BEGIN IMMEDIATE' if _immediate.get() else 'BEGIN')

    return engine


def _private_sqlite_files(url: str) -> None:
    """The database file is created owner-only before SQLite opens it; its WAL and shared-memory files take their
    mode from it."""
    database = sa.engine.make_url(url).database
    if not database or database == ':memory:' or database.startswith('file:'):
        return
    path = Path(database)
    files.private_file(path)
    for extra in (path.with_name(path.name + '-wal'), path.with_name(path.name + '-shm')):
        if extra.exists():
            files.private_file(extra)


def init_engine(url: str) -> Engine:
    """Create the process-wide engine (tests rebind it with `use_engine`)."""
    return use_engine(create_db_engine(url))


def use_engine(engine: Engine) -> Engine:
    global _engine
    _engine = engine
    return engine


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError('the database is not initialised; call app.db.init_engine first')
    return _engine


@contextmanager
def session_scope(*, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit once on success, roll back on error, then publish the events the change collected
    (`after_commit`), so nobody hears of a change that did not happen. `write=True` locks early on SQLite."""
    token = _immediate.set(write)
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
        collected = session.info.get(_EVENTS)
        if collected and session.get_bind().dialect.name == 'postgresql':
            bus.notify(session.connection(), collected)  # delivered to the other processes at the commit
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        _immediate.reset(token)
    for event in session.info.pop(_EVENTS, []):
        if isinstance(event, events.SettingsChanged):
            events.publish_settings(event)
        elif isinstance(event, events.Queued):
            events.queued.publish(event)
        else:
            events.publish(event)


_EVENTS = 'cloudmeet_events'


def after_commit(session: Session, event: events.BookingChanged | events.SettingsChanged | events.Queued) -> None:
    """Publish `event` once the unit of work that `session` belongs to has committed."""
    found: list[object] = session.info.setdefault(_EVENTS, [])
    if event not in found:  # one notice per host and change is enough
        found.append(event)


def migrate(engine: Engine | None = None) -> None:
    """Apply every Alembic migration up to head."""
    engine = engine or get_engine()
    config = Config()
    config.set_main_option('script_location', str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == 'postgresql':  # processes starting together migrate one after the other
            connection.execute(sa.text('SELECT pg_advisory_xact_lock(:key)'), {'key': MIGRATION_LOCK})
        config.attributes['connection'] = connection
        command.upgrade(config, 'head')
