"""Microsoft 365 / Outlook: tokens with msal, Microsoft Graph over HTTP. Busy times come from `calendarView`
(every page, times in UTC, only busy / tentative / out-of-office, cancelled events ignored); events carry a Teams
link (`isOnlineMeeting`) and the booking's uid as `transactionId`, which makes a retried creation return the same
event."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import Any

import httpx
import msal
import requests

from app.config import Settings
from services.calendars.errors import ProviderError, ReconnectNeeded
from services.calendars.times import utc_z
from services.slots import Busy

SCOPES = ['Calendars.ReadWrite']
BUSY = {'busy', 'tentative', 'oof'}
MICROSOFT_LOGIN = 'https://login.microsoftonline.com'


def access_token(refresh_token: str, settings: Settings) -> tuple[str, str]:
    """A fresh access token, and the refresh token to keep (Microsoft may hand out a new one)."""
    session = requests.Session()
    session.trust_env = False
    if settings.microsoft_ca_bundle:
        session.verify = settings.microsoft_ca_bundle
    try:
        app = msal.ConfidentialClientApplication(
            settings.microsoft_client_id,
            client_credential=settings.microsoft_client_secret,
            authority=f'{settings.microsoft_login_url}/{settings.microsoft_tenant}',
            http_client=session,
            instance_discovery=settings.microsoft_login_url == MICROSOFT_LOGIN,
            timeout=settings.calendar_timeout_seconds,
        )
        result = app.acquire_token_by_refresh_token(refresh_token, scopes=SCOPES)
    except (requests.RequestException, ValueError) as exc:
        raise ProviderError(f'Microsoft could not be reached ({type(exc).__name__})') from None
    if 'access_token' not in result:
        if result.get('error') == 'invalid_grant':
            raise ReconnectNeeded("Microsoft no longer accepts CloudMeet's access; please connect again")
        raise ProviderError(f'Microsoft refused the token request ({result.get("error", "error")})')
    return result['access_token'], result.get('refresh_token') or refresh_token


def _client(token: str, settings: Settings) -> httpx.Client:
    return httpx.Client(
        base_url=settings.microsoft_graph_url,
        timeout=settings.calendar_timeout_seconds,
        verify=ssl.create_default_context(cafile=settings.microsoft_ca_bundle or None),
        headers={'Authorization': f'Bearer {token}', 'Prefer': 'outlook.timezone="UTC"'},
    )


def list_calendars(token: str, settings: Settings) -> list[dict[str, str]]:
    with _client(token, settings) as client:
        page = _json(lambda: client.get('/me/calendars', params={'$select': 'id,name,isDefaultCalendar'}))
    return [{'id': c['id'], 'name': c.get('name') or c['id']} for c in page.get('value', [])]


def fetch_busy(
    token: str, start: datetime, end: datetime, settings: Settings, calendars: list[str] | tuple[str, ...] = ()
) -> list[Busy]:
    """Busy times of the chosen calendars (default: the account's default calendar)."""
    busy: list[Busy] = []
    for calendar_id in calendars or ['']:
        busy.extend(_calendar_view(token, start, end, settings, calendar_id))
    return sorted(busy, key=lambda b: (b.start, b.end))


def _calendar_view(token: str, start: datetime, end: datetime, settings: Settings, calendar_id: str) -> list[Busy]:
    busy: list[Busy] = []
    params: dict[str, str] | None = {
        'startDateTime': utc_z(start),
        'endDateTime': utc_z(end),
        '$select': 'start,end,showAs,isCancelled',
        '$top': '100',
    }
    url = f'/me/calendars/{calendar_id}/calendarView' if calendar_id else '/me/calendarView'
    with _client(token, settings) as client:
        for _ in range(100):  # at most 10,000 events
            page = _json(partial(client.get, url, params=params))
            for event in page.get('value', []):
                if event.get('isCancelled') or event.get('showAs', 'busy') not in BUSY:
                    continue
                busy.append(Busy(_parse(event['start']), _parse(event['end'])))
            url, params = page.get('@odata.nextLink', ''), None
            if not url:
                break
        else:
            raise ProviderError('the calendar has more events than CloudMeet reads in one go')
    return busy


def create_event(
    token: str, body: dict[str, Any], *, teams: bool, transaction_id: str, settings: Settings, calendar_id: str = ''
) -> tuple[str, str]:
    body = {**body, 'transactionId': transaction_id}
    if teams:
        body |= {'isOnlineMeeting': True, 'onlineMeetingProvider': 'teamsForBusiness'}
    path = f'/me/calendars/{calendar_id}/events' if calendar_id else '/me/events'
    with _client(token, settings) as client:
        event = _json(lambda: client.post(path, json=body))
    return event['id'], teams_link(event)


def update_event(token: str, event_id: str, body: dict[str, Any], settings: Settings) -> str:
    with _client(token, settings) as client:
        return teams_link(_json(lambda: client.patch(f'/me/events/{event_id}', json=body)))


def delete_event(token: str, event_id: str, settings: Settings) -> None:
    with _client(token, settings) as client:
        try:
            response = client.delete(f'/me/events/{event_id}')
        except httpx.HTTPError as exc:
            raise ProviderError(f'Microsoft could not be reached ({type(exc).__name__})') from None
    if response.status_code not in (204, 404, 410):
        raise ProviderError(f'Microsoft answered {response.status_code}')


def event_body(
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    attendee: tuple[str, str],
    location: str = '',
    others: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        'subject': summary,
        'body': {'contentType': 'text', 'content': description},
        'start': {'dateTime': _graph_time(start), 'timeZone': 'UTC'},
        'end': {'dateTime': _graph_time(end), 'timeZone': 'UTC'},
        'attendees': [
            {'emailAddress': {'address': email, 'name': name}, 'type': 'required'}
            for email, name in (attendee, *others)
        ],
    }
    if location:
        body['location'] = {'displayName': location}
    return body


def teams_link(event: dict[str, Any]) -> str:
    return str((event.get('onlineMeeting') or {}).get('joinUrl') or '')


def _json(request: Callable[[], httpx.Response]) -> dict[str, Any]:
    try:
        response = request()
    except httpx.HTTPError as exc:
        raise ProviderError(f'Microsoft could not be reached ({type(exc).__name__})') from None
    if response.status_code >= 400:
        raise ProviderError(f'Microsoft answered {response.status_code}')
    return response.json()


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')


def _parse(value: dict[str, str]) -> datetime:
    text = value['dateTime'].split('.')[0]
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
