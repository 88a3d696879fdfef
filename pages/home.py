"""`/`: what an operator sees first."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from app.i18n import _
from components import design
from components.frame import frame
from pages.auth import signed_in_host
from pages.blocking import off_loop
from web import auth


def register() -> None:
    ui.page('/')(home)


async def home(request: Request) -> Response | None:
    """The dashboard when signed in; otherwise a sign-in invitation that says nothing about the instance (its
    database, its hosts and the operator's hints are for the owner's dashboard)."""
    if auth.session_token(request) and await off_loop(signed_in_host, request) is not None:
        return RedirectResponse('/dashboard', status_code=303)
    with frame(_('CloudMeet')):
        ui.label(_('CloudMeet')).classes(design.HEADLINE)
        ui.label(_('Booking pages, calendar checks and reminders.')).classes(design.SUBTLE)
        ui.button(_('Sign in'), on_click=lambda: ui.navigate.to('/login')).props('unelevated no-caps size=lg').mark(
            'sign-in'
        )
    return None
