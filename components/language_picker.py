"""The invitee's language picker: each language named in its own words; choosing one reloads the page in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from app.i18n import LOCALE_COOKIE, Translator, languages


def language_picker(t: Translator, on_change: Callable[[str], Any]) -> ui.select:
    """A compact select of the supported languages, showing `t`'s language."""
    select = ui.select(dict(languages()), value=t.locale, on_change=lambda e: on_change(e.value) if e.value else None)
    select.props['aria-label'] = t.gettext('Language')
    return select.props('dense outlined options-dense').classes('min-w-[9rem]').mark('language')


def remember_language(locale: str) -> None:
    """Keep a language the invitee chose for their next pages (a year-long cookie, like the zone's)."""
    ui.add_head_html(
        f'<script>document.cookie="{LOCALE_COOKIE}={locale};path=/;max-age=31536000;samesite=lax"</script>'
    )
