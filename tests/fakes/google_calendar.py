"""A local stand-in for Google's OAuth token and revoke endpoints and the Calendar API v3 paths the app uses
(freeBusy, calendarList, events insert/patch/delete), speaking their JSON. Busy blocks, failures and delays are
set by the test; every request is recorded."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.fakes.http import JsonHandler, start


@dataclass
class FakeGoogle:
    url: str = ''
    busy: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {'primary': []})
    calendars: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {'id': 'primary', 'summary': 'ada@example.com', 'primary': True, 'accessRole': 'owner'},
            {'id': 'team@group.calendar.google.com', 'summary': 'Team', 'accessRole': 'writer'},
        ]
    )
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    invalid_grants: set[str] = field(default_factory=set)  # refresh tokens Google no longer accepts
    fail_next: list[int] = field(default_factory=list)  # API status codes to answer the next API calls with
    calendar_errors: dict[str, str] = field(default_factory=dict)  # calendar id -> freeBusy error reason
    delay: float = 0.0
    pending_conferences: int = 0  # how many times a new Meet link is still 'pending' before it appears
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f'{self.url}/calendar/v3/'

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for r in self.requests if r['method'] == method and path_part in r['path'])


def serve() -> tuple[FakeGoogle, ThreadingHTTPServer]:
    fake = FakeGoogle()

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            url = urlparse(self.path)
            body = self.read_body()
            with fake.lock:
                fake.requests.append(
                    {
                        'method': method,
                        'path': url.path,
                        'query': parse_qs(url.query),
                        'body': body,
                        'auth': self.headers.get('Authorization', ''),
                    }
                )
            if fake.delay:
                time.sleep(fake.delay)
            if url.path == '/token':
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if form.get('refresh_token') in fake.invalid_grants:
                    return self.send_json(
                        400, {'error': 'invalid_grant', 'error_description': 'Token has been revoked.'}
                    )
                return self.send_json(
                    200,
                    {
                        'access_token': f'ya29.{secrets.token_urlsafe(8)}',
                        'expires_in': 3599,
                        'token_type': 'Bearer',
                        'scope': 'https://www.googleapis.com/auth/calendar',
                    },
                )
            if url.path == '/revoke':
                fake.revoked.append(parse_qs(body.decode()).get('token', [''])[0])
                return self.send_json(200, {})
            if not self.headers.get('Authorization', '').startswith('Bearer ya29.'):
                return self.send_json(401, {'error': {'code': 401, 'message': 'Invalid Credentials'}})
            if fake.fail_next:
                code = fake.fail_next.pop(0)
                return self.send_json(code, {'error': {'code': code, 'message': 'Simulated failure'}})
            path = url.path.removeprefix('/calendar/v3')
            if path == '/freeBusy' and method == 'POST':
                request = json.loads(body)
                calendars = {}
                for item in request['items']:
                    if item['id'] in fake.calendar_errors:
                        calendars[item['id']] = {
                            'errors': [{'domain': 'global', 'reason': fake.calendar_errors[item['id']]}]
                        }
                    else:
                        calendars[item['id']] = {'busy': fake.busy.get(item['id'], [])}
                return self.send_json(
                    200,
                    {
                        'kind': 'calendar#freeBusy',
                        'timeMin': request['timeMin'],
                        'timeMax': request['timeMax'],
                        'calendars': calendars,
                    },
                )
            if path == '/users/me/calendarList' and method == 'GET':
                return self.send_json(200, {'kind': 'calendar#calendarList', 'items': fake.calendars})
            parts = path.strip('/').split('/')
            if len(parts) >= 3 and parts[0] == 'calendars' and parts[2] == 'events':
                calendar_id = unquote(parts[1])
                if method == 'POST' and len(parts) == 3:
                    event = json.loads(body)
                    event_id = event.get('id') or secrets.token_hex(8)
                    if event_id in fake.events:
                        return self.send_json(
                            409, {'error': {'code': 409, 'message': 'The requested identifier already exists.'}}
                        )
                    request = (event.get('conferenceData') or {}).get('createRequest')
                    if request and fake.pending_conferences:
                        event['conferenceData'] = {'createRequest': {**request, 'status': {'statusCode': 'pending'}}}
                        event['_link'] = f'https://meet.google.com/{event_id[:3]}-{event_id[3:7]}'
                    elif request:
                        event['conferenceData'] = {
                            'createRequest': {**request, 'status': {'statusCode': 'success'}},
                            'entryPoints': [
                                {
                                    'entryPointType': 'video',
                                    'uri': f'https://meet.google.com/{event_id[:3]}-{event_id[3:7]}',
                                }
                            ],
                        }
                    event.update(
                        id=event_id,
                        status='confirmed',
                        calendarId=calendar_id,
                        htmlLink=f'https://calendar.google.com/event?eid={event_id}',
                    )
                    fake.events[event_id] = event
                    return self.send_json(200, event)
                event_id = unquote(parts[3]) if len(parts) > 3 else ''
                if event_id not in fake.events:
                    return self.send_json(404, {'error': {'code': 404, 'message': 'Not Found'}})
                event = fake.events[event_id]
                if event.get('_link') and method in ('GET', 'PATCH', 'PUT'):  # Google finishes the Meet link
                    fake.pending_conferences = max(0, fake.pending_conferences - 1)
                    if not fake.pending_conferences:
                        entry = {'entryPointType': 'video', 'uri': event.pop('_link')}
                        event['conferenceData'] = {'entryPoints': [entry]}
                if method == 'GET':
                    return self.send_json(200, event)
                if method in ('PATCH', 'PUT'):
                    event.update(json.loads(body))
                    return self.send_json(200, event)
                if method == 'DELETE':
                    del fake.events[event_id]
                    return self.send_json(204)
            self.send_json(404, {'error': {'code': 404, 'message': f'no route {method} {path}'}})

    server, fake.url = start(Handler)
    return fake, server


ICS_FEED = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:weekly@test
DTSTART;TZID=Europe/London:{day}T100000
DTEND;TZID=Europe/London:{day}T110000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/London:{exdate}T100000
SUMMARY:Private standup
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
RECURRENCE-ID;TZID=Europe/London:{moved}T100000
DTSTART;TZID=Europe/London:{moved}T140000
DTEND;TZID=Europe/London:{moved}T150000
SUMMARY:Private standup (moved)
END:VEVENT
BEGIN:VEVENT
UID:allday@test
DTSTART;VALUE=DATE:{allday}
DTEND;VALUE=DATE:{allday_end}
SUMMARY:Holiday
END:VEVENT
BEGIN:VEVENT
UID:free@test
DTSTART;TZID=Europe/London:{day}T120000
DTEND;TZID=Europe/London:{day}T130000
TRANSP:TRANSPARENT
SUMMARY:Free lunch
END:VEVENT
BEGIN:VEVENT
UID:cancelled@test
DTSTART;TZID=Europe/London:{day}T150000
DTEND;TZID=Europe/London:{day}T160000
STATUS:CANCELLED
SUMMARY:Called off
END:VEVENT
END:VCALENDAR
"""


def serve_ics() -> tuple[dict[str, Any], ThreadingHTTPServer]:
    """A feed server: `state['body']` is served at /feed.ics (or `state['status']`)."""
    state: dict[str, Any] = {'body': b'', 'status': 200, 'requests': 0}

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            state['requests'] += 1
            self.send_json(
                state['status'], state['body'] if state['status'] == 200 else b'error', content_type='text/calendar'
            )

    server, url = start(Handler)
    state['url'] = f'{url}/feed.ics'
    return state, server
