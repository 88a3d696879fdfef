"""Forwarded headers through the real server: X-Forwarded-For is believed only from CLOUDMEET_TRUSTED_PROXIES (by
default from nobody, not even loopback), as the booking limit per client address shows."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.server import running_server
from tests.e2e.test_email_delivery import MONDAY, prepare
from tests.factories import at


def book(base: str, clock: str, forwarded_for: str) -> int:
    return httpx.post(
        f'{base}/api/v1/public/ada/call/bookings',
        timeout=30,
        headers={'X-Forwarded-For': forwarded_for},
        json={
            'start': at(MONDAY, clock).isoformat(),
            'name': 'Grace',
            'email': 'grace@example.com',
            'timezone': 'Europe/London',
        },
    ).status_code


def statuses(tmp_path: Path, env: dict[str, str]) -> list[int]:
    url = f'sqlite:///{tmp_path / "cloudmeet.sqlite"}'
    with running_server(
        data_dir=tmp_path, database_url=url, env={'CLOUDMEET_BOOKING_RATE_LIMIT': '1/10m', **env}
    ) as base:
        prepare(url)
        return [book(base, '10:00', '203.0.113.7'), book(base, '11:00', '198.51.100.9')]


def test_by_default_a_forwarded_address_is_ignored_even_from_loopback(tmp_path: Path) -> None:
    assert statuses(tmp_path, {}) == [201, 429]  # both count for the connecting address


def test_a_configured_proxys_forwarded_addresses_are_believed(tmp_path: Path) -> None:
    assert statuses(tmp_path, {'CLOUDMEET_TRUSTED_PROXIES': '127.0.0.1'}) == [201, 201]
