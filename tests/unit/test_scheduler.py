"""The outbox job on APScheduler: it looks at start-up, right after a wake-up, and at the next message's due time."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

from jobs import OutboxJobs


async def until(condition, seconds: float = 5) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_the_outbox_job_runs_at_start_on_wake_and_at_the_next_due_time() -> None:
    calls: list[float] = []
    next_due: list[datetime | None] = [None]

    def work() -> datetime | None:
        calls.append(time.monotonic())
        return next_due[0]

    jobs = OutboxJobs(work, poll_seconds=60)
    jobs.start()
    try:
        assert await until(lambda: len(calls) == 1)  # at start-up: anything due during downtime goes out
        jobs.wake()
        assert await until(lambda: len(calls) == 2)
        next_due[0] = datetime.now(timezone.utc) + timedelta(seconds=0.6)
        woke = time.monotonic()
        jobs.wake()
        assert await until(lambda: len(calls) == 3)
        next_due[0] = None
        assert await until(lambda: len(calls) == 4, seconds=3)  # at the due time, long before the next poll
        assert calls[3] - woke >= 0.5
        await asyncio.sleep(0.5)
        assert len(calls) == 4  # and nothing else until the next poll
    finally:
        jobs.shutdown()


async def test_a_wake_up_during_a_pass_makes_it_go_round_again_and_passes_never_overlap() -> None:
    running, overlaps, passes = threading.Lock(), [], []
    release = threading.Event()

    def work() -> None:
        if not running.acquire(blocking=False):
            overlaps.append(1)
            return None
        try:
            passes.append(time.monotonic())
            if len(passes) == 1:
                release.wait(5)
        finally:
            running.release()
        return None

    jobs = OutboxJobs(work, poll_seconds=60)
    jobs.start()
    try:
        assert await until(lambda: len(passes) == 1)
        for _ in range(3):
            jobs.wake()  # arrives while the first pass is still sending
        await asyncio.sleep(0.2)
        release.set()
        assert await until(lambda: len(passes) >= 2)
        await asyncio.sleep(0.3)
        assert overlaps == [] and len(passes) == 2
    finally:
        jobs.shutdown()


async def test_a_failing_pass_is_logged_and_the_job_keeps_running(caplog) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError('database went away')

    jobs = OutboxJobs(work, poll_seconds=60)
    jobs.start()
    try:
        assert await until(lambda: len(calls) == 1)
        jobs.wake()
        assert await until(lambda: len(calls) == 2)
    finally:
        jobs.shutdown()
    assert 'outbox pass failed' in caplog.text


async def test_a_delivery_queued_without_a_booking_change_wakes_the_worker_too() -> None:
    from app import events

    calls: list[float] = []
    jobs = OutboxJobs(lambda: calls.append(time.monotonic()), poll_seconds=60)
    jobs.start()
    try:
        assert await until(lambda: len(calls) == 1)
        events.queued.publish(events.Queued(1))  # a webhook's test event, say
        assert await until(lambda: len(calls) == 2)  # at once, not at the next poll a minute later
    finally:
        jobs.shutdown()
    events.queued.publish(events.Queued(1))
    await asyncio.sleep(0.5)
    assert len(calls) == 2  # a stopped worker no longer listens
