"""The outbox when the database drops the worker's connection for real (PostgreSQL `pg_terminate_backend`): a
failed pass gives back its claims at once, and a message handed to the mailer is recorded and never handed over
again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.message import Message

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.models import OutboxMessage
from services import bookings
from services.bookings import Invitee
from services.notifications import outbox, worker
from tests.factories import at, make_event_type, make_host, next_monday

NOW = datetime.now(timezone.utc)


class KeyRecorder:
    """A mailer that keeps the key of every message handed to it."""

    name = 'recorder'

    def __init__(self, *, idempotent: bool) -> None:
        self.idempotent = idempotent
        self.keys: list[str] = []
        self.lock = threading.Lock()

    def send(self, message: Message, key: str) -> None:
        with self.lock:
            self.keys.append(key)


@pytest.fixture
def engine(database: sa.Engine) -> sa.Engine:
    if database.dialect.name != 'postgresql':
        pytest.skip('kills server connections with pg_terminate_backend')
    return database


@pytest.fixture
def three_bookings(database: sa.Engine) -> list[str]:
    """Three bookings: six messages due now (confirmation and host notice each), reminders due later."""
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='UTC')
        call = make_event_type(session, host, slug='call')
    monday = next_monday()
    uids = []
    for clock in ('09:00', '10:00', '11:00'):
        with session_scope(write=True) as session:
            receipt = bookings.book_slot(
                session=session,
                event_type=call,
                start=at(monday, clock, 'UTC'),
                now=NOW,
                invitee=Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
            )
            uids.append(receipt.booking.uid)
    return uids


def test_a_claim_takes_no_more_messages_than_its_limit(three_bookings: list[str]) -> None:
    with session_scope(write=True) as session:  # on PostgreSQL a rescanned locking subquery once took them all
        assert len(outbox.claim(session, now=datetime.now(timezone.utc), limit=4, worker='test-worker')) == 4
    assert statuses() == {'sending': 4, 'pending': 8}


def test_a_connection_killed_while_recording_a_batch_loses_no_record_and_sends_nothing_twice(
    engine: sa.Engine, three_bookings: list[str]
) -> None:
    mailer = KeyRecorder(idempotent=True)  # the file outbox: a whole batch recorded at once
    with killed_when(engine, lambda sql: sql.startswith('UPDATE outbox') and 'sent_at' in sql):
        with pytest.raises(sa.exc.OperationalError):
            drain(mailer)
    assert statuses() == {'sent': 6, 'pending': 6}  # recorded at once over a new connection; reminders wait
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=6)):  # past any claim's lease
        assert drain(mailer).sent == 0
    assert len(mailer.keys) == len(set(mailer.keys)) == 6


def test_a_connection_killed_after_claiming_gives_the_claims_back_at_once(
    engine: sa.Engine, three_bookings: list[str]
) -> None:
    mailer = KeyRecorder(idempotent=False)  # SMTP: four claimed at a time, each recorded when sent
    with killed_when(engine, lambda sql: 'FROM outbox' in sql and 'outbox.id IN' in sql):
        with pytest.raises(sa.exc.OperationalError):
            drain(mailer)
    assert statuses() == {'pending': 12} and mailer.keys == []
    assert attempts() == {0}  # a claim that never reached the mailer is not an attempt
    assert drain(mailer).sent == 6  # at once, not after the lease
    assert len(mailer.keys) == len(set(mailer.keys)) == 6


def test_messages_in_flight_when_a_connection_dies_are_recorded_as_sent_and_the_rest_go_at_once(
    engine: sa.Engine, three_bookings: list[str]
) -> None:
    mailer = KeyRecorder(idempotent=False)
    with killed_when(engine, lambda sql: sql.startswith('UPDATE outbox') and 'sent_at' in sql):
        with pytest.raises(sa.exc.OperationalError):
            drain(mailer)
    handed = len(mailer.keys)
    assert 1 <= handed <= 4 and statuses() == {'sent': handed, 'pending': 12 - handed}
    assert drain(mailer).sent == 6 - handed
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=6)):
        assert drain(mailer).sent == 0
    assert len(mailer.keys) == len(set(mailer.keys)) == 6


def drain(mailer: KeyRecorder) -> worker.DrainStats:
    return worker.drain(mailer=mailer, settings=get_settings(), worker='test-worker')  # type: ignore[arg-type]


def statuses() -> dict[str, int]:
    with session_scope() as session:
        rows = session.exec(
            select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)  # type: ignore[call-overload]
        ).all()
    return dict(rows)


def attempts() -> set[int]:
    with session_scope() as session:
        return set(session.exec(select(OutboxMessage.attempts)).all())


@contextmanager
def killed_when(engine: sa.Engine, matches: Callable[[str], bool]) -> Iterator[None]:
    """Terminate the server process of the first connection about to run a matching statement (from another
    connection, waiting until it is gone), so that statement meets a dead connection."""
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool, isolation_level='AUTOCOMMIT')
    left = [1]

    def kill(conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if left[0] and matches(statement.lstrip()):
            left[0] -= 1
            with admin.connect() as other:
                other.execute(
                    sa.text('SELECT pg_terminate_backend(:pid, 5000)'),
                    {'pid': conn.connection.dbapi_connection.info.backend_pid},
                )

    sa.event.listen(engine, 'before_cursor_execute', kill)
    try:
        yield
    finally:
        sa.event.remove(engine, 'before_cursor_execute', kill)
        admin.dispose()
    assert left == [0], 'the statement to kill never ran'
