"""Hosts and their API keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app import crypto, db, events
from app.errors import Conflict, InvalidInput, Moved, NotAllowed, NotFound
from app.models import ApiKey, EventType, Host, utcnow
from services import schedules, usernames, validation

API_KEY_PREFIX = 'cm_'


def create_host(*, session: Session, email: str, name: str, username: str, timezone: str = 'UTC') -> Host:
    """A new host with the default Monday-Friday 09:00-17:00 schedule in their zone."""
    host = Host(
        email=validation.email(email).lower(),
        name=validation.single_line(name, 'Name', 120),
        username=validation.username(username),
        timezone=validation.time_zone(timezone),
    )
    for column, value in (('email', host.email), ('username', host.username)):
        if session.exec(select(Host.id).where(getattr(Host, column) == value)).first() is not None:
            raise Conflict(f"A host with the {column} '{value}' already exists")
    usernames.claim(session, username=host.username, host_id=None, now=utcnow())
    session.add(host)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict('A host with this e-mail or username already exists') from None
    assert host.id is not None
    schedules.create_schedule(session=session, host_id=host.id, data=schedules.default_schedule_input(host.timezone))
    return host


def get_host_by_username(*, session: Session, username: str) -> Host:
    host = session.exec(select(Host).where(Host.username == username.lower())).first()
    if host is None:
        moved = usernames.moved_to(session, username=username, now=utcnow())
        raise Moved(moved) if moved else NotFound('No host with this username')
    return host


def host_json(host: Host) -> dict[str, Any]:
    return {
        'id': host.id,
        'email': host.email,
        'name': host.name,
        'username': host.username,
        'timezone': host.timezone,
        'intro': host.intro,
        'embed_origins': host.embed_origins,
        'brand_color': host.brand_color,
        'clock24': host.clock24,
        'has_avatar': host.avatar is not None,
    }


def create_api_key(*, session: Session, host_id: int, label: str = '') -> str:
    """Create a key and return it; only its hash is stored, so this is the one time it is shown."""
    secret = API_KEY_PREFIX + crypto.new_token(32)
    label = validation.no_controls(label, 'Label')[:80]
    session.add(ApiKey(host_id=host_id, label=label, prefix=secret[:10], key_hash=crypto.hash_token(secret)))
    session.flush()
    return secret


def host_for_api_key(*, session: Session, secret: str) -> Host:
    """The host owning a live API key, or NotAllowed."""
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == crypto.hash_token(secret))).first()
    if key is None or key.revoked_at is not None:
        raise NotAllowed('Invalid or revoked API key')
    host = session.get(Host, key.host_id)
    if host is None:
        raise NotAllowed('Invalid or revoked API key')
    return host


def get_host(*, session: Session, host_id: int) -> Host:
    host = session.get(Host, host_id)
    if host is None:
        raise NotFound('Host not found')
    return host


@dataclass(frozen=True, slots=True)
class InstanceCounts:
    hosts: int
    event_types: int


def instance_counts(*, session: Session) -> InstanceCounts:
    """How many hosts and event types this instance has (for the operator's home page)."""
    return InstanceCounts(
        hosts=session.exec(select(func.count()).select_from(Host)).one(),
        event_types=session.exec(select(func.count()).select_from(EventType)).one(),
    )


PROFILE_FIELDS = frozenset({'name', 'intro', 'timezone', 'embed_origins', 'brand_color', 'clock24', 'username'})


def known_profile_fields(changes: Mapping[str, object]) -> None:
    """Refuse a profile change naming a field the profile does not have (an e-mail address is not changed here)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise InvalidInput(f'Unknown field(s): {", ".join(sorted(unknown))}')


def update_profile(*, session: Session, host_id: int, changes: dict[str, Any]) -> Host:
    """Change the host's public profile: name, intro, time zone and the origins allowed to embed their pages."""
    host = get_host(session=session, host_id=host_id)
    known_profile_fields(changes)
    if 'name' in changes:
        host.name = validation.single_line(str(changes['name']), 'Name', 120)
    if 'intro' in changes:
        host.intro = str(changes['intro'])[:500]
    if 'timezone' in changes:
        host.timezone = validation.time_zone(str(changes['timezone']))
    if 'embed_origins' in changes:
        host.embed_origins = validation.origins(changes['embed_origins'])
    if 'brand_color' in changes:
        host.brand_color = validation.hex_color(changes['brand_color'])
    if 'clock24' in changes:
        host.clock24, host.clock_chosen = bool(changes['clock24']), True
    if 'username' in changes and str(changes['username']).strip().lower() != host.username:
        username = validation.username(str(changes['username']))
        if session.exec(select(Host.id).where(Host.username == username, Host.id != host.id)).first() is not None:
            raise Conflict(f"The username '{username}' is taken")
        assert host.id is not None
        usernames.claim(session, username=username, host_id=host.id, now=utcnow())
        usernames.release(session, host_id=host.id, username=host.username, now=utcnow())
        host.username = username
    session.add(host)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))
    return host


AVATAR_TYPES = {b'\x89PNG\r\n\x1a\n': 'image/png', b'\xff\xd8\xff': 'image/jpeg', b'RIFF': 'image/webp'}
MAX_AVATAR_BYTES = 1_000_000


def set_avatar(*, session: Session, host_id: int, data: bytes | None) -> Host:
    """Store a profile picture (PNG, JPEG or WebP, at most 1 MB; recognised by its content, not its name), or remove
    it with None."""
    host = get_host(session=session, host_id=host_id)
    if data is None:
        host.avatar, host.avatar_type = None, ''
    else:
        if len(data) > MAX_AVATAR_BYTES:
            raise InvalidInput('The picture is larger than 1 MB; please choose a smaller one')
        kind = next((t for magic, t in AVATAR_TYPES.items() if data.startswith(magic)), '')
        if not kind or (kind == 'image/webp' and data[8:12] != b'WEBP'):
            raise InvalidInput('Please choose a PNG, JPEG or WebP picture')
        host.avatar, host.avatar_type = data, kind
    session.add(host)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))
    return host


def list_api_keys(*, session: Session, host_id: int) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).where(ApiKey.host_id == host_id).order_by(col(ApiKey.id))))


def revoke_api_key(*, session: Session, host_id: int, key_id: int, now: datetime) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.id == key_id, ApiKey.host_id == host_id)).first()
    if key is None:
        raise NotFound('API key not found')
    key.revoked_at = key.revoked_at or now
    session.add(key)
    session.flush()
    return key


def embed_origins(*, session: Session, username: str) -> list[str]:
    """The origins a host allows to show their booking pages in an iframe (none by default)."""
    found = session.exec(select(Host.embed_origins).where(Host.username == username.lower())).first()
    return list(found or [])
