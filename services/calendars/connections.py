"""Connecting and disconnecting calendars. Several per host (two Google accounts and a feed, say), each with its
status; the secrets are encrypted at rest and disconnecting revokes Google's access."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import crypto, db, events
from app.config import get_settings
from app.errors import InvalidInput, NotFound
from app.models import CalendarConnection, OutboxMessage, utcnow
from services import validation
from services.calendars import busy, feeds, providers

log = logging.getLogger(__name__)
MAX_CONNECTIONS = 10


def list_connections(session: Session, *, host_id: int) -> list[CalendarConnection]:
    return list(session.exec(select(CalendarConnection).where(CalendarConnection.host_id == host_id)
                             .order_by(CalendarConnection.id)))  # type: ignore[arg-type]


def get_connection(session: Session, *, host_id: int, connection_id: int) -> CalendarConnection:
    found = session.get(CalendarConnection, connection_id) if validation.storable_id(connection_id) else None
    if found is None or found.host_id != host_id:
        raise NotFound('Calendar connection not found')
    return found


def add_feed(session: Session, *, host_id: int, url: str, label: str = '') -> CalendarConnection:
    """Subscribe to a secret iCal URL (read-only busy times)."""
    url = feeds.check_url(url, allow_private=get_settings().allow_private_calendar_urls)
    return _add(session, host_id, 'ics', validation.single_line(label or 'Calendar feed', 'Name', 120), url, [])


def add_account(session: Session, *, host_id: int, provider: str, email: str,
                refresh_token: str) -> CalendarConnection:
    """A Google or Microsoft account (its main calendar counts as busy; the host can choose others). Connecting
    the same account again replaces its token and retries the calendar writes that gave up for want of access."""
    for existing in list_connections(session, host_id=host_id):
        if existing.provider == provider and existing.label == email:
            existing.secret_encrypted = crypto.encrypt(refresh_token)
            existing.status, existing.status_detail, existing.reconnect_notice_sent = 'ok', '', False
            session.add(existing)
            session.flush()
            _retry_calendar_jobs(session, host_id)
            busy.reset_cache()
            db.after_commit(session, events.SettingsChanged(host_id))
            return existing
    return _add(session, host_id, provider, email, refresh_token, ['primary'] if provider == 'google' else [])


def receive_events(session: Session, *, host_id: int, connection_id: int) -> None:
    """New bookings are written to this calendar (Google or Microsoft) from now on."""
    chosen = get_connection(session, host_id=host_id, connection_id=connection_id)
    if chosen.provider not in providers.WRITERS:
        raise InvalidInput('New bookings can be written to Google or Microsoft calendars only')
    for connection in list_connections(session, host_id=host_id):
        connection.receives_events = connection.id == chosen.id
        session.add(connection)
    db.after_commit(session, events.SettingsChanged(host_id))


def _retry_calendar_jobs(session: Session, host_id: int) -> None:
    """After a reconnect, the calendar writes that gave up for want of access are tried again."""
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.host_id) == host_id, col(OutboxMessage.kind) == 'calendar_sync',
        col(OutboxMessage.status) == 'failed').values(status='pending', attempts=0, last_error='', due_at=utcnow()))


def set_busy_calendars(session: Session, *, host_id: int, connection_id: int, calendars: list[str],
                       target: str | None = None) -> None:
    """Which of the account's calendars count as busy, and (optionally) which one receives new bookings."""
    connection = get_connection(session, host_id=host_id, connection_id=connection_id)
    if not calendars:
        raise InvalidInput('Choose at least one calendar that counts as busy')
    connection.busy_calendars = [str(c)[:300] for c in calendars][:20]
    if target is not None:
        connection.target_calendar = str(target)[:300]
    session.add(connection)
    busy.reset_cache(host_id)
    db.after_commit(session, events.SettingsChanged(host_id))


def remove(session: Session, *, host_id: int, connection_id: int, revoke: Callable[[str], None]) -> None:
    """Disconnect: revoke Google's access (a failure is logged, the connection goes anyway) and delete it."""
    connection = get_connection(session, host_id=host_id, connection_id=connection_id)
    if connection.provider == 'google':
        try:
            revoke(crypto.decrypt(connection.secret_encrypted))
        except Exception as exc:  # noqa: BLE001 - disconnecting must complete whatever the provider says
            log.warning('revoking a calendar token failed (%s); disconnecting anyway', type(exc).__name__)
    session.delete(connection)
    session.flush()
    busy.reset_cache()
    db.after_commit(session, events.SettingsChanged(host_id))


def connection_json(connection: CalendarConnection) -> dict[str, Any]:
    return {'id': connection.id, 'provider': connection.provider, 'label': connection.label,
            'status': connection.status, 'status_detail': connection.status_detail,
            'busy_calendars': connection.busy_calendars, 'receives_events': connection.receives_events,
            'target_calendar': connection.target_calendar}


def _add(session: Session, host_id: int, provider: str, label: str, secret: str,
         calendars: list[str]) -> CalendarConnection:
    if len(list_connections(session, host_id=host_id)) >= MAX_CONNECTIONS:
        raise InvalidInput(f'At most {MAX_CONNECTIONS} calendars per host')
    connection = CalendarConnection(host_id=host_id, provider=provider, label=label[:254],
                                    secret_encrypted=crypto.encrypt(secret), busy_calendars=calendars)
    session.add(connection)
    session.flush()
    busy.reset_cache()
    db.after_commit(session, events.SettingsChanged(host_id))
    return connection
