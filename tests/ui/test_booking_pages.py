"""The invitee's pages through NiceGUI's simulated user: host page, booking flow, live updates, races, 404s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement
from nicegui.testing.user import User
from sqlmodel import select

from app.db import session_scope
from app.models import Booking
from components.slot_picker import format_day, format_time
from services import availability, bookings, schedules
from services.schedules import ScheduleInput
from tests.factories import make_event_type, make_host
from tests.ui.conftest import BROWSER_ZONE

NY = ZoneInfo(BROWSER_ZONE)


@pytest.fixture
def ada(user: User) -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        call = make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            description='<script>alert(1)</script> Bring <b>notes</b>',
            questions=[{'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True}],
        )
        make_event_type(session, host, slug='secret', title='Secret meeting', hidden=True)
        make_event_type(session, host, slug='off', title='Switched off', active=False)
    return {'host': host, 'call': call}


def first_offer(event_type) -> tuple[date, datetime]:  # type: ignore[no-untyped-def]
    """The day and start the picker selects first: the first free day of the current month in New York."""
    today = datetime.now(NY).date()
    with session_scope() as session:
        days = availability.slots_by_local_day(
            session=session,
            event_type=event_type,
            first=today.replace(day=1),
            last=today.replace(day=28) + timedelta(days=4),
            zone=BROWSER_ZONE,
            now=datetime.now(timezone.utc),
        )
    month_days = sorted(d for d in days if d.month == today.month)
    assert month_days, 'the test needs free times this month'
    return month_days[0], days[month_days[0]][0].start


def _time_names(user: User) -> list[str]:
    return [e.props.get('aria-label', '') for e in user.find(marker='time').elements]


def label(start: datetime) -> str:
    return format_time(start.astimezone(NY), True)


async def pick_first_time(user: User, event_type) -> datetime:  # type: ignore[no-untyped-def]
    _, start = first_offer(event_type)
    await user.should_see(label(start), retries=40)
    user.find(marker='time', content=label(start)).click()
    await user.should_see('Enter your details')
    return start


async def fill_form(user: User, name: str = 'Grace Hopper', email: str = 'grace@example.com') -> None:
    user.find(marker='name').type(name)
    user.find(marker='email').type(email)
    user.find(marker='question-topic').type('Compilers')


async def test_the_host_page_lists_only_active_listed_event_types(user: User, ada: dict) -> None:
    await user.open('/ada')
    await user.should_see('Ada Lovelace')
    await user.should_see('Intro call')
    await user.should_not_see('Secret meeting')
    await user.should_not_see('Switched off')


async def test_unknown_hosts_and_event_types_get_a_friendly_not_found_page(user: User, ada: dict) -> None:
    for path in ('/nobody', '/ada/nothing', '/ada/off'):
        response = await user.http_client.get(path)
        assert response.status_code == 404
        assert 'Page not found' in response.text and 'Intro call' not in response.text


async def test_the_booking_page_shows_the_event_and_the_times_in_the_browsers_zone(user: User, ada: dict) -> None:
    await user.open('/ada/call')
    await user.should_see('Intro call')
    await user.should_see('30 min')
    await user.should_see('<script>alert(1)</script> Bring <b>notes</b>')  # shown as text, never run
    day, start = first_offer(ada['call'])
    await user.should_see(label(start), retries=40)
    await user.should_see(format_day(day))
    assert user.find(marker='timezone').elements.pop().value == BROWSER_ZONE


async def test_an_invitee_books_a_time_and_lands_on_the_confirmation(user: User, ada: dict) -> None:
    await user.open('/ada/call')
    start = await pick_first_time(user, ada['call'])
    await fill_form(user)
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    await user.should_see('Time zone: New York')
    with session_scope() as session:
        booking = session.exec(select(Booking)).one()
    assert booking.start_at == start and booking.invitee_timezone == BROWSER_ZONE
    assert booking.answers == {'topic': 'Compilers'}


async def test_missing_details_are_marked_inline_and_nothing_is_booked(user: User, ada: dict) -> None:
    await user.open('/ada/call')
    await pick_first_time(user, ada['call'])
    user.find(marker='email').type('not an address')
    user.find(marker='confirm').click()
    await user.should_see('Please correct the marked fields.')
    with session_scope() as session:
        assert session.exec(select(Booking)).all() == []


async def test_a_time_booked_elsewhere_disappears_from_open_pages_without_a_reload(
    user: User, create_user: Callable[[], User], ada: dict
) -> None:
    watcher, filler = create_user(), create_user()
    await watcher.open('/ada/call')
    await filler.open('/ada/call')
    start = await pick_first_time(filler, ada['call'])
    await watcher.should_see(label(start), retries=40)
    with session_scope(write=True) as session:
        bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=start,
            now=datetime.now(timezone.utc),
            invitee=bookings.Invitee('Other', 'other@example.com', 'UTC', answers={'topic': 'x'}),
        )
    await filler.should_see('this time was just booked by someone else', retries=40)
    # the button's accessible name carries the date: the same clock time on another day may well stay offered
    taken = f'{format_day(start.astimezone(NY).date())}, {label(start)}'
    await _until(lambda: taken not in _time_names(watcher))
    assert _time_names(watcher)  # the other times are still offered


async def test_two_invitees_confirming_one_time_at_once_get_exactly_one_booking(
    user: User, create_user: Callable[[], User], ada: dict
) -> None:
    first, second = create_user(), create_user()
    for invitee in (first, second):
        await invitee.open('/ada/call')
        await pick_first_time(invitee, ada['call'])
        await fill_form(invitee, email=f'{id(invitee)}@example.com')
    first.find(marker='confirm').click()
    second.find(marker='confirm').click()
    await _until(lambda: _booking_count() == 1)
    await asyncio.sleep(0.5)  # the loser's submit has finished (with a friendly message, no error logged)
    assert _booking_count() == 1


async def test_a_submit_that_loses_the_race_gets_a_message_and_fresh_times(user: User, ada: dict) -> None:
    await user.open('/ada/call')
    start = await pick_first_time(user, ada['call'])
    await fill_form(user)
    _book_from_another_process(ada['call'], start)  # no live signal reaches this page
    user.find(marker='confirm').click()
    await user.should_see('Sorry, that time was just taken', retries=40)
    await user.should_see('Select a date and time')
    with session_scope() as session:
        assert len(session.exec(select(Booking)).all()) == 1


async def test_a_month_without_free_times_offers_a_jump_to_the_next_free_day(user: User, ada: dict) -> None:
    today = datetime.now(ZoneInfo('Europe/London')).date()
    closed = [today + timedelta(days=i) for i in range(-1, 40) if (today + timedelta(days=i)).month == today.month]
    with session_scope(write=True) as session:
        schedule = schedules.default_schedule(session=session, host_id=ada['host'].id)
        data = ScheduleInput(
            timezone='Europe/London',
            is_default=True,
            weekly=schedule.weekly,
            overrides=[{'date': d, 'intervals': []} for d in closed],
        )
        schedules.update_schedule(session=session, host_id=ada['host'].id, schedule_id=schedule.id, data=data)
    await user.open('/ada/call')
    await user.should_see(f'No free times in {today:%B %Y}', retries=40)
    user.find(marker='jump').click()
    next_month = (today.replace(day=28) + timedelta(days=4)).strftime('%B %Y')
    await user.should_see(next_month, retries=40)
    assert user.find(marker='time').elements


async def test_embedded_pages_have_no_site_frame(user: User, ada: dict) -> None:
    await user.open('/ada/call?embed=1')
    await user.should_see('Intro call')
    await user.should_not_see(kind=ui.header)
    await user.should_not_see('Scheduling by CloudMeet')


def _booking_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(Booking)).all())


async def _until(condition: Callable[[], bool], timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail('condition not reached in time')


def _book_from_another_process(event_type, start: datetime) -> None:  # type: ignore[no-untyped-def]
    from app import crypto

    with session_scope(write=True) as session:
        session.add(
            Booking(
                uid='other-process',
                host_id=event_type.host_id,
                event_type_id=event_type.id,
                start_at=start,
                end_at=start + timedelta(minutes=30),
                invitee_name='Other',
                invitee_email='other@example.com',
                invitee_timezone='UTC',
                manage_token_hash='x' * 64,
                manage_token_encrypted=crypto.encrypt('x'),
            )
        )


async def test_the_booking_page_uses_the_hosts_brand_colour_darkened_to_meet_aa(user: User, ada: dict) -> None:
    from services import hosts
    from services.contrast import contrast_ratio

    with session_scope(write=True) as session:
        hosts.update_profile(session=session, host_id=ada['host'].id, changes={'brand_color': '#ffd500'})
    await user.open('/ada/call')
    await user.should_see('Intro call')
    primary = user.find(kind=ui.colors).elements.pop().props['primary']
    assert primary != '#ffd500' and contrast_ratio(primary, '#ffffff') >= 4.5


async def test_every_question_kind_is_answered_on_the_page_and_stored_with_the_booking(user: User, ada: dict) -> None:
    with session_scope(write=True) as session:
        every = make_event_type(
            session,
            ada['host'],
            slug='every',
            title='Every question',
            questions=[
                {'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True},
                {'id': 'agenda', 'label': 'Agenda', 'kind': 'long_text', 'required': False},
                {'id': 'phone', 'label': 'Phone', 'kind': 'phone', 'required': True},
                {'id': 'nda', 'label': 'I accept the NDA', 'kind': 'checkbox', 'required': False},
                {
                    'id': 'size',
                    'label': 'Team size',
                    'kind': 'single_choice',
                    'required': True,
                    'options': ['1-10', '11-50', '51+'],
                },
            ],
        )
    await user.open('/ada/every')
    await pick_first_time(user, every)
    await fill_form(user)
    user.find(marker='question-agenda').type('Plans\nand more plans')
    user.find(marker='question-phone').type('+1 212 555 0100')
    user.find(marker='question-nda').click()
    user.find(marker='confirm').click()  # the required choice is still open
    await user.should_see('Choose an answer to "Team size".')
    user.find(marker='question-size').elements.pop().value = '11-50'
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    with session_scope() as session:
        booking = session.exec(select(Booking)).one()
    assert booking.answers == {
        'topic': 'Compilers',
        'agenda': 'Plans\nand more plans',
        'phone': '+1 212 555 0100',
        'nda': True,
        'size': '11-50',
    }


async def test_a_visitor_in_another_zone_can_search_every_zone_in_the_picker(user: User) -> None:
    with session_scope(write=True) as session:
        host = make_host(session, username='berta', timezone_name='Europe/Berlin')
        make_event_type(session, host, slug='call')
    await user.open('/berta/call')
    await user.should_see('New York', retries=40)  # the browser's zone replaced the host's
    select = next(iter(user.find(marker='timezone').elements))
    assert select.value == BROWSER_ZONE and len(select.options) == 2
    user.find(marker='timezone').trigger('focus')
    assert len(select.options) > 400
    tokyo = [zone for zone, text in select.options.items() if 'japan' in text.lower()]
    assert tokyo == ['Asia/Tokyo']


async def test_the_chosen_day_time_and_zone_live_in_the_url_so_a_reload_or_shared_link_lands_there(
    user: User, ada: dict
) -> None:
    day, start = first_offer(ada['call'])
    slot = start.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    await user.open(f'/ada/call?tz=Asia/Tokyo&date={day.isoformat()}&slot={slot}')
    await user.should_see('Enter your details', retries=40)
    await user.should_see('Tokyo time')
    await fill_form(user)
    await user.open(f'/ada/call?tz=Asia/Tokyo&date={day.isoformat()}&slot={slot}')  # a reload of the same tab
    await user.should_see('Enter your details', retries=40)
    assert next(iter(user.find(marker='name').elements)).value == 'Grace Hopper'  # typed details are kept
    assert next(iter(user.find(marker='question-topic').elements)).value == 'Compilers'


async def test_a_link_to_a_time_that_was_taken_opens_the_times_with_a_note(user: User, ada: dict) -> None:
    day, start = first_offer(ada['call'])
    _book_from_another_process(ada['call'], start)
    slot = start.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    await user.open(f'/ada/call?date={day.isoformat()}&slot={slot}')
    await user.should_see('That time is no longer free', retries=40)
    await user.should_see('Select a date and time')


async def test_an_en_us_browser_sees_a_12_hour_clock_which_the_booking_keeps(user: User, ada: dict) -> None:
    user.http_client.headers['accept-language'] = 'en-US,en;q=0.9'
    _, start = first_offer(ada['call'])
    twelve = format_time(start.astimezone(NY), False)
    await user.open('/ada/call')
    await user.should_see(twelve, retries=40)
    user.find(marker='time', content=twelve).click()
    await fill_form(user)
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    await user.should_see(twelve)  # the confirmation keeps the invitee's clock
    with session_scope() as session:
        assert session.exec(select(Booking)).one().clock24 is False


async def test_the_hosts_chosen_clock_holds_whatever_the_browser(user: User, ada: dict) -> None:
    from services import hosts

    with session_scope(write=True) as session:
        hosts.update_profile(session=session, host_id=ada['host'].id, changes={'clock24': True})
    user.http_client.headers['accept-language'] = 'en-US'
    _, start = first_offer(ada['call'])
    await user.open('/ada/call')
    await user.should_see(label(start), retries=40)  # 24-hour


async def test_the_description_is_safe_markdown(user: User, ada: dict) -> None:
    with session_scope(write=True) as session:
        make_event_type(
            session,
            ada['host'],
            slug='md',
            title='Markdown',
            description=(
                'We talk about **compilers** and *languages*.\n\n- bring `notes`\n- read [the docs](https://example.com)'
                '\n\n[click](javascript:alert(1)) <b>raw</b>'
            ),
        )
    await user.open('/ada/md')
    await user.should_see('compilers')
    await user.should_not_see('**compilers**')
    assert [e.text for e in user.find(kind=TextElement).elements if e.tag == 'strong'] == ['compilers']
    assert [e.text for e in user.find(kind=TextElement).elements if e.tag == 'em'] == ['languages']
    link = next(iter(user.find(kind=ui.link, content='the docs').elements))
    assert link.props['href'] == 'https://example.com'
    await user.should_see('[click](javascript:alert(1)')  # other schemes stay text
    await user.should_see('<b>raw</b>')  # and so does HTML
    assert not [e for e in user.find(kind=ui.link).elements if 'javascript' in str(e.props.get('href'))]
    await user.open('/ada')
    await user.should_see('We talk about compilers and languages.')


async def test_the_event_types_confirmation_message_greets_those_who_booked(user: User, ada: dict) -> None:
    from services import event_types

    with session_scope(write=True) as session:
        event_types.update_event_type(
            session=session,
            host_id=ada['host'].id,
            event_type_id=ada['call'].id,
            changes={'confirmation_message': 'Please bring **your ID**.'},
        )
    response = await user.http_client.get('/api/v1/public/ada/event-types')
    assert 'bring' not in response.text  # not shown before booking
    await user.open('/ada/call')
    await pick_first_time(user, ada['call'])
    await fill_form(user)
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    await user.should_see('your ID')
    await user.should_not_see('**your ID**')


async def test_the_booking_page_shows_the_hosts_changes_at_once_although_it_is_cached(user: User, ada: dict) -> None:
    from services import event_types, hosts

    await user.open('/ada/call')
    await user.should_see('Intro call')
    with session_scope(write=True) as session:
        hosts.update_profile(session=session, host_id=ada['host'].id, changes={'name': 'Ada King'})
        event_types.update_event_type(
            session=session,
            host_id=ada['host'].id,
            event_type_id=ada['call'].id,
            changes={'title': 'First conversation'},
        )
    await user.open('/ada/call')
    await user.should_see('First conversation')
    await user.should_see('Ada King')
