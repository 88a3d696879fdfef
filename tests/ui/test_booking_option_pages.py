"""Booking options on the pages, through NiceGUI's simulated user: the invitee picks a length, sees seats left,
asks for a meeting that the host confirms from the dashboard or from the e-mailed link's page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from nicegui.testing.user import User
from sqlmodel import select

from app.db import session_scope
from app.models import Booking, BookingStatus, EventType
from services import accounts, bookings
from services.accounts import VerifiedIdentity
from tests.factories import at, make_event_type, next_monday
from tests.ui.test_booking_pages import fill_form, first_offer, label

NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture
def ada(user: User) -> dict:
    """Ada, signed in (London, weekdays 09:00-17:00), with a seated class, a request-only review and a chat of
    several lengths."""
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=NOW
        )
        made = {
            slug: make_event_type(session, host, slug=slug, title=title, **fields)
            for slug, title, fields in (
                ('class', 'Python class', {'duration_minutes': 60, 'seats': 3}),
                (
                    'review',
                    'Portfolio review',
                    {
                        'requires_confirmation': True,
                        'questions': [{'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True}],
                    },
                ),
                ('chat', 'Chat', {'duration_minutes': 30, 'duration_options': [15, 60]}),
            )
        }
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    return {'host': host, **made}


def book(event_type: EventType, clock: str, n: int = 1) -> Booking:
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session,
            event_type=event_type,
            start=at(MONDAY, clock),
            now=NOW,
            invitee=bookings.Invitee(
                f'Guest {n}', f'guest{n}@example.com', 'America/New_York', answers={'topic': 'Art'}
            ),
        ).booking


async def test_the_invitee_sees_the_seats_left_and_the_host_one_meeting_with_its_attendees(
    user: User, ada: dict
) -> None:
    _, start = first_offer(ada['class'])
    await user.open('/ada/class')
    await user.should_see('3 seats per time')
    await user.should_see(f'{label(start)} · 3 seats left', retries=40)
    book(ada['class'], '10:00', 1)
    book(ada['class'], '10:00', 2)
    await user.open('/dashboard')
    await user.should_see('2 of 3 seats taken', retries=40)
    await user.should_see('Guest 1 · guest1@example.com')
    await user.should_see('Guest 2 · guest2@example.com')
    assert len(user.find(marker='booking').elements) == 1  # one meeting, not two


async def test_choosing_a_length_changes_the_times_and_books_that_length(user: User, ada: dict) -> None:
    await user.open('/ada/chat')
    await user.should_see('15 / 30 / 60 min')
    _, start = first_offer(ada['chat'])
    await user.should_see(label(start), retries=40)
    user.find(marker='durations').elements.pop().value = 60
    await user.should_see(label(start), retries=40)
    user.find(marker='time', content=label(start)).click()
    await user.should_see('Enter your details')
    user.find(marker='name').type('Grace Hopper')
    user.find(marker='email').type('grace@example.com')
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    with session_scope() as session:
        booking = session.exec(select(Booking)).one()
    assert booking.end_at - booking.start_at == timedelta(minutes=60)


async def test_a_request_awaits_the_host_who_confirms_it_from_the_dashboard(user: User, ada: dict) -> None:
    _, start = first_offer(ada['review'])
    await user.open('/ada/review')
    await user.should_see('Ada Lovelace confirms each request')
    await user.should_see(label(start), retries=40)
    user.find(marker='time', content=label(start)).click()
    await user.should_see('Enter your details')
    await fill_form(user)
    user.find(marker='confirm').click()
    await user.should_see('Awaiting confirmation', retries=40)
    await user.should_see('The time is held for you meanwhile', retries=5)
    await user.open('/dashboard')
    await user.should_see('Awaiting your confirmation', retries=40)
    user.find(marker='confirm-request').click()
    await user.should_see('Confirm the meeting with Grace Hopper?')
    user.find(marker='decide').click()
    await user.should_see('Meeting confirmed', retries=40)
    with session_scope() as session:
        assert session.exec(select(Booking)).one().status == BookingStatus.CONFIRMED


async def test_the_emailed_decline_link_asks_first_and_then_declines(user: User, ada: dict) -> None:
    request = book(ada['review'], '11:00')
    await user.open(f'/dashboard/requests/{request.uid}?action=decline')
    await user.should_see('Decline the request from Guest 1?', retries=40)
    with session_scope() as session:  # opening the link changed nothing
        assert session.get(Booking, request.id).status == BookingStatus.PENDING
    user.find(marker='decline-message').type('Fully booked')
    user.find(marker='decide').click()
    await user.should_see('Request declined', retries=40)
    await user.should_see('This request is already declined', retries=40)
    with session_scope() as session:
        stored = session.get(Booking, request.id)
    assert stored.status == BookingStatus.DECLINED and stored.cancel_reason == 'Fully booked'


async def test_the_editor_sets_seats_confirmation_lengths_and_limits(user: User, ada: dict) -> None:
    await user.open('/event-types/new')
    user.find(marker='title').type('Workshop')
    user.find(marker='duration-options').type('60, 90')
    user.find(marker='seats').elements.pop().value = 12
    user.find(marker='requires-confirmation').elements.pop().value = True
    user.find(marker='weekly-limit').elements.pop().value = 3
    user.find(marker='monthly-limit').elements.pop().value = 2  # less than the weekly one: refused with a reason
    user.find(marker='save').click()
    await user.should_see('The daily limit cannot exceed the weekly one', retries=40)
    user.find(marker='monthly-limit').elements.pop().value = 10
    user.find(marker='save').click()
    await user.should_see('Event type created', retries=40)
    with session_scope() as session:
        made = session.exec(select(EventType).where(EventType.slug == 'workshop')).one()
    assert (made.seats, made.requires_confirmation, made.duration_options, made.weekly_limit, made.monthly_limit) == (
        12,
        True,
        [30, 60, 90],
        3,
        10,
    )
