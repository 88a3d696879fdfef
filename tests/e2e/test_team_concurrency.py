"""Team bookings under racing requests on the real server, SQLite and PostgreSQL: no member is ever double-booked,
whether team requests race each other or a personal booking races a collective one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from app import db
from app.db import session_scope
from app.models import HOLDING, Booking, Host
from services import teams
from services.teams import TeamEventTypeInput
from tests.e2e.server import running_server
from tests.e2e.test_concurrency import race
from tests.factories import at, make_event_type, make_host, next_monday

MONDAY = next_monday()


@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Ada, Bob and Cyd (weekdays 09:00-17:00, London) in team 'crew': round robin 'intro' with Ada and Bob,
    collective 'panel' with all three; Bob also has his own 'call'."""
    data_dir = tmp_path_factory.mktemp(f'teams-{request.param}')
    url = ''
    if request.param == 'postgresql':
        url = request.getfixturevalue('postgres_databases').create()
    engine = db.init_engine(url or f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        ada, bob, _ = (make_host(session, username=name) for name in ('ada', 'bob', 'cyd'))
        make_event_type(session, bob, slug='call')
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='Crew', members=('bob', 'cyd'))
        for slug, assignment, members in (('intro', 'round_robin', ['ada', 'bob']), ('panel', 'collective', None)):
            teams.create_team_event_type(
                session=session,
                host_id=ada.id,
                team_id=team.id,
                data=TeamEventTypeInput(
                    slug=slug,
                    title=slug.title(),
                    duration_minutes=30,
                    max_days_ahead=120,
                    assignment=assignment,
                    members=members,
                ),
            )
    with running_server(data_dir=data_dir, database_url=url, env={'CLOUDMEET_BOOKING_RATE_LIMIT': '0'}) as base:
        yield {'base': base}
    engine.dispose()


def post(url: str, clock: str, n: int) -> Callable[[httpx.Client], httpx.Response]:
    body = {
        'start': at(MONDAY, clock).isoformat(),
        'name': f'Racer {n}',
        'email': f'racer{n}@example.com',
        'timezone': 'Europe/London',
    }
    return lambda client: client.post(url, json=body)


def test_twenty_requests_for_one_time_with_two_free_members_make_exactly_two_bookings_one_each(server: dict) -> None:
    url = f'{server["base"]}/api/v1/public/teams/crew/intro/bookings'
    statuses = race([post(url, '09:00', n) for n in range(20)])
    assert sorted(statuses) == [201, 201] + [409] * 18
    assert sorted(hosts_at('09:00')) == ['ada', 'bob']


def test_a_personal_booking_racing_collective_ones_never_double_books_a_member(server: dict) -> None:
    team_url = f'{server["base"]}/api/v1/public/teams/crew/panel/bookings'
    own_url = f'{server["base"]}/api/v1/public/bob/call/bookings'
    calls = [post(team_url, '11:00', n) if n % 2 else post(own_url, '11:00', n) for n in range(20)]
    statuses = race(calls)
    assert sorted(statuses) == [201] + [409] * 19
    held = hosts_at('11:00')
    assert held.count('bob') == 1 and sorted(held) in (['bob'], ['ada', 'bob', 'cyd'])


def test_two_collective_and_round_robin_races_leave_no_member_overlapping(server: dict) -> None:
    calls = [
        post(f'{server["base"]}/api/v1/public/teams/crew/{"panel" if n % 2 else "intro"}/bookings', '14:00', n)
        for n in range(20)
    ]
    statuses = race(calls)
    assert 201 in statuses and set(statuses) <= {201, 409}
    held = hosts_at('14:00')
    assert len(held) == len(set(held))  # each member holds the time at most once


def hosts_at(clock: str) -> list[str]:
    """The members holding `clock` on Monday (bookings and collective holds alike)."""
    start = at(MONDAY, clock)
    with session_scope() as session:
        rows = session.exec(
            select(Host.username)
            .join(Booking, col(Booking.host_id) == Host.id)
            .where(
                col(Booking.status).in_(HOLDING),
                Booking.start_at < start + timedelta(minutes=30),
                Booking.end_at > start,
            )
        ).all()
    return list(rows)


def test_the_server_answers_with_the_members_it_booked(server: dict) -> None:
    r = httpx.post(
        f'{server["base"]}/api/v1/public/teams/crew/panel/bookings',
        json={
            'start': at(MONDAY, '16:00').isoformat(),
            'name': 'Grace',
            'email': 'grace@example.com',
            'timezone': 'Europe/London',
        },
    )
    assert r.status_code == 201 and r.json()['hosts'] == ['ada', 'bob', 'cyd']
