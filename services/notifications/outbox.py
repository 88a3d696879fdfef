"""The e-mail outbox: messages recorded in the transaction of the change that causes them, claimed atomically.

A row is claimed by one worker at a time (an UPDATE that only a pending or abandoned row satisfies, `SKIP LOCKED`
on PostgreSQL, the database-wide write lock on SQLite), so two processes never send the same message; a worker
that dies after claiming leaves a lease that expires, so a crash delays a message and never loses it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, text, update
from sqlmodel import Session, col, select

from app.models import BOOKING_CONFIRMED, Booking, Host, OutboxMessage
from services import webhooks
from services.calendars import events as calendar_events
from services.notifications.preferences import KINDS, preference, reminder_offsets

PENDING, SENDING, SENT, FAILED, SKIPPED, CANCELLED = 'pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled'
CALENDAR_SYNC = 'calendar_sync'  # not an e-mail: the booking's event in the host's calendar
LEASE = timedelta(minutes=5)
TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]  # SQLModel tables are untyped here
DUE_TYPE = TABLE.c.due_at.type
MAX_ATTEMPTS = 8
WORKER_ID = f'{socket.gethostname()}:{os.getpid()}'[:80]


def record(
    session: Session,
    *,
    booking: Booking,
    host: Host,
    change: str,
    now: datetime,
    old_start: datetime | None = None,
    old_end: datetime | None = None,
    reason: str = '',
    mail: bool = True,
    calendar: bool | None = None,
) -> None:
    """Queue the e-mails and the calendar write a booking change causes (the caller commits them with the change).
    `mail=False` (erasure) queues the calendar write alone; `calendar` says whether the host's calendar holds (or
    is to hold) the booking's event, by default when it is confirmed.

    `change` is 'created', 'requested' (a pending request), 'confirmed', 'declined', 'rescheduled' or
    'cancelled'. Reminders of the booking's earlier times are withdrawn and new ones planned, so a moved or
    cancelled booking's old reminder is never sent; a pending request gets neither reminders nor a calendar event
    until the host confirms it.
    """
    assert booking.id is not None and host.id is not None
    context: dict[str, Any] = {
        'start': booking.start_at.isoformat(),
        'end': booking.end_at.isoformat(),
        'sequence': booking.sequence,
    }
    if old_start and old_end:  # with the event it had there (a seated booking leaves its start's event)
        context |= {
            'old_start': old_start.isoformat(),
            'old_end': old_end.isoformat(),
            'old_event_id': booking.calendar_event_id,
        }
    if reason:
        context['reason'] = reason
    kinds = CHANGE_KINDS[change]
    confirmed = booking.status == BOOKING_CONFIRMED
    rows: list[dict[str, Any]] = []
    for kind in kinds if mail else ():
        if preference(host, kind).enabled:
            rows.append(_row(booking, kind, f'{booking.uid}.{kind}.{booking.sequence}', now, context, now))
    if (confirmed if calendar is None else calendar) and calendar_events.has_writer(session, host_id=host.id):
        rows.append(_row(booking, CALENDAR_SYNC, f'{booking.uid}.calendar.{booking.sequence}', now, context, now))
    if change not in ('created', 'requested'):
        withdraw_reminders(session, booking_id=booking.id)
    if confirmed and preference(host, 'reminder').enabled:
        for offset in reminder_offsets(host):
            due = booking.start_at - timedelta(minutes=offset)
            if due > now:  # a reminder already due at booking time would only repeat the confirmation
                rows.append(
                    _row(
                        booking,
                        'reminder',
                        f'{booking.uid}.reminder.{offset}.{booking.sequence}',
                        due,
                        context | {'offset': offset},
                        now,
                    )
                )
    if rows:  # one statement for all of them
        session.execute(TABLE.insert(), rows)  # Core: the ORM's bulk insert adds nothing for plain rows
    # the host's webhooks, in this same transaction: every path that changes a booking emits exactly its event
    webhooks.record(session, booking=booking, host=host, event=webhooks.event_for(change, booking), now=now)


CHANGE_KINDS: dict[str, tuple[str, ...]] = {
    'created': ('confirmation', 'host_booking'),
    'requested': ('request', 'host_request'),
    'confirmed': ('confirmation',),
    'declined': ('declined',),
    'rescheduled': ('reschedule', 'host_reschedule'),
    'cancelled': ('cancellation', 'host_cancellation'),
}


def record_message(
    session: Session, *, booking: Booking, host: Host, kind: str, key: str, now: datetime, context: dict[str, Any]
) -> None:
    """Queue one message of any kind (a proposal, say) with its own key, unless the host switched the kind off."""
    if preference(host, kind).enabled:
        _add(session, booking, kind, key, now, context, now)


def withdraw_reminders(session: Session, *, booking_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.booking_id) == booking_id,
            col(OutboxMessage.kind) == 'reminder',
            col(OutboxMessage.status) == PENDING,
        )
        .values(status=CANCELLED)
    )


def claim(session: Session, *, now: datetime, limit: int, worker: str = WORKER_ID) -> list[int]:
    """Claim up to `limit` due messages for this worker; the same row is never claimed by two live workers."""
    due = "status IN ('pending', 'sending') AND due_at <= :now AND (status = 'pending' OR claimed_until < :now)"
    picked = f'SELECT id FROM outbox WHERE {due} ORDER BY due_at LIMIT :limit'
    if session.get_bind().dialect.name == 'postgresql':
        # ARRAY(...) runs the locking subquery once; a plain IN (...) may become a semi-join that rescans it, and
        # each rescan locks (and claims) further rows past the limit.
        picked = f'id = ANY(ARRAY({picked} FOR UPDATE SKIP LOCKED))'
    else:
        picked = f'id IN ({picked})'
    statement = text(
        f"UPDATE outbox SET status = 'sending', claimed_by = :worker, claimed_until = :lease, "
        f'attempts = attempts + 1 WHERE {due} AND {picked} RETURNING id'
    ).bindparams(bindparam('now', type_=DUE_TYPE), bindparam('lease', type_=DUE_TYPE))
    rows = session.execute(statement, {'now': now, 'lease': now + LEASE, 'worker': worker, 'limit': limit})
    return sorted(row[0] for row in rows)


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int
    status: str  # SENT, SKIPPED, FAILED, or PENDING again for a retry at `due_at`
    error: str = ''
    due_at: datetime | None = None


def delivery_failed(message: OutboxMessage, error: str, *, permanent: bool, now: datetime) -> Outcome:
    """Retry with backoff (1, 2, 4 ... minutes, at most an hour); give up on a permanent error or the last try."""
    assert message.id is not None
    if permanent or message.attempts >= MAX_ATTEMPTS:
        return Outcome(message.id, FAILED, error)
    delay = timedelta(seconds=min(60 * 2 ** max(message.attempts - 1, 0), 3600))
    return Outcome(message.id, PENDING, error, now + delay)


def finish(session: Session, outcomes: list[Outcome], *, now: datetime, worker: str = WORKER_ID) -> None:
    """Record what happened to claimed messages (only while this worker still holds the claim)."""
    mine = (col(OutboxMessage.status) == SENDING) & (col(OutboxMessage.claimed_by) == worker)
    sent = [o.id for o in outcomes if o.status == SENT]
    if sent:  # the common case, in one statement
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(sent), mine)
            .values(status=SENT, sent_at=now, last_error='', claimed_until=None)
        )
    for outcome in outcomes:
        if outcome.status == SENT:
            continue
        values: dict[str, Any] = {'status': outcome.status, 'last_error': outcome.error[:500], 'claimed_until': None}
        if outcome.due_at is not None:
            values['due_at'] = outcome.due_at
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == outcome.id, mine).values(**values))


def release(session: Session, *, worker: str) -> int:
    """Give back every claim this worker holds (after a failed pass): due again at once, the claim's attempt not
    counted. Returns how many."""
    mine = (col(OutboxMessage.status) == SENDING) & (col(OutboxMessage.claimed_by) == worker)
    result = session.execute(
        update(OutboxMessage)
        .where(mine)
        .values(status=PENDING, claimed_by='', claimed_until=None, attempts=col(OutboxMessage.attempts) - 1)
    )
    return cast(CursorResult[Any], result).rowcount


def next_due(session: Session) -> datetime | None:
    """When the next pending message falls due (for waking the worker at the right moment)."""
    return session.exec(
        select(OutboxMessage.due_at).where(OutboxMessage.status == PENDING).order_by(col(OutboxMessage.due_at)).limit(1)
    ).first()


def deliveries(session: Session, *, booking_id: int | None) -> list[dict[str, Any]]:
    """A booking's messages and their delivery status, as its host sees them (none before it is stored)."""
    if booking_id is None:
        return []
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.booking_id == booking_id)
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
    )
    return [
        {
            'kind': m.kind,
            'label': KINDS[m.kind].label if m.kind in KINDS else _OTHER_LABELS.get(m.kind, m.kind),
            'status': m.status,
            'due_at': m.due_at.isoformat(),
            'sent_at': m.sent_at.isoformat() if m.sent_at else None,
            'attempts': m.attempts,
            'error': m.last_error,
        }
        for m in rows
    ]


_OTHER_LABELS = {CALENDAR_SYNC: 'Calendar event', webhooks.KIND: 'Webhook'}


def _add(
    session: Session, booking: Booking, kind: str, key: str, due: datetime, context: dict[str, Any], now: datetime
) -> None:
    session.execute(TABLE.insert(), [_row(booking, kind, key, due, context, now)])


def _row(
    booking: Booking, kind: str, key: str, due: datetime, context: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        'key': key,
        'host_id': booking.host_id,
        'booking_id': booking.id,
        'kind': kind,
        'status': PENDING,
        'due_at': due,
        'context': context,
        'attempts': 0,
        'claimed_by': '',
        'last_error': '',
        'created_at': now,
    }


def release_abandoned(session: Session) -> int:
    """Give back the claims of workers of this machine that no longer run (a process killed, or this container's
    previous life under the same process id), instead of waiting for their leases. Returns how many."""
    prefix = f'{socket.gethostname()}:'
    workers = session.exec(
        select(OutboxMessage.claimed_by)
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_by).startswith(prefix))
        .distinct()
    ).all()
    return sum(release(session, worker=worker) for worker in workers if _gone(worker[len(prefix) :]))


def _gone(pid: str) -> bool:
    """Whether the process of this id on this machine is gone (our own id: a previous life of this process)."""
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
