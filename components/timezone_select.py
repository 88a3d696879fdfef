"""A searchable time-zone picker: one entry per place, found by city, country, abbreviation or offset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui

from app.i18n import ENGLISH, Translator
from components.clock import format_time
from services import zones

# Typing replaces the shown zone instead of being appended to it (Quasar's fill-input keeps the label as text).
SELECT_ON_FOCUS = '(e) => { const i = e.target?.closest?.(".q-field")?.querySelector("input"); if (i) i.select(); }'


def zone_options(now: datetime, clock24: bool = True, t: Translator = ENGLISH) -> dict[str, str]:
    """{zone: 'Tokyo · Japan · JST · UTC+09:00 · 2:05 pm'} for every place, with the time there now, in `t`'s
    language."""
    return dict(_options(int(now.timestamp()) // 60, clock24, t))


@lru_cache(maxsize=16)
def _options(minute: int, clock24: bool, t: Translator) -> tuple[tuple[str, str], ...]:
    """Built once a minute: formatting ~420 local times costs tens of milliseconds."""
    now = datetime.fromtimestamp(minute * 60, timezone.utc)
    return tuple((z, label(z, now, clock24, t)) for z in zones.zone_names())


def label(zone: str, now: datetime, clock24: bool = True, t: Translator = ENGLISH) -> str:
    local = now.astimezone(ZoneInfo(zones.canonical(zone)))
    return f'{zones.search_text(zone, now, t)} · {format_time(local, clock24, t)}'


city_name = zones.city_name


def timezone_select(
    value: str, on_change: Callable[[str], Any], *, now: datetime, clock24: bool = True, t: Translator = ENGLISH
) -> ui.select:
    """The picker starts with its own value only; all zones load when it opens (building them costs ~30 ms)."""
    value = zones.canonical(value)
    select = ui.select(
        {value: label(value, now, clock24, t)},
        value=value,
        with_input=True,
        label=t.gettext('Time zone'),
        on_change=lambda e: on_change(e.value) if e.value else None,
    )
    loaded = False

    def load_all() -> None:
        nonlocal loaded
        if not loaded:
            loaded = True
            options = zone_options(datetime.now(timezone.utc), clock24, t)
            options.setdefault(select.value, label(select.value, now, clock24, t))
            select.set_options(options, value=select.value)

    select.on('popup-show', load_all)
    select.on('focus', load_all)
    select.on('focus', js_handler=SELECT_ON_FOCUS)
    return select.classes('min-w-[16rem] flex-1').props('outlined dense options-dense').mark('timezone')


def show_zone(select: ui.select, zone: str, t: Translator = ENGLISH) -> None:
    """Set the picker to `zone` (adding it to the options when they are not loaded yet)."""
    zone = zones.canonical(zone)
    if zone not in select.options:
        select.set_options({**_as_dict(select.options), zone: label(zone, datetime.now(timezone.utc), t=t)})
    select.value = zone


def _as_dict(options: Any) -> dict[str, str]:
    return dict(options) if isinstance(options, dict) else {o: o for o in options}
