"""A real Chromium drives the real server (skipped with a reason when no Chromium is installed; a failure
under CI=true)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from app import db
from tests.e2e.server import running_server
from tests.factories import make_event_type, make_host

CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else None)
ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
]

if CHROMIUM is None:
    if os.environ.get('CI') == 'true':
        pytest.fail('Chromium is required under CI=true (apt-get install -y chromium)', pytrace=False)
    pytest.skip("no Chromium found: install Debian's chromium to run the browser tests", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope='module')
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={'width': 1200, 'height': 800}, locale='en-GB')
    yield context.new_page()
    context.close()


@pytest.fixture(scope='module')
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp('browser-empty')
    with running_server(data_dir=data_dir) as base:
        yield base


def test_a_new_user_signs_in_with_a_link_from_the_outbox_onboards_and_opens_their_booking_page(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp('browser-sign-in')
    context = browser.new_context(viewport={'width': 1200, 'height': 800}, timezone_id='Asia/Kolkata', locale='en-GB')
    page = context.new_page()
    with running_server(data_dir=data_dir) as base:
        page.goto(base + '/')
        page.get_by_role('button', name='Sign in').click()
        page.get_by_label('E-mail address').fill('newhost@example.com')
        page.get_by_role('button', name='E-mail me a sign-in link').click()
        expect(page.get_by_text('a sign-in link is on its way')).to_be_visible()
        for _ in range(100):  # the link is sent in the background
            mails = list((data_dir / 'outbox').glob('sign-in.*.eml'))
            if mails:
                break
            time.sleep(0.1)
        [mail] = mails
        message = message_from_bytes(mail.read_bytes(), policy=policy.default)
        link = re.search(r'(http://\S+/auth/email/\S+)', message.get_body(('plain',)).get_content()).group(1)
        page.goto(link)
        page.get_by_role('button', name='Sign in').click()
        expect(page.get_by_text('Welcome to CloudMeet')).to_be_visible(timeout=10000)
        # the browser's zone is detected (Chromium reports India by its older name, Asia/Calcutta)
        expect(page.get_by_role('combobox', name='Time zone')).to_have_value(
            re.compile('Kolkata|Calcutta'), timeout=10000
        )
        page.get_by_label('Your name (shown to invitees)').fill('Nia Host')
        page.get_by_label('Username (your booking link)').fill('nia')
        page.screenshot(path=str(data_dir / 'onboarding.png'), full_page=True)
        page.get_by_role('button', name='Create my booking page').click()
        expect(page.get_by_text('Nothing booked yet')).to_be_visible(timeout=10000)
        page.screenshot(path=str(data_dir / 'dashboard.png'), full_page=True)
        page.goto(base + '/nia/30min')
        expect(page.get_by_text('30 minute meeting')).to_be_visible()
        expect(page.get_by_role('button', name=TIME_BUTTON).first).to_be_visible(timeout=10000)
        page.goto(base + '/settings')
        expect(page.get_by_text('How you sign in')).to_be_visible()
        page.get_by_role('button', name='Sign out', exact=True).click()
        expect(page.get_by_text('Sign in to CloudMeet')).to_be_visible()
        page.goto(base + '/dashboard')
        expect(page.get_by_text('Sign in to CloudMeet')).to_be_visible()
    context.close()


def test_the_anonymous_start_page_says_nothing_about_the_instance(
    page: Page, empty_server: str, tmp_path: Path
) -> None:
    page.goto(empty_server + '/')
    expect(page.get_by_role('button', name='Sign in')).to_be_visible()
    for private in ('Database', 'SQLite', 'hosts', 'python main.py', 'owner'):
        expect(page.get_by_text(private)).to_have_count(0)
    page.screenshot(path=str(tmp_path / 'home.png'), full_page=True)


def test_the_api_documentation_loads_from_this_server(page: Page, empty_server: str) -> None:
    outside: list[str] = []
    page.on('request', lambda r: outside.append(r.url) if not r.url.startswith(empty_server) else None)
    page.goto(empty_server + '/api/v1/docs')
    page.get_by_role('link', name='/api/v1/openapi.json').click()
    expect(page.get_by_text('/public/{username}/{slug}/slots').first).to_be_visible(timeout=10000)
    assert outside == []


@pytest.fixture(scope='module')
def booking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose host 'ada' (Europe/London, weekdays 09:00-17:00) offers a 30-minute call."""
    data_dir = tmp_path_factory.mktemp('browser-booking')
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with db.session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            max_days_ahead=90,
            description='<img src=x onerror=alert(1)> Bring questions',
        )
    engine.dispose()
    with running_server(data_dir=data_dir) as base:
        yield base


def invitee_page(browser: Browser, width: int = 1200) -> Page:
    context = browser.new_context(
        viewport={'width': width, 'height': 900}, timezone_id='America/New_York', locale='en-GB', accept_downloads=True
    )  # a 24-hour clock
    return context.new_page()


TIME_BUTTON = re.compile(r'^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}$')


def book_first_time(page: Page, base: str, name: str = 'Grace Hopper') -> str:
    """Open the booking page, pick the first offered time and confirm; return the time's accessible name."""
    page.goto(f'{base}/ada/call')
    expect(page.get_by_text('Intro call').first).to_be_visible()
    expect(page.get_by_label('Time zone')).to_be_visible()
    first_time = page.get_by_role('button', name=TIME_BUTTON).first
    expect(first_time).to_be_visible(timeout=10000)
    chosen = first_time.get_attribute('aria-label') or ''
    first_time.click()
    expect(page.get_by_role('heading', name='Enter your details')).to_be_visible()
    page.get_by_label('Your name *').fill(name)
    page.get_by_label('E-mail *').fill('grace@example.com')
    page.get_by_role('button', name='Confirm booking').click()
    expect(page.get_by_role('heading', name='You are scheduled')).to_be_visible(timeout=10000)
    return chosen


def test_an_invitee_books_downloads_the_invitation_and_cancels(
    browser: Browser, booking_server: str, tmp_path: Path
) -> None:
    page = invitee_page(browser)
    page.goto(f'{booking_server}/ada/call')
    expect(page.get_by_text('<img src=x onerror=alert(1)> Bring questions')).to_be_visible()
    expect(page.get_by_role('combobox', name='Time zone')).to_have_value(re.compile('New York'), timeout=10000)
    page.screenshot(path=str(tmp_path / 'booking.png'), full_page=True)
    chosen = book_first_time(page, booking_server)
    expect(page.get_by_text('Time zone: New York')).to_be_visible()
    day, clock = chosen.rsplit(', ', 1)
    expect(page.get_by_text(f'{day}, {clock} –')).to_be_visible()
    page.screenshot(path=str(tmp_path / 'confirmation.png'), full_page=True)
    with page.expect_download() as download:
        page.get_by_text('Download .ics').click()
    ics = Path(download.value.path()).read_bytes()
    assert b'BEGIN:VEVENT' in ics and ics.count(b'BEGIN:VEVENT') == 1
    page.get_by_role('button', name='Cancel meeting').click()
    page.get_by_label('Reason (optional)').fill('Travelling')
    page.get_by_role('button', name='Yes, cancel').click()
    expect(page.get_by_role('heading', name='This meeting was cancelled')).to_be_visible()
    page.reload()
    expect(page.get_by_role('heading', name='This meeting was cancelled')).to_be_visible()
    expect(page.get_by_role('button', name='Reschedule')).to_have_count(0)
    page.context.close()


def test_an_invitee_reschedules_from_the_manage_page(browser: Browser, booking_server: str) -> None:
    page = invitee_page(browser)
    chosen = book_first_time(page, booking_server, name='Mover')
    page.get_by_role('button', name='Reschedule').click()
    times = page.get_by_role('button', name=TIME_BUTTON)
    expect(times.first).to_be_visible(timeout=10000)
    target = times.nth(1) if times.count() > 1 else times.first
    new_time = target.get_attribute('aria-label') or ''
    assert new_time != chosen
    target.click()
    page.get_by_role('button', name='Move meeting').click()
    expect(page.get_by_text('Your meeting was moved.')).to_be_visible(timeout=10000)
    day, clock = new_time.rsplit(', ', 1)
    expect(page.get_by_text(f'{day}, {clock} –')).to_be_visible()
    page.context.close()


def test_the_booking_page_works_at_phone_width(browser: Browser, booking_server: str, tmp_path: Path) -> None:
    page = invitee_page(browser, width=375)
    page.goto(f'{booking_server}/ada/call')
    expect(page.get_by_role('button', name=TIME_BUTTON).first).to_be_visible(timeout=10000)
    overflow = page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    assert overflow <= 0, f'the page scrolls sideways by {overflow}px at 375px'
    page.screenshot(path=str(tmp_path / 'phone.png'), full_page=True)
    page.keyboard.press('Tab')  # every control is reachable by keyboard: the first tab stop is on the page
    assert page.evaluate('document.activeElement !== document.body')
    page.context.close()


@pytest.fixture(scope='module')
def host_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A server where 'nia' is signed in (her session cookie is handed to the browser)."""
    from datetime import datetime, timezone

    from services import accounts

    data_dir = tmp_path_factory.mktemp('browser-host')
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    now = datetime.now(timezone.utc)
    with db.session_scope(write=True) as session:
        signed = accounts.sign_in(session, accounts.VerifiedIdentity('google', 'nia', 'nia@example.com', True), now=now)
    with db.session_scope(write=True) as session:
        accounts.complete_onboarding(
            session, token=signed.token, name='Nia Host', username='nia', timezone='Europe/London', now=now
        )
    engine.dispose()
    with running_server(data_dir=data_dir) as base:
        yield {'base': base, 'token': signed.token, 'data_dir': data_dir}


def host_page(browser: Browser, server: dict) -> Page:
    context = browser.new_context(viewport={'width': 1200, 'height': 900}, locale='en-GB')
    context.add_cookies([{'name': 'cloudmeet_session', 'value': server['token'], 'url': server['base']}])
    return context.new_page()


def test_a_host_creates_an_event_type_and_invitees_can_book_it(browser: Browser, host_server: dict) -> None:
    page, base = host_page(browser, host_server), host_server['base']
    page.goto(base + '/event-types')
    page.get_by_role('button', name='New event type').click()
    page.get_by_label('Title').fill('Strategy session')
    expect(page.get_by_label('URL slug')).to_have_value('strategy-session')
    page.get_by_label('Duration (minutes)').fill('45')
    page.get_by_role('button', name='Add a question').click()
    page.get_by_label('Question', exact=True).fill('What is the goal?')
    page.screenshot(path=str(host_server['data_dir'] / 'event-type-editor.png'), full_page=True)
    page.get_by_role('button', name='Save').click()
    expect(page.get_by_text('Strategy session', exact=True)).to_be_visible(timeout=10000)
    page.screenshot(path=str(host_server['data_dir'] / 'event-types.png'), full_page=True)
    page.goto(base + '/nia/strategy-session')
    expect(page.get_by_text('45 min')).to_be_visible()
    expect(page.get_by_role('button', name=TIME_BUTTON).first).to_be_visible(timeout=10000)
    page.context.close()


def test_a_host_adds_saturday_hours_and_the_preview_offers_them(browser: Browser, host_server: dict) -> None:
    page, base = host_page(browser, host_server), host_server['base']
    page.goto(base + '/availability')
    saturday = page.get_by_text('Saturday', exact=True)
    expect(saturday).to_be_visible(timeout=10000)
    expect(page.get_by_text('Unavailable').first).to_be_visible()
    page.get_by_role('button', name='Add hours on Saturday').click()
    page.get_by_role('button', name='Save schedule').click()
    expect(page.get_by_text('Schedule saved')).to_be_visible(timeout=10000)
    expect(page.locator('.q-notification[class*="enter-active"]')).to_have_count(0)  # faded in: its own colours
    assert critical_accessibility_problems(page, '.q-notification') == []  # the toast's text is readable (AA)
    page.reload()
    preview = page.locator('text=/^Saturday \\d+ /').first
    expect(preview).to_be_visible(timeout=10000)
    page.screenshot(path=str(host_server['data_dir'] / 'availability.png'), full_page=True)
    saturday_row = page.get_by_text(re.compile(r'^09:00, 09:30')).last
    expect(saturday_row).to_be_visible()
    page.context.close()


def test_a_host_cancels_a_booking_from_the_dashboard_with_a_message(browser: Browser, host_server: dict) -> None:
    base = host_server['base']
    import httpx

    slots = httpx.get(
        f'{base}/api/v1/public/nia/30min/slots',
        params={'start': str(next_weekday()), 'end': str(next_weekday()), 'timezone': 'Europe/London'},
    ).json()['slots']
    made = httpx.post(
        f'{base}/api/v1/public/nia/30min/bookings',
        json={'start': slots[0]['start'], 'name': 'Grace Hopper', 'email': 'grace@example.com', 'timezone': 'UTC'},
    )
    assert made.status_code == 201, made.text
    page = host_page(browser, host_server)
    page.goto(base + '/dashboard')
    expect(page.get_by_text('Grace Hopper · grace@example.com')).to_be_visible(timeout=10000)
    page.screenshot(path=str(host_server['data_dir'] / 'dashboard.png'), full_page=True)
    page.get_by_role('button', name='Cancel', exact=True).first.click()
    page.get_by_label('Message to the invitee (optional)').fill('Something came up, sorry')
    page.get_by_role('button', name='Cancel meeting').click()
    expect(page.get_by_text('Meeting cancelled')).to_be_visible(timeout=10000)
    expect(page.get_by_text('Grace Hopper · grace@example.com')).to_have_count(0, timeout=10000)
    page.get_by_text('Cancelled', exact=True).click()
    expect(page.get_by_text('Cancelled: Something came up, sorry')).to_be_visible(timeout=10000)
    page.context.close()


def next_weekday():  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    day = date.today() + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture(scope='module')
def berlin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Host 'berta' in Berlin with an event type that asks every kind of question."""
    data_dir = tmp_path_factory.mktemp('browser-berlin')
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with db.session_scope(write=True) as session:
        host = make_host(session, username='berta', name='Berta Benz', timezone_name='Europe/Berlin')
        make_event_type(
            session,
            host,
            slug='intake',
            title='Intake',
            max_days_ahead=90,
            questions=[
                {'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True},
                {'id': 'agenda', 'label': 'Agenda', 'kind': 'long_text', 'required': False},
                {'id': 'phone', 'label': 'Phone', 'kind': 'phone', 'required': True},
                {'id': 'nda', 'label': 'I accept the NDA', 'kind': 'checkbox', 'required': False},
                {
                    'id': 'size',
                    'label': 'Team size',
                    'kind': 'single_choice',
                    'required': True,
                    'options': ['1-10', '11-50', '51+'],
                },
            ],
        )
    engine.dispose()
    with running_server(data_dir=data_dir) as base:
        yield base


TWELVE_HOUR = re.compile(r'^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, \d{1,2}:\d{2} (am|pm)$')


def critical_accessibility_problems(page: Page, within: str | None = None) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=within)
    return [
        f'{v["id"]}: {v["help"]} {[n["html"][:200] for n in v["nodes"]]}'
        for v in results.response['violations']
        if v['impact'] in ('critical', 'serious')
    ]


@pytest.mark.parametrize('width', [1280, 375])
def test_an_en_us_invitee_in_new_york_books_a_berlin_host_answering_every_question_kind(
    browser: Browser, berlin_server: str, width: int, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={'width': width, 'height': 900}, timezone_id='America/New_York', locale='en-US'
    )
    page = context.new_page()
    page.goto(f'{berlin_server}/berta/intake')
    expect(page.get_by_role('combobox', name='Time zone')).to_have_value(re.compile('New York'), timeout=10000)
    first_time = page.get_by_role('button', name=TWELVE_HOUR).first  # en-US: a 12-hour clock
    expect(first_time).to_be_visible(timeout=10000)
    assert critical_accessibility_problems(page) == []
    overflow = page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    assert overflow <= 0, f'the page scrolls sideways by {overflow}px at {width}px'
    page.screenshot(path=str(tmp_path / f'times-{width}.png'), full_page=True)
    chosen = first_time.get_attribute('aria-label') or ''
    first_time.click()
    expect(page.get_by_role('heading', name='Enter your details')).to_be_visible()
    assert 'slot=' in page.url and 'tz=America%2FNew_York' in page.url
    page.get_by_label('Your name *').fill('Grace Hopper')
    page.get_by_label('E-mail *').fill('grace@example.com')
    page.get_by_label('Topic *').fill('Compilers')
    page.get_by_label('Agenda').fill('Plans')
    page.get_by_label('Phone *').fill('+1 212 555 0100')
    page.get_by_text('I accept the NDA').click()
    page.get_by_role('button', name='Confirm booking').click()
    expect(page.get_by_text('Choose an answer to "Team size".')).to_be_visible()
    page.get_by_role('radio', name='11-50').click()
    assert critical_accessibility_problems(page) == []
    page.screenshot(path=str(tmp_path / f'details-{width}.png'), full_page=True)
    page.get_by_role('button', name='Confirm booking').click()
    expect(page.get_by_role('heading', name='You are scheduled')).to_be_visible(timeout=10000)
    day, clock = chosen.rsplit(', ', 1)
    expect(page.get_by_text(f'{day}, {clock} –')).to_be_visible()
    expect(page.get_by_text('Time zone: New York')).to_be_visible()
    assert critical_accessibility_problems(page) == []
    page.screenshot(path=str(tmp_path / f'confirmation-{width}.png'), full_page=True)
    context.close()


LONG_NAME = 'Maximiliana Wolfeschlegelsteinhausenbergerdorffvoralternwaren'
LONG_EMAIL = 'maximiliana.wolfeschlegelsteinhausenbergerdorff@averyveryverylongdomainname-example.com'


def test_the_hosts_dashboard_fits_a_phone_and_its_navigation_opens_as_a_menu(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from datetime import datetime, timezone

    import httpx

    from services import accounts

    data_dir = tmp_path_factory.mktemp('browser-phone-host')  # its own server: the long booking stays here
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    now = datetime.now(timezone.utc)
    with db.session_scope(write=True) as session:
        signed = accounts.sign_in(session, accounts.VerifiedIdentity('google', 'wen', 'wen@example.com', True), now=now)
    with db.session_scope(write=True) as session:
        accounts.complete_onboarding(
            session, token=signed.token, name='Wen Host', username='wen', timezone='Europe/London', now=now
        )
    engine.dispose()
    with running_server(data_dir=data_dir) as base:
        day = str(next_weekday())
        slots = httpx.get(
            f'{base}/api/v1/public/wen/30min/slots', params={'start': day, 'end': day, 'timezone': 'Europe/London'}
        ).json()['slots']
        made = httpx.post(
            f'{base}/api/v1/public/wen/30min/bookings',
            json={'start': slots[0]['start'], 'name': LONG_NAME, 'email': LONG_EMAIL, 'timezone': 'America/New_York'},
        )
        assert made.status_code == 201, made.text
        context = browser.new_context(viewport={'width': 375, 'height': 800}, locale='en-GB')
        context.add_cookies([{'name': 'cloudmeet_session', 'value': signed.token, 'url': base}])
        page = context.new_page()
        page.goto(base + '/dashboard')
        expect(page.get_by_text(f'{LONG_NAME} · {LONG_EMAIL}')).to_be_visible(timeout=10000)
        page.screenshot(path=str(data_dir / 'dashboard-375.png'), full_page=True)
        assert page.evaluate('document.documentElement.scrollWidth') <= 375  # long names wrap: no sideways scroll
        expect(page.get_by_role('link', name='Event types')).to_be_hidden()  # the links fold into the menu
        assert critical_accessibility_problems(page) == []
        page.get_by_role('button', name='More actions').click()
        expect(page.get_by_role('menuitem', name='Erase invitee data')).to_be_visible()
        page.keyboard.press('Escape')
        page.get_by_role('button', name='Menu').click()
        expect(page.get_by_role('menuitem', name='Bookings')).to_have_attribute('aria-current', 'page')
        page.get_by_role('menuitem', name='Availability').click()
        expect(page.get_by_role('heading', name='Availability')).to_be_visible(timeout=10000)
        assert page.evaluate('document.documentElement.scrollWidth') <= 375
        context.close()
