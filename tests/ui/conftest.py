"""NiceGUI `user` fixtures over the real main.py, on a fresh SQLite database per test, with the browser's time
zone reported as America/New_York."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from nicegui import core
from nicegui.testing.user import User
from nicegui.testing.user_simulation import prepare_simulation, user_simulation

from app.config import get_settings
from tests.fakes.radicale import caldav_user, radicale_server  # noqa: F401 - fixtures

MAIN = Path(__file__).resolve().parents[2] / 'main.py'
BROWSER_ZONE = 'America/New_York'


def _browser(user: User) -> User:
    user.javascript_rules[re.compile(r'Intl\.DateTimeFormat')] = lambda _: BROWSER_ZONE
    return user


@pytest.fixture
async def user(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[User]:
    path = tmp_path / 'ui.sqlite'
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv('CLOUDMEET_DATABASE_URL', f'sqlite:///{path}')
    get_settings.cache_clear()
    async with user_simulation(main_file=MAIN) as simulated:
        yield _browser(simulated)
    get_settings.cache_clear()
    errors = [
        r
        for r in caplog.get_records('call')
        if r.levelname == 'ERROR' or 'has been deleted but is still being used' in r.getMessage()
    ]  # NiceGUI's warning of a UI bug
    if errors:
        pytest.fail(f'unexpected ERROR logs: {[r.getMessage() for r in errors]}', pytrace=False)


@pytest.fixture
async def create_user(user: User) -> AsyncIterator[Callable[[], User]]:
    """More simulated browsers on the same app (for races and live updates)."""
    prepare_simulation()
    async with core.app.router.lifespan_context(core.app):
        yield lambda: _browser(User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url='http://test')))
