"""The data dir is private whatever the umask: a server started under umask 000 on an old, world-readable data dir
leaves it 700, and the database with its WAL and shared memory, the generated secrets, the outbox and every e-mail
in it (live manage links) owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.server import running_server
from tests.e2e.test_email_delivery import book, prepare, wait_for


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def modes(data_dir: Path) -> dict[str, int]:
    found = {'.': stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob('*'):
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_a_server_under_umask_000_keeps_the_data_dir_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / 'data'
    with umask(0):
        data_dir.mkdir(mode=0o777)  # as an older version left it
        (data_dir / 'outbox').mkdir(mode=0o777)
        (data_dir / 'outbox' / 'old.eml').write_text('a manage link')
        url = f'sqlite:///{data_dir / "cloudmeet.sqlite"}'
        with running_server(data_dir=data_dir, database_url=url, env={'CLOUDMEET_OUTBOX_POLL_SECONDS': '0.2'}) as base:
            at_start = modes(data_dir)  # before this test touches anything: the server's own doing
            prepare(url)
            book(base, '10:00')
            assert wait_for(lambda: len(list((data_dir / 'outbox').glob('*.eml'))) >= 3)
    assert {
        'cloudmeet.sqlite',
        'cloudmeet.sqlite-wal',
        'cloudmeet.sqlite-shm',
        'secrets.json',
        'outbox/old.eml',
    } <= set(at_start)
    found = modes(data_dir)
    assert len([name for name in found if name.endswith('.eml')]) >= 3
    for name, mode in {**found, **at_start}.items():
        wanted = 0o700 if (data_dir / name).is_dir() else 0o600
        assert mode == wanted, f'{name} is {oct(mode)}, not {oct(wanted)}'
