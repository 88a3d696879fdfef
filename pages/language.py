"""The invitee's language on a page: chosen by `?lang=`, then the remembered choice, then the booking's language,
then the browser's `Accept-Language`; English when none is supported."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from app.i18n import LOCALE_COOKIE, Translator, choose, supported, translator
from components.language_picker import remember_language


def page_translator(request: Request, lang: str = '', kept: str = '') -> Translator:
    """The page's language; a language named in the address is remembered for the next pages."""
    locale = choose(
        lang, request.cookies.get(LOCALE_COOKIE), kept, accept_language=request.headers.get('accept-language')
    )
    if supported(lang):
        remember_language(locale)
    return translator(locale)


def reload_in(locale: str, path: str, query: dict[str, str] | None = None) -> None:
    """Open `path` again in another language (the address names it, so a reload or a shared link keeps it)."""
    ui.navigate.to(f'{path}?{urlencode({**(query or {}), "lang": locale})}')
