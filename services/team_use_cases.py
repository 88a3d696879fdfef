"""The team use cases, one function each, called alike by the JSON API and the pages; each owns its unit of work.

Booking a team time asks every member's calendars before the write lock is taken (the re-check under the locks
reads them from the cache), then books through services/team_bookings.py. Cancelling, rescheduling and proposals
of team bookings go through the ordinary use cases (services/use_cases.py), which hand team bookings over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import session_scope
from app.errors import NotFound, SlotUnavailable
from app.metrics import count_booking
from app.models import Booking, EventType, Host, Team, TeamEventMember
from services import booking_limits, event_types, slots, team_bookings, team_slots, teams, validation
from services.availability import MARGIN, YEARS
from services.bookings import Invitee
from services.calendars import busy
from services.team_bookings import TeamReceipt


@dataclass(frozen=True, slots=True)
class TeamPage:
    """What a team's public booking page shows."""

    team_slug: str
    team_name: str
    slug: str
    event_type_id: int
    event_type: EventType  # detached: read it, never add it to a session
    members: list[str]  # names of the members who host it
    member_ids: list[int]


def event_type_for_link(*, team_slug: str, slug: str) -> int:
    with session_scope() as session:
        event_type = teams.bookable_team_event_type(session=session, team_slug=team_slug, slug=slug)[1]
        assert event_type.id is not None
        return event_type.id


def book(
    *,
    event_type_id: int,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    address: str,
    idempotency_key: str | None = None,
    duration: int | None = None,
) -> TeamReceipt:
    """Book `start` with a team; counted against the address's booking rate and in the metrics like any booking."""
    return count_booking(
        lambda: _book(
            event_type_id=event_type_id,
            start=start,
            invitee=invitee,
            now=now,
            address=address,
            idempotency_key=idempotency_key,
            duration=duration,
        ),
        lambda r: r.receipt.replayed,
    )


def _book(
    *,
    event_type_id: int,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    address: str,
    idempotency_key: str | None,
    duration: int | None,
) -> TeamReceipt:
    if not validation.within_calendar(start):
        raise SlotUnavailable()
    with session_scope() as session:  # every member's calendars are asked before the write locks are taken
        _warm(session, _member_ids(session, _bookable(session, event_type_id)), start)
    with session_scope(write=True) as session:
        counted = booking_limits.admit(session, address=address, rate=get_settings().booking_rate, now=now)
        receipt = team_bookings.book(
            session=session,
            event_type=_bookable(session, event_type_id),
            start=start,
            invitee=invitee,
            now=now,
            idempotency_key=idempotency_key,
            duration=duration,
        )
        booking_limits.uncount(session, counted if receipt.receipt.replayed else None)
        return receipt


def warm_for_booking(*, uid: str, start: datetime | None = None) -> None:
    """Before a team booking moves: ask every member's calendars around the new time (or the proposed one)."""
    with session_scope() as session:
        booking = session.exec(select(Booking).where(Booking.uid == uid)).first()
        event_type = session.get(EventType, booking.event_type_id) if booking and booking.event_type_id else None
        if booking is None or event_type is None or event_type.team_id is None:
            return
        moment = start or booking.proposed_start_at
        holders = session.exec(select(Booking.host_id).where(Booking.parent_id == booking.id)).all()
        if moment is not None and validation.within_calendar(moment):
            _warm(session, sorted({booking.host_id, *holders, *_member_ids(session, event_type)}), moment)


def team_page(*, team_slug: str, slug: str) -> TeamPage:
    """The read model of `/team/{team_slug}/{slug}` (NotFound when it is not bookable)."""
    with session_scope() as session:
        team, event_type = teams.bookable_team_event_type(session=session, team_slug=team_slug, slug=slug)
        rows = session.exec(
            select(Host.id, Host.name)
            .join(TeamEventMember, col(TeamEventMember.host_id) == Host.id)
            .where(TeamEventMember.event_type_id == event_type.id)
            .order_by(col(Host.name))
        ).all()
        session.expunge(event_type)
        assert event_type.id is not None
        return TeamPage(
            team.slug,
            team.name,
            teams.public_slug(event_type),
            event_type.id,
            event_type,
            [name for _, name in rows],
            [host_id or 0 for host_id, _ in rows],
        )


@dataclass(frozen=True, slots=True)
class TeamProfile:
    slug: str
    name: str
    members: list[str]
    event_types: list[tuple[str, str, str, int]]  # (slug, title, description, minutes)


def team_profile(*, team_slug: str) -> TeamProfile:
    with session_scope() as session:
        team = teams.team_by_slug(session=session, slug=team_slug)
        listed = teams.public_team_event_types(session=session, team_id=team.id or 0)
        return TeamProfile(
            team.slug,
            team.name,
            [m.name for m in teams.members(session=session, team_id=team.id or 0)],
            [(teams.public_slug(e), e.title, e.description, e.duration_minutes) for e in listed],
        )


def link_offer(
    *, team_slug: str, slug: str, start: datetime, end: datetime, now: datetime, duration: int | None = None
) -> team_slots.TeamOffer:
    """The free times behind a team booking link."""
    with session_scope() as session:
        event_type = teams.bookable_team_event_type(session=session, team_slug=team_slug, slug=slug)[1]
        return team_slots.offer(
            session=session,
            event_type=event_type,
            start=start,
            end=end,
            now=now,
            duration=_duration(event_type, duration),
        )


def picker_month(
    *, event_type_id: int, month: date, zone: str, now: datetime, duration: int | None = None
) -> tuple[dict[date, list[slots.Slot]], str]:
    """The free times of one month of the invitee's local dates (none once the event type is switched off)."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active or event_type.team_id is None:
            return {}, ''
        return team_slots.month(
            session=session, event_type=event_type, first=month, last=last, zone=zone, now=now, duration=duration
        )


def picker_next_free_day(
    *, event_type_id: int, after: date, zone: str, now: datetime, duration: int | None = None
) -> date | None:
    """The first local date after `after` with a free time, up to the end of the booking window."""
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        if event_type is None or not event_type.active or event_type.team_id is None:
            return None
        horizon = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=event_type.max_days_ahead + 1)
        first = after + timedelta(days=1)
        while first <= horizon:
            last = min(first + timedelta(days=61), horizon)
            days, _ = team_slots.month(
                session=session, event_type=event_type, first=first, last=last, zone=zone, now=now, duration=duration
            )
            if days:
                return min(days)
            first = last + timedelta(days=1)
        return None


def team_of_event_type(*, event_type_id: int) -> Team:
    with session_scope() as session:
        event_type = session.get(EventType, event_type_id)
        team = session.get(Team, event_type.team_id) if event_type and event_type.team_id else None
        if team is None:
            raise NotFound('Team not found')
        return team


# --- helpers ---------------------------------------------------------------------------------------------------


def _bookable(session: Session, event_type_id: int) -> EventType:
    event_type = session.get(EventType, event_type_id)
    if event_type is None or not event_type.active or event_type.team_id is None:
        raise NotFound('This meeting can no longer be booked.')
    return event_type


def _member_ids(session: Session, event_type: EventType) -> list[int]:
    return list(session.exec(select(TeamEventMember.host_id).where(TeamEventMember.event_type_id == event_type.id)))


def _warm(session: Session, host_ids: list[int], start: datetime) -> None:
    if YEARS[0] <= start.year <= YEARS[1] and host_ids:
        busy.busy_times_of_hosts(
            host_ids=host_ids, start=start - MARGIN, end=start + MARGIN, session=session, mode='booking'
        )


def _duration(event_type: EventType, minutes: int | None) -> int | None:
    return event_types.chosen_duration(event_type, minutes) if minutes is not None else None
