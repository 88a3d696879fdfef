"""New bookings per client address (CLOUDMEET_BOOKING_RATE_LIMIT), counted in the database so that every process
shares one count: one address cannot fill a host's calendar or send mail to strangers."""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from app.errors import RateLimited
from app.models import BookingRateEvent


def admit(session: Session, *, address: str, rate: tuple[int, int] | None, now: datetime) -> BookingRateEvent | None:
    """Count one new booking from this address, or raise RateLimited saying when the next one is allowed. Call it in
    the booking's own write transaction, before the booking: one that is refused or fails counts nothing."""
    if rate is None:
        return None
    limit, window = rate
    key, since = client_key(address), now - timedelta(seconds=window)
    if session.get_bind().dialect.name == 'postgresql':  # SQLite's write lock already serialises this
        session.execute(sa.text('SELECT pg_advisory_xact_lock(hashtext(:key))'), {'key': f'booking-rate {key}'})
    session.execute(delete(BookingRateEvent).where(col(BookingRateEvent.created_at) < since))
    recent = session.exec(
        select(BookingRateEvent.created_at)
        .where(BookingRateEvent.client == key)
        .order_by(col(BookingRateEvent.created_at))
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        wait = max(1, math.ceil((recent[0] + timedelta(seconds=window) - now).total_seconds()))
        raise RateLimited(
            f'You have made {limit} bookings in a short time. To protect the hosts, please wait about '
            f'{_minutes(wait)} before booking again.',
            retry_after=wait,
        )
    event = BookingRateEvent(client=key, created_at=now)
    session.add(event)
    return event


def uncount(session: Session, event: BookingRateEvent | None) -> None:
    """Take back a count (the request replayed a booking already made: nothing new was booked)."""
    if event is not None:
        session.delete(event)


def client_key(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64 (one customer's network hands out many addresses)."""
    try:
        ip = ipaddress.ip_address(address.split('%')[0])
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ip.ipv4_mapped or ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return '1 minute' if minutes == 1 else f'{minutes} minutes'
