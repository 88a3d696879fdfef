"""Host calendar endpoints: list every connected calendar (any kind, with its status, never a secret), add an ICS
feed or a CalDAV account (checked by connecting: a clear 400 when the address or password does not work), choose
which of an account's calendars count as busy and which receives new bookings, and disconnect one. Google and
Microsoft accounts are connected through their sign-in pages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import Field

from api.host import HostId
from api.schemas import CalendarPublic, Public, Strict, problems
from app.db import session_scope
from app.errors import NotFound
from services import accounts, validation
from services.calendars import connections

router = APIRouter(tags=['calendars'], responses=problems(401, 503))
CalendarId = Annotated[int, Path(ge=1, le=validation.MAX_ID)]
Name = Annotated[str, Field(max_length=120, description='How the calendar is shown (default: from the account)')]


class FeedCalendarRequest(Strict):
    kind: Literal['ics']
    url: str = Field(max_length=2000, description="The feed's secret iCal address (https, or webcal)")
    name: Name = ''


class CalDavCalendarRequest(Strict):
    kind: Literal['caldav']
    url: str = Field(
        max_length=2000,
        description='The CalDAV address, e.g. https://caldav.icloud.com, '
        'https://caldav.fastmail.com/dav/ or https://HOST/remote.php/dav',
    )
    username: str = Field(min_length=1, max_length=254)
    password: str = Field(
        min_length=1,
        max_length=1000,
        description='An app password where the server offers them; stored encrypted, never shown again',
    )
    name: Name = ''


CalendarRequest = Annotated[FeedCalendarRequest | CalDavCalendarRequest, Field(discriminator='kind')]
CalendarKey = Annotated[str, Field(min_length=1, max_length=300)]


class CalendarUpdate(Strict):
    busy_calendars: list[CalendarKey] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description=('The ids (from the choices) of the calendars that count as busy'),
    )
    target_calendar: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description=("The id of the calendar new bookings are written to ('' = the default)")
    )
    receives_events: Literal[True] | None = Field(default=None, description='New bookings go to this connection')


class CalendarChoicePublic(Public):
    id: str = Field(description='The calendar id to use in busy_calendars and target_calendar (a URL for CalDAV)')
    name: str


@router.get('/calendars', response_model=list[CalendarPublic])
def list_calendars(host_id: HostId) -> list[dict[str, Any]]:
    with session_scope() as session:
        return connections.overview(session, host_id=host_id)


@router.post('/calendars', status_code=201, response_model=CalendarPublic, responses=problems(400, 422))
def add_calendar(host_id: HostId, body: CalendarRequest) -> dict[str, Any]:
    """Add a feed or a CalDAV account after connecting to it once; the same CalDAV account again replaces its
    password (a reconnection)."""
    if isinstance(body, CalDavCalendarRequest):
        added = connections.connect_caldav(
            host_id=host_id, url=body.url, username=body.username, password=body.password, label=body.name, now=_now()
        )
    else:
        added = connections.connect_feed(host_id=host_id, url=body.url, label=body.name, now=_now())
    return _listed(host_id, added)


@router.get('/calendars/{calendar_id}/choices', response_model=list[CalendarChoicePublic], responses=problems(404, 422))
def calendar_choices(host_id: HostId, calendar_id: CalendarId) -> list[dict[str, str]]:
    """The account's calendars, asked of the provider now (none for a feed; 503 when it cannot answer)."""
    return connections.choices(host_id=host_id, connection_id=calendar_id)


@router.patch('/calendars/{calendar_id}', response_model=CalendarPublic, responses=problems(400, 404, 422))
def update_calendar(host_id: HostId, calendar_id: CalendarId, body: CalendarUpdate) -> dict[str, Any]:
    """Choose which of the account's calendars count as busy and which receives new bookings (ids from its
    choices), and whether new bookings go to this connection."""
    connections.choose(
        host_id=host_id,
        connection_id=calendar_id,
        busy_calendars=body.busy_calendars,
        target_calendar=body.target_calendar,
        receives_events=bool(body.receives_events),
    )
    return _listed(host_id, calendar_id)


@router.delete('/calendars/{calendar_id}', status_code=204, responses=problems(404, 422))
def delete_calendar(host_id: HostId, calendar_id: CalendarId) -> Response:
    """Disconnect: its busy times no longer count and no new booking is written there (Google access is revoked)."""
    with session_scope(write=True) as session:
        connections.remove(session, host_id=host_id, connection_id=calendar_id, revoke=accounts.revoke_google_token)
    return Response(status_code=204)


def _listed(host_id: int, connection_id: int) -> dict[str, Any]:
    with session_scope() as session:
        found = [c for c in connections.overview(session, host_id=host_id) if c['id'] == connection_id]
    if not found:
        raise NotFound('Calendar connection not found')
    return found[0]


def _now() -> datetime:
    return datetime.now(timezone.utc)
