"""Attempts counted against a limit in the database, so that every process shares the count: wrong manage tokens
(per booking and address, and per address) and sign-in link requests (per address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from app.db import session_scope
from app.models import RateEvent
from services.booking_limits import client_key


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    attempts: int
    window: timedelta


WRONG_TOKEN = Limit('token', 20, timedelta(minutes=10))  # per booking and address
WRONG_TOKENS = Limit('token-address', 200, timedelta(minutes=10))  # per address, whatever the booking
LOGIN_LINKS = Limit('login-link', 10, timedelta(minutes=15))  # per address


def wrong_token(*, uid: str, address: str, now: datetime) -> bool:
    """Count a wrong manage token; whether this booking and address (or this address) was already over its limit.
    Only wrong guesses are refused: the right token always works, so nobody can lock the real invitee out."""
    key = client_key(address)
    with session_scope(write=True) as session:
        over = _count(session, WRONG_TOKEN, f'{key} {uid[:100]}', now)
        return _count(session, WRONG_TOKENS, key, now) or over


def login_link_requested(*, address: str, now: datetime) -> bool:
    """Count a sign-in link request; whether this address was already over its limit."""
    with session_scope(write=True) as session:
        return _count(session, LOGIN_LINKS, client_key(address), now)


def _count(session: Session, limit: Limit, key: str, now: datetime) -> bool:
    since = now - limit.window
    session.execute(delete(RateEvent).where(col(RateEvent.kind) == limit.kind, col(RateEvent.created_at) < since))
    recent = session.exec(
        select(func.count())
        .select_from(RateEvent)
        .where(col(RateEvent.kind) == limit.kind, col(RateEvent.key) == key, col(RateEvent.created_at) >= since)
    ).one()
    session.add(RateEvent(kind=limit.kind, key=key, created_at=now))
    return int(recent) >= limit.attempts
