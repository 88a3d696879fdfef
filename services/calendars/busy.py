"""Busy times of a host's calendars, cached per connection.

Each connection's busy times for a window are kept in memory (starts and ends only) and used as they are while
younger than `calendar_fresh_seconds`; older ones are still used, and refreshed in the background, while younger
than `calendar_tolerance_seconds`. Beyond that, or with nothing cached, the fetch happens now; several
connections are fetched in parallel. A connection that cannot be read makes the whole window busy (no time is
ever offered as free on a guess) and the reason is reported. CloudMeet's own booking changes drop the host's
cache, so its own writes are seen at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app import events
from app.config import get_settings
from app.db import session_scope
from app.metrics import CALENDAR_FETCH_ERRORS, CALENDAR_FETCH_SECONDS
from app.models import CalendarConnection, Host
from services import kept_settings
from services.calendars import providers, status
from services.calendars.errors import ProviderError, ReconnectNeeded
from services.calendars.providers import Connection
from services.slots import Busy

log = logging.getLogger(__name__)
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix='calendars')


@dataclass(frozen=True, slots=True)
class HostBusy:
    busy: list[Busy]
    problem: str = ''  # '' when every calendar was checked


@dataclass(slots=True)
class _Entry:
    start: datetime
    end: datetime
    busy: list[Busy]
    fetched: float
    refreshing: bool = False


@dataclass(slots=True)
class _Cache:
    entries: dict[int, list[_Entry]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def find(self, connection_id: int, start: datetime, end: datetime) -> _Entry | None:
        with self.lock:
            found = [e for e in self.entries.get(connection_id, []) if e.start <= start and end <= e.end]
        return max(found, key=lambda e: e.fetched) if found else None

    def put(self, connection_id: int, entry: _Entry) -> None:
        with self.lock:
            kept = [
                e for e in self.entries.get(connection_id, []) if not (entry.start <= e.start and e.end <= entry.end)
            ][-20:]
            self.entries[connection_id] = [*kept, entry]

    def drop(self, connection_ids: set[int]) -> None:
        with self.lock:
            for connection_id in connection_ids:
                self.entries.pop(connection_id, None)


_cache = _Cache()
_host_connections: dict[int, set[int]] = {}
_failures: dict[int, tuple[float, str]] = {}
FAILURE_PAUSE = 15.0  # seconds before a failed provider is asked again


def _on_booking_change(event: events.BookingChanged) -> None:
    _cache.drop(_host_connections.get(event.host_id, set()))


def _on_settings_change(event: events.SettingsChanged) -> None:
    _no_connections.pop(event.host_id, None)


def listen() -> Callable[[], None]:
    """A booking change drops the host's cached busy times (a booking written to the calendar shows there next);
    a settings change (a connection added or removed) drops what is known of the host's connections."""
    _no_connections.clear()  # a new composition (process, or a test's database) knows nothing yet
    stops = [events.subscribe(_on_booking_change), events.subscribe_settings(_on_settings_change)]

    def stop() -> None:
        for unsubscribe in stops:
            unsubscribe()

    return stop


# Hosts known to have no calendar connection (most of them), and until when that is trusted without asking the
# database: pages may answer from it; a booking's re-check under the write lock always asks.
_no_connections: dict[int, float] = {}
NO_CONNECTIONS_SECONDS = 10.0


def surely_without_calendars(host_id: int) -> bool:
    """Whether the host had no calendar connection moments ago (no change of theirs since)."""
    until = _no_connections.get(host_id)
    return until is not None and until > time.monotonic()


def reset_cache(host_id: int | None = None) -> None:
    """Forget cached busy times (of one host, or of everybody)."""
    if host_id is None:
        _no_connections.clear()
    else:
        _no_connections.pop(host_id, None)
    with _cache.lock:
        ids = set(_cache.entries) if host_id is None else set(_host_connections.get(host_id, set()))
    _cache.drop(ids)
    for connection_id in ids if host_id is not None else list(_failures):
        _failures.pop(connection_id, None)


_NONE_READ = 'cloudmeet_hosts_without_connections'


def read_none(session: Session, host_id: int) -> bool:
    """Whether this unit of work already read that the host has no calendar connection."""
    return host_id in session.info.get(_NONE_READ, ())


def connections(session: Session, *, host_id: int) -> list[Connection]:
    known = kept_settings.kept(session, host_id)
    rows = (
        []
        if known is not None and known.no_connections  # this unit of work knows there are none
        else session.exec(
            select(CalendarConnection).where(CalendarConnection.host_id == host_id).order_by(col(CalendarConnection.id))
        ).all()
    )
    if not rows:  # most hosts: one cheap query and done
        _host_connections[host_id] = set()
        _no_connections[host_id] = time.monotonic() + NO_CONNECTIONS_SECONDS
        session.info.setdefault(_NONE_READ, set()).add(host_id)
        return []
    _no_connections.pop(host_id, None)
    session.info.get(_NONE_READ, set()).discard(host_id)
    host = session.get(Host, host_id)
    found = [Connection.of(r, zone=host.timezone if host else 'UTC') for r in rows]
    _host_connections[host_id] = {c.id for c in found}
    return found


def busy_times(
    *, host_id: int, start: datetime, end: datetime, session: Session | None = None, mode: str = 'page'
) -> HostBusy:
    """Every connected calendar's busy times in [start, end), and why some could not be checked.

    `mode` 'page' (showing free times) answers from the cache when it is fresh, and while it is being refreshed in
    the background up to the tolerance; 'booking' (before a booking's write) insists on fresh data and fetches it
    now; 'locked' (the re-check inside a write transaction) never asks a provider: it uses fresh cached data or
    reports the calendar as not checked. Inside a write transaction pass its `session`, so that no second
    connection is taken while the lock is held."""
    if session is None:
        with session_scope() as own:
            found = connections(own, host_id=host_id)
    else:
        found = connections(session, host_id=host_id)
    if not found:
        return HostBusy([])
    lo, hi = _day(start), _day(end) + timedelta(days=1)
    results = list(_pool.map(lambda c: _busy_of(c, lo, hi, mode), found))
    busy = [block for blocks, _ in results for block in blocks]
    problems = [problem for _, problem in results if problem]
    return HostBusy(sorted(busy, key=lambda b: (b.start, b.end)), '; '.join(problems))


def busy_times_of_hosts(
    *, host_ids: list[int], start: datetime, end: datetime, session: Session, mode: str = 'page'
) -> dict[int, HostBusy]:
    """`busy_times` for many hosts at once (a team): one query for their connections, fresh cached windows read
    in place, only the others fetched (in parallel)."""
    # pages may trust a recent 'no connections'; a booking's re-check always asks the database
    wanted = [h for h in host_ids if mode != 'page' or not surely_without_calendars(h)]
    found: dict[int, list[int]] = {h: [] for h in host_ids}
    lo, hi = _day(start), _day(end) + timedelta(days=1)
    results: dict[int, tuple[list[Busy], str]] = {}
    if wanted:
        rows = session.exec(
            select(CalendarConnection.id, CalendarConnection.host_id)
            .where(col(CalendarConnection.host_id).in_(wanted))
            .order_by(col(CalendarConnection.id))
        ).all()
        for connection_id, host_id in rows:
            found[host_id].append(connection_id or 0)
            entry = _cache.find(connection_id or 0, lo, hi)  # fresh cached windows are read in place
            if entry is not None and time.monotonic() - entry.fetched < get_settings().calendar_fresh_seconds:
                results[connection_id or 0] = (entry.busy, '')
        for host_id in wanted:
            _host_connections[host_id] = set(found[host_id])
            if not found[host_id]:
                _no_connections[host_id] = time.monotonic() + NO_CONNECTIONS_SECONDS
            else:
                _no_connections.pop(host_id, None)
        results |= _fetch_busy(session, [i for ids in found.values() for i in ids if i not in results], lo, hi, mode)
    answer = {}
    for host_id, ids in found.items():
        busy = sorted((block for i in ids for block in results[i][0]), key=lambda b: (b.start, b.end))
        answer[host_id] = HostBusy(busy, '; '.join(results[i][1] for i in ids if results[i][1]))
    return answer


def _fetch_busy(
    session: Session, connection_ids: list[int], lo: datetime, hi: datetime, mode: str
) -> dict[int, tuple[list[Busy], str]]:
    """Busy times of connections whose cache is not fresh, in parallel (their secrets decrypted only now)."""
    if not connection_ids:
        return {}
    rows = session.exec(select(CalendarConnection).where(col(CalendarConnection.id).in_(connection_ids))).all()
    zones = dict(session.exec(select(Host.id, Host.timezone).where(col(Host.id).in_({r.host_id for r in rows}))).all())
    every = [Connection.of(row, zone=zones.get(row.host_id, 'UTC')) for row in rows]
    return dict(zip([c.id for c in every], _pool.map(lambda c: _busy_of(c, lo, hi, mode), every)))


def _busy_of(connection: Connection, start: datetime, end: datetime, mode: str) -> tuple[list[Busy], str]:
    settings = get_settings()
    entry, now = _cache.find(connection.id, start, end), time.monotonic()
    age = now - entry.fetched if entry else None
    fresh = entry is not None and age is not None and age < settings.calendar_fresh_seconds
    tolerable = entry is not None and age is not None and age < settings.calendar_tolerance_seconds
    name = providers.provider_name(connection.provider)
    if fresh and entry is not None:
        return entry.busy, ''
    if mode == 'locked':
        return [Busy(start, end)], f'{name} {connection.label}: not checked in time'.strip()
    if mode == 'page' and tolerable and entry is not None:
        with _cache.lock:
            start_refresh = not entry.refreshing
            entry.refreshing = True
        if start_refresh:  # serve what we have; refresh it behind the scenes
            _pool.submit(_background_refresh, connection, entry)
        return entry.busy, ''
    failed = _failures.get(connection.id)
    if failed and now - failed[0] < FAILURE_PAUSE:  # do not hammer a provider that just failed
        return ([Busy(start, end)], failed[1]) if not tolerable else (entry.busy, '')  # type: ignore[union-attr]
    try:
        return _refresh(connection, start, end), ''
    except ProviderError as exc:
        problem = f'{name} {connection.label}: {exc}'.strip()
        _failures[connection.id] = (time.monotonic(), problem)
        if tolerable:  # the provider failed, but what we saw a few minutes ago is within the tolerance
            return entry.busy, ''  # type: ignore[union-attr]
        return [Busy(start, end)], problem


def _background_refresh(connection: Connection, entry: _Entry) -> None:
    try:
        _refresh(connection, entry.start, entry.end)
    except ProviderError:
        _failures[connection.id] = (time.monotonic(), 'refresh failed')
    finally:
        entry.refreshing = False


def _refresh(connection: Connection, start: datetime, end: datetime) -> list[Busy]:
    try:
        busy = _ask(connection, start, end)
    except ReconnectNeeded as exc:
        status.record(connection.id, 'reconnect_needed', str(exc))
        raise
    except ProviderError as exc:
        log.warning('calendar %s of host %s could not be read: %s', connection.id, connection.host_id, exc)
        status.record(connection.id, 'error', str(exc))
        raise
    _cache.put(connection.id, _Entry(start, end, busy, time.monotonic()))
    _failures.pop(connection.id, None)
    status.record(connection.id, 'ok', '')
    return busy


def _ask(connection: Connection, start: datetime, end: datetime) -> list[Busy]:
    """The provider's answer, timed (and a failure counted) for the metrics."""
    asked = time.perf_counter()
    try:
        return providers.provider_for(connection.provider, get_settings()).busy(connection, start, end)
    except ProviderError:
        CALENDAR_FETCH_ERRORS.labels(connection.provider).inc()
        raise
    finally:
        CALENDAR_FETCH_SECONDS.labels(connection.provider).observe(time.perf_counter() - asked)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
