"""The public `/privacy` policy and the signed-in host's JSON export."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from fastapi import Request
from fastapi.responses import Response
from nicegui import app, ui

from app.config import get_settings
from app.i18n import _
from components import design
from components.frame import frame
from components.headings import heading
from pages.auth import signed_in_host
from services import sign_in


def register() -> None:
    ui.page('/privacy')(privacy_page)
    app.get('/account/export.json', include_in_schema=False)(export_download)


def sign_out_form(label: str = 'Sign out', action: str = '/auth/logout') -> None:
    """Signing out is a POST (a link or GET never does it)."""
    with ui.element('form').props(f'method=post action={action}'):
        ui.button(label).props('type=submit flat no-caps').mark(
            'sign-out' if action.endswith('logout') else 'sign-out-everywhere'
        )


def export_download(request: Request) -> Response:
    host = signed_in_host(request)
    if host is None or host.id is None:
        return Response('Please sign in first.', status_code=401, media_type='text/plain')
    data = sign_in.export(host.id)
    stamp = datetime.now(timezone.utc).strftime('%Y%m%d')
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type='application/json',
        headers={
            'Content-Disposition': f'attachment; filename="cloudmeet-{host.username}-{stamp}.json"',
            'Cache-Control': 'no-store',
        },
    )


# --- privacy policy --------------------------------------------------------------------------------------------


def privacy_page() -> None:
    contact = get_settings().privacy_contact
    with frame(_('Privacy')):
        with ui.card().classes(design.CARD + ' gap-3').mark('privacy'):
            heading(_('Privacy policy'), 1, design.HEADLINE + ' m-0')
            ui.label(
                _(
                    'This CloudMeet instance is run by its operator; this page states exactly what it stores, '
                    'why, who else sees it, and what you can ask for.'
                )
            ).classes(design.SUBTLE)
            for title, paragraphs in POLICY:
                heading(title, 2, design.TITLE + ' m-0 mt-2')
                for paragraph in paragraphs:
                    ui.label(paragraph).classes('text-slate-800')
            heading(_('Contact'), 2, design.TITLE + ' m-0 mt-2')
            if contact:
                ui.label(_('Questions and requests: {contact}', contact=contact)).mark('privacy-contact')
            else:
                ui.label(_('Questions and requests: please contact the operator of this site.')).mark('privacy-contact')


POLICY = (
    (
        'What is stored and why',
        (
            'Hosts: the name and e-mail address from sign-in (to identify your account and send you notices), your '
            'profile, event types, schedules and notification settings (to offer your booking pages).',
            'Calendars you connect: only the start and end of your busy times, kept in memory for at most a few '
            'minutes to avoid double bookings. CloudMeet never stores the titles, descriptions, locations or '
            'attendees of your other events.',
            "Bookings: the invitee's name, e-mail address, time zone, notes and answers, and the meeting time (to hold "
            'the meeting, show it to the host and send confirmations and reminders).',
            'Sign-in and calendar access tokens, calendar feed addresses and CalDAV passwords are stored encrypted '
            '(Fernet); session and link tokens are stored only as hashes. Server logs contain no tokens or secrets.',
        ),
    ),
    (
        'Google user data',
        (
            "CloudMeet's use and transfer of information received from Google APIs adheres to the Google API Services "
            'User Data Policy, including the Limited Use requirements. Google data is used only to check your '
            'availability and to create, move and delete the events of your bookings; it is not used for advertising, '
            'not sold, not used to train models, and not read by people except with your consent, for security, or '
            'where the law requires it.',
        ),
    ),
    (
        'Who else receives data',
        (
            'Only the services needed to run the meetings: the calendar providers you connect (Google, Microsoft, '
            'CalDAV servers such as iCloud, Fastmail or Nextcloud), the '
            'e-mail provider this instance sends through, and the operator hosting this instance. Nothing is sold or '
            'shared for advertising.',
        ),
    ),
    (
        'How long data is kept',
        (
            'Account data is kept until you delete your account; deleting it removes every row of your account, ends '
            'your sessions and revokes Google access. Bookings are kept with the account; a host can erase an '
            "invitee's details from a booking on request. Sign-in links expire after 15 minutes, sessions after 30 "
            'days.',
        ),
    ),
    (
        'Your rights',
        (
            'You can access and export your data (Settings, "Download my data"), correct it (Settings), delete it '
            '(Settings, "Delete my account"), and object to or restrict its use by contacting the operator below. '
            'Invitees can ask the host, or the operator, to erase their booking details.',
        ),
    ),
)
