"""The frame of the host's own pages: the site frame plus a navigation bar and sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from app.i18n import _
from components.frame import frame

NAV = (
    ('Bookings', '/dashboard'),
    ('Event types', '/event-types'),
    ('Availability', '/availability'),
    ('Teams', '/teams'),
    ('Integrations', '/integrations'),
    ('Settings', '/settings'),
)


def sign_out_form(label: str = 'Sign out', action: str = '/auth/logout') -> None:
    """Signing out is a form POST (a link or GET never does it)."""
    with ui.element('form').props(f'method=post action={action}'):
        ui.button(label).props('type=submit flat no-caps').mark(
            'sign-out' if action.endswith('logout') else 'sign-out-everywhere'
        )


@contextmanager
def host_frame(title: str, *, active: str, brand: str = '') -> Iterator[ui.column]:
    with frame(title, brand=brand) as content:
        with (
            ui.element('nav')
            .props('aria-label="Your CloudMeet"')
            .classes('w-full flex flex-nowrap items-center gap-1 border-b border-slate-200 pb-2')
        ):
            _phone_menu(active)
            with ui.element('div').classes('max-sm:hidden flex flex-wrap items-center gap-1'):
                for label, path in NAV:
                    _link(
                        label,
                        path,
                        active,
                        'px-3 py-2 rounded no-underline font-medium '
                        + ('bg-slate-200 text-slate-900' if path == active else 'text-slate-700 hover:bg-slate-100'),
                    )
            ui.element('div').classes('flex-grow')
            sign_out_form()
        yield content


def _phone_menu(active: str) -> None:
    """Below the `sm` breakpoint the links fold into a menu, so a phone has no second row and no sideways scroll."""
    with (
        ui.button(_('Menu'), icon='menu').props('flat no-caps aria-haspopup=menu').classes('sm:hidden').mark('nav-menu')
    ):
        with ui.menu().props('anchor="bottom left" self="top left"').classes('min-w-48'):
            for label, path in NAV:
                current = 'bg-slate-100 font-semibold text-slate-900' if path == active else 'text-slate-700'
                _link(
                    label, path, active, f'block px-4 py-3 no-underline text-base hover:bg-slate-100 {current}'
                ).props('role=menuitem').mark('nav-menu-link')


def _link(label: str, path: str, active: str, classes: str) -> ui.link:
    link = ui.link(label, path).classes(classes)
    if path == active:
        link.props('aria-current=page')
    return link
