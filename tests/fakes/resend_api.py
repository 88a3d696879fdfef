"""A local stand-in for Resend's HTTP API (`POST /emails`), speaking its wire format: bearer key, JSON body,
`Idempotency-Key` (a repeat with the same key and body returns the first answer; a different body is a 409)."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.http import JsonHandler, start

API_KEY = 're_test_cloudmeet'


@dataclass
class FakeResend:
    url: str = ''
    emails: list[dict[str, Any]] = field(default_factory=list)  # accepted e-mails, one per distinct send
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request, with its headers
    fail_next: list[int] = field(default_factory=list)  # status codes to answer the next requests with
    _by_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({'headers': headers, 'body': body})
            if headers.get('authorization') != f'Bearer {API_KEY}':
                return 401, _error(
                    401,
                    'missing_api_key' if 'authorization' not in headers else 'invalid_api_key',
                    'API key is invalid',
                )
            if self.fail_next:
                code = self.fail_next.pop(0)
                return code, _error(
                    code, 'rate_limit_exceeded' if code == 429 else 'application_error', 'Simulated failure'
                )
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, _error(400, 'validation_error', 'Invalid JSON')
            missing = [k for k in ('from', 'to', 'subject') if not payload.get(k)]
            if missing:
                return 422, _error(422, 'missing_required_field', f'Missing `{missing[0]}` field.')
            key = headers.get('idempotency-key')
            if key and key in self._by_key:
                first_body, first_id = self._by_key[key]
                if first_body != body.decode():
                    return 409, _error(
                        409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.'
                    )
                return 200, {'id': first_id}
            email_id = str(uuid.uuid4())
            if key:
                self._by_key[key] = (body.decode(), email_id)
            self.emails.append(payload | {'id': email_id, 'idempotency_key': key})
            return 200, {'id': email_id}


def _error(code: int, name: str, message: str) -> dict[str, Any]:
    return {'statusCode': code, 'name': name, 'message': message}


def serve() -> tuple[FakeResend, ThreadingHTTPServer]:
    """Start the stand-in on a free loopback port; stop it with `server.shutdown()`."""
    fake = FakeResend()

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            body = self.read_body()
            if method != 'POST' or self.path != '/emails':
                code, answer = 404, _error(404, 'not_found', 'The requested endpoint does not exist.')
            else:
                code, answer = fake.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_json(code, answer)

    server, fake.url = start(Handler)
    return fake, server
