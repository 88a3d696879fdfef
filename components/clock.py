"""How times and days read on the pages: the 12- or 24-hour clock, and which one a browser's language expects."""

from __future__ import annotations

from datetime import date, datetime

from babel.core import Locale, UnknownLocaleError

from app.i18n import ENGLISH, Translator


def format_time(moment: datetime, clock24: bool, t: Translator = ENGLISH) -> str:
    """'09:30', or '9:30 am' on a 12-hour clock (in the reader's language)."""
    return t.time(moment, clock24)


def format_day(day: date, t: Translator = ENGLISH) -> str:
    """'Tuesday 8 December 2026' (in the reader's language); it starts a heading or a line on the pages, so it starts
    with a capital ('Mercredi 2 décembre 2026', where a sentence in an e-mail keeps CLDR's 'mercredi')."""
    text = t.day(day)
    return text[:1].upper() + text[1:]


def clock24_for(accept_language: str | None) -> bool:
    """Whether the browser's first language writes times on a 24-hour clock (en-US: no; en-GB, de: yes)."""
    first = (accept_language or '').split(',')[0].split(';')[0].strip().replace('-', '_')
    if not first or first == '*':
        return True
    try:
        pattern = Locale.parse(first).time_formats['short'].pattern
    except (UnknownLocaleError, ValueError, KeyError):
        return True
    return not any(letter in pattern for letter in 'hK')
