"""The invitee's manage page: confirmation, add to calendar, cancel and reschedule, and invalid links."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from icalendar import Calendar
from nicegui.testing.user import User

from app.db import session_scope
from services import bookings
from tests.factories import at, make_event_type, make_host, next_monday

MONDAY = next_monday()


@pytest.fixture
def booked(user: User) -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        call = make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            location={'kind': 'link', 'value': 'https://meet.example.com/ada'},
        )
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(MONDAY, '10:00'),
            now=datetime.now(timezone.utc),
            invitee=bookings.Invitee('Grace <b>Hopper</b>', 'grace@example.com', 'America/New_York'),
        )
    return {'uid': receipt.booking.uid, 'token': receipt.token, 'call': call, 'host': host}


async def test_the_confirmation_shows_the_meeting_in_the_invitees_zone(user: User, booked: dict) -> None:
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}')
    await user.should_see('You are scheduled')
    local = at(MONDAY, '10:00').astimezone(__import__('zoneinfo').ZoneInfo('America/New_York'))
    await user.should_see(f'{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}', retries=5)
    await user.should_see('Intro call with Ada Lovelace')
    await user.should_see('https://meet.example.com/ada')
    for marker in ('google', 'outlook', 'ics'):
        await user.should_see(marker=marker)


async def test_a_tampered_or_missing_token_shows_only_that_the_link_is_not_valid(user: User, booked: dict) -> None:
    for query in (f'?token={booked["token"]}x', '', '?token='):
        response = await user.http_client.get(f'/booking/{booked["uid"]}{query}')
        assert response.status_code == 404
        assert 'This link is not valid' in response.text and 'Grace' not in response.text


async def test_the_ics_download_is_one_event_at_the_booked_time(user: User, booked: dict) -> None:
    response = await user.http_client.get(f'/booking/{booked["uid"]}/invite.ics?token={booked["token"]}')
    assert response.status_code == 200 and response.headers['content-type'].startswith('text/calendar')
    events = Calendar.from_ical(response.content).walk('VEVENT')
    assert len(events) == 1
    assert events[0].decoded('dtstart') == at(MONDAY, '10:00')
    assert str(events[0]['summary']) == 'Intro call with Ada Lovelace'
    wrong = await user.http_client.get(f'/booking/{booked["uid"]}/invite.ics?token=nope')
    assert wrong.status_code == 404


async def test_cancelling_asks_first_then_shows_the_cancelled_state(user: User, booked: dict) -> None:
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}')
    user.find(marker='cancel').click()
    await user.should_see('Cancel this meeting?')
    user.find(marker='cancel-reason-input').type('Something came up')
    user.find(marker='confirm-cancel').click()
    await user.should_see('This meeting was cancelled', retries=20)
    await user.should_see('Reason: Something came up')
    await user.should_see(marker='book-again')
    await user.should_not_see(marker='reschedule')
    with session_scope() as session:
        assert (
            bookings.host_booking(session=session, host_id=booked['host'].id, uid=booked['uid']).status == 'cancelled'
        )


async def test_rescheduling_picks_a_new_time_and_moves_the_booking(user: User, booked: dict) -> None:
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}')
    user.find(marker='reschedule').click()
    await user.should_see('Pick a new time')
    await user.should_see(marker='time', retries=40)
    first_time = sorted(user.find(marker='time').elements, key=lambda e: e.id)[0]
    user.find(marker='time', content=first_time.text).click()
    await user.should_see('Move your meeting?')
    user.find(marker='confirm-move').click()
    await user.should_see('Your meeting was moved.', retries=20)
    with session_scope() as session:
        moved = bookings.host_booking(session=session, host_id=booked['host'].id, uid=booked['uid'])
    assert moved.start_at != at(MONDAY, '10:00') and moved.status == 'confirmed'


async def test_guessing_manage_tokens_on_the_page_is_rate_limited(user: User, booked: dict) -> None:
    for _ in range(20):
        assert (await user.http_client.get(f'/booking/{booked["uid"]}?token=guess')).status_code == 404
    blocked = await user.http_client.get(f'/booking/{booked["uid"]}?token=guess')
    assert blocked.status_code == 429 and 'Too many attempts' in blocked.text
    invite = await user.http_client.get(f'/booking/{booked["uid"]}/invite.ics?token=guess')
    assert invite.status_code == 429


async def test_the_right_token_always_opens_the_page_however_many_wrong_ones_came_first(
    user: User, booked: dict
) -> None:
    for _ in range(25):
        await user.http_client.get(f'/booking/{booked["uid"]}?token=guess')
    opened = await user.http_client.get(f'/booking/{booked["uid"]}?token={booked["token"]}')
    assert opened.status_code == 200
    invite = await user.http_client.get(f'/booking/{booked["uid"]}/invite.ics?token={booked["token"]}')
    assert invite.status_code == 200 and b'BEGIN:VCALENDAR' in invite.content


def propose(booked: dict, clock: str, message: str = '') -> None:
    with session_scope(write=True) as session:
        booking = bookings.host_booking(session=session, host_id=booked['host'].id, uid=booked['uid'])
        bookings.propose_time(
            session=session, booking=booking, start=at(MONDAY, clock), message=message, now=datetime.now(timezone.utc)
        )


async def test_a_proposed_time_is_accepted_after_a_confirmation_and_the_meeting_moves(user: User, booked: dict) -> None:
    propose(booked, '14:00', 'Sorry, <b>a clash</b> came up')
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}')
    await user.should_see('Ada Lovelace proposes a new time')
    await user.should_see('Sorry, <b>a clash</b> came up')  # as text
    user.find(marker='accept-proposal').click()
    await user.should_see('Move your meeting to the proposed time?')
    user.find(marker='confirm-accept').click()
    await user.should_see('Your meeting was moved.')
    await user.should_not_see('proposes a new time')
    with session_scope() as session:
        moved = bookings.host_booking(session=session, host_id=booked['host'].id, uid=booked['uid'])
    assert moved.start_at == at(MONDAY, '14:00') and moved.proposed_start_at is None and moved.sequence == 1


async def test_the_decline_link_from_the_e_mail_asks_before_it_cancels(user: User, booked: dict) -> None:
    propose(booked, '15:00')
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}&action=decline')
    await user.should_see('Decline and cancel the meeting?')  # the GET itself changed nothing
    with session_scope() as session:
        assert (
            bookings.host_booking(session=session, host_id=booked['host'].id, uid=booked['uid']).status == 'confirmed'
        )
    user.find(marker='confirm-decline').click()
    await user.should_see('This meeting was cancelled')
    await user.should_see('The invitee declined the proposed new time')


async def test_rescheduling_opens_on_the_booked_date_and_tells_the_host_the_reason(user: User, booked: dict) -> None:
    from zoneinfo import ZoneInfo

    from sqlmodel import select

    from app.models import OutboxMessage

    booked_day = at(MONDAY, '10:00').astimezone(ZoneInfo('America/New_York')).date()
    await user.open(f'/booking/{booked["uid"]}?token={booked["token"]}')
    user.find(marker='reschedule').click()
    await user.should_see(marker='time', retries=40)
    await user.should_see(f'{booked_day:%A} {booked_day.day} {booked_day:%B %Y}')  # the picker opened on it
    first_time = sorted(user.find(marker='time').elements, key=lambda e: e.id)[0]
    user.find(marker='time', content=first_time.text).click()
    user.find(marker='move-reason').type('A clash with a school run')
    user.find(marker='confirm-move').click()
    await user.should_see('Your meeting was moved.', retries=20)
    with session_scope() as session:
        notice = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'host_reschedule')).one()
    assert notice.context['reason'] == 'A clash with a school run'
