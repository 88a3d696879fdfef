"""A local HTTPS stand-in for Microsoft's identity platform (tenant metadata and the token endpoint, as msal uses
them) and the Microsoft Graph calendar paths the app uses: calendarView with paging, events with Teams links and
transactionId. Every request is recorded."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.http import JsonHandler, start
from tests.fakes.tls import self_signed

PAGE_SIZE = 2


@dataclass
class FakeMicrosoft:
    url: str = ''
    ca_file: str = ''
    calendar: list[dict[str, Any]] = field(default_factory=list)  # calendarView items (Graph's shape)
    other_calendars: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> calendarView items
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    invalid_grants: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def graph_url(self) -> str:
        return f'{self.url}/v1.0'

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for r in self.requests if r['method'] == method and path_part in r['path'])


def serve(directory: Path) -> tuple[FakeMicrosoft, ThreadingHTTPServer]:
    fake = FakeMicrosoft()
    cert, key = self_signed(directory)
    fake.ca_file = str(cert)

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            url = urlparse(self.path)
            body = self.read_body()
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            with fake.lock:
                fake.requests.append(
                    {'method': method, 'path': url.path, 'query': query, 'body': body, 'headers': dict(self.headers)}
                )
            parts = url.path.strip('/').split('/')
            if url.path.endswith('/v2.0/.well-known/openid-configuration'):
                tenant = parts[0]
                base = f'{fake.url}/{tenant}'
                return self.send_json(
                    200,
                    {
                        'issuer': f'{base}/v2.0',
                        'authorization_endpoint': f'{base}/oauth2/v2.0/authorize',
                        'token_endpoint': f'{base}/oauth2/v2.0/token',
                        'jwks_uri': f'{base}/discovery/v2.0/keys',
                        'response_types_supported': ['code'],
                        'subject_types_supported': ['pairwise'],
                        'id_token_signing_alg_values_supported': ['RS256'],
                    },
                )
            if url.path.endswith('/oauth2/v2.0/token'):
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if form.get('refresh_token') in fake.invalid_grants:
                    return self.send_json(400, {'error': 'invalid_grant', 'error_description': 'AADSTS70000: revoked'})
                return self.send_json(
                    200,
                    {
                        'token_type': 'Bearer',
                        'scope': 'Calendars.ReadWrite',
                        'expires_in': 3600,
                        'access_token': f'eyJ.{secrets.token_urlsafe(8)}',
                        'refresh_token': f'{form.get("refresh_token", "")}+',
                    },
                )
            if not self.headers.get('Authorization', '').startswith('Bearer eyJ.'):
                return self.send_json(401, {'error': {'code': 'InvalidAuthenticationToken'}})
            if fake.fail_next:
                code = fake.fail_next.pop(0)
                return self.send_json(code, {'error': {'code': 'ServiceUnavailable', 'message': 'Simulated'}})
            if url.path == '/v1.0/me/calendars' and method == 'GET':
                default = {'id': 'AAdefault', 'name': 'Calendar', 'isDefaultCalendar': True}
                others = [{'id': k, 'name': k.title(), 'isDefaultCalendar': False} for k in fake.other_calendars]
                return self.send_json(200, {'value': [default, *others]})
            if url.path.endswith('/calendarView') and method == 'GET':
                calendar_id = parts[3] if len(parts) == 5 and parts[2] == 'calendars' else ''
                source = (
                    fake.other_calendars.get(calendar_id, []) if calendar_id not in ('', 'AAdefault') else fake.calendar
                )
                skip = int(query.get('$skiptoken', '0'))
                page: dict[str, Any] = {'value': source[skip : skip + PAGE_SIZE]}
                if skip + PAGE_SIZE < len(source):
                    page['@odata.nextLink'] = f'{fake.url}{url.path}?$skiptoken={skip + PAGE_SIZE}'
                return self.send_json(200, page)
            if method == 'POST' and (
                url.path == '/v1.0/me/events' or (len(parts) == 5 and parts[2] == 'calendars' and parts[4] == 'events')
            ):
                event = json.loads(body)
                for existing in fake.events.values():  # Graph: the same transactionId is the same event
                    if event.get('transactionId') and existing.get('transactionId') == event['transactionId']:
                        return self.send_json(201, existing)
                event_id = f'AAMk{secrets.token_hex(6)}'
                event['id'], event['calendar'] = event_id, parts[3] if len(parts) == 5 else 'AAdefault'
                if event.get('isOnlineMeeting'):
                    event['onlineMeeting'] = {'joinUrl': f'https://teams.microsoft.com/l/meetup-join/{event_id}'}
                fake.events[event_id] = event
                return self.send_json(201, event)
            if len(parts) == 4 and parts[:3] == ['v1.0', 'me', 'events']:
                event_id = parts[3]
                if event_id not in fake.events:
                    return self.send_json(404, {'error': {'code': 'ErrorItemNotFound'}})
                if method == 'PATCH':
                    fake.events[event_id].update(json.loads(body))
                    return self.send_json(200, fake.events[event_id])
                if method == 'DELETE':
                    del fake.events[event_id]
                    return self.send_json(204)
            self.send_json(404, {'error': {'code': 'NotFound', 'message': f'{method} {url.path}'}})

    server, fake.url = start(Handler, tls=(cert, key))
    return fake, server
