"""Sign-in through the real server with the real authlib client: Google and Microsoft against a local OpenID
provider whose ID tokens the tests spoil on purpose, the generic provider against oidc-provider-mock, e-mailed
links, sessions and redirects. Every refusal shows a clear page and creates no session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread
from sqlmodel import select

from app import db
from app.db import session_scope
from app.models import ApiKey, Booking, EventType, Host, Identity, LoginLink, OutboxMessage, Schedule, UserSession
from services import accounts
from tests.e2e.server import running_server
from tests.fakes import oidc

COOKIE = 'cloudmeet_session'


@pytest.fixture(scope='module')
def providers() -> Iterator[dict]:
    fake, server = oidc.serve()
    users = [User(sub='grace', claims={'email': 'grace@example.org', 'email_verified': True, 'name': 'Grace Hopper'})]
    with run_server_in_thread(user_claims=users) as mock:
        yield {'fake': fake, 'mock': f'http://localhost:{mock.server_port}'}
    server.shutdown()


@pytest.fixture(scope='module')
def site(providers: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data_dir = tmp_path_factory.mktemp('sign-in')
    url = f'sqlite:///{data_dir / "cloudmeet.sqlite"}'
    engine = db.init_engine(url)
    db.migrate(engine)
    fake = providers['fake']
    env = {
        'AUTHLIB_INSECURE_TRANSPORT': '1',  # the local providers speak plain http
        'CLOUDMEET_GOOGLE_CLIENT_ID': 'google-client',
        'CLOUDMEET_GOOGLE_CLIENT_SECRET': 'google-secret',
        'CLOUDMEET_GOOGLE_ISSUER': f'{fake.url}/google',
        'CLOUDMEET_GOOGLE_REVOKE_URL': f'{fake.url}/google/revoke',
        'CLOUDMEET_MICROSOFT_CLIENT_ID': 'ms-client',
        'CLOUDMEET_MICROSOFT_CLIENT_SECRET': 'ms-secret',
        'CLOUDMEET_MICROSOFT_LOGIN_URL': f'{fake.url}/ms',
        'CLOUDMEET_MICROSOFT_TENANT': 'common',
        'CLOUDMEET_OIDC_ISSUER': providers['mock'],
        'CLOUDMEET_OIDC_CLIENT_ID': 'cloudmeet',
        'CLOUDMEET_OIDC_CLIENT_SECRET': 'mock-secret',
        'CLOUDMEET_OIDC_NAME': 'Company SSO',
    }
    with running_server(data_dir=data_dir, env=env) as base:
        yield {'base': base, 'fake': fake, 'mock': providers['mock'], 'data_dir': data_dir}
    engine.dispose()


@pytest.fixture(autouse=True)
def fresh(site: dict) -> None:
    fake = site['fake']
    fake.spoil, fake.alg, fake.revoke_status = {}, 'RS256', 200
    fake.user = {'sub': 'ada-google', 'email': 'ada@example.com', 'email_verified': True, 'name': 'Ada Lovelace'}
    with session_scope(write=True) as session:
        for host in session.exec(select(Host)):
            session.delete(host)
        for row in session.exec(select(UserSession)):
            session.delete(row)
        for row in session.exec(select(LoginLink)):
            session.delete(row)


def sign_in(base: str, provider: str, client: httpx.Client | None = None, query: str = '') -> httpx.Response:
    """Walk the redirects of a provider sign-in; returns the app's answer to the callback."""
    client = client or httpx.Client(timeout=20)
    answer = client.get(f'{base}/auth/login/{provider}{query}')
    assert answer.status_code == 302, answer.text
    while answer.status_code in (302, 303) and not answer.headers['location'].startswith(f'{base}/auth/callback'):
        answer = client.get(answer.headers['location'])
        if answer.status_code == 200 and 'Authorize' in answer.text:  # oidc-provider-mock's consent form
            answer = client.post(str(answer.url), data={'sub': 'grace'})
    return client.get(answer.headers['location'])


def sessions() -> list[UserSession]:
    with session_scope() as session:
        return list(session.exec(select(UserSession)))


def onboard(token: str, username: str = 'ada') -> Host:
    with session_scope(write=True) as session:
        return accounts.complete_onboarding(
            session,
            token=token,
            name='Ada Lovelace',
            username=username,
            timezone='Europe/London',
            now=datetime.now(timezone.utc),
        )


def test_google_sign_in_sends_pkce_state_and_nonce_then_onboards_and_signs_in_again(site: dict) -> None:
    client = httpx.Client(timeout=20)
    answer = sign_in(site['base'], 'google', client)
    request = site['fake'].authorize_requests[-1]
    assert request['code_challenge_method'] == 'S256' and len(request['code_challenge']) >= 43
    assert request['state'] and request['nonce'] and request['scope'] == 'openid email profile'
    assert answer.status_code == 303 and answer.headers['location'] == '/onboarding'
    cookie = answer.cookies[COOKIE]
    set_cookie = answer.headers['set-cookie'].lower()
    assert 'httponly' in set_cookie and 'samesite=lax' in set_cookie
    host = onboard(cookie)
    assert host.is_owner  # the first account owns the instance
    assert client.get(f'{site["base"]}/api/v1/me').json()['username'] == 'ada'
    with session_scope() as session:
        identity = session.exec(select(Identity).where(Identity.provider == 'google')).one()
    assert identity.subject == 'ada-google' and identity.refresh_token_encrypted
    assert b'refresh-' not in identity.refresh_token_encrypted  # encrypted at rest
    again = sign_in(site['base'], 'google', client)
    assert again.headers['location'] == '/dashboard'
    assert again.cookies[COOKIE] != cookie  # a new session at every sign-in


def test_microsoft_tokens_are_checked_against_their_own_tenants_issuer(site: dict) -> None:
    fake = site['fake']
    fake.user = {
        'sub': 'ada-ms',
        'tid': 'tenant-a',
        'email': 'ada@example.com',
        'xms_edov': True,
        'name': 'Ada Lovelace',
    }
    answer = sign_in(site['base'], 'microsoft')
    assert answer.status_code == 303 and answer.headers['location'] == '/onboarding'
    fake.spoil = {'iss': f'{fake.url}/ms/tenant-b/v2.0'}  # signed properly, but another tenant's issuer
    refused = sign_in(site['base'], 'microsoft')
    assert refused.status_code == 400 and 'Sign-in failed' in refused.text and COOKIE not in refused.cookies


def test_the_generic_provider_signs_in_against_oidc_provider_mock(site: dict) -> None:
    answer = sign_in(site['base'], 'oidc')
    assert answer.status_code == 303 and answer.headers['location'] == '/onboarding', answer.text
    [pending] = [s for s in sessions() if s.pending]
    assert pending.pending['email'] == 'grace@example.org' and pending.pending['provider'] == 'oidc'


@pytest.mark.parametrize(
    ('spoil', 'alg'),
    [
        ({'iss': 'https://evil.example'}, 'RS256'),
        ({'aud': 'another-client'}, 'RS256'),
        ({'nonce': 'replayed-nonce'}, 'RS256'),
        ({'exp': int(time.time()) - 3600, 'iat': int(time.time()) - 7200}, 'RS256'),
        ({}, 'none'),
    ],
)
def test_an_id_token_that_fails_any_check_creates_no_session(site: dict, spoil: dict, alg: str) -> None:
    site['fake'].spoil, site['fake'].alg = spoil, alg
    answer = sign_in(site['base'], 'google')
    assert answer.status_code == 400 and 'Sign-in failed' in answer.text
    assert COOKIE not in answer.cookies and sessions() == []


def test_an_unverified_e_mail_is_not_trusted(site: dict) -> None:
    site['fake'].user = {'sub': 'x', 'email': 'ada@example.com', 'email_verified': False}
    answer = sign_in(site['base'], 'google')
    assert answer.status_code == 403 and 'did not confirm your e-mail address' in answer.text
    assert sessions() == []


def test_a_new_identity_is_never_attached_to_an_existing_account_by_e_mail(site: dict) -> None:
    onboard(sign_in(site['base'], 'google').cookies[COOKIE])
    site['fake'].user = {'sub': 'ada-ms', 'tid': 'tenant-a', 'email': 'ada@example.com', 'xms_edov': True}
    answer = sign_in(site['base'], 'microsoft')
    assert answer.status_code == 403 and 'sign in the way you usually do' in answer.text.lower()
    with session_scope() as session:
        assert [i.provider for i in session.exec(select(Identity))] == ['google']


def test_missing_tampered_or_replayed_state_is_refused(site: dict) -> None:
    base, client = site['base'], httpx.Client(timeout=20)
    start = client.get(f'{base}/auth/login/google')
    at_provider = client.get(start.headers['location'])
    callback = at_provider.headers['location']
    query = parse_qs(urlparse(callback).query)
    missing = client.get(f'{base}/auth/callback/google?code={query["code"][0]}')
    tampered = client.get(f'{base}/auth/callback/google?code={query["code"][0]}&state=forged')
    for answer in (missing, tampered):
        assert answer.status_code == 400 and 'not valid any more' in answer.text and COOKIE not in answer.cookies
    assert client.get(callback).status_code == 303  # the genuine one still works once...
    replayed = client.get(callback)
    assert replayed.status_code == 400 and COOKIE not in replayed.cookies  # ...and only once


@pytest.mark.parametrize(
    'target', ['//evil.example/x', 'https://evil.example', 'javascript:alert(1)', '/\\evil.example']
)
def test_a_sign_in_that_would_lead_to_another_site_is_refused_with_no_session(site: dict, target: str) -> None:
    for path in (f'/auth/login/google?next={quote(target)}', f'/login?next={quote(target)}'):
        answer = httpx.get(f'{site["base"]}{path}')
        assert answer.status_code == 400 and 'another site' in answer.text and COOKIE not in answer.cookies
    assert sessions() == []


def test_after_sign_in_the_requested_page_of_this_site_opens(site: dict) -> None:
    onboard(sign_in(site['base'], 'google').cookies[COOKIE])
    assert sign_in(site['base'], 'google', query='?next=/settings').headers['location'] == '/settings'


def link_for(email: str, minutes_ago: int = 0) -> str:
    with session_scope(write=True) as session:
        token = accounts.request_login_link(
            session, email=email, now=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
        )
    assert token
    return token


def test_an_e_mailed_link_opens_a_page_and_only_its_post_signs_in_once(site: dict) -> None:
    base, client = site['base'], httpx.Client(timeout=20)
    token = link_for('new@example.com')
    page = client.get(f'{base}/auth/email/{token}')
    assert page.status_code == 200 and 'method="post"' in page.text and COOKIE not in page.cookies
    assert page.headers['referrer-policy'] == 'no-referrer'
    signed = client.post(f'{base}/auth/email/{token}', headers={'origin': base})
    assert signed.status_code == 303 and signed.headers['location'] == '/onboarding'
    again = httpx.post(f'{base}/auth/email/{token}', headers={'origin': base})
    assert again.status_code == 403 and 'already used or has expired' in again.text
    expired = link_for('late@example.com', minutes_ago=16)
    assert httpx.post(f'{base}/auth/email/{expired}', headers={'origin': base}).status_code == 403
    forged = httpx.post(f'{base}/auth/email/{link_for("x@example.com")}', headers={'origin': 'https://evil.example'})
    assert forged.status_code == 403 and COOKIE not in forged.cookies


def test_a_signed_out_cookie_gives_no_access_and_sign_out_everywhere_ends_every_session(site: dict) -> None:
    base = site['base']
    first = httpx.Client(timeout=20)
    onboard(sign_in(base, 'google', first).cookies[COOKIE])
    second = httpx.Client(timeout=20)
    sign_in(base, 'google', second)
    old_cookie = first.cookies[COOKIE]
    assert first.get(f'{base}/api/v1/me').status_code == 200
    forged = first.post(f'{base}/auth/logout', headers={'origin': 'https://evil.example'})
    assert forged.status_code == 403 and first.get(f'{base}/api/v1/me').status_code == 200
    out = first.post(f'{base}/auth/logout', headers={'origin': base})
    assert out.status_code == 303
    replay = httpx.get(f'{base}/api/v1/me', cookies={COOKIE: old_cookie})
    assert replay.status_code == 401
    assert httpx.get(f'{base}/dashboard', cookies={COOKIE: old_cookie}).status_code == 303
    assert second.get(f'{base}/api/v1/me').status_code == 200
    second.post(f'{base}/auth/logout-everywhere', headers={'origin': base})
    assert sessions() == []


def test_cookie_authenticated_api_changes_must_come_from_this_site(site: dict) -> None:
    base, client = site['base'], httpx.Client(timeout=20)
    onboard(sign_in(base, 'google', client).cookies[COOKIE])
    forged = client.delete(f'{base}/api/v1/me', headers={'origin': 'https://sibling.example'})
    assert forged.status_code == 401 and client.get(f'{base}/api/v1/me').status_code == 200


def test_host_pages_and_api_need_a_session_and_public_ones_stay_open(site: dict) -> None:
    base = site['base']
    for path in ('/dashboard', '/settings', '/onboarding'):
        answer = httpx.get(f'{base}{path}')
        assert answer.status_code == 303 and answer.headers['location'].startswith('/login')
    assert httpx.get(f'{base}/api/v1/me').status_code == 401
    assert httpx.get(f'{base}/api/v1/me/export').status_code == 401
    assert httpx.get(f'{base}/account/export.json').status_code == 401
    assert httpx.get(f'{base}/privacy').status_code == 200
    assert httpx.get(f'{base}/login').status_code == 200


def test_deleting_the_account_revokes_google_access_and_removes_every_row(site: dict) -> None:
    base, client = site['base'], httpx.Client(timeout=20)
    onboard(sign_in(base, 'google', client).cookies[COOKIE])
    export = client.get(f'{base}/api/v1/me/export').json()
    assert export['profile']['username'] == 'ada' and export['sign_in'][0]['provider'] == 'google'
    assert 'refresh' not in str(export) and 'token_hash' not in str(export)
    site['fake'].revoke_status = 503  # Google is down: the deletion still completes
    assert client.delete(f'{base}/api/v1/me').status_code == 204
    assert site['fake'].revoked and site['fake'].revoked[-1].startswith('refresh-')
    with session_scope() as session:
        for model in (Host, Identity, UserSession, EventType, Schedule, Booking, ApiKey, OutboxMessage, LoginLink):
            assert session.exec(select(model)).all() == [], model.__name__
    assert client.get(f'{base}/api/v1/me').status_code == 401


def test_a_revoked_token_and_the_session_secret_never_reach_the_log(site: dict, tmp_path: Path) -> None:
    base, client = site['base'], httpx.Client(timeout=20)
    onboard(sign_in(base, 'google', client).cookies[COOKIE])
    site['fake'].revoke_status = 200
    assert client.delete(f'{base}/api/v1/me').status_code == 204
    revoked = site['fake'].revoked[-1]
    log = (site['data_dir'] / 'server.log').read_text()
    assert revoked not in log and client.cookies[COOKIE] not in log  # no token or session secret is logged


def test_connecting_google_calendar_asks_for_calendar_access_offline_and_stores_the_grant(site: dict) -> None:
    from app.models import CalendarConnection

    base, client = site['base'], httpx.Client(timeout=20)
    onboard(sign_in(base, 'google', client).cookies[COOKIE])
    answer = sign_in(base, 'google', client, query='?connect=calendar')
    request = site['fake'].authorize_requests[-1]
    assert request['access_type'] == 'offline' and request['prompt'] == 'consent'
    assert 'https://www.googleapis.com/auth/calendar.freebusy' in request['scope']
    assert 'https://www.googleapis.com/auth/calendar.events' in request['scope']
    assert answer.status_code == 303 and answer.headers['location'] == '/integrations'
    with session_scope() as session:
        [connection] = session.exec(select(CalendarConnection)).all()
    assert connection.provider == 'google' and connection.label == 'ada@example.com'
    assert b'refresh-' not in connection.secret_encrypted
    anonymous = sign_in(base, 'google', query='?connect=calendar')  # not signed in: nothing is connected
    assert anonymous.status_code == 401
