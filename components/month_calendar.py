"""A month calendar: days with free times highlighted, past days disabled, previous/next month."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from nicegui import ui

from app.i18n import ENGLISH, Translator
from components import design
from components.headings import heading


def month_calendar(
    *,
    month: date,
    free_days: dict[date, int],
    selected: date | None,
    today: date,
    on_select: Callable[[date], Any],
    on_month: Callable[[int], Any],
    loading: bool = False,
    t: Translator = ENGLISH,
) -> dict[date, ui.button]:
    """Render `month` (its first day) with month and weekday names in `t`'s language; `free_days` maps a date to
    its number of free times. Returns the day buttons, which `style_day` can update in place."""
    buttons: dict[date, ui.button] = {}
    _ = t.gettext
    with ui.column().classes('w-full gap-2'):
        with ui.row().classes('w-full items-center justify-between no-wrap'):
            heading(t.month(month), 2, 'text-lg font-semibold m-0').mark('month-label')
            with ui.row().classes('gap-1 no-wrap'):
                prev = (
                    ui.button(icon='chevron_left', on_click=lambda: on_month(-1))
                    .props('flat round')
                    .mark('previous-month')
                )
                prev.props['aria-label'] = _('Previous month')
                prev.set_enabled(month > today.replace(day=1) and not loading)
                after = (
                    ui.button(icon='chevron_right', on_click=lambda: on_month(1)).props('flat round').mark('next-month')
                )
                after.props['aria-label'] = _('Next month')
                after.set_enabled(not loading)
        # a group of day buttons (role=grid would require rows and gridcells, which buttons are not)
        with ui.grid(columns=7).classes('w-full gap-1 justify-items-center').props('role=group') as grid:
            grid.props['aria-label'] = _('Days of {month}', month=t.month(month))
            for name in t.weekdays():
                ui.label(name).classes('text-xs font-medium text-slate-600 uppercase').props('aria-hidden=true').mark(
                    'weekday'
                )
            for _blank in range(month.weekday()):
                ui.element('div')
            for day in _days(month):
                button = ui.button(str(day.day), on_click=lambda d=day: on_select(d)).classes(design.DAY)
                style_day(
                    button.mark(f'day-{day.isoformat()}'),
                    day,
                    free_days.get(day, 0),
                    day == selected,
                    day < today or loading,
                    t,
                )
                buttons[day] = button
    return buttons


def style_day(button: ui.button, day: date, free: int, selected: bool, past: bool, t: Translator = ENGLISH) -> None:
    """Set a day button's look, accessible name and state from its number of free times."""
    count = t.ngettext('{count} free time', '{count} free times', free) if free else t.gettext('no free times')
    label = f'{t.day(day)}, {count}'
    button.props(remove='unelevated flat color text-color')
    button.classes(remove='font-bold')
    if selected:
        button.props('unelevated color=primary')
    elif free and not past:
        button.props('unelevated color=blue-1 text-color=primary').classes('font-bold')
    else:
        button.props('flat text-color=grey-7')
    button.props(f'aria-pressed={"true" if selected else "false"}')
    button.props['aria-label'] = label
    button.set_enabled(bool(free) and not past)


def _days(month: date) -> list[date]:
    count = calendar.monthrange(month.year, month.month)[1]
    return [month + timedelta(days=i) for i in range(count)]
