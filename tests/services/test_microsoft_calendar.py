"""Microsoft 365 through msal (tokens) and Graph (calendarView, events), against a local HTTPS stand-in: busy
times from every page, only busy/tentative/out-of-office, cancelled ignored; one event with a Teams link per
booking, moved and deleted with it; invalid_grant marks the connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.models import Booking, CalendarConnection
from services import availability, bookings
from services.calendars import busy, connections, tokens
from services.notifications import worker
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import microsoft
from tests.services.test_notifications import Recorder, parts

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[microsoft.FakeMicrosoft]:
    fake, server = microsoft.serve(tmp_path)
    settings = get_settings()
    for name, value in (
        ('microsoft_login_url', fake.url),
        ('microsoft_graph_url', fake.graph_url),
        ('microsoft_client_id', 'ms-client'),
        ('microsoft_client_secret', 'ms-secret'),
        ('microsoft_tenant', 'common'),
        ('microsoft_ca_bundle', fake.ca_file),
        ('calendar_timeout_seconds', 5),
    ):
        monkeypatch.setattr(settings, name, value)
    busy.reset_cache()
    yield fake
    server.shutdown()
    busy.reset_cache()


@pytest.fixture
def ada(graph: microsoft.FakeMicrosoft) -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        teams = make_event_type(session, host, slug='teams', title='Sync', location={'kind': 'teams'})
        connections.add_account(
            session, provider='microsoft', host_id=host.id, email='ada@contoso.example', refresh_token='m-rt'
        )
    return {'host': host, 'teams': teams}


def event(start: str, end: str, show_as: str = 'busy', cancelled: bool = False) -> dict:
    return {
        'start': {'dateTime': f'{at(MONDAY, start).strftime("%Y-%m-%dT%H:%M:%S")}.0000000', 'timeZone': 'UTC'},
        'end': {'dateTime': f'{at(MONDAY, end).strftime("%Y-%m-%dT%H:%M:%S")}.0000000', 'timeZone': 'UTC'},
        'showAs': show_as,
        'isCancelled': cancelled,
        'subject': 'Private',
    }


def offered(event_type) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        days, problem = availability.month_offer(
            session=session, event_type=event_type, first=MONDAY, last=MONDAY, zone='UTC', now=NOW
        )
    return [f'{s.start:%H:%M}' for s in days.get(MONDAY, [])], problem


def test_busy_times_come_from_every_page_of_the_calendar_view(ada: dict, graph: microsoft.FakeMicrosoft) -> None:
    graph.calendar = [
        event('09:00', '09:30'),
        event('10:00', '10:30', 'tentative'),
        event('11:00', '11:30', 'free'),
        event('12:00', '12:30', 'oof'),
        event('13:00', '13:30', cancelled=True),
        event('14:00', '14:30', 'workingElsewhere'),
    ]
    times, problem = offered(ada['teams'])
    assert problem == ''
    # London is UTC in winter; the host's schedule is 09:00-17:00 London
    assert not {'09:00', '10:00', '12:00'} & set(times) and {'11:00', '13:00', '14:00'} <= set(times)
    assert graph.count('GET', '/me/calendarView') == 3  # six events, two per page
    view = next(r for r in graph.requests if r['path'] == '/v1.0/me/calendarView')
    assert view['headers']['Prefer'] == 'outlook.timezone="UTC"' and view['query']['$top'] == '100'
    token = next(r for r in graph.requests if r['path'].endswith('/oauth2/v2.0/token'))
    assert b'grant_type=refresh_token' in token['body'] and b'refresh_token=m-rt' in token['body']
    import time

    from app import crypto

    for _ in range(100):  # Microsoft rotated the refresh token: the new one is kept, encrypted (in the background)
        with session_scope() as session:
            row = session.exec(select(CalendarConnection)).one()
        if crypto.decrypt(row.secret_encrypted) == 'm-rt+':
            break
        time.sleep(0.05)
    assert crypto.decrypt(row.secret_encrypted) == 'm-rt+'


def test_a_booking_makes_one_teams_event_that_moves_and_goes_with_it(ada: dict, graph: microsoft.FakeMicrosoft) -> None:
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=ada['teams'],
            start=at(MONDAY, '15:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        )
    mailer = Recorder()
    worker.drain(mailer=mailer, settings=get_settings())
    [created] = graph.events.values()
    assert created['transactionId'] == receipt.booking.uid and created['isOnlineMeeting'] is True
    assert created['onlineMeetingProvider'] == 'teamsForBusiness'
    assert created['attendees'][0]['emailAddress']['address'] == 'grace@example.com'
    link = created['onlineMeeting']['joinUrl']
    confirmation = next(m for _, m in mailer.sent if m['X-CloudMeet-Kind'] == 'confirmation')
    assert link in parts(confirmation)['text/plain']
    with session_scope(write=True) as session:
        bookings.reschedule_booking(
            session=session, booking=session.get(Booking, receipt.booking.id), start=at(MONDAY, '16:00'), now=NOW
        )
    worker.drain(mailer=Recorder(), settings=get_settings())
    [moved] = graph.events.values()
    assert moved['start']['dateTime'] == at(MONDAY, '16:00').strftime('%Y-%m-%dT%H:%M:%S')
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, receipt.booking.id), reason='', now=NOW)
    worker.drain(mailer=Recorder(), settings=get_settings())
    assert graph.events == {}


def test_an_invalid_grant_marks_the_microsoft_connection_and_offers_nothing(
    ada: dict, graph: microsoft.FakeMicrosoft
) -> None:
    graph.invalid_grants.add('m-rt')
    times, problem = offered(ada['teams'])
    assert times == [] and problem
    import time

    for _ in range(100):
        with session_scope() as session:
            if session.exec(select(CalendarConnection)).one().status == 'reconnect_needed':
                return
        time.sleep(0.05)
    pytest.fail('the connection was not marked')


def test_chosen_microsoft_calendars_count_as_busy_and_bookings_go_to_the_chosen_one(
    ada: dict, graph: microsoft.FakeMicrosoft
) -> None:
    from app import crypto
    from services.calendars import microsoft as graph_api

    graph.other_calendars['team'] = [event('15:00', '16:00')]
    with session_scope() as session:
        connection = session.exec(select(CalendarConnection)).one()
    token = tokens.microsoft_token(connection.id, crypto.decrypt(connection.secret_encrypted), get_settings())
    assert [c['name'] for c in graph_api.list_calendars(token, get_settings())] == ['Calendar', 'Team']
    assert '15:00' in offered(ada['teams'])[0]
    with session_scope(write=True) as session:
        connections.set_busy_calendars(
            session, host_id=ada['host'].id, connection_id=connection.id, calendars=['AAdefault', 'team'], target='team'
        )
    assert '15:00' not in offered(ada['teams'])[0]
    with session_scope(write=True) as session:
        bookings.book_slot(
            session=session,
            event_type=ada['teams'],
            start=at(MONDAY, '10:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        )
    worker.drain(mailer=Recorder(), settings=get_settings())
    [created] = graph.events.values()
    assert created['calendar'] == 'team'
