"""The data dir is private whatever the umask: the directory 700, every file in it 600 (the database and its WAL,
the generated secrets, the outbox with its live sign-in and manage links, NiceGUI's storage)."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def make_private(data_dir: Path) -> None:
    """At start-up: whatever this process creates from now on is owner-only, and what an older version left
    readable in the data dir is made private."""
    os.umask(0o077)
    private_dir(data_dir)
    for root, dirs, names in os.walk(data_dir):
        for name in dirs:
            os.chmod(Path(root) / name, PRIVATE_DIR)
        for name in names:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, PRIVATE_FILE)


def private_dir(path: Path) -> Path:
    """Create a directory (and its parents) readable by the owner only; an existing one is made so."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create an empty owner-only file if there is none (so whoever writes it later keeps the mode); make an existing
    one owner-only."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a new file that only the owner can read (created with that mode, never readable in between)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), 'wb') as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)  # an existing file keeps its old mode otherwise
        handle.write(data)
