"""Team bookings: round robin gives a time to one free member, collective books every member at once.

The guarantee that no member is ever double-booked is the per-host one, applied to every member a booking touches:

- Every member the booking may touch is locked (their host row, `FOR UPDATE` on PostgreSQL; SQLite serialises
  writers) in host id order, so two team bookings never wait on each other in a circle, and a personal booking
  (which locks its one host) is serialised with them. The re-check of who is free runs under those locks.
- The database holds the line too. A booking keeps `host_id` = the member who got it (round robin) or the
  organiser (collective). For each other member of a collective booking a hold row is written: a `booking` row
  with that member's `host_id` and `parent_id` = the booking, its time and status mirrored. The existing overlap
  guard (`ex_booking_no_overlap` on PostgreSQL, triggers on SQLite) and every existing availability query see
  holds like any booking, so a member's personal page stops offering the time, and a racing personal booking
  fails at the database if a lock were ever missed. Holds are not listed, mailed, synced or sent as webhooks:
  they have no outbox rows of their own; the one booking transition (`bookings._record_change`) keeps them in
  step on every change (`follow`), and tells every member (host notices go to each of them).

Round robin picks, among the free members, the one with the fewest confirmed bookings of the event type (ties:
the least recently booked, then the username); the reason is stored with the booking for the dashboard.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import crypto, db, events
from app.errors import Conflict, SlotUnavailable
from app.models import (
    BOOKING_CONFIRMED,
    HOLDING,
    Booking,
    BookingStatus,
    EventType,
    Host,
    OutboxMessage,
    Team,
    TeamEventMember,
)
from services import bookings, team_slots, webhooks
from services.bookings import Invitee, Receipt
from services.notifications import outbox
from services.notifications.preferences import preference

HOST_NOTICES = {'created': 'host_booking', 'rescheduled': 'host_reschedule', 'cancelled': 'host_cancellation'}


@dataclass(frozen=True, slots=True)
class TeamReceipt:
    receipt: Receipt
    hosts: list[str]  # usernames of the members the booking went to


def book(
    *,
    session: Session,
    event_type: EventType,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    idempotency_key: str | None = None,
    duration: int | None = None,
) -> TeamReceipt:
    """Book `start` for a team event type: one free member (round robin) or all of them (collective)."""
    invitee = bookings._clean(invitee, event_type)
    member_ids = [
        m.host_id for m in session.exec(select(TeamEventMember).where(TeamEventMember.event_type_id == event_type.id))
    ]
    hosts = lock_members(session, member_ids)
    if idempotency_key:
        replay = _replay(session, event_type, start, idempotency_key, invitee, member_ids)
        if replay is not None:
            return replay
    free = team_slots.free_members(
        session=session,
        event_type=event_type,
        start=start,
        now=now,
        host_ids=member_ids,
        duration=duration,
        every=event_type.assignment == 'collective',
    )
    minutes = duration or event_type.duration_minutes
    pending = event_type.requires_confirmation
    if event_type.assignment == 'collective':
        if not member_ids or sorted(free) != sorted(member_ids):
            raise SlotUnavailable()
        organiser = _organiser(event_type, member_ids)
        others = [h for h in member_ids if h != organiser]
        reason = f'Collective: every member ({len(member_ids)}) was free and is booked'
    else:
        if not free:
            raise SlotUnavailable()
        organiser, reason = pick(session, event_type, free, hosts, len(member_ids))
        others = []
    token, uid = crypto.new_token(), secrets.token_urlsafe(16)
    booking = Booking(  # its own seat key: team event types offer one seat per start
        uid=uid,
        seat_key=uid,
        host_id=organiser,
        event_type_id=event_type.id,
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
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
        assignment_reason=reason[:300],
        locale=invitee.locale,
        status=BookingStatus.PENDING if pending else BOOKING_CONFIRMED,
    )
    session.add(booking)
    _flush(session)
    for member in others:
        session.add(_hold(booking, member))
    _flush(session)
    bookings._record_change(session, booking, hosts[organiser], 'requested' if pending else 'created', now)
    return TeamReceipt(Receipt(booking, token), [hosts[h].username for h in [organiser, *others]])


def reschedule(*, session: Session, booking: Booking, start: datetime, now: datetime, reason: str = '') -> Booking:
    """Move a team booking. Collective: every member must be free at the new time. Round robin: the member keeps
    it when still free, else it goes to the free member round robin would pick now."""
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    if event_type is None or not event_type.active:
        raise Conflict('This meeting can no longer be rescheduled online; please contact the host')
    holds = list(session.exec(select(Booking).where(Booking.parent_id == booking.id)))
    member_ids = [
        m.host_id for m in session.exec(select(TeamEventMember).where(TeamEventMember.event_type_id == event_type.id))
    ]
    involved = sorted({booking.host_id, *(h.host_id for h in holds), *member_ids})
    hosts = lock_members(session, involved)
    session.refresh(booking)
    if booking.status not in HOLDING:
        raise Conflict('This booking was cancelled and can no longer be moved')
    minutes = int((booking.end_at - booking.start_at).total_seconds() // 60)
    exclude = [booking.uid, *(h.uid for h in holds)]
    if event_type.assignment == 'collective':
        wanted = sorted({booking.host_id, *(h.host_id for h in holds)})
        free = team_slots.free_members(
            session=session,
            event_type=event_type,
            start=start,
            now=now,
            host_ids=wanted,
            exclude_uids=exclude,
            duration=minutes,
            every=True,
        )
        if sorted(free) != wanted:
            raise SlotUnavailable()
        return _move(session, booking, hosts[booking.host_id], start, minutes, now, reason)
    candidates = sorted(set(member_ids) | {booking.host_id})
    free = team_slots.free_members(
        session=session,
        event_type=event_type,
        start=start,
        now=now,
        host_ids=candidates,
        exclude_uids=exclude,
        duration=minutes,
    )
    if booking.host_id in free:
        return _move(session, booking, hosts[booking.host_id], start, minutes, now, reason)
    free = [h for h in free if h in member_ids]
    if not free:
        raise SlotUnavailable()
    previous = hosts[booking.host_id]
    chosen, why = pick(session, event_type, free, hosts, len(member_ids))
    _notify_member(
        session,
        booking,
        previous,
        'cancelled',
        now,
        reason=f'The meeting moved to a time when you are not free; it went to {hosts[chosen].name}',
    )
    db.after_commit(session, events.BookingChanged(previous.id or 0, booking.uid, 'cancelled'))
    booking.host_id = chosen
    booking.assignment_reason = f'Re-assigned on reschedule ({previous.username} was not free). {why}'[:300]
    if booking.calendar_connection_id and booking.calendar_event_id:  # its event leaves the old member's calendar
        session.execute(
            insert(OutboxMessage),
            [
                {
                    'key': f'{booking.uid}.calendar-remove.{booking.sequence}',
                    'host_id': previous.id,
                    'booking_id': booking.id,
                    'kind': outbox.CALENDAR_SYNC,
                    'status': outbox.PENDING,
                    'due_at': now,
                    'context': {'remove_from': booking.calendar_connection_id, 'event_id': booking.calendar_event_id},
                    'attempts': 0,
                    'claimed_by': '',
                    'last_error': '',
                    'created_at': now,
                }
            ],
        )
    booking.calendar_event_id, booking.calendar_connection_id, booking.meeting_url = '', None, ''
    return _move(session, booking, hosts[chosen], start, minutes, now, reason)


def is_free_for(*, session: Session, booking: Booking, event_type: EventType, start: datetime, now: datetime) -> bool:
    """Whether a team booking could move to `start` (a host's proposal): its members all free (collective), or
    some member free (round robin)."""
    holds = list(session.exec(select(Booking).where(Booking.parent_id == booking.id)))
    exclude = [booking.uid, *(h.uid for h in holds)]
    minutes = int((booking.end_at - booking.start_at).total_seconds() // 60)
    if event_type.assignment == 'collective':
        wanted = sorted({booking.host_id, *(h.host_id for h in holds)})
        return (
            sorted(
                team_slots.free_members(
                    session=session,
                    event_type=event_type,
                    start=start,
                    now=now,
                    host_ids=wanted,
                    exclude_uids=exclude,
                    duration=minutes,
                )
            )
            == wanted
        )
    return bool(
        team_slots.free_members(
            session=session, event_type=event_type, start=start, now=now, exclude_uids=exclude, duration=minutes
        )
    )


def follow(
    session: Session,
    booking: Booking,
    change: str,
    now: datetime,
    *,
    mail: bool = True,
    reason: str = '',
    old_start: datetime | None = None,
    old_end: datetime | None = None,
) -> None:
    """Keep a collective booking's holds in step with it and tell its other members (called by the one booking
    transition, inside its transaction)."""
    holds = list(session.exec(select(Booking).where(Booking.parent_id == booking.id)))
    for hold in holds:
        hold.start_at, hold.end_at, hold.status = booking.start_at, booking.end_at, booking.status
        hold.buffer_before_minutes, hold.buffer_after_minutes = (
            booking.buffer_before_minutes,
            booking.buffer_after_minutes,
        )
        hold.sequence, hold.cancelled_at, hold.updated_at = booking.sequence, booking.cancelled_at, now
        session.add(hold)
        # the member's open pages and caches hear of it like of their own booking
        db.after_commit(session, events.BookingChanged(hold.host_id, booking.uid, change))
    _flush(session)
    if not holds or change == 'proposed':
        return
    members = {h.id: h for h in session.exec(select(Host).where(col(Host.id).in_([h.host_id for h in holds])))}
    for hold in holds:
        member = members[hold.host_id]
        # every member's webhooks hear of the team booking, like the organiser's (the body is the booking itself)
        webhooks.record(session, booking=booking, host=member, event=webhooks.event_for(change, booking), now=now)
        if mail:
            _notify_member(session, booking, member, change, now, reason=reason, old_start=old_start, old_end=old_end)


def lock_members(session: Session, host_ids: list[int]) -> dict[int, Host]:
    """Lock every member's host row in host id order (no two team bookings can wait on each other in a circle)."""
    return {host_id: bookings._lock_host(session, host_id) for host_id in sorted(set(host_ids))}


def pick(
    session: Session, event_type: EventType, free: list[int], hosts: dict[int, Host], member_count: int
) -> tuple[int, str]:
    """Round robin: the free member with the fewest confirmed bookings of this event type; ties go to the least
    recently booked, then to the first username. Returns the member and why."""
    rows = session.exec(
        select(Booking.host_id, func.count(), func.max(Booking.created_at))
        .where(
            Booking.event_type_id == event_type.id,
            Booking.status == BOOKING_CONFIRMED,
            col(Booking.host_id).in_(free),
            col(Booking.parent_id).is_(None),
        )
        .group_by(col(Booking.host_id))
    ).all()
    stats = {host_id: (count, last) for host_id, count, last in rows}
    floor = datetime.min.replace(tzinfo=timezone.utc)

    def key(host_id: int) -> tuple[int, datetime, str]:
        count, last = stats.get(host_id, (0, None))
        return count, last or floor, hosts[host_id].username

    ranked = sorted(free, key=key)
    chosen, count = ranked[0], key(ranked[0])[0]
    plural = 'booking' if count == 1 else 'bookings'
    why = f'Round robin: {len(free)} of {member_count} members were free; '
    if len(ranked) == 1:
        return chosen, why + f'{hosts[chosen].username} was the only one ({count} {plural} of this event type)'
    runner = key(ranked[1])
    if count < runner[0]:
        return chosen, why + f'fewest bookings of this event type ({count}, next {runner[0]})'
    if key(chosen)[1] < runner[1]:
        return chosen, why + f'tied on {count} {plural}; least recently booked'
    return chosen, why + f'tied on {count} {plural} and last booking; first by username'


# --- helpers ---------------------------------------------------------------------------------------------------


def _move(
    session: Session, booking: Booking, host: Host, start: datetime, minutes: int, now: datetime, reason: str
) -> Booking:
    old_start, old_end = booking.start_at, booking.end_at
    booking.start_at, booking.end_at = start, start + timedelta(minutes=minutes)
    bookings._record_change(
        session, booking, host, 'rescheduled', now, old_start=old_start, old_end=old_end, reason=reason.strip()[:1000]
    )
    return booking


def _organiser(event_type: EventType, member_ids: list[int]) -> int:
    """The collective booking's organiser (its calendar event and video link): the event type's owner when they
    host it, else the first member."""
    return event_type.host_id if event_type.host_id in member_ids else sorted(member_ids)[0]


def _hold(booking: Booking, member_id: int) -> Booking:
    uid = secrets.token_urlsafe(16)
    return Booking(
        uid=uid,
        seat_key=uid,
        host_id=member_id,
        parent_id=booking.id,
        event_type_id=booking.event_type_id,
        start_at=booking.start_at,
        end_at=booking.end_at,
        buffer_before_minutes=booking.buffer_before_minutes,
        buffer_after_minutes=booking.buffer_after_minutes,
        status=booking.status,
        invitee_name=booking.invitee_name,
        invitee_email=booking.invitee_email,
        invitee_timezone=booking.invitee_timezone,
        manage_token_hash=crypto.hash_token(crypto.new_token()),
        manage_token_encrypted=b'-',
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        assignment_reason=booking.assignment_reason,
    )


def _notify_member(
    session: Session,
    booking: Booking,
    member: Host,
    change: str,
    now: datetime,
    *,
    reason: str = '',
    old_start: datetime | None = None,
    old_end: datetime | None = None,
) -> None:
    """A host notice of the booking for one more member (addressed by the outbox row's host)."""
    kind = HOST_NOTICES.get(change)
    if kind is None or not preference(member, kind).enabled:
        return
    context: dict[str, Any] = {
        'start': booking.start_at.isoformat(),
        'end': booking.end_at.isoformat(),
        'sequence': booking.sequence,
    }
    if old_start and old_end:
        context |= {'old_start': old_start.isoformat(), 'old_end': old_end.isoformat()}
    if reason:
        context['reason'] = reason
    session.execute(
        insert(OutboxMessage),
        [
            {
                'key': f'{booking.uid}.{kind}.{booking.sequence}.m{member.id}',
                'host_id': member.id,
                'booking_id': booking.id,
                'kind': kind,
                'status': outbox.PENDING,
                'due_at': now,
                'context': context,
                'attempts': 0,
                'claimed_by': '',
                'last_error': '',
                'created_at': now,
            }
        ],
    )


def _replay(
    session: Session, event_type: EventType, start: datetime, key: str, invitee: Invitee, member_ids: list[int]
) -> TeamReceipt | None:
    found = session.exec(
        select(Booking).where(
            col(Booking.host_id).in_(member_ids), col(Booking.parent_id).is_(None), Booking.idempotency_key == key
        )
    ).first()
    if found is None:
        return None
    same = (
        found.event_type_id,
        found.start_at,
        found.invitee_name,
        found.invitee_email,
        found.notes,
        found.answers,
    ) == (event_type.id, start, invitee.name, invitee.email, invitee.notes, invitee.answers)
    if not same:
        raise Conflict('This Idempotency-Key was already used for a different booking')
    return TeamReceipt(Receipt(found, bookings.manage_token(found), replayed=True), team_hosts(session, found))


def team_hosts(session: Session, booking: Booking) -> list[str]:
    """The usernames of a team booking's members: its host first, then those holding time for it."""
    ids = [
        booking.host_id,
        *session.exec(select(Booking.host_id).where(Booking.parent_id == booking.id).order_by(col(Booking.host_id))),
    ]
    names = dict(session.exec(select(Host.id, Host.username).where(col(Host.id).in_(ids))).all())
    return [names[i] for i in ids if i in names]


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise SlotUnavailable() from None


@dataclass(frozen=True, slots=True)
class TeamBookingView:
    """An upcoming team booking as a member's dashboard shows it."""

    uid: str
    team: str
    title: str
    start: datetime
    end: datetime
    status: str
    invitee: str
    hosts: list[str]  # usernames: the assigned member (round robin) or every member (collective)
    reason: str


def upcoming_for_member(session: Session, host_id: int, now: datetime, limit: int = 50) -> list[TeamBookingView]:
    """The member's upcoming team bookings: those assigned to them and the collective ones they hold time for."""
    held = select(Booking.parent_id).where(Booking.host_id == host_id, col(Booking.parent_id).is_not(None))
    rows = session.exec(
        select(Booking, EventType, Team)
        .join(EventType, col(EventType.id) == Booking.event_type_id)
        .join(Team, col(Team.id) == EventType.team_id)
        .where(
            col(Booking.parent_id).is_(None),
            col(Booking.status).in_(HOLDING),
            Booking.end_at > now,
            or_(col(Booking.host_id) == host_id, col(Booking.id).in_(held)),
        )
        .order_by(col(Booking.start_at))
        .limit(limit)
    ).all()
    return [
        TeamBookingView(
            b.uid,
            team.name,
            e.title,
            b.start_at,
            b.end_at,
            b.status,
            b.invitee_name,
            team_hosts(session, b),
            b.assignment_reason,
        )
        for b, e, team in rows
    ]
