"""A real Chromium drives the real server (skipped with a reason when no Chromium is installed; a failure
under CI=true)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import running_server

CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else None)
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

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
    context = browser.new_context(viewport={'width': 1200, 'height': 800})
    yield context.new_page()
    context.close()


@pytest.fixture(scope='module')
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp('browser-empty')
    with running_server(data_dir=data_dir) as base:
        yield base


def test_a_fresh_install_shows_the_status_and_what_to_do_first(page: Page, empty_server: str,
                                                                tmp_path: Path) -> None:
    page.goto(empty_server + '/')
    expect(page.get_by_text('Your scheduling server is running')).to_be_visible()
    expect(page.get_by_text('Database: SQLite')).to_be_visible()
    expect(page.get_by_text('No hosts yet')).to_be_visible()
    expect(page.get_by_text('python main.py demo')).to_be_visible()
    page.screenshot(path=str(tmp_path / 'home.png'), full_page=True)


def test_the_openapi_link_opens_the_api_description(page: Page, empty_server: str) -> None:
    page.goto(empty_server + '/')
    page.get_by_role('link', name='OpenAPI schema').click()
    expect(page).to_have_url(empty_server + '/api/v1/openapi.json')
    expect(page.get_by_text('/public/{username}/{slug}/slots').first).to_be_visible()
