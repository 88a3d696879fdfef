"""Languages: gettext catalogs in `locales/` read at run time through Babel, and dates, times and zone names written
with Babel's CLDR data in the reader's language.

`translator(locale)` gives a `Translator` whose `gettext`/`ngettext` look a message up in that language's catalog
(English is the source language: its catalog is the template itself) and whose `day`, `time`, `month` and `zone`
methods format values the way that language writes them. English keeps the wording the pages always had.
Messages are Python format strings with named fields (`'{host_name} will send you the details'`), filled in after
translation, so a translation may move a field but must keep every one (a test checks).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_time, get_day_names, get_timezone_location, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / 'locales'
DOMAIN = 'messages'
DEFAULT_LOCALE = 'en'
# The languages the invitee-facing pages and e-mails are written in (each has a catalog in locales/).
LOCALES = ('en', 'de', 'fr', 'es', 'pl', 'pt')
LOCALE_COOKIE = 'cloudmeet_lang'


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Translator:
    """One language: its messages and its way of writing days, months, times and zones."""

    locale: str
    catalog: NullTranslations

    def gettext(self, message: str, /, **fields: object) -> str:
        """The message in this language, its `{fields}` filled in when given."""
        text = self.catalog.gettext(message)
        return text.format(**fields) if fields else text

    def ngettext(self, singular: str, plural: str, count: int, /, **fields: object) -> str:
        """The form for `count` (Polish has three); `{count}` and the other fields are filled in."""
        return self.catalog.ngettext(singular, plural, count).format(count=count, **fields)

    @property
    def english(self) -> bool:
        return self.locale == DEFAULT_LOCALE

    def day(self, day: date) -> str:
        """'Tuesday 8 December 2026', 'Dienstag, 8. Dezember 2026', 'mardi 8 décembre 2026'."""
        return _day(self.locale, day if type(day) is date else date(day.year, day.month, day.day))

    def month(self, month: date) -> str:
        """'December 2026', 'Dezember 2026', 'grudzień 2026' (the stand-alone month name)."""
        return format_date(month, 'LLLL y', locale=self.locale)

    def weekdays(self) -> tuple[str, ...]:
        """Short weekday names, Monday first, for a calendar's header row."""
        names = get_day_names('abbreviated', context='stand-alone', locale=self.locale)
        return tuple(names[i] for i in range(7))

    def time(self, moment: datetime, clock24: bool = True) -> str:
        """'09:30' on a 24-hour clock; '9:30 am' on a 12-hour one (the language's own day periods elsewhere)."""
        if clock24:
            return f'{moment:%H:%M}'
        if self.english:
            return f'{moment:%I:%M %p}'.lstrip('0').lower()
        return format_time(moment, 'h:mm a', locale=self.locale)

    def city(self, zone: str) -> str:
        """The zone's city in this language ('America/New_York': 'New York', 'Nowy Jork')."""
        if self.english or zone == 'UTC':
            return zone.rsplit('/', 1)[-1].replace('_', ' ')
        return _city(self.locale, zone)

    def zone_name(self, moment: datetime) -> str:
        """The zone's name at `moment` in this language ('Mitteleuropäische Normalzeit'); English keeps the
        abbreviation ('CET')."""
        if self.english:
            return moment.tzname() or ''
        return get_timezone_name(moment, 'long', locale=self.locale)

    def country(self, territory: str) -> str:
        return Locale.parse(self.locale).territories.get(territory, '') if territory else ''


def translator(locale: str | None) -> Translator:
    """The translator of a supported language; anything else is English."""
    return _translator(locale if locale in LOCALES else DEFAULT_LOCALE)


def gettext(message: str, /, **fields: object) -> str:
    """A message of the host pages (English today), read through the same catalogs as the invitee's pages."""
    return ENGLISH.gettext(message, **fields)


_ = gettext


def supported(locale: object) -> str | None:
    """`locale` when it names a supported language ('pt-BR' and 'de_AT' name 'pt' and 'de'), else None."""
    if not isinstance(locale, str) or not locale.strip():
        return None
    return negotiate_locale([locale.strip().replace('_', '-')], LOCALES, sep='-')


def negotiate(accept_language: str | None) -> str:
    """The best supported language for a browser's `Accept-Language` header ('de-DE,de;q=0.9,en;q=0.8': 'de'),
    English when none of them is supported."""
    return negotiate_locale(_preferred(accept_language or ''), LOCALES, sep='-') or DEFAULT_LOCALE


def choose(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first supported language among `candidates` (a `?lang=`, a cookie, the booking's), else the browser's."""
    for candidate in candidates:
        found = supported(candidate)
        if found:
            return found
    return negotiate(accept_language)


def languages() -> list[tuple[str, str]]:
    """(code, name in its own words) for a language picker."""
    return [(code, language_name(code)) for code in LOCALES]


def language_name(locale: str) -> str:
    """A language in its own words ('Deutsch', 'français'), for the picker and the host's view of a booking."""
    return (Locale.parse(locale).get_display_name(locale) or locale) if locale in LOCALES else locale


def _preferred(header: str) -> list[str]:
    """The header's languages, most wanted first (q=0 means 'not this one')."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(',')[:20]):
        tag, _sep, params = part.strip().partition(';')
        quality = 1.0
        for param in params.split(';'):
            name, _eq, value = param.strip().partition('=')
            if name == 'q':
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != '*' and quality > 0:
            weighted.append((-quality, position, tag.replace('_', '-')))
    return [tag for _q, _p, tag in sorted(weighted)]


@lru_cache(maxsize=4096)
def _day(locale: str, day: date) -> str:
    """A day in words (cached: a month calendar names each of its days on every redraw)."""
    return format_date(day, 'EEEE d MMMM y' if locale == DEFAULT_LOCALE else 'full', locale=locale)


@lru_cache(maxsize=4096)
def _city(locale: str, zone: str) -> str:
    """CLDR's exemplar city (a zone picker asks for ~420 of them at once)."""
    return get_timezone_location(zone, locale=locale, return_city=True)


@lru_cache(maxsize=len(LOCALES))
def _translator(locale: str) -> Translator:
    return Translator(locale, _load(locale))


def _load(locale: str) -> NullTranslations:
    """The language's catalog, read from its .po file and compiled in memory (English needs none)."""
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    path = LOCALE_DIR / locale / 'LC_MESSAGES' / f'{DOMAIN}.po'
    with path.open('rb') as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


ENGLISH = translator(DEFAULT_LOCALE)  # the source language: needs no catalog
