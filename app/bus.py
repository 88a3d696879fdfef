"""Changes heard across processes: PostgreSQL LISTEN/NOTIFY carries the in-process events to every other process
sharing the database (no broker of our own).

A unit of work that collected events sends them with `pg_notify` inside its own transaction, so they are delivered
when, and only when, it commits. Each process listens on one connection of its own and publishes what it hears
from the others on its local bus (open pages refresh, caches drop stale entries). SQLite deployments are one
process: nothing to send there.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import events

log = logging.getLogger(__name__)
CHANNEL = 'cloudmeet_events'
ORIGIN = f'{os.getpid()}-{id(object())}'  # this process (a restarted process with the same pid is another one)


def notify(connection: sa.Connection, collected: Iterable[object]) -> None:
    """Queue the events for the other processes; PostgreSQL delivers them when this transaction commits."""
    for event in collected:
        if isinstance(event, events.Queued):  # this process's own worker sends it
            continue
        connection.execute(
            sa.text('SELECT pg_notify(:channel, :payload)'), {'channel': CHANNEL, 'payload': _payload(event)}
        )


def _payload(event: object) -> str:
    if isinstance(event, events.SettingsChanged):
        return json.dumps({'origin': ORIGIN, 'settings': event.host_id})
    assert isinstance(event, events.BookingChanged)
    return json.dumps({'origin': ORIGIN, 'host': event.host_id, 'uid': event.uid, 'kind': event.kind})


def heard(payload: str) -> None:
    """Publish locally what another process changed (our own changes were published here already)."""
    try:
        data = json.loads(payload)
    except ValueError:
        log.warning('ignored a malformed change notice')
        return
    if data.get('origin') == ORIGIN:
        return
    if 'settings' in data:
        events.publish_settings(events.SettingsChanged(int(data['settings'])))
    else:
        events.publish(events.BookingChanged(int(data['host']), str(data['uid']), str(data['kind'])))


class Listener:
    """One thread per process that LISTENs and reconnects when the database goes away."""

    def __init__(self, url: str) -> None:
        self.dsn = make_url(url).set(drivername='postgresql').render_as_string(hide_password=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='cloudmeet-listen', daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as connection:
                    connection.execute(f'LISTEN {CHANNEL}')
                    self.ready.set()
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            heard(notice.payload)
            except psycopg.Error as exc:
                self.ready.clear()
                log.warning('listening for changes of other processes failed (%s); retrying', type(exc).__name__)
                self._stop.wait(2.0)
