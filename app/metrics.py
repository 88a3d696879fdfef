"""This process's Prometheus metrics (every name starts with `cloudmeet_`), in a registry of their own: counted where
things happen (the HTTP edge, the booking use cases, calendar fetches, live pages) and served at `/metrics`.

Each process counts its own requests: with several processes, scrape every one of them, not the proxy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timezone
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from app.db import get_engine
from app.errors import Conflict, DomainError
from app.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    'cloudmeet_http_requests',
    'HTTP requests answered, by route template, method and status',
    ['route', 'method', 'status'],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    'cloudmeet_http_request_duration_seconds',
    'Time to answer an HTTP request, by route template',
    ['route'],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
BOOKINGS = Counter(
    'cloudmeet_bookings',
    'New bookings asked for, by outcome: created, conflict (the time is not '
    'offered) or refused (a limit, an unknown link, an invalid request)',
    ['outcome'],
    registry=REGISTRY,
)
CALENDAR_FETCH_SECONDS = Histogram(
    'cloudmeet_calendar_fetch_duration_seconds',
    "Time to read a calendar's busy times from its provider",
    ['provider'],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
CALENDAR_FETCH_ERRORS = Counter(
    'cloudmeet_calendar_fetch_errors', 'Calendar reads that failed, by provider', ['provider'], registry=REGISTRY
)
LIVE_PAGES = Gauge('cloudmeet_live_pages', 'Open pages listening for booking changes', registry=REGISTRY)


class OutboxCollector(Collector):
    """The outbox's backlog and the age of its oldest due message, read from the database at each scrape (one
    query on a connection of its own; concurrent scrapes take turns)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        due = col(OutboxMessage.status).in_(('pending', 'sending')) & (col(OutboxMessage.due_at) <= now)
        try:
            with self._lock, get_engine().connect() as connection:
                count, oldest = connection.execute(
                    select(func.count(), func.min(OutboxMessage.due_at)).where(due)
                ).one()
        except SQLAlchemyError as exc:
            log.warning('metrics: the outbox could not be read (%s)', type(exc).__name__)
            return
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=timezone.utc)
        yield GaugeMetricFamily('cloudmeet_outbox_backlog', 'Outbox messages due and not sent yet', value=count)
        yield GaugeMetricFamily(
            'cloudmeet_outbox_oldest_due_age_seconds',
            'How long the oldest due outbox message has waited (0 when none)',
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )


ProcessCollector(namespace='cloudmeet', registry=REGISTRY)
REGISTRY.register(OutboxCollector())


def exposition() -> bytes:
    """Every metric in Prometheus's text format (reads the database: call it off the event loop)."""
    return generate_latest(REGISTRY)


R = TypeVar('R')


def count_booking(make: Callable[[], R], replayed: Callable[[R], bool]) -> R:
    """Make a new booking (a host's or a team's) and count it in BOOKINGS by outcome; a replay counts nothing."""
    try:
        receipt = make()
    except Conflict:
        BOOKINGS.labels('conflict').inc()
        raise
    except DomainError:
        BOOKINGS.labels('refused').inc()
        raise
    if not replayed(receipt):
        BOOKINGS.labels('created').inc()
    return receipt
