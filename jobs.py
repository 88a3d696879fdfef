"""Background jobs on APScheduler, inside the NiceGUI event loop: the outbox worker that sends e-mails and reminders.

The durable state is the outbox table, not the job store: every e-mail and reminder is a row written with the change
that causes it. The scheduler only decides *when* to look: at start-up (so anything due while the app was down goes
out at once), every `poll_seconds`, at the next message's due time, and right after every booking change.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app import events

log = logging.getLogger(__name__)

Work = Callable[[], 'datetime | None']  # sends what is due; returns when the next message falls due


class OutboxJobs:
    def __init__(self, work: Work, *, poll_seconds: float, gather_seconds: float = 0.25) -> None:
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc, job_defaults={
            'coalesce': True, 'max_instances': 1,
            'misfire_grace_time': None,  # APScheduler 3 drops a run >1 s late by default; never drop one
        })
        # Changes arriving together are sent in one pass: a burst of bookings then costs a few passes (claims and
        # records in the database's write lock), not one per booking, and e-mails leave a quarter second later.
        self._work, self._poll, self._gather = work, poll_seconds, gather_seconds
        self._busy = threading.Lock()
        self._again = threading.Event()
        self._unsubscribe: Callable[[], None] = lambda: None

    def start(self) -> None:
        """Start inside the running event loop, look at the outbox at once, and after every booking change."""
        if self.scheduler.running:
            return
        self.scheduler.start()
        self.scheduler.add_job(self.run, 'interval', seconds=self._poll, id='outbox-poll',
                               next_run_time=datetime.now(timezone.utc))
        self._unsubscribe = events.subscribe(self.wake)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self._unsubscribe()
            self.scheduler.shutdown(wait=False)

    def wake(self, *_: object) -> None:
        """Something was queued: send it shortly, with whatever else comes meanwhile (safe from any thread)."""
        self._again.set()
        if self.scheduler.running and self.scheduler.get_job('outbox-now') is None:
            self.scheduler.add_job(self.run, 'date', id='outbox-now', replace_existing=True,
                                   run_date=datetime.now(timezone.utc) + timedelta(seconds=self._gather))

    def run(self) -> None:
        """One pass (in the scheduler's worker thread); a wake-up during the pass makes it go round again."""
        if not self._busy.acquire(blocking=False):
            self._again.set()  # the running pass will look again
            return
        try:
            next_due = None
            while True:
                self._again.clear()
                try:
                    next_due = self._work()
                except Exception:
                    log.exception('outbox pass failed; the next pass retries')
                    return
                if not self._again.is_set():
                    break
                time.sleep(self._gather)  # more came during the pass: let what follows join the next one
        finally:
            self._busy.release()
        if next_due is not None and self.scheduler.running and \
                next_due < datetime.now(timezone.utc) + timedelta(seconds=self._poll):
            self.scheduler.add_job(self.run, 'date', run_date=next_due, id='outbox-next', replace_existing=True)
