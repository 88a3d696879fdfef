"""E-mail through the real server: a booking leaves its confirmation and host notice in the file outbox, Resend
gets each message once even from two processes, and messages committed before a crash go out after the restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import icalendar
from sqlmodel import select

from app import db
from app.db import session_scope
from app.models import OutboxMessage
from tests.e2e.server import running_server
from tests.factories import at, make_event_type, make_host, next_monday
from tests.fakes import resend_api

MONDAY = next_monday()


def prepare(url: str) -> None:
    engine = db.init_engine(url)
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        make_event_type(session, host, slug='call', title='Intro call')


def book(base: str, clock: str, n: int = 0) -> dict:
    made = httpx.post(
        f'{base}/api/v1/public/ada/call/bookings',
        timeout=30,
        json={
            'start': at(MONDAY, clock).isoformat(),
            'name': f'Grace {n}',
            'email': f'grace{n}@example.com',
            'timezone': 'America/New_York',
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


def wait_for(found: Callable[[], object], seconds: float = 20) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.1)
    return found()


def test_a_booking_on_a_fresh_server_leaves_a_confirmation_and_a_host_notice_with_valid_invitations(
    tmp_path: Path,
) -> None:
    prepare(f'sqlite:///{tmp_path / "cloudmeet.sqlite"}')
    outbox = tmp_path / 'outbox'
    with running_server(data_dir=tmp_path) as base:
        made = book(base, '10:00')
        files = wait_for(lambda: sorted(outbox.glob('*.eml')) if len(list(outbox.glob('*.eml'))) >= 2 else None)
    assert [p.name for p in files] == [f'{made["uid"]}.confirmation.0.eml', f'{made["uid"]}.host_booking.0.eml']
    for path, to in zip(files, ('Grace 0 <grace0@example.com>', 'Ada Lovelace <ada@example.com>'), strict=True):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert mail['To'] == to
        ics = next(p for p in mail.walk() if p.get_content_type() == 'text/calendar')
        (event,) = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk('VEVENT')
        assert event.decoded('DTSTART') == at(MONDAY, '10:00') and str(event['UID']).startswith(made['uid'])
    invitee = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert made['manage_url'] in invitee.get_body(('plain',)).get_content()


def test_messages_committed_before_a_crash_are_sent_after_the_restart_once(tmp_path: Path) -> None:
    prepare(f'sqlite:///{tmp_path / "cloudmeet.sqlite"}')
    with running_server(data_dir=tmp_path, env={'CLOUDMEET_RUN_JOBS': 'false'}, name='before') as base:
        made = book(base, '11:00')  # committed; this process never sends (as if it died right after)
    assert not (tmp_path / 'outbox').exists() or not list((tmp_path / 'outbox').glob('*.eml'))
    with running_server(data_dir=tmp_path, name='after'):
        files = wait_for(
            lambda: (
                list((tmp_path / 'outbox').glob(f'{made["uid"]}.*.eml'))
                if len(list((tmp_path / 'outbox').glob('*.eml'))) >= 2
                else None
            )
        )
    assert sorted(p.name.split('.')[1] for p in files) == ['confirmation', 'host_booking']


def test_two_processes_on_one_postgresql_database_send_each_message_to_resend_exactly_once(
    tmp_path: Path, postgres_databases: object
) -> None:
    url = postgres_databases.create()  # type: ignore[attr-defined]
    prepare(url)
    fake, resend_server = resend_api.serve()
    env = {
        'CLOUDMEET_RESEND_API_KEY': resend_api.API_KEY,
        'CLOUDMEET_RESEND_API_URL': fake.url,
        'CLOUDMEET_OUTBOX_POLL_SECONDS': '1',
    }
    try:
        with (
            running_server(data_dir=tmp_path, database_url=url, env=env, name='one') as one,
            running_server(data_dir=tmp_path, database_url=url, env=env, name='two') as two,
        ):
            uids = [book((one, two)[n % 2], f'{9 + n // 2:02d}:{30 * (n % 2):02d}', n)['uid'] for n in range(12)]
            wait_for(lambda: len(fake.emails) >= 24)
            time.sleep(2)  # both workers have polled again since
    finally:
        resend_server.shutdown()
    keys = [r['headers'].get('idempotency-key') for r in fake.requests]
    assert len(keys) == len(set(keys)) == 24  # one request per message: no process sent another's
    assert sorted(keys) == sorted(f'{uid}.{kind}.0' for uid in uids for kind in ('confirmation', 'host_booking'))
    with session_scope() as session:
        sent = list(session.exec(select(OutboxMessage).where(OutboxMessage.status == 'sent')))
    assert len(sent) == 24
    assert len({m.claimed_by for m in sent}) == 2  # both processes sent: they really raced over one outbox
