"""`/settings`: profile (name, username, picture, brand colour, clock, time zone), e-mail notifications, API keys,
embedding, sign-in methods, sign-up (owner), and the privacy actions. Every action runs as the signed-in host
and checks the session again."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from nicegui import events, run, ui
from sqlmodel import Session

from app.config import get_settings
from app.errors import DomainError
from app.i18n import _
from components import design
from components.headings import heading
from components.host_frame import host_frame, sign_out_form
from components.timezone_select import timezone_select
from pages.auth import now
from pages.signed_in import SignedIn, act, read, sign_in_first, signed_in
from pages.webhooks import Webhooks
from services import accounts, bookings, hosts, validation
from services.contrast import AA, accessible_brand, contrast_ratio
from services.notifications import preferences

PROVIDER_NAMES = {'email': 'E-mailed sign-in links', 'google': 'Google', 'microsoft': 'Microsoft'}


def register() -> None:
    ui.page('/settings')(settings_page)


async def settings_page(request: Request) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    data = await read(who, _load)
    with host_frame(_('Settings'), active='/settings', brand=who.host.brand_color):
        heading(_('Settings'), 1, design.HEADLINE + ' m-0')
        Profile(who, data['host'])
        Notifications(who, data['notifications'])
        ApiKeys(who, data['keys'])
        Webhooks(who)
        Embedding(who, data['host'].embed_origins)
        SignInMethods(who, data['methods'], data['open_signup'])
        Privacy(who)
    return None


def copy(text: str, done: str) -> None:
    """Put `text` on the clipboard and say so at the top, clear of the key or link just shown."""
    ui.clipboard.write(text)
    ui.notify(done, type='positive', position='top')


def _load(session: Session, host_id: int) -> dict[str, Any]:
    host = hosts.get_host(session=session, host_id=host_id)
    return {
        'host': host,
        'notifications': preferences.preferences_json(host),
        'keys': hosts.list_api_keys(session=session, host_id=host_id),
        'methods': [(i.provider, i.email) for i in accounts.identities(session, host_id=host_id)],
        'open_signup': accounts.signup_open(session),
    }


def _update_profile(session: Session, host_id: int, changes: dict[str, Any]) -> bool:
    hosts.update_profile(session=session, host_id=host_id, changes=changes)
    return True


class Profile:
    def __init__(self, who: SignedIn, host: Any) -> None:
        self.who = who
        with ui.card().classes(design.CARD).mark('profile'):
            heading(_('Profile'), 2, design.TITLE + ' m-0')
            self.name = (
                ui.input(
                    _('Name'),
                    value=host.name,
                    validation={
                        'Please enter your name': lambda v: bool((v or '').strip()),
                        'At most 120 characters': lambda v: len(v or '') <= 120,
                    },
                )
                .props('outlined')
                .classes('w-full')
                .mark('profile-name')
            )
            self.username = (
                ui.input(_('Username (your booking link)'), value=host.username, validation=validation.username_problem)
                .props('outlined')
                .classes('w-full')
                .mark('profile-username')
            )
            self.intro = (
                ui.textarea(
                    _('Short introduction (shown on your public page)'),
                    value=host.intro,
                    validation={'At most 500 characters': lambda v: len(v or '') <= 500},
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('profile-intro')
            )
            with ui.row().classes('w-full items-center gap-4'):
                self.zone = timezone_select(host.timezone, lambda _: None, now=datetime.now(timezone.utc))
                self.clock = (
                    ui.toggle({True: '24-hour', False: '12-hour'}, value=host.clock24)
                    .props('no-caps')
                    .mark('profile-clock')
                )
            with ui.row().classes('w-full items-center gap-4'):
                self.color = (
                    ui.color_input(
                        'Brand colour', value=host.brand_color or '#1d4ed8', on_change=lambda e: self._contrast(e.value)
                    )
                    .props('outlined')
                    .classes('w-48')
                    .mark('profile-color')
                )
                self.color.button.props('aria-label="Pick a colour"').tooltip(_('Pick a colour'))
                self.contrast = ui.label().mark('contrast')
                self._contrast(self.color.value)
            ui.button(_('Save profile'), on_click=self.save).props('unelevated no-caps').mark('save-profile')
            Picture(who, host)

    def _contrast(self, color: str | None) -> None:
        try:
            value = validation.hex_color(color or '')
        except DomainError:
            self.contrast.text = 'Enter a colour like #1d4ed8'
            return
        if not value:
            self.contrast.text = ''
            return
        ratio = contrast_ratio(value, '#ffffff')
        shown = accessible_brand(value, value)
        self.contrast.text = (
            f'Contrast with white {ratio:.1f}:1 — meets WCAG AA'
            if ratio >= AA
            else f'Contrast with white {ratio:.1f}:1 is below {AA}:1; pages use the darker {shown}'
        )

    async def save(self) -> None:
        if not all(field.validate() for field in (self.name, self.username, self.intro)):
            return
        changes = {
            'name': self.name.value,
            'username': self.username.value,
            'intro': self.intro.value or '',
            'timezone': self.zone.value,
            'clock24': self.clock.value,
            'brand_color': self.color.value or '',
        }
        if (
            await act(self.who, _update_profile, changes, done='Profile saved')
            and changes['username'].strip().lower() != self.who.host.username
        ):
            ui.navigate.reload()  # the page shows the new booking link and username


class Picture:
    """The host's picture: a plain button opens the file picker (NiceGUI's uploader, with its byte and percent
    counters, stays hidden behind it); "Remove picture" only when there is one."""

    def __init__(self, who: SignedIn, host: Any) -> None:
        self.who, self.present, self.version = who, host.avatar is not None, 0
        self.initials = ''.join(part[0] for part in host.name.split()[:2]).upper() or '?'
        heading(_('Picture'), 3, 'text-base font-semibold m-0 mt-2')
        ui.label(_('PNG, JPEG or WebP, at most 1 MB. Invitees see your initials without one.')).classes(design.SUBTLE)
        self.uploader = (
            ui.upload(
                on_upload=self.upload,
                auto_upload=True,
                max_file_size=1_000_000,
                on_rejected=lambda: ui.notify(_('That file is larger than 1 MB.'), type='negative'),
            )
            .props('accept="image/png,image/jpeg,image/webp"')
            .classes('hidden')
            .mark('avatar-upload')
        )
        self.box = ui.row().classes('w-full items-center gap-3')
        self.show()

    def show(self) -> None:
        self.box.clear()
        with self.box:
            if self.present:  # the version defeats the browser's cached copy of the old picture
                ui.image(f'/avatar/{self.who.host.username}?v={self.version}').classes(
                    design.AVATAR + ' overflow-hidden shrink-0'
                ).props('alt="Your picture" no-spinner').mark('avatar-picture')
            else:
                with ui.element('div').classes(design.AVATAR + ' shrink-0').props('aria-hidden=true'):
                    ui.label(self.initials)
            ui.button(
                _('Change picture') if self.present else 'Upload a picture',
                icon='upload',
                on_click=lambda: self.uploader.run_method('pickFiles'),
            ).props('outline no-caps').mark('avatar-choose')
            if self.present:
                ui.button(_('Remove picture'), on_click=self.remove).props('flat no-caps color=negative').mark(
                    'avatar-remove'
                )

    async def upload(self, event: events.UploadEventArguments) -> None:
        self.uploader.reset()  # ready for another file
        if await act(self.who, _set_avatar, await event.file.read(), done='Picture saved'):
            self.present, self.version = True, self.version + 1
            self.show()

    async def remove(self) -> None:
        if await act(self.who, _set_avatar, None, done='Picture removed'):
            self.present = False
            self.show()


def _set_avatar(session: Session, host_id: int, data: bytes | None) -> bool:
    hosts.set_avatar(session=session, host_id=host_id, data=data)
    return True


class Notifications:
    def __init__(self, who: SignedIn, data: dict[str, Any]) -> None:
        self.who, self.fields = who, {}
        with ui.card().classes(design.CARD).mark('notifications'):
            heading(_('E-mail notifications'), 2, design.TITLE + ' m-0')
            ui.label(_('Subjects and messages may use {variables}.', variables=', '.join(data['variables']))).classes(
                design.SUBTLE
            )
            for kind, info in data['kinds'].items():
                with ui.expansion(info['label'], icon='mail').classes('w-full').mark(f'kind-{kind}'):
                    enabled = ui.switch(_('Send this e-mail'), value=info['enabled']).mark(f'enabled-{kind}')
                    subject = (
                        ui.input(
                            _('Subject'),
                            value=info['subject'],
                            validation={'A single line of at most 200 characters': lambda v: len(v or '') <= 200},
                        )
                        .props('outlined')
                        .classes('w-full')
                        .mark(f'subject-{kind}')
                    )
                    message = (
                        ui.textarea(_('Custom message (optional)'), value=info['message'])
                        .props('outlined autogrow')
                        .classes('w-full')
                        .mark(f'message-{kind}')
                    )
                    self.fields[kind] = (enabled, subject, message)
            self.offsets = (
                ui.input(
                    _('Reminders, in minutes before the meeting (comma-separated)'),
                    value=', '.join(str(o) for o in data['reminder_offsets_minutes']),
                )
                .props('outlined')
                .classes('w-full')
                .mark('reminder-offsets')
            )
            ui.button(_('Save notifications'), on_click=self.save).props('unelevated no-caps').mark(
                'save-notifications'
            )

    async def save(self) -> None:
        try:
            offsets = [int(part) for part in (self.offsets.value or '').replace(' ', '').split(',') if part]
        except ValueError:
            ui.notify(_('Reminder times are whole minutes, such as 1440, 60'), type='negative')
            return
        kinds = {
            kind: {'enabled': e.value, 'subject': s.value or '', 'message': m.value or ''}
            for kind, (e, s, m) in self.fields.items()
        }
        await act(self.who, _update_notifications, kinds, offsets, done='Notifications saved')


def _update_notifications(session: Session, host_id: int, kinds: dict[str, Any], offsets: list[int]) -> None:
    host = hosts.get_host(session=session, host_id=host_id)
    preferences.update_preferences(host, kinds=kinds, reminder_offsets_minutes=offsets)
    session.add(host)


class ApiKeys:
    def __init__(self, who: SignedIn, keys: list[Any]) -> None:
        self.who = who
        with ui.card().classes(design.CARD).mark('api-keys'):
            heading(_('API keys'), 2, design.TITLE + ' m-0')
            ui.label(_('For scripts and integrations: send "Authorization: Bearer <key>" to /api/v1.')).classes(
                design.SUBTLE
            )
            self.list = ui.column().classes('w-full gap-1')
            with ui.row().classes('items-center gap-2'):
                self.label = ui.input(_('Label (what the key is for)')).props('outlined dense').mark('api-key-label')
                ui.button(_('Create key'), on_click=self.create).props('outline no-caps').mark('create-api-key')
            self.secret = ui.column().classes('w-full')
        self.show(keys)

    def show(self, keys: list[Any]) -> None:
        self.list.clear()
        with self.list:
            if not keys:
                ui.label(_('No API keys yet.')).classes(design.SUBTLE)
            for key in keys:
                with ui.row().classes('items-center gap-3').mark('api-key'):
                    ui.label(f'{key.prefix}… {key.label or "(no label)"}').classes('font-mono')
                    ui.label(f'created {key.created_at:%d %b %Y}').classes(design.SUBTLE)
                    if key.revoked_at:
                        ui.label(_('revoked')).classes('text-red-700')
                    else:
                        ui.button(_('Revoke'), on_click=lambda k=key: self.revoke(k.id)).props(
                            'flat dense no-caps color=negative'
                        ).mark('revoke-api-key')

    async def create(self) -> None:
        secret = await act(self.who, _create_key, self.label.value or '')
        if secret is None:
            return
        self.secret.clear()
        with self.secret:
            ui.label(_('Copy this key now; it is shown only once:')).classes('font-medium')
            with ui.row().classes('w-full items-center gap-2 flex-nowrap'):
                ui.label(secret).classes(design.CODE + ' break-all min-w-0').mark('new-api-key')
                ui.button(_('Copy'), icon='content_copy', on_click=lambda: copy(secret, 'Key copied')).props(
                    'outline no-caps'
                ).classes('shrink-0').mark('copy-api-key')
        self.show(await read(self.who, _keys))

    async def revoke(self, key_id: int) -> None:
        await act(self.who, _revoke_key, key_id, done='Key revoked')
        self.show(await read(self.who, _keys))


def _create_key(session: Session, host_id: int, label: str) -> str:
    return hosts.create_api_key(session=session, host_id=host_id, label=label)


def _keys(session: Session, host_id: int) -> list[Any]:
    return hosts.list_api_keys(session=session, host_id=host_id)


def _revoke_key(session: Session, host_id: int, key_id: int) -> None:
    hosts.revoke_api_key(session=session, host_id=host_id, key_id=key_id, now=now())


class Embedding:
    def __init__(self, who: SignedIn, origins: list[str]) -> None:
        self.who = who
        with ui.card().classes(design.CARD).mark('embedding'):
            heading(_('Embedding'), 2, design.TITLE + ' m-0')
            ui.label(
                _(
                    'Sites allowed to show your booking pages in an iframe (add ?embed=1 to the link). One origin '
                    'per line, such as https://www.example.com. None by default.'
                )
            ).classes(design.SUBTLE)
            self.origins = (
                ui.textarea(_('Allowed origins'), value='\n'.join(origins))
                .props('outlined autogrow')
                .classes('w-full')
                .mark('embed-origins')
            )
            ui.button(_('Save embedding'), on_click=self.save).props('unelevated no-caps').mark('save-embedding')

    async def save(self) -> None:
        origins = [line.strip() for line in (self.origins.value or '').splitlines() if line.strip()]
        await act(self.who, _update_profile, {'embed_origins': origins}, done='Embedding saved')


class SignInMethods:
    def __init__(self, who: SignedIn, methods: list[tuple[str, str]], open_signup: bool) -> None:
        self.who = who
        settings, host = get_settings(), who.host
        have = {provider for provider, _ in methods}
        with ui.card().classes(design.CARD).mark('sign-in-methods'):
            heading(_('How you sign in'), 2, design.TITLE + ' m-0')
            ui.label(_('Account e-mail: {email}', email=host.email)).classes(design.SUBTLE)
            for provider, email in methods:
                ui.label(f'{PROVIDER_NAMES.get(provider, settings.oidc_name)}: {email}').mark('sign-in-method')
            with ui.row().classes('gap-2'):
                for key, label in settings.sign_in_providers.items():
                    if key not in have:
                        ui.button(
                            _('Connect {provider}', provider=label),
                            on_click=lambda k=key: ui.navigate.to(f'/auth/login/{k}?connect=1'),
                        ).props('outline no-caps').mark(f'connect-{key}')
                if 'email' not in have:
                    ui.button(_('Allow sign-in links to {email}', email=host.email), on_click=self.allow_links).props(
                        'outline no-caps'
                    ).mark('connect-email')
            sign_out_form('Sign out everywhere', '/auth/logout-everywhere')
        if host.is_owner and not settings.allowed_email_rules:
            with ui.card().classes(design.CARD).mark('sign-up'):
                heading(_('Who can sign up'), 2, design.TITLE + ' m-0')
                ui.label(
                    _(
                        'You own this CloudMeet instance. New hosts need an invitation link from you, unless '
                        'sign-up is open to anyone who reaches this site.'
                    )
                ).classes(design.SUBTLE)
                self.invitation = ui.column().classes('w-full gap-1')
                ui.button(_('Create an invitation link'), on_click=self.invite).props('outline no-caps').mark(
                    'create-invitation'
                )
                ui.switch(
                    _('Open sign-up to anyone'), value=open_signup, on_change=lambda e: self.toggle(e.value)
                ).mark('open-signup')

    async def allow_links(self) -> None:
        if await act(self.who, _allow_links, done='Sign-in links allowed') is not None:
            ui.navigate.reload()

    async def invite(self) -> None:
        token = await act(self.who, _invite)
        if not token:
            return
        link = f'{get_settings().public_url}/login?invite={token}'
        self.invitation.clear()
        with self.invitation:
            with ui.row().classes('w-full items-center gap-2 flex-nowrap'):
                ui.label(link).classes(design.CODE + ' break-all min-w-0').mark('invitation-link')
                ui.button(_('Copy'), icon='content_copy', on_click=lambda: copy(link, 'Invitation link copied')).props(
                    'outline no-caps'
                ).classes('shrink-0').mark('copy-invitation')
            ui.label(_('Valid for 7 days, for one person.')).classes(design.SUBTLE)

    async def toggle(self, value: bool) -> None:
        await act(
            self.who, _set_signup, value, done='Sign-up is open to anyone' if value else 'Sign-up is by invitation only'
        )


def _allow_links(session: Session, host_id: int) -> bool:
    accounts.allow_email_links(session, host_id=host_id, now=now())
    return True


def _invite(session: Session, host_id: int) -> str:
    return accounts.create_invitation(session, host=hosts.get_host(session=session, host_id=host_id), now=now())


def _set_signup(session: Session, host_id: int, value: bool) -> None:
    accounts.set_signup_open(session, host=hosts.get_host(session=session, host_id=host_id), value=value)


class Privacy:
    def __init__(self, who: SignedIn) -> None:
        self.who = who
        with ui.card().classes(design.CARD).mark('privacy-actions'):
            heading(_('Your data'), 2, design.TITLE + ' m-0')
            ui.label(
                _('Download everything CloudMeet stores about you, or delete your account and all of its data.')
            ).classes(design.SUBTLE)
            with ui.row().classes('gap-2'):
                ui.button(_('Download my data (JSON)'), on_click=lambda: ui.navigate.to('/account/export.json')).props(
                    'outline no-caps'
                ).mark('export')
                ui.button(_('Delete my account'), on_click=self.confirm).props('outline no-caps color=negative').mark(
                    'delete-account'
                )
            self.dialogs = ui.element('div')

    async def confirm(self) -> None:
        username = self.who.host.username
        upcoming = await read(self.who, _upcoming_count)
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading(_('Delete your account?'), 2, design.TITLE + ' m-0')
            ui.label(
                _(
                    'Your booking pages, event types, schedules and bookings are deleted and connected Google '
                    'access is revoked. This cannot be undone.'
                )
            )
            ui.label(_upcoming_note(upcoming)).classes('font-medium').mark('delete-upcoming')
            typed = (
                ui.input(_('Type your username ({username}) to confirm', username=username))
                .props('outlined')
                .classes('w-full')
                .mark('delete-confirm-input')
            )
            problem = ui.label().classes('text-red-700').props('role=alert')

            async def delete() -> None:
                if (typed.value or '').strip().lower() != username:
                    problem.text = 'The username does not match.'
                    return
                try:
                    await read(self.who, _still_signed_in)  # refused once the session has ended
                    button.props('loading')
                    cancelled = await run.io_bound(
                        accounts.close_account, host_id=self.who.host_id, revoke=accounts.revoke_google_token
                    )
                except DomainError as exc:
                    problem.text = exc.detail
                    return
                finally:
                    button.props(remove='loading')
                dialog.close()
                ui.navigate.to(f'/login?closed={cancelled}')

            with ui.row().classes('gap-2'):
                button = (
                    ui.button(_('Delete everything'), on_click=delete)
                    .props('unelevated no-caps color=negative')
                    .mark('confirm-delete')
                )
                ui.button(_('Keep my account'), on_click=dialog.close).props('flat no-caps')
        dialog.open()


def _upcoming_count(session: Session, host_id: int) -> int:
    return bookings.count_bookings(session=session, host_id=host_id, status='upcoming', now=now())


def _upcoming_note(count: int) -> str:
    if not count:
        return 'You have no upcoming meetings.'
    if count == 1:
        return 'Your upcoming meeting is cancelled first, and the invitee is told by e-mail before your account goes.'
    return (
        f'Your {count} upcoming meetings are cancelled first, and each invitee is told by e-mail before your '
        'account goes.'
    )


def _still_signed_in(session: Session, host_id: int) -> bool:
    return True
