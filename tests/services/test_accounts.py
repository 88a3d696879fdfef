"""Accounts on a real database (SQLite and PostgreSQL): who may sign up, links, onboarding, erasure, export and
re-encryption under a new key."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from app import crypto
from app.config import get_settings
from app.db import session_scope
from app.errors import NotFound
from app.models import Booking, EventType, Host, Identity, OutboxMessage
from services import accounts, bookings
from services.accounts import SignInRefused, VerifiedIdentity
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)


def google(sub: str, email: str, verified: bool = True) -> VerifiedIdentity:
    return VerifiedIdentity(
        provider='google',
        subject=sub,
        email=email,
        email_verified=verified,
        name='Someone',
        refresh_token=f'refresh-{sub}',
    )


def join(identity: VerifiedIdentity, username: str, invitation: str = '') -> Host:
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW, invitation=invitation)
    with session_scope(write=True) as session:
        return accounts.complete_onboarding(
            session, token=signed.token, name='Someone', username=username, timezone='Europe/Paris', now=NOW
        )


def test_the_first_account_owns_the_instance_and_gets_a_working_booking_page() -> None:
    owner = join(google('a', 'owner@example.com'), 'owner')
    assert owner.is_owner
    with session_scope() as session:
        [event_type] = session.exec(select(EventType).where(EventType.host_id == owner.id)).all()
    assert (event_type.slug, event_type.duration_minutes, event_type.active) == ('30min', 30, True)
    with session_scope(write=True) as session:  # bookable at once, on the default weekday schedule
        receipt = bookings.book_slot(
            session=session,
            event_type=event_type,
            start=at(next_monday(), '10:00', 'Europe/Paris'),
            now=NOW,
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
        )
    assert receipt.booking.id


def test_later_sign_ups_need_an_invitation_or_open_sign_up() -> None:
    owner = join(google('a', 'owner@example.com'), 'owner')
    with session_scope(write=True) as session, pytest.raises(SignInRefused, match='by invitation'):
        accounts.sign_in(session, google('b', 'b@example.com'), now=NOW)
    with session_scope(write=True) as session:
        invitation = accounts.create_invitation(session, host=owner, now=NOW)
    invited = join(google('b', 'b@example.com'), 'bee', invitation)
    assert not invited.is_owner
    with session_scope(write=True) as session, pytest.raises(SignInRefused):  # an invitation works once
        accounts.sign_in(session, google('c', 'c@example.com'), now=NOW, invitation=invitation)
    with session_scope(write=True) as session:
        accounts.set_signup_open(session, host=owner, value=True)
    assert join(google('c', 'c@example.com'), 'cee').id
    with session_scope(write=True) as session, pytest.raises(SignInRefused, match='owner'):
        accounts.create_invitation(session, host=invited, now=NOW)


def test_allowed_emails_decide_who_may_sign_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), 'allowed_emails', 'boss@corp.example, @team.example')
    for email in ('boss@corp.example', 'anyone@team.example'):
        with session_scope(write=True) as session:
            assert accounts.sign_in(session, google(email, email), now=NOW).host_id is None
    for email in ('other@corp.example', 'x@evilteam.example'):
        with session_scope(write=True) as session, pytest.raises(SignInRefused):
            accounts.sign_in(session, google(email, email), now=NOW)


def test_sign_in_links_are_single_use_short_lived_and_limited_per_address() -> None:
    with session_scope(write=True) as session:
        tokens = [accounts.request_login_link(session, email='new@example.com', now=NOW) for _ in range(4)]
    assert all(tokens[:3]) and tokens[3] is None  # three per 15 minutes
    with session_scope(write=True) as session:
        assert session.exec(select(Identity)).all() == []
        stored = [link.token_hash for link in session.exec(select(accounts.LoginLink))]
    assert tokens[0] not in stored and crypto.hash_token(tokens[0]) in stored  # stored hashed
    with session_scope(write=True) as session:
        assert accounts.sign_in_with_link(session, token=tokens[0], now=NOW).host_id is None
    with session_scope(write=True) as session, pytest.raises(SignInRefused, match='already used'):
        accounts.sign_in_with_link(session, token=tokens[0], now=NOW)
    with session_scope(write=True) as session, pytest.raises(SignInRefused, match='expired'):
        accounts.sign_in_with_link(session, token=tokens[1], now=NOW + timedelta(minutes=15, seconds=1))


def test_an_address_that_may_not_sign_up_gets_no_link() -> None:
    join(google('a', 'owner@example.com'), 'owner')
    with session_scope(write=True) as session:
        assert accounts.request_login_link(session, email='stranger@example.com', now=NOW) is None


def test_erasing_an_invitee_keeps_the_time_but_not_the_person(monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(session, host, slug='call')
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace', 'grace@example.com', 'UTC', notes='private'),
        )
    with session_scope(write=True) as session:
        bookings.erase_invitee(session=session, host_id=host.id, uid=receipt.booking.uid, now=NOW)
    with session_scope() as session:
        booking = session.exec(select(Booking).where(Booking.uid == receipt.booking.uid)).one()
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.status == 'pending')).all()
    assert (booking.invitee_name, booking.invitee_email, booking.notes, booking.status) == (
        bookings.ERASED_NAME,
        bookings.ERASED_EMAIL,
        '',
        'cancelled',
    )
    assert pending == []  # nothing more is sent to the erased address
    with session_scope(write=True) as session, pytest.raises(NotFound):
        bookings.erase_invitee(session=session, host_id=host.id + 1, uid=receipt.booking.uid, now=NOW)


def test_rotate_keys_re_encrypts_every_token_so_the_old_key_can_go(monkeypatch: pytest.MonkeyPatch) -> None:
    host = join(google('a', 'owner@example.com'), 'owner')
    with session_scope(write=True) as session:
        call = session.exec(select(EventType).where(EventType.host_id == host.id)).one()
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00', 'Europe/Paris'),
            now=NOW,
            invitee=bookings.Invitee('G', 'g@example.com', 'UTC'),
        )
    old, new = get_settings().encryption_keys, Fernet.generate_key().decode()
    monkeypatch.setattr(get_settings(), 'encryption_keys', f'{new},{old}')
    crypto.reset_keys()
    with session_scope(write=True) as session:
        assert accounts.rotate_keys(session) >= 2
    monkeypatch.setattr(get_settings(), 'encryption_keys', new)  # the old key is gone
    crypto.reset_keys()
    try:
        with session_scope() as session:
            identity = session.exec(select(Identity)).one()
            booking = session.get(Booking, receipt.booking.id)
            assert crypto.decrypt(identity.refresh_token_encrypted) == 'refresh-a'
            assert crypto.decrypt(booking.manage_token_encrypted) == receipt.token
    finally:
        monkeypatch.undo()
        crypto.reset_keys()


def test_the_export_holds_everything_about_the_host_and_no_secret() -> None:
    host = join(google('a', 'owner@example.com'), 'owner')
    with session_scope() as session:
        data = accounts.export_account(session, host_id=host.id)
    assert set(data) >= {'profile', 'schedules', 'event_types', 'bookings', 'sign_in', 'api_keys'}
    assert data['profile']['email'] == 'owner@example.com' and data['event_types'][0]['slug'] == '30min'
    assert 'refresh-a' not in str(data) and 'encrypted' not in str(data)


def test_ownership_passes_to_the_longest_standing_host_when_the_owner_leaves() -> None:
    owner = join(google('a', 'owner@example.com'), 'owner')
    with session_scope(write=True) as session:
        invitation = accounts.create_invitation(session, host=owner, now=NOW)
    member = join(google('b', 'b@example.com'), 'bee', invitation)
    accounts.close_account(host_id=owner.id, revoke=lambda token: None)
    with session_scope() as session:
        assert session.get(Host, member.id).is_owner
    with session_scope(write=True) as session, pytest.raises(SignInRefused):  # sign-up did not fall open
        accounts.sign_in(session, google('c', 'c@example.com'), now=NOW)


def test_deletion_revokes_outside_the_transaction_and_completes_when_revocation_fails() -> None:
    host = join(google('a', 'owner@example.com'), 'owner')
    seen = []

    def revoke(token: str) -> None:
        with session_scope(write=True) as session:  # the database is not held while the provider is asked
            session.exec(select(Host)).all()
        seen.append(token)
        raise ConnectionError('Google unreachable')

    accounts.close_account(host_id=host.id, revoke=revoke)
    assert seen == ['refresh-a']
    with session_scope() as session:
        assert session.exec(select(Host)).all() == [] and session.exec(select(Identity)).all() == []


def test_closing_an_account_cancels_upcoming_meetings_and_tells_each_invitee_before_deleting() -> None:
    import threading

    from app.errors import Conflict
    from services.notifications import worker
    from tests.services.test_notifications import Recorder

    host = join(google('a', 'owner@example.com'), 'owner')
    with session_scope(write=True) as session:
        call = session.exec(select(EventType).where(EventType.host_id == host.id)).one()
    for clock, name in (('10:00', 'grace'), ('11:00', 'alan')):
        with session_scope(write=True) as session:
            bookings.book_slot(
                session=session,
                event_type=call,
                start=at(next_monday(), clock),
                now=NOW,
                invitee=bookings.Invitee(name.title(), f'{name}@example.com', 'UTC'),
            )
    with pytest.raises(Conflict, match='some notices have not gone out yet'):  # no worker is sending: nothing goes
        accounts.close_account(host_id=host.id, revoke=lambda token: None, wait_seconds=0.3)
    with session_scope() as session:
        assert session.get(Host, host.id) is not None
        assert {b.status for b in session.exec(select(Booking))} == {'cancelled'}
    mailer, stop = Recorder(), threading.Event()

    def send() -> None:  # the outbox worker of this or another process
        while not stop.is_set():
            worker.drain(mailer=mailer, settings=get_settings())
            stop.wait(0.05)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert accounts.close_account(host_id=host.id, revoke=lambda token: None) == 0  # already cancelled
    finally:
        stop.set()
        sender.join()
    told = sorted(message['To'] for _, message in mailer.sent if 'owner@' not in message['To'])
    assert told == ['Alan <alan@example.com>', 'Grace <grace@example.com>']
    with session_scope() as session:
        assert session.exec(select(Host)).all() == [] and session.exec(select(Booking)).all() == []
