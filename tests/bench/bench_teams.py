"""Team benchmark through the real server: the public slots API for 31 days of a 50-member round-robin team (members
in five zones, each with a connected Google calendar, warm busy cache) and of a 5-member collective team, against
one host's 31 days (one connected calendar, warm cache), interleaved in the same run. Prints medians and ratios
(targets: within 12x of one host and under 50 ms). The collective's five members are in London and Berlin, whose
working hours overlap."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.fernet import Fernet

KEY = Fernet.generate_key().decode()
os.environ['CLOUDMEET_ENCRYPTION_KEYS'] = KEY  # the bench and the server share the key of the stored tokens

import httpx  # noqa: E402

from app import db  # noqa: E402
from app.db import session_scope  # noqa: E402
from services import bookings, teams  # noqa: E402
from services.calendars import connections  # noqa: E402
from services.teams import TeamEventTypeInput  # noqa: E402
from tests.e2e.server import running_server  # noqa: E402
from tests.factories import at, make_event_type, make_host, next_monday  # noqa: E402
from tests.fakes import google_calendar  # noqa: E402

MONDAY = next_monday(1)
ZONES = ('America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Berlin', 'Asia/Kolkata')
MEMBERS = 50
RUNS = 60


def seed(data_dir: Path) -> None:
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    now = datetime.now(timezone.utc)
    with session_scope(write=True) as session:
        solo = make_host(session, username='solo', timezone_name='Europe/Berlin')
        make_event_type(session, solo, slug='call', duration_minutes=30, max_days_ahead=90)
        connections.add_account(
            session, provider='google', host_id=solo.id, email='solo@example.com', refresh_token='rt-solo'
        )
        members = []
        for n in range(MEMBERS):
            member = make_host(session, username=f'm{n:02d}', timezone_name=ZONES[n % len(ZONES)])
            own = make_event_type(session, member, slug='call', duration_minutes=30, max_days_ahead=90)
            guest = bookings.Invitee('Guest', 'guest@example.com', 'UTC')
            for day in (MONDAY + timedelta(days=d) for d in range(0, 28, 3)):  # a few personal bookings each
                if day.weekday() < 5:
                    bookings.book_slot(
                        session=session,
                        event_type=own,
                        start=at(day, f'{9 + n % 7}:00', member.timezone),
                        now=now,
                        warmed=True,
                        invitee=guest,
                    )
            connections.add_account(
                session, provider='google', host_id=member.id, email=f'm{n}@example.com', refresh_token=f'rt-{n}'
            )
            members.append(member)
        big = teams.create_team(
            session=session,
            host_id=members[0].id,
            slug='big',
            name='Big',
            members=tuple(m.username for m in members[1:]),
        )
        teams.create_team_event_type(
            session=session,
            host_id=members[0].id,
            team_id=big.id,
            data=TeamEventTypeInput(
                slug='intro', title='Intro', duration_minutes=30, max_days_ahead=90, assignment='round_robin'
            ),
        )
        european = [m for m in members if m.timezone.startswith('Europe/')][:5]  # working hours that overlap
        small = teams.create_team(
            session=session,
            host_id=european[0].id,
            slug='five',
            name='Five',
            members=tuple(m.username for m in european[1:]),
        )
        teams.create_team_event_type(
            session=session,
            host_id=european[0].id,
            team_id=small.id,
            data=TeamEventTypeInput(
                slug='panel', title='Panel', duration_minutes=30, max_days_ahead=90, assignment='collective'
            ),
        )
    engine.dispose()


def month(client: httpx.Client, url: str) -> float:
    t0 = time.perf_counter()
    answer = client.get(
        url, params={'start': MONDAY.isoformat(), 'end': (MONDAY + timedelta(days=30)).isoformat(), 'timezone': 'UTC'}
    )
    answer.raise_for_status()
    assert 'notice' not in answer.json() and answer.json()['slots'], answer.json()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    fake, server = google_calendar.serve()
    fake.busy['primary'] = [
        {
            'start': (
                datetime.combine(MONDAY + timedelta(days=d), datetime.min.time(), timezone.utc) + timedelta(hours=h)
            ).isoformat(),
            'end': (
                datetime.combine(MONDAY + timedelta(days=d), datetime.min.time(), timezone.utc)
                + timedelta(hours=h, minutes=45)
            ).isoformat(),
        }
        for d in range(31)
        for h in (7, 11, 15)
    ]
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-teams-'))
    seed(data_dir)
    env = {
        'CLOUDMEET_GOOGLE_CLIENT_ID': 'client',
        'CLOUDMEET_GOOGLE_CLIENT_SECRET': 'secret',
        'CLOUDMEET_GOOGLE_API_URL': fake.api_url,
        'CLOUDMEET_GOOGLE_TOKEN_URL': f'{fake.url}/token',
        'CLOUDMEET_ENCRYPTION_KEYS': KEY,
        'CLOUDMEET_CALENDAR_FRESH_SECONDS': '3600',
    }
    paths = {
        'one host': '/api/v1/public/solo/call/slots',
        f'round robin of {MEMBERS}': '/api/v1/public/teams/big/intro/slots',
        'collective of 5': '/api/v1/public/teams/five/panel/slots',
    }
    try:
        with running_server(data_dir=data_dir, env=env) as base, httpx.Client(timeout=60) as client:
            for path in paths.values():
                month(client, base + path)  # warm up (and fill the busy cache)
            timings: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(RUNS):  # interleaved, so machine noise hits all alike
                for name, path in paths.items():
                    timings[name].append(month(client, base + path))
        in_process = _in_process(fake, data_dir)
    finally:
        server.shutdown()
    one = statistics.median(timings['one host'])
    print(
        f'teams: public slots API, 31 days, through the server ({RUNS} requests each, interleaved); '
        f'members in {len(ZONES)} zones, each with a connected calendar (warm cache)'
    )
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f'  {name:<22} median {median:7.2f} ms   {median / one:5.2f}x one host   '
            f'(target: within 12x and under 50 ms)'
            if name != 'one host'
            else f'  {name:<22} median {median:7.2f} ms'
        )
    one = statistics.median(in_process['one host'])
    print(f'the same, in the process (the read path under the route: database, caches, slots; {RUNS} runs each):')
    for name, values in in_process.items():
        median = statistics.median(values)
        print(
            f'  {name:<22} median {median:7.2f} ms'
            + (f'   {median / one:5.2f}x one host' if name != 'one host' else '')
        )


def _in_process(fake: google_calendar.FakeGoogle, data_dir: Path) -> dict[str, list[float]]:
    """The service calls behind the three answers, timed in this process on the same database and stand-in."""
    from app.config import get_settings
    from services import availability, slots, team_use_cases

    settings = get_settings()
    for name, value in (
        ('google_api_url', fake.api_url),
        ('google_token_url', f'{fake.url}/token'),
        ('google_client_id', 'client'),
        ('google_client_secret', 'secret'),
        ('calendar_fresh_seconds', 3600),
    ):
        setattr(settings, name, value)
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    lo, hi = slots.local_dates_span(MONDAY, MONDAY + timedelta(days=30), 'UTC')
    calls = {
        'one host': lambda now: availability.link_offer(username='solo', slug='call', start=lo, end=hi, now=now),
        f'round robin of {MEMBERS}': lambda now: team_use_cases.link_offer(
            team_slug='big', slug='intro', start=lo, end=hi, now=now
        ),
        'collective of 5': lambda now: team_use_cases.link_offer(
            team_slug='five', slug='panel', start=lo, end=hi, now=now
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call(datetime.now(timezone.utc))  # warm the caches
    for _ in range(RUNS):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call(datetime.now(timezone.utc))
            timings[name].append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return timings


if __name__ == '__main__':
    main()
