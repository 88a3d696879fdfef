"""The guarded HTTP session of the CalDAV client, against a real Radicale server: a host name is checked once and
the connection goes to exactly the address the check answered (no second DNS lookup), with the name kept in the
Host header, the next checked address when one cannot be connected to; a host the check refuses is never
contacted."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from app.errors import InvalidInput
from services.calendars import dav_http
from services.calendars.errors import ProviderError
from tests.fakes import radicale


def test_a_checked_name_is_reached_at_the_address_the_check_gave(radicale_server: radicale.Radicale) -> None:
    port = urlparse(radicale_server.url).port
    checked: list[str] = []

    def check(url: str, *, allow_private: bool) -> list[str]:
        checked.append(url)
        return ['127.0.0.1']  # 'calendar.invalid' has no DNS answer at all: only the checked address can work

    session, _ = dav_http.session(allow_private=True, timeout=5, check=check)
    with session:
        for _ in range(2):
            answer = session.request('PROPFIND', f'http://calendar.invalid:{port}/', headers={'Depth': '0'})
            assert answer.status_code == 401  # Radicale answered (it wants a password)
    assert checked == [f'http://calendar.invalid:{port}/']  # resolved once for the session


def test_a_host_the_check_refuses_is_never_contacted(radicale_server: radicale.Radicale) -> None:
    def refuse(url: str, *, allow_private: bool) -> list[str]:
        raise InvalidInput('CalDAV servers on private or local network addresses are not allowed')

    session, _ = dav_http.session(allow_private=False, timeout=5, check=refuse)
    with session, pytest.raises(ProviderError, match='private or local network'):
        session.get(radicale_server.url)


def test_a_checked_address_that_cannot_be_connected_to_gives_way_to_the_next(
    radicale_server: radicale.Radicale,
) -> None:
    port = urlparse(radicale_server.url).port

    def check(url: str, *, allow_private: bool) -> list[str]:
        return ['127.0.0.3', '127.0.0.1']  # nothing listens on 127.0.0.3 (Radicale is on 127.0.0.1): refused there

    session, _ = dav_http.session(allow_private=True, timeout=5, check=check)
    with session:
        answer = session.request('PROPFIND', f'http://calendar.invalid:{port}/', headers={'Depth': '0'})
    assert answer.status_code == 401  # Radicale answered at the second address
