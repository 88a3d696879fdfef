"""`/`: what an operator sees first."""
from __future__ import annotations

from nicegui import ui

from app.db import get_engine, session_scope
from components import design
from components.frame import frame
from components.getting_started import empty_state, status_card
from services import hosts


def register() -> None:
    ui.page('/')(home)


def home() -> None:
    with session_scope() as session:
        counts = hosts.instance_counts(session=session)
    database = 'PostgreSQL' if get_engine().dialect.name == 'postgresql' else 'SQLite'
    with frame('CloudMeet'):
        ui.label('CloudMeet').classes(design.HEADLINE)
        ui.label('Booking pages, calendar checks and reminders from one self-hosted process.').classes(design.SUBTLE)
        status_card(database=database, hosts=counts.hosts, event_types=counts.event_types)
        if counts.hosts == 0:
            empty_state()
