"""A real browser connects a real Radicale CalDAV account on /integrations (phone and desktop widths): the form is
labelled and accessible, a wrong password is explained, the account appears with its status, and the page never
scrolls sideways."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app import db
from tests.e2e.server import running_server
from tests.fakes import radicale

CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else None)
if CHROMIUM is None:
    pytest.skip("no Chromium found: install Debian's chromium to run the browser tests", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.e2e.test_browser import ARGS, critical_accessibility_problems  # noqa: E402


@pytest.fixture(scope='module')
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope='module')
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Radicale with a user who has a 'Work' calendar, and CloudMeet with a signed-in host."""
    from services import accounts

    dav = radicale.serve(tmp_path_factory.mktemp('radicale'))
    data_dir = tmp_path_factory.mktemp('caldav-browser')
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    now = datetime.now(timezone.utc)
    with db.session_scope(write=True) as session:
        signed = accounts.sign_in(session, accounts.VerifiedIdentity('google', 'ada', 'ada@example.com', True), now=now)
    with db.session_scope(write=True) as session:
        accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=now
        )
    engine.dispose()
    try:
        with running_server(data_dir=data_dir, env={'CLOUDMEET_ALLOW_PRIVATE_CALENDAR_URLS': 'true'}) as base:
            yield {'base': base, 'token': signed.token, 'dav': dav, 'data_dir': data_dir}
    finally:
        dav.stop()


def connect(page: Page, user: radicale.CalDavUser, password: str) -> None:
    page.get_by_role('combobox', name='Server').click()
    page.get_by_role('option', name='Other CalDAV server').click()
    page.get_by_label('CalDAV address (https://...)').fill(user.url)
    page.get_by_label('Username').fill(user.username)
    page.get_by_label('App password').fill(password)
    page.get_by_role('button', name='Connect CalDAV calendar').click()


@pytest.mark.parametrize('width', [1280, 375])
def test_a_host_connects_a_caldav_account_in_a_real_browser(browser: Browser, site: dict, width: int) -> None:
    user = site['dav'].add_user()
    user.calendar('Work')
    context = browser.new_context(viewport={'width': width, 'height': 900}, locale='en-GB')
    context.add_cookies([{'name': 'cloudmeet_session', 'value': site['token'], 'url': site['base']}])
    page = context.new_page()
    page.goto(site['base'] + '/integrations')
    expect(page.get_by_role('button', name='Connect CalDAV calendar')).to_be_visible(timeout=10000)
    expect(page.get_by_label('CalDAV address (https://...)')).to_have_value('https://caldav.icloud.com')
    assert critical_accessibility_problems(page) == []
    connect(page, user, 'not-the-password')
    expect(page.get_by_role('alert').filter(has_text='refused this username and password')).to_be_visible(timeout=15000)
    page.get_by_label('App password').fill(user.password)
    page.get_by_role('button', name='Connect CalDAV calendar').click()
    expect(page.get_by_text(f'CalDAV calendar: {user.username} at 127.0.0.1')).to_be_visible(timeout=15000)
    page.reload()  # without the notification, which is the app's shared toast
    expect(page.get_by_text('New bookings go here')).to_be_visible(timeout=10000)
    page.screenshot(path=str(site['data_dir'] / f'integrations-caldav-{width}.png'), full_page=True)
    assert page.evaluate('document.documentElement.scrollWidth') <= width
    assert critical_accessibility_problems(page) == []
    page.get_by_role('button', name='Disconnect').first.click()
    confirm = page.locator('.q-dialog').get_by_role('button', name='Disconnect')  # the dialog asks first
    expect(confirm).to_be_visible(timeout=10000)
    confirm.click()
    expect(page.get_by_text('Calendar disconnected')).to_be_visible(timeout=10000)
    context.close()
