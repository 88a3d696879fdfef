"""A searchable time-zone picker: city names with their current local time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
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
    fmt = '%H:%M' if clock24 else '%I:%M %p'
    return {z: f'{city_name(z)} ({_region(z)}) · {now.astimezone(ZoneInfo(z)).strftime(fmt)}' for z in _zone_names()}


def _region(zone: str) -> str:
    return zone.split('/')[0] if '/' in zone else 'UTC'


def city_name(zone: str) -> str:
    return zone.rsplit('/', 1)[-1].replace('_', ' ')


def timezone_select(value: str, on_change: Callable[[str], Any], *, now: datetime, clock24: bool = True) -> ui.select:
    options = zone_options(now, clock24)
    if value not in options:
        options[value] = value
    select = ui.select(options, value=value, with_input=True, label='Time zone',
                       on_change=lambda e: on_change(e.value) if e.value else None)
    return select.classes('min-w-[16rem] flex-1').props('outlined dense options-dense').mark('timezone')
