"""Outbox benchmark: 10,000 reminders, all due, drained to the file outbox by the real worker (claim, render with
its .ics-free reminder template, write the .eml, record). Prints messages per second over several fresh runs, on
SQLite (the default) and, when it is reachable, PostgreSQL; checks that every reminder was written exactly once."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault('CLOUDMEET_DATA_DIR', tempfile.mkdtemp(prefix='cloudmeet-bench-'))

import sqlalchemy as sa
from sqlmodel import select

from app import crypto, db
from app.config import get_settings
from app.models import Booking, OutboxMessage
from services.notifications import worker
from services.notifications.mailers import FileMailer
from tests.factories import make_event_type, make_host

REMINDERS = 10_000
HOSTS = 100  # 100 bookings each
RUNS = 3


def seed(engine: sa.Engine) -> None:
    """10,000 future bookings whose 24-hour reminder is already due (as after a long downtime)."""
    now = datetime.now(timezone.utc)
    token = crypto.encrypt('x' * 22)
    with db.session_scope(write=True) as session:
        types = []
        for h in range(HOSTS):
            host = make_host(session, username=f'host{h}', timezone_name='Europe/Berlin')
            types.append((host.id, make_event_type(session, host, slug='call').id))
    bookings, messages = [], []
    for i in range(REMINDERS):
        host_id, type_id = types[i % HOSTS]
        start = now + timedelta(hours=2, minutes=30 * (i // HOSTS))
        uid = f'bench{i:05d}'
        bookings.append(
            {
                'uid': uid,
                'host_id': host_id,
                'event_type_id': type_id,
                'start_at': start,
                'end_at': start + timedelta(minutes=30),
                'buffer_before_minutes': 0,
                'buffer_after_minutes': 0,
                'status': 'confirmed',
                'sequence': 0,
                'invitee_name': f'Guest {i}',
                'invitee_email': f'guest{i}@example.com',
                'invitee_timezone': 'America/New_York',
                'notes': '',
                'answers': {},
                'manage_token_hash': f'{i:064d}',
                'manage_token_encrypted': token,
                'cancel_reason': '',
                'created_at': now,
                'updated_at': now,
            }
        )
    with db.session_scope(write=True) as session:
        session.execute(sa.insert(Booking), bookings)
        ids = dict(session.execute(sa.select(Booking.uid, Booking.id)).all())  # type: ignore[call-overload]
        for row in bookings:
            messages.append(
                {
                    'key': f'{row["uid"]}.reminder.1440.0',
                    'host_id': row['host_id'],
                    'booking_id': ids[row['uid']],
                    'kind': 'reminder',
                    'status': 'pending',
                    'due_at': now - timedelta(minutes=1),
                    'attempts': 0,
                    'claimed_by': '',
                    'last_error': '',
                    'created_at': now,
                    'context': {
                        'start': row['start_at'].isoformat(),
                        'end': row['end_at'].isoformat(),
                        'sequence': 0,
                        'offset': 1440,
                    },
                }
            )
        session.execute(sa.insert(OutboxMessage), messages)


def run_once(url: str, directory: Path) -> float:
    engine = db.use_engine(db.create_db_engine(url))
    db.migrate(engine)
    seed(engine)
    mailer = FileMailer(directory / 'outbox')
    t0 = time.perf_counter()
    stats = worker.drain(mailer=mailer, settings=get_settings())
    elapsed = time.perf_counter() - t0
    files = list((directory / 'outbox').glob('*.eml'))
    with db.session_scope() as session:
        sent = session.exec(
            select(sa.func.count())
            .select_from(OutboxMessage)  # type: ignore[call-overload]
            .where(OutboxMessage.status == 'sent')
        ).one()
    engine.dispose()
    assert stats.sent == REMINDERS == len(files) == sent, (stats, len(files), sent)
    return REMINDERS / elapsed


def postgres_url() -> str | None:
    admin = os.environ.get('CLOUDMEET_TEST_POSTGRES_URL', 'postgresql+psycopg://postgres@127.0.0.1:5432/test')
    try:
        engine = sa.create_engine(admin, isolation_level='AUTOCOMMIT')
        with engine.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS cloudmeet_bench_outbox')
            conn.exec_driver_sql('CREATE DATABASE cloudmeet_bench_outbox')
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return admin.rsplit('/', 1)[0] + '/cloudmeet_bench_outbox'


def drop_postgres() -> None:
    admin = os.environ.get('CLOUDMEET_TEST_POSTGRES_URL', 'postgresql+psycopg://postgres@127.0.0.1:5432/test')
    engine = sa.create_engine(admin, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn:
        conn.exec_driver_sql('DROP DATABASE IF EXISTS cloudmeet_bench_outbox')
    engine.dispose()


def main() -> None:
    print(f'outbox: {REMINDERS:,} due reminders drained to the file outbox (target: 500/s or more)')
    for name in ('sqlite', 'postgresql'):
        rates = []
        for _ in range(RUNS):
            directory = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-outbox-'))
            url = f'sqlite:///{directory / "bench.sqlite"}' if name == 'sqlite' else postgres_url()
            if url is None:
                print(f'  {name}: skipped (not reachable)')
                break
            rates.append(run_once(url, directory))
            shutil.rmtree(directory)
        if name == 'postgresql' and rates:
            drop_postgres()
        if rates:
            print(
                f'  {name}: median {statistics.median(rates):,.0f} messages/s over {len(rates)} fresh runs '
                f'(min {min(rates):,.0f}, max {max(rates):,.0f}); each reminder written once'
            )
    sys.stdout.flush()


if __name__ == '__main__':
    main()
