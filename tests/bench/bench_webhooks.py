"""Webhook benchmark on SQLite: what recording deliveries adds to a booking's transaction (median ms per booking
with 0 and with 3 subscriptions), and the rate at which the outbox worker delivers 1,000 signed webhooks to a
receiver on loopback (claim, sign, POST, log, record), with the file mailer's batching and with SMTP's."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault('CLOUDMEET_DATA_DIR', tempfile.mkdtemp(prefix='cloudmeet-bench-'))

import sqlalchemy as sa

from app import db
from app.config import get_settings
from app.models import WebhookDelivery
from services import bookings
from services.bookings import Invitee
from services.notifications import worker
from services.webhooks import subscriptions
from tests.factories import make_event_type, make_host, next_monday
from tests.fakes.webhook_receiver import serve

BOOKINGS = 200
DELIVERIES = 1_000


class Quiet:
    name = 'quiet'

    def __init__(self, idempotent: bool) -> None:
        self.idempotent = idempotent

    def send(self, *_args: object) -> None:
        pass


def fresh(directory: Path, name: str) -> sa.Engine:
    engine = db.use_engine(db.create_db_engine(f'sqlite:///{directory / name}'))
    db.migrate(engine)
    return engine


def booking_ms(directory: Path, hooks: int, url: str) -> float:
    """Median milliseconds of one booking transaction (the re-check, the row, its outbox and webhook rows)."""
    engine = fresh(directory, f'book{hooks}.sqlite')
    now = datetime.now(timezone.utc)
    with db.session_scope(write=True) as session:
        host = make_host(session, username='bench', timezone_name='UTC')
        call = make_event_type(session, host, slug='call', duration_minutes=15, max_days_ahead=365)
        for _ in range(hooks):
            subscriptions.subscribe(session=session, host_id=host.id or 0, url=url, events=None, now=now)
    day = next_monday(1)
    starts = [
        datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc)
        + timedelta(days=7 * (i // 32), minutes=15 * (i % 32))
        for i in range(BOOKINGS)
    ]
    timings = []
    for i, start in enumerate(starts):
        t0 = time.perf_counter()
        with db.session_scope(write=True) as session:
            bookings.book_slot(
                session=session,
                event_type=call,
                start=start,
                now=now,
                warmed=True,
                invitee=Invitee(f'Guest {i}', f'guest{i}@example.com', 'UTC'),
            )
        timings.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return statistics.median(timings)


def delivery_rate(directory: Path, url: str, idempotent: bool, run: int) -> float:
    engine = fresh(directory, f'deliver-{idempotent}-{run}.sqlite')
    now = datetime.now(timezone.utc)
    with db.session_scope(write=True) as session:
        host = make_host(session, username='bench', timezone_name='UTC')
        subscription = subscriptions.subscribe(
            session=session, host_id=host.id or 0, url=url, events=None, now=now
        ).subscription
    for _ in range(DELIVERIES // 100):
        with db.session_scope(write=True) as session:
            for _ in range(100):
                subscriptions.send_test(
                    session=session, host_id=host.id or 0, subscription_id=subscription.id or 0, now=now
                )
    t0 = time.perf_counter()
    stats = worker.drain(mailer=Quiet(idempotent), settings=get_settings())  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    with db.session_scope() as session:
        delivered = session.execute(
            sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == 'delivered')
        ).scalar_one()
    engine.dispose()
    assert stats.sent == DELIVERIES == delivered, (stats, delivered)
    return DELIVERIES / elapsed


def main() -> None:
    get_settings().allow_private_webhook_urls = True
    receiver = serve()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            none, three = booking_ms(directory, 0, receiver.url), booking_ms(directory, 3, receiver.url)
            print(
                f'webhooks: booking transaction median {none:.2f} ms without subscriptions, {three:.2f} ms with 3 '
                f'(ratio {three / none:.2f}; SQLite, {BOOKINGS} bookings each)'
            )
            for idempotent, label in (
                (True, 'batched like the file mailer'),
                (False, 'claimed 4 at a time, as with SMTP'),
            ):
                rates = [delivery_rate(directory, receiver.url, idempotent, run) for run in range(3)]
                print(
                    f'webhooks: {DELIVERIES} deliveries to a loopback receiver, {label}: median '
                    f'{statistics.median(rates):.0f}/s (runs: {", ".join(f"{r:.0f}" for r in rates)})'
                )
    finally:
        receiver.stop()


if __name__ == '__main__':
    main()
