"""Booking page benchmark on loopback (SQLite): first HTML, navigation to visible times in Chromium, and 100 open
pages receiving a booking made elsewhere (propagation time and server memory per page)."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import socketio
from playwright.sync_api import sync_playwright

from app import db
from app.db import session_scope
from tests.e2e.server import running_server
from tests.e2e.test_browser import ARGS, CHROMIUM
from tests.factories import make_event_type, make_host

TIME_BUTTON = re.compile(r', \d{1,2}:\d{2}')  # a time's button, on a 24- or 12-hour clock (New York's)
WATCH = """target => {
    window.__gone = null;
    const gone = () => !document.querySelector(`[aria-label="${target}"]`);
    new MutationObserver((_, observer) => {
        if (gone()) { window.__gone = Date.now(); observer.disconnect(); }
    }).observe(document.body, {childList: true, subtree: true});
}"""


def seed(data_dir: Path) -> None:
    engine = db.init_engine(f'sqlite:///{data_dir / "cloudmeet.sqlite"}')
    db.migrate(engine)
    with session_scope(write=True) as session:
        host = make_host(session, username='ada', timezone_name='Europe/London')
        make_event_type(session, host, slug='call', duration_minutes=30, max_days_ahead=60, min_notice_minutes=24 * 60)
    engine.dispose()


def rss_kb(pid: int) -> int:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def first_html(base: str, runs: int = 200) -> list[float]:
    timings = []
    with httpx.Client() as client:
        client.get(f'{base}/ada/call').raise_for_status()
        for _ in range(runs):
            t0 = time.perf_counter()
            client.get(f'{base}/ada/call').raise_for_status()
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-pages-'))
    seed(data_dir)
    with running_server(data_dir=data_dir, log_level='DEBUG') as base:
        pid = int(next(p for p in Path('/proc').iterdir() if p.name.isdigit() and _is_server(p, data_dir)).name)
        html = first_html(base)
        print('booking page on loopback (SQLite, one server process):')
        print(
            f'  first HTML: p50 {statistics.median(html):.1f} ms   p95 {statistics.quantiles(html, n=20)[-1]:.1f} ms'
            f'   ({len(html)} requests)'
        )
        with sync_playwright() as p:
            # 100 tabs of one headless browser: keep the background ones from being throttled like hidden tabs
            awake = [
                '--disable-background-timer-throttling',
                '--disable-backgrounding-occluded-windows',
                '--disable-renderer-backgrounding',
            ]
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS + awake)
            context = browser.new_context(timezone_id='America/New_York')
            visible = []
            for _ in range(15):
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(f'{base}/ada/call')
                page.get_by_role('button', name=TIME_BUTTON).first.wait_for(timeout=15000)
                visible.append((time.perf_counter() - t0) * 1000)
                page.close()
            print(
                "  navigation to the first day's times visible in Chromium: "
                f'median {statistics.median(visible):.0f} ms   max {max(visible):.0f} ms   ({len(visible)} loads)'
            )
            browser.close()
        asyncio.run(open_pages(base, pid, data_dir))


async def open_pages(base: str, pid: int, data_dir: Path, count: int = 100) -> None:
    """`count` live booking pages over NiceGUI's own socket.io protocol (what a browser tab keeps open), so the
    server's side is measured without 100 Chromium renderers competing for this machine's two cores."""
    time.sleep(2)
    before = rss_kb(pid)
    async with httpx.AsyncClient() as http:
        pages = [await LivePage.open(http, base) for _ in range(count)]
        await asyncio.gather(*(page.wait_for_times() for page in pages))
        await asyncio.sleep(2)
        after = rss_kb(pid)
        target = pages[0].first_time_label()
        start = _start_of(base, target)
        t0 = time.time()
        r = await http.post(
            f'{base}/api/v1/public/ada/call/bookings',
            json={
                'start': start,
                'name': 'Elsewhere',
                'email': 'elsewhere@example.com',
                'timezone': 'America/New_York',
            },
        )
        assert r.status_code == 201, r.text
        delays = sorted(await asyncio.gather(*(page.wait_for_update_after(t0) for page in pages)))
        for page in pages:
            await page.socket.disconnect()
    print(
        f'  {count} open booking pages (live socket.io clients): server memory +{(after - before) / 1024:.1f} MB '
        f'({(after - before) / count:.0f} kB per page)'
    )
    reached = [d for d in delays if d != float('inf')]
    if not reached:
        print(f'  a booking made through the API reached none of the {count} pages within 20 s')
        return
    print(
        f'  a booking made through the API reached {len(reached)} of {count}: median '
        f'{statistics.median(reached):.0f} ms   p90 {reached[int(len(reached) * 0.9) - 1]:.0f} ms   '
        f'last {reached[-1]:.0f} ms'
    )
    time.sleep(1)
    sent = _server_refresh_times(data_dir / 'server.log', r.json()['uid'])
    if not sent:
        print('  server log: no live refresh was logged')
        return
    print(
        f'  server log: {len(sent)} pages refreshed and sent, median {statistics.median(sent):.0f} ms, '
        f'last {max(sent):.0f} ms after the booking committed'
    )


class LivePage:
    """One open booking page: its first HTML, then NiceGUI's websocket with the updates the server pushes."""

    def __init__(self, socket: socketio.AsyncClient) -> None:
        self.socket, self.updates = socket, []

    @classmethod
    async def open(cls, http: httpx.AsyncClient, base: str) -> LivePage:
        html = (await http.get(f'{base}/ada/call', cookies={'cloudmeet_tz': 'America/New_York'})).text
        client_id = re.search(r"'client_id': '([^']+)'", html).group(1)  # type: ignore[union-attr]
        page = cls(socketio.AsyncClient(reconnection=False))
        page.socket.on('update', lambda data: page.updates.append((time.time(), json.dumps(data))))
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
        await page.socket.connect(f'{base}?{query}', socketio_path='/_nicegui_ws/socket.io', transports=['websocket'])
        return page

    async def wait_for_times(self) -> None:
        for _ in range(600):
            if self.first_time_label():
                return
            await asyncio.sleep(0.05)
        raise TimeoutError('no free times arrived')

    def first_time_label(self) -> str:
        for _, data in self.updates:
            found = re.search(r'"aria-label": "([^"]+, \d{2}:\d{2})"', data)
            if found:
                return found.group(1)
        return ''

    async def wait_for_update_after(self, t0: float) -> float:
        """Milliseconds until the first update after t0 (infinite when none came within 20 s)."""
        for _ in range(2000):
            later = [stamp for stamp, _ in self.updates if stamp > t0]
            if later:
                return (later[0] - t0) * 1000
            await asyncio.sleep(0.01)
        return float('inf')


def _server_refresh_times(log: Path, uid: str) -> list[float]:
    pattern = re.compile(rf'live refresh of \S+ sent (\d+) ms after {re.escape(uid)}')
    return [float(m.group(1)) for m in pattern.finditer(log.read_text())]


def _start_of(base: str, aria_label: str) -> str:
    """The ISO start of the slot whose button reads 'Friday 27 November 2026, 09:30' (New York)."""
    day_text, clock = aria_label.rsplit(', ', 1)
    day = datetime.strptime(day_text.split(' ', 1)[1], '%d %B %Y').date()
    slots = httpx.get(
        f'{base}/api/v1/public/ada/call/slots',
        params={'start': day.isoformat(), 'end': day.isoformat(), 'timezone': 'America/New_York'},
    ).json()['slots']
    return next(s['start'] for s in slots if s['start'][11:16] == clock)


def _is_server(proc: Path, data_dir: Path) -> bool:
    try:
        environ = (proc / 'environ').read_bytes().decode(errors='ignore').split('\0')
        return 'main.py' in (proc / 'cmdline').read_text() and f'CLOUDMEET_DATA_DIR={data_dir}' in environ
    except OSError:
        return False


if __name__ == '__main__':
    main()
