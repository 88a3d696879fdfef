"""Pick a time: the invitee's zone, 12/24-hour clock, a month calendar and the chosen day's free times.

Data arrives through callbacks (`load`, `find_next`), so the same picker books, reschedules and previews.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

from app.i18n import ENGLISH, Translator
from components import design
from components.clock import format_day, format_time
from components.headings import heading
from components.month_calendar import month_calendar, style_day
from components.timezone_select import timezone_select
from services.slots import Slot


@dataclass(frozen=True, slots=True)
class MonthSlots:
    """The free times of one month of the invitee's local dates, or why none could be checked."""

    days: dict[date, list[Slot]] = field(default_factory=dict)
    degraded: str = ''


def _counts(data: MonthSlots) -> dict[date, int]:
    return {day: len(found) for day, found in data.days.items()}


class TimeButton(TextElement):
    """A time's button: a native <button>, one light element. Every open page builds a day's worth of them when a
    live update moves it to another day, so they cost a fraction of Quasar's button (six mixins, each observed)."""

    def __init__(self, text: str, on_click: Callable[[], Any]) -> None:
        super().__init__(tag='button', text=text)
        self._props['type'] = 'button'
        self.on('click', lambda _: on_click(), [])


class SlotPicker:
    """The interactive picker; call `reload()` when the host's bookings change."""

    def __init__(
        self,
        *,
        zone: str,
        load: Callable[[date, str], Awaitable[MonthSlots]],
        find_next: Callable[[date, str], Awaitable[date | None]],
        on_pick: Callable[[Slot, str], Any],
        clock24: bool = True,
        on_view: Callable[[], Any] | None = None,
        t: Translator = ENGLISH,
    ) -> None:
        self.zone, self.clock24, self.t = zone, clock24, t
        _ = t.gettext
        self.load, self.find_next, self.on_pick = load, find_next, on_pick
        self.on_view = on_view or (lambda: None)  # the chosen day, zone or clock changed (pages keep it in the URL)
        self.month = self._today().replace(day=1)
        self.selected: date | None = None
        self.data = MonthSlots()
        self.loading, self.loaded_once = True, False
        self.day_buttons: dict[date, ui.button] = {}
        self.time_buttons: dict[datetime, TimeButton] = {}
        with ui.column().classes('w-full gap-4') as self.root:
            with ui.row().classes('w-full items-center gap-3'):
                self.zone_select = timezone_select(
                    zone, self.set_zone, now=datetime.now(timezone.utc), clock24=clock24, t=t
                )
                clock = (
                    ui.toggle(
                        {False: _('12h'), True: _('24h')}, value=clock24, on_change=lambda e: self.set_clock(e.value)
                    )
                    .props('no-caps')
                    .mark('clock-format')
                )
                clock.props['aria-label'] = _('Clock format')
            self.banner = ui.column().classes('w-full')
            with ui.row().classes('w-full gap-6 items-start'):
                # a long day of times scrolls past the calendar on a desktop: keep the calendar in view
                self.calendar_box = ui.column().classes('w-full sm:w-80 gap-2 sm:sticky sm:top-20')
                self.times_box = ui.column().classes('flex-1 min-w-[12rem] gap-2')
        self._render()

    def slots_of_selected_day(self) -> list[Slot]:
        return self.data.days.get(self.selected, []) if self.selected else []

    def is_free(self, slot: Slot) -> bool:
        return any(s.start == slot.start for day in self.data.days.values() for s in day)

    async def reload(self, *, quiet: bool = False) -> None:
        """Fetch the month's free times again; `quiet` (live updates) shows no spinner and redraws only changes."""
        if not quiet:
            self.loading = True
            self._render_times()
        before, before_day, before_selected = self.data, self.slots_of_selected_day(), self.selected
        data = await self.load(self.month, self.zone)
        if self.root.is_deleted:  # the page replaced the picker while its times were loading (a move, say)
            return
        was_loading, self.loading, self.data = self.loading, False, data
        if self.selected not in data.days:
            free = [d for d in sorted(data.days) if d.month == self.month.month]
            self.selected = free[0] if free else None
        if not quiet or was_loading or before.degraded != data.degraded or not self.day_buttons:
            self._render()
            return
        self._restyle_changed_days(_counts(before), before_selected)
        now_day = self.slots_of_selected_day()
        if (
            self.selected == before_selected
            and now_day
            and set(now_day) < set(before_day)
            and set(self.time_buttons) == {s.start for s in before_day}
            and not any(b.is_deleted for b in self.time_buttons.values())
        ):
            for slot in set(before_day) - set(now_day):  # a time was taken: remove just its button
                self.time_buttons.pop(slot.start).delete()
        elif now_day != before_day or self.selected != before_selected:
            self._render_times()

    def _restyle_changed_days(self, before: dict[date, int], before_selected: date | None) -> None:
        """A live change touches a day or two: update those buttons in place instead of redrawing the month."""
        now, today = _counts(self.data), self._today()
        for day, button in self.day_buttons.items():
            if before.get(day, 0) != now.get(day, 0) or day in (self.selected, before_selected):
                style_day(button, day, now.get(day, 0), day == self.selected, day < today, self.t)

    async def set_zone(self, zone: str) -> None:
        if zone != self.zone:
            self.zone = zone
            self.on_view()
            await self.reload()

    def set_clock(self, clock24: bool) -> None:
        self.clock24 = clock24
        self.on_view()
        self._render_times()

    async def change_month(self, step: int) -> None:
        year, month = divmod(self.month.month - 1 + step, 12)
        self.month = date(self.month.year + year, month + 1, 1)
        self.selected = None
        await self.reload()

    async def jump_to(self, day: date) -> None:
        self.month, self.selected = day.replace(day=1), day
        await self.reload()

    def select_day(self, day: date) -> None:
        before, self.selected = self.selected, day
        self.on_view()
        if not self.day_buttons:
            self._render()
            return
        self._restyle_changed_days(_counts(self.data), before)
        self._render_times()
        # on a phone the times are below the calendar: bring them into view
        self.root.client.run_javascript(
            f'if (window.innerWidth < 640) document.getElementById("c{self.times_box.id}")'
            '?.scrollIntoView({behavior: "smooth", block: "start"})'
        )

    def _today(self) -> date:
        return datetime.now(ZoneInfo(self.zone)).date()

    def _render(self) -> None:
        self.banner.clear()
        if self.data.degraded:
            with self.banner:
                ui.label(self.t.gettext(self.data.degraded)).classes(design.WARNING).props('role=alert').mark(
                    'degraded'
                )
        self.calendar_box.clear()
        self.day_buttons = {}
        if self.loading and not self.loaded_once:
            self._render_times()  # the first HTML stays light: the calendar comes with the first free times
            return
        self.loaded_once = True
        with self.calendar_box:
            self.day_buttons = month_calendar(
                month=self.month,
                free_days=_counts(self.data),
                selected=self.selected,
                today=self._today(),
                on_select=self.select_day,
                on_month=self.change_month,
                loading=self.loading,
                t=self.t,
            )
        self._render_times()

    def _render_times(self) -> None:
        self.times_box.clear()
        self.time_buttons = {}
        t, _ = self.t, self.t.gettext
        with self.times_box:
            if self.loading:
                with ui.row().classes('items-center gap-2').props('role=status aria-live=polite'):
                    ui.spinner(size='md')
                    ui.label(_('Loading free times…')).mark('loading')
                return
            if self.selected is None:
                self._render_empty_month()
                return
            heading(format_day(self.selected, t), 3, 'text-base font-semibold m-0').mark('selected-day')
            zone = ZoneInfo(self.zone)
            days: dict[date, str] = {}  # a day's name, formatted once for all its times
            with ui.column().classes('w-full gap-2').props('role=group') as times:
                times.props['aria-label'] = _('Free times')
                for slot in self.slots_of_selected_day():
                    local = slot.start.astimezone(zone)
                    text = format_time(local, self.clock24, t)
                    if slot.seats_left is not None:  # a class or webinar: how many can still join
                        text += ' · ' + t.ngettext('{count} seat left', '{count} seats left', slot.seats_left)
                    day = days.get(local.date()) or days.setdefault(local.date(), format_day(local.date(), t))
                    button = TimeButton(text, partial(self._picked, slot)).classes(design.TIME)
                    button.props['aria-label'] = f'{day}, {text}'
                    self.time_buttons[slot.start] = button.mark('time')

    def _picked(self, slot: Slot) -> Any:
        return self.on_pick(slot, self.zone)

    def _render_empty_month(self) -> None:
        if self.data.degraded:
            return
        _ = self.t.gettext
        ui.label(_('No free times in {month}.', month=self.t.month(self.month))).classes(design.SUBTLE).mark(
            'empty-month'
        )

        async def jump() -> None:
            button.props('loading')
            last_day = (self.month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            found = await self.find_next(last_day, self.zone)
            if found is None:
                button.delete()
                with self.times_box:
                    ui.label(_('There are no free times in the booking window.')).classes(design.SUBTLE).mark(
                        'no-times'
                    )
                return
            await self.jump_to(found)

        button = ui.button(_('Jump to the next free day'), on_click=jump).props('outline no-caps').mark('jump')
