""" "A booking changed", "a host's settings changed" and "something else was queued to send": in-process signals that
open pages, caches and jobs subscribe to (app/bus.py carries the first two between processes on PostgreSQL; the
third wakes this process's own outbox worker)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
E = TypeVar('E')


@dataclass(frozen=True, slots=True)
class BookingChanged:
    host_id: int
    uid: str
    kind: str  # 'created' | 'cancelled' | 'rescheduled' | 'proposed'
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """A host changed what their pages offer (event types, schedules, profile, calendars): read models go stale."""

    host_id: int


class Channel(Generic[E]):
    """Listeners of one kind of event, told after the change that causes it has committed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[[E], None]] = []

    def subscribe(self, listener: Callable[[E], None]) -> Callable[[], None]:
        """Call `listener` for every event; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, event: E) -> None:
        """Tell every listener; a failing listener is logged and never undoes the committed change."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception('%s listener failed for %s', self.name, event)


@dataclass(frozen=True, slots=True)
class Queued:
    """A delivery was queued that no booking change announces (a webhook's test event): send it now."""

    host_id: int


bookings: Channel[BookingChanged] = Channel('booking')
settings: Channel[SettingsChanged] = Channel('settings')
queued: Channel[Queued] = Channel('queued')
subscribe, publish = bookings.subscribe, bookings.publish
subscribe_settings, publish_settings = settings.subscribe, settings.publish
Listener = Callable[[BookingChanged], None]
