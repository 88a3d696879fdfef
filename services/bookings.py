"""Booking use cases: book, cancel, reschedule. Each re-checks the rules inside the transaction that writes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy import func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import crypto, db, events
from app.errors import Conflict, InvalidInput, NotFound, SlotUnavailable
from app.i18n import N_
from app.models import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    HOLDING,
    LONGEST_BOOKING,
    Booking,
    BookingStatus,
    EventType,
    Host,
    OutboxMessage,
)
from services import availability, event_types, kept_settings, validation, webhooks
from services.notifications import outbox


@dataclass(frozen=True, slots=True)
class Invitee:
    name: str
    email: str
    timezone: str
    notes: str = ''
    answers: dict[str, Any] = field(default_factory=dict)
    clock24: bool | None = None  # the clock the invitee chose on the page (their e-mails and pages keep it)
    locale: str = 'en'  # the invitee's language (their pages, e-mails and reminders keep it)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A booking with its manage token (the one place the plain token exists) and whether it was a replay."""

    booking: Booking
    token: str
    replayed: bool = False


def book_slot(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    idempotency_key: str | None = None,
    warmed: bool = False,
    duration: int | None = None,
) -> Receipt:
    """Book `start` for the invitee, for one of the event type's lengths, if the rules offer it at this moment
    (`warmed`: the caller already asked the host's calendars, outside the write lock). An event type that requires
    confirmation makes a pending request, which holds its time until the host decides; one with seats lets
    invitees book the same start while seats are left (each with their own booking, counted under the lock)."""
    invitee = _clean(invitee, event_type)
    minutes = event_types.chosen_duration(event_type, duration)
    if not warmed:
        availability.warm_calendars(host_id=event_type.host_id, start=start, session=session)
    host = _lock_host(session, event_type.host_id)
    if idempotency_key:
        replay = _replay(session, event_type, start, idempotency_key, invitee)
        if replay is not None:
            return replay
    if not availability.is_offered(session=session, event_type=event_type, start=start, now=now, duration=minutes):
        if event_type.seats > 1 and _seats_taken(session, event_type, start) >= event_type.seats:
            raise SlotUnavailable(N_('All seats at this time were just taken. Please pick another time.'))
        raise SlotUnavailable()
    token, uid = crypto.new_token(), secrets.token_urlsafe(16)
    pending = event_type.requires_confirmation
    booking = Booking(
        uid=uid,
        host_id=event_type.host_id,
        event_type_id=event_type.id,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        seat_key=seat_key(event_type, start) if event_type.seats > 1 else uid,
        status=BookingStatus.PENDING if pending else BookingStatus.CONFIRMED,
        locale=invitee.locale,
        buffer_before_minutes=event_type.buffer_before_minutes,
        buffer_after_minutes=event_type.buffer_after_minutes,
        invitee_name=invitee.name,
        invitee_email=invitee.email,
        invitee_timezone=invitee.timezone,
        clock24=invitee.clock24,
        notes=invitee.notes,
        answers=invitee.answers,
        manage_token_hash=crypto.hash_token(token),
        manage_token_encrypted=crypto.encrypt(token),
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    _record_change(
        session, booking, host, 'requested' if pending else 'created', now, held=event_type.team_id is not None
    )
    return Receipt(booking, token)


def _seats_taken(session: Session, event_type: EventType, start: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.host_id == event_type.host_id,
                Booking.seat_key == seat_key(event_type, start),
                col(Booking.status).in_(HOLDING),
            )
        ).one()
    )


def _minutes(booking: Booking) -> int:
    return int((booking.end_at - booking.start_at).total_seconds() // 60)


def seat_key(event_type: EventType, start: datetime) -> str:
    """What the bookings of one seated start share (the database lets exactly those overlap)."""
    return f'{event_type.id}@{int(start.timestamp())}'


def is_seated(booking: Booking) -> bool:
    """One of the bookings of a seated start (any other booking's seat key is its own uid or random)."""
    return '@' in booking.seat_key


def confirm_booking(*, session: Session, booking: Booking, now: datetime) -> Booking:
    """The host accepts a pending request. Its time was held, yet the re-check runs again under the lock (a
    calendar event may have appeared since): a time that is no longer free is refused and the request stays
    pending. Confirming twice is harmless."""
    host = _lock_host(session, booking.host_id)
    session.refresh(booking)
    if booking.status == BookingStatus.CONFIRMED:
        return booking
    if booking.status != BookingStatus.PENDING:
        raise Conflict(f'This request was {booking.status} and can no longer be confirmed')
    if booking.end_at <= now:
        raise Conflict('This meeting is over; it can no longer be confirmed')
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    # Offered as the rules stood when it was asked for (the notice and window of that moment), against the
    # calendars and bookings of now.
    if event_type is not None and not availability.is_offered(
        session=session,
        event_type=event_type,
        start=booking.start_at,
        now=booking.created_at,
        exclude_uid=booking.uid,
        duration=_minutes(booking),
    ):
        raise SlotUnavailable(
            'That time is no longer free in your calendar; decline the request or propose another time'
        )
    booking.status, booking.decided_at = BookingStatus.CONFIRMED, now
    _record_change(session, booking, host, 'confirmed', now)
    return booking


def decline_booking(*, session: Session, booking: Booking, reason: str, now: datetime) -> Booking:
    """The host turns a pending request down (or its start passed undecided); declining twice is harmless."""
    host = _lock_host(session, booking.host_id)
    session.refresh(booking)
    if booking.status == BookingStatus.DECLINED:
        return booking
    if booking.status != BookingStatus.PENDING:
        raise Conflict(f'This booking is {booking.status}; only pending requests can be declined')
    if len(reason) > 1000:
        raise InvalidInput('The reason must be at most 1000 characters')
    booking.status, booking.decided_at, booking.cancel_reason = BookingStatus.DECLINED, now, reason.strip()
    _record_change(session, booking, host, 'declined', now, reason=booking.cancel_reason)
    return booking


def expired_requests(*, session: Session, now: datetime) -> list[tuple[int, str]]:
    """Pending requests whose start has passed undecided, as (host id, uid)."""
    rows = session.exec(
        select(Booking.host_id, Booking.uid).where(Booking.status == BookingStatus.PENDING, Booking.start_at <= now)
    ).all()
    return [(host_id, uid) for host_id, uid in rows]


def cancel_booking(*, session: Session, booking: Booking, reason: str, now: datetime) -> Booking:
    """Cancel a booking; cancelling twice is harmless."""
    host = _lock_host(session, booking.host_id)
    session.refresh(booking)
    if booking.status == BOOKING_CANCELLED:
        return booking
    _cancel(session, booking, host, reason=reason, now=now)
    return booking


def cancel_upcoming(*, session: Session, host_id: int, reason: str, now: datetime) -> list[Booking]:
    """Cancel every meeting of the host that has not ended yet, each with its notices (closing an account)."""
    host = _lock_host(session, host_id)
    upcoming = list(
        session.exec(
            select(Booking).where(
                Booking.host_id == host_id,
                col(Booking.status).in_(HOLDING),
                Booking.end_at > now,
                col(Booking.parent_id).is_(None),
            )
        )
    )
    for booking in upcoming:
        _cancel(session, booking, host, reason=reason, now=now)
    return upcoming


ERASED_NAME, ERASED_EMAIL = 'Erased on request', 'erased@invalid'


def erase_invitee(*, session: Session, host_id: int, uid: str, now: datetime) -> Booking:
    """Remove an invitee's personal data from one booking. A booking that still stands is cancelled the way every
    cancellation is (sequence raised, its event removed from the host's calendar, open pages told), without
    e-mails: the address is gone."""
    booking = host_booking(session=session, host_id=host_id, uid=uid)
    host = _lock_host(session, host_id)
    session.refresh(booking)
    assert booking.id is not None
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.booking_id) == booking.id, col(OutboxMessage.status) == outbox.PENDING)
        .values(status=outbox.CANCELLED)
    )
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.booking_id) == booking.id).values(context={})
    )  # what was sent (a cancellation reason, say) goes too
    webhooks.withdraw(session, booking=booking)  # its webhook bodies still waiting are not sent either
    booking.invitee_name, booking.invitee_email, booking.notes, booking.answers = ERASED_NAME, ERASED_EMAIL, '', {}
    booking.idempotency_key = None
    if booking.status != BOOKING_CANCELLED:
        _cancel(session, booking, host, reason='', now=now, mail=False)
    else:  # already cancelled: only the dashboards need to hear that the name is gone
        booking.cancel_reason, booking.updated_at = '', now
        session.add(booking)
        db.after_commit(session, events.BookingChanged(booking.host_id, booking.uid, 'cancelled'))
    return booking


def _cancel(session: Session, booking: Booking, host: Host, *, reason: str, now: datetime, mail: bool = True) -> None:
    in_calendar = booking.status == BOOKING_CONFIRMED  # a pending request was never written to the calendar
    booking.status, booking.cancel_reason = BOOKING_CANCELLED, reason.strip()[:1000]
    booking.cancelled_at = now
    _record_change(
        session, booking, host, 'cancelled', now, mail=mail, reason=booking.cancel_reason, calendar=in_calendar
    )


Change = Literal['created', 'requested', 'confirmed', 'declined', 'rescheduled', 'cancelled', 'proposed']


def _record_change(
    session: Session,
    booking: Booking,
    host: Host,
    change: Change,
    now: datetime,
    *,
    mail: bool = True,
    reason: str = '',
    old_start: datetime | None = None,
    old_end: datetime | None = None,
    calendar: bool | None = None,
    held: bool = True,
) -> None:
    """The one transition every booking change ends in (book, move, accept, cancel, decline, erase, propose): the
    .ics sequence raised when the meeting moves or ends (a pending proposal then withdrawn), the row written under
    the database's overlap guarantee, its outbox rows (e-mails, the calendar event) recorded in the same transaction,
    and the change published once that transaction commits. `held=False`: a new booking that surely has no team
    holds (a host's own event type), so none are looked for."""
    booking.updated_at = now
    if change in ('rescheduled', 'cancelled', 'declined'):
        booking.sequence += 1
        _clear_proposal(booking)
    session.add(booking)
    _flush_or_unavailable(session)
    if change == 'proposed':
        _record_proposal(session, booking, host, now)
    else:
        outbox.record(
            session,
            booking=booking,
            host=host,
            change=change,
            now=now,
            mail=mail,
            reason=reason,
            old_start=old_start,
            old_end=old_end,
            calendar=calendar,
        )
        if held and booking.parent_id is None:  # a collective team booking's holds (and its members' notices)
            from services import team_bookings  # (team bookings build on this module)

            team_bookings.follow(
                session, booking, change, now, mail=mail, reason=reason, old_start=old_start, old_end=old_end
            )
    db.after_commit(session, events.BookingChanged(booking.host_id, booking.uid, change))


def _is_team(session: Session, booking: Booking) -> bool:
    """Whether the booking is of a team event type (services/team_bookings.py)."""
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    return event_type is not None and event_type.team_id is not None


def reschedule_booking(
    *, session: Session, booking: Booking, start: datetime, now: datetime, reason: str = ''
) -> Booking:
    """Move a booking atomically: when the new time is refused, it keeps its old one."""
    if _is_team(session, booking):  # every member it may touch is locked and re-checked (and it may re-assign)
        from services import team_bookings

        return team_bookings.reschedule(session=session, booking=booking, start=start, now=now, reason=reason)
    availability.warm_calendars(host_id=booking.host_id, start=start, session=session)
    host = _lock_host(session, booking.host_id)
    session.refresh(booking)
    if booking.status not in HOLDING:
        raise Conflict(f'This booking was {booking.status} and can no longer be moved')
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    if event_type is None or not event_type.active:
        raise Conflict('This meeting can no longer be rescheduled online; please contact the host')
    minutes = _minutes(booking) if _minutes(booking) in event_types.durations(event_type) else None
    minutes = event_types.chosen_duration(event_type, minutes)  # the invitee's length while the type offers it
    if not availability.is_offered(
        session=session, event_type=event_type, start=start, now=now, exclude_uid=booking.uid, duration=minutes
    ):
        raise SlotUnavailable()
    old_start, old_end = booking.start_at, booking.end_at
    booking.start_at, booking.end_at = start, start + timedelta(minutes=minutes)
    booking.seat_key = seat_key(event_type, start) if event_type.seats > 1 else booking.uid
    booking.buffer_before_minutes = event_type.buffer_before_minutes
    booking.buffer_after_minutes = event_type.buffer_after_minutes
    _record_change(
        session, booking, host, 'rescheduled', now, old_start=old_start, old_end=old_end, reason=reason.strip()[:1000]
    )
    if is_seated(booking):  # a seat moved to another start joins that start's event
        booking.calendar_event_id = ''
        session.add(booking)
    return booking


PROPOSAL_LIFETIME = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Proposal:
    start: datetime
    end: datetime
    message: str
    expires_at: datetime


def pending_proposal(booking: Booking, now: datetime) -> Proposal | None:
    """The host's proposed new time, while the booking stands and the proposal has not expired."""
    if booking.proposed_start_at is None or booking.proposal_expires_at is None or booking.status != BOOKING_CONFIRMED:
        return None
    if booking.proposal_expires_at <= now:
        return None
    duration = booking.end_at - booking.start_at
    return Proposal(
        booking.proposed_start_at,
        booking.proposed_start_at + duration,
        booking.proposal_message,
        booking.proposal_expires_at,
    )


def propose_time(*, session: Session, booking: Booking, start: datetime, message: str, now: datetime) -> Booking:
    """The host proposes a free time instead; the invitee is asked by e-mail to accept, decline or pick another."""
    availability.warm_calendars(host_id=booking.host_id, start=start, session=session)
    host = _lock_host(session, booking.host_id)
    session.refresh(booking)
    if booking.status != BOOKING_CONFIRMED:
        raise Conflict('This booking was cancelled; there is nothing to move')
    if booking.end_at <= now:
        raise Conflict('This meeting is over; it can no longer be moved')
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    if event_type is None:
        raise Conflict('The event type of this booking was deleted; it can no longer be moved')
    if start == booking.start_at:
        raise InvalidInput('Propose a time other than the current one')
    if event_type.team_id is not None:
        from services import team_bookings

        offered = team_bookings.is_free_for(
            session=session, booking=booking, event_type=event_type, start=start, now=now
        )
    else:
        offered = bool(
            availability.is_offered(
                session=session, event_type=event_type, start=start, now=now, exclude_uid=booking.uid
            )
        )
    if not offered:
        raise SlotUnavailable('That time is not free; please propose one of the offered times')
    if len(message) > 1000:
        raise InvalidInput('The message must be at most 1000 characters')
    booking.proposed_start_at, booking.proposal_message = start.astimezone(timezone.utc), message.strip()
    booking.proposal_expires_at = now + PROPOSAL_LIFETIME
    _record_change(session, booking, host, 'proposed', now)
    return booking


def _record_proposal(session: Session, booking: Booking, host: Host, now: datetime) -> None:
    proposal = pending_proposal(booking, now)
    assert proposal is not None
    outbox.record_message(
        session,
        booking=booking,
        host=host,
        kind='proposal',
        now=now,
        key=f'{booking.uid}.proposal.{secrets.token_hex(6)}',
        context={
            'start': booking.start_at.isoformat(),
            'end': booking.end_at.isoformat(),
            'sequence': booking.sequence,
            'proposal': {
                'start': proposal.start.isoformat(),
                'end': proposal.end.isoformat(),
                'message': proposal.message,
                'expires_at': proposal.expires_at.isoformat(),
            },
        },
    )


def accept_proposal(*, session: Session, booking: Booking, now: datetime) -> Booking:
    """The invitee takes the proposed time: an atomic move, refused (booking unchanged) if it is no longer free."""
    _lock_host(session, booking.host_id)
    session.refresh(booking)
    proposal = pending_proposal(booking, now)
    if proposal is None:
        raise Conflict('There is no open proposal for this meeting (it may have expired)')
    return reschedule_booking(session=session, booking=booking, start=proposal.start, now=now)


def decline_proposal(*, session: Session, booking: Booking, now: datetime) -> Booking:
    """The invitee declines the proposed time, which cancels the meeting (they can book again at any time)."""
    if pending_proposal(booking, now) is None:
        raise Conflict('There is no open proposal for this meeting (it may have expired)')
    return cancel_booking(
        session=session, booking=booking, reason='The invitee declined the proposed new time', now=now
    )


def booking_for_token(*, session: Session, uid: str, token: str) -> Booking:
    """The booking a manage link names, if the token is its own; anything else is 'not found'."""
    booking = session.exec(select(Booking).where(Booking.uid == uid)).first()
    if booking is None or not crypto.token_matches(token, booking.manage_token_hash):
        raise NotFound('This link is not valid')
    return booking


def host_booking(*, session: Session, host_id: int, uid: str) -> Booking:
    booking = session.exec(select(Booking).where(Booking.uid == uid, Booking.host_id == host_id)).first()
    if booking is None:
        raise NotFound('Booking not found')
    return booking


def list_bookings(
    *, session: Session, host_id: int, status: str, now: datetime, limit: int = 100, offset: int = 0, search: str = ''
) -> list[Booking]:
    """A host's bookings: upcoming (soonest first), past or cancelled (latest first); `search` matches the
    invitee's name or e-mail."""
    query = _filtered(select(Booking), host_id, search).where(*_status_filter(status, now))
    if status == 'upcoming':
        query = query.order_by(Booking.start_at)
    else:
        query = query.order_by(col(Booking.start_at).desc())
    return list(session.exec(query.offset(offset).limit(limit)))


def count_bookings(*, session: Session, host_id: int, status: str, now: datetime, search: str = '') -> int:
    query = _filtered(select(func.count()).select_from(Booking), host_id, search)
    return int(session.exec(query.where(*_status_filter(status, now))).one())


def _status_filter(status: str, now: datetime) -> list[Any]:
    """The conditions of a status tab. Upcoming also bounds start_at (a booking lasts at most LONGEST_BOOKING),
    so the (host, status, start) index reads only the bookings that can still end after `now`, however many
    are past."""
    if status == 'upcoming':
        return [col(Booking.status).in_(HOLDING), Booking.start_at > now - LONGEST_BOOKING, Booking.end_at > now]
    if status == 'pending':
        return [Booking.status == BookingStatus.PENDING, Booking.start_at > now - LONGEST_BOOKING, Booking.end_at > now]
    if status == 'past':
        return [Booking.status == BOOKING_CONFIRMED, Booking.end_at <= now]
    if status == 'cancelled':
        return [col(Booking.status).in_((BOOKING_CANCELLED, BookingStatus.DECLINED))]
    raise InvalidInput("status must be 'upcoming', 'pending', 'past' or 'cancelled'")


def _filtered(query: Any, host_id: int, search: str) -> Any:
    query = query.where(Booking.host_id == host_id, col(Booking.parent_id).is_(None))  # a team booking's holds: no
    words = search.strip().lower()[:100]
    if words:
        escaped = words.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_')
        pattern = f'%{escaped}%'
        query = query.where(
            or_(
                func.lower(Booking.invitee_name).like(pattern, escape='\\'),
                func.lower(Booking.invitee_email).like(pattern, escape='\\'),
            )
        )
    return query


def manage_token(booking: Booking) -> str:
    """The plain manage token, for links in e-mails and idempotent replays."""
    return crypto.decrypt(booking.manage_token_encrypted)


def booking_json(booking: Booking) -> dict[str, Any]:
    """A booking as its host sees it."""
    return {
        'uid': booking.uid,
        'event_type_id': booking.event_type_id,
        'start': booking.start_at.isoformat(),
        'end': booking.end_at.isoformat(),
        'status': booking.status,
        'invitee': {'name': booking.invitee_name, 'email': booking.invitee_email, 'timezone': booking.invitee_timezone},
        'notes': booking.notes,
        'answers': booking.answers,
        'cancel_reason': booking.cancel_reason,
        'created_at': booking.created_at.isoformat(),
        'proposal': _proposal_json(booking),
    }


def _proposal_json(booking: Booking) -> dict[str, Any] | None:
    proposal = pending_proposal(booking, datetime.now(timezone.utc))
    if proposal is None:
        return None
    return {
        'start': proposal.start.isoformat(),
        'end': proposal.end.isoformat(),
        'message': proposal.message,
        'expires_at': proposal.expires_at.isoformat(),
    }


def _clear_proposal(booking: Booking) -> None:
    booking.proposed_start_at = booking.proposal_expires_at = None
    booking.proposal_message = ''


def _lock_host(session: Session, host_id: int) -> Host:
    """Serialise the re-check and the write per host (SQLite serialises writers through BEGIN IMMEDIATE); a unit of
    work that took the lock with the host's kept settings has the host already."""
    found = kept_settings.kept(session, host_id)
    if found is not None:
        return found.host
    if session.get_bind().dialect.name == 'postgresql':
        session.execute(text('SELECT id FROM host WHERE id = :id FOR UPDATE'), {'id': host_id})
    host = session.get(Host, host_id)
    if host is None:
        raise NotFound('Host not found')
    return host


def _replay(session: Session, event_type: EventType, start: datetime, key: str, invitee: Invitee) -> Receipt | None:
    booking = session.exec(
        select(Booking).where(Booking.host_id == event_type.host_id, Booking.idempotency_key == key)
    ).first()
    if booking is None:
        return None
    same = (
        booking.event_type_id,
        booking.start_at,
        booking.invitee_name,
        booking.invitee_email,
        booking.notes,
        booking.answers,
    ) == (event_type.id, start, invitee.name, invitee.email, invitee.notes, invitee.answers)
    if not same:  # never hand one invitee's manage link to a different request
        raise Conflict('This Idempotency-Key was already used for a different booking')
    return Receipt(booking, manage_token(booking), replayed=True)


def _flush_or_unavailable(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        # The database's own guarantee (exclusion constraint or trigger) caught an overlap.
        raise SlotUnavailable() from None


def _clean(invitee: Invitee, event_type: EventType) -> Invitee:
    if len(invitee.notes) > 2000:
        raise InvalidInput('Notes must be at most 2000 characters')
    return Invitee(
        name=validation.single_line(invitee.name, 'Name', 120),
        email=validation.email(invitee.email),
        timezone=validation.time_zone(invitee.timezone),
        notes=invitee.notes.strip(),
        answers=_answers(invitee.answers, event_type.questions),
        clock24=invitee.clock24,
        locale=invitee.locale,
    )


def _answers(answers: dict[str, Any], questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep answers to the event type's own questions only, enforcing required ones and choices."""
    clean: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q['id'])
        if q['kind'] == 'checkbox':
            value = bool(value)
        elif value is not None:
            value = str(value).strip()[:2000]
            if value and q['kind'] in ('short_text', 'phone'):  # one-line answers: no control characters either
                validation.single_line(value, f"'{q['label']}'", 2000)
        if q['required'] and not value:
            raise InvalidInput(f"Please answer '{q['label']}'")
        if q['kind'] == 'single_choice' and value and value not in q['options']:
            raise InvalidInput(f"'{q['label']}' must be one of the offered choices")
        if value not in (None, ''):
            clean[q['id']] = value
    return clean
