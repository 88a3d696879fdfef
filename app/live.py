"""Live pages: run a page's refresh on its own event loop whenever a host's bookings change."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui

from app import events


def refresh_on_booking_change(host_id: int, refresh: Callable[[], Awaitable[None]]) -> None:
    """Call `refresh` (coalescing bursts) after every committed booking change of the host, until the page closes."""
    loop = asyncio.get_running_loop()
    client = ui.context.client
    pending = False

    async def run() -> None:
        nonlocal pending
        pending = False
        if not client.is_deleted:
            await refresh()

    def schedule() -> None:
        nonlocal pending
        if not pending and not client.is_deleted:
            pending = True
            background_tasks.create(run(), name=f'live-refresh-{client.id}')

    def listener(event: events.BookingChanged) -> None:
        if loop.is_closed():  # the server that rendered this page has stopped
            unsubscribe()
        elif event.host_id == host_id:
            loop.call_soon_threadsafe(schedule)

    unsubscribe = events.subscribe(listener)
    client.on_delete(unsubscribe)
