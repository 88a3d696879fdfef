"""Websocket burst benchmark: 200 booking pages opened at once over loopback (SQLite), each fetching its HTML and
connecting NiceGUI's socket.io as a browser tab does (python-socketio clients, no reconnection). Counts the pages
whose free times arrived and the ones dropped (refused handshake, or no times within 30 s), with timings."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import socketio

from tests.bench.bench_pages import LivePage, seed
from tests.e2e.server import running_server

PAGES = 200


async def one_page(http: httpx.AsyncClient, base: str, t0: float) -> float | None:
    """Seconds from the burst's start until this page showed its times; None when it was dropped."""
    try:
        page = await _open(http, base)
    except (socketio.exceptions.ConnectionError, httpx.HTTPError, AttributeError):  # refused, broken, no page
        return None
    try:
        for _ in range(600):
            if page.first_time_label():
                return time.perf_counter() - t0
            if not page.socket.connected:
                return None
            await asyncio.sleep(0.05)
        return None
    finally:
        await page.socket.disconnect()


async def burst(base: str) -> list[float | None]:
    limits = httpx.Limits(max_connections=PAGES, max_keepalive_connections=PAGES)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        t0 = time.perf_counter()
        return list(await asyncio.gather(*(one_page(http, base, t0) for _ in range(PAGES))))


async def _open(http: httpx.AsyncClient, base: str) -> LivePage:
    """Like a tab: the HTML, then the websocket, waiting as long as a browser would for the handshake."""
    html = (await http.get(f'{base}/ada/call', cookies={'cloudmeet_tz': 'America/New_York'})).text
    client_id = re.search(r"'client_id': '([^']+)'", html).group(1)  # type: ignore[union-attr]
    page = LivePage(socketio.AsyncClient(reconnection=False))
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
    await page.socket.connect(
        f'{base}?{query}', socketio_path='/_nicegui_ws/socket.io', transports=['websocket'], wait_timeout=60
    )
    return page


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix='cloudmeet-bench-burst-'))
    seed(data_dir)
    with running_server(data_dir=data_dir) as base:
        results = asyncio.run(burst(base))
    shown = sorted(r for r in results if r is not None)
    print(f'websocket burst: {PAGES} booking pages opened at once (one server process, SQLite)')
    print(f'  {len(shown)} of {PAGES} showed their times, {PAGES - len(shown)} dropped')
    if shown:
        print(
            f'  times visible after: median {statistics.median(shown):.1f} s   '
            f'p95 {shown[int(len(shown) * 0.95) - 1]:.1f} s   last {shown[-1]:.1f} s'
        )
    sys.stdout.flush()


if __name__ == '__main__':
    main()
