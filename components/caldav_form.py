"""The CalDAV connect form: a server preset (its address filled in, Nextcloud's from the host's server name), the
username and an app password. `on_connect(url, username, password)` answers '' when connected, else the reason,
which stays under the form; while it runs the button spins and says that the server is being asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from app.i18n import _
from components import design

Presets = dict[str, tuple[str, str, str]]  # key -> (name, address with '{host}', where the app password is made)


class CalDavForm:
    def __init__(self, presets: Presets, on_connect: Callable[[str, str, str], Awaitable[str]]) -> None:
        self.presets, self.on_connect = presets, on_connect
        first = next(iter(presets))
        with ui.column().classes('w-full gap-2').mark('caldav-form'):
            with ui.row().classes('w-full items-start gap-2'):
                self.preset = (
                    ui.select(
                        {k: name for k, (name, _, _) in presets.items()},
                        value=first,
                        label=_('Server'),
                        on_change=lambda _: self._preset_chosen(),
                    )
                    .props('outlined')
                    .classes('w-56')
                    .mark('caldav-preset')
                )
                self.server = (
                    ui.input(_('Your Nextcloud server (cloud.example.org)'), on_change=lambda _: self._fill_url())
                    .props('outlined')
                    .classes('flex-grow')
                    .mark('caldav-server')
                )
            self.url = (
                ui.input(_('CalDAV address (https://...)')).props('outlined').classes('w-full').mark('caldav-url')
            )
            self.help = ui.label('').classes(design.SUBTLE).mark('caldav-help')
            with ui.row().classes('w-full items-start gap-2'):
                self.username = (
                    ui.input(_('Username'))
                    .props('outlined autocomplete=username')
                    .classes('flex-grow')
                    .mark('caldav-username')
                )
                self.password = (
                    ui.input(_('App password'), password=True, password_toggle_button=True)
                    .props('outlined autocomplete=new-password')
                    .classes('flex-grow')
                    .mark('caldav-password')
                )
            with ui.row().classes('items-center gap-3'):
                self.button = (
                    ui.button(_('Connect CalDAV calendar'), on_click=self.connect)
                    .props('unelevated no-caps')
                    .mark('connect-caldav')
                )
                with ui.row().classes('items-center gap-2').mark('caldav-progress') as self.progress:
                    ui.spinner(size='1.5em')
                    ui.label(_('Connecting to the server…')).props('role=status')
                self.progress.set_visibility(False)
            self.error = ui.label('').classes('text-red-800').props('role=alert').mark('caldav-error')
        self._preset_chosen()

    def fill(self, url: str, username: str) -> None:
        """Prepare a reconnection: the same address and username, a new password to type."""
        self.preset.value = next((k for k, (_, address, _) in self.presets.items() if not address), self.preset.value)
        self.url.value, self.username.value, self.password.value = url, username, ''
        self.error.text = 'Type the new app password to reconnect this calendar.'
        self.password.run_method('focus')

    async def connect(self) -> None:
        url, username, password = (
            (self.url.value or '').strip(),
            (self.username.value or '').strip(),
            self.password.value or '',
        )
        if not url or not username or not password:
            self.error.text = 'Enter the CalDAV address, the username and the app password.'
            return
        self.error.text = ''
        self.button.props('loading')
        self.progress.set_visibility(True)
        try:
            reason = await self.on_connect(url, username, password)
        finally:
            self.button.props(remove='loading')
            self.progress.set_visibility(False)
        self.error.text = reason
        if not reason:
            self.password.value = ''

    def _preset_chosen(self) -> None:
        _, address, help_text = self.presets.get(self.preset.value or '', ('', '', ''))
        self.server.set_visibility('{host}' in address)
        self.help.text = help_text
        self._fill_url()

    def _fill_url(self) -> None:
        address = self.presets.get(self.preset.value or '', ('', '', ''))[1]
        if '{host}' in address:
            host = (self.server.value or '').strip().removeprefix('https://').strip('/')
            self.url.value = address.replace('{host}', host) if host else ''
        else:
            self.url.value = address
