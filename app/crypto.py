"""Secrets at rest: random tokens, their hashes, and MultiFernet encryption with rotatable keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet

from app.config import get_settings


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex (tokens are random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    return hmac.compare_digest(hash_token(token), stored_hash)


@lru_cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in get_settings().fernet_keys])


def encrypt(value: str) -> bytes:
    """Encrypt under the newest key."""
    return _fernet().encrypt(value.encode())


def decrypt(value: bytes) -> str:
    """Decrypt with whichever configured key made it."""
    return _fernet().decrypt(value).decode()


def reset_keys() -> None:
    """Forget the cached keys (after the settings changed)."""
    _fernet.cache_clear()


def rotate(value: bytes) -> bytes:
    """Re-encrypt under the newest key (whichever configured key made it)."""
    return _fernet().rotate(value)
