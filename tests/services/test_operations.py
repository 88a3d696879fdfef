"""What operations see of the outbox and the booking use case: the backlog and the oldest due message's age read at
each scrape, bookings counted by outcome, and a pass told to stop (shutdown) that gives back what it did not start."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email.message import Message
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from app import metrics
from app.config import get_settings
from app.db import session_scope
from app.errors import SlotUnavailable
from app.models import OutboxMessage
from services import use_cases
from services.bookings import Invitee
from services.notifications import worker
from services.notifications.mailers import FileMailer
from tests.factories import at, make_event_type, make_host, next_monday

GRACE = Invitee(name='Grace Hopper', email='grace@example.com', timezone='America/New_York')


def scrape() -> dict[str, float]:
    return {
        s.name + str(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
    }


@pytest.fixture
def call_id(database: object) -> int:
    with session_scope(write=True) as session:
        call = make_event_type(session, make_host(session), slug='call')
    assert call.id is not None
    return call.id


def book(call_id: int, clock: str, invitee: Invitee = GRACE) -> None:
    use_cases.book(
        event_type_id=call_id,
        start=at(next_monday(), clock),
        invitee=invitee,
        now=datetime.now(timezone.utc),
        address='192.0.2.1',
    )


def statuses() -> list[str]:
    with session_scope() as session:
        return sorted(m.status for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind != 'reminder')))


def test_the_outbox_backlog_and_bookings_by_outcome_are_in_the_metrics(call_id: int, tmp_path: Path) -> None:
    before = scrape()
    book(call_id, '09:00')
    with pytest.raises(SlotUnavailable):
        book(call_id, '09:00')
    after = scrape()
    assert (
        after["cloudmeet_bookings_total[('outcome', 'created')]"]
        - before.get("cloudmeet_bookings_total[('outcome', 'created')]", 0)
        == 1
    )
    assert (
        after["cloudmeet_bookings_total[('outcome', 'conflict')]"]
        - before.get("cloudmeet_bookings_total[('outcome', 'conflict')]", 0)
        == 1
    )
    assert after['cloudmeet_outbox_backlog[]'] == 2  # the confirmation and the host's notice, due now
    assert 0 <= after['cloudmeet_outbox_oldest_due_age_seconds[]'] < 60
    worker.drain(mailer=FileMailer(tmp_path), settings=get_settings())
    assert scrape()['cloudmeet_outbox_backlog[]'] == 0 and scrape()['cloudmeet_outbox_oldest_due_age_seconds[]'] == 0


class StopsAfterOne(FileMailer):
    """Writes one message, and meanwhile the process is told to shut down."""

    def __init__(self, directory: Path, stop: threading.Event) -> None:
        super().__init__(directory)
        self.stop, self.sent = stop, 0

    def send(self, message: Message, key: str) -> None:
        super().send(message, key)
        self.sent += 1
        self.stop.set()


def test_a_pass_told_to_stop_finishes_the_message_in_hand_and_gives_back_the_rest(call_id: int, tmp_path: Path) -> None:
    for n, clock in enumerate(('09:00', '10:00', '11:00')):
        book(call_id, clock, Invitee(name=f'Guest {n}', email=f'guest{n}@example.com', timezone='UTC'))
    stop = threading.Event()
    mailer = StopsAfterOne(tmp_path, stop)
    stats = worker.drain(mailer=mailer, settings=get_settings(), senders=1, stop=stop)
    assert mailer.sent == stats.sent == 1
    assert statuses() == ['pending'] * 5 + ['sent']  # nothing left 'sending' for a lease to expire
    worker.drain(mailer=FileMailer(tmp_path), settings=get_settings())  # the next pass (or process) sends the rest
    assert statuses() == ['sent'] * 6


def test_at_start_up_the_claims_of_killed_workers_of_this_machine_come_back_at_once(call_id: int) -> None:
    import os
    import socket
    import subprocess
    import sys

    from sqlmodel import select

    from app.db import session_scope
    from app.models import OutboxMessage
    from services.notifications import worker

    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    host = socket.gethostname()
    gone, alive, elsewhere = f'{host}:{dead.stdout.strip()}', f'{host}:{os.getppid()}', 'other-machine:1'
    with session_scope(write=True) as session:
        host_id = session.exec(select(OutboxMessage.host_id)).first() or _host_of(session, call_id)
        for n, claimant in enumerate((gone, alive, elsewhere)):
            session.add(
                OutboxMessage(
                    key=f'm-{n}',
                    host_id=host_id,
                    kind='confirmation',
                    status='sending',
                    claimed_by=claimant,
                    due_at=datetime.now(timezone.utc),
                    claimed_until=datetime.now(timezone.utc) + timedelta(minutes=5),
                )
            )
    assert worker.take_back_abandoned() == 1
    with session_scope() as session:
        rows = {m.key: (m.status, m.claimed_by) for m in session.exec(select(OutboxMessage))}
    assert rows == {'m-0': ('pending', ''), 'm-1': ('sending', alive), 'm-2': ('sending', elsewhere)}


def _host_of(session, call_id: int) -> int:  # type: ignore[no-untyped-def]
    from app.models import EventType

    return session.get(EventType, call_id).host_id
