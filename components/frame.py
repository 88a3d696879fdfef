"""The shared page layout: header, content column and footer (left out when embedded in another site)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nicegui import ui

from app.i18n import ENGLISH, Translator
from components import design
from components.headings import heading
from components.language_picker import language_picker
from services.contrast import accessible_brand

# Quasar's page-wide loading bar is a progressbar without a name; screen readers (and axe-core) need one.
LOADING_BAR_NAME = (
    '<script>new MutationObserver(() => document.querySelectorAll(".q-loading-bar:not([aria-label])")'
    '.forEach(e => e.setAttribute("aria-label", "Loading"))).observe(document.documentElement, '
    '{childList: true, subtree: true})</script>'
    # NiceGUI's default link blue is 3:1 on white; this one meets WCAG AA (about 6.7:1)
    '<style>.nicegui-link { color: #1d4ed8 }</style>'
)

PAGE_LANGUAGE = (
    '<script>(() => { const keep = () => { if (document.documentElement.lang !== "LANG") '
    'document.documentElement.lang = "LANG"; }; keep(); new MutationObserver(keep).observe('
    'document.documentElement, {attributes: true, attributeFilter: ["lang"]}); })()</script>'
)


@contextmanager
def frame(
    title: str,
    *,
    embed: bool = False,
    brand: str = '',
    t: Translator = ENGLISH,
    on_language: Callable[[str], Any] | None = None,
) -> Iterator[ui.column]:
    """Render the site frame and yield the content column; `brand` (a host's colour) is adjusted to meet WCAG AA;
    `t` is the reader's language (the page's `lang` says it too, for screen readers and spelling), and
    `on_language` offers a language picker (the invitee's pages)."""
    _ = t.gettext
    ui.page_title(f'{title} · CloudMeet' if title != 'CloudMeet' else title)
    if not t.english:  # Quasar sets the site's default on start-up: keep the reader's language on <html>
        ui.add_head_html(PAGE_LANGUAGE.replace('LANG', t.locale))
    ui.colors(primary=accessible_brand(brand, design.BRAND), **design.STATUS_COLOURS)
    ui.query('body').classes('bg-slate-50')
    ui.add_head_html(LOADING_BAR_NAME)
    if not embed:
        with ui.header().classes('bg-white text-slate-900 border-b border-slate-200 px-4 sm:px-6 py-3 items-center'):
            ui.link('CloudMeet', '/').classes('text-xl font-semibold no-underline text-slate-900').mark('brand')
            if on_language:
                ui.space()
                language_picker(t, on_language)
    with ui.column().classes(design.PAGE) as content:
        if embed and on_language:
            with ui.row().classes('w-full justify-end'):
                language_picker(t, on_language)
        yield content
    if not embed:
        with ui.footer(fixed=False).classes('bg-white text-slate-600 border-t border-slate-200 px-6 py-2 text-sm'):
            with ui.row().classes('w-full items-center justify-between gap-2'):
                ui.label(_('Scheduling by CloudMeet, open source and self-hosted'))
                ui.link(_('Privacy'), '/privacy').classes('text-slate-700').mark('privacy-link')


def not_found(message: str, *, embed: bool = False, t: Translator = ENGLISH) -> None:
    """A friendly 'not found' page with a 404 status."""
    _ = t.gettext
    ui.context.client.status_code = 404
    with frame(_('Not found'), embed=embed, t=t):
        with ui.card().classes(design.CARD):
            heading(_('Page not found'), 1, 'text-2xl font-semibold')
            ui.label(message).classes(design.SUBTLE).mark('not-found')
            ui.link(_('Go to the start page'), '/')
