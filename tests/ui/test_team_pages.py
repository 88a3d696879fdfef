"""Team pages through NiceGUI's simulated user: the team profile, the team booking page (the host booking flow
over the team's merged free times), and the Teams page of the dashboard."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from nicegui.testing.user import User
from sqlmodel import col, select

from app.db import session_scope
from app.models import Booking, EventType
from services import team_slots, teams
from services.teams import TeamEventTypeInput
from tests.factories import make_host
from tests.ui.conftest import BROWSER_ZONE
from tests.ui.test_booking_pages import label


@pytest.fixture
def crew(user: User) -> dict:
    """Ada (admin) and Bob in team 'crew', with round robin 'intro' and a hidden collective 'panel'."""
    with session_scope(write=True) as session:
        ada = make_host(session, name='Ada Lovelace')
        make_host(session, username='bob', name='Bob Babbage')
        team = teams.create_team(session=session, host_id=ada.id, slug='crew', name='The Crew', members=('bob',))
        intro = teams.create_team_event_type(session=session, host_id=ada.id, team_id=team.id, data=TeamEventTypeInput(
            slug='intro', title='Crew intro', duration_minutes=30, assignment='round_robin'))
        teams.create_team_event_type(session=session, host_id=ada.id, team_id=team.id, data=TeamEventTypeInput(
            slug='panel', title='Panel talk', duration_minutes=60, assignment='collective', hidden=True))
    return {'ada': ada, 'team': team, 'intro': intro}


def first_team_offer(event_type: EventType) -> tuple[date, datetime]:
    today = datetime.now(timezone.utc).astimezone().date()
    with session_scope() as session:
        found = session.get(EventType, event_type.id)
        assert found is not None
        days, _ = team_slots.month(session=session, event_type=found, first=today.replace(day=1),
                                   last=today.replace(day=28) + timedelta(days=4), zone=BROWSER_ZONE,
                                   now=datetime.now(timezone.utc))
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
