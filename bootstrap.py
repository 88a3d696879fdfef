"""The composition root's parts: everything a CloudMeet process is built from, wired once, in one place.

`main.py` calls `bootstrap()` and serves; the tests call `listen()` for the in-process listeners (and `bootstrap()`
through main.py in the page tests). No module subscribes to the event bus or builds a mailer at import time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import Client
from nicegui import app as nicegui_app

import web
from api import create_api
from app import bus, files
from app.config import Settings
from app.db import init_engine, migrate, session_scope
from app.models import utcnow
from jobs import OutboxJobs
from pages import live, register_pages
from services import hosts, keys, offer_cache, team_slots, use_cases
from services.calendars import busy
from services.notifications import mailers, worker
from services.webhooks import subscriptions as webhook_subscriptions
from web import failures, logs, tuning


class CannotStart(Exception):
    """A setting that stops the process at start-up (the message names it)."""


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    mailer: mailers.Mailer
    jobs: OutboxJobs | None
    stop_listening: Callable[[], None]


def prepare(settings: Settings) -> None:
    """What even an operator command needs: private data files, logging, the database engine. Several processes
    on PostgreSQL must share their secrets, so there they must be set, not generated per data dir."""
    if settings.sqlalchemy_url.startswith('postgresql') and settings.generated_secrets:
        raise CannotStart(
            f'on PostgreSQL set {" and ".join(settings.generated_secrets)} (every process sharing '
            'the database needs the same values; see the README)'
        )
    files.make_private(settings.data_dir)  # whatever the umask: the database, outbox and secrets are owner-only
    logs.configure(level=settings.log_level, log_format=settings.log_format)
    init_engine(settings.sqlalchemy_url)


def listen() -> Callable[[], None]:
    """Subscribe the in-process listeners, live pages' change counter first (it must count a change before any
    page refreshes); returns the function that unsubscribes them all."""
    stops = [live.listen(), busy.listen(), offer_cache.listen(), team_slots.listen()]

    def stop() -> None:
        for unsubscribe in stops:
            unsubscribe()

    return stop


def bootstrap(settings: Settings) -> Runtime:
    """Build the serving process: mailer, schema, key check, listeners, web stack, pages and jobs."""
    try:
        mailer = mailers.mailer_from_settings(settings)
    except mailers.MailerConfigError as exc:
        raise CannotStart(str(exc)) from exc
    migrate()
    try:
        keys.check_keys()
    except keys.KeysCannotDecrypt as exc:
        raise CannotStart(str(exc)) from exc
    stop_listening = listen()
    nicegui_app.on_shutdown(stop_listening)
    if settings.sqlalchemy_url.startswith('postgresql'):  # several processes may share it: hear their changes
        listener = bus.Listener(settings.sqlalchemy_url)
        nicegui_app.on_startup(listener.start)
        nicegui_app.on_shutdown(listener.stop)
    web.install(
        nicegui_app, create_api(), _embed_origins, max_body_bytes=settings.max_body_bytes, hsts=settings.secure_cookies
    )
    failures.install(nicegui_app)
    nicegui_app.on_shutdown(_close_pages)
    register_pages()
    jobs = _jobs(settings, mailer) if settings.run_jobs else None
    tuning.install(nicegui_app)
    return Runtime(settings, mailer, jobs, stop_listening)


def _jobs(settings: Settings, mailer: mailers.Mailer) -> OutboxJobs:
    stopping = threading.Event()  # set at shutdown: a pass finishes the messages in hand and gives back the rest
    jobs = OutboxJobs(
        lambda: worker.deliver_due(mailer=mailer, settings=settings, stop=stopping),
        poll_seconds=settings.outbox_poll_seconds,
        stopping=stopping,
        chores=_upkeep,
    )
    nicegui_app.on_startup(worker.take_back_abandoned)  # before the first pass: killed workers' claims come back
    nicegui_app.on_startup(jobs.start)
    nicegui_app.on_startup(lambda: mailers.report_reachability(mailer))
    nicegui_app.on_shutdown(lambda: jobs.stop())  # no argument: NiceGUI would pass itself to a one-argument handler
    return jobs


def _upkeep() -> None:
    """The periodic chores: requests whose start passed undecided are declined, old webhook deliveries forgotten."""
    now = utcnow()
    use_cases.decline_expired_requests(now=now)
    webhook_subscriptions.prune_log(now=now)


def _close_pages() -> None:
    """At shutdown (SIGTERM): the server has closed the pages' websockets; drop their state and listeners too (a
    browser that reconnects elsewhere is given a fresh page)."""
    for client in list(Client.instances.values()):
        client.delete()


async def _embed_origins(username: str) -> list[str]:
    """The origins a host allows to frame their booking pages (read off the event loop)."""

    def read() -> list[str]:
        with session_scope() as session:
            return hosts.embed_origins(session=session, username=username)

    return await asyncio.to_thread(read)
