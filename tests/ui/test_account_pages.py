"""Sign-in, settings and privacy pages with NiceGUI's simulated user over the real main.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from nicegui.testing.user import User
from sqlmodel import select

from app.config import get_settings
from app.db import session_scope
from app.models import Host, InstanceSetting, Invitation
from services import accounts
from services.accounts import VerifiedIdentity

NOW = datetime.now(timezone.utc)


def signed_in(user: User, email: str = 'owner@example.com', username: str = 'owner') -> Host:
    identity = VerifiedIdentity(provider='google', subject=email, email=email, email_verified=True, name='Owner')
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Olive Owner', username=username, timezone='Europe/London', now=NOW
        )
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    return host


async def test_the_login_page_offers_configured_providers_only_and_e_mails_a_link(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    await user.open('/login')
    await user.should_see('Sign in to CloudMeet')
    await user.should_not_see(marker='provider-google')
    monkeypatch.setattr(get_settings(), 'google_client_id', 'configured')
    await user.open('/login')
    await user.should_see('Continue with Google')
    await user.should_not_see('Continue with Microsoft')
    outbox = get_settings().data_dir / 'outbox'
    before = set(outbox.glob('sign-in.*.eml')) if outbox.exists() else set()
    user.find(marker='login-email').type('first@example.com')
    user.find(marker='send-link').click()
    await user.should_see('a sign-in link is on its way', retries=40)
    assert len(set(outbox.glob('sign-in.*.eml')) - before) == 1


async def test_signed_in_hosts_go_to_their_dashboard_and_others_to_sign_in(user: User) -> None:
    response = await user.http_client.get('/dashboard', follow_redirects=False)
    assert response.status_code == 303 and response.headers['location'] == '/login?next=/dashboard'
    signed_in(user)
    await user.open('/')
    await user.should_see('Bookings')
    await user.should_see('Nothing booked yet')
    await user.should_see(marker='booking-link')
    await user.should_see('Your scheduling server is running')  # the first host owns the instance
    await user.should_see('Database: SQLite')


async def test_the_owner_creates_an_invitation_link_and_can_open_sign_up(user: User) -> None:
    signed_in(user)
    await user.open('/settings')
    await user.should_see('Who can sign up')
    user.find(marker='create-invitation').click()
    await user.should_see('/login?invite=', retries=40)
    link = user.find(marker='invitation-link').elements.pop().text
    assert link.startswith(get_settings().public_url + '/login?invite=')  # the link alone, ready to copy
    user.find(marker='copy-invitation').click()
    await user.should_see('Invitation link copied')
    user.find(marker='open-signup').click()
    await user.should_see('Sign-up is open to anyone')
    with session_scope() as session:
        assert accounts.signup_open(session)


async def test_a_host_who_is_not_the_owner_sees_no_sign_up_settings(user: User) -> None:
    with session_scope(write=True) as session:
        session.add(Host(email='boss@example.com', username='boss', name='Boss', timezone='UTC', is_owner=True))
        session.add(InstanceSetting(key=accounts.OPEN_SIGNUP, value=True))
    signed_in(user, 'member@example.com', 'member')
    await user.open('/settings')
    await user.should_see('How you sign in')
    await user.should_not_see('Who can sign up')


async def test_deleting_the_account_asks_for_the_username_then_removes_it(user: User) -> None:
    host = signed_in(user)
    await user.open('/settings')
    user.find(marker='delete-account').click()
    await user.should_see('Delete your account?')
    user.find(marker='delete-confirm-input').type('someone-else')
    user.find(marker='confirm-delete').click()
    await user.should_see('The username does not match.')
    user.find(marker='delete-confirm-input').clear()
    user.find(marker='delete-confirm-input').type('owner')
    user.find(marker='confirm-delete').click()
    await user.should_see('Sign in to CloudMeet', retries=40)
    await user.should_see('Your account was deleted.')
    with session_scope() as session:
        assert session.exec(select(Host).where(Host.id == host.id)).first() is None


async def test_the_export_download_is_the_hosts_own_data(user: User) -> None:
    signed_in(user)
    response = await user.http_client.get('/account/export.json')
    assert response.status_code == 200 and 'attachment' in response.headers['content-disposition']
    assert response.json()['profile']['username'] == 'owner'


async def test_the_privacy_policy_says_what_is_stored_and_is_linked_from_public_pages(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), 'privacy_contact', 'privacy@operator.example')
    await user.open('/privacy')
    for text in (
        'busy times',
        'Limited Use',
        'Who else receives data',
        'How long data is kept',
        'Your rights',
        'privacy@operator.example',
    ):
        await user.should_see(text)
    await user.open('/login')
    await user.should_see(marker='privacy-link')


async def test_a_page_left_open_after_signing_out_everywhere_can_change_nothing(user: User) -> None:
    host = signed_in(user)
    await user.open('/settings')
    await user.should_see('Who can sign up')
    with session_scope(write=True) as session:
        accounts.end_all_sessions(session, host_id=host.id)
    user.find(marker='create-invitation').click()
    await user.should_see('Your session has ended. Please sign in again.')
    with session_scope() as session:
        assert session.exec(select(Invitation)).all() == []


async def test_a_newcomer_who_has_not_finished_onboarding_is_sent_back_to_it(user: User) -> None:
    identity = VerifiedIdentity(
        provider='google', subject='new', email='new@example.com', email_verified=True, name='Newcomer'
    )
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    for path in ('/dashboard', '/settings', '/event-types'):
        response = await user.http_client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers['location'] == '/onboarding'


async def test_deleting_an_account_with_upcoming_meetings_cancels_them_and_tells_the_invitees(user: User) -> None:
    from app.models import Booking, EventType, OutboxMessage
    from services import bookings
    from tests.factories import at, next_monday

    host = signed_in(user)
    with session_scope(write=True) as session:
        call = session.exec(select(EventType).where(EventType.host_id == host.id)).one()
        bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace', 'grace@example.com', 'UTC'),
        )
    await user.open('/settings')
    user.find(marker='delete-account').click()
    await user.should_see('Your upcoming meeting is cancelled first, and the invitee is told by e-mail')
    user.find(marker='delete-confirm-input').type('owner')
    user.find(marker='confirm-delete').click()  # the outbox worker of the running app sends the notice
    await user.should_see('1 upcoming meeting was cancelled and the invitees were told by e-mail.', retries=100)
    outbox = get_settings().data_dir / 'outbox'
    assert any(
        'grace@example.com' in str(m['To']) and 'closed their CloudMeet account' in _text(m)
        for m in (_parse(p) for p in outbox.glob('*.eml'))
    )
    with session_scope() as session:
        assert session.exec(select(Booking)).all() == [] and session.exec(select(OutboxMessage)).all() == []


def _parse(path):  # type: ignore[no-untyped-def]
    import email
    from email import policy

    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _text(message) -> str:  # type: ignore[no-untyped-def]
    part = message.get_body(preferencelist=('plain',))
    return part.get_content() if part else ''


async def test_a_newcomer_is_told_politely_that_accounts_are_by_invitation_without_learning_who_has_one(
    user: User,
) -> None:
    signed_in(user)  # the owner exists; sign-up is closed
    user.http_client.cookies.clear()
    for address in ('stranger@example.com', 'owner@example.com'):  # the same words for both
        await user.open('/login')
        user.find(marker='login-email').type(address)
        user.find(marker='send-link').click()
        await user.should_see(f'If {address} may sign in here, a sign-in link is on its way.', retries=40)
        await user.should_see('New accounts here are by invitation')


async def test_a_reserved_username_is_flagged_while_typing(user: User) -> None:
    identity = VerifiedIdentity(provider='google', subject='n', email='n@example.com', email_verified=True, name='N')
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    await user.open('/onboarding')
    field = user.find(marker='onboarding-username')
    field.clear()
    field.type('dashboard')
    element = next(iter(field.elements))
    assert element.error == "The username 'dashboard' is reserved for a page of CloudMeet itself; choose another."
    field.clear()
    field.type('nia')
    assert element.error is None
