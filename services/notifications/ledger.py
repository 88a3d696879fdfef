"""What the outbox worker has handed over and not yet recorded: a message given to the mailer is noted at once,
before anything else can fail, and never handed over again by this process; its outcome reaches the database on
the next chance, and a failed pass gives back its other claims at once instead of leaving them to the lease."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.db import session_scope
from app.models import OutboxMessage, utcnow
from services.notifications import outbox

log = logging.getLogger(__name__)


class Ledger:
    """The outcomes this process has not recorded yet, per worker: noted the moment the mailer (or calendar)
    returns, recorded in batches, and kept when recording fails, so a message handed over is never handed over
    again by this process and its outcome reaches the database on the next chance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes: dict[str, dict[int, outbox.Outcome]] = {}
        self._failed: set[str] = set()  # workers whose last pass failed: they may still hold claims

    def run(
        self, worker: str, message: OutboxMessage, handle: Callable[..., outbox.Outcome], *args: Any
    ) -> outbox.Outcome:
        """Handle a claimed message once (in a sender thread) and note its outcome before anything else happens."""
        with self._lock:
            noted = self._outcomes.get(worker, {}).get(message.id or -1)
        if noted is not None:
            return noted
        outcome = handle(message, *args)
        with self._lock:
            self._outcomes.setdefault(worker, {})[outcome.id] = outcome
        return outcome

    def record(self, worker: str, *, release: bool = False) -> None:
        """Record the noted outcomes; with `release`, also give back every other claim this worker holds."""
        with self._lock:
            outcomes = list(self._outcomes.get(worker, {}).values())
        if not outcomes and not release:
            return
        with session_scope(write=True) as session:
            outbox.finish(session, outcomes, now=utcnow(), worker=worker)
            released = outbox.release(session, worker=worker) if release else 0
        with self._lock:
            pending = self._outcomes.get(worker, {})
            for outcome in outcomes:
                if pending.get(outcome.id) is outcome:
                    del pending[outcome.id]
            if release:
                self._failed.discard(worker)
        if released:
            log.warning('outbox: took back %d claimed messages after a failed pass; they are due again now', released)

    def settle(self, worker: str) -> None:
        """Before a pass claims anything: what a failed pass left is recorded and its claims given back."""
        with self._lock:
            failed = worker in self._failed
        self.record(worker, release=failed)

    def take_back(self, worker: str) -> None:
        """After a failed pass: record what was handed over and give back the rest at once, if the database
        answers (else the next pass does it first)."""
        with self._lock:
            self._failed.add(worker)
        try:
            self.record(worker, release=True)
        except SQLAlchemyError as exc:
            log.warning(
                'outbox: could not take back the claims of a failed pass yet (%s); the next pass will',
                type(exc).__name__,
            )


LEDGER = Ledger()
