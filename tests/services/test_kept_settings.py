"""A booking's write keeps its host's settings between bookings and proves them current with the host's settings
version, which the database itself counts: a change made anywhere (another process, the CLI, SQL by hand, with no
notice to this process) reaches the very next booking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.config import get_settings
from app.db import session_scope
from app.errors import NotFound, SlotUnavailable
from app.models import Booking, OutboxMessage, WebhookDelivery
from services import bookings, event_types, hosts, schedules, use_cases
from services.calendars import connections
from services.notifications import preferences
from services.webhooks import subscriptions
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')

NOW = datetime.now(timezone.utc)
MONDAY = next_monday()
GRACE = bookings.Invitee(name='Grace Hopper', email='grace@example.com', timezone='Europe/Berlin')


@pytest.fixture
def setup() -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, timezone_name='Europe/Berlin')
        call = make_event_type(session, host, slug='call')
    return {'host_id': host.id, 'call_id': call.id}


def book(setup: dict, clock: str) -> bookings.Receipt:
    return use_cases.book(
        event_type_id=setup['call_id'],
        host_id=setup['host_id'],
        slug='call',
        start=at(MONDAY, clock, 'Europe/Berlin'),
        invitee=GRACE,
        now=NOW,
        address='192.0.2.1',
    )


def version(host_id: int) -> int:
    with session_scope() as session:
        return int(
            session.execute(
                sa.text('SELECT version FROM settings_version WHERE host_id = :id'), {'id': host_id}
            ).scalar_one_or_none()
            or 0
        )


def elsewhere(statement: str, **params: object) -> None:
    """A change made with no word to this process (as another process, or a fix by hand, would make it)."""
    with session_scope(write=True) as session:
        session.execute(sa.text(statement), params)


def test_the_database_counts_every_change_of_a_hosts_settings_and_no_booking(
    setup: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', True)
    host_id, call_id = setup['host_id'], setup['call_id']

    def notifications(session: Session) -> None:
        host = hosts.get_host(session=session, host_id=host_id)
        preferences.update_preferences(host, kinds={'confirmation': {'enabled': False}}, reminder_offsets_minutes=[60])
        session.add(host)

    def schedule(session: Session) -> None:
        found = schedules.default_schedule(session=session, host_id=host_id)
        data = schedules.default_schedule_input('Europe/Paris')
        schedules.update_schedule(session=session, host_id=host_id, schedule_id=found.id or 0, data=data)

    def remove_feed(session: Session) -> None:
        [found] = connections.list_connections(session, host_id=host_id)
        connections.remove(session, host_id=host_id, connection_id=found.id or 0, revoke=lambda _: None)

    def delete_other(session: Session) -> None:
        [other] = [e for e in event_types.list_event_types(session=session, host_id=host_id) if e.slug == 'other']
        event_types.delete_event_type(session=session, host_id=host_id, event_type_id=other.id or 0)

    def remove_webhook(session: Session) -> None:
        [found] = subscriptions.list_subscriptions(session=session, host_id=host_id)
        subscriptions.delete_subscription(session=session, host_id=host_id, subscription_id=found.id or 0)

    changes: dict[str, Callable[[Session], object]] = {
        'event type edited': lambda s: event_types.update_event_type(
            session=s, host_id=host_id, event_type_id=call_id, changes={'title': 'Chat'}
        ),
        'event type added': lambda s: make_event_type(s, hosts.get_host(session=s, host_id=host_id), slug='other'),
        'event type deleted': delete_other,
        'profile edited': lambda s: hosts.update_profile(session=s, host_id=host_id, changes={'name': 'Ada L.'}),
        'e-mails and reminders edited': notifications,
        'schedule edited': schedule,
        'calendar connected': lambda s: connections.add_feed(s, host_id=host_id, url='http://127.0.0.1:9/x.ics'),
        'calendar removed': remove_feed,
        'webhook added': lambda s: subscriptions.subscribe(
            session=s, host_id=host_id, url='http://127.0.0.1:9/hook', events=None, now=NOW
        ),
        'webhook removed': remove_webhook,
    }
    before = version(host_id)
    book(setup, '09:00')
    assert version(host_id) == before  # bookings are not settings
    for name, change in changes.items():
        before = version(host_id)
        with session_scope(write=True) as session:
            change(session)
        assert version(host_id) > before, name
    before = version(host_id)
    book(setup, '10:00')
    assert version(host_id) == before


def outbox_kinds(uid: str) -> list[str]:
    with session_scope() as session:
        booking_id = session.exec(select(Booking.id).where(Booking.uid == uid)).one()
        return sorted(session.exec(select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking_id)).all())


def test_an_event_type_switched_off_elsewhere_is_not_booked(setup: dict) -> None:
    book(setup, '09:00')  # the host's settings are kept now
    elsewhere('UPDATE event_type SET active = false WHERE id = :id', id=setup['call_id'])
    with pytest.raises(NotFound):
        book(setup, '10:00')


def test_a_schedule_emptied_elsewhere_offers_nothing_to_the_next_booking(setup: dict) -> None:
    book(setup, '09:00')
    elsewhere("UPDATE schedule SET weekly = '{}' WHERE host_id = :id", id=setup['host_id'])
    with pytest.raises(SlotUnavailable):
        book(setup, '10:00')


def test_a_length_changed_elsewhere_is_the_next_bookings_length(setup: dict) -> None:
    first = book(setup, '09:00')
    assert first.booking.end_at - first.booking.start_at == timedelta(minutes=30)
    elsewhere('UPDATE event_type SET duration_minutes = 60 WHERE id = :id', id=setup['call_id'])
    second = book(setup, '10:00')
    assert second.booking.end_at - second.booking.start_at == timedelta(minutes=60)


def test_an_e_mail_switched_off_elsewhere_is_not_queued_for_the_next_booking(setup: dict) -> None:
    first = book(setup, '09:00')
    assert 'confirmation' in outbox_kinds(first.booking.uid)
    elsewhere(
        'UPDATE host SET notification_settings = :settings WHERE id = :id',
        settings='{"confirmation": {"enabled": false, "subject": "", "message": ""}}',
        id=setup['host_id'],
    )
    second = book(setup, '10:00')
    assert 'confirmation' not in outbox_kinds(second.booking.uid)
    assert 'host_booking' in outbox_kinds(second.booking.uid)


def test_a_webhook_added_elsewhere_hears_of_the_next_booking(setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), 'allow_private_webhook_urls', True)
    book(setup, '09:00')  # kept: the host has no webhook
    with session_scope(write=True) as session:  # another process's service (it tells this one nothing)
        subscriptions.subscribe(
            session=session, host_id=setup['host_id'], url='http://127.0.0.1:9/hook', events=None, now=NOW
        )
    second = book(setup, '10:00')
    with session_scope() as session:
        heard = session.exec(select(WebhookDelivery.booking_uid, WebhookDelivery.event)).all()
    assert heard == [(second.booking.uid, 'booking.created')]


def test_a_host_that_got_a_deleted_hosts_id_is_not_taken_for_it(setup: dict, database: sa.Engine) -> None:
    """SQLite gives a new row the id of the last one deleted; the new host's count could match the old one's."""
    if database.dialect.name != 'sqlite':
        pytest.skip('PostgreSQL never hands out an id twice')
    book(setup, '09:00')
    kept_version = version(setup['host_id'])
    elsewhere('DELETE FROM host WHERE id = :id', id=setup['host_id'])
    with session_scope(write=True) as session:
        host = make_host(session, username='bea', timezone_name='Europe/Berlin')
        call = make_event_type(session, host, slug='call', duration_minutes=45)
    assert (host.id, call.id) == (setup['host_id'], setup['call_id'])  # the very same ids again
    if version(host.id) != kept_version:  # (setting the same number would count as a change of the host)
        elsewhere('UPDATE settings_version SET version = :v WHERE host_id = :id', v=kept_version, id=host.id)
    assert version(setup['host_id']) == kept_version
    receipt = book(setup, '09:45')  # on the new 45-minute grid (the old 30-minute one has no 09:45)
    assert receipt.booking.end_at - receipt.booking.start_at == timedelta(minutes=45)


def test_a_settings_change_never_waits_for_a_booking_holding_its_hosts_lock(setup: dict, database: sa.Engine) -> None:
    """A booking holds its host's row while it writes; were the count kept on that row, deleting an event type while
    a booking's insert waits for that very delete would deadlock (PostgreSQL aborts one of them)."""
    if database.dialect.name != 'postgresql':
        pytest.skip('SQLite serialises every writer: a change simply waits for the booking')
    from services import kept_settings

    with session_scope(write=True) as booking:
        kept_settings.for_booking(booking, host_id=setup['host_id'], event_type_id=setup['call_id'])  # the lock
        with database.begin() as other:  # another process's change, meanwhile: it must not wait for the booking
            other.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
            other.execute(
                sa.text('UPDATE event_type SET title = :t WHERE id = :id'), {'t': 'New', 'id': setup['call_id']}
            )
            other.execute(
                sa.text('DELETE FROM schedule WHERE host_id = :id AND NOT is_default'), {'id': setup['host_id']}
            )
    assert version(setup['host_id']) > 0


def test_a_change_between_a_callers_look_up_and_the_lock_is_seen(
    setup: dict, database: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller that does not know the host looks the event type up before the lock; a change committed in between
    is read under the lock, not taken from that earlier look."""
    if database.dialect.name != 'postgresql':
        pytest.skip('on SQLite the write transaction holds the lock from its start: nothing commits in between')
    book(setup, '09:00')
    original = use_cases._bookable

    calls: list[int] = []

    def looked_up_then_changed(session: Session, event_type_id: int) -> object:
        found = original(session, event_type_id)
        calls.append(event_type_id)
        if len(calls) == 2:  # the write's look-up (the first asked calendars): the link is switched off right after
            with database.begin() as other:
                other.execute(sa.text('UPDATE event_type SET active = false WHERE id = :id'), {'id': event_type_id})
        return found

    monkeypatch.setattr(use_cases, '_bookable', looked_up_then_changed)
    with pytest.raises(NotFound):  # (taken from the earlier look-up, the link would still be on, and booked)
        use_cases.book(
            event_type_id=setup['call_id'],
            start=at(MONDAY, '10:00', 'Europe/Berlin'),
            invitee=GRACE,
            now=NOW,
            address='192.0.2.1',
        )
    assert len(calls) == 2
