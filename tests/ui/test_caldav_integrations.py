"""The CalDAV form on /integrations against a real Radicale server: presets fill the address in, a wrong password is
explained under the form, the right one connects the account, whose calendars the host then chooses; a refused
password is mended by connecting the same account again."""

from __future__ import annotations

from datetime import datetime, timezone

from nicegui import ui
from nicegui.testing.user import User
from sqlmodel import select

from app.db import session_scope
from app.models import CalendarConnection
from services import accounts
from services.accounts import VerifiedIdentity
from services.calendars import caldav, connections
from tests.fakes import radicale

NOW = datetime.now(timezone.utc)


def sign_in(user: User) -> int:
    """Ada, signed in; her host id."""
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=NOW
        )
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    assert host.id is not None
    return host.id


def value(user: User, marker: str) -> object:
    return user.find(marker=marker).elements.pop().value


async def test_the_presets_fill_in_the_caldav_address(user: User) -> None:
    sign_in(user)
    await user.open('/integrations')
    await user.should_see('Connect CalDAV calendar', retries=40)
    assert value(user, 'caldav-url') == 'https://caldav.icloud.com'
    await user.should_see('app-specific password')
    user.find(marker='caldav-preset').elements.pop().value = 'fastmail'
    assert value(user, 'caldav-url') == 'https://caldav.fastmail.com/dav/'
    user.find(marker='caldav-preset').elements.pop().value = 'nextcloud'
    user.find(marker='caldav-server').type('cloud.example.org')
    assert value(user, 'caldav-url') == 'https://cloud.example.org/remote.php/dav'
    user.find(marker='connect-caldav').click()
    await user.should_see('Enter the CalDAV address, the username and the app password.')


async def test_a_caldav_account_is_connected_after_a_wrong_password_and_its_calendars_are_chosen(
    user: User, caldav_user: radicale.CalDavUser
) -> None:
    work = str(caldav_user.calendar('Work').url)
    caldav_user.calendar('Home')
    sign_in(user)
    await user.open('/integrations')
    await user.should_see('No calendars connected yet', retries=40)
    user.find(marker='caldav-preset').elements.pop().value = 'other'
    user.find(marker='caldav-url').type(caldav_user.url)
    user.find(marker='caldav-username').type(caldav_user.username)
    user.find(marker='caldav-password').type('not-the-password')
    user.find(marker='connect-caldav').click()
    await user.should_see('The CalDAV server refused this username and password', retries=80)
    await user.should_see('No calendars connected yet')
    user.find(marker='caldav-password').clear().type(caldav_user.password)
    user.find(marker='connect-caldav').click()
    await user.should_see('CalDAV calendar connected', retries=80)
    await user.should_see(f'CalDAV calendar: {caldav_user.username} at 127.0.0.1', retries=40)
    await user.should_see('Working')
    await user.should_see('New bookings go here')
    assert value(user, 'caldav-password') == ''  # the password is not kept on the page
    user.find(marker='choose-calendars').click()
    await user.should_see('Which calendars count as busy?', retries=80)
    boxes = {box.text: box for box in user.find(marker='calendar-choice').elements if isinstance(box, ui.checkbox)}
    assert sorted(boxes) == ['Home', 'Work'] and all(box.value for box in boxes.values())  # all count at first
    boxes['Home'].value = False
    user.find(marker='save-calendars').click()
    await user.should_see('Saved', retries=40)
    with session_scope() as session:
        [row] = session.exec(select(CalendarConnection)).all()
    assert row.provider == 'caldav' and row.busy_calendars == [work] and row.target_calendar == work


async def test_a_caldav_account_whose_password_was_refused_is_reconnected_with_a_new_one(
    user: User, caldav_user: radicale.CalDavUser
) -> None:
    caldav_user.calendar('Work')
    host_id = sign_in(user)
    with session_scope(write=True) as session:
        row = connections.add_caldav(
            session, host_id=host_id, account=caldav.Account(caldav_user.url, caldav_user.username, 'an-old-password')
        )
        row.status, row.status_detail = 'reconnect_needed', 'the server refused the username or app password'
        session.add(row)
    await user.open('/integrations')
    await user.should_see('Reconnect needed', retries=40)
    user.find(marker='reconnect-caldav').click()
    await user.should_see('Type the new app password to reconnect this calendar.', retries=40)
    assert (value(user, 'caldav-url'), value(user, 'caldav-username')) == (caldav_user.url, caldav_user.username)
    user.find(marker='caldav-password').type(caldav_user.password)
    user.find(marker='connect-caldav').click()
    await user.should_see('CalDAV calendar connected', retries=80)
    await user.should_see('Working', retries=40)
    with session_scope() as session:
        [mended] = session.exec(select(CalendarConnection)).all()
    assert mended.status == 'ok' and not mended.reconnect_notice_sent
