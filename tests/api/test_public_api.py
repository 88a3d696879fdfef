"""The public JSON API as an invitee's browser or script uses it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.factories import at, next_monday

MONDAY = next_monday()
SLOTS = '/public/ada/call/slots'
BOOK = '/public/ada/call/bookings'


def booking_body(clock: str = '10:00', **changes: object) -> dict:
    return {
        'start': at(MONDAY, clock).isoformat(),
        'name': 'Grace Hopper',
        'email': 'grace@example.com',
        'timezone': 'America/New_York',
        'notes': '',
        'answers': {},
        **changes,
    }


def test_slots_are_listed_for_the_invitees_local_dates_in_their_zone(client: TestClient, ada: dict) -> None:
    r = client.get(
        SLOTS, params={'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'America/New_York'}
    )
    assert r.status_code == 200
    body = r.json()
    assert body['timezone'] == 'America/New_York'
    starts = [s['start'] for s in body['slots']]
    # London 09:00 is 04:00 in New York; the New York day ends at 05:00 London time on Tuesday, before any hours.
    assert starts[0] == at(MONDAY, '09:00').astimezone(_ny()).isoformat()
    assert starts[0].endswith('-05:00') or starts[0].endswith('-04:00')
    assert len(starts) == 16
    assert body['slots'][0]['end'] == at(MONDAY, '09:30').astimezone(_ny()).isoformat()


def test_a_week_of_slots_skips_the_weekend(client: TestClient, ada: dict) -> None:
    r = client.get(
        SLOTS,
        params={
            'start': MONDAY.isoformat(),
            'end': (MONDAY + timedelta(days=6)).isoformat(),
            'timezone': 'Europe/London',
        },
    )
    days = {s['start'][:10] for s in r.json()['slots']}
    assert len(days) == 5 and len(r.json()['slots']) == 80


def test_bad_slot_queries_are_a_400_naming_the_problem(client: TestClient, ada: dict) -> None:
    day = MONDAY.isoformat()
    cases = [
        ({'start': day, 'end': day, 'timezone': 'Mars/Olympus'}, 'Unknown time zone'),
        ({'start': '2026-13-01', 'end': day, 'timezone': 'UTC'}, 'start must be a date'),
        ({'start': day, 'end': (MONDAY + timedelta(days=62)).isoformat(), 'timezone': 'UTC'}, 'at most 62 days'),
        ({'start': day, 'end': (MONDAY - timedelta(days=1)).isoformat(), 'timezone': 'UTC'}, 'on or after'),
    ]
    for params, message in cases:
        r = client.get(SLOTS, params=params)
        assert r.status_code == 400, params
        assert message in r.json()['detail']


def test_unknown_hosts_and_event_types_are_404(client: TestClient, ada: dict) -> None:
    params = {'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'UTC'}
    assert client.get('/public/nobody/call/slots', params=params).status_code == 404
    assert client.get('/public/ada/nothing/slots', params=params).status_code == 404
    assert client.get('/public/nobody/event-types').status_code == 404


def test_hidden_types_are_unlisted_but_bookable_and_inactive_types_are_neither(client: TestClient, ada: dict) -> None:
    for slug, changes in (('secret', {'hidden': True}), ('off', {'active': False})):
        r = client.post('/event-types', headers=ada['auth'], json={'title': slug, 'slug': slug, **changes})
        assert r.status_code == 201
    listed = [e['slug'] for e in client.get('/public/ada/event-types').json()]
    assert listed == ['call']
    assert client.post('/public/ada/secret/bookings', json=booking_body()).status_code == 201
    assert client.post('/public/ada/off/bookings', json=booking_body('11:00')).status_code == 404


def test_public_event_types_reveal_no_host_email_schedule_or_flags(client: TestClient, ada: dict) -> None:
    text = client.get('/public/ada/event-types').text
    for secret in ('ada@example.com', 'schedule_id', 'hidden', 'min_notice'):
        assert secret not in text


def test_booking_returns_201_with_a_manage_link_and_a_second_try_gets_a_friendly_409(
    client: TestClient, ada: dict
) -> None:
    r = client.post(BOOK, json=booking_body())
    assert r.status_code == 201
    body = r.json()
    assert body['status'] == 'confirmed' and body['start'] == at(MONDAY, '10:00').astimezone(_ny()).isoformat()
    assert body['manage_url'].startswith('http') and f'/booking/{body["uid"]}?token=' in body['manage_url']
    again = client.post(BOOK, json=booking_body(email='other@example.com'))
    assert again.status_code == 409
    assert again.json() == {'detail': 'That time is no longer available. Please pick another time.'}
    times = client.get(SLOTS, params={'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'UTC'})
    assert at(MONDAY, '10:00').isoformat() not in [s['start'] for s in times.json()['slots']]


def test_a_retried_request_with_the_same_idempotency_key_returns_the_same_booking(
    client: TestClient, ada: dict
) -> None:
    first = client.post(BOOK, json=booking_body(), headers={'Idempotency-Key': 'k-1'})
    second = client.post(BOOK, json=booking_body(), headers={'Idempotency-Key': 'k-1'})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers['Idempotent-Replayed'] == 'true'


def test_an_invalid_body_is_a_422_listing_every_bad_field(client: TestClient, ada: dict) -> None:
    r = client.post(
        BOOK,
        json={
            'start': '2026-12-07T10:00:00',
            'name': 'Eve\r\nBcc: x@example.com',
            'email': 'not-an-address',
            'timezone': 'UTC',
            'status': 'confirmed',
        },
    )
    assert r.status_code == 422
    fields = {e['field'] for e in r.json()['errors']}
    assert fields == {'start', 'name', 'email', 'status'}
    assert 'name' in r.json()['detail'] and 'email' in r.json()['detail']


def test_an_unknown_invitee_time_zone_is_a_400(client: TestClient, ada: dict) -> None:
    r = client.post(BOOK, json=booking_body(timezone='Atlantis/Capital'))
    assert r.status_code == 400 and 'Unknown time zone' in r.json()['detail']


def test_times_the_rules_do_not_offer_are_409_never_500(client: TestClient, ada: dict) -> None:
    for start in (
        at(MONDAY, '10:10'),
        at(MONDAY, '20:00'),
        at(MONDAY - timedelta(days=2), '10:00'),
        at(MONDAY, '10:00') - timedelta(days=30),
    ):
        r = client.post(BOOK, json=booking_body(start=start.isoformat()))
        assert r.status_code == 409, start


def test_the_invitee_can_reschedule_and_cancel_with_the_token(client: TestClient, ada: dict) -> None:
    booked = client.post(BOOK, json=booking_body()).json()
    token = booked['manage_url'].split('token=')[1]
    moved = client.post(
        f'/public/bookings/{booked["uid"]}/reschedule', json={'token': token, 'start': at(MONDAY, '15:00').isoformat()}
    )
    assert moved.status_code == 200 and moved.json()['start'] == at(MONDAY, '15:00').astimezone(_ny()).isoformat()
    cancelled = client.post(f'/public/bookings/{booked["uid"]}/cancel', json={'token': token, 'reason': 'Ill'})
    assert cancelled.status_code == 200 and cancelled.json()['status'] == 'cancelled'
    stale = client.post(
        f'/public/bookings/{booked["uid"]}/reschedule', json={'token': token, 'start': at(MONDAY, '16:00').isoformat()}
    )
    assert stale.status_code == 409 and 'cancelled' in stale.json()['detail']


def test_a_refused_reschedule_is_409_and_keeps_the_old_time(client: TestClient, ada: dict) -> None:
    mine = client.post(BOOK, json=booking_body('10:00')).json()
    client.post(BOOK, json=booking_body('11:00', email='ada2@example.com'))
    token = mine['manage_url'].split('token=')[1]
    r = client.post(
        f'/public/bookings/{mine["uid"]}/reschedule', json={'token': token, 'start': at(MONDAY, '11:00').isoformat()}
    )
    assert r.status_code == 409
    listed = client.get(f'/bookings/{mine["uid"]}', headers=ada['auth']).json()
    assert listed['start'] == at(MONDAY, '10:00').isoformat()


def test_wrong_tokens_are_404_change_nothing_and_guessing_is_rate_limited(client: TestClient, ada: dict) -> None:
    booked = client.post(BOOK, json=booking_body()).json()
    for _ in range(20):
        r = client.post(f'/public/bookings/{booked["uid"]}/cancel', json={'token': 'guess', 'reason': ''})
        assert r.status_code == 404 and r.json() == {'detail': 'This link is not valid'}
    blocked = client.post(f'/public/bookings/{booked["uid"]}/cancel', json={'token': 'guess'})
    assert blocked.status_code == 429 and int(blocked.headers['Retry-After']) > 0
    assert client.get(f'/bookings/{booked["uid"]}', headers=ada['auth']).json()['status'] == 'confirmed'


def test_a_guesser_cannot_lock_the_invitee_out_the_right_token_always_works(client: TestClient, ada: dict) -> None:
    booked = client.post(BOOK, json=booking_body()).json()
    other = client.post(BOOK, json=booking_body('11:00', email='alan@example.com')).json()
    for _ in range(25):  # from the invitee's own address (a shared office or mobile network)
        client.post(f'/public/bookings/{booked["uid"]}/cancel', json={'token': 'guess'})
    token = booked['manage_url'].split('token=')[1]
    moved = client.post(
        f'/public/bookings/{booked["uid"]}/reschedule', json={'token': token, 'start': at(MONDAY, '12:00').isoformat()}
    )
    assert moved.status_code == 200
    # another booking's guesses from the same address are counted on their own
    assert client.post(f'/public/bookings/{other["uid"]}/cancel', json={'token': 'guess'}).status_code == 404


def test_the_openapi_document_describes_the_contract(client: TestClient) -> None:
    paths = client.get('/openapi.json').json()['paths']
    for path in (
        '/me',
        '/schedules',
        '/schedules/{schedule_id}',
        '/event-types',
        '/event-types/{event_type_id}',
        '/bookings',
        '/bookings/{uid}',
        '/bookings/{uid}/cancel',
        '/public/{username}/event-types',
        '/public/{username}/{slug}/slots',
        '/public/{username}/{slug}/bookings',
        '/public/bookings/{uid}/cancel',
        '/public/bookings/{uid}/reschedule',
    ):
        assert path in paths


def _ny():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo('America/New_York')


def test_an_idempotency_key_replayed_with_other_invitee_details_reveals_nothing(client: TestClient, ada: dict) -> None:
    first = client.post(BOOK, json=booking_body(), headers={'Idempotency-Key': 'shared'})
    other = client.post(
        BOOK, json=booking_body(name='Mallory', email='mallory@example.com'), headers={'Idempotency-Key': 'shared'}
    )
    assert first.status_code == 201 and other.status_code == 409
    assert first.json()['manage_url'] not in other.text


def test_dates_far_outside_the_calendar_are_refused_not_crashed(client: TestClient, ada: dict) -> None:
    for start, end in (('9999-12-30', '9999-12-31'), ('0001-01-01', '0001-01-02')):
        r = client.get(SLOTS, params={'start': start, 'end': end, 'timezone': 'UTC'})
        assert r.status_code == 400 and 'between the years' in r.json()['detail']
    for start in ('9999-12-31T10:00:00+00:00', '0001-01-01T10:00:00+00:00'):
        assert client.post(BOOK, json=booking_body(start=start)).status_code == 409


def test_the_location_address_or_link_is_shown_only_after_booking(client: TestClient, ada: dict) -> None:
    client.post(
        '/event-types',
        headers=ada['auth'],
        json={'title': 'Visit', 'slug': 'visit', 'location': {'kind': 'in_person', 'value': '221B Baker Street'}},
    )
    listed = client.get('/public/ada/event-types').json()
    assert {'kind': 'in_person'} in [e['location'] for e in listed]
    assert '221B' not in client.get('/public/ada/event-types').text


def test_the_api_docs_page_loads_nothing_from_outside_and_links_the_openapi_document(client: TestClient) -> None:
    page = client.get('/docs')
    assert page.status_code == 200
    assert '<script' not in page.text and 'cdn' not in page.text.lower()
    assert 'href="/api/v1/openapi.json"' in page.text


def _starts(client: TestClient) -> list[str]:
    day = MONDAY.isoformat()
    return [s['start'] for s in client.get(SLOTS, params={'start': day, 'end': day, 'timezone': 'UTC'}).json()['slots']]


def test_the_free_times_follow_every_change_at_once_although_they_are_cached(client: TestClient, ada: dict) -> None:
    from app.db import session_scope
    from services import event_types, schedules
    from services.schedules import ScheduleInput

    before = _starts(client)
    assert _starts(client) == before  # served from the cache the second time
    assert client.post(BOOK, json=booking_body('10:00')).status_code == 201
    assert at(MONDAY, '10:00').isoformat().replace('+00:00', '+00:00') not in _starts(client)
    with session_scope(write=True) as session:  # the host makes meetings an hour long
        event_types.update_event_type(
            session=session, host_id=ada['host'].id, event_type_id=ada['call'].id, changes={'duration_minutes': 60}
        )
    assert len(_starts(client)) < len(before) - 1
    with session_scope(write=True) as session:  # and stops working at noon
        schedule = schedules.default_schedule(session=session, host_id=ada['host'].id)
        weekly = {day: [{'start': '09:00', 'end': '12:00'}] for day in ('monday', 'tuesday')}
        schedules.update_schedule(
            session=session,
            host_id=ada['host'].id,
            schedule_id=schedule.id,
            data=ScheduleInput(timezone=schedule.timezone, is_default=True, weekly=weekly),
        )
    assert max(_starts(client)) < at(MONDAY, '12:00').isoformat()


def test_the_slots_answer_has_exactly_the_documented_shape(client: TestClient, ada: dict) -> None:
    from api.schemas import SlotsPublic

    day = MONDAY.isoformat()
    r = client.get(SLOTS, params={'start': day, 'end': day, 'timezone': 'Asia/Tokyo'})
    assert r.headers['content-type'] == 'application/json'
    SlotsPublic.model_validate(r.json())  # its models forbid keys they do not document


def test_a_new_question_after_a_booking_never_offers_the_booked_time(client: TestClient, ada: dict) -> None:
    """New questions (another zone, another range) are sliced from the link's kept offer: a booking drops it."""
    day = {'start': MONDAY.isoformat(), 'end': (MONDAY + timedelta(days=13)).isoformat()}
    before = client.get(SLOTS, params={**day, 'timezone': 'Asia/Tokyo'}).json()['slots']
    assert client.get(SLOTS, params={**day, 'timezone': 'Europe/Lisbon'}).json()['slots']  # kept for slicing
    taken = at(MONDAY, '10:00')
    assert taken.astimezone(ZoneInfo('Asia/Tokyo')).isoformat() in [s['start'] for s in before]
    assert client.post(BOOK, json=booking_body('10:00')).status_code == 201
    for zone in ('Europe/Paris', 'America/Chicago', 'Asia/Tokyo'):
        after = client.get(SLOTS, params={**day, 'timezone': zone}).json()['slots']
        assert taken.astimezone(ZoneInfo(zone)).isoformat() not in [s['start'] for s in after]
        assert len(after) == len(before) - 1


def test_a_booking_keeps_the_links_plan_and_a_settings_change_drops_it(client: TestClient, ada: dict) -> None:
    """Bookings change no plan (event type, schedule, rules), so booking after booking reads none anew; a host's
    change of settings drops it at once, and the write re-reads the event type under its lock anyway."""
    from app.db import session_scope
    from services import event_types, offer_cache

    assert client.post(BOOK, json=booking_body('10:00')).status_code == 201
    assert offer_cache.get().peek_plan('ada', 'call') is not None
    assert client.post(BOOK, json=booking_body('11:00')).status_code == 201
    assert offer_cache.get().peek_plan('ada', 'call') is not None  # kept across the booking
    with session_scope(write=True) as session:  # the host switches the link off
        event_types.update_event_type(
            session=session, host_id=ada['host'].id, event_type_id=ada['call'].id, changes={'active': False}
        )
    assert offer_cache.get().peek_plan('ada', 'call') is None
    refused = client.post(BOOK, json=booking_body('12:00'))
    assert refused.status_code == 404, refused.text


def test_a_link_renamed_elsewhere_is_not_booked_through_its_remembered_plan(client: TestClient, ada: dict) -> None:
    """Another process renamed the link and its notice never came (the plan of the old name is still kept here):
    the write sees the event type no longer has that name and books nothing."""
    import sqlalchemy as sa

    from app.db import session_scope

    assert client.post(BOOK, json=booking_body('10:00')).status_code == 201  # the link's plan is now kept
    with session_scope(write=True) as session:  # renamed without a word to this process
        session.execute(sa.text("UPDATE event_type SET slug = 'chat' WHERE id = :id"), {'id': ada['call'].id})
    refused = client.post(BOOK, json=booking_body('11:00'))
    assert refused.status_code == 404, refused.text
    assert client.post('/public/ada/chat/bookings', json=booking_body('11:00')).status_code == 201
