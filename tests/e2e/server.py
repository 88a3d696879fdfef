"""Start the real server (`python main.py`) as a subprocess on a free port, and stop it."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
# Processes sharing a PostgreSQL database must share their secrets (they refuse to start otherwise).
SHARED_SECRETS = {
    'CLOUDMEET_SECRET_KEY': secrets.token_urlsafe(32),
    'CLOUDMEET_ENCRYPTION_KEYS': Fernet.generate_key().decode(),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    *,
    data_dir: Path,
    database_url: str = '',
    log_level: str = 'WARNING',
    env: dict[str, str] | None = None,
    name: str = 'server',
) -> Iterator[str]:
    """Serve the app and yield its base URL; the server's log is printed if it fails to start."""
    port = free_port()
    environment = {
        **os.environ,
        'CLOUDMEET_DATA_DIR': str(data_dir),
        'CLOUDMEET_PORT': str(port),
        'CLOUDMEET_DATABASE_URL': database_url,
        'CLOUDMEET_LOG_LEVEL': log_level,
        **(SHARED_SECRETS if database_url.startswith('postgresql') else {}),
        **(env or {}),
    }
    environment.pop('PYTEST_CURRENT_TEST', None)  # else NiceGUI believes it runs inside a test and wants a screen
    log = (data_dir / f'{name}.log').open('w')
    process = subprocess.Popen(
        [sys.executable, 'main.py'], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    url = f'http://127.0.0.1:{port}'
    try:
        _wait_until_up(url, process, Path(log.name))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}')
        try:
            if httpx.get(url + '/api/v1/openapi.json', timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f'server did not answer within 60 s:\n{log_path.read_text()[-3000:]}')
