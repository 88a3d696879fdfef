"""A local OpenID Connect provider for sign-in tests, speaking the real protocol (discovery, authorization code
with PKCE, token endpoint, JWKS, revocation), whose ID tokens the test can spoil on purpose: wrong issuer,
audience or nonce, expired, `alg: none`, unverified e-mail. Several providers live under path prefixes
(`/google`, `/ms`), each with its own issuer; Microsoft-style ones name the issuer per tenant."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.http import JsonHandler, start


@dataclass
class FakeProvider:
    url: str = ''
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={'kid': 'test-key'}))
    user: dict[str, Any] = field(
        default_factory=lambda: {
            'sub': 'user-1',
            'email': 'ada@example.com',
            'email_verified': True,
            'name': 'Ada Lovelace',
        }
    )
    spoil: dict[str, Any] = field(default_factory=dict)  # claims to override in the next ID tokens
    alg: str = 'RS256'  # 'none' makes an unsigned token
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    revoke_status: int = 200
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def issuer(self, prefix: str) -> str:
        if prefix == 'ms':  # Microsoft: each tenant has its own issuer; the metadata names a template
            return f'{self.url}/ms/{self.user.get("tid", "tenant-a")}/v2.0'
        return f'{self.url}/{prefix}'

    def metadata(self, prefix: str) -> dict[str, Any]:
        base = f'{self.url}/{prefix}'
        issuer = f'{self.url}/ms/{{tenantid}}/v2.0' if prefix == 'ms' else base
        return {
            'issuer': issuer,
            'authorization_endpoint': f'{base}/authorize',
            'token_endpoint': f'{base}/token',
            'jwks_uri': f'{self.url}/jwks',
            'userinfo_endpoint': f'{base}/userinfo',
            'response_types_supported': ['code'],
            'subject_types_supported': ['public'],
            'id_token_signing_alg_values_supported': ['RS256'],
            'code_challenge_methods_supported': ['S256'],
        }

    def id_token(self, prefix: str, client_id: str, nonce: str) -> str:
        now = int(time.time())
        claims = {
            'iss': self.issuer(prefix),
            'aud': client_id,
            'iat': now,
            'exp': now + 600,
            'nonce': nonce,
            **self.user,
            **self.spoil,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        if self.alg == 'none':

            def part(data: dict) -> str:
                return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b'=').decode()

            return f'{part({"alg": "none", "typ": "JWT"})}.{part(claims)}.'
        return jwt.encode({'alg': self.alg, 'kid': 'test-key'}, claims, self.key)


def serve() -> tuple[FakeProvider, ThreadingHTTPServer]:
    fake = FakeProvider()

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            (self.get if method == 'GET' else self.post)()

        def get(self) -> None:
            url = urlparse(self.path)
            parts = url.path.strip('/').split('/')
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == '/jwks':
                return self.send_json(200, {'keys': [fake.key.as_dict(private=False)]})
            prefix = parts[0]
            if url.path.endswith('/.well-known/openid-configuration'):
                return self.send_json(200, fake.metadata(prefix))
            if parts[-1] == 'authorize':
                fake.authorize_requests.append(query)
                code = secrets.token_urlsafe(16)
                fake.codes[code] = {
                    'nonce': query.get('nonce', ''),
                    'client_id': query['client_id'],
                    'prefix': prefix,
                    'challenge': query.get('code_challenge', ''),
                }
                target = f'{query["redirect_uri"]}?{urlencode({"code": code, "state": query.get("state", "")})}'
                return self.send_json(302, headers={'Location': target})
            if parts[-1] == 'userinfo':
                return self.send_json(200, fake.user)
            self.send_json(404, {'error': 'not_found'})

        def post(self) -> None:
            url = urlparse(self.path)
            form = {
                k: v[0]
                for k, v in parse_qs(self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()).items()
            }
            if url.path.endswith('/revoke'):
                fake.revoked.append(form.get('token', ''))
                return self.send_json(fake.revoke_status, {} if fake.revoke_status == 200 else {'error': 'invalid'})
            if url.path.endswith('/token'):
                grant = fake.codes.pop(form.get('code', ''), None)
                if grant is None:
                    return self.send_json(400, {'error': 'invalid_grant'})
                verifier = form.get('code_verifier', '').encode()
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b'=').decode()
                if not grant['challenge'] or expected != grant['challenge']:  # PKCE (S256), as providers check it
                    return self.send_json(400, {'error': 'invalid_grant', 'error_description': 'PKCE verification'})
                return self.send_json(
                    200,
                    {
                        'access_token': secrets.token_urlsafe(16),
                        'token_type': 'Bearer',
                        'expires_in': 3600,
                        'refresh_token': f'refresh-{secrets.token_urlsafe(8)}',
                        'id_token': fake.id_token(grant['prefix'], grant['client_id'], grant['nonce']),
                    },
                )
            self.send_json(404, {'error': 'not_found'})

    server, fake.url = start(Handler)
    return fake, server
