"""Radicale, a real CalDAV server (not a stand-in), run as a subprocess on a free loopback port with its storage in
a temporary folder and plain htpasswd users; each test gets a user of its own, and `calendar()` prepares that
user's calendars through the `caldav` client, as the host's own calendar app would. The fixtures are imported by
the conftest files that need them."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import caldav
import httpx
import pytest

from app.config import get_settings
from services.calendars import busy


@dataclass
class Radicale:
    url: str
    folder: Path
    process: subprocess.Popen[bytes]

    def add_user(self) -> CalDavUser:
        """A new user with a random name and password (Radicale reads the users file at every login)."""
        user = CalDavUser(self.url, f'host{secrets.token_hex(4)}', secrets.token_urlsafe(12))
        with (self.folder / 'users').open('a') as users:
            users.write(f'{user.username}:{user.password}\n')
        return user

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@dataclass
class CalDavUser:
    url: str
    username: str
    password: str
    calendars: dict[str, caldav.Calendar] = field(default_factory=dict)

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.url, username=self.username, password=self.password)

    def calendar(self, name: str) -> caldav.Calendar:
        """The user's calendar of this name, made on first use."""
        if name not in self.calendars:
            self.calendars[name] = self.client().principal().make_calendar(name=name, cal_id=name.lower())
        return self.calendars[name]

    def events(self, name: str) -> list[str]:
        """The iCalendar text of every event in a calendar, as the server stores it."""
        return [event.data for event in self.calendar(name).events()]


def serve(folder: Path) -> Radicale:
    """Start Radicale and wait until it answers (about two seconds)."""
    (folder / 'users').write_text('')
    port = _free_port()
    command = [
        sys.executable,
        '-m',
        'radicale',
        f'--storage-filesystem-folder={folder / "collections"}',
        '--auth-type=htpasswd',
        f'--auth-htpasswd-filename={folder / "users"}',
        '--auth-htpasswd-encryption=plain',
        '--auth-delay=0',
        f'--server-hosts=127.0.0.1:{port}',
        '--logging-level=warning',
    ]
    env = {k: v for k, v in os.environ.items() if k != 'PYTEST_CURRENT_TEST'}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return Radicale(url, folder, process)
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError('Radicale did not start') from None
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError('Radicale did not answer within 30 seconds')


def closed_url() -> str:
    """An address where nothing listens: a CalDAV server that is down."""
    return f'http://127.0.0.1:{_free_port()}/'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope='session')
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """One real Radicale CalDAV server for the run (each test takes a user of its own)."""
    server = serve(tmp_path_factory.mktemp('radicale'))
    yield server
    server.stop()


@pytest.fixture
def caldav_user(radicale_server: Radicale, monkeypatch: pytest.MonkeyPatch) -> Iterator[CalDavUser]:
    """A fresh Radicale user; CalDAV addresses on loopback are allowed, as for a home lab."""
    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)
    monkeypatch.setattr(get_settings(), 'calendar_timeout_seconds', 5)
    busy.reset_cache()
    yield radicale_server.add_user()
    busy.reset_cache()
