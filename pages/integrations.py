"""`/integrations`: the calendars that decide when the host is busy: Google and Microsoft accounts (connected with
calendar consent), CalDAV accounts (iCloud, Fastmail, Nextcloud, ... with an app password) and ICS feeds, each with
its status; choose which calendars count and which receives new bookings; disconnect."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from nicegui import ui
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.config import get_settings
from app.errors import DomainError
from app.i18n import _
from components import design
from components.caldav_form import CalDavForm
from components.confirm import confirm
from components.headings import heading
from components.host_frame import host_frame
from pages.auth import now
from pages.blocking import off_loop
from pages.signed_in import SignedIn, act, read, sign_in_first, signed_in
from services.accounts import revoke_google_token
from services.calendars import busy, caldav, connections, providers
from services.calendars import events as calendar_events
from services.calendars.errors import ProviderError

# (label, background, text): light backgrounds with dark text, which pass WCAG AA contrast (Quasar's positive,
# warning and negative with white text do not)
STATUS = {
    'ok': ('Working', 'green-2', 'green-10'),
    'error': ('Cannot be read right now', 'amber-2', 'amber-10'),
    'reconnect_needed': ('Reconnect needed', 'red-2', 'red-10'),
}


def register() -> None:
    ui.page('/integrations')(integrations_page)


def _list(session: Session, host_id: int) -> tuple[list[dict[str, Any]], int | None]:
    """The host's connections, and which of them receives new bookings."""
    items = [connections.connection_json(c) for c in connections.list_connections(session, host_id=host_id)]
    destination = calendar_events.destination(session, host_id=host_id)
    return items, destination.id if destination else None


async def integrations_page(request: Request) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    with host_frame(_('Integrations'), active='/integrations', brand=who.host.brand_color):
        heading(_('Integrations'), 1, design.HEADLINE + ' m-0')
        heading(_('Calendars'), 2, design.TITLE + ' m-0')
        ui.label(
            _(
                'Times that are busy in these calendars are never offered. CloudMeet keeps only the start and '
                'end of busy times, briefly, in memory; never titles, descriptions or attendees.'
            )
        ).classes(design.SUBTLE)
        Integrations(who)
    return None


PROVIDER_SETTINGS = {
    'google': ('Google Calendar', 'CLOUDMEET_GOOGLE_CLIENT_ID and CLOUDMEET_GOOGLE_CLIENT_SECRET'),
    'microsoft': ('Microsoft 365 / Outlook', 'CLOUDMEET_MICROSOFT_CLIENT_ID and CLOUDMEET_MICROSOFT_CLIENT_SECRET'),
}


class Integrations:
    def __init__(self, who: SignedIn) -> None:
        self.who = who
        self.box = ui.column().classes('w-full gap-3').mark('connections')
        with ui.card().classes(design.CARD):
            heading(_('Add a calendar'), 2, design.TITLE + ' m-0')
            with ui.row().classes('gap-2'):
                if 'google' in get_settings().sign_in_providers:
                    ui.button(
                        _('Connect Google Calendar'),
                        icon='event',
                        on_click=lambda: ui.navigate.to('/auth/login/google?connect=calendar'),
                    ).props('outline no-caps').mark('connect-google')
                if 'microsoft' in get_settings().sign_in_providers:
                    ui.button(
                        _('Connect Microsoft 365 / Outlook'),
                        icon='event',
                        on_click=lambda: ui.navigate.to('/auth/login/microsoft?connect=calendar'),
                    ).props('outline no-caps').mark('connect-microsoft')
            for provider, (name, setting) in PROVIDER_SETTINGS.items():
                if provider not in get_settings().sign_in_providers:
                    ui.label(
                        _(
                            '{provider} is not set up on this server. The operator turns it on with the settings '
                            '{settings}.',
                            provider=name,
                            settings=setting,
                        )
                    ).classes(design.SUBTLE).mark(f'unconfigured-{provider}')
            ui.label(
                _(
                    'Or subscribe to a calendar feed (the secret iCal address from iCloud, Fastmail, Proton or '
                    'Nextcloud):'
                )
            ).classes(design.SUBTLE)
            with ui.row().classes('w-full items-start gap-2'):
                self.url = (
                    ui.input(_('Feed address (https://...)')).props('outlined').classes('flex-grow').mark('feed-url')
                )
                self.label = ui.input(_('Name')).props('outlined').classes('w-48').mark('feed-name')
                ui.button(_('Add feed'), on_click=self.add_feed).props('unelevated no-caps').mark('add-feed')
            ui.label(
                _(
                    'Or connect a CalDAV account (iCloud, Fastmail, Nextcloud or any CalDAV server): its busy '
                    'times count and new bookings can be written to it.'
                )
            ).classes(design.SUBTLE)
            self.caldav = CalDavForm(
                {k: (p.name, p.url, p.help) for k, p in caldav.PRESETS.items()}, self.connect_caldav
            )
        self.dialogs = ui.element('div')
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        items, destination = await read(self.who, _list)
        self.box.clear()
        with self.box:
            if not items:
                with ui.card().classes(design.CARD).mark('empty'):
                    ui.label(
                        _(
                            'No calendars connected yet: only your schedule and your CloudMeet bookings decide '
                            'what is free.'
                        )
                    )
            for item in items:
                label, color, text_color = STATUS.get(item['status'], (item['status'], 'grey-3', 'grey-10'))
                with ui.card().classes(design.CARD).mark('connection'):
                    with ui.row().classes('w-full items-center gap-3'):
                        ui.icon('event' if item['provider'] != 'ics' else 'rss_feed').props('aria-hidden=true')
                        with ui.column().classes('gap-0 flex-grow'):
                            name = providers.provider_name(item['provider'])
                            ui.label(f'{name[:1].upper()}{name[1:]}: {item["label"]}').classes('font-semibold')
                            if item['status_detail']:
                                ui.label(item['status_detail']).classes(design.SUBTLE).mark('status-detail')
                        ui.badge(label, color=color, text_color=text_color).mark('status')
                        if item['status'] == 'reconnect_needed' and item['provider'] in PROVIDER_SETTINGS:
                            ui.button(
                                _('Reconnect'),
                                on_click=lambda p=item['provider']: ui.navigate.to(f'/auth/login/{p}?connect=calendar'),
                            ).props('unelevated no-caps')
                        elif item['status'] == 'reconnect_needed' and item['provider'] == 'caldav':
                            ui.button(_('Reconnect'), on_click=lambda i=item: self.reconnect_caldav(i)).props(
                                'unelevated no-caps'
                            ).mark('reconnect-caldav')
                        if item['provider'] in providers.WRITERS:
                            ui.button(_('Calendars…'), on_click=lambda i=item: self.choose(i)).props(
                                'flat no-caps'
                            ).mark('choose-calendars')
                            if item['id'] == destination:
                                ui.badge('New bookings go here', color='blue-2', text_color='blue-10').mark(
                                    'destination'
                                )
                            else:
                                ui.button(
                                    _('Put new bookings here'), on_click=lambda i=item: self.make_destination(i)
                                ).props('flat no-caps').mark('make-destination')
                        ui.button(_('Disconnect'), on_click=lambda i=item: self.confirm_remove(i)).props(
                            'flat no-caps color=negative'
                        ).mark('disconnect')

    async def make_destination(self, item: dict[str, Any]) -> None:
        await act(self.who, _receive_events, item['id'], done='New bookings will be written there')
        await self.refresh()

    async def connect_caldav(self, url: str, username: str, password: str) -> str:
        """Connect (the server is asked first, outside any transaction); '' when done, else the reason."""
        try:
            await read(self.who, lambda _session, _host_id: None)  # still signed in, as `run_as` checks
            await off_loop(
                partial(
                    connections.connect_caldav,
                    host_id=self.who.host_id,
                    url=url,
                    username=username,
                    password=password,
                    now=now(),
                )
            )
        except DomainError as exc:
            return exc.detail
        except OperationalError:
            return 'That could not be saved right now. Please try again.'
        ui.notify(_('CalDAV calendar connected'), type='positive')
        await self.refresh()
        return ''

    async def reconnect_caldav(self, item: dict[str, Any]) -> None:
        url, username = await read(self.who, _caldav_details, item['id'])
        self.caldav.fill(url, username)

    async def add_feed(self) -> None:
        if await act(self.who, _add_feed, self.url.value or '', self.label.value or '') is None:
            return
        self.url.value, self.label.value = '', ''
        problem = await read(self.who, _check)
        ui.notify(
            _('Feed added, but it could not be read yet: {problem}', problem=problem) if problem else _('Feed added'),
            type='warning' if problem else 'positive',
        )
        await self.refresh()

    def confirm_remove(self, item: dict[str, Any]) -> None:
        async def remove() -> None:
            await act(self.who, _remove, item['id'], done='Calendar disconnected')
            await self.refresh()

        confirm(
            self.dialogs,
            title=f'Disconnect {item["label"]}?',
            action='Disconnect',
            mark='confirm-disconnect',
            text=_('Its busy times no longer block your booking pages. Google access is revoked.'),
            on_confirm=remove,
        )

    async def choose(self, item: dict[str, Any]) -> None:
        try:
            calendars = await read(self.who, _calendars, item['id'])
        except ProviderError as exc:
            ui.notify(_('The calendars could not be listed: {problem}', problem=exc), type='warning')
            return
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading(_('Which calendars count as busy?'), 2, design.TITLE + ' m-0')
            default = calendars[0]['id'] if calendars else ''
            every = item['provider'] == 'caldav'  # until the host chooses, all of a CalDAV account's calendars count
            boxes = {
                c['id']: ui.checkbox(
                    c['name'],
                    value=c['id'] in item['busy_calendars']
                    or (not item['busy_calendars'] and (every or c['id'] in ('primary', default))),
                ).mark('calendar-choice')
                for c in calendars
            }
            target = (
                ui.select(
                    {c['id']: c['name'] for c in calendars},
                    label=_('New bookings are written to'),
                    value=item['target_calendar'] or ('primary' if item['provider'] == 'google' else default) or None,
                )
                .props('outlined')
                .classes('w-full')
                .mark('target-calendar')
            )

            async def save() -> None:
                chosen = [calendar_id for calendar_id, box in boxes.items() if box.value]
                if await act(self.who, _set_busy, item['id'], chosen, target.value or '', done='Saved') is not None:
                    dialog.close()
                    await self.refresh()

            with ui.row().classes('gap-2'):
                ui.button(_('Save'), on_click=save).props('unelevated no-caps').mark('save-calendars')
                ui.button(_('Close'), on_click=dialog.close).props('flat no-caps')
        dialog.open()


def _add_feed(session: Session, host_id: int, url: str, label: str) -> bool:
    connections.add_feed(session, host_id=host_id, url=url, label=label)
    return True


def _check(session: Session, host_id: int) -> str:
    start = now()
    return busy.busy_times(host_id=host_id, start=start, end=start + timedelta(days=7)).problem


def _remove(session: Session, host_id: int, connection_id: int) -> bool:
    connections.remove(session, host_id=host_id, connection_id=connection_id, revoke=revoke_google_token)
    return True


def _calendars(session: Session, host_id: int, connection_id: int) -> list[dict[str, str]]:
    connection = connections.get_connection(session, host_id=host_id, connection_id=connection_id)
    return providers.provider_for(connection.provider, get_settings()).calendars(providers.Connection.of(connection))


def _caldav_details(session: Session, host_id: int, connection_id: int) -> tuple[str, str]:
    return connections.caldav_details(session, host_id=host_id, connection_id=connection_id)


def _receive_events(session: Session, host_id: int, connection_id: int) -> bool:
    connections.receive_events(session, host_id=host_id, connection_id=connection_id)
    return True


def _set_busy(session: Session, host_id: int, connection_id: int, calendars: list[str], target: str) -> bool:
    connections.set_busy_calendars(
        session, host_id=host_id, connection_id=connection_id, calendars=calendars, target=target
    )
    return True
