""""A booking changed": one in-process signal that open pages and jobs subscribe to."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BookingChanged:
    host_id: int
    uid: str
    kind: str  # 'created' | 'cancelled' | 'rescheduled'
    at: float = field(default_factory=time.monotonic, compare=False)


Listener = Callable[[BookingChanged], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener` after every committed booking change; returns the unsubscribe function."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def publish(event: BookingChanged) -> None:
    """Tell every listener; a failing listener is logged and never undoes the committed change."""
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:
            log.exception('booking listener failed for %s', event.uid)


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """A host changed what their pages offer (event types, schedules, profile): read models of that host go stale."""

    host_id: int


SettingsListener = Callable[[SettingsChanged], None]
_settings_listeners: list[SettingsListener] = []


def subscribe_settings(listener: SettingsListener) -> Callable[[], None]:
    """Call `listener` after every committed change of a host's settings; returns the unsubscribe function."""
    _settings_listeners.append(listener)
    return lambda: _settings_listeners.remove(listener) if listener in _settings_listeners else None


def publish_settings(event: SettingsChanged) -> None:
    for listener in list(_settings_listeners):
        try:
            listener(event)
        except Exception:
            log.exception('settings listener failed for host %s', event.host_id)
