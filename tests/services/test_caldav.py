"""CalDAV against a real Radicale server: recurring events (an EXDATE, a moved instance), all-day, transparent and
cancelled events decide exactly which times are offered; a booking becomes one event whose UID is the booking's
(also when the write is retried), moved on reschedule and deleted on cancellation; a refused password asks the host
to reconnect once; a server that is down offers nothing."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from app import crypto
from app.config import get_settings
from app.db import session_scope
from app.errors import InvalidInput, Unavailable
from app.models import Booking, CalendarConnection, OutboxMessage
from services import availability, bookings
from services.calendars import busy, caldav, connections, providers
from services.calendars.errors import ProviderError
from services.notifications import worker
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import google_calendar, radicale
from tests.services.test_notifications import Recorder

pytestmark = pytest.mark.usefixtures('database')
BUSY_FIELDS = {'start', 'end', 'first', 'last'}  # a busy block's two instants (also as POSIX seconds), nothing else
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()
LONDON = ZoneInfo('Europe/London')


@pytest.fixture
def ada() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace', timezone_name='Europe/London')
        call = make_event_type(session, host, slug='call', title='Intro', duration_minutes=60)
    return {'host': host, 'call': call}


def connect(ada: dict, user: radicale.CalDavUser, password: str | None = None) -> CalendarConnection:
    """The account as stored (a wrong `password` is stored without the check that connecting does)."""
    account = caldav.Account(user.url, user.username, password or user.password)
    with session_scope(write=True) as session:
        return connections.add_caldav(session, host_id=ada['host'].id, account=account)


def offered(ada: dict, day: date = MONDAY) -> tuple[list[str], str]:
    with session_scope() as session:
        days, problem = availability.month_offer(
            session=session, event_type=ada['call'], first=day, last=day, zone='Europe/London', now=NOW
        )
    return [f'{s.start.astimezone(LONDON):%H:%M}' for s in days.get(day, [])], problem


def stamp(day: date, clock: str = '') -> str:
    return day.strftime('%Y%m%d') + (f'T{clock.replace(":", "")}00' if clock else '')


def vevent(uid: str, day: date, start: str, end: str, *extra: str) -> str:
    lines = [
        f'UID:{uid}',
        'DTSTAMP:20261101T000000Z',
        f'DTSTART;TZID=Europe/London:{stamp(day, start)}',
        f'DTEND;TZID=Europe/London:{stamp(day, end)}',
        'SUMMARY:Private matter',
        *extra,
    ]
    return 'BEGIN:VEVENT\n' + '\n'.join(lines) + '\nEND:VEVENT\n'


def vcalendar(*events: str) -> str:
    return 'BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n' + LONDON_ZONE + ''.join(events) + 'END:VCALENDAR\n'


LONDON_ZONE = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:STANDARD
DTSTART:19701025T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T010000
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
"""


def fill(user: radicale.CalDavUser) -> None:
    """A weekly 10:00 meeting (not in week 2, moved to 14:00 in week 3), a day off on the first Tuesday, a free
    12:00 (transparent) and a cancelled 15:00 on the first Monday, and a 16:00 in a second calendar."""
    work = user.calendar('Work')
    week = timedelta(days=7)
    work.save_event(
        vcalendar(
            vevent(
                'weekly',
                MONDAY,
                '10:00',
                '11:00',
                'RRULE:FREQ=WEEKLY;COUNT=8',
                f'EXDATE;TZID=Europe/London:{stamp(MONDAY + week, "10:00")}',
            ),
            vevent(
                'weekly',
                MONDAY + 2 * week,
                '14:00',
                '15:00',
                f'RECURRENCE-ID;TZID=Europe/London:{stamp(MONDAY + 2 * week, "10:00")}',
            ),
        )
    )
    work.save_event(
        vcalendar(
            'BEGIN:VEVENT\nUID:day-off\nDTSTAMP:20261101T000000Z\n'
            f'DTSTART;VALUE=DATE:{stamp(MONDAY + timedelta(days=1))}\n'
            f'DTEND;VALUE=DATE:{stamp(MONDAY + timedelta(days=2))}\nSUMMARY:Off\nEND:VEVENT\n'
        )
    )
    work.save_event(vcalendar(vevent('free', MONDAY, '12:00', '13:00', 'TRANSP:TRANSPARENT')))
    work.save_event(vcalendar(vevent('called-off', MONDAY, '15:00', '16:00', 'STATUS:CANCELLED')))
    user.calendar('Home').save_event(vcalendar(vevent('dentist', MONDAY, '16:00', '17:00')))


def test_a_weekly_event_with_an_exdate_and_a_moved_instance_blocks_exactly_its_times(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    fill(caldav_user)
    connect(ada, caldav_user)
    week = timedelta(days=7)
    first, problem = offered(ada)
    assert problem == ''
    assert first == ['09:00', '11:00', '12:00', '13:00', '14:00', '15:00']  # 10:00 and (other calendar) 16:00 busy
    assert offered(ada, MONDAY + timedelta(days=1))[0] == []  # the all-day event, in the host's zone
    assert '10:00' in offered(ada, MONDAY + week)[0]  # the EXDATE frees it
    moved = offered(ada, MONDAY + 2 * week)[0]
    assert '10:00' in moved and '14:00' not in moved  # the instance moved to 14:00
    assert '10:00' not in offered(ada, MONDAY + 3 * week)[0]


def test_server_and_client_side_expansion_find_the_same_busy_times_and_keep_only_starts_and_ends(
    caldav_user: radicale.CalDavUser,
) -> None:
    fill(caldav_user)
    account = caldav.Account(caldav_user.url, caldav_user.username, caldav_user.password)
    start, end = at(MONDAY, '00:00'), at(MONDAY, '00:00') + timedelta(days=28)
    by_server = caldav.fetch_busy(account, (), start, end, zone='Europe/London', settings=get_settings())
    by_client = caldav.fetch_busy(
        account, (), start, end, zone='Europe/London', settings=get_settings(), server_expand=False
    )
    assert by_server == by_client
    week = timedelta(days=7)
    weekly = [at(MONDAY + n * week, '10:00') for n in (0, 3)]
    expected = sorted(
        [(s, s + timedelta(hours=1)) for s in [*weekly, at(MONDAY + 2 * week, '14:00'), at(MONDAY, '16:00')]]
        + [(at(MONDAY + timedelta(days=1), '00:00'), at(MONDAY + timedelta(days=2), '00:00'))]
    )
    assert [(b.start, b.end) for b in by_server] == expected
    assert all(set(type(b).__slots__) == BUSY_FIELDS for b in by_server)  # no titles, no attendees


def test_only_the_calendars_the_host_chose_count_as_busy(ada: dict, caldav_user: radicale.CalDavUser) -> None:
    fill(caldav_user)
    connection = connect(ada, caldav_user)
    assert '16:00' not in offered(ada)[0]  # every calendar counts until the host chooses
    work = str(caldav_user.calendar('Work').url)
    with session_scope(write=True) as session:
        connections.set_busy_calendars(session, host_id=ada['host'].id, connection_id=connection.id, calendars=[work])
    times = offered(ada)[0]
    assert '16:00' in times and '10:00' not in times


def book(ada: dict, clock: str = '10:00') -> Booking:
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=at(MONDAY, clock),
            now=NOW,
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
        ).booking


def drain() -> None:
    worker.drain(mailer=Recorder(), settings=get_settings())


def stored(uid: str) -> Booking:
    with session_scope() as session:
        return session.exec(select(Booking).where(Booking.uid == uid)).one()


def vevents(user: radicale.CalDavUser, name: str) -> list[icalendar.Event]:
    return [c for data in user.events(name) for c in icalendar.Calendar.from_ical(data).walk('VEVENT')]


def test_a_booking_makes_one_event_with_its_uid_moved_on_reschedule_and_deleted_on_cancel(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    connect(ada, caldav_user)
    booking = book(ada)
    drain()
    [event] = vevents(caldav_user, 'Work')
    assert str(event['UID']) == booking.uid
    assert event.decoded('DTSTART') == at(MONDAY, '10:00')
    assert str(event['ATTENDEE']) == 'mailto:grace@example.com' and event['ATTENDEE'].params['CN'] == 'Grace Hopper'
    assert stored(booking.uid).calendar_event_id.endswith(f'/{booking.uid}.ics')
    with session_scope(write=True) as session:
        bookings.reschedule_booking(
            session=session, booking=session.get(Booking, booking.id), start=at(MONDAY, '14:00'), now=NOW
        )
    drain()
    [moved] = vevents(caldav_user, 'Work')
    assert str(moved['UID']) == booking.uid and moved.decoded('DTSTART') == at(MONDAY, '14:00')
    assert int(moved['SEQUENCE']) == 1
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, booking.id), reason='', now=NOW)
    drain()
    assert vevents(caldav_user, 'Work') == []


def test_a_retried_write_whose_first_answer_was_lost_still_makes_one_event(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    connection = connect(ada, caldav_user)
    provider = providers.provider_for('caldav', get_settings())
    event = providers.Event(
        uid='b0oking-uid-1',
        event_id='',
        title='Intro with Grace',
        description='',
        start=at(MONDAY, '10:00'),
        end=at(MONDAY, '11:00'),
        invitee=('grace@example.com', 'Grace Hopper'),
    )
    with session_scope() as session:
        account = providers.Connection.of(session.get(CalendarConnection, connection.id))
    first = provider.write_event(account, event)
    again = provider.write_event(account, event)  # the outbox retries: the first id was never recorded
    assert first.event_id == again.event_id
    assert [str(e['UID']) for e in vevents(caldav_user, 'Work')] == ['b0oking-uid-1']
    provider.delete_event(account, uid=event.uid, event_id='')  # a cancellation that raced the creation
    provider.delete_event(account, uid=event.uid, event_id=first.event_id)  # already gone: fine
    assert vevents(caldav_user, 'Work') == []


def test_a_calendar_job_run_again_after_a_crash_that_lost_its_result_leaves_one_event(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    connect(ada, caldav_user)
    booking = book(ada)
    drain()
    with session_scope(write=True) as session:  # as if the worker died after the PUT, before recording it
        session.execute(update(Booking).where(col(Booking.id) == booking.id).values(calendar_event_id=''))
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.kind) == 'calendar_sync')
            .values(status='pending', attempts=0, due_at=NOW - timedelta(minutes=1))
        )
    drain()
    assert [str(e['UID']) for e in vevents(caldav_user, 'Work')] == [booking.uid]
    assert stored(booking.uid).calendar_event_id.endswith(f'/{booking.uid}.ics')


def test_new_bookings_go_to_the_calendar_the_host_chose(ada: dict, caldav_user: radicale.CalDavUser) -> None:
    caldav_user.calendar('Work')
    home = str(caldav_user.calendar('Home').url)
    connection = connect(ada, caldav_user)
    with session_scope(write=True) as session:
        connections.set_busy_calendars(
            session, host_id=ada['host'].id, connection_id=connection.id, calendars=[home], target=home
        )
    booking = book(ada)
    drain()
    assert vevents(caldav_user, 'Work') == []
    assert [str(e['UID']) for e in vevents(caldav_user, 'Home')] == [booking.uid]


def status_when(ready, seconds: float = 5.0) -> CalendarConnection:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        with session_scope() as session:
            row = session.exec(select(CalendarConnection)).one()
        if ready(row) or time.monotonic() > deadline:
            assert ready(row), (row.status, row.status_detail)
            return row
        time.sleep(0.05)


def test_a_refused_password_asks_the_host_to_reconnect_once_and_offers_nothing(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    connect(ada, caldav_user, password='not-the-password')
    outbox = get_settings().data_dir / 'outbox'
    before = set(outbox.glob('calendar-reconnect.*.eml')) if outbox.exists() else set()
    times, problem = offered(ada)
    assert times == [] and "can't be checked" in problem
    status_when(lambda r: r.status == 'reconnect_needed' and r.reconnect_notice_sent)
    busy.reset_cache()  # asked again later: still refused, but the host is told only once
    assert offered(ada)[0] == []
    time.sleep(0.3)
    sent = set(outbox.glob('calendar-reconnect.*.eml')) - before
    assert len(sent) == 1
    mail = message_from_bytes(sent.pop().read_bytes(), policy=policy.default)
    assert mail['To'] == ada['host'].email and 'reconnect' in mail['Subject'].lower()
    connect(ada, caldav_user)  # connecting the same account again with the right password mends it
    with session_scope() as session:
        [row] = session.exec(select(CalendarConnection)).all()
    assert row.status == 'ok' and not row.reconnect_notice_sent
    busy.reset_cache()
    assert offered(ada) == (['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00'], '')


def test_a_server_that_is_down_offers_no_times_and_a_booking_is_refused(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    down = radicale.CalDavUser(radicale.closed_url(), caldav_user.username, caldav_user.password)
    connect(ada, down)
    times, problem = offered(ada)
    assert times == [] and "can't be checked" in problem
    with session_scope(write=True) as session, pytest.raises(Unavailable):
        bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=at(MONDAY, '11:00'),
            now=NOW,
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
        )
    row = status_when(lambda r: r.status == 'error')
    assert 'could not be reached' in row.status_detail


def test_connecting_checks_address_and_password_and_keeps_the_password_encrypted(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    host_id = ada['host'].id
    with pytest.raises(InvalidInput, match='refused this username and password'):
        connections.connect_caldav(
            host_id=host_id, url=caldav_user.url, username=caldav_user.username, password='wrong'
        )
    with pytest.raises(InvalidInput, match='Connecting failed: the CalDAV server could not be reached'):
        connections.connect_caldav(host_id=host_id, url=radicale.closed_url(), username='a', password='b')
    website, server = google_calendar.serve_ics()  # a web server that is no CalDAV server
    try:
        with pytest.raises(InvalidInput, match='Connecting failed: the CalDAV server answered 501'):
            connections.connect_caldav(host_id=host_id, url=website['url'], username='a', password='b')
    finally:
        server.shutdown()
    added = connections.connect_caldav(
        host_id=host_id, url=caldav_user.url, username=caldav_user.username, password=caldav_user.password
    )
    with session_scope() as session:
        [row] = session.exec(select(CalendarConnection)).all()
    assert row.id == added and row.provider == 'caldav' and row.label == f'{caldav_user.username} at 127.0.0.1'
    assert row.busy_calendars == []  # every calendar counts until the host chooses
    assert caldav_user.password.encode() not in row.secret_encrypted
    assert caldav.Account.of(crypto.decrypt(row.secret_encrypted)).password == caldav_user.password


@pytest.mark.parametrize(
    'url',
    [
        'http://127.0.0.1:5232/',
        'https://10.0.0.8/dav/',
        'https://[::1]/dav/',
        'https://169.254.169.254/',
        'ftp://example.com/dav',
    ],
)
def test_caldav_addresses_must_be_https_on_public_addresses(
    ada: dict, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', False)
    with pytest.raises(InvalidInput):
        connections.connect_caldav(host_id=ada['host'].id, url=url, username='ada', password='secret')
    account = caldav.Account(url, 'ada', 'secret')
    with pytest.raises(ProviderError):  # a stored one is refused at every request as well
        caldav.fetch_busy(account, (), NOW, NOW + timedelta(days=1), zone='UTC', settings=get_settings())


def test_the_presets_name_the_known_servers() -> None:
    assert caldav.preset_url('icloud') == 'https://caldav.icloud.com'
    assert caldav.preset_url('fastmail') == 'https://caldav.fastmail.com/dav/'
    assert caldav.preset_url('nextcloud', 'cloud.example.org') == 'https://cloud.example.org/remote.php/dav'


def test_a_caldav_password_is_re_encrypted_by_key_rotation_so_the_old_key_can_go(
    ada: dict, caldav_user: radicale.CalDavUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    from services import accounts

    fill(caldav_user)
    connect(ada, caldav_user)
    old, new = get_settings().encryption_keys, Fernet.generate_key().decode()
    monkeypatch.setattr(get_settings(), 'encryption_keys', f'{new},{old}')
    crypto.reset_keys()
    try:
        with session_scope(write=True) as session:
            accounts.rotate_keys(session)
        monkeypatch.setattr(get_settings(), 'encryption_keys', new)  # the old key is gone
        crypto.reset_keys()
        times, problem = offered(ada)
        assert problem == '' and '10:00' not in times and '11:00' in times
    finally:
        monkeypatch.undo()
        crypto.reset_keys()


def test_an_all_day_event_blocks_the_whole_day_in_the_hosts_own_zone(caldav_user: radicale.CalDavUser) -> None:
    fill(caldav_user)
    account = caldav.Account(caldav_user.url, caldav_user.username, caldav_user.password)
    tuesday = MONDAY + timedelta(days=1)
    start = datetime(tuesday.year, tuesday.month, tuesday.day, tzinfo=timezone.utc) - timedelta(days=1)
    found = caldav.fetch_busy(
        account, (), start, start + timedelta(days=3), zone='America/New_York', settings=get_settings()
    )
    new_york = ZoneInfo('America/New_York')
    day_off = (
        datetime(tuesday.year, tuesday.month, tuesday.day, tzinfo=new_york),
        datetime(tuesday.year, tuesday.month, tuesday.day, tzinfo=new_york) + timedelta(days=1),
    )
    assert day_off in [(b.start, b.end) for b in found]  # 05:00 to 05:00 UTC in winter, not UTC midnights


def test_a_weekly_event_keeps_its_wall_clock_hour_across_the_clock_change_either_way_it_is_expanded(
    caldav_user: radicale.CalDavUser,
) -> None:
    caldav_user.calendar('Work').save_event(
        vcalendar(vevent('across-dst', date(2027, 3, 15), '10:00', '11:00', 'RRULE:FREQ=WEEKLY;COUNT=4'))
    )
    account = caldav.Account(caldav_user.url, caldav_user.username, caldav_user.password)
    start, end = datetime(2027, 3, 14, tzinfo=timezone.utc), datetime(2027, 4, 14, tzinfo=timezone.utc)
    for server_expand in (True, False):
        found = caldav.fetch_busy(
            account, (), start, end, zone='Europe/London', settings=get_settings(), server_expand=server_expand
        )
        assert [f'{b.start:%m-%d %H:%M}' for b in found] == [
            '03-15 10:00',
            '03-22 10:00',
            '03-29 09:00',
            '04-05 09:00',
        ]  # UTC: 10:00 GMT, then 10:00 BST


def test_the_account_export_lists_the_caldav_connection_without_its_password(
    ada: dict, caldav_user: radicale.CalDavUser
) -> None:
    from services import accounts

    connection = connect(ada, caldav_user)
    with session_scope() as session:
        exported = accounts.export_account(session, host_id=ada['host'].id)
    assert [(c['id'], c['kind'], c['label']) for c in exported['calendars']] == [
        (connection.id, 'caldav', f'{caldav_user.username} at 127.0.0.1')
    ]
    assert caldav_user.password not in str(exported)
