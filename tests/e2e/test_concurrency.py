"""The real server under racing requests, on SQLite and PostgreSQL: exactly one booking wins, nobody gets a 500."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlmodel import select

from app import db
from app.db import session_scope
from app.models import OutboxMessage
from services import hosts
from tests.e2e.server import running_server
from tests.factories import at, make_event_type, make_host, next_monday

MONDAY = next_monday()


@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp(f'server-{request.param}')
    url = ''
    if request.param == 'postgresql':
        url = request.getfixturevalue('postgres_databases').create()
    engine = db.init_engine(url or f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session)
        make_event_type(session, host, slug='call')
        make_event_type(session, host, slug='hour', title='Hour', duration_minutes=60, slot_interval_minutes=30)
        make_event_type(session, host, slug='class', title='Class', duration_minutes=60, seats=3)
        key = hosts.create_api_key(session=session, host_id=host.id)
    with running_server(data_dir=data_dir, database_url=url) as base:
        yield {'base': base, 'auth': {'Authorization': f'Bearer {key}'}, 'outbox': data_dir / 'outbox'}
    engine.dispose()


def race(calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[int]:
    """Run every call at once, each from its own thread and connection; return the status codes."""
    barrier, statuses = threading.Barrier(len(calls)), [0] * len(calls)

    def run(i: int) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            statuses[i] = calls[i](client).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def booking(base: str, slug: str, clock: str, n: int) -> Callable[[httpx.Client], httpx.Response]:
    body = {
        'start': at(MONDAY, clock).isoformat(),
        'name': f'Racer {n}',
        'email': f'racer{n}@example.com',
        'timezone': 'Europe/London',
    }
    return lambda client: client.post(f'{base}/api/v1/public/ada/{slug}/bookings', json=body)


def test_fifty_concurrent_requests_for_one_slot_make_exactly_one_booking_and_one_confirmation(server: dict) -> None:
    statuses = race([booking(server['base'], 'call', '09:00', n) for n in range(50)])
    assert sorted(statuses) == [201] + [409] * 49
    assert wait_for(lambda: list(server['outbox'].glob('*.confirmation.0.eml')))
    time.sleep(1)  # nothing more arrives
    with session_scope() as session:  # one message recorded and sent (a file per key could hide a repeat)
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'confirmation')).all()
        slot = [m for m in sent if m.context['start'] == at(MONDAY, '09:00').isoformat()]
    assert [(m.status, m.attempts) for m in slot] == [('sent', 1)]


def wait_for(found: Callable[[], list], seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.1)
    return []


def test_fifty_concurrent_requests_for_overlapping_slots_make_exactly_one_booking(server: dict) -> None:
    calls = [
        booking(server['base'], 'hour', clock, n) for n, clock in enumerate(['11:00', '11:30'] * 25)
    ]  # 11:00-12:00 and 11:30-12:30 overlap
    statuses = race(calls)
    assert statuses.count(201) == 1 and statuses.count(409) == 49


def test_twenty_concurrent_requests_for_a_three_seat_time_book_exactly_three_seats(server: dict) -> None:
    statuses = race([booking(server['base'], 'class', '14:00', n) for n in range(20)])
    assert sorted(statuses) == [201] * 3 + [409] * 17
    day = MONDAY.isoformat()
    offered = httpx.get(
        f'{server["base"]}/api/v1/public/ada/class/slots',
        params={'start': day, 'end': day, 'timezone': 'Europe/London'},
    ).json()['slots']
    assert at(MONDAY, '14:00').isoformat() not in [s['start'] for s in offered]  # full: no longer offered
    upcoming = httpx.get(f'{server["base"]}/api/v1/bookings', headers=server['auth'], params={'limit': 500}).json()
    seated = [b for b in upcoming if b['start'] == at(MONDAY, '14:00').isoformat()]
    assert len(seated) == 3 and len({b['invitee']['email'] for b in seated}) == 3


def test_back_to_back_bookings_both_succeed(server: dict) -> None:
    statuses = race([booking(server['base'], 'call', '13:00', 1), booking(server['base'], 'call', '13:30', 2)])
    assert statuses == [201, 201]


def test_a_reschedule_racing_new_bookings_for_the_same_time_lets_exactly_one_win(server: dict) -> None:
    base = server['base']
    first = httpx.post(
        f'{base}/api/v1/public/ada/call/bookings',
        json={
            'start': at(MONDAY, '15:00').isoformat(),
            'name': 'Mover',
            'email': 'mover@example.com',
            'timezone': 'UTC',
        },
    ).json()
    token = first['manage_url'].split('token=')[1]
    move = {'token': token, 'start': at(MONDAY, '16:00').isoformat()}
    calls = [booking(base, 'call', '16:00', n) for n in range(49)]
    calls.insert(25, lambda client: client.post(f'{base}/api/v1/public/bookings/{first["uid"]}/reschedule', json=move))
    statuses = race(calls)
    assert statuses.count(409) == 49 and statuses.count(201) + statuses.count(200) == 1
    mover = httpx.get(f'{base}/api/v1/bookings/{first["uid"]}', headers=server['auth']).json()
    expected = '16:00' if statuses[25] == 200 else '15:00'
    assert mover['start'] == at(MONDAY, expected).isoformat()
    upcoming = httpx.get(f'{base}/api/v1/bookings', headers=server['auth'], params={'limit': 500}).json()
    sixteen = [b for b in upcoming if b['start'] == at(MONDAY, '16:00').isoformat()]
    assert len(sixteen) == 1


def test_the_server_serves_the_home_page_and_security_headers(server: dict) -> None:
    r = httpx.get(server['base'] + '/')
    assert r.status_code == 200 and 'CloudMeet' in r.text
    assert r.headers['x-content-type-options'] == 'nosniff'
    assert "frame-ancestors 'self'" in r.headers['content-security-policy']


def test_api_calls_get_security_headers_but_no_browser_session_cookie(server: dict) -> None:
    r = httpx.get(server['base'] + '/api/v1/public/ada/event-types')
    assert r.status_code == 200 and r.json()[0]['slug'] == 'call'
    assert 'set-cookie' not in r.headers
    assert r.headers['x-content-type-options'] == 'nosniff'
    token_page = httpx.post(server['base'] + '/api/v1/public/bookings/nope/cancel', json={'token': 'x'})
    assert token_page.status_code == 404 and token_page.headers['referrer-policy'] == 'no-referrer'
    assert httpx.get(server['base'] + '/api/v1/openapi.json').json()['info']['title'] == 'CloudMeet API'


def test_only_the_origins_a_host_allows_may_frame_an_embedded_booking_page(server: dict) -> None:
    base = server['base']

    def ancestors(path: str) -> str:  # the policy's frame-ancestors directive (the page policy has others too)
        policy = httpx.get(f'{base}{path}').headers['content-security-policy']
        return next(d.strip() for d in policy.split(';') if d.strip().startswith('frame-ancestors'))

    assert ancestors('/ada/call?embed=1') == "frame-ancestors 'self'"
    httpx.patch(f'{base}/api/v1/me', headers=server['auth'], json={'embed_origins': ['https://www.example.com']})
    assert ancestors('/ada/call?embed=1') == "frame-ancestors 'self' https://www.example.com"
    assert ancestors('/ada/call') == "frame-ancestors 'self'"
