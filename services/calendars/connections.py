"""Connecting and disconnecting calendars. Several per host (two Google accounts, a CalDAV account and a feed, say),
each with its status; the secrets (tokens, feed addresses, CalDAV passwords) are encrypted at rest and disconnecting
revokes Google's access."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import crypto, db, events
from app.config import get_settings
from app.errors import InvalidInput, NotFound, Unavailable
from app.models import CalendarConnection, OutboxMessage, utcnow
from services import validation
from services.calendars import busy, caldav, feeds, providers
from services.calendars import events as calendar_events
from services.calendars.errors import ProviderError

log = logging.getLogger(__name__)
MAX_CONNECTIONS = 10


def list_connections(session: Session, *, host_id: int) -> list[CalendarConnection]:
    return list(
        session.exec(
            select(CalendarConnection).where(CalendarConnection.host_id == host_id).order_by(col(CalendarConnection.id))
        )
    )


def get_connection(session: Session, *, host_id: int, connection_id: int) -> CalendarConnection:
    found = session.get(CalendarConnection, connection_id) if validation.storable_id(connection_id) else None
    if found is None or found.host_id != host_id:
        raise NotFound('Calendar connection not found')
    return found


def add_feed(session: Session, *, host_id: int, url: str, label: str = '') -> CalendarConnection:
    """Subscribe to a secret iCal URL (read-only busy times)."""
    url = feeds.check_url(url, allow_private=get_settings().allow_private_calendar_urls)
    return _add(session, host_id, 'ics', validation.single_line(label or 'Calendar feed', 'Name', 120), url, [])


def add_account(session: Session, *, host_id: int, provider: str, email: str, refresh_token: str) -> CalendarConnection:
    """A Google or Microsoft account (its main calendar counts as busy; the host can choose others). Connecting
    the same account again replaces its token and retries the calendar writes that gave up for want of access."""
    for existing in list_connections(session, host_id=host_id):
        if existing.provider == provider and existing.label == email:
            return _renew(session, existing, refresh_token)
    return _add(session, host_id, provider, email, refresh_token, ['primary'] if provider == 'google' else [])


def connect_caldav(
    *, host_id: int, url: str, username: str, password: str, label: str = '', now: datetime | None = None
) -> int:
    """Connect a CalDAV account after checking, by connecting, that the address and password work (InvalidInput
    otherwise); connecting the same account again replaces its password. No transaction is open while the server is
    asked."""
    account = caldav.Account(url.strip(), validation.single_line(username, 'Username', 254), password)
    caldav.check(account, get_settings())
    with db.session_scope(write=True) as session:
        return add_caldav(session, host_id=host_id, account=account, label=label).id or 0


def connect_feed(*, host_id: int, url: str, label: str = '', now: datetime | None = None) -> int:
    """Subscribe to a feed after reading it once (InvalidInput when it cannot be read)."""
    settings = get_settings()
    checked = feeds.check_url(url, allow_private=settings.allow_private_calendar_urls)
    start = now or utcnow()
    try:
        feeds.fetch_busy(
            checked,
            start,
            start + timedelta(days=7),
            zone='UTC',
            allow_private=settings.allow_private_calendar_urls,
            timeout=settings.calendar_timeout_seconds,
        )
    except ProviderError as exc:
        raise InvalidInput(f'The calendar feed could not be read: {exc}') from None
    with db.session_scope(write=True) as session:
        return add_feed(session, host_id=host_id, url=checked, label=label).id or 0


def add_caldav(session: Session, *, host_id: int, account: caldav.Account, label: str = '') -> CalendarConnection:
    """A checked CalDAV account: all its calendars count as busy until the host chooses. The same account (address
    and username) again replaces the password and retries the calendar writes that gave up for want of access."""
    for existing in list_connections(session, host_id=host_id):
        if existing.provider == 'caldav' and _same_account(existing, account):
            return _renew(session, existing, account.secret())
    name = validation.single_line(label, 'Name', 120) if label.strip() else account.label
    return _add(session, host_id, 'caldav', name, account.secret(), [])


def choices(*, host_id: int, connection_id: int) -> list[dict[str, str]]:
    """The calendars (`id`, `name`) the host may choose among for a connection (none for a feed); the provider is
    asked outside any transaction (Unavailable when it cannot answer)."""
    with db.session_scope() as session:
        connection = providers.Connection.of(get_connection(session, host_id=host_id, connection_id=connection_id))
    try:
        return providers.provider_for(connection.provider, get_settings()).calendars(connection)
    except ProviderError as exc:
        raise Unavailable(f'The calendars could not be listed: {exc}') from None


def choose(
    *,
    host_id: int,
    connection_id: int,
    busy_calendars: list[str] | None = None,
    target_calendar: str | None = None,
    receives_events: bool = False,
) -> None:
    """The host's choices for a connection: which of its calendars count as busy and which receives new bookings
    (each one the provider lists), and whether new bookings go to this connection."""
    if busy_calendars is not None or target_calendar:
        known = {c['id'] for c in choices(host_id=host_id, connection_id=connection_id)}
        unknown = [
            c for c in [*(busy_calendars or []), *([target_calendar] if target_calendar else [])] if c not in known
        ]
        if unknown:
            raise InvalidInput(f'Unknown calendar: {unknown[0][:200]} (see the choices of this connection)')
    with db.session_scope(write=True) as session:
        if busy_calendars is not None:
            set_busy_calendars(
                session, host_id=host_id, connection_id=connection_id, calendars=busy_calendars, target=target_calendar
            )
        elif target_calendar is not None:
            connection = get_connection(session, host_id=host_id, connection_id=connection_id)
            connection.target_calendar = target_calendar[:300]
            session.add(connection)
            db.after_commit(session, events.SettingsChanged(host_id))
        if receives_events:
            receive_events(session, host_id=host_id, connection_id=connection_id)


def caldav_details(session: Session, *, host_id: int, connection_id: int) -> tuple[str, str]:
    """A CalDAV connection's address and username (to reconnect it with a new password; never the password)."""
    connection = get_connection(session, host_id=host_id, connection_id=connection_id)
    if connection.provider != 'caldav':
        raise NotFound('Calendar connection not found')
    account = caldav.Account.of(crypto.decrypt(connection.secret_encrypted))
    return account.url, account.username


def receive_events(session: Session, *, host_id: int, connection_id: int) -> None:
    """New bookings are written to this calendar (Google, Microsoft or CalDAV) from now on."""
    chosen = get_connection(session, host_id=host_id, connection_id=connection_id)
    if chosen.provider not in providers.WRITERS:
        raise InvalidInput('New bookings can be written to Google, Microsoft or CalDAV calendars only')
    for connection in list_connections(session, host_id=host_id):
        connection.receives_events = connection.id == chosen.id
        session.add(connection)
    db.after_commit(session, events.SettingsChanged(host_id))


def _renew(session: Session, existing: CalendarConnection, secret: str) -> CalendarConnection:
    """A reconnected account: the new secret, a clean status, and the writes that gave up tried again."""
    existing.secret_encrypted = crypto.encrypt(secret)
    existing.status, existing.status_detail, existing.reconnect_notice_sent = 'ok', '', False
    session.add(existing)
    session.flush()
    _retry_calendar_jobs(session, existing.host_id)
    busy.reset_cache()
    db.after_commit(session, events.SettingsChanged(existing.host_id))
    return existing


def _same_account(row: CalendarConnection, account: caldav.Account) -> bool:
    stored = caldav.Account.of(crypto.decrypt(row.secret_encrypted))
    return (stored.url.rstrip('/'), stored.username) == (account.url.rstrip('/'), account.username)


def _retry_calendar_jobs(session: Session, host_id: int) -> None:
    """After a reconnect, the calendar writes that gave up for want of access are tried again."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.host_id) == host_id,
            col(OutboxMessage.kind) == 'calendar_sync',
            col(OutboxMessage.status) == 'failed',
        )
        .values(status='pending', attempts=0, last_error='', due_at=utcnow())
    )


def set_busy_calendars(
    session: Session, *, host_id: int, connection_id: int, calendars: list[str], target: str | None = None
) -> None:
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
    return {
        'id': connection.id,
        'provider': connection.provider,
        'label': connection.label,
        'status': connection.status,
        'status_detail': connection.status_detail,
        'busy_calendars': connection.busy_calendars,
        'receives_events': connection.receives_events,
        'target_calendar': connection.target_calendar,
    }


def overview(session: Session, *, host_id: int) -> list[dict[str, Any]]:
    """Every connection as the API shows it: kind, status, choices, whether new bookings go there; no secret."""
    destination = calendar_events.destination(session, host_id=host_id)
    return [
        {
            'id': c.id,
            'kind': c.provider,
            'label': c.label,
            'status': c.status,
            'status_detail': c.status_detail,
            'busy_calendars': c.busy_calendars,
            'target_calendar': c.target_calendar,
            'receives_events': destination is not None and c.id == destination.id,
            'created_at': c.created_at.isoformat(),
        }
        for c in list_connections(session, host_id=host_id)
    ]


def _add(
    session: Session, host_id: int, provider: str, label: str, secret: str, calendars: list[str]
) -> CalendarConnection:
    if len(list_connections(session, host_id=host_id)) >= MAX_CONNECTIONS:
        raise InvalidInput(f'At most {MAX_CONNECTIONS} calendars per host')
    connection = CalendarConnection(
        host_id=host_id,
        provider=provider,
        label=label[:254],
        secret_encrypted=crypto.encrypt(secret),
        busy_calendars=calendars,
    )
    session.add(connection)
    session.flush()
    busy.reset_cache()
    db.after_commit(session, events.SettingsChanged(host_id))
    return connection
