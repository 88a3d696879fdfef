"""The teams API's bodies, beside api/schemas.py (whose shapes they extend)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas import EventTypePublic, EventTypeUpdate, InviteeBookingPublic, Public, Strict
from services.teams import Assignment


class TeamCreate(Strict):
    slug: Annotated[str, Field(min_length=1, max_length=40)]
    name: Annotated[str, Field(min_length=1, max_length=120)]


class TeamUpdate(Strict):
    slug: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class MemberAdd(Strict):
    """An existing account, by username or e-mail address."""

    username: Annotated[str, Field(min_length=1, max_length=254)]
    role: Annotated[str, Field(pattern='^(admin|member)$')] = 'member'


class ScheduleChoice(Strict):
    """Which of the member's own schedules applies to a team event type they host (null: their default)."""

    schedule_id: Annotated[int, Field(ge=1)] | None = None


class TeamMemberPublic(Public):
    username: str
    name: str
    role: str


class TeamPublic(Public):
    id: int
    slug: str
    name: str
    members: list[TeamMemberPublic]


class TeamEventTypePublic(EventTypePublic):
    """An event type plus how a team assigns it and who hosts it."""

    team_id: int
    assignment: Assignment
    members: list[str]


class TeamEventTypeUpdate(EventTypeUpdate):
    assignment: Assignment | None = None
    members: list[Annotated[str, Field(max_length=254)]] | None = Field(default=None, max_length=500)


class TeamBookingPublic(InviteeBookingPublic):
    """A team booking as its invitee sees it, with the members it went to."""

    hosts: list[str]
