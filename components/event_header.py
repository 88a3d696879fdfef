"""The host and event header of booking pages, and the host's avatar."""

from __future__ import annotations

from nicegui import ui

from app.i18n import ENGLISH, Translator
from components import design
from components.headings import heading
from components.rich_text import rich_text
from services.public import PublicEventType, PublicHost

LOCATION_ICONS = {
    'google_meet': 'videocam',
    'teams': 'videocam',
    'link': 'link',
    'phone': 'call',
    'in_person': 'place',
    'none': 'event',
}


def avatar(host: PublicHost) -> ui.element:
    """The host's picture, or their initials."""
    if host.has_avatar:
        return (
            ui.image(f'/avatar/{host.username}')
            .classes(design.AVATAR + ' overflow-hidden')
            .props('alt="" no-spinner')
            .mark('avatar')
        )
    with ui.element('div').classes(design.AVATAR).props('aria-hidden=true') as element:
        ui.label(host.initials)
    return element


def event_header(host: PublicHost, event_type: PublicEventType, t: Translator = ENGLISH) -> ui.column:
    with ui.column().classes('w-full gap-2') as root:
        with ui.row().classes('w-full items-center gap-3 flex-nowrap'):  # a long unbroken name wraps, no scroll
            avatar(host).classes('shrink-0')
            ui.label(host.name).classes('text-slate-700 font-medium break-words min-w-0').mark('host-name')
        heading(event_type.title, 1, design.HEADLINE + ' m-0 break-words max-w-full').mark('event-title')
        with ui.row().classes('gap-x-4 gap-y-1 text-slate-700 max-w-full'):
            with ui.row().classes('items-center gap-1'):
                ui.icon('schedule').props('aria-hidden=true')
                minutes = (
                    ' / '.join(str(m) for m in event_type.durations)
                    if len(event_type.durations) > 1
                    else str(event_type.duration_minutes)
                )
                ui.label(t.gettext('{minutes} min', minutes=minutes)).mark('duration')
            with ui.row().classes('items-center gap-1 flex-nowrap min-w-0'):
                ui.icon(LOCATION_ICONS.get(event_type.location_kind, 'event')).props('aria-hidden=true')
                ui.label(t.gettext(event_type.location_label)).classes('break-words min-w-0').mark('location')
            if event_type.seats > 1:
                with ui.row().classes('items-center gap-1'):
                    ui.icon('groups').props('aria-hidden=true')
                    ui.label(t.ngettext('{count} seat per time', '{count} seats per time', event_type.seats)).mark(
                        'seats'
                    )
            if event_type.requires_confirmation:
                with ui.row().classes('items-center gap-1'):
                    ui.icon('how_to_reg').props('aria-hidden=true')
                    ui.label(t.gettext('{host_name} confirms each request', host_name=host.name)).mark(
                        'requires-confirmation'
                    )
        if event_type.description:
            rich_text(event_type.description).mark('description')
    return root
