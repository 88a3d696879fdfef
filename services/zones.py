"""The time zones people pick from: canonical IANA names with city, country, abbreviation and offset (CLDR data).

Old aliases (Asia/Calcutta, Asia/Katmandu, US/Eastern...) fold into their canonical names, so a browser that
reports one is shown, searched and stored as the name everyone else uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import Locale, get_global

from app.i18n import ENGLISH, Translator

REGIONS = ('Africa/', 'America/', 'Antarctica/', 'Asia/', 'Atlantic/', 'Australia/', 'Europe/', 'Indian/', 'Pacific/')


@lru_cache
def _aliases() -> dict[str, str]:
    return dict(get_global('zone_aliases'))


@lru_cache
def _all() -> frozenset[str]:
    return frozenset(available_timezones()) | {'UTC'}


def canonical(zone: str) -> str:
    """The canonical name of an IANA zone or alias ('Asia/Calcutta' -> 'Asia/Kolkata'); unknown names unchanged."""
    if zone in ('UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu'):
        return 'UTC'
    return _aliases().get(zone, zone)


def is_known(zone: str) -> bool:
    return zone in _all()


@lru_cache
def zone_names() -> tuple[str, ...]:
    """Every canonical city zone, sorted, then UTC: one entry per place, no aliases."""
    names = {canonical(z) for z in _all() if z.startswith(REGIONS)}
    return (*sorted(z for z in names if z.startswith(REGIONS)), 'UTC')


def city_name(zone: str) -> str:
    """'America/Argentina/Buenos_Aires' -> 'Buenos Aires'; 'UTC' -> 'UTC'."""
    return canonical(zone).rsplit('/', 1)[-1].replace('_', ' ')


def country(zone: str, locale: str = 'en') -> str:
    """The zone's country in `locale`'s words ('Asia/Tokyo' -> 'Japan', 'Japon'), or '' (UTC, Antarctic
    stations...)."""
    territory = get_global('zone_territories').get(canonical(zone), '')
    return _territories(locale).get(territory, '') if territory else ''


@lru_cache
def _territories(locale: str) -> dict[str, str]:
    return dict(Locale.parse(locale).territories)


def offset_text(zone: str, now: datetime) -> str:
    """'UTC+09:00', 'UTC-03:30', 'UTC' at `now`."""
    offset = now.astimezone(ZoneInfo(canonical(zone))).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return 'UTC'
    sign = '+' if minutes > 0 else '-'
    hours, rest = divmod(abs(minutes), 60)
    return f'UTC{sign}{hours:02d}:{rest:02d}'


def abbreviation(zone: str, now: datetime) -> str:
    """The local abbreviation in use at `now` ('JST', 'CEST', 'EST'), or '' where the zone has only a number."""
    name = now.astimezone(ZoneInfo(canonical(zone))).tzname() or ''
    return '' if not name or name[0] in '+-' or name == 'UTC' else name


def search_text(zone: str, now: datetime, t: Translator = ENGLISH) -> str:
    """What a picker shows and searches: 'Tokyo · Japan · JST · UTC+09:00' (in German 'Tokio · Japan · ...')."""
    city = city_name(zone)
    if not t.english:  # the city in the reader's words, and in English too, as people often type it
        local = t.city(canonical(zone))
        city = local if local == city else f'{local} ({city})'
    parts = [city, country(zone, t.locale), abbreviation(zone, now), offset_text(zone, now)]
    return ' · '.join(dict.fromkeys(p for p in parts if p))
