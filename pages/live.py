"""Live pages: run a page's refresh on its own event loop whenever a host's bookings change."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nicegui import background_tasks, run, ui

from app import events
from app.metrics import LIVE_PAGES

log = logging.getLogger(__name__)


def refresh_on_booking_change(
    host_id: int, refresh: Callable[[], Awaitable[None]], notice: Callable[[events.BookingChanged], None] | None = None
) -> None:
    """Call `refresh` (coalescing bursts) after every committed booking change of the host, until the page closes;
    `notice` hears of every change itself (for a notification), after the refresh."""
    loop = asyncio.get_running_loop()
    client = ui.context.client
    pending = False

    async def run(event: events.BookingChanged) -> None:
        nonlocal pending
        pending = False
        if not client.is_deleted:
            await refresh()
            if notice is not None:
                with client:
                    notice(event)
            log.debug(
                'live refresh of %s sent %.0f ms after %s', client.id, (time.monotonic() - event.at) * 1000, event.uid
            )

    missed: list[events.BookingChanged] = []

    def schedule(event: events.BookingChanged) -> None:
        nonlocal pending
        if not client.has_socket_connection:  # never connected (a crawler's GET) or reconnecting: catch up later
            missed[:] = [event]
            return
        if not pending and not client.is_deleted:
            pending = True
            background_tasks.create(run(event), name=f'live-refresh-{client.id}')

    def catch_up() -> None:
        if missed:
            schedule(missed.pop())

    def listener(event: events.BookingChanged) -> None:
        if loop.is_closed():  # the server that rendered this page has stopped
            unsubscribe()
        elif event.host_id == host_id:
            loop.call_soon_threadsafe(schedule, event)

    unsubscribe = _counted(events.subscribe(listener))
    client.on_connect(catch_up)
    client.on_delete(unsubscribe)


def _counted(unsubscribe: Callable[[], None]) -> Callable[[], None]:
    """Count the open page in the metrics until its listener is unsubscribed (once, however often it is asked)."""
    LIVE_PAGES.inc()
    done = False

    def stop() -> None:
        nonlocal done
        if not done:
            done = True
            LIVE_PAGES.dec()
            unsubscribe()

    return stop


_generation: dict[int, int] = {}
_in_flight: dict[tuple[object, ...], asyncio.Future[Any]] = {}
T = TypeVar('T')


def _count_change(event: events.BookingChanged) -> None:
    _generation[event.host_id] = _generation.get(event.host_id, 0) + 1


def listen() -> Callable[[], None]:
    """Count every host's changes; subscribed first, so a change is counted before any page is told to refresh."""
    return events.subscribe(_count_change)


async def shared_load(host_id: int, key: tuple[object, ...], load: Callable[[], T]) -> T:
    """Run `load` in a worker thread, shared by every page asking for the same key since the host's last change.

    When a booking changes, every open page of the host refreshes at once; they compute the same month of free
    times, so one computation serves them all. A load started before a change is never reused after it.
    """
    full_key = (host_id, _generation.get(host_id, 0), *key)
    future: asyncio.Future[T] | None = _in_flight.get(full_key)
    if future is None:
        future = asyncio.get_running_loop().run_in_executor(run.thread_pool, load)
        _in_flight[full_key] = future
        future.add_done_callback(lambda _: _in_flight.pop(full_key, None))
    return await asyncio.shield(future)
