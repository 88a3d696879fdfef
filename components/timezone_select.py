"""A searchable time-zone picker: city names with their current local time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from nicegui import ui

REGIONS = ('Africa/', 'America/', 'Antarctica/', 'Asia/', 'Atlantic/', 'Australia/', 'Europe/', 'Indian/',
           'Pacific/')


@lru_cache
def _zone_names() -> tuple[str, ...]:
    return (*sorted(z for z in available_timezones() if z.startswith(REGIONS)), 'UTC')


def zone_options(now: datetime, clock24: bool = True) -> dict[str, str]:
    """{zone: 'New York (America) · 09:41'} for every city zone, with the time there now."""
    return dict(_options(int(now.timestamp()) // 60, clock24))


@lru_cache(maxsize=4)
def _options(minute: int, clock24: bool) -> tuple[tuple[str, str], ...]:
    """Built once a minute: formatting ~430 local times costs tens of milliseconds."""
    now = datetime.fromtimestamp(minute * 60, timezone.utc)
    return tuple((z, _label(z, now, clock24)) for z in _zone_names())


def _label(zone: str, now: datetime, clock24: bool) -> str:
    local = now.astimezone(ZoneInfo(zone)).strftime('%H:%M' if clock24 else '%I:%M %p')
    return f'{city_name(zone)} ({_region(zone)}) · {local}'



def _region(zone: str) -> str:
    return zone.split('/')[0] if '/' in zone else 'UTC'


def city_name(zone: str) -> str:
    return zone.rsplit('/', 1)[-1].replace('_', ' ')


def timezone_select(value: str, on_change: Callable[[str], Any], *, now: datetime, clock24: bool = True) -> ui.select:
    """The picker starts with its own value only; all ~430 zones load when it opens (building them costs ~30 ms)."""
    select = ui.select(_just(value, now, clock24), value=value, with_input=True, label='Time zone',
                       on_change=lambda e: on_change(e.value) if e.value else None)

    def load_all() -> None:
        if len(select.options) <= 1:
            options = zone_options(datetime.now(timezone.utc), clock24)
            options.setdefault(select.value, select.value)
            select.set_options(options, value=select.value)

    select.on('popup-show', load_all)
    select.on('focus', load_all)
    return select.classes('min-w-[16rem] flex-1').props('outlined dense options-dense').mark('timezone')


def show_zone(select: ui.select, zone: str) -> None:
    """Set the picker to `zone` (adding it to the options when they are not loaded yet)."""
    if zone not in select.options:
        select.set_options({**_as_dict(select.options), **_just(zone, datetime.now(timezone.utc), True)})
    select.value = zone


def _just(zone: str, now: datetime, clock24: bool) -> dict[str, str]:
    return {zone: _label(zone, now, clock24)}


def _as_dict(options: Any) -> dict[str, str]:
    return dict(options) if isinstance(options, dict) else {o: o for o in options}
