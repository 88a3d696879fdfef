"""Each connection's status as the host sees it (working, cannot be read, reconnect needed), and the one e-mail
that asks the host to reconnect a calendar whose grant the provider refused."""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor

from app.config import get_settings
from app.db import session_scope
from app.models import CalendarConnection, Host
from services.calendars.providers import provider_name

log = logging.getLogger(__name__)
_writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix='calendar-status')


def record(connection_id: int, status: str, detail: str) -> None:
    """Note the connection's status in the background: the caller may be inside a write transaction."""
    _writer.submit(_write, connection_id, status, detail)


def mark_reconnect_needed(connection_id: int, detail: str) -> None:
    """The provider refused the stored grant: the pages say so and the host is e-mailed once."""
    record(connection_id, 'reconnect_needed', detail)


def _write(connection_id: int, status: str, detail: str) -> None:
    try:
        with session_scope(write=True) as session:
            row = session.get(CalendarConnection, connection_id)
            notify = None
            if row is not None and (row.status, row.status_detail) != (status, detail[:300]):
                row.status, row.status_detail = status, detail[:300]
                if status == 'reconnect_needed' and not row.reconnect_notice_sent:
                    row.reconnect_notice_sent = True  # claimed in the transaction: the host is told once
                    notify = (CalendarConnection(**row.model_dump()), session.get(Host, row.host_id))
                session.add(row)
        if notify is not None:  # sent after the commit, outside any transaction
            _tell_host_to_reconnect(*notify)
    except Exception:
        log.exception('could not record the status of calendar %s', connection_id)


def _tell_host_to_reconnect(row: CalendarConnection, host: Host | None) -> None:
    """Once per broken grant: an e-mail to the host (the dashboard shows a banner as well)."""
    from services.notifications import mailers
    from services.notifications.templates import notice_message

    settings = get_settings()
    if host is None:
        return
    name = provider_name(row.provider)
    message = notice_message(
        to_email=host.email,
        subject=f'Please reconnect your {name}',
        mail_from=settings.mail_from,
        kind='calendar_reconnect',
        button=('Reconnect', f'{settings.public_url}/integrations'),
        intro=(
            f"{name} ({row.label}) no longer accepts CloudMeet's access, so your booking pages offer no times "
            'that this calendar would have to confirm. Reconnect it to go on.'
        ),
    )
    mailers.mailer_from_settings(settings).send(message, f'calendar-reconnect.{row.id}.{secrets.token_hex(4)}')
