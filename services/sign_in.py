"""The sign-in use cases, each in its own unit of work, for the sign-in pages and routes (which open no session).

The rules themselves (who may sign up, identities, sessions, links) live in `services.accounts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import get_settings
from app.db import session_scope
from services import accounts
from services.accounts import SignedIn, VerifiedIdentity
from services.calendars import connections as calendar_connections


def with_provider(identity: VerifiedIdentity, *, now: datetime, invitation: str = '', previous: str = '') -> SignedIn:
    """Sign in with a verified provider identity; the browser's previous session ends in the same transaction."""
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=now, invitation=invitation)
        _end_previous(session, previous)
        return signed


def with_link(token: str, *, now: datetime, previous: str = '') -> SignedIn:
    """Use an e-mailed sign-in link once."""
    with session_scope(write=True) as session:
        signed = accounts.sign_in_with_link(session, token=token, now=now)
        _end_previous(session, previous)
        return signed


def request_link(email: str, *, now: datetime, invitation: str = '') -> str | None:
    """A new sign-in link's token for an address that may sign in (None otherwise: the caller says the same)."""
    with session_scope(write=True) as session:
        return accounts.request_login_link(session, email=email, now=now, invitation=invitation)


def connect_identity(*, host_id: int, identity: VerifiedIdentity, now: datetime) -> None:
    """Let the host also sign in with this provider identity."""
    with session_scope(write=True) as session:
        accounts.connect_identity(session, host_id=host_id, identity=identity, now=now)


def connect_calendar(*, host_id: int, provider: str, identity: VerifiedIdentity) -> None:
    """Keep the provider's grant as a calendar connection of the host."""
    with session_scope(write=True) as session:
        calendar_connections.add_account(
            session,
            host_id=host_id,
            provider=provider,
            email=identity.email or identity.subject,
            refresh_token=identity.refresh_token,
        )


def sign_out(token: str, *, everywhere: bool, now: datetime) -> None:
    """End this session (or every session of its host)."""
    with session_scope(write=True) as session:
        found = accounts.session_for(session, token, now)
        if everywhere and found is not None and found.host_id is not None:
            accounts.end_all_sessions(session, host_id=found.host_id)
        accounts.end_session(session, token)


@dataclass(frozen=True, slots=True)
class Onboarding:
    """Where a session stands: 'done' (a host already), 'none' (no verified newcomer), or 'open' with what the
    onboarding form starts from."""

    state: str
    email: str = ''
    name: str = ''
    suggested_username: str = ''


def onboarding(token: str, *, now: datetime) -> Onboarding:
    with session_scope() as session:
        pending = accounts.session_for(session, token, now)
        if pending is not None and pending.host_id:
            return Onboarding('done')
        if pending is None or not pending.pending:
            return Onboarding('none')
        email = pending.pending['email']
        name = pending.pending.get('name') or email.split('@')[0].replace('.', ' ').title()
        return Onboarding('open', email, name, accounts.suggested_username(session, email))


def complete_onboarding(token: str, *, name: str, username: str, timezone: str, now: datetime) -> None:
    with session_scope(write=True) as session:
        accounts.complete_onboarding(session, token=token, name=name, username=username, timezone=timezone, now=now)


def sign_up_policy() -> str:
    """'open' (anyone may create an account now), 'invitation' or 'allowed' (only the operator's addresses)."""
    if get_settings().allowed_email_rules:
        return 'allowed'
    with session_scope() as session:
        return 'open' if not accounts.has_owner(session) or accounts.signup_open(session) else 'invitation'


def export(host_id: int) -> dict[str, Any]:
    """Everything stored about the host, without secrets."""
    with session_scope() as session:
        return accounts.export_account(session, host_id=host_id)


def _end_previous(session: Any, previous: str) -> None:
    if previous:
        accounts.end_session(session, previous)
