"""Background jobs on APScheduler, inside the NiceGUI event loop: the outbox worker that sends e-mails and reminders.

The durable state is the outbox table, not the job store: every e-mail and reminder is a row written with the change
that causes it. The scheduler only decides *when* to look: at start-up (so anything due while the app was down goes
out at once), every `poll_seconds`, at the next message's due time, and right after every booking change.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app import events

log = logging.getLogger(__name__)

STOP_SECONDS = 30.0  # at shutdown, how long the messages in hand may take
Work = Callable[[], 'datetime | None']  # sends what is due; returns when the next message falls due


class OutboxJobs:
    def __init__(
        self,
        work: Work,
        *,
        poll_seconds: float,
        gather_seconds: float = 0.25,
        stopping: threading.Event | None = None,
        chores: Callable[[], object] | None = None,
        chore_seconds: float = 60.0,
    ) -> None:
        self.scheduler = AsyncIOScheduler(
            timezone=timezone.utc,
            job_defaults={
                'coalesce': True,
                'max_instances': 1,
                'misfire_grace_time': None,  # APScheduler 3 drops a run >1 s late by default; never drop one
            },
        )
        # Changes arriving together are sent in one pass: a burst of bookings then costs a few passes (claims and
        # records in the database's write lock), not one per booking, and e-mails leave a quarter second later.
        self._work, self._poll, self._gather = work, poll_seconds, gather_seconds
        self._busy = threading.Lock()
        self._again = threading.Event()
        self._unsubscribe: Callable[[], None] = lambda: None
        self.stopping = stopping or threading.Event()  # the work sees it too: a pass in progress stops early
        self._chores, self._chore_seconds = chores, chore_seconds  # periodic upkeep (undecided requests expire)

    def start(self) -> None:
        """Start inside the running event loop, look at the outbox at once, and after every booking change."""
        if self.scheduler.running:
            return
        self.scheduler.start()
        self.scheduler.add_job(
            self.run, 'interval', seconds=self._poll, id='outbox-poll', next_run_time=datetime.now(timezone.utc)
        )
        stops = [events.subscribe(self.wake), events.queued.subscribe(self.wake)]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        self._unsubscribe = unsubscribe
        if self._chores is not None:
            self.scheduler.add_job(
                self._upkeep,
                'interval',
                seconds=self._chore_seconds,
                id='upkeep',
                next_run_time=datetime.now(timezone.utc),
            )

    def _upkeep(self) -> None:
        if self.stopping.is_set() or self._chores is None:
            return
        try:
            self._chores()
        except Exception:
            log.exception('upkeep failed; the next run retries')

    def shutdown(self) -> None:
        """Take no more work: no new passes, and a pass in progress finishes the messages in hand and gives back its
        other claims (see `stop` to wait for it)."""
        self.stopping.set()
        if self.scheduler.running:
            self._unsubscribe()
            self.scheduler.shutdown(wait=False)

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Shut down and wait (off the event loop) until a pass in progress has recorded what it sent."""
        self.shutdown()
        if not await asyncio.to_thread(self._busy.acquire, timeout=timeout):
            log.warning(
                'outbox: a pass was still sending after %.0f s at shutdown; its claims expire with their lease', timeout
            )
            return
        self._busy.release()

    def wake(self, *_: object) -> None:
        """Something was queued: send it shortly, with whatever else comes meanwhile (safe from any thread)."""
        self._again.set()
        if self.scheduler.running and self.scheduler.get_job('outbox-now') is None:
            self.scheduler.add_job(
                self.run,
                'date',
                id='outbox-now',
                replace_existing=True,
                run_date=datetime.now(timezone.utc) + timedelta(seconds=self._gather),
            )

    def run(self) -> None:
        """One pass (in the scheduler's worker thread); a wake-up during the pass makes it go round again."""
        if self.stopping.is_set():
            return
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
                if not self._again.is_set() or self.stopping.is_set():
                    break
                time.sleep(self._gather)  # more came during the pass: let what follows join the next one
        finally:
            self._busy.release()
        if (
            next_due is not None
            and self.scheduler.running
            and next_due < datetime.now(timezone.utc) + timedelta(seconds=self._poll)
        ):
            self.scheduler.add_job(self.run, 'date', run_date=next_due, id='outbox-next', replace_existing=True)
