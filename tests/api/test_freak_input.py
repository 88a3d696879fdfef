"""Freak input from the open internet is a 4xx that names the problem, never a 500: instants at the edges of the
calendar with extreme offsets, ids beyond 64 bits, control characters in one-line text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_public_api import BOOK, MONDAY, booking_body
from tests.factories import at

UNREPRESENTABLE = [
    '0001-01-01T00:00:00+23:59',
    '0001-01-01T00:30:00+01:00',
    '9999-12-31T23:59:59-23:59',
    '9999-12-31T23:00:00-01:00',
]
FAR_OFF = [
    '9999-12-31T23:59:59+00:00',
    '9999-12-31T23:59:59+23:59',
    '0001-01-01T00:00:00-00:01',
    '0001-01-01T00:00:00+00:00',
    '1970-01-01T00:00:00+00:00',
]
BEYOND_64_BITS = [str(2**64), str(2**63), '99999999999999999999999999', str(-(2**63) - 1), '0', '-1']


@pytest.fixture
def quiet(client: TestClient) -> TestClient:
    """The same API, answering a crash with a 500 like the real server instead of raising it into the test."""
    return TestClient(client.app, raise_server_exceptions=False)


@pytest.mark.parametrize('start', UNREPRESENTABLE)
def test_a_start_with_no_utc_instant_is_a_422_for_booking_reschedule_and_proposal(
    quiet: TestClient, ada: dict, start: str
) -> None:
    booked = quiet.post(BOOK, json=booking_body()).json()
    answers = [
        quiet.post(BOOK, json=booking_body(start=start)),
        quiet.post(f'/public/bookings/{booked["uid"]}/reschedule', json={'token': 'wrong', 'start': start}),
        quiet.post(f'/bookings/{booked["uid"]}/propose', headers=ada['auth'], json={'start': start}),
    ]
    for r in answers:
        assert r.status_code == 422, r.text
        assert 'start' in r.json()['detail'] and 'between the years' in r.json()['detail']


@pytest.mark.parametrize('start', FAR_OFF)
def test_a_start_far_off_is_not_offered_and_a_wrong_token_is_still_a_404(
    quiet: TestClient, ada: dict, start: str
) -> None:
    booked = quiet.post(BOOK, json=booking_body()).json()
    assert quiet.post(BOOK, json=booking_body(start=start)).status_code == 409
    wrong = quiet.post(f'/public/bookings/{booked["uid"]}/reschedule', json={'token': 'wrong', 'start': start})
    assert wrong.status_code == 404
    token = booked['manage_url'].split('token=')[1]
    right = quiet.post(f'/public/bookings/{booked["uid"]}/reschedule', json={'token': token, 'start': start})
    assert right.status_code == 409
    proposed = quiet.post(f'/bookings/{booked["uid"]}/propose', headers=ada['auth'], json={'start': start})
    assert proposed.status_code == 409
    kept = quiet.get(f'/bookings/{booked["uid"]}', headers=ada['auth']).json()
    assert kept['start'] == at(MONDAY, '10:00').isoformat()


@pytest.mark.parametrize('number', BEYOND_64_BITS)
def test_ids_beyond_64_bits_name_nothing(quiet: TestClient, ada: dict, number: str) -> None:
    for method, path in (
        ('GET', '/schedules/{}'),
        ('PUT', '/schedules/{}'),
        ('DELETE', '/schedules/{}'),
        ('GET', '/event-types/{}'),
        ('PATCH', '/event-types/{}'),
        ('DELETE', '/event-types/{}'),
    ):
        body = {'timezone': 'UTC'} if method == 'PUT' else {} if method == 'PATCH' else None
        r = quiet.request(method, path.format(number), headers=ada['auth'], json=body)
        assert r.status_code == 404, (method, path, r.text)


@pytest.mark.parametrize('number', [2**64, 2**63, -(2**63) - 1, 0])
def test_a_schedule_id_beyond_64_bits_is_a_422_naming_the_field(quiet: TestClient, ada: dict, number: int) -> None:
    created = quiet.post('/event-types', headers=ada['auth'], json={'title': 'x', 'schedule_id': number})
    changed = quiet.patch(f'/event-types/{ada["call"].id}', headers=ada['auth'], json={'schedule_id': number})
    for r in (created, changed):
        assert r.status_code == 422 and 'schedule_id' in r.json()['detail']


@pytest.mark.parametrize('offset', [2**64, 2**63, 10**30])
def test_a_paging_offset_beyond_64_bits_is_a_422(quiet: TestClient, ada: dict, offset: int) -> None:
    r = quiet.get('/bookings', headers=ada['auth'], params={'offset': offset})
    assert r.status_code == 422 and 'offset' in r.json()['detail']


def test_a_huge_offset_that_fits_in_64_bits_lists_nothing(quiet: TestClient, ada: dict) -> None:
    r = quiet.get('/bookings', headers=ada['auth'], params={'offset': 2**63 - 1})
    assert r.status_code == 200 and r.json() == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_any_start_with_any_offset_is_answered_without_a_server_error(
    quiet: TestClient, ada: dict, moment: datetime, minutes: int
) -> None:
    start = moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()
    r = quiet.post(BOOK, json=booking_body(start=start))
    assert r.status_code in (201, 409, 422), (start, r.text)


ESCAPE, BIDI = 'Grace\x1b[2J Hopper', 'Grace \u202eréppoH'


@pytest.mark.parametrize('name', [ESCAPE, BIDI, 'Grace\x07', 'Grace\x9bHopper'])
def test_an_invitee_name_with_control_characters_is_refused(quiet: TestClient, ada: dict, name: str) -> None:
    r = quiet.post(BOOK, json=booking_body(name=name))
    assert r.status_code == 422 and 'control characters' in r.json()['detail']


def test_host_names_titles_schedule_names_labels_and_subjects_refuse_control_characters(
    quiet: TestClient, ada: dict
) -> None:
    auth = ada['auth']
    answers = {
        'profile name': quiet.patch('/me', headers=auth, json={'name': BIDI}),
        'event type title': quiet.post('/event-types', headers=auth, json={'title': ESCAPE}),
        'question label': quiet.post(
            '/event-types',
            headers=auth,
            json={'title': 'Call', 'questions': [{'id': 'q', 'label': 'Topic\x1b', 'kind': 'short_text'}]},
        ),
        'location': quiet.post(
            '/event-types',
            headers=auth,
            json={'title': 'Visit', 'location': {'kind': 'in_person', 'value': 'Baker Street \u2066221B\u2069'}},
        ),
        'schedule name': quiet.post('/schedules', headers=auth, json={'name': 'Work\x07', 'timezone': 'UTC'}),
        'e-mail subject': quiet.patch(
            '/me/notifications', headers=auth, json={'kinds': {'confirmation': {'subject': 'Booked\x1b]0;pwned\x07'}}}
        ),
    }
    for what, r in answers.items():
        assert r.status_code in (400, 422), (what, r.text)
        assert 'control characters' in r.json()['detail'], what
    assert quiet.get('/me', headers=auth).json()['name'] == 'Ada'


def test_a_one_line_answer_with_control_characters_is_refused(quiet: TestClient, ada: dict) -> None:
    r = quiet.post(BOOK, json=booking_body(answers={'topic': 'Compilers\x1b[8m hidden'}))
    assert r.status_code == 400 and "'Topic' must not contain control characters" in r.json()['detail']
    multi_line = quiet.post(
        '/event-types',
        headers=ada['auth'],
        json={'title': 'Chat', 'slug': 'chat', 'questions': [{'id': 'agenda', 'label': 'Agenda', 'kind': 'long_text'}]},
    )
    assert multi_line.status_code == 201
    kept = quiet.post('/public/ada/chat/bookings', json=booking_body(answers={'agenda': 'One\nTwo'}))
    assert kept.status_code == 201
