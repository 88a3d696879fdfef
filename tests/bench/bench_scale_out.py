"""Scale-out benchmark: one vs two server processes on one fresh PostgreSQL database behind a real nginx running
the shipped site (tests/e2e/nginx.py renders it for local ports, as the end-to-end test does).

1. Load through nginx (https): 50 and 200 concurrent users, each a closed loop with no think time, mixing public
   slots requests (1 and 31 days, varied zones and dates) with bookings of distinct free times (each time booked
   once; the per-address booking limit is off, as every request comes from this one address). Throughput,
   p50/p99 latency and errors (any error: printed, and the run exits non-zero).
2. Live updates across processes: 100 booking pages opened through nginx, all pinned by the site's sticky cookie
   to the first process, as NiceGUI socket.io clients (what a browser tab keeps open); then 100 bookings, one at a
   time, through the second process's own port, each of the page's first free time; for each, the time from
   sending the booking until the first and until the last page received the update deleting that time's button.
3. Memory per open booking page: the first process's RSS before and after the 100 pages connected, over 100.

Needs PostgreSQL (CLOUDMEET_TEST_POSTGRES_URL, as the tests) and Debian's nginx.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import socketio

from app import db
from tests.bench.bench_pages import rss_kb
from tests.conftest import PostgresDatabases, postgres_unavailable_reason
from tests.e2e import nginx as site
from tests.e2e.server import ROOT, SHARED_SECRETS, _wait_until_up, free_port
from tests.factories import make_event_type, make_host

WARM_SECONDS, MEASURE_SECONDS = 3.0, 15.0
USERS = (50, 200)
LOAD_HOSTS = {'load0': 'Europe/Berlin', 'load1': 'America/New_York', 'load2': 'Asia/Tokyo', 'load3': 'Europe/London'}
ZONES = (
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'America/Los_Angeles',
    'Asia/Tokyo',
    'Asia/Kolkata',
    'Australia/Sydney',
    'America/Sao_Paulo',
)
MIX = (('slots 1 day', 0.4), ('slots 31 days', 0.4), ('booking', 0.2))
PAGES, LIVE_BOOKINGS = 100, 100
PAGE_ZONE = 'America/New_York'
TIME = re.compile(r'^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}$')  # a time's button


def seed(url: str) -> None:
    engine = db.init_engine(url)
    db.migrate(engine)
    with db.session_scope(write=True) as session:
        ada = make_host(session, username='ada', timezone_name='Europe/London')
        make_event_type(session, ada, slug='call', duration_minutes=30, max_days_ahead=60)
        for username, zone in LOAD_HOSTS.items():
            host = make_host(session, username=username, timezone_name=zone)
            make_event_type(session, host, slug='call', duration_minutes=15, max_days_ahead=365)
    engine.dispose()


def free_times(base: str, username: str, zone: str, days: int) -> list[str]:
    """Every free start of username's call within `days` (62-day windows: the API's longest range)."""
    today, found = dt.date.today(), []
    for first in range(0, days, 62):
        start = today + dt.timedelta(days=first)
        end = min(today + dt.timedelta(days=days - 1), start + dt.timedelta(days=61))
        answer = httpx.get(
            f'{base}/api/v1/public/{username}/call/slots',
            timeout=60,
            params={'start': str(start), 'end': str(end), 'timezone': zone},
        )
        answer.raise_for_status()
        found += [slot['start'] for slot in answer.json()['slots']]
    return found


# --- the cluster ------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    url: str
    data_dir: Path
    nginx_dir: Path
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    nginx: subprocess.Popen | None = None

    @property
    def proxy(self) -> str:
        return f'https://127.0.0.1:{self.https_port}'

    def start_app(self) -> int:
        port = free_port()
        env = {
            **os.environ,
            **SHARED_SECRETS,
            'CLOUDMEET_DATA_DIR': str(self.data_dir),
            'CLOUDMEET_DATABASE_URL': self.url,
            'CLOUDMEET_LOG_LEVEL': 'WARNING',
            'CLOUDMEET_BASE_URL': self.proxy,
            'CLOUDMEET_TRUSTED_PROXIES': '127.0.0.1',
            'CLOUDMEET_BOOKING_RATE_LIMIT': '0',
            'CLOUDMEET_PORT': str(port),
        }
        env.pop('PYTEST_CURRENT_TEST', None)
        log = (self.data_dir / f'app{len(self.processes)}.log').open('a')
        self.processes[port] = subprocess.Popen(
            [sys.executable, 'main.py'], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        _wait_until_up(f'http://127.0.0.1:{port}', self.processes[port], Path(log.name))
        return port

    def serve(self, ports: list[int]) -> None:
        """(Re)start nginx on the shipped site with these processes (one process: both upstream lines name it)."""
        self.stop_nginx()
        site.write_config(
            self.nginx_dir,
            upstreams=(ports * 2)[:2],
            http_port=self.http_port,
            https_port=self.https_port,
            worker_connections=4096,
        )
        self.nginx = site.start(self.nginx_dir)
        site.wait_until_serving(self.proxy, self.nginx, self.nginx_dir)

    def stop_nginx(self) -> None:
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(10)
            self.nginx = None

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stop_nginx()

    def route_to(self, port: int) -> str:
        """A `cloudmeet_route` cookie value that the site's consistent hash sends to this process."""
        for n in range(200):
            value = f'bench{n}'
            httpx.get(self.proxy + '/healthz', cookies={'cloudmeet_route': value}, verify=False).raise_for_status()
            line = next(line for line in reversed(site.access_log(self.nginx_dir)) if f'route={value}' in line)
            if f'upstream=127.0.0.1:{port}' in line:
                return value
        raise RuntimeError(f'no route cookie value reaches :{port}')


# --- 1. load ------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    done: float  # perf_counter when it answered
    ms: float
    error: str = ''


async def user(
    http: httpx.AsyncClient,
    proxy: str,
    rng: random.Random,
    pool: deque[tuple[str, str]],
    stop: asyncio.Event,
    outcomes: list[Outcome],
) -> None:
    today = dt.date.today()
    kinds, weights = [kind for kind, _ in MIX], [share for _, share in MIX]
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        zone = rng.choice(ZONES)
        username = rng.choice(list(LOAD_HOSTS))
        t0 = time.perf_counter()
        error = ''
        try:
            if kind == 'booking':
                if not pool:
                    raise RuntimeError('no free time left to book')
                username, start = pool.popleft()
                n = uuid.uuid4().hex[:10]
                answer = await http.post(
                    f'{proxy}/api/v1/public/{username}/call/bookings',
                    json={'start': start, 'name': f'Load {n}', 'email': f'load-{n}@example.com', 'timezone': zone},
                )
                expected = 201
            else:
                first = today + dt.timedelta(days=rng.randint(0, 90))
                last = first + dt.timedelta(days=0 if kind == 'slots 1 day' else 30)
                answer = await http.get(
                    f'{proxy}/api/v1/public/{username}/call/slots',
                    params={'start': str(first), 'end': str(last), 'timezone': zone},
                )
                expected = 200
            if answer.status_code != expected:
                error = f'{kind}: {answer.status_code} {answer.text[:120]}'
        except (httpx.HTTPError, RuntimeError) as exc:
            error = f'{kind}: {type(exc).__name__} {exc}'[:160]
        done = time.perf_counter()
        outcomes.append(Outcome(kind, done, (done - t0) * 1000, error))


async def load(proxy: str, users: int, pool: deque[tuple[str, str]], seed: int) -> tuple[list[Outcome], float]:
    """Every outcome of the run, and the start of its measured window (after WARM_SECONDS)."""
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    outcomes: list[Outcome] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(limits=limits, timeout=60, verify=False) as http:
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(user(http, proxy, random.Random(seed * 1000 + n), pool, stop, outcomes))
            for n in range(users)
        ]
        await asyncio.sleep(WARM_SECONDS + MEASURE_SECONDS)
        stop.set()
        await asyncio.gather(*tasks)
    return outcomes, started + WARM_SECONDS


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float('nan')


def report_load(processes: int, users: int, outcomes: list[Outcome], window: float) -> list[str]:
    measured = [o for o in outcomes if window <= o.done <= window + MEASURE_SECONDS and not o.error]
    errors = [o.error for o in outcomes if o.error]
    ms = [o.ms for o in measured]
    kinds = '   '.join(
        f'{kind} p50 {percentile(k, 0.5):.0f}/p99 {percentile(k, 0.99):.0f} ms'
        for kind, _ in MIX
        if (k := [o.ms for o in measured if o.kind == kind])
    )
    print(
        f'  {processes} process{"es" if processes > 1 else "  "} {users:>3} users: '
        f'{len(measured) / MEASURE_SECONDS:6.1f} req/s   p50 {percentile(ms, 0.5):5.0f} ms   '
        f'p99 {percentile(ms, 0.99):5.0f} ms   errors {len(errors)}   '
        f'({len(outcomes)} requests, {sum(o.kind == "booking" for o in outcomes)} bookings)'
    )
    print(f'      {kinds}')
    sys.stdout.flush()
    return errors


# --- 2. and 3. open pages, live updates, memory ------------------------------------------------------------------


class Page:
    """One booking page: its HTML through nginx, then NiceGUI's socket.io with the updates the server pushes (each a
    diff: element id -> its new state, or null when it was deleted)."""

    def __init__(self) -> None:
        self.socket = socketio.AsyncClient(reconnection=False, ssl_verify=False)
        self.deleted: dict[str, float] = {}  # element id -> when an update deleted it (ids are never reused)
        self.ids: dict[str, str] = {}  # a time's label -> the id of its button
        self.first = ''  # the first time shown by the latest update that showed times
        self.socket.on('update', self._update)

    def _update(self, data: dict) -> None:
        stamp = time.perf_counter()  # noted first and looked up in O(1): the 100 pages share this one event loop
        self.deleted.update((key, stamp) for key, element in data.items() if element is None)
        shown = [
            (key, element['props']['aria-label'])
            for key, element in data.items()
            if isinstance(element, dict) and TIME.search(str(element.get('props', {}).get('aria-label', '')))
        ]
        self.ids.update((label, key) for key, label in shown)
        if shown:
            self.first = shown[0][1]

    async def open(self, http: httpx.AsyncClient, proxy: str, route: str) -> None:
        cookies = {'cloudmeet_route': route, 'cloudmeet_tz': PAGE_ZONE}
        answer = await http.get(f'{proxy}/ada/call', cookies=cookies)
        answer.raise_for_status()
        client_id = re.search(r"'client_id': '([^']+)'", answer.text).group(1)  # type: ignore[union-attr]
        query = urlencode(
            {
                'client_id': client_id,
                'next_message_id': 0,
                'implicit_handshake': 'true',
                'document_id': str(uuid.uuid4()),
                'tab_id': str(uuid.uuid4()),
                'old_tab_id': '',
            }
        )
        await self.socket.connect(
            f'{proxy}?{query}',
            socketio_path='/_nicegui_ws/socket.io',
            transports=['websocket'],
            wait_timeout=30,
            headers={'Cookie': '; '.join(f'{k}={v}' for k, v in cookies.items())},
        )

    def heard(self, after: float, gone: str) -> float | None:
        """When an update after `after` deleted the button of the time `gone` (None: not yet)."""
        stamp = self.deleted.get(self.ids.get(gone, ''))
        return stamp if stamp is not None and stamp > after else None


def label(start: str) -> str:
    """How the booking page names a time (en-GB, 24-hour clock), in the zone of the ISO start."""
    t = dt.datetime.fromisoformat(start)
    return f'{t:%A} {t.day} {t:%B %Y}, {t:%H:%M}'


async def live(
    cluster: Cluster, page_port: int, booking_port: int
) -> tuple[float, list[float], list[float], list[float], int]:
    """(kB per page, seconds to the booking's answer, to the first page and to the last page per booking, misses)."""
    pid = cluster.processes[page_port].pid
    route = cluster.route_to(page_port)
    direct = f'http://127.0.0.1:{booking_port}'
    await asyncio.sleep(2)
    before = rss_kb(pid)
    pages = [Page() for _ in range(PAGES)]
    async with httpx.AsyncClient(verify=False, timeout=60) as http:
        for page in pages:
            await page.open(http, cluster.proxy, route)
    deadline = time.monotonic() + 30
    while not all(p.first for p in pages) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    after = rss_kb(pid)
    starts = free_times(direct, 'ada', PAGE_ZONE, 60)
    shown = {p.first for p in pages}
    if shown != {label(starts[0])}:
        raise RuntimeError(f'the pages show {shown}, the API {label(starts[0])}')
    answered, first, last, misses = [], [], [], 0
    async with httpx.AsyncClient(timeout=60) as http:
        for n, start in enumerate(starts[:LIVE_BOOKINGS]):
            gone = label(start)
            t0 = time.perf_counter()
            answer = await http.post(
                f'{direct}/api/v1/public/ada/call/bookings',
                json={'start': start, 'name': f'Live {n}', 'email': f'live{n}@example.com', 'timezone': PAGE_ZONE},
            )
            if answer.status_code != 201:
                raise RuntimeError(f'live booking {n}: {answer.status_code} {answer.text[:200]}')
            answered.append(time.perf_counter() - t0)
            until = time.perf_counter() + 5
            while (heard := [p.heard(t0, gone) for p in pages]).count(None) and time.perf_counter() < until:
                await asyncio.sleep(0.01)
            arrived = [h - t0 for h in heard if h is not None]
            misses += len(pages) - len(arrived)
            if arrived:
                first.append(min(arrived))
                last.append(max(arrived))
    for page in pages:
        await page.socket.disconnect()
    return (after - before) / PAGES, answered, first, last, misses


# --- the run ------------------------------------------------------------------------------------------------------


def main() -> int:
    reason = postgres_unavailable_reason()
    if reason or site.NGINX is None:
        print(f'scale-out benchmark skipped: {reason or "no nginx found (Debian`s nginx package)"}')
        return 0
    load_before = os.getloadavg()
    databases = PostgresDatabases()
    url = databases.create()
    seed(url)
    work = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-scale-out-'))
    (work / 'data').mkdir()
    (work / 'nginx').mkdir()
    cluster = Cluster(url, work / 'data', work / 'nginx')
    errors: list[str] = []
    try:
        first_port = cluster.start_app()
        cluster.serve([first_port])
        direct = f'http://127.0.0.1:{first_port}'
        times = [
            (username, start)
            for username, zone in LOAD_HOSTS.items()
            for start in free_times(direct, username, zone, 365)
        ]
        random.Random(7).shuffle(times)
        pool = deque(times)
        print(
            f'scale-out benchmark: {os.cpu_count()} CPUs, load average {" ".join(f"{x:.2f}" for x in load_before)}'
            f' before; PostgreSQL, the shipped nginx site (https, one worker), app log level WARNING'
        )
        print(
            f'load: asyncio + httpx client pool (locust not used), closed loop with no think time; mix '
            f'{", ".join(f"{kind} {share:.0%}" for kind, share in MIX)} over {len(LOAD_HOSTS)} hosts, zones and '
            f'start dates varied; each booking a distinct free time ({len(pool)} in the pool); '
            f'{WARM_SECONDS:.0f} s warm-up, then {MEASURE_SECONDS:.0f} s measured; errors counted throughout'
        )
        sys.stdout.flush()
        second_port = 0
        for processes in (1, 2):
            if processes == 2:
                second_port = cluster.start_app()
                cluster.serve([first_port, second_port])
            for users in USERS:
                outcomes, window = asyncio.run(load(cluster.proxy, users, pool, seed=processes * 1000 + users))
                errors += report_load(processes, users, outcomes, window)
        per_page, answered, first, last, misses = asyncio.run(live(cluster, first_port, second_port))
        print(
            f'live updates across processes: {PAGES} booking pages opened through nginx (socket.io clients, sticky '
            f"cookie to process A), {len(first)} bookings one at a time through process B's own port, each of "
            "the pages' first free time; time from sending the booking to the update deleting that time's button"
        )
        if first:
            print(
                f'  the booking answered (201): p50 {statistics.median(answered) * 1000:.0f} ms   '
                f'max {max(answered) * 1000:.0f} ms'
            )
            print(
                f'  first page: p50 {statistics.median(first) * 1000:.0f} ms   max {max(first) * 1000:.0f} ms;   '
                f'all {PAGES} pages: p50 {statistics.median(last) * 1000:.0f} ms   max {max(last) * 1000:.0f} ms   '
                f'(target under 1 s: {"met" if max(last) < 1 else "missed"})   updates missed: {misses}'
            )
            slow = [n for n, seconds in enumerate(last) if seconds >= 1]
            if slow:
                print(f'  bookings whose last page heard after 1 s or more: {slow} (of 0..{len(last) - 1})')
        print(
            f"memory per open booking page: process A's RSS before and after {PAGES} pages connected: "
            f'{per_page:.0f} kB per page ({per_page * PAGES / 1024:.1f} MB in all)'
        )
        if misses:
            errors.append(f'{misses} page updates never arrived within 5 s')
    finally:
        cluster.stop()
        databases.drop_all()
    print(f'load average after: {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    if errors:
        print(f'ERRORS ({len(errors)}), none allowed:')
        for error in errors[:20]:
            print(f'  {error}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
