"""The home page's status card and the empty state that tells an operator what to do first."""
from __future__ import annotations

from nicegui import ui

from components import design


def status_card(*, database: str, hosts: int, event_types: int) -> ui.card:
    with ui.card().classes(design.CARD) as card:
        ui.label('Your scheduling server is running').classes('text-lg font-medium')
        with ui.row().classes('gap-6 text-slate-700'):
            ui.label(f'Database: {database}').mark('database')
            ui.label(f'{hosts} host{"s" if hosts != 1 else ""}').mark('host-count')
            ui.label(f'{event_types} event type{"s" if event_types != 1 else ""}').mark('event-type-count')
        with ui.row().classes('gap-4'):
            ui.link('API documentation', '/api/v1/docs')
            ui.link('OpenAPI schema', '/api/v1/openapi.json')
    return card


def empty_state() -> ui.card:
    with ui.card().classes(design.CARD) as card:
        ui.label('No hosts yet').classes('text-lg font-medium').mark('empty-state')
        ui.label('Sign in with an e-mailed link (with no mail server set up, it lands in data/outbox/ as an .eml '
                 'file), or create a demo host with two event types and open its booking links:') \
            .classes(design.SUBTLE)
        ui.label('python main.py demo').classes(design.CODE)
        ui.label('Or create your own host and an API key:').classes(design.SUBTLE)
        ui.label('python main.py host create --email you@example.com --name "Your Name" --username you '
                 '--timezone Europe/Berlin').classes(design.CODE)
        ui.label('python main.py api-key create --username you').classes(design.CODE)
    return card
