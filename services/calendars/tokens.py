"""Access tokens of account connections: Microsoft rotates refresh tokens, and the newer one is stored (encrypted)
in place of the old."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from app import crypto
from app.config import Settings
from app.db import session_scope
from app.models import CalendarConnection
from services.calendars import microsoft

log = logging.getLogger(__name__)
_writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix='calendar-tokens')


def microsoft_token(connection_id: int, refresh_token: str, settings: Settings) -> str:
    """An access token for a Microsoft connection; a refresh token Microsoft rotated is stored (encrypted)."""
    token, newer = microsoft.access_token(refresh_token, settings)
    if newer != refresh_token:  # stored in the background: the caller may hold a write transaction
        _writer.submit(_store_secret, connection_id, newer)
    return token


def _store_secret(connection_id: int, secret: str) -> None:
    try:
        with session_scope(write=True) as session:
            row = session.get(CalendarConnection, connection_id)
            if row is not None:
                row.secret_encrypted = crypto.encrypt(secret)
                session.add(row)
    except Exception:
        log.exception('could not store the renewed token of calendar %s', connection_id)
