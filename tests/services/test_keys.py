"""The key canary: keys that cannot decrypt what the database holds stop the process at start-up, naming the
settings; a rotated-in key beside the old one keeps working."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app import crypto
from app.config import get_settings
from services import keys

pytestmark = pytest.mark.usefixtures('database')
MAIN = Path(__file__).resolve().parents[2] / 'main.py'


@pytest.fixture
def use_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def use(*configured: str) -> None:
        monkeypatch.setattr(get_settings(), 'encryption_keys', ','.join(configured))
        crypto.reset_keys()

    yield use
    monkeypatch.undo()
    crypto.reset_keys()


def test_the_first_start_writes_the_canary_and_later_starts_with_the_same_keys_pass(use_keys: object) -> None:
    first = Fernet.generate_key().decode()
    use_keys(first)  # type: ignore[operator]
    keys.check_keys()
    keys.check_keys()
    use_keys(Fernet.generate_key().decode(), first)  # type: ignore[operator]  # a new key rotated in, the old kept
    keys.check_keys()


def test_keys_that_cannot_decrypt_the_canary_are_refused_naming_the_settings(use_keys: object) -> None:
    use_keys(Fernet.generate_key().decode())  # type: ignore[operator]
    keys.check_keys()
    use_keys(Fernet.generate_key().decode())  # type: ignore[operator]  # another process's generated key
    with pytest.raises(keys.KeysCannotDecrypt) as refused:
        keys.check_keys()
    assert 'CLOUDMEET_ENCRYPTION_KEYS' in str(refused.value) and 'CLOUDMEET_DATA_DIR' in str(refused.value)


def test_the_server_refuses_to_start_with_keys_that_cannot_read_the_database(
    database: sa.Engine, use_keys: object, tmp_path: Path
) -> None:
    if database.dialect.name != 'sqlite':
        pytest.skip('one server start is enough')
    use_keys(Fernet.generate_key().decode())  # type: ignore[operator]
    keys.check_keys()
    env = {
        **os.environ,
        'CLOUDMEET_DATABASE_URL': str(database.url),
        'CLOUDMEET_DATA_DIR': str(tmp_path),
        'CLOUDMEET_ENCRYPTION_KEYS': Fernet.generate_key().decode(),
        'CLOUDMEET_PORT': '1',
    }
    started = subprocess.run(
        [sys.executable, str(MAIN)], env=env, capture_output=True, text=True, timeout=60, cwd=MAIN.parent
    )
    assert started.returncode != 0
    assert 'cannot start' in started.stderr and 'CLOUDMEET_ENCRYPTION_KEYS' in started.stderr
