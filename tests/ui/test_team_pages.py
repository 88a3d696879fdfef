"""Team pages through NiceGUI's simulated user: the team profile, the team booking page (the host booking flow
over the team's merged free times), and the Teams page of the dashboard."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from nicegui.testing.user import User
from sqlmodel import col, select

from app.db import session_scope
from app.models import Booking, EventType
from services import accounts, team_bookings, team_slots, teams
from services.accounts import VerifiedIdentity
from services.bookings import Invitee
from services.teams import TeamEventTypeInput
from tests.factories import at, make_host, next_monday
from tests.ui.conftest import BROWSER_ZONE
from tests.ui.test_booking_pages import label


@pytest.fixture
def crew(user: User) -> dict:
    """Ada (admin) and Bob in team 'crew', with round robin 'intro' and a hidden collective 'panel'."""
    with session_scope(write=True) as session:
        ada = make_host(session, name='Ada Lovelace')
        make_host(session, username='bob', name='Bob Babbage')
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='The Crew', members=('bob',))
        intro = teams.create_team_event_type(
            session=session,
            host_id=ada.id,
            team_id=team.id,
            data=TeamEventTypeInput(slug='intro', title='Crew intro', duration_minutes=30, assignment='round_robin'),
        )
        teams.create_team_event_type(
            session=session,
            host_id=ada.id,
            team_id=team.id,
            data=TeamEventTypeInput(
                slug='panel', title='Panel talk', duration_minutes=60, assignment='collective', hidden=True
            ),
        )
    return {'ada': ada, 'team': team, 'intro': intro}


def first_team_offer(event_type: EventType) -> tuple[date, datetime]:
    today = datetime.now(timezone.utc).astimezone().date()
    with session_scope() as session:
        found = session.get(EventType, event_type.id)
        assert found is not None
        days, _ = team_slots.month(
            session=session,
            event_type=found,
            first=today.replace(day=1),
            last=today.replace(day=28) + timedelta(days=4),
            zone=BROWSER_ZONE,
            now=datetime.now(timezone.utc),
        )
    month_days = sorted(d for d in days if d.month == today.month)
    assert month_days, 'the test needs free times this month'
    return month_days[0], days[month_days[0]][0].start


async def test_the_team_page_lists_its_listed_event_types(user: User, crew: dict) -> None:
    await user.open('/team/crew')
    await user.should_see('The Crew')
    await user.should_see('Ada Lovelace, Bob Babbage')
    await user.should_see('Crew intro')
    await user.should_not_see('Panel talk')
    response = await user.http_client.get('/team/nobody')
    assert response.status_code == 404


async def test_an_invitee_books_a_team_time_which_goes_to_a_free_member(user: User, crew: dict) -> None:
    await user.open('/team/crew/intro')
    await user.should_see('Crew intro')
    await user.should_see('The Crew')
    _, start = first_team_offer(crew['intro'])
    await user.should_see(label(start), retries=40)
    user.find(marker='time', content=label(start)).click()
    await user.should_see('Enter your details')
    user.find(marker='name').type('Grace Hopper')
    user.find(marker='email').type('grace@example.com')
    user.find(marker='confirm').click()
    await user.should_see('You are scheduled', retries=40)
    with session_scope() as session:
        booking = session.exec(select(Booking).where(col(Booking.parent_id).is_(None))).one()
    assert booking.start_at == start and booking.assignment_reason.startswith('Round robin: 2 of 2 members were free')


@pytest.fixture
def signed_in_ada(user: User) -> dict:
    """Ada, signed in (London), and Bob, an account she can invite."""
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    now = datetime.now(timezone.utc)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=now)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=now
        )
        make_host(session, username='bob', name='Bob Babbage')
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    return {'host': host}


async def test_the_teams_page_creates_a_team_invites_a_member_and_makes_a_team_event_type(
    user: User, signed_in_ada: dict
) -> None:
    await user.open('/teams')
    await user.should_see('You are in no team yet.')
    user.find(marker='team-name').type('Support')
    user.find(marker='team-slug').type('Not a slug!')
    user.find(marker='create-team').click()
    await user.should_see('Lowercase letters, digits and hyphens (at most 40)')
    user.find(marker='team-slug').clear().type('support')
    user.find(marker='create-team').click()
    await user.should_see('/team/support')
    user.find(marker='invite').type('bob@example.com')
    user.find(marker='add-member').click()
    await user.should_see('Bob Babbage (@bob)')
    user.find(marker='type-title').type('Support call')
    user.find(marker='create-type').click()
    await user.should_see('Support call · 30 min')
    await user.should_see('Round robin: one free member · ada, bob')
    with session_scope() as session:
        team = teams.team_by_slug(session=session, slug='support')
        assert [(m.username, m.role) for m in teams.members(session=session, team_id=team.id)] == [
            ('ada', 'admin'),
            ('bob', 'member'),
        ]


async def test_the_dashboard_shows_team_bookings_with_the_member_and_the_reason(
    user: User, signed_in_ada: dict
) -> None:
    with session_scope(write=True) as session:
        team = teams.create_team(
            session=session, host_id=signed_in_ada['host'].id, slug='crew', name='Crew', members=('bob',)
        )
        intro = teams.create_team_event_type(
            session=session,
            host_id=signed_in_ada['host'].id,
            team_id=team.id,
            data=TeamEventTypeInput(
                slug='intro', title='Crew intro', duration_minutes=30, max_days_ahead=120, assignment='collective'
            ),
        )
        team_bookings.book(
            session=session,
            event_type=intro,
            start=at(next_monday(), '10:00'),
            now=datetime.now(timezone.utc),
            invitee=Invitee('Grace', 'grace@example.com', 'UTC'),
        )
    await user.open('/dashboard')
    await user.should_see('Team bookings')
    await user.should_see('With: ada, bob')
    await user.should_see('Collective: every member (2) was free and is booked')
