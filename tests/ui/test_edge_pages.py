"""The pages at the edge: an upload over the body limit is refused before it is read (the picture is unchanged);
behind https the session cookie is Secure, HSTS is sent and pages carry a content security policy; a booking over
the address limit gets a friendly message; a released username's pages lead to the new one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from nicegui.testing.user import User
from sqlmodel import select

from app.db import session_scope
from app.models import Host
from services import hosts
from tests.factories import make_event_type, make_host
from tests.ui import test_host_pages
from tests.ui.test_host_pages import PNG

LIMIT = 1024 * 1024


@pytest.fixture
def signed_in(user: User) -> dict:
    """Ada, signed in (as in the host page tests)."""
    return test_host_pages.ada.__wrapped__(user)  # type: ignore[attr-defined]


def multipart(name: str, data: bytes, kind: str) -> tuple[bytes, str]:
    boundary = 'cloudmeet-boundary'
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f'Content-Type: {kind}\r\n\r\n'
        ).encode()
        + data
        + f'\r\n--{boundary}--\r\n'.encode()
    )
    return body, f'multipart/form-data; boundary={boundary}'


async def upload_url(user: User) -> str:
    await user.open('/settings')
    await user.should_see(marker='avatar-upload', retries=40)
    [upload] = user.find(marker='avatar-upload').elements
    return upload.props['url']


def stored_avatar() -> bytes | None:
    with session_scope() as session:
        return session.get(Host, 1).avatar  # type: ignore[union-attr]


async def test_a_picture_upload_over_the_body_limit_is_a_413_and_nothing_is_stored(user: User, signed_in: dict) -> None:
    url = await upload_url(user)
    body, kind = multipart('huge.png', PNG + b'\0' * (2 * LIMIT), 'image/png')
    refused = await user.http_client.post(url, content=body, headers={'Content-Type': kind})
    assert refused.status_code == 413 and 'larger than' in refused.json()['detail']

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    streamed = await user.http_client.post(url, content=stream(), headers={'Content-Type': kind})
    assert streamed.status_code == 413
    assert stored_avatar() is None


async def test_a_picture_within_the_limit_is_still_uploaded(user: User, signed_in: dict) -> None:
    url = await upload_url(user)
    body, kind = multipart('me.png', PNG, 'image/png')
    assert (await user.http_client.post(url, content=body, headers={'Content-Type': kind})).status_code == 200
    await user.should_see('Picture saved', retries=40)
    assert stored_avatar() == PNG


@pytest.fixture
def https_user(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> User:
    monkeypatch.setenv('CLOUDMEET_BASE_URL', 'https://meet.example.com')
    return request.getfixturevalue('user')


async def test_behind_https_the_session_cookie_is_secure_and_hsts_and_a_strict_policy_are_sent(
    https_user: User,
) -> None:
    answer = await https_user.http_client.get('/login')
    cookies = answer.headers.get_list('set-cookie')
    session = [c for c in cookies if c.startswith('session=')]
    assert session and all(
        'secure' in c.lower() and 'httponly' in c.lower() and 'samesite=lax' in c.lower() for c in session
    )
    assert answer.headers['strict-transport-security'].startswith('max-age=')
    policy = answer.headers['content-security-policy']
    for rule in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
        "connect-src 'self'",
    ):
        assert rule in policy
    assert 'http:' not in policy and '*' not in policy


async def test_over_plain_http_no_hsts_is_sent(user: User) -> None:
    answer = await user.http_client.get('/login')
    assert 'strict-transport-security' not in answer.headers
    assert "default-src 'self'" in answer.headers['content-security-policy']


@pytest.fixture
def limited_user(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> User:
    monkeypatch.setenv('CLOUDMEET_BOOKING_RATE_LIMIT', '2/10m')
    return request.getfixturevalue('user')


async def test_a_booking_over_the_address_limit_gets_a_friendly_message_and_books_nothing(limited_user: User) -> None:
    from app.models import Booking, BookingRateEvent
    from tests.ui.test_booking_pages import fill_form, pick_first_time

    user = limited_user
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        call = make_event_type(
            session,
            host,
            slug='call',
            title='Intro call',
            questions=[{'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': True}],
        )
        for minutes in (1, 2):  # this address booked twice in the last minutes (from any process)
            session.add(
                BookingRateEvent(client='127.0.0.1', created_at=datetime.now(timezone.utc) - timedelta(minutes=minutes))
            )
    await user.open('/ada/call')
    await pick_first_time(user, call)
    await fill_form(user)
    user.find(marker='confirm').click()
    await user.should_see('please wait about 8 minutes before booking again', retries=40)
    with session_scope() as session:
        assert session.exec(select(Booking)).all() == []


async def test_a_released_usernames_pages_lead_to_the_new_username(user: User) -> None:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        make_event_type(session, host, slug='call', title='Intro call')
    with session_scope(write=True) as session:
        hosts.update_profile(session=session, host_id=host.id, changes={'username': 'ada-lovelace'})
    page = await user.http_client.get('/ada', follow_redirects=False)
    assert page.status_code == 307 and page.headers['location'] == '/ada-lovelace'
    booking = await user.http_client.get('/ada/call?tz=Europe/Paris&date=2030-01-07', follow_redirects=False)
    assert booking.status_code == 307
    assert booking.headers['location'] == '/ada-lovelace/call?tz=Europe/Paris&date=2030-01-07'
    await user.open('/ada/call')
    await user.should_see('Intro call')
    assert (await user.http_client.get('/nobody', follow_redirects=False)).status_code == 404
