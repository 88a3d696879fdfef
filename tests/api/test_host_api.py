"""Host endpoints: API keys, schedules, event types and bookings, and nobody reaching another host's data."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from app.db import session_scope
from services import hosts
from tests.factories import at, make_host, next_monday

MONDAY = next_monday()


def test_host_endpoints_need_a_valid_api_key(client: TestClient, ada: dict) -> None:
    assert client.get('/me').status_code == 401
    assert client.get('/me', headers={'Authorization': 'Bearer cm_wrong'}).status_code == 401
    me = client.get('/me', headers=ada['auth'])
    assert me.status_code == 200 and me.json()['username'] == 'ada' and me.json()['timezone'] == 'Europe/London'


def test_schedules_can_be_created_replaced_and_deleted(client: TestClient, ada: dict) -> None:
    [default] = client.get('/schedules', headers=ada['auth']).json()
    assert default['is_default'] and default['weekly']['monday'] == [{'start': '09:00', 'end': '17:00'}]
    body = {
        'name': 'Late',
        'timezone': 'Asia/Kolkata',
        'weekly': {'friday': [{'start': '20:00', 'end': '24:00'}]},
        'overrides': [{'date': '2026-12-25', 'intervals': []}],
    }
    created = client.post('/schedules', headers=ada['auth'], json=body)
    assert created.status_code == 201 and created.json()['overrides'] == body['overrides']
    sid = created.json()['id']
    body['weekly'] = {'saturday': [{'start': '10:00', 'end': '12:00'}]}
    replaced = client.put(f'/schedules/{sid}', headers=ada['auth'], json=body)
    assert replaced.json()['weekly'] == body['weekly']
    assert client.delete(f'/schedules/{sid}', headers=ada['auth']).status_code == 204
    assert client.get(f'/schedules/{sid}', headers=ada['auth']).status_code == 404
    assert client.delete(f'/schedules/{default["id"]}', headers=ada['auth']).status_code == 409


def test_invalid_schedules_are_refused_with_reasons(client: TestClient, ada: dict) -> None:
    overlapping = {
        'timezone': 'UTC',
        'weekly': {'monday': [{'start': '09:00', 'end': '12:00'}, {'start': '11:00', 'end': '13:00'}]},
    }
    r = client.post('/schedules', headers=ada['auth'], json=overlapping)
    assert r.status_code == 422 and 'overlaps' in r.json()['detail']
    r = client.post('/schedules', headers=ada['auth'], json={'timezone': 'Moon/Base', 'weekly': {}})
    assert r.status_code == 400 and 'Unknown time zone' in r.json()['detail']


def test_event_types_round_trip_every_contract_field(client: TestClient, ada: dict) -> None:
    body = {
        'slug': 'deep-dive',
        'title': 'Deep dive',
        'description': '<b>bring notes</b>',
        'confirmation_message': 'See you *soon*',
        'duration_minutes': 90,
        'slot_interval_minutes': 30,
        'buffer_before_minutes': 10,
        'buffer_after_minutes': 15,
        'min_notice_minutes': 120,
        'max_days_ahead': 30,
        'daily_limit': 2,
        'weekly_limit': 5,
        'monthly_limit': 12,
        'seats': 4,
        'requires_confirmation': True,
        'duration_options': [60, 90, 120],
        'location': {'kind': 'in_person', 'value': '1 Main St'},
        'schedule_id': None,
        'active': True,
        'hidden': False,
        'color': '#0f766e',
        'questions': [
            {'id': 'topic', 'label': 'Topic', 'kind': 'single_choice', 'required': True, 'options': ['A', 'B']}
        ],
    }
    created = client.post('/event-types', headers=ada['auth'], json=body)
    assert created.status_code == 201
    assert {k: v for k, v in created.json().items() if k != 'id'} == body
    eid = created.json()['id']
    patched = client.patch(f'/event-types/{eid}', headers=ada['auth'], json={'active': False, 'title': 'Dive'})
    assert patched.json()['active'] is False and patched.json()['title'] == 'Dive'
    assert patched.json()['slug'] == 'deep-dive'
    assert client.get(f'/event-types/{eid}', headers=ada['auth']).json()['title'] == 'Dive'
    assert client.delete(f'/event-types/{eid}', headers=ada['auth']).status_code == 204
    assert client.get(f'/event-types/{eid}', headers=ada['auth']).status_code == 404


def test_event_type_mistakes_are_refused(client: TestClient, ada: dict) -> None:
    assert client.post('/event-types', headers=ada['auth'], json={'title': 'Call', 'slug': 'call'}).status_code == 409
    bad = client.post('/event-types', headers=ada['auth'], json={'title': 'x', 'slug': 'Not A Slug'})
    assert bad.status_code == 400 and 'Slug' in bad.json()['detail']
    notice = client.post(
        '/event-types', headers=ada['auth'], json={'title': 'x', 'min_notice_minutes': 4000, 'max_days_ahead': 1}
    )
    assert notice.status_code == 422 and 'Minimum notice' in notice.json()['detail']  # the editor's sentence
    patch = client.patch(f'/event-types/{ada["call"].id}', headers=ada['auth'], json={'duration_minutes': -5})
    assert patch.status_code == 422 and 'duration_minutes' in patch.json()['detail']


def test_bookings_are_listed_by_status_and_the_host_can_cancel(client: TestClient, ada: dict) -> None:
    body = {
        'start': at(MONDAY, '10:00').isoformat(),
        'name': 'Grace',
        'email': 'grace@example.com',
        'timezone': 'UTC',
        'notes': 'hello',
        'answers': {'topic': 'COBOL'},
    }
    uid = client.post('/public/ada/call/bookings', json=body).json()['uid']
    [upcoming] = client.get('/bookings', headers=ada['auth'], params={'status': 'upcoming'}).json()
    assert upcoming['uid'] == uid and upcoming['invitee']['email'] == 'grace@example.com'
    assert upcoming['answers'] == {'topic': 'COBOL'} and upcoming['notes'] == 'hello'
    assert client.get('/bookings', headers=ada['auth'], params={'status': 'past'}).json() == []
    cancelled = client.post(f'/bookings/{uid}/cancel', headers=ada['auth'], json={'reason': 'Conflict'})
    assert cancelled.json()['status'] == 'cancelled' and cancelled.json()['cancel_reason'] == 'Conflict'
    assert [b['uid'] for b in client.get('/bookings', headers=ada['auth'], params={'status': 'cancelled'}).json()] == [
        uid
    ]
    assert client.get('/bookings', headers=ada['auth'], params={'status': 'odd'}).status_code == 422


def test_another_host_gets_404_for_every_object_of_ada_and_changes_nothing(client: TestClient, ada: dict) -> None:
    with session_scope(write=True) as session:
        bob = make_host(session, username='bob')
        bob_auth = {'Authorization': f'Bearer {hosts.create_api_key(session=session, host_id=bob.id)}'}
    uid = client.post(
        '/public/ada/call/bookings',
        json={
            'start': at(MONDAY, '10:00').isoformat(),
            'name': 'Grace',
            'email': 'grace@example.com',
            'timezone': 'UTC',
        },
    ).json()['uid']
    [schedule] = client.get('/schedules', headers=ada['auth']).json()
    eid = ada['call'].id
    attempts = [
        client.get(f'/schedules/{schedule["id"]}', headers=bob_auth),
        client.put(f'/schedules/{schedule["id"]}', headers=bob_auth, json={'timezone': 'UTC', 'is_default': True}),
        client.delete(f'/schedules/{schedule["id"]}', headers=bob_auth),
        client.get(f'/event-types/{eid}', headers=bob_auth),
        client.patch(f'/event-types/{eid}', headers=bob_auth, json={'title': 'Bob was here'}),
        client.delete(f'/event-types/{eid}', headers=bob_auth),
        client.get(f'/bookings/{uid}', headers=bob_auth),
        client.post(f'/bookings/{uid}/cancel', headers=bob_auth, json={'reason': 'mine'}),
        client.post(f'/bookings/{uid}/propose', headers=bob_auth, json={'start': at(MONDAY, '11:00').isoformat()}),
        client.post('/event-types', headers=bob_auth, json={'title': 'x', 'schedule_id': schedule['id']}),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert client.get(f'/event-types/{eid}', headers=ada['auth']).json()['title'] == '30 minute call'
    assert client.get(f'/bookings/{uid}', headers=ada['auth']).json()['status'] == 'confirmed'
    assert client.get(f'/bookings/{uid}', headers=ada['auth']).json()['proposal'] is None
    assert client.get('/bookings', headers=bob_auth).json() == []


def test_the_host_can_set_a_profile_and_the_origins_allowed_to_embed_their_pages(client: TestClient, ada: dict) -> None:
    r = client.patch(
        '/me',
        headers=ada['auth'],
        json={'intro': 'Hello', 'embed_origins': ['https://www.example.com/', 'https://blog.example.com:8443']},
    )
    assert r.status_code == 200
    assert r.json()['embed_origins'] == ['https://blog.example.com:8443', 'https://www.example.com']
    assert client.get('/me', headers=ada['auth']).json()['intro'] == 'Hello'
    for bad in (['javascript:alert(1)'], ['https://x.example.com/path'], 'https://x.example.com', ["'self' *"]):
        refused = client.patch('/me', headers=ada['auth'], json={'embed_origins': bad})
        assert refused.status_code == 400, bad
    assert client.patch('/me', headers=ada['auth'], json={'email': 'x@example.com'}).status_code == 400


def test_a_brand_colour_must_be_a_hex_colour(client: TestClient, ada: dict) -> None:
    assert client.patch('/me', headers=ada['auth'], json={'brand_color': '#FFAA00'}).json()['brand_color'] == '#ffaa00'
    for bad in ('orange', '#ffaa0', 'url(javascript:x)'):
        assert client.patch('/me', headers=ada['auth'], json={'brand_color': bad}).status_code == 400


def test_a_host_sees_each_bookings_e_mails_and_their_delivery_status(client: TestClient, ada: dict) -> None:
    start = at(next_monday(), '10:00')
    made = client.post(
        '/public/ada/call/bookings',
        json={'start': start.isoformat(), 'name': 'Grace', 'email': 'grace@example.com', 'timezone': 'UTC'},
    )
    uid = made.json()['uid']
    messages = client.get(f'/bookings/{uid}', headers=ada['auth']).json()['messages']
    assert [(m['kind'], m['status']) for m in messages] == [
        ('confirmation', 'pending'),
        ('host_booking', 'pending'),
        ('reminder', 'pending'),
        ('reminder', 'pending'),
    ]
    client.post(f'/bookings/{uid}/cancel', headers=ada['auth'], json={'reason': 'Clash'})
    after = client.get(f'/bookings/{uid}', headers=ada['auth']).json()['messages']
    assert {m['kind']: m['status'] for m in after if m['kind'] != 'reminder'} == {
        'confirmation': 'pending',
        'host_booking': 'pending',
        'cancellation': 'pending',
        'host_cancellation': 'pending',
    }
    assert [m['status'] for m in after if m['kind'] == 'reminder'] == ['cancelled', 'cancelled']


def test_a_host_can_word_and_switch_off_each_e_mail_and_set_reminder_offsets(client: TestClient, ada: dict) -> None:
    settings = client.get('/me/notifications', headers=ada['auth']).json()
    assert settings['reminder_offsets_minutes'] == [1440, 60]
    assert settings['kinds']['confirmation']['enabled'] is True
    assert '{attendee_name}' in settings['variables']
    changed = client.patch(
        '/me/notifications',
        headers=ada['auth'],
        json={
            'kinds': {
                'reminder': {'subject': 'Soon: {event_name}', 'message': 'Bring notes'},
                'host_booking': {'enabled': False},
            },
            'reminder_offsets_minutes': [30, 2880],
        },
    )
    assert changed.status_code == 200
    body = changed.json()
    assert body['reminder_offsets_minutes'] == [2880, 30]
    assert body['kinds']['reminder']['subject'] == 'Soon: {event_name}'
    assert body['kinds']['host_booking']['enabled'] is False
    assert body['kinds']['reminder']['enabled'] is True  # untouched fields keep their values
    for bad, reason in (
        ({'kinds': {'nope': {}}}, "Unknown e-mail kind 'nope'"),
        ({'kinds': {'reminder': {'subject': 'Hi\r\nBcc: all@example.com'}}}, 'single line'),
        ({'reminder_offsets_minutes': [0]}, 'between 5 minutes and 30 days'),
    ):
        refused = client.patch('/me/notifications', headers=ada['auth'], json=bad)
        assert refused.status_code == 400 and reason in refused.json()['detail']
    assert client.get('/me/notifications', headers=ada['auth']).json() == body  # nothing half-applied
    assert client.get('/me/notifications').status_code == 401


def test_a_host_proposes_a_new_time_and_the_invitee_accepts_it_through_the_public_api(
    client: TestClient, ada: dict
) -> None:
    made = client.post(
        '/public/ada/call/bookings',
        json={
            'start': at(MONDAY, '10:00').isoformat(),
            'name': 'Grace',
            'email': 'grace@example.com',
            'timezone': 'America/New_York',
        },
    ).json()
    token = made['manage_url'].split('token=')[1]
    refused = client.post(
        f'/bookings/{made["uid"]}/propose', headers=ada['auth'], json={'start': at(MONDAY, '03:00').isoformat()}
    )
    assert refused.status_code == 409 and 'not free' in refused.json()['detail']
    proposed = client.post(
        f'/bookings/{made["uid"]}/propose',
        headers=ada['auth'],
        json={'start': at(MONDAY, '15:00').isoformat(), 'message': 'Clash, sorry'},
    )
    assert proposed.status_code == 200
    assert proposed.json()['proposal']['start'] == at(MONDAY, '15:00').isoformat()
    assert client.post(f'/public/bookings/{made["uid"]}/proposal/accept', json={'token': 'wrong'}).status_code == 404
    accepted = client.post(f'/public/bookings/{made["uid"]}/proposal/accept', json={'token': token})
    assert accepted.status_code == 200 and accepted.json()['proposal'] is None
    assert accepted.json()['start'] == at(MONDAY, '15:00').astimezone(ZoneInfo('America/New_York')).isoformat()
    again = client.post(f'/public/bookings/{made["uid"]}/proposal/decline', json={'token': token})
    assert again.status_code == 409 and 'no open proposal' in again.json()['detail']
