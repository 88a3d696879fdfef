"""Booking options through the JSON API: seats left in the slots, several durations, requests the host confirms
or declines, and the invitee's language kept with the booking."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from app.db import session_scope
from app.models import Booking
from tests.factories import at, next_monday

MONDAY = next_monday()
LONDON = ZoneInfo('Europe/London')
DAY = {'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'Europe/London'}


def body(clock: str = '10:00', n: int = 1, **changes: object) -> dict:
    return {
        'start': at(MONDAY, clock).isoformat(),
        'name': f'Guest {n}',
        'email': f'guest{n}@example.com',
        'timezone': 'Europe/London',
        **changes,
    }


def make(client, ada: dict, **fields: object) -> dict:  # type: ignore[no-untyped-def]
    created = client.post('/event-types', headers=ada['auth'], json={'title': 'Options', **fields})
    assert created.status_code == 201, created.text
    return created.json()


def test_seated_slots_carry_the_seats_left_and_plain_ones_do_not(client, ada: dict) -> None:  # type: ignore[no-untyped-def]
    make(client, ada, slug='class', duration_minutes=60, seats=2)
    first = client.get('/public/ada/class/slots', params=DAY).json()['slots'][0]
    assert first['seats_left'] == 2
    assert client.post('/public/ada/class/bookings', json=body('09:00', 1)).status_code == 201
    assert client.get('/public/ada/class/slots', params=DAY).json()['slots'][0]['seats_left'] == 1
    assert client.post('/public/ada/class/bookings', json=body('09:00', 2)).status_code == 201
    full = client.post('/public/ada/class/bookings', json=body('09:00', 3))
    assert full.status_code == 409 and 'seats' in full.json()['detail']
    never = client.post('/public/ada/class/bookings', json=body('09:30', 4))  # not on the grid: no seat talk
    assert never.status_code == 409 and 'seats' not in never.json()['detail']
    assert 'seats_left' not in client.get('/public/ada/call/slots', params=DAY).json()['slots'][0]
    offered = client.get('/public/ada/event-types').json()
    assert {e['slug']: e['seats'] for e in offered}['class'] == 2


def test_the_invitee_chooses_a_duration_and_a_wrong_one_is_a_clear_400(client, ada: dict) -> None:  # type: ignore[no-untyped-def]
    make(client, ada, slug='chat', duration_minutes=30, duration_options=[60])
    hour = client.get('/public/ada/chat/slots', params={**DAY, 'duration': 60}).json()['slots']
    half = client.get('/public/ada/chat/slots', params=DAY).json()['slots']
    assert hour[-1]['start'] == at(MONDAY, '16:00').astimezone(LONDON).isoformat()  # an hour must end by 17:00
    assert half[-1]['start'] == at(MONDAY, '16:30').astimezone(LONDON).isoformat()
    wrong = client.get('/public/ada/chat/slots', params={**DAY, 'duration': 45})
    assert wrong.status_code == 400 and '30, 60' in wrong.json()['detail']
    made = client.post('/public/ada/chat/bookings', json=body('10:00', duration_minutes=60))
    assert made.status_code == 201
    assert made.json()['end'].startswith(f'{MONDAY.isoformat()}T11:00')


def test_a_request_is_pending_until_the_host_confirms_or_declines(client, ada: dict) -> None:  # type: ignore[no-untyped-def]
    make(client, ada, slug='review', requires_confirmation=True)
    asked = client.post('/public/ada/review/bookings', json=body('10:00', 1))
    assert asked.status_code == 201 and asked.json()['status'] == 'pending'
    uid = asked.json()['uid']
    pending = client.get('/bookings', headers=ada['auth'], params={'status': 'pending'}).json()
    assert [b['uid'] for b in pending] == [uid]
    confirmed = client.post(f'/bookings/{uid}/confirm', headers=ada['auth'], json={})
    assert confirmed.status_code == 200 and confirmed.json()['status'] == 'confirmed'
    other = client.post('/public/ada/review/bookings', json=body('11:00', 2)).json()['uid']
    declined = client.post(f'/bookings/{other}/decline', headers=ada['auth'], json={'reason': 'Away that day'})
    assert declined.status_code == 200 and declined.json()['status'] == 'declined'
    assert declined.json()['cancel_reason'] == 'Away that day'
    assert client.post(f'/bookings/{other}/confirm', headers=ada['auth'], json={}).status_code == 409
    cancelled_tab = client.get('/bookings', headers=ada['auth'], params={'status': 'cancelled'}).json()
    assert [b['uid'] for b in cancelled_tab] == [other]


def test_the_invitees_language_is_kept_from_the_body_or_the_browser(client, ada: dict) -> None:  # type: ignore[no-untyped-def]
    chosen = client.post('/public/ada/call/bookings', json=body('10:00', 1, locale='pl'))
    browser = client.post(
        '/public/ada/call/bookings', json=body('11:00', 2), headers={'Accept-Language': 'de-DE,de;q=0.9'}
    )
    unknown = client.post('/public/ada/call/bookings', json=body('12:00', 3), headers={'Accept-Language': 'xx'})
    with session_scope() as session:
        kept = {b.uid: b.locale for b in session.exec(select(Booking))}
    assert kept[chosen.json()['uid']] == 'pl'
    assert kept[browser.json()['uid']] == 'de'
    assert kept[unknown.json()['uid']] == 'en'
