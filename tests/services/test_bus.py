"""Changes cross processes through PostgreSQL LISTEN/NOTIFY: sent with the commit, heard by every other process."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import psycopg
import pytest
import sqlalchemy as sa

from app import bus, events
from app.db import session_scope
from services import bookings
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')


def _dsn(engine: sa.Engine) -> str:
    return engine.url.set(drivername='postgresql').render_as_string(hide_password=False)


@pytest.fixture
def postgres(database: sa.Engine) -> sa.Engine:
    if database.dialect.name != 'postgresql':
        pytest.skip('LISTEN/NOTIFY is PostgreSQL; a SQLite deployment is one process')
    return database


def test_a_committed_change_is_sent_to_the_other_processes_and_a_rolled_back_one_is_not(postgres: sa.Engine) -> None:
    with psycopg.connect(_dsn(postgres), autocommit=True) as other:
        other.execute(f'LISTEN {bus.CHANNEL}')
        with session_scope(write=True) as session:
            host = make_host(session)
            call = make_event_type(session, host, slug='call')
        with pytest.raises(RuntimeError), session_scope(write=True) as session:
            bookings.book_slot(
                session=session,
                event_type=call,
                start=at(next_monday(), '10:00'),
                now=datetime.now(timezone.utc),
                invitee=bookings.Invitee('A', 'a@example.com', 'UTC'),
            )
            raise RuntimeError('the request fails before the commit')
        with session_scope(write=True) as session:
            receipt = bookings.book_slot(
                session=session,
                event_type=call,
                start=at(next_monday(), '11:00'),
                now=datetime.now(timezone.utc),
                invitee=bookings.Invitee('B', 'b@example.com', 'UTC'),
            )
        heard = [json.loads(n.payload) for n in other.notifies(timeout=2, stop_after=3)]
    booked = [h for h in heard if 'uid' in h]
    assert [(h['uid'], h['kind']) for h in booked] == [(receipt.booking.uid, 'created')]
    assert {h['origin'] for h in heard} == {bus.ORIGIN}


def test_a_change_made_by_another_process_reaches_this_processs_listeners(postgres: sa.Engine) -> None:
    seen: list[events.BookingChanged] = []
    arrived = threading.Event()
    unsubscribe = events.subscribe(lambda event: (seen.append(event), arrived.set()))
    listener = bus.Listener(postgres.url.render_as_string(hide_password=False))
    listener.start()
    try:
        assert listener.ready.wait(5)
        with psycopg.connect(_dsn(postgres), autocommit=True) as other:  # what another process's commit sends
            payload = json.dumps({'origin': 'another-process', 'host': 7, 'uid': 'u-1', 'kind': 'cancelled'})
            other.execute('SELECT pg_notify(%s, %s)', (bus.CHANNEL, payload))
        assert arrived.wait(2)
    finally:
        listener.stop()
        unsubscribe()
    assert [(e.host_id, e.uid, e.kind) for e in seen] == [(7, 'u-1', 'cancelled')]


def test_two_processes_starting_together_on_a_new_database_both_migrate_it(
    postgres: sa.Engine, postgres_databases
) -> None:  # type: ignore[no-untyped-def]
    from app import db

    url = postgres_databases.create()
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        engine = db.create_db_engine(url)
        try:
            barrier.wait()
            db.migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - the test reports what a starting process would die of
            failures.append(exc)
        finally:
            engine.dispose()

    starters = [threading.Thread(target=start) for _ in range(2)]
    for thread in starters:
        thread.start()
    for thread in starters:
        thread.join(60)
    assert failures == []
    engine = db.create_db_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text('SELECT count(*) FROM alembic_version')).scalar() == 1
    engine.dispose()
