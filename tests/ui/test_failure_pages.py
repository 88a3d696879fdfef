"""Pages that fail: a calm 503 while the database refuses connections (and the page is back when it returns), a
generic page with a reference id for anything else; never an exception text, a host name or a port."""

from __future__ import annotations

import re
import socket

import pytest
from nicegui.testing.user import User

from app import db
from app.db import session_scope
from services import public
from tests.factories import make_host


def closed_port() -> int:
    """A local port nobody listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture
def ada() -> None:
    with session_scope(write=True) as session:
        make_host(session, name='Ada Lovelace')


@pytest.fixture
def refused(caplog: pytest.LogCaptureFixture) -> object:
    """Swap the app's database for one that refuses connections; the real one comes back afterwards."""
    real = db.get_engine()

    class Outage:
        port = closed_port()

        def start(self) -> None:
            db.use_engine(db.create_db_engine(f'postgresql+psycopg://cloudmeet@127.0.0.1:{self.port}/cloudmeet'))

        def end(self) -> None:
            db.get_engine().dispose()
            db.use_engine(real)
            caplog.clear()  # NiceGUI logs every page exception at ERROR; these are expected here

    outage = Outage()
    yield outage
    outage.end()


async def test_a_database_that_refuses_connections_gives_a_calm_503_and_the_page_returns_with_it(
    user: User, ada: None, refused: object
) -> None:
    refused.start()  # type: ignore[attr-defined]
    for path in ('/ada', '/ada/call', '/', '/login'):
        response = await user.http_client.get(path)
        if path in ('/', '/login') and response.status_code == 200:
            continue  # a page that needs no database keeps working
        assert response.status_code == 503, path
        assert response.headers['Retry-After'] == '5'
        assert 'temporarily unavailable' in response.text and 'try again in a moment' in response.text
        assert_nothing_leaks(response.text, refused.port)  # type: ignore[attr-defined]
    refused.end()  # type: ignore[attr-defined]
    await user.open('/ada')
    await user.should_see('Ada Lovelace')


async def test_any_other_failure_shows_a_reference_that_the_log_carries_with_the_details(
    user: User, ada: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: object) -> None:
        raise TypeError('unsupported operand at db.internal.example:6543')

    monkeypatch.setattr(public, 'host_page', broken)
    response = await user.http_client.get('/ada')
    assert response.status_code == 500
    reference = re.search(r'reference: ([0-9A-F]{8})', response.text)
    assert reference and 'Something went wrong' in response.text
    assert_nothing_leaks(response.text, 6543)
    assert any(reference.group(1) in r.getMessage() and r.exc_info for r in caplog.records)
    caplog.clear()


def assert_nothing_leaks(page: str, port: int) -> None:
    for secret in (
        'OperationalError',
        'TypeError',
        'Traceback',
        '127.0.0.1',
        'db.internal',
        str(port),
        'connection',
        'psycopg',
        'sqlalchemy',
    ):
        assert secret not in page, secret


async def test_health_and_readiness_tell_a_load_balancer_what_it_needs(user: User, refused: object) -> None:
    healthy = await user.http_client.get('/healthz')
    ready = await user.http_client.get('/readyz')
    assert healthy.status_code == 200 and healthy.text == 'ok'
    assert ready.status_code == 200 and ready.json()['ready'] is True
    assert 'set-cookie' not in healthy.headers  # no session is made for a probe
    refused.start()  # type: ignore[attr-defined]
    assert (await user.http_client.get('/healthz')).status_code == 200  # the process still answers
    down = await user.http_client.get('/readyz')
    assert down.status_code == 503 and down.json() == {'ready': False, 'detail': 'the database cannot be reached'}
    refused.end()  # type: ignore[attr-defined]
    assert (await user.http_client.get('/readyz')).status_code == 200
