"""The key canary: a value encrypted under the configured keys when the database is new, read back at every start,
so keys that cannot decrypt what the database holds stop the process before it serves anything."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.db import session_scope
from app.models import InstanceSetting

CANARY = 'encryption_canary'
PLAINTEXT = 'CloudMeet can read its encrypted data'
REFUSAL = (
    'the encryption keys cannot decrypt the data this database already holds. Set CLOUDMEET_ENCRYPTION_KEYS '
    '(newest first, comma-separated) to include the key it was written with; without that setting the key '
    'generated into secrets.json in CLOUDMEET_DATA_DIR is used. Processes sharing a database must share '
    'CLOUDMEET_ENCRYPTION_KEYS and CLOUDMEET_SECRET_KEY.'
)


class KeysCannotDecrypt(Exception):
    """The configured keys do not open the stored canary."""


def check_keys() -> None:
    """Write the canary on first start; raise `KeysCannotDecrypt` (naming the settings) when the configured keys
    cannot read it (any configured key may, so rotating in a new key first keeps working)."""
    for _ in range(2):  # a second process may write the first canary at the same moment
        try:
            with session_scope(write=True) as session:
                stored = session.get(InstanceSetting, CANARY)
                if stored is None:
                    session.add(InstanceSetting(key=CANARY, value=crypto.encrypt(PLAINTEXT).decode()))
                elif _read(stored.value) != PLAINTEXT:
                    raise KeysCannotDecrypt(REFUSAL)
            return
        except IntegrityError:
            continue


def _read(value: object) -> str:
    try:
        return crypto.decrypt(str(value).encode())
    except (InvalidToken, ValueError):
        return ''
