"""Calendar benchmark through the real server: the public slots API for 31 days with three connected calendars
and a warm cache against the same host without calendars, and a cold fetch of three slow connections (every
request to the Google stand-in takes 200 ms) against one connection's time."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

KEY = Fernet.generate_key().decode()
os.environ['CLOUDMEET_ENCRYPTION_KEYS'] = KEY  # the bench and the server share the key of the stored tokens

import httpx  # noqa: E402

from app import db  # noqa: E402
from app.db import session_scope  # noqa: E402
from services.calendars import connections  # noqa: E402
from tests.e2e.server import running_server  # noqa: E402
from tests.factories import make_event_type, make_host, next_monday  # noqa: E402
from tests.fakes import google_calendar  # noqa: E402

MONDAY = next_monday(1)
COLD_HOSTS = 7


def seed(data_dir: Path) -> None:
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        for name, count in (
            [('plain', 0), ('three', 3), ('one', 1)]
            + [(f'cold{n}', 3) for n in range(COLD_HOSTS)]
            + [(f'single{n}', 1) for n in range(COLD_HOSTS)]
        ):
            host = make_host(session, username=name, timezone_name='Europe/Berlin')
            make_event_type(session, host, slug='call', duration_minutes=30, max_days_ahead=90)
            for n in range(count):
                connections.add_account(
                    session,
                    provider='google',
                    host_id=host.id,
                    email=f'{name}{n}@example.com',
                    refresh_token=f'rt-{name}-{n}',
                )
    engine.dispose()


def month(client: httpx.Client, base: str, username: str) -> float:
    from datetime import timedelta

    t0 = time.perf_counter()
    answer = client.get(
        f'{base}/api/v1/public/{username}/call/slots',
        params={'start': MONDAY.isoformat(), 'end': (MONDAY + timedelta(days=30)).isoformat(), 'timezone': 'UTC'},
    )
    answer.raise_for_status()
    assert 'notice' not in answer.json(), answer.json()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    fake, server = google_calendar.serve()
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-calendars-'))
    seed(data_dir)
    env = {
        'CLOUDMEET_GOOGLE_CLIENT_ID': 'client',
        'CLOUDMEET_GOOGLE_CLIENT_SECRET': 'secret',
        'CLOUDMEET_GOOGLE_API_URL': fake.api_url,
        'CLOUDMEET_GOOGLE_TOKEN_URL': f'{fake.url}/token',
        'CLOUDMEET_ENCRYPTION_KEYS': KEY,
        'CLOUDMEET_CALENDAR_FRESH_SECONDS': '3600',
    }
    try:
        with running_server(data_dir=data_dir, env=env) as base, httpx.Client(timeout=30) as client:
            for name in ('plain', 'three'):
                month(client, base, name)  # warm up (and fill the cache)
            plain, three = [], []
            for _ in range(150):  # interleaved, so machine noise hits both alike
                plain.append(month(client, base, 'plain'))
                three.append(month(client, base, 'three'))
            print('calendars: public slots API, 31 days, through the server (150 requests each, interleaved)')
            print(f'  no calendars:                 median {statistics.median(plain):.2f} ms')
            print(
                f'  three calendars, warm cache:  median {statistics.median(three):.2f} ms '
                f'(+{statistics.median(three) - statistics.median(plain):.2f} ms; target: within 5 ms)'
            )
            fake.delay = 0.2
            cold_three = [month(client, base, f'cold{n}') for n in range(COLD_HOSTS)]
            cold_one = [month(client, base, f'single{n}') for n in range(COLD_HOSTS)]
            print(
                f'cold fetch, every stand-in request 200 ms (a token renewal and a freeBusy per connection), '
                f'{COLD_HOSTS} hosts each:'
            )
            print(f'  one connection:    median {statistics.median(cold_one):.0f} ms')
            print(
                f'  three connections: median {statistics.median(cold_three):.0f} ms '
                f'({statistics.median(cold_three) / statistics.median(cold_one):.2f}x one connection; '
                f'one after another would be about 3x)'
            )
    finally:
        server.shutdown()


if __name__ == '__main__':
    main()
