"""The pages at the edge: an upload over the body limit is refused before it is read (the picture is unchanged),
and behind https the session cookie is Secure, HSTS is sent and pages carry a content security policy."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nicegui.testing.user import User

from app.db import session_scope
from app.models import Host
from tests.ui.test_host_pages import PNG, ada  # noqa: F401 - the signed-in host fixture

LIMIT = 1024 * 1024


def multipart(name: str, data: bytes, kind: str) -> tuple[bytes, str]:
    boundary = 'cloudmeet-boundary'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f'Content-Type: {kind}\r\n\r\n').encode() + data + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


async def upload_url(user: User) -> str:
    await user.open('/settings')
    await user.should_see(marker='avatar-upload', retries=40)
    [upload] = user.find(marker='avatar-upload').elements
    return upload.props['url']


def stored_avatar() -> bytes | None:
    with session_scope() as session:
        return session.get(Host, 1).avatar  # type: ignore[union-attr]


async def test_a_picture_upload_over_the_body_limit_is_a_413_and_nothing_is_stored(user: User, ada: dict) -> None:
    url = await upload_url(user)
    body, kind = multipart('huge.png', PNG + b'\0' * (2 * LIMIT), 'image/png')
    refused = await user.http_client.post(url, content=body, headers={'Content-Type': kind})
    assert refused.status_code == 413 and 'larger than' in refused.json()['detail']

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]
    streamed = await user.http_client.post(url, content=stream(), headers={'Content-Type': kind})
    assert streamed.status_code == 413
    assert stored_avatar() is None


async def test_a_picture_within_the_limit_is_still_uploaded(user: User, ada: dict) -> None:
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
        https_user: User) -> None:
    answer = await https_user.http_client.get('/login')
    cookies = answer.headers.get_list('set-cookie')
    session = [c for c in cookies if c.startswith('session=')]
    assert session and all('secure' in c.lower() and 'httponly' in c.lower() and 'samesite=lax' in c.lower()
                           for c in session)
    assert answer.headers['strict-transport-security'].startswith('max-age=')
    policy = answer.headers['content-security-policy']
    for rule in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'self'",
                 "connect-src 'self'"):
        assert rule in policy
    assert 'http:' not in policy and '*' not in policy


async def test_over_plain_http_no_hsts_is_sent(user: User) -> None:
    answer = await user.http_client.get('/login')
    assert 'strict-transport-security' not in answer.headers
    assert "default-src 'self'" in answer.headers['content-security-policy']
