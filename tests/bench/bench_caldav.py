"""CalDAV benchmark against a real Radicale server on loopback: the cold busy-time fetch of 31 days (discovery,
then one time-range REPORT per calendar) for an account with two calendars holding 20 weekly recurring events and
300 single events, with the server expanding recurrences against CloudMeet expanding them; and the writes a booking
makes (create, move, delete). Prints medians and the ratio."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.config import get_settings
from services.calendars import caldav
from tests.fakes import radicale

RUNS = 15
START = datetime(2027, 3, 1, tzinfo=timezone.utc)


def fill(user: radicale.CalDavUser) -> None:
    for name, offset in (('Work', 0), ('Home', 1)):
        calendar = user.calendar(name)
        for n in range(10):
            first = START - timedelta(days=60) + timedelta(days=n % 5, hours=8 + n + offset)
            calendar.save_event(
                _event(
                    f'weekly-{name}-{n}',
                    first,
                    f'RRULE:FREQ=WEEKLY;COUNT=40\nEXDATE:{(first + timedelta(days=70)):%Y%m%dT%H%M%SZ}\n',
                )
            )
        for n in range(150):
            calendar.save_event(_event(f'single-{name}-{n}', START + timedelta(hours=5 * n + offset)))


def _event(uid: str, start: datetime, extra: str = '') -> str:
    return (
        'BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//bench//EN\nBEGIN:VEVENT\n'
        f'UID:{uid}\nDTSTAMP:20270101T000000Z\nDTSTART:{start:%Y%m%dT%H%M%SZ}\n'
        f'DTEND:{start + timedelta(minutes=45):%Y%m%dT%H%M%SZ}\nSUMMARY:Busy\n{extra}END:VEVENT\nEND:VCALENDAR\n'
    )


def timed(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def booking_writes(account: caldav.Account, uid: str, at: datetime) -> list[tuple[str, float]]:
    """One booking's event created, moved and deleted, each timed in ms."""
    settings = get_settings()
    ical = caldav.event_ics(
        uid=uid,
        title='Intro with Grace',
        description='',
        start=at,
        end=at + timedelta(minutes=30),
        invitee=('grace@example.com', 'Grace'),
        location='',
        sequence=0,
    )
    started = time.perf_counter()
    href = caldav.put_event(account, settings, target='', href='', uid=uid, ical=ical)
    created = time.perf_counter()
    caldav.put_event(account, settings, target='', href=href, uid=uid, ical=ical)
    moved = time.perf_counter()
    caldav.delete_event(account, settings, target='', href=href, uid=uid)
    deleted = time.perf_counter()
    return [
        ('create', (created - started) * 1000),
        ('move', (moved - created) * 1000),
        ('delete', (deleted - moved) * 1000),
    ]


def main() -> None:
    settings = get_settings()
    settings.allow_private_calendar_urls = True
    server = radicale.serve(Path(tempfile.mkdtemp(prefix='cloudmeet-bench-caldav-')))
    try:
        user = server.add_user()
        fill(user)
        account = caldav.Account(user.url, user.username, user.password)
        end = START + timedelta(days=31)

        def fetch(expand: bool) -> int:
            return len(
                caldav.fetch_busy(
                    account, (), START, end, zone='Europe/Berlin', settings=settings, server_expand=expand
                )
            )

        blocks = fetch(True)
        assert blocks == fetch(False)
        by_server = [timed(lambda: fetch(True)) for _ in range(RUNS)]
        by_client = [timed(lambda: fetch(False)) for _ in range(RUNS)]
        print(f'CalDAV busy fetch, 31 days, 2 calendars, {blocks} busy blocks (Radicale on loopback, {RUNS} runs):')
        print(f'  server-side expansion   median {statistics.median(by_server):7.1f} ms')
        print(
            f'  client-side expansion   median {statistics.median(by_client):7.1f} ms '
            f'(ratio {statistics.median(by_client) / statistics.median(by_server):.2f})'
        )
        writes: dict[str, list[float]] = {'create': [], 'move': [], 'delete': []}
        for n in range(RUNS):
            for kind, seconds in booking_writes(account, f'booking-{n}', START + timedelta(days=40, hours=n)):
                writes[kind].append(seconds)
        print(
            '  booking event writes:   '
            + ', '.join(f'{kind} median {statistics.median(values):.1f} ms' for kind, values in writes.items())
        )
    finally:
        server.stop()


if __name__ == '__main__':
    main()
