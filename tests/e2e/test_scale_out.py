"""Two server processes on one PostgreSQL database behind a real nginx running the shipped site
(deploy/nginx/cloudmeet.conf, only its addresses, ports, certificate and log paths replaced): a page opened
through the proxy hears a booking made through the other process, e-mails go out once, and kill -9 of one
process in the middle of 20 bookings loses no 201 booking and sends every confirmation once after its restart.

Skipped with a reason when nginx or Chromium is not installed; a failure instead under CI=true."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from app import db
from app.models import Booking, OutboxMessage
from tests.e2e import nginx as site
from tests.e2e.nginx import NGINX
from tests.e2e.server import ROOT, SHARED_SECRETS, _wait_until_up, free_port
from tests.factories import make_event_type, make_host

CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else None)
ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
]

for missing, what in ((NGINX, "nginx (Debian's nginx package)"), (CHROMIUM, "Chromium (Debian's chromium package)")):
    if missing is None:
        if os.environ.get('CI') == 'true':
            pytest.fail(f'{what} is required under CI=true', pytrace=False)
        pytest.skip(f'no {what} found: install it to run the scale-out test', allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

ZONE = 'Europe/London'
TIME_BUTTON = re.compile(r'^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}$')


@dataclass
class Cluster:
    proxy: str  # https through nginx
    data_dir: Path  # shared by both processes (the file mailer's outbox among it)
    nginx_dir: Path
    ports: list[int]
    env: dict[str, str]
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)

    def start(self, port: int, name: str) -> None:
        log = (self.data_dir / f'{name}.log').open('a')
        self.processes[port] = subprocess.Popen(
            [sys.executable, 'main.py'],
            cwd=ROOT,
            env={**self.env, 'CLOUDMEET_PORT': str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        _wait_until_up(f'http://127.0.0.1:{port}', self.processes[port], Path(log.name))

    def access_log(self) -> list[str]:
        return site.access_log(self.nginx_dir)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_databases: Any) -> Iterator[Cluster]:
    url = postgres_databases.create()
    engine = db.init_engine(url)
    db.migrate(engine)
    with db.session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace', timezone_name=ZONE)
        make_event_type(session, host, slug='call', title='Intro call', max_days_ahead=60)
    data_dir, nginx_dir = tmp_path_factory.mktemp('scale-out-data'), tmp_path_factory.mktemp('scale-out-nginx')
    ports, http_port, https_port = [free_port(), free_port()], free_port(), free_port()
    site.write_config(nginx_dir, upstreams=ports, http_port=http_port, https_port=https_port)
    proxy = f'https://127.0.0.1:{https_port}'
    env = {
        **os.environ,
        **SHARED_SECRETS,
        'CLOUDMEET_DATA_DIR': str(data_dir),
        'CLOUDMEET_DATABASE_URL': url,
        'CLOUDMEET_LOG_LEVEL': 'INFO',
        'CLOUDMEET_BASE_URL': proxy,
        'CLOUDMEET_TRUSTED_PROXIES': '127.0.0.1',
        'CLOUDMEET_BOOKING_RATE_LIMIT': '0',
    }  # every request here comes from one address
    env.pop('PYTEST_CURRENT_TEST', None)  # else NiceGUI believes it runs inside a test and wants a screen
    cluster = Cluster(proxy, data_dir, nginx_dir, ports, env)
    nginx = site.start(nginx_dir)
    try:
        starting = [threading.Thread(target=cluster.start, args=(port, f'app{n}')) for n, port in enumerate(ports)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        assert all(p.poll() is None for p in cluster.processes.values()), 'a server process did not start'
        site.wait_until_serving(proxy, nginx, nginx_dir)
        yield cluster
    finally:
        for process in cluster.processes.values():
            process.terminate()
        for process in cluster.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        nginx.terminate()
        nginx.wait(10)
        engine.dispose()


def offered(base: str, days: int = 40) -> list[str]:
    today = dt.date.today()
    answer = httpx.get(
        f'{base}/api/v1/public/ada/call/slots',
        verify=False,
        timeout=10,
        params={'start': str(today), 'end': str(today + dt.timedelta(days=days)), 'timezone': ZONE},
    )
    assert answer.status_code == 200, answer.text
    return [slot['start'] for slot in answer.json()['slots']]


def book(client: httpx.Client, base: str, start: str, n: int) -> httpx.Response:
    return client.post(
        f'{base}/api/v1/public/ada/call/bookings',
        json={'start': start, 'name': f'Invitee {n}', 'email': f'invitee{n}@example.com', 'timezone': ZONE},
    )


def label(start: str) -> str:
    """How the booking page names a time (en-GB, 24-hour clock)."""
    t = dt.datetime.fromisoformat(start)
    return f'{t:%A} {t.day} {t:%B %Y}, {t:%H:%M}'


def wait_for(check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def confirmations() -> dict[str, list[OutboxMessage]]:
    """Every booking's uid -> its confirmation messages."""
    with db.session_scope() as session:
        bookings = {b.id: b.uid for b in session.exec(select(Booking)).all()}
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'confirmation')).all()
    found: dict[str, list[OutboxMessage]] = {uid: [] for uid in bookings.values()}
    for message in messages:
        found[bookings[message.booking_id]].append(message)
    return found


def upstream(access_log_line: str) -> int:
    """The port of the process nginx sent a request to (the site's log format names it)."""
    found = re.search(r'upstream=127\.0\.0\.1:(\d+)', access_log_line)
    assert found, access_log_line
    return int(found.group(1))


def booked(cluster: Cluster) -> list[str]:
    """The access log's lines of booking calls, in the order they were answered."""
    return [line for line in cluster.access_log() if '"POST /api/v1/public/ada/call/bookings' in line]


def mail_files(cluster: Cluster) -> list[str]:
    return sorted(p.name for p in (cluster.data_dir / 'outbox').glob('*.confirmation.*'))


def test_a_page_open_through_nginx_hears_a_booking_made_through_the_other_process(cluster: Cluster) -> None:
    first = offered(cluster.proxy)[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(
            viewport={'width': 1200, 'height': 900}, locale='en-GB', timezone_id=ZONE, ignore_https_errors=True
        )
        page = context.new_page()
        page.goto(cluster.proxy + '/ada/call')
        times = page.get_by_role('button', name=TIME_BUTTON)
        expect(times.first).to_be_visible(timeout=10000)
        assert times.first.get_attribute('aria-label') == label(first)
        assert any(c['name'] == 'cloudmeet_route' for c in context.cookies())  # the site's sticky cookie
        [served] = [line for line in cluster.access_log() if '"GET /ada/call ' in line]
        page_port = upstream(served)
        other = next(port for port in cluster.ports if port != page_port)

        made = book(httpx.Client(), f'http://127.0.0.1:{other}', first, 0)  # the other process, directly
        assert made.status_code == 201, made.text
        started = time.monotonic()
        expect(page.get_by_role('button', name=label(first), exact=True)).to_have_count(0, timeout=5000)
        heard = time.monotonic() - started
        expect(times.first).to_be_visible()  # the page lives on with the next times
        context.close()
        browser.close()
    print(f'the page served by :{page_port} dropped the time booked through :{other} after {heard:.2f} s')
    # the page's websocket went to the process that rendered the page (logged when it closed)
    sockets = wait_for(lambda: [line for line in cluster.access_log() if '/_nicegui_ws/' in line], 5)
    assert sockets and all(f'upstream=127.0.0.1:{page_port}' in line for line in sockets), sockets

    uid = made.json()['uid']
    assert wait_for(lambda: [m for m in confirmations()[uid] if m.status == 'sent'], 10)
    time.sleep(1)  # both processes had their chance to send it again
    assert [(m.status, m.attempts) for m in confirmations()[uid]] == [('sent', 1)]
    assert mail_files(cluster) == [f'{uid}.confirmation.0.eml']


def test_kill_9_of_one_process_amid_20_bookings_through_nginx_loses_no_201_and_sends_each_confirmation_once(
    cluster: Cluster,
) -> None:
    starts = offered(cluster.proxy)[:20]
    assert len(starts) == 20
    victim = cluster.ports[1]
    done: list[int] = []
    statuses: dict[int, int] = {}
    uids: dict[int, str] = {}

    def send(n: int) -> None:
        with httpx.Client(verify=False, timeout=30) as client:
            answer = book(client, cluster.proxy, starts[n], n + 1)
        statuses[n] = answer.status_code
        if answer.status_code == 201:
            uids[n] = answer.json()['uid']
        done.append(n)

    with ThreadPoolExecutor(4) as pool:
        for n in range(20):
            pool.submit(send, n)
        # nginx routes each cookie-less call at random: the victim is killed once it has served some of them
        wait_for(lambda: len(done) >= 6 and victim in {upstream(line) for line in booked(cluster)}, 20)
        cluster.processes[victim].kill()  # SIGKILL: no shutdown, no clean-up
        cluster.processes[victim].wait(5)
    assert {upstream(line) for line in booked(cluster)} == set(cluster.ports), (
        'nginx spreads cookie-less API calls over both processes'
    )
    assert set(statuses.values()) <= {201, 502}, statuses  # a request in flight on the killed process: 502
    assert len(uids) >= 16, statuses  # at most the 4 in flight are lost; the rest went to the live process

    existing = confirmations()
    print(f'kill -9 amid 20 bookings: {len(uids)} answered 201, the others {sorted(set(statuses.values()) - {201})}')
    assert set(uids.values()) <= set(existing), 'a booking answered 201 is missing'

    cluster.start(victim, 'app1-restarted')

    def all_sent() -> bool:
        return all([m.status for m in messages] == ['sent'] for messages in confirmations().values())

    if not wait_for(all_sent, 20):
        stuck = {
            uid: [(m.status, m.claimed_by) for m in messages]
            for uid, messages in confirmations().items()
            if [m.status for m in messages] != ['sent']
        }
        pytest.fail(f'confirmations not sent 20 s after the restart: {stuck}')
    time.sleep(1)
    everything = confirmations()
    assert set(everything) == set(existing)  # nothing more was booked meanwhile
    assert mail_files(cluster) == sorted(f'{uid}.confirmation.0.eml' for uid in everything)
    assert not list((cluster.data_dir / 'outbox').glob('*.tmp'))
