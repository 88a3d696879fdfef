"""Team scheduling through the services on SQLite and PostgreSQL: round-robin fairness and its tie-breaks,
re-assignment on reschedule, collective holds kept in step, members' notices, and members whose calendars cannot
be checked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from app import crypto
from app.db import session_scope
from app.errors import SlotUnavailable, Unavailable
from app.models import Booking, CalendarConnection, OutboxMessage
from services import accounts, availability, bookings, team_bookings, team_slots, teams
from services.bookings import Invitee
from services.calendars import busy
from services.teams import TeamEventTypeInput
from tests.factories import at, make_event_type, make_host, next_monday

MONDAY = next_monday()
NOW = datetime.now(timezone.utc)


@pytest.fixture
def crew(database: sa.Engine) -> dict:
    """Ada (admin), Bob and Cyd, weekdays 09:00-17:00 London, with round robin 'intro' and collective 'panel'."""
    with session_scope(write=True) as session:
        people = {name: make_host(session, username=name) for name in ('ada', 'bob', 'cyd')}
        team = teams.create_team(
            session=session, host_id=people['ada'].id, slug='crew', name='Crew', members=('bob', 'cyd')
        )
        made = {
            slug: teams.create_team_event_type(
                session=session,
                host_id=people['ada'].id,
                team_id=team.id,
                data=TeamEventTypeInput(
                    slug=slug, title=slug.title(), duration_minutes=30, max_days_ahead=120, assignment=assignment
                ),
            ).id
            for slug, assignment in (('intro', 'round_robin'), ('panel', 'collective'))
        }
    busy.reset_cache()
    return {'ids': {name: host.id for name, host in people.items()}, 'types': made}


def book(crew: dict, slug: str, clock: str, *, now: datetime = NOW, who: str = 'guest') -> team_bookings.TeamReceipt:
    with session_scope(write=True) as session:
        event_type = session.get(teams.EventType, crew['types'][slug])
        return team_bookings.book(
            session=session,
            event_type=event_type,
            start=at(MONDAY, clock),
            now=now,
            invitee=Invitee(who.title(), f'{who}@example.com', 'Europe/London'),
        )


def test_round_robin_goes_to_the_fewest_bookings_then_the_least_recently_booked_then_the_username(crew: dict) -> None:
    order = [
        book(crew, 'intro', clock, now=NOW + timedelta(minutes=n)).hosts
        for n, clock in enumerate(('09:00', '10:00', '11:00', '12:00', '13:00'))
    ]
    # all even and never booked: by username; then the fewest; then the least recently booked (ada, then bob)
    assert order == [['ada'], ['bob'], ['cyd'], ['ada'], ['bob']]
    with session_scope() as session:
        reasons = [b.assignment_reason for b in session.exec(select(Booking).order_by(col(Booking.start_at)))]
    assert reasons[0].endswith('tied on 0 bookings and last booking; first by username')
    assert reasons[1].endswith('tied on 0 bookings and last booking; first by username')
    assert reasons[2] == 'Round robin: 3 of 3 members were free; fewest bookings of this event type (0, next 1)'
    assert reasons[3].endswith('tied on 1 booking; least recently booked')


def test_round_robin_counts_only_confirmed_bookings_of_that_event_type(crew: dict) -> None:
    first = book(crew, 'intro', '09:00')
    assert first.hosts == ['ada']
    with session_scope(write=True) as session:
        booking = session.get(Booking, first.receipt.booking.id)
        bookings.cancel_booking(session=session, booking=booking, reason='', now=NOW)
    book(crew, 'panel', '10:00')  # a collective booking of another event type counts for nobody here
    assert book(crew, 'intro', '11:00').hosts == ['ada']


def test_round_robin_skips_members_who_are_not_free(crew: dict) -> None:
    with session_scope(write=True) as session:
        own = make_event_type(session, session.get(teams.Host, crew['ids']['ada']), slug='call')
        bookings.book_slot(
            session=session,
            event_type=own,
            start=at(MONDAY, '09:00'),
            now=NOW,
            invitee=Invitee('Solo', 'solo@example.com', 'UTC'),
        )
    made = book(crew, 'intro', '09:00')
    assert made.hosts == ['bob'] and made.receipt.booking.assignment_reason.startswith('Round robin: 2 of 3')


def test_a_reschedule_keeps_the_member_when_free_and_re_assigns_when_not(crew: dict) -> None:
    made = book(crew, 'intro', '09:00')
    assert made.hosts == ['ada']
    move(made, '09:30')
    assert host_of(made) == 'ada'
    with session_scope(write=True) as session:  # Ada's own meeting at 14:00
        own = make_event_type(session, session.get(teams.Host, crew['ids']['ada']), slug='call')
        bookings.book_slot(
            session=session,
            event_type=own,
            start=at(MONDAY, '14:00'),
            now=NOW,
            invitee=Invitee('Solo', 'solo@example.com', 'UTC'),
        )
    move(made, '14:00')
    assert host_of(made) == 'bob'
    with session_scope() as session:
        booking = session.get(Booking, made.receipt.booking.id)
        told = session.exec(
            select(OutboxMessage.host_id, OutboxMessage.kind).where(
                OutboxMessage.booking_id == booking.id, OutboxMessage.kind == 'host_cancellation'
            )
        ).all()
    assert booking.assignment_reason.startswith('Re-assigned on reschedule (ada was not free)')
    assert told == [(crew['ids']['ada'], 'host_cancellation')]


def test_a_collective_booking_holds_every_member_and_its_changes_follow(crew: dict) -> None:
    made = book(crew, 'panel', '09:00')
    assert made.hosts == ['ada', 'bob', 'cyd']
    assert holders('09:00') == ['ada', 'bob', 'cyd']
    with session_scope() as session:
        notices = session.exec(select(OutboxMessage.host_id).where(OutboxMessage.kind == 'host_booking')).all()
    assert sorted(notices) == sorted(crew['ids'].values())  # every member is told
    move(made, '15:00')
    assert holders('09:00') == [] and holders('15:00') == ['ada', 'bob', 'cyd']
    with session_scope(write=True) as session:
        booking = session.get(Booking, made.receipt.booking.id)
        bookings.cancel_booking(session=session, booking=booking, reason='', now=NOW)
    assert holders('15:00') == []


def test_a_collective_reschedule_needs_every_member_free(crew: dict) -> None:
    made = book(crew, 'panel', '09:00')
    book(crew, 'intro', '11:00')  # goes to Ada
    with pytest.raises(SlotUnavailable):
        move(made, '11:00')
    assert holders('09:00') == ['ada', 'bob', 'cyd']


def test_a_member_whose_calendar_cannot_be_checked_is_never_offered_as_free(crew: dict) -> None:
    with session_scope(write=True) as session:
        session.add(
            CalendarConnection(
                host_id=crew['ids']['cyd'],
                provider='ics',
                label='Gone',
                secret_encrypted=crypto.encrypt('https://calendar.invalid/feed.ics'),
            )
        )
    busy.reset_cache()
    with session_scope() as session:
        for slug in ('intro', 'panel'):
            found = team_slots.offer(
                session=session,
                event_type=session.get(teams.EventType, crew['types'][slug]),
                start=at(MONDAY, '00:00'),
                end=at(MONDAY, '23:00'),
                now=NOW,
            )
            assert found.problem
            assert (slug, len(found.slots)) == (slug, 16 if slug == 'intro' else 0)
    assert book(crew, 'intro', '09:00').hosts == ['ada']
    assert book(crew, 'intro', '09:00').hosts == ['bob']
    with pytest.raises(Unavailable):  # only Cyd is left, and her calendar cannot be checked: a clear 503
        book(crew, 'intro', '09:00')


def test_the_team_offer_is_the_union_or_intersection_of_each_members_engine_offer(crew: dict) -> None:
    with session_scope(write=True) as session:
        cyd = session.get(teams.Host, crew['ids']['cyd'])
        own = make_event_type(session, cyd, slug='call')
        for clock in ('09:00', '12:30'):
            bookings.book_slot(
                session=session,
                event_type=own,
                start=at(MONDAY, clock),
                now=NOW,
                invitee=Invitee('Solo', 'solo@example.com', 'UTC'),
            )
    lo, hi = at(MONDAY, '00:00'), at(MONDAY, '23:59')
    with session_scope() as session:
        per_member = [
            set(
                s.start
                for s in team_slots.offer(
                    session=session,
                    event_type=session.get(teams.EventType, crew['types']['intro']),
                    start=lo,
                    end=hi,
                    now=NOW,
                ).slots
            )
        ]
        panel = {
            s.start
            for s in team_slots.offer(
                session=session,
                event_type=session.get(teams.EventType, crew['types']['panel']),
                start=lo,
                end=hi,
                now=NOW,
            ).slots
        }
    assert at(MONDAY, '09:00') in per_member[0] and at(MONDAY, '09:00') not in panel
    assert at(MONDAY, '12:30') not in panel and at(MONDAY, '13:00') in panel and len(panel) == 14


def move(made: team_bookings.TeamReceipt, clock: str) -> None:
    with session_scope(write=True) as session:
        booking = session.get(Booking, made.receipt.booking.id)
        bookings.reschedule_booking(session=session, booking=booking, start=at(MONDAY, clock), now=NOW)


def host_of(made: team_bookings.TeamReceipt) -> str:
    with session_scope() as session:
        booking = session.get(Booking, made.receipt.booking.id)
        return team_bookings.team_hosts(session, booking)[0]


def holders(clock: str) -> list[str]:
    start = at(MONDAY, clock)
    with session_scope() as session:
        rows = session.exec(
            select(teams.Host.username)
            .join(Booking, col(Booking.host_id) == teams.Host.id)
            .where(col(Booking.status).in_(('confirmed', 'pending')), Booking.start_at == start)
        ).all()
    return sorted(rows)


def test_an_owner_who_deletes_their_account_leaves_the_team_and_its_event_types_to_the_others(crew: dict) -> None:
    with session_scope(write=True) as session:
        accounts.delete_account(session, host_id=crew['ids']['ada'])
    with session_scope() as session:
        team = teams.team_by_slug(session=session, slug='crew')
        assert [(m.username, m.role) for m in teams.members(session=session, team_id=team.id)] == [
            ('bob', 'admin'),
            ('cyd', 'member'),
        ]
        assert [teams.public_slug(e) for e in teams.list_team_event_types(session=session, team_id=team.id)] == [
            'intro',
            'panel',
        ]
    assert book(crew, 'intro', '09:00').hosts == ['bob']


def test_a_proposed_new_time_for_a_collective_booking_moves_every_hold_once_accepted(crew: dict) -> None:
    made = book(crew, 'panel', '09:00')
    with session_scope() as session:  # the manage page's picker: the team's times, the booking's own not blocking
        event_type = session.get(teams.EventType, crew['types']['panel'])
        days, _ = availability.month_offer(
            session=session,
            event_type=event_type,
            first=MONDAY,
            last=MONDAY,
            zone='Europe/London',
            now=NOW,
            exclude_uid=made.receipt.booking.uid,
        )
    assert at(MONDAY, '09:00') in [s.start for s in days[MONDAY]]
    with session_scope(write=True) as session:
        booking = session.get(Booking, made.receipt.booking.id)
        bookings.propose_time(session=session, booking=booking, start=at(MONDAY, '16:00'), message='Later?', now=NOW)
    with session_scope(write=True) as session:
        booking = session.get(Booking, made.receipt.booking.id)
        bookings.accept_proposal(session=session, booking=booking, now=NOW)
    assert holders('09:00') == [] and holders('16:00') == ['ada', 'bob', 'cyd']
