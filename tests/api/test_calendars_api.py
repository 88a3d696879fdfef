"""Calendars over the API: a CalDAV account (a real Radicale server) or an ICS feed is added after connecting to it,
listed with its status and never its password, blocks the times it is busy in the public slots, and is removed;
wrong passwords and addresses are a clear 400; nobody reaches another host's calendars."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import session_scope
from services import hosts
from services.calendars import connections
from tests.factories import make_host, next_monday
from tests.fakes import google_calendar, radicale

MONDAY = next_monday()
SLOTS = f'/public/ada/call/slots?start={MONDAY}&end={MONDAY}&timezone=Europe/London'


def caldav_body(user: radicale.CalDavUser, **changes: str) -> dict:
    return {'kind': 'caldav', 'url': user.url, 'username': user.username, 'password': user.password, **changes}


def starts(client: TestClient) -> list[str]:
    return [s['start'][11:16] for s in client.get(SLOTS).json()['slots']]


def busy_at_ten(user: radicale.CalDavUser) -> None:
    day = MONDAY.strftime('%Y%m%d')
    user.calendar('Work').save_event(
        'BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\nUID:standup\nDTSTAMP:20261101T000000Z\n'
        f'DTSTART:{day}T100000Z\nDTEND:{day}T110000Z\nSUMMARY:Standup\nEND:VEVENT\nEND:VCALENDAR\n'
    )


def test_a_caldav_account_is_added_listed_with_its_status_and_removed(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    busy_at_ten(caldav_user)
    assert '10:00' in starts(client)  # Europe/London is UTC in winter; MONDAY is always ahead
    added = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user))
    assert added.status_code == 201, added.text
    body = added.json()
    assert body['kind'] == 'caldav' and body['status'] == 'ok' and body['receives_events'] is True
    assert body['label'] == f'{caldav_user.username} at 127.0.0.1' and body['busy_calendars'] == []
    listed = client.get('/calendars', headers=ada['auth'])
    assert listed.json() == [body] and caldav_user.password not in listed.text
    assert '10:00' not in starts(client) and '10:30' not in starts(client) and '11:00' in starts(client)
    assert client.delete(f'/calendars/{body["id"]}', headers=ada['auth']).status_code == 204
    assert client.get('/calendars', headers=ada['auth']).json() == []
    assert '10:00' in starts(client)


def test_wrong_passwords_and_addresses_are_a_clear_400(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    caldav_user.calendar('Work')
    wrong = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user, password='nope'))
    assert wrong.status_code == 400 and 'refused this username and password' in wrong.json()['detail']
    down = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user, url=radicale.closed_url()))
    assert down.status_code == 400 and 'could not be reached' in down.json()['detail']
    assert (
        client.post(
            '/calendars', headers=ada['auth'], json={'kind': 'caldav', 'url': caldav_user.url, 'username': 'a'}
        ).status_code
        == 422
    )
    assert client.post('/calendars', headers=ada['auth'], json={'kind': 'exchange', 'url': 'x'}).status_code == 422
    for kind, url in (('caldav', 'https://['), ('ics', 'https://['), ('caldav', 'https://exa mple.org/dav')):
        body = caldav_body(caldav_user, url=url) if kind == 'caldav' else {'kind': 'ics', 'url': url}
        garbled = client.post('/calendars', headers=ada['auth'], json=body)
        assert garbled.status_code == 400 and 'address' in garbled.json()['detail'], garbled.text
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', False)
    private = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user))
    assert private.status_code == 400 and 'https://' in private.json()['detail']
    assert client.get('/calendars', headers=ada['auth']).json() == []


def test_an_ics_feed_is_added_once_it_can_be_read(
    client: TestClient, ada: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)
    feed, server = google_calendar.serve_ics()
    try:
        feed['status'] = 500
        broken = client.post('/calendars', headers=ada['auth'], json={'kind': 'ics', 'url': feed['url']})
        assert broken.status_code == 400 and 'could not be read' in broken.json()['detail']
        feed['status'], feed['body'] = 200, b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'
        added = client.post(
            '/calendars', headers=ada['auth'], json={'kind': 'ics', 'url': feed['url'], 'name': 'Family'}
        )
        assert added.status_code == 201
        assert added.json()['kind'] == 'ics' and added.json()['label'] == 'Family'
        assert added.json()['receives_events'] is False  # a feed is read-only
        assert feed['url'] not in client.get('/calendars', headers=ada['auth']).text  # the secret address
    finally:
        server.shutdown()


def test_every_kind_is_listed_and_new_bookings_go_to_the_first_that_can_take_them(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    with session_scope(write=True) as session:
        google = connections.add_account(
            session, host_id=ada['host'].id, provider='google', email='ada@example.com', refresh_token='rt-secret'
        )
    client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user))
    listed = client.get('/calendars', headers=ada['auth']).json()
    assert [(c['kind'], c['receives_events']) for c in listed] == [('google', True), ('caldav', False)]
    assert 'rt-secret' not in str(listed) and listed[0]['id'] == google.id


def test_another_host_cannot_see_or_remove_a_calendar(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    added = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user)).json()
    with session_scope(write=True) as session:
        bob = make_host(session, username='bob')
        bob_auth = {'Authorization': f'Bearer {hosts.create_api_key(session=session, host_id=bob.id)}'}
    assert client.get('/calendars', headers=bob_auth).json() == []
    assert client.delete(f'/calendars/{added["id"]}', headers=bob_auth).status_code == 404
    assert client.delete('/calendars/0', headers=ada['auth']).status_code == 422
    assert [c['id'] for c in client.get('/calendars', headers=ada['auth']).json()] == [added['id']]


def test_the_host_chooses_which_calendars_count_and_which_receives_bookings(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    busy_at_ten(caldav_user)  # in Work
    home = str(caldav_user.calendar('Home').url)
    added = client.post('/calendars', headers=ada['auth'], json=caldav_body(caldav_user)).json()
    choices = client.get(f'/calendars/{added["id"]}/choices', headers=ada['auth'])
    assert sorted(c['name'] for c in choices.json()) == ['Home', 'Work']
    assert '10:00' not in starts(client)
    chosen = client.patch(
        f'/calendars/{added["id"]}', headers=ada['auth'], json={'busy_calendars': [home], 'target_calendar': home}
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()['busy_calendars'] == [home] and chosen.json()['target_calendar'] == home
    assert '10:00' in starts(client)  # Work no longer counts
    unknown = client.patch(
        f'/calendars/{added["id"]}', headers=ada['auth'], json={'busy_calendars': ['https://elsewhere.example/cal/']}
    )
    assert unknown.status_code == 400 and 'Unknown calendar' in unknown.json()['detail']
    assert (
        client.patch(f'/calendars/{added["id"]}', headers=ada['auth'], json={'busy_calendars': []}).status_code == 422
    )


def test_a_feed_cannot_receive_bookings_and_choices_of_a_server_that_is_down_are_a_503(
    client: TestClient, ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    from services.calendars import caldav

    with session_scope(write=True) as session:
        feed = connections.add_feed(session, host_id=ada['host'].id, url='https://93.184.216.34/feed.ics')
        connections.add_account(
            session, host_id=ada['host'].id, provider='google', email='ada@example.com', refresh_token='rt'
        )  # the first that can take bookings, until the host chooses
        down = connections.add_caldav(
            session,
            host_id=ada['host'].id,
            account=caldav.Account(radicale.closed_url(), caldav_user.username, caldav_user.password),
        )
    refused = client.patch(f'/calendars/{feed.id}', headers=ada['auth'], json={'receives_events': True})
    assert refused.status_code == 400 and 'CalDAV' in refused.json()['detail']
    assert client.get(f'/calendars/{feed.id}/choices', headers=ada['auth']).json() == []
    unavailable = client.get(f'/calendars/{down.id}/choices', headers=ada['auth'])
    assert unavailable.status_code == 503 and 'could not be reached' in unavailable.json()['detail']
    assert [c['kind'] for c in client.get('/calendars', headers=ada['auth']).json() if c['receives_events']] == [
        'google'
    ]
    moved = client.patch(f'/calendars/{down.id}', headers=ada['auth'], json={'receives_events': True})
    assert moved.status_code == 200 and moved.json()['receives_events'] is True
    assert [c['kind'] for c in client.get('/calendars', headers=ada['auth']).json() if c['receives_events']] == [
        'caldav'
    ]
