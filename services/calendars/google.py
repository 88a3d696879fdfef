"""Google Calendar with google-api-python-client: busy times from `freeBusy` over the chosen calendars. The base
URLs come from the settings, which is how the tests point the real client at a local stand-in."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from app.config import Settings
from services.calendars.errors import ProviderError, ReconnectNeeded
from services.calendars.times import utc_z
from services.slots import Busy

SCOPES = ('https://www.googleapis.com/auth/calendar.events', 'https://www.googleapis.com/auth/calendar.freebusy')


def service(refresh_token: str, settings: Settings) -> Any:  # googleapiclient's resources are untyped
    """A Calendar API client for one connection (the client is not thread-safe: one per call)."""
    credentials = Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=settings.google_token_url,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        scopes=list(SCOPES),
    )
    http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=settings.calendar_timeout_seconds))
    return build(
        'calendar',
        'v3',
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={'api_endpoint': settings.google_api_url},
    )


def fetch_busy(
    refresh_token: str, calendars: list[str], start: datetime, end: datetime, settings: Settings
) -> list[Busy]:
    ids = calendars or ['primary']
    body = {'timeMin': utc_z(start), 'timeMax': utc_z(end), 'timeZone': 'UTC', 'items': [{'id': c} for c in ids]}
    calendar = service(refresh_token, settings)
    answer = _call(lambda: calendar.freebusy().query(body=body).execute())
    busy = []
    for calendar_id in ids:
        found = answer.get('calendars', {}).get(calendar_id, {})
        if found.get('errors'):
            reason = found['errors'][0].get('reason', 'error')
            raise ProviderError(f'Google could not read the calendar {calendar_id} ({reason})')
        for block in found.get('busy', []):
            busy.append(Busy(_parse(block['start']), _parse(block['end'])))
    return sorted(busy, key=lambda b: (b.start, b.end))


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace('Z', '+00:00')).astimezone(timezone.utc)


def list_calendars(refresh_token: str, settings: Settings) -> list[dict[str, str]]:
    """The account's calendars, for choosing which count as busy."""
    calendar = service(refresh_token, settings)
    items = _call(lambda: calendar.calendarList().list().execute()).get('items', [])
    return [{'id': c['id'], 'name': c.get('summaryOverride') or c.get('summary') or c['id']} for c in items]


def event_id_for(uid: str) -> str:
    """Google accepts client-chosen event ids of base32hex characters: one per booking, so a retried creation can
    never make a second event."""
    digest = hashlib.sha256(uid.encode()).digest()
    return base64.b32hexencode(digest).decode().lower().rstrip('=')[:40]


def create_event(
    refresh_token: str, calendar_id: str, event_id: str, body: dict, *, meet: bool, request_id: str, settings: Settings
) -> tuple[str, str]:
    """Insert the booking's event (with a Meet link when asked); an event that already exists is the one made by
    an earlier attempt. Returns (event id, meeting link or '' while Google is still making it)."""
    calendar = service(refresh_token, settings)
    body = {**body, 'id': event_id}
    if meet:
        body['conferenceData'] = {
            'createRequest': {'requestId': request_id, 'conferenceSolutionKey': {'type': 'hangoutsMeet'}}
        }
    try:
        event = _call(
            lambda: (
                calendar.events()
                .insert(calendarId=calendar_id, body=body, sendUpdates='none', conferenceDataVersion=1 if meet else 0)
                .execute()
            )
        )
    except ProviderError as exc:
        if '409' not in str(exc):
            raise
        event = _call(lambda: calendar.events().get(calendarId=calendar_id, eventId=event_id).execute())
    return event['id'], meet_link(event)


def event_body(
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    attendee: tuple[str, str],
    location: str = '',
    others: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """An event as the Calendar API takes it (the calendar's default reminders)."""
    body: dict[str, Any] = {
        'summary': summary,
        'description': description,
        'start': {'dateTime': utc_z(start)},
        'end': {'dateTime': utc_z(end)},
        'attendees': [{'email': email, 'displayName': name} for email, name in (attendee, *others)],
        'reminders': {'useDefault': True},
    }
    if location:
        body['location'] = location
    return body


def update_event(refresh_token: str, calendar_id: str, event_id: str, body: dict, settings: Settings) -> str:
    calendar = service(refresh_token, settings)
    event = _call(
        lambda: (
            calendar.events().patch(calendarId=calendar_id, eventId=event_id, body=body, sendUpdates='none').execute()
        )
    )
    return meet_link(event)


def delete_event(refresh_token: str, calendar_id: str, event_id: str, settings: Settings) -> None:
    calendar = service(refresh_token, settings)
    try:
        _call(lambda: calendar.events().delete(calendarId=calendar_id, eventId=event_id, sendUpdates='none').execute())
    except ProviderError as exc:
        if '404' not in str(exc) and '410' not in str(exc):  # already gone is what we wanted
            raise


def meet_link(event: dict) -> str:
    for entry in (event.get('conferenceData') or {}).get('entryPoints', []):
        if entry.get('entryPointType') == 'video' and entry.get('uri'):
            return str(entry['uri'])
    return ''


def _call(request: Callable[[], Any]) -> Any:
    try:
        return request()
    except RefreshError as exc:
        if 'invalid_grant' in str(exc):
            raise ReconnectNeeded("Google no longer accepts CloudMeet's access; please connect again") from None
        raise ProviderError('Google refused to renew the access') from None
    except HttpError as exc:
        raise ProviderError(f'Google answered {exc.resp.status}') from None
    except (TransportError, OSError, httplib2.HttpLib2Error) as exc:
        raise ProviderError(f'Google could not be reached ({type(exc).__name__})') from None
