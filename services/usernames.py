"""Released usernames stay with their host for 90 days: the old links (`/{old}`, `/{old}/{slug}`, the public API)
lead to the host's current username, and nobody else can take the old one and receive its bookings."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models import Host, ReleasedUsername

RESERVED_FOR = timedelta(days=90)


def release(session: Session, *, host_id: int, username: str, now: datetime) -> None:
    """Keep a username the host just gave up for them (a newer release of the same name restarts the 90 days)."""
    row = session.get(ReleasedUsername, username) or ReleasedUsername(username=username, host_id=host_id)
    row.host_id, row.released_at = host_id, now
    session.add(row)


def claim(session: Session, *, username: str, host_id: int | None, now: datetime) -> None:
    """Refuse a username another host released less than 90 days ago; taking back one's own old username, or one
    whose reservation has run out, ends the reservation."""
    row = session.get(ReleasedUsername, username)
    if row is None:
        return
    if row.host_id != host_id and row.released_at > now - RESERVED_FOR:
        raise Conflict(f"The username '{username}' is taken")
    session.delete(row)
    session.flush()


def moved_to(session: Session, *, username: str, now: datetime) -> str | None:
    """The current username of the host who released this one within 90 days, if any."""
    found = session.exec(
        select(Host.username)
        .join(ReleasedUsername, col(ReleasedUsername.host_id) == Host.id)
        .where(ReleasedUsername.username == username.lower(), ReleasedUsername.released_at > now - RESERVED_FOR)
    ).first()
    return found
