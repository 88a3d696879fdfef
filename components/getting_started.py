"""The instance's status card, shown to its owner on the dashboard."""

from __future__ import annotations

from nicegui import ui

from app.i18n import _
from components import design


def status_card(*, database: str, hosts: int, event_types: int) -> ui.card:
    with ui.card().classes(design.CARD) as card:
        ui.label(_('Your scheduling server is running')).classes('text-lg font-medium')
        with ui.row().classes('gap-6 text-slate-700'):
            ui.label(f'Database: {database}').mark('database')
            ui.label(f'{hosts} host{"s" if hosts != 1 else ""}').mark('host-count')
            ui.label(f'{event_types} event type{"s" if event_types != 1 else ""}').mark('event-type-count')
        with ui.row().classes('gap-4'):
            ui.link(_('API documentation'), '/api/v1/docs')
            ui.link(_('OpenAPI schema'), '/api/v1/openapi.json')
    return card
