"""SIGTERM with the outbox full: the real server finishes the messages in hand, gives back its other claims (nothing
stays 'sending' for a lease to expire) and exits; its log, in json, is one object per line."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlmodel import select

from app.db import session_scope
from app.models import OutboxMessage
from tests.e2e.server import free_port, running_server
from tests.e2e.test_email_delivery import book, prepare, wait_for

SECONDS_PER_MAIL = 0.5


class SlowSink:
    """An SMTP server that takes its time over every message (a slow provider)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        time.sleep(SECONDS_PER_MAIL)  # blocks the server's own loop: messages are taken one at a time
        with self.lock:
            self.received.append(envelope.rcpt_tos[0])
        return '250 OK'


def test_sigterm_while_the_outbox_holds_work_leaves_nothing_claimed(tmp_path: Path) -> None:
    url = f'sqlite:///{tmp_path / "cloudmeet.sqlite"}'
    prepare(url)
    sink, port = SlowSink(), free_port()
    smtp = Controller(sink, hostname='127.0.0.1', port=port)
    smtp.start()
    env = {
        'CLOUDMEET_SMTP_HOST': '127.0.0.1',
        'CLOUDMEET_SMTP_PORT': str(port),
        'CLOUDMEET_SMTP_SECURITY': 'none',
        'CLOUDMEET_LOG_FORMAT': 'json',
    }
    try:
        with running_server(data_dir=tmp_path, log_level='INFO', env=env) as base:
            for n in range(10):  # 20 e-mails: ten seconds of sending, one at a time
                book(base, f'{9 + n // 2:02d}:{30 * (n % 2):02d}', n)
            assert wait_for(lambda: len(sink.received) >= 2)
            stopped_at = time.monotonic()
        took = time.monotonic() - stopped_at  # leaving the block sent SIGTERM and waited for the exit
    finally:
        smtp.stop()
    with session_scope() as session:
        statuses = [m.status for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind != 'reminder'))]
    assert statuses.count('sending') == 0
    assert statuses.count('sent') == len(sink.received)  # each message handed over is recorded as sent
    assert statuses.count('pending') == 20 - len(sink.received) > 0  # the rest are due again for the next process
    assert took < 8
    lines = (tmp_path / 'server.log').read_text().splitlines()
    assert lines and all(json.loads(line)['level'] for line in lines)
