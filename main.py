"""CloudMeet's entry point: build the process (`bootstrap.py`), then serve, or run an operator command."""

from __future__ import annotations

import re
import sys

from nicegui import ui

from app.config import get_settings
from bootstrap import CannotStart, bootstrap, prepare
from cli import run_cli
from web import edge

# How long a page waits for its browser's websocket (first connect or reconnect) before it is dropped: NiceGUI's
# 3 s lost pages when 200 browser tabs opened at once; longer only keeps a closed tab's page in memory a little
# longer (tests/bench/bench_burst.py measures a burst).
RECONNECT_SECONDS = 15.0

settings = get_settings()
try:
    prepare(settings)
except CannotStart as exc:
    sys.exit(f'CloudMeet cannot start: {exc}')
# A word is an operator command (an unknown one exits 2 with usage, never serving); other arguments are a test
# runner's that loaded this file.
if len(sys.argv) > 1 and re.fullmatch(r'[a-z][a-z-]*', sys.argv[1]):
    sys.exit(run_cli(sys.argv[1:]))
try:
    runtime = bootstrap(settings)
except CannotStart as exc:
    sys.exit(f'CloudMeet cannot start: {exc}')

if __name__ in {'__main__', '__mp_main__'}:
    ui.run(
        host=settings.host,
        port=settings.port,
        title='CloudMeet',
        storage_secret=settings.secret_key,
        reload=False,
        show=False,
        favicon='📅',
        language='en-GB',
        reconnect_timeout=RECONNECT_SECONDS,
        session_middleware_kwargs=edge.session_cookie_options(settings),
        **edge.server_options(settings),
    )
