"""What a booking's write reads of its host's settings, kept between bookings: the event type, the host (profile and
e-mail preferences), the schedule the event type follows, and whether the host has any calendar connection or active
webhook at all.

The database counts every change of those in `settings_version` (triggers of migration 0016, so no writer can
forget it: a service, the CLI, another process, a fix made by hand). A booking reads that one number under its write
lock (the lock itself on PostgreSQL) and uses what it kept when the number is unchanged; otherwise it reads them
again, under the same lock, and keeps those. The readers of a unit of work (`kept(session, host_id)`) then answer
from it instead of asking the database again. The pages' read models are the offer cache's, not these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import CalendarConnection, EventType, Host, Schedule, SettingsVersion, WebhookSubscription
from services import schedules

_KEY = 'cloudmeet_kept_settings'
KEEP_SECONDS = 60.0  # read again after a minute anyway (memory of deleted event types goes; a restored backup's
# counts, which can meet a kept number again, are trusted at most this long)
_HOST = Host.__table__  # type: ignore[attr-defined]  # SQLModel tables are untyped here
_COUNT = SettingsVersion.__table__  # type: ignore[attr-defined]
# FOR UPDATE OF host locks the host's row on PostgreSQL; SQLite renders none (its writers hold BEGIN IMMEDIATE's lock).
# A host whose settings never changed since migration 0016 has no count yet: 0.
_LOCK = (
    sa.select(_HOST.c.created_at, sa.func.coalesce(_COUNT.c.version, 0))
    .select_from(_HOST.outerjoin(_COUNT, _COUNT.c.host_id == _HOST.c.id))
    .where(_HOST.c.id == sa.bindparam('id'))
    .with_for_update(of=_HOST)
)


@dataclass(frozen=True, slots=True)
class Kept:
    version: int
    event_type: EventType  # detached snapshots: read them, never add them to a session
    host: Host
    schedule: Schedule
    no_connections: bool  # the host has no calendar connection (with some, they are read as before)
    no_webhooks: bool  # nor an active webhook subscription


_kept: dict[int, tuple[float, Kept]] = {}  # by event type id: (until, settings)


def for_booking(session: Session, *, host_id: int, event_type_id: int) -> Kept:
    """Lock the host for this write transaction and give its settings as they are now, from memory when the host's
    settings version says nothing changed since they were read. NotFound when the host or event type is gone (or
    the event type belongs to another host)."""
    row = session.execute(_LOCK, {'id': host_id}).first()
    if row is None:
        raise NotFound('Host not found')
    created_at, version = row
    now = time.monotonic()
    until, found = _kept.get(event_type_id, (0.0, None))
    # (the host's creation too: a later host that got a deleted host's id is not taken for it)
    if (
        found is None
        or until < now
        or (found.version, found.host.id, found.host.created_at) != (version, host_id, created_at)
    ):
        found = _read(session, host_id, event_type_id, version)
        for key in [key for key, (until, _) in list(_kept.items()) if until < now]:  # (a copy: other threads add)
            _kept.pop(key, None)
        _kept[event_type_id] = (now + KEEP_SECONDS, found)
    session.info[_KEY] = found
    return found


def kept(session: Session, host_id: int) -> Kept | None:
    """The settings this unit of work has proven current for `host_id`, if it has."""
    found: Kept | None = session.info.get(_KEY)
    return found if found is not None and found.host.id == host_id else None


def _read(session: Session, host_id: int, event_type_id: int, version: int) -> Kept:
    # Read now, under the lock, even when this unit of work loaded them before it (a caller that did not know the
    # host looked the event type up first). The host's picture is neither needed nor copied into memory.
    event_type = session.get(EventType, event_type_id, populate_existing=True)
    host = session.get(
        Host,
        host_id,
        populate_existing=True,
        options=[defer(cast('QueryableAttribute[Any]', Host.avatar), raiseload=True)],
    )
    if event_type is None or host is None or event_type.host_id != host_id:
        raise NotFound('This meeting can no longer be booked.')
    schedule = (
        session.get(Schedule, event_type.schedule_id, populate_existing=True)
        if event_type.schedule_id is not None
        else None
    )
    if schedule is None:
        schedule = schedules.default_schedule(session=session, host_id=host_id)
    connection = session.exec(select(CalendarConnection.id).where(CalendarConnection.host_id == host_id).limit(1))
    webhook = session.exec(
        select(WebhookSubscription.id)
        .where(WebhookSubscription.host_id == host_id, col(WebhookSubscription.active).is_(True))
        .limit(1)
    )
    no_connections, no_webhooks = connection.first() is None, webhook.first() is None
    for row in (event_type, host, schedule):  # kept beyond this unit of work, which may yet roll back (and expire them)
        session.expunge(row)
    return Kept(version, event_type, host, schedule, no_connections, no_webhooks)
