"""The signed-in host's pages: `/dashboard` (start page), `/settings` (sign-in methods, sign-up, privacy actions),
the JSON export, and the public `/privacy` policy."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import app, run, ui
from sqlalchemy.exc import OperationalError

from app.config import get_settings
from app.db import session_scope
from app.errors import DomainError
from app.models import Host
from components import design
from components.frame import frame
from components.headings import heading
from pages.auth import now, signed_in_host
from services import accounts, bookings, event_types

PROVIDER_NAMES = {'email': 'E-mailed sign-in links', 'google': 'Google', 'microsoft': 'Microsoft'}


def register() -> None:
    ui.page('/dashboard')(dashboard_page)
    ui.page('/settings')(settings_page)
    ui.page('/privacy')(privacy_page)
    app.get('/account/export.json', include_in_schema=False)(export_download)


def _sign_in_first(request: Request) -> RedirectResponse:
    return RedirectResponse(f'/login?next={request.url.path}', status_code=303)


def sign_out_form(label: str = 'Sign out', action: str = '/auth/logout') -> None:
    """Signing out is a POST (a link or GET never does it)."""
    with ui.element('form').props(f'method=post action={action}'):
        ui.button(label).props('type=submit flat no-caps').mark('sign-out' if action.endswith('logout') else
                                                                'sign-out-everywhere')


# --- dashboard -------------------------------------------------------------------------------------------------


async def dashboard_page(request: Request) -> Response | None:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return _sign_in_first(request)
    with session_scope() as session:
        types = event_types.list_event_types(session=session, host_id=host.id)
        upcoming = bookings.list_bookings(session=session, host_id=host.id, status='upcoming', now=now(), limit=20)
    base = get_settings().public_url
    zone = ZoneInfo(host.timezone)
    with frame('Dashboard', brand=host.brand_color):
        with ui.row().classes('w-full items-center justify-between'):
            heading(f'Welcome, {host.name}', 1, design.HEADLINE + ' m-0').mark('welcome')
            with ui.row().classes('gap-1'):
                ui.link('Settings', '/settings').classes('self-center px-2').mark('settings-link')
                sign_out_form()
        with ui.card().classes(design.CARD):
            heading('Your booking page', 2, design.TITLE + ' m-0')
            link = f'{base}/{host.username}'
            with ui.row().classes('items-center gap-3'):
                ui.link(link, f'/{host.username}', new_tab=True).mark('booking-link')
                ui.button('Copy link', on_click=lambda: _copy(link)).props('outline no-caps dense').mark('copy-link')
        with ui.card().classes(design.CARD):
            heading('Event types', 2, design.TITLE + ' m-0')
            if not types:
                ui.label('No event types yet: create one to get a booking link.').classes(design.SUBTLE)
            for event_type in types:
                with ui.row().classes('items-center gap-3'):
                    ui.link(event_type.title, f'/{host.username}/{event_type.slug}', new_tab=True) \
                        .mark('event-type-link')
                    ui.label(f'{event_type.duration_minutes} min').classes(design.SUBTLE)
                    if not event_type.active:
                        ui.label('off').classes(design.SUBTLE)
        with ui.card().classes(design.CARD):
            heading('Upcoming meetings', 2, design.TITLE + ' m-0')
            if not upcoming:
                ui.label('Nothing booked yet. Share your booking link to get your first meeting.') \
                    .classes(design.SUBTLE).mark('no-bookings')
            for booking in upcoming:
                start = booking.start_at.astimezone(zone)
                ui.label(f'{start:%a %d %b, %H:%M} · {booking.invitee_name} ({booking.invitee_email})') \
                    .mark('booking')
    return None


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify('Link copied', type='positive')


# --- settings --------------------------------------------------------------------------------------------------


async def settings_page(request: Request) -> Response | None:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return _sign_in_first(request)
    host_id = host.id
    settings = get_settings()
    with session_scope() as session:
        methods = [(i.provider, i.email) for i in accounts.identities(session, host_id=host_id)]
        open_signup = accounts.signup_open(session)
    with frame('Settings', brand=host.brand_color):
        with ui.row().classes('w-full items-center justify-between'):
            heading('Settings', 1, design.HEADLINE + ' m-0')
            ui.link('Back to the dashboard', '/dashboard')
        with ui.card().classes(design.CARD).mark('sign-in-methods'):
            heading('How you sign in', 2, design.TITLE + ' m-0')
            ui.label(f'Account e-mail: {host.email}').classes(design.SUBTLE)
            for provider, email in methods:
                ui.label(f'{PROVIDER_NAMES.get(provider, settings.oidc_name)}: {email}').mark('sign-in-method')
            with ui.row().classes('gap-2'):
                for key, label in settings.sign_in_providers.items():
                    if key not in {p for p, _ in methods}:
                        ui.button(f'Connect {label}', on_click=lambda k=key: ui.navigate.to(
                            f'/auth/login/{k}?connect=1')).props('outline no-caps').mark(f'connect-{key}')
                if 'email' not in {p for p, _ in methods}:
                    async def allow_links() -> None:
                        await run.io_bound(_allow_email_links, host_id)
                        ui.navigate.reload()
                    ui.button(f'Allow sign-in links to {host.email}', on_click=allow_links) \
                        .props('outline no-caps').mark('connect-email')
            with ui.row().classes('gap-2'):
                sign_out_form()
                sign_out_form('Sign out everywhere', '/auth/logout-everywhere')
        if host.is_owner and not settings.allowed_email_rules:
            _owner_card(host, open_signup)
        _privacy_card(host)
    return None


def _allow_email_links(host_id: int) -> None:
    with session_scope(write=True) as session:
        accounts.allow_email_links(session, host_id=host_id, now=now())


def _owner_card(host: Host, open_signup: bool) -> None:
    with ui.card().classes(design.CARD).mark('sign-up'):
        heading('Who can sign up', 2, design.TITLE + ' m-0')
        ui.label('You own this CloudMeet instance. New hosts need an invitation link from you, unless sign-up is '
                 'open to anyone who reaches this site.').classes(design.SUBTLE)
        result = ui.label().classes('break-all').mark('invitation-link')

        async def invite() -> None:
            token = await run.io_bound(_invite, host)
            result.text = f'{get_settings().public_url}/login?invite={token} (valid for 7 days, for one person)'

        def toggle(value: bool) -> None:
            with session_scope(write=True) as session:
                accounts.set_signup_open(session, host=host, value=value)
            ui.notify('Sign-up is open to anyone' if value else 'Sign-up is by invitation only')

        ui.button('Create an invitation link', on_click=invite).props('outline no-caps').mark('create-invitation')
        ui.switch('Open sign-up to anyone', value=open_signup, on_change=lambda e: toggle(e.value)) \
            .mark('open-signup')


def _invite(host: Host) -> str:
    with session_scope(write=True) as session:
        return accounts.create_invitation(session, host=host, now=now())


def _privacy_card(host: Host) -> None:
    assert host.id is not None
    host_id = host.id
    with ui.card().classes(design.CARD).mark('privacy-actions'):
        heading('Your data', 2, design.TITLE + ' m-0')
        ui.label('Download everything CloudMeet stores about you, or delete your account and all of its data.') \
            .classes(design.SUBTLE)
        with ui.row().classes('gap-2'):
            ui.button('Download my data (JSON)', on_click=lambda: ui.navigate.to('/account/export.json')) \
                .props('outline no-caps').mark('export')
            ui.button('Delete my account', on_click=lambda: confirm_delete(host_id, host.username)) \
                .props('outline no-caps color=negative').mark('delete-account')
        dialogs = ui.element('div')

    def confirm_delete(host_id: int, username: str) -> None:
        dialogs.clear()
        with dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading('Delete your account?', 2, design.TITLE + ' m-0')
            ui.label('Your booking pages, event types, schedules and bookings are deleted and connected Google '
                     'access is revoked. Invitees are not notified. This cannot be undone.')
            typed = ui.input(f'Type your username ({username}) to confirm').props('outlined') \
                .classes('w-full').mark('delete-confirm-input')
            problem = ui.label().classes('text-red-700').props('role=alert')

            async def delete() -> None:
                if (typed.value or '').strip().lower() != username:
                    problem.text = 'The username does not match.'
                    return
                try:
                    await run.io_bound(delete_account, host_id)
                except (DomainError, OperationalError):
                    problem.text = 'The account could not be deleted right now. Please try again.'
                    return
                dialog.close()
                ui.navigate.to('/login')

            with ui.row().classes('gap-2'):
                ui.button('Delete everything', on_click=delete).props('unelevated no-caps color=negative') \
                    .mark('confirm-delete')
                ui.button('Keep my account', on_click=dialog.close).props('flat no-caps')
        dialog.open()


def delete_account(host_id: int) -> None:
    with session_scope(write=True) as session:
        accounts.delete_account(session, host_id=host_id, revoke=accounts.revoke_google_token)


def export_download(request: Request) -> Response:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return Response('Please sign in first.', status_code=401, media_type='text/plain')
    with session_scope() as session:
        data = accounts.export_account(session, host_id=host.id)
    stamp = datetime.now(timezone.utc).strftime('%Y%m%d')
    return Response(json.dumps(data, indent=2, ensure_ascii=False), media_type='application/json',
                    headers={'Content-Disposition': f'attachment; filename="cloudmeet-{host.username}-{stamp}.json"',
                             'Cache-Control': 'no-store'})


# --- privacy policy --------------------------------------------------------------------------------------------


def privacy_page() -> None:
    contact = get_settings().privacy_contact
    with frame('Privacy'):
        with ui.card().classes(design.CARD + ' gap-3').mark('privacy'):
            heading('Privacy policy', 1, design.HEADLINE + ' m-0')
            ui.label('This CloudMeet instance is run by its operator; this page states exactly what it stores, '
                     'why, who else sees it, and what you can ask for.').classes(design.SUBTLE)
            for title, paragraphs in POLICY:
                heading(title, 2, design.TITLE + ' m-0 mt-2')
                for paragraph in paragraphs:
                    ui.label(paragraph).classes('text-slate-800')
            heading('Contact', 2, design.TITLE + ' m-0 mt-2')
            if contact:
                ui.label(f'Questions and requests: {contact}').mark('privacy-contact')
            else:
                ui.label('Questions and requests: please contact the operator of this site.').mark('privacy-contact')


POLICY = (
    ('What is stored and why', (
        'Hosts: the name and e-mail address from sign-in (to identify your account and send you notices), your '
        'profile, event types, schedules and notification settings (to offer your booking pages).',
        'Calendars you connect: only the start and end of your busy times, kept in memory for at most a few '
        'minutes to avoid double bookings. CloudMeet never stores the titles, descriptions, locations or '
        'attendees of your other events.',
        "Bookings: the invitee's name, e-mail address, time zone, notes and answers, and the meeting time (to hold "
        'the meeting, show it to the host and send confirmations and reminders).',
        'Sign-in and calendar access tokens are stored encrypted (Fernet); session and link tokens are stored only '
        'as hashes. Server logs contain no tokens or secrets.',
    )),
    ('Google user data', (
        "CloudMeet's use and transfer of information received from Google APIs adheres to the Google API Services "
        'User Data Policy, including the Limited Use requirements. Google data is used only to check your '
        'availability and to create, move and delete the events of your bookings; it is not used for advertising, '
        'not sold, not used to train models, and not read by people except with your consent, for security, or '
        'where the law requires it.',
    )),
    ('Who else receives data', (
        'Only the services needed to run the meetings: the calendar providers you connect (Google, Microsoft), the '
        'e-mail provider this instance sends through, and the operator hosting this instance. Nothing is sold or '
        'shared for advertising.',
    )),
    ('How long data is kept', (
        'Account data is kept until you delete your account; deleting it removes every row of your account, ends '
        'your sessions and revokes Google access. Bookings are kept with the account; a host can erase an '
        "invitee's details from a booking on request. Sign-in links expire after 15 minutes, sessions after 30 "
        'days.',
    )),
    ('Your rights', (
        'You can access and export your data (Settings, "Download my data"), correct it (Settings), delete it '
        '(Settings, "Delete my account"), and object to or restrict its use by contacting the operator below. '
        'Invitees can ask the host, or the operator, to erase their booking details.',
    )),
)
