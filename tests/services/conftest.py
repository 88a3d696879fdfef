"""Fixtures shared by the service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import get_settings
from services.calendars import busy
from tests.fakes import google_calendar
from tests.fakes.radicale import caldav_user, radicale_server  # noqa: F401 - fixtures


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[google_calendar.FakeGoogle]:
    """Google's token, revoke and Calendar endpoints on loopback, with the real client pointed at them."""
    fake, server = google_calendar.serve()
    settings = get_settings()
    for name, value in (
        ('google_api_url', fake.api_url),
        ('google_token_url', f'{fake.url}/token'),
        ('google_client_id', 'client'),
        ('google_client_secret', 'secret'),
        ('google_revoke_url', f'{fake.url}/revoke'),
        ('calendar_timeout_seconds', 5),
    ):
        monkeypatch.setattr(settings, name, value)
    busy.reset_cache()
    yield fake
    server.shutdown()
    busy.reset_cache()
