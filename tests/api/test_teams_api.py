"""Teams over the JSON API: teams, members and roles, team event types, and booking a team on its public links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.schemas import SlotsPublic
from app.db import session_scope
from services import hosts
from tests.factories import at, make_event_type, make_host, next_monday

MONDAY = next_monday()


@pytest.fixture
def crew(client: TestClient, ada: dict) -> dict:
    """Ada (admin) with members Bob and Cyd (all Europe/London, weekdays 09:00-17:00) in team 'support'."""
    with session_scope(write=True) as session:
        keys = {}
        for name in ('bob', 'cyd'):
            host = make_host(session, username=name)
            keys[name] = {'Authorization': f'Bearer {hosts.create_api_key(session=session, host_id=host.id)}'}
    auth = ada['auth']
    team = client.post('/teams', json={'slug': 'support', 'name': 'Support'}, headers=auth).json()
    for who in ('bob', 'cyd@example.com'):
        assert client.post(f'/teams/{team["id"]}/members', json={'username': who}, headers=auth).status_code == 201
    return {'team': team, 'ada': auth, **keys}


def event_type(client: TestClient, crew: dict, slug: str, assignment: str, members: list[str] | None = None) -> dict:
    body = {
        'slug': slug,
        'title': slug.title(),
        'duration_minutes': 30,
        'assignment': assignment,
        'max_days_ahead': 120,
    }
    if members is not None:
        body['members'] = members
    r = client.post(f'/teams/{crew["team"]["id"]}/event-types', json=body, headers=crew['ada'])
    assert r.status_code == 201, r.text
    return r.json()


def book(client: TestClient, slug: str, clock: str, n: int = 0, team: str = 'support') -> dict:
    r = client.post(
        f'/public/teams/{team}/{slug}/bookings',
        json={
            'start': at(MONDAY, clock).isoformat(),
            'name': f'Guest {n}',
            'email': f'guest{n}@example.com',
            'timezone': 'Europe/London',
        },
    )
    return {**r.json(), 'code': r.status_code}


def starts(client: TestClient, path: str) -> list[str]:
    r = client.get(path, params={'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'Europe/London'})
    assert r.status_code == 200, r.text
    SlotsPublic.model_validate(r.json())  # the answer has the host slots' documented shape
    return [s['start'][11:16] for s in r.json()['slots']]


def test_a_team_is_created_with_its_creator_as_admin_and_members_are_invited(client: TestClient, crew: dict) -> None:
    team = client.get(f'/teams/{crew["team"]["id"]}', headers=crew['bob']).json()
    assert team['slug'] == 'support'
    assert [(m['username'], m['role']) for m in team['members']] == [
        ('ada', 'admin'),
        ('bob', 'member'),
        ('cyd', 'member'),
    ]
    assert [t['slug'] for t in client.get('/teams', headers=crew['cyd']).json()] == ['support']


def test_only_admins_manage_a_team_and_outsiders_see_nothing(client: TestClient, crew: dict) -> None:
    team_id = crew['team']['id']
    assert client.patch(f'/teams/{team_id}', json={'name': 'Help'}, headers=crew['bob']).status_code == 409
    assert (
        client.post(
            f'/teams/{team_id}/event-types', json={'title': 'X', 'assignment': 'collective'}, headers=crew['bob']
        ).status_code
        == 409
    )
    with session_scope(write=True) as session:
        eve = make_host(session, username='eve')
        eve_auth = {'Authorization': f'Bearer {hosts.create_api_key(session=session, host_id=eve.id)}'}
    assert client.get(f'/teams/{team_id}', headers=eve_auth).status_code == 404
    assert client.get(f'/teams/{team_id}/event-types', headers=eve_auth).status_code == 404
    assert client.patch(f'/teams/{team_id}', json={'name': 'Help'}, headers=crew['ada']).json()['name'] == 'Help'


def test_members_can_leave_but_the_last_admin_cannot(client: TestClient, crew: dict) -> None:
    team_id = crew['team']['id']
    assert client.delete(f'/teams/{team_id}/members/ada', headers=crew['ada']).status_code == 409
    assert client.delete(f'/teams/{team_id}/members/cyd', headers=crew['bob']).status_code == 409
    assert client.delete(f'/teams/{team_id}/members/bob', headers=crew['bob']).status_code == 204
    assert client.get(f'/teams/{team_id}', headers=crew['bob']).status_code == 404
    assert client.post(f'/teams/{team_id}/members', json={'username': 'nobody'}, headers=crew['ada']).status_code == 404


def test_a_team_slug_is_unique(client: TestClient, crew: dict) -> None:
    r = client.post('/teams', json={'slug': 'support', 'name': 'Other'}, headers=crew['bob'])
    assert r.status_code == 409
    assert client.post('/teams', json={'slug': 'Not A Slug!', 'name': 'X'}, headers=crew['bob']).status_code == 400


def test_team_event_types_take_the_event_type_body_plus_assignment_and_members(client: TestClient, crew: dict) -> None:
    made = event_type(client, crew, 'intro', 'round_robin', ['ada', 'bob'])
    assert (made['slug'], made['assignment'], made['members']) == ('intro', 'round_robin', ['ada', 'bob'])
    path = f'/teams/{crew["team"]["id"]}/event-types/{made["id"]}'
    changed = client.patch(path, json={'assignment': 'collective', 'members': ['bob', 'cyd']}, headers=crew['ada'])
    assert (changed.json()['assignment'], changed.json()['members']) == ('collective', ['bob', 'cyd'])
    assert client.patch(path, json={'members': ['zed']}, headers=crew['ada']).status_code == 400
    every = event_type(client, crew, 'all', 'collective')
    assert every['members'] == ['ada', 'bob', 'cyd']
    # The owner's own event types and links are untouched: a personal 'intro' may exist beside the team's.
    assert client.post('/event-types', json={'slug': 'intro', 'title': 'Mine'}, headers=crew['ada']).status_code == 201
    assert [e['slug'] for e in client.get('/event-types', headers=crew['ada']).json()] == ['call', 'intro']
    assert [e['slug'] for e in client.get('/public/teams/support/event-types').json()] == ['intro', 'all']
    assert client.delete(path, headers=crew['ada']).status_code == 204
    assert client.get(path, headers=crew['ada']).status_code == 404


def test_round_robin_offers_a_time_while_any_member_is_free_and_books_one_member(
    client: TestClient, crew: dict
) -> None:
    event_type(client, crew, 'intro', 'round_robin', ['bob', 'cyd'])
    first, second = book(client, 'intro', '09:00', 1), book(client, 'intro', '09:00', 2)
    assert (first['code'], second['code']) == (201, 201), (first, second)
    assert sorted(first['hosts'] + second['hosts']) == ['bob', 'cyd']
    assert '09:00' not in starts(client, '/public/teams/support/intro/slots')
    assert book(client, 'intro', '09:00', 3)['code'] == 409
    # Each member's own page no longer offers the time either.
    with session_scope(write=True) as session:
        make_event_type(session, hosts.get_host_by_username(session=session, username='bob'), slug='call')
    assert '09:00' not in starts(client, '/public/bob/call/slots')


def test_collective_offers_only_common_free_times_and_blocks_every_member(client: TestClient, crew: dict) -> None:
    with session_scope(write=True) as session:
        bob = hosts.get_host_by_username(session=session, username='bob')
        make_event_type(session, bob, slug='call')
    personal = client.post(
        '/public/bob/call/bookings',
        json={
            'start': at(MONDAY, '10:00').isoformat(),
            'name': 'Solo',
            'email': 'solo@example.com',
            'timezone': 'Europe/London',
        },
    )
    assert personal.status_code == 201
    event_type(client, crew, 'panel', 'collective')
    offered = starts(client, '/public/teams/support/panel/slots')
    assert '10:00' not in offered and '09:30' in offered and '10:30' in offered
    assert book(client, 'panel', '10:00')['code'] == 409
    made = book(client, 'panel', '11:00', 1)
    assert made['code'] == 201 and made['hosts'] == ['ada', 'bob', 'cyd']
    assert '11:00' not in starts(client, '/public/ada/call/slots')
    assert '11:00' not in starts(client, '/public/bob/call/slots')
    # The booking is listed once, on its organiser's list; the other members hold the time without a listing.
    ada_list = client.get('/bookings', headers=crew['ada']).json()
    assert [b['uid'] for b in ada_list] == [made['uid']]
    assert [b['invitee']['name'] for b in client.get('/bookings', headers=crew['bob']).json()] == ['Solo']


def test_cancelling_a_collective_booking_frees_every_member(client: TestClient, crew: dict) -> None:
    event_type(client, crew, 'panel', 'collective')
    made = book(client, 'panel', '11:00', 1)
    token = made['manage_url'].split('token=')[1]
    assert client.post(f'/public/bookings/{made["uid"]}/cancel', json={'token': token}).status_code == 200
    assert '11:00' in starts(client, '/public/teams/support/panel/slots')
    assert '11:00' in starts(client, '/public/ada/call/slots')


def test_rescheduling_a_collective_booking_moves_every_members_hold(client: TestClient, crew: dict) -> None:
    event_type(client, crew, 'panel', 'collective')
    made = book(client, 'panel', '11:00', 1)
    token = made['manage_url'].split('token=')[1]
    moved = client.post(
        f'/public/bookings/{made["uid"]}/reschedule', json={'token': token, 'start': at(MONDAY, '14:00').isoformat()}
    )
    assert moved.status_code == 200, moved.text
    offered = starts(client, '/public/teams/support/panel/slots')
    assert '11:00' in offered and '14:00' not in offered


def test_public_team_links_that_do_not_exist_are_404(client: TestClient, crew: dict) -> None:
    params = {'start': MONDAY.isoformat(), 'end': (MONDAY + timedelta(days=1)).isoformat(), 'timezone': 'UTC'}
    assert client.get('/public/teams/nobody/event-types').status_code == 404
    assert client.get('/public/teams/support/nothing/slots', params=params).status_code == 404
    assert book(client, 'nothing', '09:00')['code'] == 404


def test_a_member_picks_which_of_their_schedules_a_team_event_type_uses(client: TestClient, crew: dict) -> None:
    made = event_type(client, crew, 'intro', 'round_robin', ['bob'])
    early = client.post(
        '/schedules',
        headers=crew['bob'],
        json={
            'name': 'Early',
            'timezone': 'Europe/London',
            'weekly': {'monday': [{'start': '07:00', 'end': '08:00'}]},
            'overrides': [],
        },
    ).json()
    path = f'/teams/{crew["team"]["id"]}/event-types/{made["id"]}/my-schedule'
    assert client.put(path, json={'schedule_id': early['id']}, headers=crew['bob']).status_code == 204
    assert starts(client, '/public/teams/support/intro/slots') == ['07:00', '07:30']
    assert client.put(path, json={'schedule_id': early['id']}, headers=crew['cyd']).status_code == 404
    assert client.put(path, json={'schedule_id': None}, headers=crew['bob']).status_code == 204
    assert starts(client, '/public/teams/support/intro/slots')[0] == '09:00'


def test_team_event_types_take_one_invitee_per_time(client: TestClient, crew: dict) -> None:
    r = client.post(
        f'/teams/{crew["team"]["id"]}/event-types',
        headers=crew['ada'],
        json={'title': 'Class', 'assignment': 'round_robin', 'seats': 5},
    )
    assert r.status_code == 400 and 'one invitee per time' in r.json()['detail']
