"""Sign-in plumbing: authlib OpenID Connect clients for the configured providers, full ID-token checks, the session
cookie, and safe redirect targets. The use cases (who may sign in, sessions in the database) are in
`services.accounts`."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import Response

from app.config import Settings

SESSION_COOKIE = 'cloudmeet_session'
ALLOWED_ALGORITHMS = frozenset({'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'})


class SignInFailed(Exception):
    """The provider's answer cannot be trusted; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    subject: str
    email: str
    email_verified: bool
    name: str


def oauth_clients(settings: Settings) -> OAuth:
    """One authlib client per configured provider, with PKCE (S256); state and nonce are authlib's."""
    oauth = OAuth()
    pkce = {'code_challenge_method': 'S256'}
    if settings.google_client_id:
        # Sign-in asks for identity only; calendar scopes are asked when the host connects a calendar.
        oauth.register(
            'google',
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            server_metadata_url=f'{settings.google_issuer}/.well-known/openid-configuration',
            client_kwargs={'scope': 'openid email profile', **pkce},
        )
    if settings.microsoft_client_id:
        oauth.register(
            'microsoft',
            client_id=settings.microsoft_client_id,
            client_secret=settings.microsoft_client_secret,
            server_metadata_url=(
                f'{settings.microsoft_login_url}/{settings.microsoft_tenant}/v2.0/.well-known/openid-configuration'
            ),
            client_kwargs={'scope': 'openid email profile', **pkce},
        )
    if settings.oidc_issuer and settings.oidc_client_id:
        oauth.register(
            'oidc',
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f'{settings.oidc_issuer.rstrip("/")}/.well-known/openid-configuration',
            client_kwargs={'scope': 'openid email profile', **pkce},
        )
    return oauth


def claims_options(provider: str, settings: Settings) -> dict[str, Any] | None:
    """Microsoft's multi-tenant metadata names the issuer as a template; each token must carry its own tenant's
    issuer. (A new dict each time: authlib consumes the `validate` entry of the dict it is given.)"""
    if provider != 'microsoft':
        return None
    login = settings.microsoft_login_url

    def tenant_issuer(claims: dict[str, Any], value: str) -> bool:
        tenant = claims.get('tid')
        return bool(tenant) and value == f'{login}/{tenant}/v2.0'

    return {'iss': {'essential': True, 'validate': tenant_issuer}}


def checked_claims(provider: str, token: dict[str, Any]) -> ProviderClaims:
    """The identity an ID token (already verified by authlib: signature, issuer, audience, expiry, nonce) names,
    after our own checks of the algorithm and of whether the provider verified the e-mail address."""
    id_token = token.get('id_token')
    claims = token.get('userinfo')
    if not id_token or not claims:
        raise SignInFailed('The provider did not send an ID token.')
    algorithm = _header(id_token).get('alg', '')
    if algorithm not in ALLOWED_ALGORITHMS:
        raise SignInFailed(f'The ID token is signed with an algorithm that is not accepted ({algorithm or "none"}).')
    if provider == 'microsoft':
        # Microsoft marks a verified address with `xms_edov` (or `email_verified`, with optional claims set up).
        verified = claims.get('email_verified') is True or claims.get('xms_edov') in (True, 1, '1', 'true')
    else:
        verified = claims.get('email_verified') in (True, 'true')
    return ProviderClaims(
        subject=str(claims['sub']),
        email=str(claims.get('email') or ''),
        email_verified=verified,
        name=str(claims.get('name') or ''),
    )


def _header(jwt: str) -> dict[str, Any]:
    try:
        encoded = jwt.split('.')[0]
        return json.loads(base64.urlsafe_b64decode(encoded + '=' * (-len(encoded) % 4)))
    except (ValueError, IndexError):
        return {}


def safe_next(target: str | None, default: str = '/dashboard') -> str:
    """A same-origin path to go to after signing in; anything else (other origins, `//host`, schemes) is refused."""
    if not target or not target.startswith('/') or target.startswith('//') or '\\' in target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def set_session_cookie(response: Response, token: str, settings: Settings, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite='lax', secure=settings.secure_cookies, path='/'
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path='/', httponly=True, samesite='lax', secure=settings.secure_cookies)


def session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, '')


def same_origin(request: Request, settings: Settings) -> bool:
    """A state-changing form post must come from our own pages (login CSRF and sign-out CSRF)."""
    fetch_site = request.headers.get('sec-fetch-site')
    if fetch_site is not None:  # browsers say it themselves (and send `Origin: null` from no-referrer pages)
        return fetch_site in ('same-origin', 'none')
    origin = request.headers.get('origin') or request.headers.get('referer') or ''
    if not origin or origin == 'null':
        return not origin
    mine, theirs = urlparse(settings.public_url), urlparse(origin)
    request_host = request.headers.get('host', '')
    return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc) or theirs.netloc == request_host
