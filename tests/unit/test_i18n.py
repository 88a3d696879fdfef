"""Choosing the invitee's language and writing days, times and zones in it (pure, no pages)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.i18n import ENGLISH, choose, negotiate, supported, translator

TUESDAY = date(2026, 12, 8)
MORNING = datetime(2026, 12, 8, 9, 30, tzinfo=ZoneInfo('Europe/Berlin'))


@pytest.mark.parametrize(
    ('header', 'expected'),
    [
        ('de-DE,de;q=0.9,en;q=0.8', 'de'),
        ('de-AT', 'de'),
        ('pt-BR,pt;q=0.9', 'pt'),
        ('en-US,pl;q=0.5', 'en'),
        ('fr;q=0.1, pl', 'pl'),  # the weights decide, not the order
        ('ja-JP, es-MX;q=0.7', 'es'),
        ('de;q=0, fr;q=0.5', 'fr'),  # q=0 means 'not this one'
        ('de;q=abc, fr;q=0.5', 'fr'),
        ('xx-YY', 'en'),
        ('*', 'en'),
        ('', 'en'),
        (None, 'en'),
    ],
)
def test_the_browsers_accept_language_picks_the_best_supported_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_an_explicit_choice_comes_before_the_browser() -> None:
    assert choose('pl', accept_language='de-DE') == 'pl'
    assert choose('', None, 'es', accept_language='de-DE') == 'es'  # ?lang=, cookie, then the booking's
    assert choose('klingon', accept_language='fr-CA') == 'fr'
    assert supported('pt_BR') == 'pt' and supported('zz') is None and supported(3) is None


@pytest.mark.parametrize(
    ('locale', 'day', 'month', 'weekday'),
    [
        ('en', 'Tuesday 8 December 2026', 'December 2026', 'Mon'),
        ('de', 'Dienstag, 8. Dezember 2026', 'Dezember 2026', 'Mo'),
        ('fr', 'mardi 8 décembre 2026', 'décembre 2026', 'lun.'),
        ('es', 'martes, 8 de diciembre de 2026', 'diciembre 2026', 'lun'),
        ('pl', 'wtorek, 8 grudnia 2026', 'grudzień 2026', 'pon.'),
        ('pt', 'terça-feira, 8 de dezembro de 2026', 'dezembro 2026', 'seg.'),
    ],
)
def test_days_months_and_weekdays_are_written_in_the_language(locale: str, day: str, month: str, weekday: str) -> None:
    t = translator(locale)
    assert t.day(TUESDAY) == day
    assert t.month(TUESDAY) == month  # Polish uses the month's own (nominative) name in a calendar heading
    assert t.weekdays()[0] == weekday and len(t.weekdays()) == 7


def test_times_keep_the_chosen_clock_and_zones_are_named_in_the_language() -> None:
    assert ENGLISH.time(MORNING, True) == '09:30' and ENGLISH.time(MORNING, False) == '9:30 am'
    assert translator('de').time(MORNING, True) == '09:30'
    assert translator('es').time(MORNING, False) == '9:30 a.\u202fm.'
    assert ENGLISH.zone_name(MORNING) == 'CET'
    assert translator('de').zone_name(MORNING) == 'Mitteleuropäische Normalzeit'
    assert translator('pl').city('America/New_York') == 'Nowy Jork'
    assert ENGLISH.city('America/Argentina/Buenos_Aires') == 'Buenos Aires'


def test_messages_are_translated_with_their_fields_and_plural_forms() -> None:
    de, pl = translator('de'), translator('pl')
    assert de.gettext('{host_name} will send you the details', host_name='Ada') == 'Ada sendet Ihnen die Details'
    assert [pl.ngettext('{count} free time', '{count} free times', n) for n in (1, 3, 5, 22)] == [
        '1 wolny termin',
        '3 wolne terminy',
        '5 wolnych terminów',
        '22 wolne terminy',
    ]
    assert translator('xx').locale == 'en'
    assert ENGLISH.gettext('A message nobody translated') == 'A message nobody translated'


def test_the_zone_picker_names_places_in_the_language_and_finds_them_in_english_too() -> None:
    from services import zones

    winter = datetime(2026, 12, 8, 12, 0, tzinfo=ZoneInfo('UTC'))
    vienna = zones.search_text('Europe/Vienna', winter, translator('de'))
    assert vienna == 'Wien (Vienna) · Österreich · CET · UTC+01:00'
    assert zones.search_text('America/New_York', winter, translator('pl')).startswith('Nowy Jork (New York) · Stany')
    assert zones.search_text('Europe/Berlin', winter, translator('fr')) == 'Berlin · Allemagne · CET · UTC+01:00'
    assert zones.search_text('Asia/Tokyo', winter) == 'Tokyo · Japan · JST · UTC+09:00'  # English as before
