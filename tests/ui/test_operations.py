"""Operations over the real stack: /metrics in Prometheus's text format (requests by route template and status,
bookings by outcome), and a request id on every answer that the JSON log lines written meanwhile carry."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from nicegui.testing.user import User
from prometheus_client.parser import text_string_to_metric_families

from app import db
from app.db import session_scope
from tests.factories import at, make_event_type, make_host, next_monday
from web.logs import JsonFormatter

MONDAY = next_monday()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(user: User) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await user.http_client.get('/metrics')
    assert answer.status_code == 200 and answer.headers['content-type'].startswith('text/plain')
    assert 'set-cookie' not in answer.headers
    return samples(answer.text)


def requests(metrics: dict, route: str, status: str, method: str = 'POST') -> float:
    return metrics.get(
        ('cloudmeet_http_requests_total', (('method', method), ('route', route), ('status', status))), 0.0
    )


@pytest.fixture
def ada() -> None:
    with session_scope(write=True) as session:
        make_event_type(session, make_host(session, name='Ada Lovelace'), slug='call')


async def test_metrics_count_requests_by_route_template_and_bookings_by_outcome(user: User, ada: None) -> None:
    route = '/api/v1/public/{username}/{slug}/bookings'
    before = await scrape(user)
    body = {
        'start': at(MONDAY, '10:00').isoformat(),
        'name': 'Grace',
        'email': 'grace@example.com',
        'timezone': 'Europe/London',
    }
    assert (await user.http_client.post('/api/v1/public/ada/call/bookings', json=body)).status_code == 201
    assert (await user.http_client.post('/api/v1/public/ada/call/bookings', json=body)).status_code == 409
    assert (await user.http_client.get('/no/such/page/at/all')).status_code == 404
    after = await scrape(user)
    assert requests(after, route, '201') - requests(before, route, '201') == 1
    assert requests(after, route, '409') - requests(before, route, '409') == 1
    assert not any('/ada/call' in dict(labels).get('route', '') for _, labels in after)  # never the raw path
    assert requests(after, 'other', '404', 'GET') - requests(before, 'other', '404', 'GET') == 1
    for outcome in ('created', 'conflict'):
        key = ('cloudmeet_bookings_total', (('outcome', outcome),))
        assert after[key] - before.get(key, 0.0) == 1
    assert after[('cloudmeet_http_request_duration_seconds_count', (('route', route),))] >= 2
    assert ('cloudmeet_outbox_backlog', ()) in after and ('cloudmeet_live_pages', ()) in after
    assert all(name.startswith('cloudmeet_') for name, _ in after)


async def test_every_answer_carries_a_request_id_a_safe_incoming_one_is_kept(user: User) -> None:
    kept = await user.http_client.get('/healthz', headers={'X-Request-ID': 'lb-1234.abcd'})
    assert kept.headers['x-request-id'] == 'lb-1234.abcd'
    for unsafe in ('x' * 65, 'a b', '<script>'):
        replaced = await user.http_client.get('/healthz', headers={'X-Request-ID': unsafe})
        assert replaced.headers['x-request-id'] != unsafe and len(replaced.headers['x-request-id']) == 16
    first, second = (await user.http_client.get('/privacy'), await user.http_client.get('/privacy'))
    assert first.headers['x-request-id'] != second.headers['x-request-id']


async def test_a_json_log_line_written_during_a_request_carries_its_request_id(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter())
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    logging.getLogger('web.ops').addHandler(handler)
    real = db.get_engine()
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    db.use_engine(db.create_db_engine(f'postgresql+psycopg://cloudmeet@127.0.0.1:{port}/cloudmeet?token=s3cr3t'))
    try:
        answer = await user.http_client.get('/readyz', headers={'X-Request-ID': 'probe-42'})
    finally:
        db.get_engine().dispose()
        db.use_engine(real)
        logging.getLogger('web.ops').removeHandler(handler)
        caplog.clear()
    assert answer.status_code == 503
    entry = json.loads(lines[-1])
    assert entry['request_id'] == 'probe-42' and entry['level'] == 'WARNING' and entry['logger'] == 'web.ops'
    assert set(entry) == {'time', 'level', 'logger', 'message', 'request_id'}
