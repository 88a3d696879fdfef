"""Sign-in: `/login`, the provider round trip (`/auth/login/{provider}`, `/auth/callback/{provider}`), e-mailed
links (`/auth/email/{token}`: a page with a button; only its POST signs in), sign-out, and `/onboarding`."""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from nicegui import app, background_tasks, ui
from sqlalchemy.exc import OperationalError

from app.config import get_settings
from app.errors import DomainError
from app.i18n import _
from app.models import Host
from components import design
from components.frame import frame
from components.headings import heading
from components.timezone_select import show_zone, timezone_select
from pages.blocking import off_loop
from services import accounts, attempts, sign_in, validation
from services.calendars import google as google_calendar
from services.notifications import mailers
from services.notifications.templates import sign_in_message
from web import auth
from web.edge import client_address

log = logging.getLogger(__name__)
_oauth: dict[str, object] = {}


def register() -> None:
    ui.page('/login')(login_page)
    ui.page('/onboarding')(onboarding_page)
    app.get('/auth/login/{provider}', include_in_schema=False)(start_provider_sign_in)
    app.get('/auth/callback/{provider}', include_in_schema=False)(finish_provider_sign_in)
    app.get('/auth/email/{token}', include_in_schema=False)(email_link_page)
    app.post('/auth/email/{token}', include_in_schema=False)(sign_in_with_email_link)
    app.post('/auth/logout', include_in_schema=False)(sign_out)
    app.post('/auth/logout-everywhere', include_in_schema=False)(sign_out_everywhere)


def now() -> datetime:
    return datetime.now(timezone.utc)


def signed_in_host(request: Request) -> Host | None:
    """The host whose session cookie this request carries, if any (a database read: call it off the loop)."""
    return accounts.signed_in_host(auth.session_token(request), now())


def clients() -> OAuth:
    """The authlib clients, built once from the settings (again after a settings change in tests)."""
    settings = get_settings()
    if _oauth.get('settings') is not settings:
        _oauth.update(settings=settings, oauth=auth.oauth_clients(settings))
    return _oauth['oauth']


# --- the sign-in page ------------------------------------------------------------------------------------------


async def login_page(
    request: Request, next: str = '', invite: str = '', sent: str = '', closed: str = ''
) -> Response | None:
    if next and auth.safe_next(next, default='') != next:
        return message_page(
            _('Sign-in refused'),
            _(
                'This sign-in link would send you on to another site '
                'afterwards, so it was refused. Open the sign-in page directly.'
            ),
            400,
        )
    if await off_loop(signed_in_host, request) is not None:
        return RedirectResponse(auth.safe_next(next), status_code=303)
    settings = get_settings()
    target, address = auth.safe_next(next), client_address(request)
    who_may_join = await off_loop(_sign_up_note)
    with frame(_('Sign in')), ui.card().classes(design.CARD + ' max-w-md mx-auto w-full gap-4'):
        if closed.isdigit():
            ui.label(
                _('Your account was deleted.')
                + (
                    f' {closed} upcoming meeting{"s were" if closed != "1" else " was"} cancelled'
                    ' and the invitees were told by e-mail.'
                    if closed != '0'
                    else ''
                )
            ).classes(design.WARNING).props('role=status').mark('account-closed')
        heading(_('Sign in to CloudMeet'), 1, design.HEADLINE + ' m-0')
        if invite:
            ui.label(_('You were invited to CloudMeet: sign in to create your account.')).classes(design.SUBTLE)
        for key, label in settings.sign_in_providers.items():
            query = '?' + urlencode({'next': target, **({'invite': invite} if invite else {})})
            ui.button(
                _('Continue with {provider}', provider=label),
                on_click=lambda k=key, q=query: ui.navigate.to(f'/auth/login/{k}{q}'),
            ).props('outline no-caps size=lg').classes('w-full').mark(f'provider-{key}')
        if settings.sign_in_providers:
            ui.label(_('or get a sign-in link by e-mail')).classes(design.SUBTLE + ' self-center')
        email = (
            ui.input(_('E-mail address'), validation={_('Please enter an e-mail address'): lambda v: '@' in (v or '')})
            .props('outlined type=email autocomplete=email')
            .classes('w-full')
            .mark('login-email')
        )
        note = ui.label().classes('text-slate-700').props('role=status').mark('login-note')

        async def send() -> None:
            if not email.validate():
                return
            try:
                validation.email(email.value or '')
            except DomainError as exc:
                note.text = exc.detail
                return
            if await off_loop(attempts.login_link_requested, address=address, now=now()):
                note.text = 'Too many sign-in links asked for from here; please wait a few minutes.'
                return
            # The answer is the same, and as quick, whether or not the address may sign in.
            background_tasks.create(off_loop(send_sign_in_link, email.value or '', invite), name='sign-in-link')
            note.text = (
                f'If {email.value} may sign in here, a sign-in link is on its way. It works once, within '
                '15 minutes.' + ('' if invite else who_may_join)
            )

        email.on('keydown.enter', send)
        ui.button(_('E-mail me a sign-in link'), on_click=send).props('unelevated no-caps size=lg').classes(
            'w-full'
        ).mark('send-link')
        ui.link(_('Privacy'), '/privacy').classes('text-sm self-center')
    return None


SIGN_UP_NOTES = {
    'open': '',
    'allowed': (
        ' New accounts are open to the addresses the operator allows; if yours is not one of them, no link '
        'comes. Ask the person who runs this CloudMeet.'
    ),
    'invitation': (
        ' New accounts here are by invitation: if you have no account yet, ask the person who runs this '
        'CloudMeet for an invitation link.'
    ),
}


def _sign_up_note() -> str:
    """What a newcomer needs to know when this server does not take every new account (never who has one)."""
    return SIGN_UP_NOTES[sign_in.sign_up_policy()]


def send_sign_in_link(email: str, invitation: str = '') -> None:
    """Create a link and send it right away (not through the outbox: the token must never be stored in clear).
    Failures are logged: the person is told the same either way and can ask again."""
    settings = get_settings()
    try:
        token = sign_in.request_link(email, now=now(), invitation=invitation)
        if token is None:
            return
        message = sign_in_message(
            to_email=validation.email(email),
            url=f'{settings.public_url}/auth/email/{token}',
            mail_from=settings.mail_from,
            expires_minutes=15,
        )
        mailers.mailer_from_settings(settings).send(message, f'sign-in.{secrets.token_hex(8)}')
    except (DomainError, OperationalError, mailers.DeliveryError) as exc:
        log.warning('a sign-in link could not be sent: %s', type(exc).__name__)


# --- provider round trip ---------------------------------------------------------------------------------------


async def start_provider_sign_in(
    request: Request, provider: str, next: str = '', invite: str = '', connect: str = ''
) -> Response:
    settings = get_settings()
    if provider not in settings.sign_in_providers:
        return message_page(_('Unknown sign-in provider'), _('This way of signing in is not set up here.'), 404)
    if next and auth.safe_next(next, default='') != next:
        return message_page(
            _('Sign-in refused'),
            _(
                'This sign-in link would send you on to another site '
                'afterwards, so it was refused. Open the sign-in page directly.'
            ),
            400,
        )
    request.session['cloudmeet_next'] = auth.safe_next(next)
    request.session['cloudmeet_invite'] = invite[:100]
    request.session['cloudmeet_connect'] = connect if connect in ('1', 'calendar') else ''
    client = clients().create_client(provider)
    redirect = f'{settings.public_url}/auth/callback/{provider}'
    if connect == 'calendar' and provider == 'google':  # incremental consent: calendar access only when connecting
        return await client.authorize_redirect(
            request,
            redirect,
            scope=' '.join(('openid email profile', *google_calendar.SCOPES)),
            access_type='offline',
            prompt='consent',
            include_granted_scopes='true',
        )
    if connect == 'calendar' and provider == 'microsoft':
        return await client.authorize_redirect(
            request, redirect, scope='openid email profile offline_access Calendars.ReadWrite'
        )
    return await client.authorize_redirect(request, redirect)


async def finish_provider_sign_in(request: Request, provider: str) -> Response:
    settings = get_settings()
    if provider not in settings.sign_in_providers:
        return message_page(_('Unknown sign-in provider'), _('This way of signing in is not set up here.'), 404)
    client = clients().create_client(provider)
    try:
        token = await client.authorize_access_token(request, claims_options=auth.claims_options(provider, settings))
        claims = auth.checked_claims(provider, token)
    except OAuthError as exc:
        return message_page(_('Sign-in failed'), _oauth_problem(exc), 400)
    except auth.SignInFailed as exc:
        return message_page(_('Sign-in failed'), str(exc), 400)
    except Exception as exc:  # noqa: BLE001 - signature, claim and transport errors of the ID token check
        log.warning('%s sign-in refused: %s', provider, type(exc).__name__)
        return message_page(
            _('Sign-in failed'),
            f'The answer from the sign-in provider could not be verified ({type(exc).__name__}). Please try again.',
            400,
        )
    identity = accounts.VerifiedIdentity(
        provider=provider,
        subject=claims.subject,
        email=claims.email,
        email_verified=claims.email_verified,
        name=claims.name,
        refresh_token=str(token.get('refresh_token') or ''),
    )
    target = auth.safe_next(request.session.pop('cloudmeet_next', ''))
    invitation = request.session.pop('cloudmeet_invite', '')
    connect = request.session.pop('cloudmeet_connect', '')
    if connect == 'calendar':
        return await off_loop(_connect_calendar, request, provider, identity)
    if connect:
        return await off_loop(_connect, request, identity)
    previous = auth.session_token(request)
    return await off_loop(
        _signed_in, lambda: sign_in.with_provider(identity, now=now(), invitation=invitation, previous=previous), target
    )


def _connect_calendar(request: Request, provider: str, identity: accounts.VerifiedIdentity) -> Response:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return message_page(_('Please sign in first'), _('Sign in, then connect your calendar from Integrations.'), 401)
    if provider not in ('google', 'microsoft') or not identity.refresh_token:
        return message_page(
            _('Calendar not connected'),
            _(
                'The provider did not grant lasting access to the calendar. '
                'Please try again and allow CloudMeet to see your free and busy times.'
            ),
            400,
        )
    try:
        sign_in.connect_calendar(host_id=host.id, provider=provider, identity=identity)
    except DomainError as exc:
        return message_page(_('Calendar not connected'), exc.detail, 400)
    return RedirectResponse('/integrations', status_code=303)


def _connect(request: Request, identity: accounts.VerifiedIdentity) -> Response:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return message_page(
            _('Please sign in first'), _('Sign in, then connect another account from your settings.'), 401
        )
    try:
        sign_in.connect_identity(host_id=host.id, identity=identity, now=now())
    except accounts.SignInRefused as exc:
        return message_page(_('Could not connect'), exc.detail, 403)
    return RedirectResponse('/settings', status_code=303)


def _oauth_problem(exc: OAuthError) -> str:
    if exc.error in ('mismatching_state', 'missing_state') or 'state' in (exc.error or ''):
        return (
            'This sign-in attempt is not valid any more (it was already used, or started in another browser). '
            'Please start again.'
        )
    if exc.error == 'access_denied':
        return 'Sign-in was cancelled at the provider.'
    return f'The sign-in provider refused: {exc.error}.'


def _signed_in(start: Callable[[], accounts.SignedIn], target: str) -> Response:
    """Run a sign-in use case and answer with the new session cookie (or a clear refusal and no session)."""
    try:
        signed = start()
    except accounts.SignInRefused as exc:
        return message_page(_('Sign-in not possible'), exc.detail, 403)
    response = RedirectResponse(target if signed.host_id else '/onboarding', status_code=303)
    auth.set_session_cookie(response, signed.token, get_settings(), int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


# --- e-mailed links --------------------------------------------------------------------------------------------


def email_link_page(token: str) -> Response:
    """Opening the link changes nothing (mail scanners open links too): the button's POST signs in."""
    body = (
        f'<form method="post" action="/auth/email/{html.escape(token, quote=True)}">'
        '<p>Continue to sign in to CloudMeet in this browser.</p>'
        '<button type="submit" class="button">Sign in</button></form>'
    )
    return message_page(_('Sign in to CloudMeet'), '', 200, body_html=body, referrer_policy='no-referrer')


def sign_in_with_email_link(request: Request, token: str) -> Response:
    settings = get_settings()
    if not auth.same_origin(request, settings):
        return message_page(_('Sign-in refused'), _('This request did not come from this site.'), 403)
    previous = auth.session_token(request)
    return _signed_in(lambda: sign_in.with_link(token, now=now(), previous=previous), '/dashboard')


# --- sign-out --------------------------------------------------------------------------------------------------


def sign_out(request: Request) -> Response:
    return _end(request, everywhere=False)


def sign_out_everywhere(request: Request) -> Response:
    return _end(request, everywhere=True)


def _end(request: Request, *, everywhere: bool) -> Response:
    settings = get_settings()
    if not auth.same_origin(request, settings):
        return message_page(_('Sign-out refused'), _('This request did not come from this site.'), 403)
    sign_in.sign_out(auth.session_token(request), everywhere=everywhere, now=now())
    response = RedirectResponse('/login', status_code=303)
    auth.clear_session_cookie(response, settings)
    return response


# --- onboarding ------------------------------------------------------------------------------------------------


async def onboarding_page(request: Request) -> Response | None:
    token = auth.session_token(request)
    found = await off_loop(sign_in.onboarding, token, now=now())
    if found.state == 'done':
        return RedirectResponse('/dashboard', status_code=303)
    if found.state != 'open':
        return RedirectResponse('/login?next=/onboarding', status_code=303)
    email, suggested, name_value = found.email, found.suggested_username, found.name
    base = get_settings().public_url
    with frame(_('Welcome')), ui.card().classes(design.CARD + ' max-w-lg mx-auto w-full gap-4'):
        heading(_('Welcome to CloudMeet'), 1, design.HEADLINE + ' m-0')
        ui.label(_('Signed in as {email}. Three details and your booking page is ready.', email=email)).classes(
            design.SUBTLE
        )
        name = (
            ui.input(
                _('Your name (shown to invitees)'),
                value=name_value,
                validation={'Please enter your name': lambda v: bool((v or '').strip())},
            )
            .props('outlined autocomplete=name')
            .classes('w-full')
            .mark('onboarding-name')
        )
        username = (
            ui.input(_('Username (your booking link)'), value=suggested, validation=validation.username_problem)
            .props('outlined autocomplete=username')
            .classes('w-full')
            .mark('onboarding-username')
        )
        link = ui.label().classes(design.SUBTLE).mark('onboarding-link')
        username.on_value_change(lambda e: link.set_text(f'{base}/{(e.value or "").strip().lower()}'))
        link.text = f'{base}/{suggested}'
        zone = timezone_select('UTC', lambda _: None, now=now()).classes('w-full').mark('onboarding-timezone')
        ui.timer(0.1, lambda: _detect_zone(zone), once=True)
        error = ui.label().classes('text-red-700').props('role=alert').mark('onboarding-error')

        async def create() -> None:
            if not name.validate():
                return
            try:
                await off_loop(_onboard, token, name.value or '', username.value or '', zone.value or 'UTC')
            except DomainError as exc:
                error.text = exc.detail
                return
            except OperationalError:
                error.text = 'Your account could not be created right now. Please try again.'
                return
            ui.navigate.to('/dashboard')

        ui.button(_('Create my booking page'), on_click=create).props('unelevated no-caps size=lg').classes(
            'w-full'
        ).mark('onboarding-submit')
    return None


async def _detect_zone(select: ui.select) -> None:
    """Start from the browser's own zone (the host can change it)."""
    try:
        detected = await ui.run_javascript('Intl.DateTimeFormat().resolvedOptions().timeZone', timeout=3)
        show_zone(select, validation.time_zone(str(detected)))
    except (TimeoutError, DomainError):
        pass


def _onboard(token: str, name: str, username: str, zone: str) -> None:
    sign_in.complete_onboarding(token, name=name, username=username, timezone=zone, now=now())


# --- plain pages for the HTTP-only steps ----------------------------------------------------------------------


def message_page(
    title: str, message: str, status: int, *, body_html: str = '', referrer_policy: str = ''
) -> HTMLResponse:
    """A small page for steps that happen outside NiceGUI (redirect targets and form posts)."""
    text = f'<p>{html.escape(message)}</p>' if message else ''
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)} · CloudMeet</title>
<style>body{{font-family:system-ui,sans-serif;background:#f8fafc;color:#0f172a;margin:0;padding:48px 16px}}
main{{max-width:28rem;margin:auto;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:24px}}
.button{{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:10px 18px;font-size:1rem;cursor:pointer}}
a{{color:#1d4ed8}}</style></head><body><main><h1>{html.escape(title)}</h1>{text}{body_html}
<p><a href="/login">Back to sign-in</a> · <a href="/privacy">Privacy</a></p></main></body></html>"""
    response = HTMLResponse(page, status_code=status)
    if referrer_policy:
        response.headers['Referrer-Policy'] = referrer_policy
    return response
