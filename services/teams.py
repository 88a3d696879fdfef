"""Teams: members with roles, and team event types that book one member (round robin) or all of them (collective).

Storage. A team event type is an ordinary `event_type` row with `team_id` set, so every rule of an event type
(durations, buffers, notice, window, limits, questions) and its validation are shared with a host's own. Its
`host_id` is the team's owner (an admin, handed on when they leave); the rows are left out of that host's own lists
and links. Its slug is stored as `{slug}.t{team_id}` (a dot never appears in a host's own slugs), so it can never
clash with the owner's own event types under the (host, slug) uniqueness; the public slug is the part before the
dot. The members who host it, each with the schedule they chose (default: their default schedule), are
`team_event_member` rows. Bookings and free times live in services/team_bookings.py and services/team_slots.py.

Only admins manage a team; any member may see it and leave it; a team always keeps at least one admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import db, events
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Booking, EventType, Host, Schedule, Team, TeamEventMember, TeamMember
from services import event_types, validation
from services.event_types import EventTypeInput

Role = Literal['admin', 'member']
Assignment = Literal['round_robin', 'collective']
ROLES = ('admin', 'member')
ASSIGNMENTS = ('round_robin', 'collective')
TEAM_SLUG_MAX = 40
EVENT_SLUG_MAX = 48  # leaves room for '.t{team id}' in the stored slug


@dataclass(frozen=True, slots=True)
class Member:
    host_id: int
    username: str
    name: str
    email: str
    role: str
    timezone: str


# --- teams ---------------------------------------------------------------------------------------------------


def create_team(*, session: Session, host_id: int, slug: str, name: str, members: tuple[str, ...] = ()) -> Team:
    """A new team with its creator as admin; `members` (usernames or e-mails) join as members."""
    team = Team(slug=_team_slug(slug), name=validation.single_line(name, 'Name', 120))
    _require_free_slug(session, team.slug, None)
    session.add(team)
    _flush_or_conflict(session, f"A team with the slug '{team.slug}' already exists")
    assert team.id is not None
    session.add(TeamMember(team_id=team.id, host_id=host_id, role='admin'))
    for who in members:
        found = account(session, who)
        if found.id is not None and found.id != host_id:
            session.add(TeamMember(team_id=team.id, host_id=found.id, role='member'))
    _flush_or_conflict(session, 'Each member can be added once')
    return team


def teams_of(*, session: Session, host_id: int) -> list[Team]:
    """The teams a host belongs to."""
    return list(
        session.exec(
            select(Team)
            .join(TeamMember, col(TeamMember.team_id) == Team.id)
            .where(TeamMember.host_id == host_id)
            .order_by(col(Team.name), col(Team.id))
        )
    )


def team_for_member(*, session: Session, host_id: int, team_id: int) -> Team:
    """A team the host belongs to (any other id: not found)."""
    team = session.get(Team, team_id) if validation.storable_id(team_id) else None
    if team is None or _role(session, team_id, host_id) is None:
        raise NotFound('Team not found')
    return team


def team_for_admin(*, session: Session, host_id: int, team_id: int) -> Team:
    """A team the host administers; a member who is no admin is refused (409), anybody else gets not found."""
    team = team_for_member(session=session, host_id=host_id, team_id=team_id)
    if _role(session, team_id, host_id) != 'admin':
        raise Conflict('Only the admins of this team can change it')
    return team


def update_team(
    *, session: Session, host_id: int, team_id: int, slug: str | None = None, name: str | None = None
) -> Team:
    team = team_for_admin(session=session, host_id=host_id, team_id=team_id)
    if name is not None:
        team.name = validation.single_line(name, 'Name', 120)
    if slug is not None:
        team.slug = _team_slug(slug)
        _require_free_slug(session, team.slug, team.id)
    session.add(team)
    _flush_or_conflict(session, f"A team with the slug '{team.slug}' already exists")
    _changed(session, team)
    return team


def delete_team(*, session: Session, host_id: int, team_id: int) -> None:
    """Delete a team and its event types; bookings already made stay with their hosts."""
    team = team_for_admin(session=session, host_id=host_id, team_id=team_id)
    _changed(session, team)
    for event_type in session.exec(select(EventType).where(EventType.team_id == team.id)):
        _delete_event_type(session, event_type)
    session.delete(team)
    session.flush()


def team_by_slug(*, session: Session, slug: str) -> Team:
    team = session.exec(select(Team).where(Team.slug == slug.lower()[:TEAM_SLUG_MAX])).first()
    if team is None:
        raise NotFound('This team does not exist')
    return team


# --- members -------------------------------------------------------------------------------------------------


def members(*, session: Session, team_id: int) -> list[Member]:
    rows = session.exec(
        select(TeamMember, Host)
        .join(Host, col(Host.id) == TeamMember.host_id)
        .where(TeamMember.team_id == team_id)
        .order_by(col(Host.username))
    )
    return [
        Member(host.id or 0, host.username, host.name, host.email, member.role, host.timezone) for member, host in rows
    ]


def add_member(*, session: Session, host_id: int, team_id: int, who: str, role: str = 'member') -> Member:
    """Invite an existing account by username or e-mail (an admin's action); adding a member again changes the
    role."""
    team_for_admin(session=session, host_id=host_id, team_id=team_id)
    if role not in ROLES:
        raise InvalidInput("role must be 'admin' or 'member'")
    invited = account(session, who)
    assert invited.id is not None
    found = session.exec(
        select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.host_id == invited.id)
    ).first()
    if found is None:
        found = TeamMember(team_id=team_id, host_id=invited.id, role=role)
    elif found.role == 'admin' and role != 'admin':
        _keep_an_admin(session, team_id, invited.id)
    found.role = role
    session.add(found)
    _flush_or_conflict(session, 'This account is already a member')
    return next(m for m in members(session=session, team_id=team_id) if m.host_id == invited.id)


def remove_member(*, session: Session, host_id: int, team_id: int, username: str) -> None:
    """An admin removes a member, or a member leaves (their own username). The last admin cannot go; the team's
    event types owned by the member who goes pass to another admin, and they stop hosting them."""
    team_for_member(session=session, host_id=host_id, team_id=team_id)
    gone = session.exec(select(Host).where(Host.username == username.lower()[:40])).first()
    membership = session.exec(
        select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.host_id == (gone.id if gone else -1))
    ).first()
    if gone is None or membership is None:
        raise NotFound('No such member of this team')
    if gone.id != host_id and _role(session, team_id, host_id) != 'admin':
        raise Conflict('Only the admins of this team can remove other members')
    if membership.role == 'admin':
        _keep_an_admin(session, team_id, membership.host_id)
    heir = session.exec(
        select(TeamMember.host_id)
        .where(TeamMember.team_id == team_id, TeamMember.role == 'admin', TeamMember.host_id != membership.host_id)
        .order_by(col(TeamMember.id))
    ).first()
    for event_type in session.exec(select(EventType).where(EventType.team_id == team_id)):
        for row in session.exec(
            select(TeamEventMember).where(
                TeamEventMember.event_type_id == event_type.id, TeamEventMember.host_id == membership.host_id
            )
        ):
            session.delete(row)
        if event_type.host_id == membership.host_id and heir is not None:
            event_type.host_id = heir
            session.add(event_type)
    session.delete(membership)
    session.flush()
    _changed(session, session.get(Team, team_id))


def leave_all(*, session: Session, host_id: int) -> None:
    """Before an account goes: it leaves every team. A team left without members goes too; one left without an
    admin makes its longest-standing member admin; event types the account owned pass to an admin."""
    for membership in list(session.exec(select(TeamMember).where(TeamMember.host_id == host_id))):
        team = session.get(Team, membership.team_id)
        others = list(
            session.exec(
                select(TeamMember)
                .where(TeamMember.team_id == membership.team_id, TeamMember.host_id != host_id)
                .order_by(col(TeamMember.id))
            )
        )
        if team is None:
            continue
        if not others:
            for event_type in session.exec(select(EventType).where(EventType.team_id == team.id)):
                _delete_event_type(session, event_type)
            session.delete(team)
            session.flush()
            continue
        if not any(m.role == 'admin' for m in others):
            others[0].role = 'admin'
            session.add(others[0])
            session.flush()
        heir = next(m.host_id for m in others if m.role == 'admin')
        for event_type in session.exec(
            select(EventType).where(EventType.team_id == team.id, EventType.host_id == host_id)
        ):
            event_type.host_id = heir
            session.add(event_type)
        session.delete(membership)
        session.flush()
        _changed(session, team)


def role_of(*, session: Session, team_id: int, host_id: int) -> str | None:
    return _role(session, team_id, host_id)


# --- team event types ------------------------------------------------------------------------------------------


class TeamEventTypeInput(EventTypeInput):
    """An event type body plus how it is assigned and who hosts it (default: every member)."""

    assignment: Assignment = 'round_robin'
    members: list[str] | None = None


def list_team_event_types(*, session: Session, team_id: int) -> list[EventType]:
    return list(session.exec(select(EventType).where(EventType.team_id == team_id).order_by(col(EventType.id))))


def get_team_event_type(*, session: Session, team_id: int, event_type_id: int) -> EventType:
    event_type = session.get(EventType, event_type_id) if validation.storable_id(event_type_id) else None
    if event_type is None or event_type.team_id != team_id:
        raise NotFound('Event type not found')
    return event_type


def create_team_event_type(*, session: Session, host_id: int, team_id: int, data: TeamEventTypeInput) -> EventType:
    team_for_admin(session=session, host_id=host_id, team_id=team_id)
    event_type = EventType(host_id=host_id, team_id=team_id, slug='', title='', duration_minutes=30)
    return _save(session, event_type, data)


def update_team_event_type(
    *, session: Session, host_id: int, team_id: int, event_type_id: int, changes: dict[str, Any]
) -> EventType:
    """Apply a partial change (an admin's); the whole result is validated again."""
    team_for_admin(session=session, host_id=host_id, team_id=team_id)
    event_type = get_team_event_type(session=session, team_id=team_id, event_type_id=event_type_id)
    current = {k: v for k, v in team_event_type_json(session, event_type).items() if k not in ('id', 'team_id')}
    return _save(session, event_type, TeamEventTypeInput.model_validate({**current, **changes}))


def delete_team_event_type(*, session: Session, host_id: int, team_id: int, event_type_id: int) -> None:
    team_for_admin(session=session, host_id=host_id, team_id=team_id)
    _delete_event_type(session, get_team_event_type(session=session, team_id=team_id, event_type_id=event_type_id))


def choose_schedule(*, session: Session, host_id: int, event_type_id: int, schedule_id: int | None) -> None:
    """A member picks which of their own schedules applies to a team event type they host (None: the default)."""
    row = session.exec(
        select(TeamEventMember).where(
            TeamEventMember.event_type_id == event_type_id, TeamEventMember.host_id == host_id
        )
    ).first()
    if row is None:
        raise NotFound('You do not host this event type')
    if schedule_id is not None:
        schedule = session.get(Schedule, schedule_id) if validation.storable_id(schedule_id) else None
        if schedule is None or schedule.host_id != host_id:
            raise NotFound('Schedule not found')
    row.schedule_id = schedule_id
    session.add(row)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))


def hosts_of(*, session: Session, event_type_id: int) -> list[TeamEventMember]:
    """Who hosts a team event type, in host id order (the order their rows are locked in)."""
    return list(
        session.exec(
            select(TeamEventMember)
            .where(TeamEventMember.event_type_id == event_type_id)
            .order_by(col(TeamEventMember.host_id))
        )
    )


def bookable_team_event_type(*, session: Session, team_slug: str, slug: str) -> tuple[Team, EventType]:
    """The team and active event type behind `/team/{team_slug}/{slug}` (hidden ones included: secret links)."""
    team = team_by_slug(session=session, slug=team_slug)
    assert team.id is not None
    event_type = session.exec(
        select(EventType).where(EventType.team_id == team.id, EventType.slug == stored_slug(team.id, slug.lower()))
    ).first()
    if event_type is None or not event_type.active:
        raise NotFound('This booking page does not exist')
    return team, event_type


def public_team_event_types(*, session: Session, team_id: int) -> list[EventType]:
    return [e for e in list_team_event_types(session=session, team_id=team_id) if e.active and not e.hidden]


def stored_slug(team_id: int, slug: str) -> str:
    return f'{slug}.t{team_id}'


def public_slug(event_type: EventType) -> str:
    return event_type.slug.rsplit('.', 1)[0]


def team_event_type_json(session: Session, event_type: EventType) -> dict[str, Any]:
    """A team event type as its team sees it: the event type's shape plus assignment and hosts."""
    usernames = session.exec(
        select(Host.username)
        .join(TeamEventMember, col(TeamEventMember.host_id) == Host.id)
        .where(TeamEventMember.event_type_id == event_type.id)
    ).all()
    return {
        **event_types.event_type_json(event_type),
        'slug': public_slug(event_type),
        'schedule_id': None,
        'team_id': event_type.team_id,
        'assignment': event_type.assignment,
        'members': sorted(usernames),
    }


def public_team_event_type_json(event_type: EventType) -> dict[str, Any]:
    return {**event_types.public_event_type_json(event_type), 'slug': public_slug(event_type)}


def team_json(session: Session, team: Team) -> dict[str, Any]:
    return {
        'id': team.id,
        'slug': team.slug,
        'name': team.name,
        'members': [
            {'username': m.username, 'name': m.name, 'role': m.role}
            for m in members(session=session, team_id=team.id or 0)
        ],
    }


# --- helpers ---------------------------------------------------------------------------------------------------


def _save(session: Session, event_type: EventType, data: TeamEventTypeInput) -> EventType:
    assert event_type.team_id is not None
    if getattr(data, 'seats', 1) > 1:
        raise InvalidInput('A team event type takes one invitee per time (seats: 1)')
    fields = data.model_dump(exclude={'location', 'questions', 'slug', 'assignment', 'members', 'schedule_id'})
    for key, value in fields.items():
        setattr(event_type, key, value)
    event_type.title = validation.single_line(data.title, 'Title', 120)
    event_type.color = validation.hex_color(data.color)
    slug = validation.slug(data.slug) if data.slug else validation.slugify(data.title)[:EVENT_SLUG_MAX].strip('-')
    if len(slug) > EVENT_SLUG_MAX:
        raise InvalidInput(f'The slug must be at most {EVENT_SLUG_MAX} characters')
    event_type.slug = stored_slug(event_type.team_id, slug)
    event_type.location_kind, event_type.location_value = data.location.kind, data.location.value
    event_type.questions = [q.model_dump() for q in data.questions]
    event_type.assignment = data.assignment
    event_type.schedule_id = None  # each member's own schedule applies
    taken = session.exec(
        select(EventType.id).where(EventType.team_id == event_type.team_id, EventType.slug == event_type.slug)
    ).first()
    if taken is not None and taken != event_type.id:
        raise Conflict(f"This team already has an event type with the slug '{slug}'")
    session.add(event_type)
    _flush_or_conflict(session, f"This team already has an event type with the slug '{slug}'")
    _set_hosts(session, event_type, data.members)
    db.after_commit(session, events.SettingsChanged(event_type.host_id))
    return event_type


def _delete_event_type(session: Session, event_type: EventType) -> None:
    """Delete a team event type; its bookings stay (their event type becomes empty; holds still follow them)."""
    for booking in session.exec(select(Booking).where(Booking.event_type_id == event_type.id)):
        booking.event_type_id = None
        session.add(booking)
    session.delete(event_type)
    session.flush()
    db.after_commit(session, events.SettingsChanged(event_type.host_id))


def _set_hosts(session: Session, event_type: EventType, usernames: list[str] | None) -> None:
    """The members who host the event type: the named ones (each must be a member), or every member."""
    team_members = {m.username: m for m in members(session=session, team_id=event_type.team_id or 0)}
    wanted = list(team_members) if usernames is None else [u.strip().lower() for u in usernames]
    unknown = [u for u in wanted if u not in team_members]
    if unknown:
        raise InvalidInput(f'Not members of this team: {", ".join(sorted(unknown)[:5])}')
    if not wanted:
        raise InvalidInput('A team event type needs at least one member')
    chosen = {team_members[u].host_id for u in wanted}
    current = {r.host_id: r for r in hosts_of(session=session, event_type_id=event_type.id or 0)}
    for host_id, row in current.items():
        if host_id not in chosen:
            session.delete(row)
    for host_id in chosen - set(current):
        session.add(TeamEventMember(event_type_id=event_type.id or 0, host_id=host_id))
    session.flush()


def account(session: Session, who: str) -> Host:
    """An existing account by username or e-mail address."""
    key = who.strip().lower()[:254]
    found = session.exec(select(Host).where(or_(col(Host.username) == key, func.lower(Host.email) == key))).first()
    if found is None:
        raise NotFound(f"No account '{who.strip()[:60]}'; invite them to CloudMeet first")
    return found


def _role(session: Session, team_id: int, host_id: int) -> str | None:
    return session.exec(
        select(TeamMember.role).where(TeamMember.team_id == team_id, TeamMember.host_id == host_id)
    ).first()


def _keep_an_admin(session: Session, team_id: int, leaving: int) -> None:
    others = session.exec(
        select(func.count())
        .select_from(TeamMember)
        .where(TeamMember.team_id == team_id, TeamMember.role == 'admin', TeamMember.host_id != leaving)
    ).one()
    if not others:
        raise Conflict('A team needs at least one admin; make another member an admin first')


def _team_slug(slug: str) -> str:
    value = validation.slug(slug.strip().lower())
    if len(value) > TEAM_SLUG_MAX:
        raise InvalidInput(f'The team slug must be at most {TEAM_SLUG_MAX} characters')
    return value


def _require_free_slug(session: Session, slug: str, team_id: int | None) -> None:
    taken = session.exec(select(Team.id).where(Team.slug == slug)).first()
    if taken is not None and taken != team_id:
        raise Conflict(f"A team with the slug '{slug}' already exists")


def _flush_or_conflict(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def _changed(session: Session, team: Team | None) -> None:
    """Open pages and caches of every member hear of the change."""
    if team is None:
        return
    for member in members(session=session, team_id=team.id or 0):
        db.after_commit(session, events.SettingsChanged(member.host_id))
