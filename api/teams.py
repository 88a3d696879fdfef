"""Team endpoints: teams, members and team event types (an API key or a signed-in host), and the public team
booking endpoints, which take the same parameters and bodies as a host's."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Header, Query, Request, Response

from api.host import HostId
from api.public import MAX_RANGE_DAYS, _invitee_view
from api.schemas import BookingRequest, OfferedEventTypePublic, SlotsPublic, problems
from api.team_schemas import (
    MemberAdd,
    ScheduleChoice,
    TeamBookingPublic,
    TeamCreate,
    TeamEventTypePublic,
    TeamEventTypeUpdate,
    TeamMemberPublic,
    TeamPublic,
    TeamUpdate,
)
from app import i18n
from app.db import session_scope
from app.errors import InvalidInput
from services import availability, bookings, slots, team_use_cases, teams, validation
from services.teams import TeamEventTypeInput
from web.edge import client_address

router = APIRouter(prefix='/teams', tags=['teams'], responses=problems(401, 503))
public_router = APIRouter(prefix='/public/teams', tags=['public'], responses=problems(503))


@router.get('', response_model=list[TeamPublic])
def list_teams(host_id: HostId) -> list[dict[str, Any]]:
    """The teams this host belongs to."""
    with session_scope() as session:
        return [teams.team_json(session, t) for t in teams.teams_of(session=session, host_id=host_id)]


@router.post('', status_code=201, response_model=TeamPublic, responses=problems(400, 409, 422))
def create_team(host_id: HostId, body: TeamCreate) -> dict[str, Any]:
    """A new team; its creator is an admin."""
    with session_scope(write=True) as session:
        return teams.team_json(
            session, teams.create_team(session=session, host_id=host_id, slug=body.slug, name=body.name)
        )


@router.get('/{team_id}', response_model=TeamPublic, responses=problems(404, 422))
def get_team(host_id: HostId, team_id: int) -> dict[str, Any]:
    with session_scope() as session:
        return teams.team_json(session, teams.team_for_member(session=session, host_id=host_id, team_id=team_id))


@router.patch('/{team_id}', response_model=TeamPublic, responses=problems(400, 404, 409, 422))
def update_team(host_id: HostId, team_id: int, body: TeamUpdate) -> dict[str, Any]:
    """Rename a team or change its slug (admins)."""
    with session_scope(write=True) as session:
        return teams.team_json(
            session,
            teams.update_team(session=session, host_id=host_id, team_id=team_id, slug=body.slug, name=body.name),
        )


@router.delete('/{team_id}', status_code=204, responses=problems(404, 409, 422))
def delete_team(host_id: HostId, team_id: int) -> Response:
    """Delete a team and its event types (admins); bookings already made stay with their members."""
    with session_scope(write=True) as session:
        teams.delete_team(session=session, host_id=host_id, team_id=team_id)
    return Response(status_code=204)


@router.post(
    '/{team_id}/members', status_code=201, response_model=TeamMemberPublic, responses=problems(400, 404, 409, 422)
)
def add_member(host_id: HostId, team_id: int, body: MemberAdd) -> dict[str, Any]:
    """Add an existing account by username or e-mail (admins); adding a member again sets their role."""
    with session_scope(write=True) as session:
        member = teams.add_member(session=session, host_id=host_id, team_id=team_id, who=body.username, role=body.role)
        return {'username': member.username, 'name': member.name, 'role': member.role}


@router.delete('/{team_id}/members/{username}', status_code=204, responses=problems(404, 409, 422))
def remove_member(host_id: HostId, team_id: int, username: str) -> Response:
    """Remove a member (admins), or leave the team (your own username). A team keeps at least one admin."""
    with session_scope(write=True) as session:
        teams.remove_member(session=session, host_id=host_id, team_id=team_id, username=username)
    return Response(status_code=204)


@router.get('/{team_id}/event-types', response_model=list[TeamEventTypePublic], responses=problems(404, 422))
def list_event_types(host_id: HostId, team_id: int) -> list[dict[str, Any]]:
    with session_scope() as session:
        teams.team_for_member(session=session, host_id=host_id, team_id=team_id)
        return [
            teams.team_event_type_json(session, e)
            for e in teams.list_team_event_types(session=session, team_id=team_id)
        ]


@router.post(
    '/{team_id}/event-types',
    status_code=201,
    response_model=TeamEventTypePublic,
    responses=problems(400, 404, 409, 422),
)
def create_event_type(host_id: HostId, team_id: int, body: TeamEventTypeInput) -> dict[str, Any]:
    """An event type body plus `assignment` (round_robin or collective) and `members` (default: every member)."""
    with session_scope(write=True) as session:
        event_type = teams.create_team_event_type(session=session, host_id=host_id, team_id=team_id, data=body)
        return teams.team_event_type_json(session, event_type)


@router.get('/{team_id}/event-types/{event_type_id}', response_model=TeamEventTypePublic, responses=problems(404, 422))
def get_event_type(host_id: HostId, team_id: int, event_type_id: int) -> dict[str, Any]:
    with session_scope() as session:
        teams.team_for_member(session=session, host_id=host_id, team_id=team_id)
        return teams.team_event_type_json(
            session, teams.get_team_event_type(session=session, team_id=team_id, event_type_id=event_type_id)
        )


@router.patch(
    '/{team_id}/event-types/{event_type_id}', response_model=TeamEventTypePublic, responses=problems(400, 404, 409, 422)
)
def update_event_type(host_id: HostId, team_id: int, event_type_id: int, body: TeamEventTypeUpdate) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    with session_scope(write=True) as session:
        event_type = teams.update_team_event_type(
            session=session, host_id=host_id, team_id=team_id, event_type_id=event_type_id, changes=changes
        )
        return teams.team_event_type_json(session, event_type)


@router.delete('/{team_id}/event-types/{event_type_id}', status_code=204, responses=problems(404, 409, 422))
def delete_event_type(host_id: HostId, team_id: int, event_type_id: int) -> Response:
    with session_scope(write=True) as session:
        teams.delete_team_event_type(session=session, host_id=host_id, team_id=team_id, event_type_id=event_type_id)
    return Response(status_code=204)


@router.put('/{team_id}/event-types/{event_type_id}/my-schedule', status_code=204, responses=problems(404, 422))
def choose_schedule(host_id: HostId, team_id: int, event_type_id: int, body: ScheduleChoice) -> Response:
    """Pick which of your own schedules applies to a team event type you host (null: your default schedule)."""
    with session_scope(write=True) as session:
        teams.team_for_member(session=session, host_id=host_id, team_id=team_id)
        teams.get_team_event_type(session=session, team_id=team_id, event_type_id=event_type_id)
        teams.choose_schedule(
            session=session, host_id=host_id, event_type_id=event_type_id, schedule_id=body.schedule_id
        )
    return Response(status_code=204)


# --- public ------------------------------------------------------------------------------------------------------


@public_router.get(
    '/{team_slug}/event-types', response_model=list[OfferedEventTypePublic], responses=problems(404, 422)
)
def list_public_event_types(team_slug: str) -> list[dict[str, Any]]:
    """The team's active, listed event types."""
    with session_scope() as session:
        team = teams.team_by_slug(session=session, slug=team_slug)
        return [
            teams.public_team_event_type_json(e)
            for e in teams.public_team_event_types(session=session, team_id=team.id or 0)
        ]


@public_router.get(
    '/{team_slug}/{slug}/slots',
    response_model=SlotsPublic,
    response_model_exclude_unset=True,
    responses=problems(400, 404, 422),
)
def list_slots(
    team_slug: str,
    slug: str,
    start: Annotated[str, Query(description='YYYY-MM-DD')],
    end: Annotated[str, Query(description='YYYY-MM-DD, inclusive')],
    timezone_name: Annotated[str, Query(alias='timezone')] = 'UTC',
    duration: Annotated[
        int | None, Query(description="One of the event type's duration_options, in minutes (default: its duration)")
    ] = None,
) -> Response:
    """Free start times for the invitee's local dates start..end (at most 62 days): a time is offered when a
    member is free (round robin) or every member is (collective)."""
    zone_name = validation.time_zone(timezone_name)
    first, last = validation.iso_date(start, 'start'), validation.iso_date(end, 'end')
    if last < first:
        raise InvalidInput('end must be on or after start')
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f'The date range may span at most {MAX_RANGE_DAYS} days')
    lo, hi = slots.local_dates_span(first, last, zone_name)
    found = team_use_cases.link_offer(team_slug=team_slug, slug=slug, start=lo, end=hi, now=_now(), duration=duration)
    zone = ZoneInfo(zone_name)
    # orjson writes aware times as ISO 8601 with their offset, the text isoformat() gives, in a fraction of the time
    answer: dict[str, Any] = {
        'timezone': zone_name,
        'slots': [{'start': s.start.astimezone(zone), 'end': s.end.astimezone(zone)} for s in found.slots],
    }
    if found.problem:
        answer['notice'] = availability.CALENDARS_UNCHECKED
    # built to SlotsPublic's shape here and serialised once (a month of a big team holds ~1,000 slots), like a
    # host's; tests/api/test_teams_api.py checks the shape against the schema
    return Response(orjson.dumps(answer), media_type='application/json')


@public_router.post(
    '/{team_slug}/{slug}/bookings',
    status_code=201,
    response_model=TeamBookingPublic,
    responses=problems(400, 404, 409, 422, 429),
)
def create_booking(
    team_slug: str,
    slug: str,
    body: BookingRequest,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Book a start time with the team; the answer names the members (`hosts`) it went to."""
    invitee = bookings.Invitee(
        name=body.name,
        email=body.email,
        timezone=body.timezone,
        notes=body.notes,
        answers=body.answers,
        locale=i18n.choose(body.locale, accept_language=request.headers.get('accept-language')),
    )
    found = team_use_cases.book(
        event_type_id=team_use_cases.event_type_for_link(team_slug=team_slug, slug=slug),
        start=body.start,
        invitee=invitee,
        now=_now(),
        address=client_address(request),
        idempotency_key=idempotency_key,
        duration=body.duration_minutes,
    )
    if found.receipt.replayed:
        response.headers['Idempotent-Replayed'] = 'true'
    return {**_invitee_view(found.receipt.booking, found.receipt.token), 'hosts': found.hosts}


def _now() -> datetime:
    return datetime.now(timezone.utc)
