"""The one settings object: environment variables (prefix CLOUDMEET_) or a `.env` file."""

from __future__ import annotations

import json
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import files

SECRETS_FILE = 'secrets.json'


class Settings(BaseSettings):
    """Everything an operator can configure; secrets not given are generated once into the data dir."""

    model_config = SettingsConfigDict(env_prefix='CLOUDMEET_', env_file='.env', extra='ignore')

    host: str = '127.0.0.1'
    port: int = 8080
    base_url: str = ''
    data_dir: Path = Path('data')
    database_url: str = ''
    log_level: str = 'INFO'
    log_format: Literal['text', 'json'] = 'text'  # json: one object per line, with the request id

    secret_key: str = ''
    _generated: list[str] = PrivateAttr(default_factory=list)  # secrets filled in from the data dir, not set
    encryption_keys: str = ''

    google_client_id: str = ''
    google_client_secret: str = ''
    microsoft_client_id: str = ''
    microsoft_client_secret: str = ''
    microsoft_tenant: str = 'common'
    oidc_issuer: str = ''
    oidc_client_id: str = ''
    oidc_client_secret: str = ''
    oidc_name: str = 'Single sign-on'

    resend_api_key: str = ''
    resend_api_url: str = 'https://api.resend.com'
    smtp_host: str = ''
    smtp_port: int = 587
    smtp_username: str = ''
    smtp_password: str = ''
    smtp_security: str = 'starttls'
    mail_from: str = 'CloudMeet <noreply@localhost>'
    run_jobs: bool = True  # send e-mails and reminders from this process (safe in several: claims are atomic)
    outbox_poll_seconds: float = Field(default=15, gt=0, le=60)

    google_issuer: str = 'https://accounts.google.com'
    google_revoke_url: str = 'https://oauth2.googleapis.com/revoke'
    microsoft_login_url: str = 'https://login.microsoftonline.com'
    google_api_url: str = 'https://www.googleapis.com/calendar/v3/'
    google_token_url: str = 'https://oauth2.googleapis.com/token'
    microsoft_graph_url: str = 'https://graph.microsoft.com/v1.0'

    allowed_emails: str = ''
    privacy_contact: str = ''
    calendar_fresh_seconds: float = Field(default=60, ge=0)  # busy times younger than this are used as they are
    calendar_tolerance_seconds: float = Field(default=600, ge=0)  # older ones are used while a refresh fails
    calendar_timeout_seconds: float = Field(default=8, gt=0)
    allow_private_calendar_urls: bool = False  # ICS feeds on private or loopback addresses (tests, home labs)
    allow_private_webhook_urls: bool = False  # webhook endpoints on private or loopback addresses (tests, labs)
    microsoft_ca_bundle: str = ''  # a CA file to trust for Microsoft's endpoints (TLS-inspecting proxies, tests)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger request bodies are refused (413) unread
    booking_rate_limit: str = '20/10m'  # new bookings per client address: count/window (m or h), or 0 for none
    trusted_proxies: str = ''  # addresses whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated)

    @field_validator('booking_rate_limit')
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value.strip()

    @field_validator('base_url')
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip('/')

    @property
    def public_url(self) -> str:
        """The URL used in e-mails, manage links and OAuth redirects."""
        return self.base_url or f'http://{self.host}:{self.port}'

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith('https://')

    @property
    def sign_in_providers(self) -> dict[str, str]:
        """The configured OpenID Connect providers: key -> the name shown on the button."""
        providers = {}
        if self.google_client_id:
            providers['google'] = 'Google'
        if self.microsoft_client_id:
            providers['microsoft'] = 'Microsoft'
        if self.oidc_issuer and self.oidc_client_id:
            providers['oidc'] = self.oidc_name
        return providers

    @property
    def allowed_email_rules(self) -> list[str]:
        return [rule.strip().lower() for rule in self.allowed_emails.split(',') if rule.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f'sqlite:///{(self.data_dir / "cloudmeet.sqlite").resolve()}'

    @property
    def booking_rate(self) -> tuple[int, int] | None:
        """(bookings, window in seconds) one client address may make, or None when unlimited."""
        return parse_rate(self.booking_rate_limit)

    @property
    def generated_secrets(self) -> list[str]:
        """The secret settings that were not given and came from the data dir's generated file."""
        return list(self._generated)

    @property
    def fernet_keys(self) -> list[str]:
        """Token encryption keys, newest first."""
        return [k.strip() for k in self.encryption_keys.split(',') if k.strip()]


RATE = re.compile(r'^\s*(\d+)\s*/\s*(\d*)\s*([mh])\s*$')


def parse_rate(text: str) -> tuple[int, int] | None:
    """'20/10m' -> (20, 600), '100/1h' or '100/h' -> (100, 3600), '0' -> None (no limit)."""
    if text.strip() == '0':
        return None
    match = RATE.match(text)
    if not match or int(match.group(1)) < 1 or match.group(2) == '0':
        raise ValueError(f"a rate is written like '20/10m' or '100/1h' (or 0 for no limit), not '{text[:40]}'")
    return int(match.group(1)), int(match.group(2) or 1) * (60 if match.group(3) == 'm' else 3600)


@lru_cache
def get_settings() -> Settings:
    """Load the settings once and fill in generated secrets from the data dir."""
    settings = Settings()
    files.private_dir(settings.data_dir)
    generated = _generated_secrets(settings.data_dir)
    if not settings.secret_key:
        settings.secret_key = generated['secret_key']
        settings._generated.append('CLOUDMEET_SECRET_KEY')
    if not settings.encryption_keys:
        settings.encryption_keys = generated['encryption_key']
        settings._generated.append('CLOUDMEET_ENCRYPTION_KEYS')
    return settings


def _generated_secrets(data_dir: Path) -> dict[str, str]:
    """Read the generated secrets, creating them once with owner-only permissions."""
    path = data_dir / SECRETS_FILE
    if path.exists():
        return json.loads(path.read_text())
    values = {'secret_key': secrets.token_urlsafe(48), 'encryption_key': Fernet.generate_key().decode()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created them first
        return json.loads(path.read_text())
    with os.fdopen(fd, 'w') as handle:
        json.dump(values, handle)
    return values
