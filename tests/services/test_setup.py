"""Hosts, schedules, event types and the schema itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlmodel import SQLModel

from app.db import session_scope
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services import event_types, hosts, schedules
from services.schedules import ScheduleInput
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')


# SQLite cannot add a table constraint to an existing table, so migration 0015 adds these references as named column
# constraints (`parent_id INTEGER CONSTRAINT fk_... REFERENCES booking (id) ON DELETE CASCADE`), which SQLAlchemy's
# SQLite reflection reads without their name and action; they are checked in the table's own DDL instead.
SQLITE_INLINE_REFERENCES = {
    ('booking', 'parent_id'): 'fk_booking_parent_id_booking REFERENCES booking (id) ON DELETE CASCADE',
    ('event_type', 'team_id'): 'fk_event_type_team_id_team REFERENCES team (id) ON DELETE CASCADE',
}


def test_the_migrated_schema_matches_the_models(database: sa.Engine) -> None:
    with database.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        if database.dialect.name == 'sqlite':
            for (table, column), reference in SQLITE_INLINE_REFERENCES.items():
                ddl = conn.exec_driver_sql('SELECT sql FROM sqlite_master WHERE name = ?', (table,)).scalar()
                assert f'{column} INTEGER CONSTRAINT {reference}' in ddl
            differences = [
                d
                for d in differences
                if not (
                    isinstance(d, tuple)
                    and d[0] in ('remove_fk', 'add_fk')
                    and tuple((c.table.name, c.name) for c in d[1].columns) in {(k,) for k in SQLITE_INLINE_REFERENCES}
                )
            ]
    assert differences == []


def test_a_new_host_gets_a_default_weekday_schedule_in_their_zone() -> None:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Asia/Kolkata')
        found = schedules.list_schedules(session=session, host_id=host.id)
    assert len(found) == 1 and found[0].is_default and found[0].timezone == 'Asia/Kolkata'
    assert found[0].weekly == {
        day: [{'start': '09:00', 'end': '17:00'}] for day in ('monday', 'tuesday', 'wednesday', 'thursday', 'friday')
    }


@pytest.mark.parametrize(
    ('kwargs', 'error'),
    [
        ({'username': 'ada', 'email': 'other@example.com'}, Conflict),
        ({'username': 'other', 'email': 'ada@example.com'}, Conflict),
        ({'username': 'dashboard', 'email': 'x@example.com'}, InvalidInput),
        ({'username': 'Bad Name!', 'email': 'x@example.com'}, InvalidInput),
        ({'username': 'zed', 'email': 'x@example.com', 'timezone': 'Nowhere/City'}, InvalidInput),
    ],
)
def test_duplicate_reserved_or_malformed_hosts_are_refused(kwargs: dict, error: type[Exception]) -> None:
    with session_scope(write=True) as session:
        make_host(session)
    with pytest.raises(error), session_scope(write=True) as session:
        hosts.create_host(session=session, name='X', **{'timezone': 'UTC', **kwargs})


def test_an_api_key_is_shown_once_stored_hashed_and_identifies_its_host() -> None:
    with session_scope(write=True) as session:
        host = make_host(session)
        secret = hosts.create_api_key(session=session, host_id=host.id, label='ci')
    with session_scope() as session:
        assert hosts.host_for_api_key(session=session, secret=secret).id == host.id
        stored = session.exec(sa.text('SELECT key_hash FROM api_key')).scalar_one()
        assert secret not in stored
        with pytest.raises(NotAllowed):
            hosts.host_for_api_key(session=session, secret=secret + 'x')


def test_a_new_default_schedule_replaces_the_old_default_which_may_then_be_deleted() -> None:
    with session_scope(write=True) as session:
        host = make_host(session)
        old = schedules.default_schedule(session=session, host_id=host.id)
        new = schedules.create_schedule(
            session=session,
            host_id=host.id,
            data=ScheduleInput(
                name='Evenings',
                timezone='Europe/Paris',
                is_default=True,
                weekly={'monday': [{'start': '18:00', 'end': '24:00'}]},
                overrides=[{'date': date(2026, 12, 24), 'intervals': []}],
            ),
        )
    with session_scope(write=True) as session:
        assert schedules.default_schedule(session=session, host_id=host.id).id == new.id
        with pytest.raises(Conflict):
            schedules.delete_schedule(session=session, host_id=host.id, schedule_id=new.id)
        schedules.delete_schedule(session=session, host_id=host.id, schedule_id=old.id)
    with session_scope() as session:
        assert [s.id for s in schedules.list_schedules(session=session, host_id=host.id)] == [new.id]


@pytest.mark.parametrize(
    ('weekly', 'reason'),
    [
        ({'monday': [{'start': '09:00', 'end': '12:00'}, {'start': '11:00', 'end': '13:00'}]}, 'overlaps'),
        ({'monday': [{'start': '12:00', 'end': '09:00'}]}, 'after start'),
        ({'monday': [{'start': '9am', 'end': '12:00'}]}, 'HH:MM'),
        ({'funday': [{'start': '09:00', 'end': '12:00'}]}, 'unknown weekday'),
    ],
)
def test_invalid_weekly_hours_are_refused_with_the_reason(weekly: dict, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        ScheduleInput(timezone='UTC', weekly=weekly)


def test_a_host_cannot_reach_another_hosts_schedule_or_event_type() -> None:
    with session_scope(write=True) as session:
        ada, bob = make_host(session), make_host(session, username='bob')
        bobs_type = make_event_type(session, bob)
        bobs_schedule = schedules.default_schedule(session=session, host_id=bob.id)
    with session_scope(write=True) as session:
        with pytest.raises(NotFound):
            schedules.get_schedule(session=session, host_id=ada.id, schedule_id=bobs_schedule.id)
        with pytest.raises(NotFound):
            event_types.update_event_type(
                session=session, host_id=ada.id, event_type_id=bobs_type.id, changes={'title': 'Mine now'}
            )
        with pytest.raises(NotFound):
            make_event_type(session, ada, slug='steal', schedule_id=bobs_schedule.id)


def test_duplicate_slugs_are_a_conflict_and_slugs_come_from_titles() -> None:
    with session_scope(write=True) as session:
        host = make_host(session)
        first = make_event_type(session, host, title='Quick Chat!')
        assert first.slug == 'quick-chat'
    with pytest.raises(Conflict), session_scope(write=True) as session:
        make_event_type(session, host, title='Quick chat')


def test_minimum_notice_longer_than_the_booking_window_is_refused() -> None:
    with pytest.raises(ValidationError, match='minimum notice'):
        event_types.EventTypeInput(title='x', min_notice_minutes=3 * 24 * 60, max_days_ahead=1)


def test_deleting_an_event_type_keeps_its_bookings() -> None:
    from services import bookings
    from tests.factories import at, next_monday

    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(session, host)
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00'),
            invitee=bookings.Invitee('Ada', 'ada@example.com', 'UTC'),
            now=at(next_monday(), '00:00'),
        )
    with session_scope(write=True) as session:
        event_types.delete_event_type(session=session, host_id=host.id, event_type_id=call.id)
    with session_scope() as session:
        kept = bookings.host_booking(session=session, host_id=host.id, uid=receipt.booking.uid)
        assert kept.event_type_id is None and kept.status == 'confirmed'


def test_duplicating_an_event_type_with_a_long_slug_makes_a_free_slug_every_time() -> None:
    from services import event_types

    with session_scope(write=True) as session:
        host = make_host(session)
        original = make_event_type(session, host, slug='x' * 58)
        slugs = {
            event_types.duplicate_event_type(session=session, host_id=host.id, event_type_id=original.id).slug
            for _ in range(3)
        }
    assert len(slugs) == 3 and all(len(s) <= 60 for s in slugs)


def test_searching_bookings_treats_wildcards_as_text() -> None:
    from datetime import datetime, timezone

    from services import bookings

    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(session, host, slug='call')
    now = datetime.now(timezone.utc)
    for clock, email in (('09:00', 'john_doe@example.com'), ('09:30', 'johnxdoe@example.com')):
        with session_scope(write=True) as session:
            bookings.book_slot(
                session=session,
                event_type=call,
                start=at(next_monday(), clock),
                now=now,
                invitee=bookings.Invitee('J', email, 'UTC'),
            )
    with session_scope() as session:
        found = bookings.list_bookings(session=session, host_id=host.id, status='upcoming', now=now, search='john_d')
    assert [b.invitee_email for b in found] == ['john_doe@example.com']
