"""`/`: what an operator sees first."""
from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from app.db import get_engine, session_scope
from components import design
from components.frame import frame
from components.getting_started import empty_state, status_card
from pages.auth import signed_in_host
from services import hosts


def register() -> None:
    ui.page('/')(home)


def home(request: Request) -> Response | None:
    """The dashboard when signed in; otherwise what this server is and how to start."""
    if signed_in_host(request) is not None:
        return RedirectResponse('/dashboard', status_code=303)
    with session_scope() as session:
        counts = hosts.instance_counts(session=session)
    database = 'PostgreSQL' if get_engine().dialect.name == 'postgresql' else 'SQLite'
    with frame('CloudMeet'):
        ui.label('CloudMeet').classes(design.HEADLINE)
        ui.label('Booking pages, calendar checks and reminders from one self-hosted process.').classes(design.SUBTLE)
        with ui.row().classes('gap-3'):
            ui.button('Sign in', on_click=lambda: ui.navigate.to('/login')).props('unelevated no-caps size=lg') \
                .mark('sign-in')
            if counts.hosts == 0:
                ui.label('The first account to sign in becomes the owner of this instance.') \
                    .classes(design.SUBTLE + ' self-center')
        status_card(database=database, hosts=counts.hosts, event_types=counts.event_types)
        if counts.hosts == 0:
            empty_state()
    return None
