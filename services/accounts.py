"""Accounts: who may sign up, sign-in identities, server-side sessions, e-mailed sign-in links, invitations,
onboarding, export, deletion, erasure of an invitee's data, and re-encryption under a new key."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import httpx
from sqlalchemy import CursorResult, delete, func, update
from sqlmodel import Session, col, select

from app import crypto, db, events
from app.config import get_settings
from app.db import session_scope
from app.errors import Conflict, DomainError, InvalidInput, NotAllowed
from app.models import (
    ApiKey,
    Booking,
    CalendarConnection,
    EventType,
    Host,
    Identity,
    InstanceSetting,
    Invitation,
    LoginLink,
    OutboxMessage,
    Schedule,
    UserSession,
    WebhookSubscription,
)
from services import bookings, event_types, hosts, schedules, teams, validation
from services.calendars import connections as calendar_connections
from services.event_types import EventTypeInput
from services.webhooks import subscriptions as webhook_subscriptions

T = TypeVar('T')
log = logging.getLogger(__name__)
SESSION_LIFETIME = timedelta(days=30)
LINK_LIFETIME = timedelta(minutes=15)
LINKS_PER_ADDRESS = 3  # per LINK_LIFETIME
INVITATION_LIFETIME = timedelta(days=7)
OPEN_SIGNUP = 'open_signup'


INVITATION_NEEDED = 'Sign-up on this CloudMeet instance is by invitation. Please ask its owner for an invitation link.'


class SignInRefused(DomainError):
    """Signing in cannot go on; the detail tells the person what to do instead."""

    status_code = 403


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who a provider (or an e-mailed link) says is signing in."""

    provider: str
    subject: str
    email: str
    email_verified: bool
    name: str = ''
    refresh_token: str = ''
    access_token: str = ''


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str  # for the cookie; only its hash is stored
    host_id: int | None  # None: a verified newcomer who still has to finish onboarding


# --- who may sign up ----------------------------------------------------------------------------------------


def may_sign_up(session: Session, email: str, *, invitation_hash: str = '', now: datetime) -> bool:
    """`CLOUDMEET_ALLOWED_EMAILS` decides when set; otherwise the first account (the owner) may, then only people
    with an open invitation, or anyone while the owner keeps sign-up open."""
    rules = get_settings().allowed_email_rules
    email = email.lower()
    if rules:
        return any(email == rule or (rule.startswith('@') and email.endswith(rule)) for rule in rules)
    if not has_owner(session) or signup_open(session):
        return True
    return _open_invitation(session, invitation_hash, now) is not None


def has_owner(session: Session) -> bool:
    """Whether someone owns this instance yet (the first host to sign up through the web does)."""
    return session.exec(select(Host.id).where(Host.is_owner == True)).first() is not None  # noqa: E712


def signup_open(session: Session) -> bool:
    setting = session.get(InstanceSetting, OPEN_SIGNUP)
    return bool(setting and setting.value)


def set_signup_open(session: Session, *, host: Host, value: bool) -> None:
    _owner_only(host)
    setting = session.get(InstanceSetting, OPEN_SIGNUP) or InstanceSetting(key=OPEN_SIGNUP)
    setting.value = bool(value)
    session.add(setting)


def create_invitation(session: Session, *, host: Host, now: datetime) -> str:
    """A sign-up link for one person, valid for 7 days; returns the token (shown once)."""
    _owner_only(host)
    assert host.id is not None
    token = crypto.new_token()
    session.add(
        Invitation(
            token_hash=crypto.hash_token(token),
            created_by=host.id,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    return token


def _owner_only(host: Host) -> None:
    if not host.is_owner:
        raise SignInRefused('Only the owner of this CloudMeet instance can do that')


def _open_invitation(session: Session, invitation_hash: str, now: datetime) -> Invitation | None:
    if not invitation_hash:
        return None
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == invitation_hash)).first()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    return invitation


# --- signing in -------------------------------------------------------------------------------------------------


def sign_in(session: Session, identity: VerifiedIdentity, *, now: datetime, invitation: str = '') -> SignedIn:
    """`invitation` is the token of an invitation link the person arrived with (if any)."""
    return _sign_in(session, identity, now=now, invitation_hash=crypto.hash_token(invitation) if invitation else '')


def _sign_in(session: Session, identity: VerifiedIdentity, *, now: datetime, invitation_hash: str) -> SignedIn:
    """Start a new session (a fresh token: sessions are rotated at every sign-in) for a known identity, or a
    pending one for a verified newcomer who may sign up. Never links an identity to an account by e-mail alone."""
    known = session.exec(
        select(Identity).where(Identity.provider == identity.provider, Identity.subject == identity.subject)
    ).first()
    if known is not None:
        _store_tokens(known, identity)
        known.last_used_at = now
        session.add(known)
        return _new_session(session, host_id=known.host_id, pending={}, now=now)
    email = identity.email.strip().lower()
    if not email or not identity.email_verified:
        raise SignInRefused(
            'Your sign-in provider did not confirm your e-mail address, so CloudMeet cannot use it. '
            'Please verify the address with your provider, or use another way to sign in.'
        )
    if session.exec(select(Host.id).where(Host.email == email)).first() is not None:
        raise SignInRefused(
            f'An account for {email} already exists, but it does not use this way of signing in. '
            'Please sign in the way you usually do, then connect this one in your settings.'
        )
    if not may_sign_up(session, email, invitation_hash=invitation_hash, now=now):
        raise SignInRefused(INVITATION_NEEDED)
    pending = {
        'provider': identity.provider,
        'subject': identity.subject,
        'email': email,
        'name': identity.name.strip()[:120],
        'invitation': invitation_hash,
    }
    if identity.refresh_token:
        pending['refresh_token'] = crypto.encrypt(identity.refresh_token).decode()
    return _new_session(session, host_id=None, pending=pending, now=now)


def connect_identity(session: Session, *, host_id: int, identity: VerifiedIdentity, now: datetime) -> Identity:
    """A signed-in host adds another way of signing in (the provider proved who they are just now)."""
    known = session.exec(
        select(Identity).where(Identity.provider == identity.provider, Identity.subject == identity.subject)
    ).first()
    if known is not None and known.host_id != host_id:
        raise SignInRefused('This account is already used to sign in to another CloudMeet account.')
    known = known or Identity(
        host_id=host_id,
        provider=identity.provider,
        subject=identity.subject,
        email=identity.email.lower(),
        created_at=now,
    )
    _store_tokens(known, identity)
    session.add(known)
    return known


def signed_in_host(token: str, now: datetime) -> Host | None:
    """The host a session cookie names, read in its own short transaction (None: not signed in)."""
    if not token:
        return None
    with session_scope() as session:
        return host_for_session(session, token, now)


def still_onboarding(token: str, now: datetime) -> bool:
    """Whether the cookie names a verified newcomer who has not finished onboarding."""
    if not token:
        return False
    with session_scope() as session:
        found = session_for(session, token, now)
        return found is not None and found.host_id is None and bool(found.pending)


def as_host(token: str, host_id: int, fn: Callable[..., T], *args: Any, write: bool = False, now: datetime) -> T:
    """`fn(session, host_id, *args)` in one unit of work, refused unless the session still signs in this host
    (a page left open after signing out can change nothing)."""
    with session_scope(write=write) as session:
        host = host_for_session(session, token, now)
        if host is None or host.id != host_id:
            raise NotAllowed('Your session has ended. Please sign in again.')
        return fn(session, host_id, *args)


def host_for_session(session: Session, token: str, now: datetime) -> Host | None:
    """The signed-in host a session cookie names (None when it is unknown, expired, ended or still onboarding)."""
    found = session_for(session, token, now)
    return session.get(Host, found.host_id) if found and found.host_id else None


def session_for(session: Session, token: str, now: datetime) -> UserSession | None:
    if not token:
        return None
    found = session.exec(select(UserSession).where(UserSession.token_hash == crypto.hash_token(token))).first()
    if found is None or found.expires_at <= now:
        return None
    return found


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == crypto.hash_token(token)))  # type: ignore


def end_all_sessions(session: Session, *, host_id: int) -> int:
    return session.execute(delete(UserSession).where(UserSession.host_id == host_id)).rowcount  # type: ignore


def _new_session(session: Session, *, host_id: int | None, pending: dict[str, Any], now: datetime) -> SignedIn:
    token = crypto.new_token()
    session.add(
        UserSession(
            token_hash=crypto.hash_token(token),
            host_id=host_id,
            pending=pending,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return SignedIn(token, host_id)


def _store_tokens(row: Identity, identity: VerifiedIdentity) -> None:
    if identity.refresh_token:
        row.refresh_token_encrypted = crypto.encrypt(identity.refresh_token)
    if identity.access_token:
        row.access_token_encrypted = crypto.encrypt(identity.access_token)


# --- e-mailed sign-in links ----------------------------------------------------------------------------------


def request_login_link(session: Session, *, email: str, now: datetime, invitation: str = '') -> str | None:
    """A single-use link for 15 minutes, or None when this address may not sign in or asked too often (the caller
    says the same thing either way, so nobody learns which addresses have accounts)."""
    email = validation.email(email).lower()
    invitation_hash = crypto.hash_token(invitation) if invitation else ''
    known = session.exec(select(Host.id).where(Host.email == email)).first() is not None
    if not known and not may_sign_up(session, email, invitation_hash=invitation_hash, now=now):
        return None
    recent = session.exec(
        select(func.count())
        .select_from(LoginLink)
        .where(LoginLink.email == email, LoginLink.created_at > now - LINK_LIFETIME)
    ).one()
    if recent >= LINKS_PER_ADDRESS:
        return None
    token = crypto.new_token()
    session.add(
        LoginLink(
            token_hash=crypto.hash_token(token),
            email=email,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            invitation=invitation_hash,
        )
    )
    return token


def sign_in_with_link(session: Session, *, token: str, now: datetime) -> SignedIn:
    """Use a sign-in link once (the click proves the address it was sent to) and sign in with it."""
    claimed = session.execute(
        update(LoginLink)
        .where(
            col(LoginLink.token_hash) == crypto.hash_token(token),
            col(LoginLink.used_at).is_(None),
            col(LoginLink.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(LoginLink.email), col(LoginLink.invitation))
    ).first()
    if claimed is None:
        raise SignInRefused('This sign-in link was already used or has expired. Please ask for a new one.')
    email, invitation_hash = claimed
    identity = VerifiedIdentity(provider='email', subject=email, email=email, email_verified=True)
    return _sign_in(session, identity, now=now, invitation_hash=invitation_hash)


# --- onboarding ----------------------------------------------------------------------------------------------


def complete_onboarding(
    session: Session, *, token: str, name: str, username: str, timezone: str, now: datetime
) -> Host:
    """Create the account of a verified newcomer: profile, default schedule and a first 30-minute event type."""
    pending_session = session_for(session, token, now)
    if pending_session is None or not pending_session.pending:
        raise SignInRefused('Please sign in first.')
    pending = pending_session.pending
    if not may_sign_up(session, pending['email'], invitation_hash=pending.get('invitation', ''), now=now):
        raise SignInRefused(INVITATION_NEEDED)
    invitation = _open_invitation(session, pending.get('invitation', ''), now)
    owner = not has_owner(session) and not get_settings().allowed_email_rules
    host = hosts.create_host(session=session, email=pending['email'], name=name, username=username, timezone=timezone)
    host.is_owner = owner
    assert host.id is not None
    identity = Identity(
        host_id=host.id,
        provider=pending['provider'],
        subject=pending['subject'],
        email=pending['email'],
        created_at=now,
        last_used_at=now,
    )
    if pending.get('refresh_token'):
        identity.refresh_token_encrypted = pending['refresh_token'].encode()
    session.add(identity)
    event_types.create_event_type(
        session=session,
        host_id=host.id,
        data=EventTypeInput(
            title='30 minute meeting',
            slug='30min',
            duration_minutes=30,
            description='A short call to get to know each other.',
        ),
    )
    if invitation is not None:  # claimed atomically: one invitation makes one account
        claimed = session.execute(
            update(Invitation)
            .where(col(Invitation.id) == invitation.id, col(Invitation.used_at).is_(None))
            .values(used_at=now)
        )
        if cast(CursorResult[Any], claimed).rowcount != 1:
            raise SignInRefused(INVITATION_NEEDED)
    pending_session.host_id, pending_session.pending = host.id, {}
    session.add(pending_session)
    session.add(host)
    session.flush()
    return host


def suggested_username(session: Session, email: str) -> str:
    base = validation.slugify(email.split('@')[0])[:30] or 'host'
    candidate, n = base, 1
    while True:
        try:
            validation.username(candidate)
        except InvalidInput:
            candidate = f'{base}-{n}'
        else:
            if session.exec(select(Host.id).where(Host.username == candidate)).first() is None:
                return candidate
            candidate = f'{base}-{n}'
        n += 1


# --- privacy: export, deletion, erasure, key rotation ----------------------------------------------------------


def export_account(session: Session, *, host_id: int) -> dict[str, Any]:
    """Everything stored about a host, without secrets (no tokens, no key hashes)."""
    host = hosts.get_host(session=session, host_id=host_id)
    return {
        'profile': hosts.host_json(host) | {'created_at': host.created_at.isoformat(), 'is_owner': host.is_owner},
        'notification_settings': host.notification_settings,
        'reminder_offsets_minutes': host.reminder_offsets,
        'schedules': [schedules.schedule_json(s) for s in schedules.list_schedules(session=session, host_id=host_id)],
        'event_types': [
            event_types.event_type_json(e)
            for e in session.exec(select(EventType).where(EventType.host_id == host_id).order_by(col(EventType.id)))
        ],
        'bookings': [
            bookings.booking_json(b)
            for b in session.exec(select(Booking).where(Booking.host_id == host_id).order_by(col(Booking.start_at)))
        ],
        'sign_in': [
            {
                'provider': i.provider,
                'email': i.email,
                'created_at': i.created_at.isoformat(),
                'has_stored_token': i.refresh_token_encrypted is not None,
            }
            for i in session.exec(select(Identity).where(Identity.host_id == host_id))
        ],
        'api_keys': [
            {
                'label': k.label,
                'prefix': k.prefix,
                'created_at': k.created_at.isoformat(),
                'revoked': k.revoked_at is not None,
            }
            for k in session.exec(select(ApiKey).where(ApiKey.host_id == host_id))
        ],
        'webhooks': [
            webhook_subscriptions.subscription_json(s)
            for s in webhook_subscriptions.list_subscriptions(session=session, host_id=host_id)
        ],
        'calendars': calendar_connections.overview(session, host_id=host_id),  # never a token or password
    }


Revoke = Callable[[str], None]


def revoke_google_token(token: str) -> None:
    """Google's revoke endpoint (a form POST); a refusal or an outage is raised, and logged by the caller."""
    httpx.post(get_settings().google_revoke_url, data={'token': token}, timeout=10).raise_for_status()


def google_tokens(session: Session, *, host_id: int) -> list[str]:
    """The host's stored Google tokens (to revoke before deleting the account)."""
    tokens = []
    for identity in session.exec(select(Identity).where(Identity.host_id == host_id, Identity.provider == 'google')):
        secret = identity.refresh_token_encrypted or identity.access_token_encrypted
        if secret:
            tokens.append(crypto.decrypt(secret))
    return tokens


CLOSING_REASON = 'The host closed their CloudMeet account, so this meeting will not take place.'


def close_account(*, host_id: int, revoke: Revoke, now: datetime | None = None, wait_seconds: float = 30) -> int:
    """Cancel the host's upcoming meetings with a notice to each invitee and wait until the notices are out; then
    revoke the host's Google access (outside any transaction: the provider may be slow) and delete every row of the
    host in one short write. A failed revocation is logged and does not stop the deletion. Returns how many meetings
    were cancelled; raises Conflict (nothing deleted yet, the meetings stay cancelled) while notices are still
    waiting to be sent, so none is lost with the account."""
    with session_scope(write=True) as session:
        cancelled = bookings.cancel_upcoming(
            session=session, host_id=host_id, reason=CLOSING_REASON, now=now or datetime.now(UTC)
        )
    if not _notices_sent(host_id, wait_seconds):
        raise Conflict(
            'Your upcoming meetings are cancelled and the invitees are being told, but some notices '
            'have not gone out yet. Please try deleting your account again in a few minutes.'
        )
    with session_scope() as session:
        tokens = google_tokens(session, host_id=host_id)
    for token in tokens:
        try:
            revoke(token)
        except Exception as exc:  # noqa: BLE001 - deletion must complete whatever the provider says
            log.warning('revoking a Google token failed (%s); deleting the account anyway', type(exc).__name__)
    with session_scope(write=True) as session:
        delete_account(session, host_id=host_id)
    return len(cancelled)


def _notices_sent(host_id: int, wait_seconds: float) -> bool:
    """Whether every cancellation notice to the host's invitees has been handed over (or refused for good)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with session_scope() as session:
            waiting = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.host_id == host_id,
                    OutboxMessage.kind == 'cancellation',
                    col(OutboxMessage.status).in_(('pending', 'sending')),
                )
            ).one()
        if not waiting:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def delete_account(session: Session, *, host_id: int) -> None:
    """Remove every row of the host (sessions end with them); the instance's ownership passes to the longest-
    standing other host."""
    host = hosts.get_host(session=session, host_id=host_id)
    teams.leave_all(session=session, host_id=host_id)  # the teams and their event types stay with the others
    for model in (UserSession, Identity, OutboxMessage, Booking, EventType, Schedule, ApiKey):
        session.execute(delete(model).where(col(model.host_id) == host_id))
    session.execute(delete(Invitation).where(Invitation.created_by == host_id))  # type: ignore[arg-type]
    session.execute(delete(LoginLink).where(LoginLink.email == host.email))  # type: ignore[arg-type]
    was_owner = host.is_owner
    session.delete(host)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))
    if was_owner:
        heir = session.exec(select(Host).order_by(Host.created_at, Host.id)).first()  # type: ignore[arg-type]
        if heir is not None:
            heir.is_owner = True
            session.add(heir)


def rotate_keys(session: Session) -> int:
    """Re-encrypt every encrypted value under the newest key; returns how many values were rewritten."""
    count = 0
    for booking in session.exec(select(Booking)):
        booking.manage_token_encrypted = crypto.rotate(booking.manage_token_encrypted)
        session.add(booking)
        count += 1
    for identity in session.exec(select(Identity)):
        for column in ('refresh_token_encrypted', 'access_token_encrypted'):
            value = getattr(identity, column)
            if value:
                setattr(identity, column, crypto.rotate(value))
                count += 1
        session.add(identity)
    for connection in session.exec(select(CalendarConnection)):  # tokens, feed addresses, CalDAV passwords
        connection.secret_encrypted = crypto.rotate(connection.secret_encrypted)
        session.add(connection)
        count += 1
    for subscription in session.exec(select(WebhookSubscription)):  # webhook signing secrets
        subscription.secret_encrypted = crypto.rotate(subscription.secret_encrypted)
        session.add(subscription)
        count += 1
    for pending in session.exec(select(UserSession).where(UserSession.host_id.is_(None))):  # type: ignore
        if pending.pending.get('refresh_token'):
            pending.pending = pending.pending | {
                'refresh_token': crypto.rotate(pending.pending['refresh_token'].encode()).decode()
            }
            session.add(pending)
            count += 1
    return count


def identities(session: Session, *, host_id: int) -> list[Identity]:
    return list(session.exec(select(Identity).where(Identity.host_id == host_id).order_by(col(Identity.id))))


def allow_email_links(session: Session, *, host_id: int, now: datetime) -> None:
    """Let a signed-in host also sign in with e-mailed links to their account address."""
    host = hosts.get_host(session=session, host_id=host_id)
    connect_identity(
        session,
        host_id=host_id,
        now=now,
        identity=VerifiedIdentity(provider='email', subject=host.email, email=host.email, email_verified=True),
    )
