"""CloudMeet composition root: settings, database, API, pages, then serve (or run an operator command)."""
from __future__ import annotations

import asyncio
import logging
import sys

from nicegui import app as nicegui_app
from nicegui import ui

from app import edge, failures, files, web
from app.api import create_api
from app.cli import COMMANDS, run_cli
from app.config import get_settings
from app.db import init_engine, migrate, session_scope
from app.scheduler import OutboxJobs
from pages import register_pages
from services import hosts, keys
from services.notifications import mailers, worker


async def embed_origins(username: str) -> list[str]:
    """The origins a host allows to frame their booking pages (read off the event loop)."""
    def read() -> list[str]:
        with session_scope() as session:
            return hosts.embed_origins(session=session, username=username)
    return await asyncio.to_thread(read)


# How long a page waits for its browser's websocket (first connect or reconnect) before it is dropped: NiceGUI's
# 3 s lost pages when 200 browser tabs opened at once; longer only keeps a closed tab's page in memory a little
# longer (tests/bench/bench_burst.py measures a burst).
RECONNECT_SECONDS = 15.0

settings = get_settings()
files.make_private(settings.data_dir)  # whatever the umask: the database, outbox and secrets are owner-only
logging.basicConfig(level=settings.log_level, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
logging.getLogger('alembic').setLevel(logging.WARNING)
init_engine(settings.sqlalchemy_url)

if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
    sys.exit(run_cli(sys.argv[1:]))

try:
    mailer = mailers.mailer_from_settings(settings)
except mailers.MailerConfigError as exc:
    sys.exit(f'CloudMeet cannot start: {exc}')

migrate()
try:
    keys.check_keys()
except keys.KeysCannotDecrypt as exc:
    sys.exit(f'CloudMeet cannot start: {exc}')
web.install(nicegui_app, create_api(), embed_origins, max_body_bytes=settings.max_body_bytes,
            hsts=settings.secure_cookies)
failures.install(nicegui_app)
register_pages()
if settings.run_jobs:
    jobs = OutboxJobs(lambda: worker.deliver_due(mailer=mailer, settings=settings),
                      poll_seconds=settings.outbox_poll_seconds)
    nicegui_app.on_startup(jobs.start)
    nicegui_app.on_startup(lambda: mailers.report_reachability(mailer))
    nicegui_app.on_shutdown(jobs.shutdown)

if __name__ in {'__main__', '__mp_main__'}:
    ui.run(host=settings.host, port=settings.port, title='CloudMeet', storage_secret=settings.secret_key,
           reload=False, show=False, favicon='📅', language='en-GB', reconnect_timeout=RECONNECT_SECONDS,
           session_middleware_kwargs=edge.session_cookie_options(settings), **edge.server_options(settings))
