"""A collective team booking's calendar event and e-mails: one event in the organiser's calendar with every member
as attendee (one Meet link), every member told, and the invitee's cancellation e-mail leading back to the team's
booking page."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import col, select

from app.config import get_settings
from app.db import session_scope
from app.models import Booking, WebhookDelivery, WebhookSubscription
from services import bookings, team_bookings, team_use_cases, teams, use_cases
from services.calendars import busy, connections
from services.teams import TeamEventTypeInput
from services.webhooks import subscriptions
from tests.factories import at, make_host, next_monday
from tests.fakes import google_calendar
from tests.services.test_calendar_events import drain
from tests.services.test_notifications import parts

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture
def panel(google: google_calendar.FakeGoogle) -> team_bookings.TeamReceipt:
    """Ada (organiser, Google connected), Bob and Cyd book a collective 'panel' with Google Meet."""
    with session_scope(write=True) as session:
        ada = make_host(session, name='Ada Lovelace')
        for name in ('bob', 'cyd'):
            make_host(session, username=name, name=f'{name.title()} Member')
        connections.add_account(
            session, provider='google', host_id=ada.id, email='ada@example.com', refresh_token='rt-1'
        )
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='Crew', members=('bob', 'cyd'))
        event_type = teams.create_team_event_type(
            session=session,
            host_id=ada.id,
            team_id=team.id,
            data=TeamEventTypeInput(
                slug='panel',
                title='Panel',
                duration_minutes=30,
                max_days_ahead=120,
                assignment='collective',
                location={'kind': 'google_meet'},
            ),
        )
    return team_use_cases.book(
        event_type_id=event_type.id,
        start=at(MONDAY, '10:00'),
        now=NOW,
        address='192.0.2.1',
        invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
    )


def test_the_organisers_event_invites_every_member_and_every_member_is_told(
    panel: team_bookings.TeamReceipt, google: google_calendar.FakeGoogle
) -> None:
    mailer = drain()
    [event] = google.events.values()
    assert event['attendees'] == [
        {'email': 'grace@example.com', 'displayName': 'Grace Hopper'},
        {'email': 'bob@example.com', 'displayName': 'Bob Member'},
        {'email': 'cyd@example.com', 'displayName': 'Cyd Member'},
    ]
    told = sorted(str(m['To']) for _, m in mailer.sent if str(m['X-CloudMeet-Kind']) == 'host_booking')
    assert told == ['Ada Lovelace <ada@example.com>', 'Bob Member <bob@example.com>', 'Cyd Member <cyd@example.com>']
    with session_scope() as session:
        booking = session.exec(select(Booking).where(Booking.uid == panel.receipt.booking.uid)).one()
    assert booking.meeting_url  # one Meet link, from the organiser's account


def test_cancelling_tells_every_member_and_offers_the_team_page_to_book_again(
    panel: team_bookings.TeamReceipt, google: google_calendar.FakeGoogle
) -> None:
    drain()
    with session_scope(write=True) as session:
        booking = session.get(Booking, panel.receipt.booking.id)
        bookings.cancel_booking(session=session, booking=booking, reason='Sorry', now=NOW)
    mailer = drain()
    assert google.events == {} or all(e.get('status') == 'cancelled' for e in google.events.values())
    told = sorted(
        str(m['To']).split('<')[1][:3] for _, m in mailer.sent if str(m['X-CloudMeet-Kind']) == 'host_cancellation'
    )
    assert told == ['ada', 'bob', 'cyd']
    [(_, letter)] = [(k, m) for k, m in mailer.sent if str(m['X-CloudMeet-Kind']) == 'cancellation']
    assert '/team/crew/panel' in str(parts(letter)['text/plain'])


def test_every_members_webhooks_hear_of_a_collective_booking_and_its_cancellation(
    google: google_calendar.FakeGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', True)
    with session_scope(write=True) as session:
        ada = make_host(session, name='Ada Lovelace')
        bob = make_host(session, username='bob', name='Bob Member')
        for host in (ada, bob):
            subscriptions.subscribe(
                session=session, host_id=host.id, url='https://127.0.0.1:9/hook', events=None, now=NOW
            )
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='Crew', members=('bob',))
        event_type = teams.create_team_event_type(
            session=session,
            host_id=ada.id,
            team_id=team.id,
            data=TeamEventTypeInput(
                slug='panel', title='Panel', duration_minutes=30, max_days_ahead=120, assignment='collective'
            ),
        )
    made = team_use_cases.book(
        event_type_id=event_type.id,
        start=at(MONDAY, '10:00'),
        now=NOW,
        address='192.0.2.1',
        invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
    )
    with session_scope(write=True) as session:
        bookings.cancel_booking(
            session=session, booking=session.get(Booking, made.receipt.booking.id), reason='', now=NOW
        )
    with session_scope() as session:
        logged = session.exec(
            select(WebhookSubscription.host_id, WebhookDelivery.event, WebhookDelivery.booking_uid)
            .join(WebhookSubscription, col(WebhookSubscription.id) == WebhookDelivery.subscription_id)
            .order_by(col(WebhookDelivery.id))
        ).all()
    uid = made.receipt.booking.uid
    assert sorted(logged) == sorted(
        [
            (ada.id, 'booking.created', uid),
            (bob.id, 'booking.created', uid),
            (ada.id, 'booking.cancelled', uid),
            (bob.id, 'booking.cancelled', uid),
        ]
    )


def test_a_round_robin_booking_re_assigned_on_reschedule_leaves_the_old_members_calendar(
    google: google_calendar.FakeGoogle,
) -> None:
    with session_scope(write=True) as session:
        ada = make_host(session, name='Ada Lovelace')
        make_host(session, username='bob', name='Bob Member')
        connections.add_account(
            session, provider='google', host_id=ada.id, email='ada@example.com', refresh_token='rt-1'
        )
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='Crew', members=('bob',))
        intro = teams.create_team_event_type(
            session=session,
            host_id=ada.id,
            team_id=team.id,
            data=TeamEventTypeInput(
                slug='intro', title='Intro', duration_minutes=30, max_days_ahead=120, assignment='round_robin'
            ),
        )
    made = team_use_cases.book(
        event_type_id=intro.id,
        start=at(MONDAY, '10:00'),
        now=NOW,
        address='192.0.2.1',
        invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'UTC'),
    )
    assert made.hosts == ['ada']
    drain()
    assert len(google.events) == 1  # in Ada's calendar
    google.busy['primary'] = [{'start': at(MONDAY, '14:00').isoformat(), 'end': at(MONDAY, '15:00').isoformat()}]
    busy.reset_cache()
    token = made.receipt.token
    use_cases.reschedule_by_token(
        uid=made.receipt.booking.uid, token=token, start=at(MONDAY, '14:00'), now=NOW, address='192.0.2.1'
    )
    drain()
    with session_scope() as session:
        moved = session.get(Booking, made.receipt.booking.id)
        assert team_bookings.team_hosts(session, moved) == ['bob']
    assert google.events == {}  # gone from Ada's calendar; Bob has no calendar connected
