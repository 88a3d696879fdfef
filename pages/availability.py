"""`/availability`: the host's schedules (one default) with their time zone, weekly hours (several intervals a
day, copied to other days) and date overrides, plus a preview of what an invitee in a chosen zone sees next week."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from nicegui import ui
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session

from app.i18n import _
from components import design
from components.confirm import confirm
from components.headings import heading
from components.host_frame import host_frame
from components.slot_picker import format_day, format_time
from components.timezone_select import timezone_select
from pages.auth import now
from pages.signed_in import SignedIn, act, read, sign_in_first, signed_in
from services import availability, event_types, messages, schedules
from services.schedules import WEEKDAYS, ScheduleInput

DAY_NAMES = {day: day.title() for day in WEEKDAYS}
WEEK_ROW = (
    'w-full grid gap-x-2 gap-y-1 sm:gap-x-3 items-start grid-cols-[4.5rem_minmax(0,1fr)] '
    'sm:grid-cols-[7rem_minmax(0,1fr)_auto]'
)
TIME_FIELD = 'time-field min-w-0 flex-1 sm:flex-none sm:w-32'
# On a phone a tap on the field opens the system's time picker, so its clock icon only takes room from the time.
PHONE_TIME_CSS = (
    '@media (max-width: 639.98px) { .time-field input::-webkit-calendar-picker-indicator '
    '{ display: none } .time-field .q-field__control { padding: 0 8px } }'
)


def register() -> None:
    ui.page('/availability')(availability_page)


def _load(session: Session, host_id: int) -> dict[str, Any]:
    return {
        'schedules': [schedules.schedule_json(s) for s in schedules.list_schedules(session=session, host_id=host_id)],
        'event_types': {e.id: e.title for e in event_types.list_event_types(session=session, host_id=host_id)},
    }


async def availability_page(request: Request, schedule: int = 0) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    data = await read(who, _load)
    chosen = next((s for s in data['schedules'] if s['id'] == schedule), None) or next(
        (s for s in data['schedules'] if s['is_default']), data['schedules'][0] if data['schedules'] else None
    )
    ui.add_css(PHONE_TIME_CSS)
    with host_frame(_('Availability'), active='/availability', brand=who.host.brand_color):
        with ui.row().classes('w-full items-center justify-between'):
            heading(_('Availability'), 1, design.HEADLINE + ' m-0')
            ui.button(_('New schedule'), icon='add', on_click=lambda: _new_schedule(who)).props('outline no-caps').mark(
                'new-schedule'
            )
        if len(data['schedules']) > 1:
            with ui.row().classes('gap-2').mark('schedule-list'):
                for item in data['schedules']:
                    label = item['name'] + (' (default)' if item['is_default'] else '')
                    target = f'/availability?schedule={item["id"]}'
                    button = ui.button(label, on_click=lambda t=target: ui.navigate.to(t)).mark('schedule-tab')
                    button.props('no-caps ' + ('unelevated' if chosen and item['id'] == chosen['id'] else 'outline'))
        if chosen is not None:
            ScheduleEditor(who, chosen, on_saved=lambda: preview.refresh())
            preview = Preview(who, data['event_types'])
    return None


async def _new_schedule(who: SignedIn) -> None:
    created = await act(who, _create, who.host.timezone, done='Schedule created')
    if created:
        ui.navigate.to(f'/availability?schedule={created}')


def _create(session: Session, host_id: int, zone: str) -> int | None:
    data = schedules.default_schedule_input(zone).model_copy(update={'name': 'New schedule', 'is_default': False})
    return schedules.create_schedule(session=session, host_id=host_id, data=data).id


def _save(session: Session, host_id: int, schedule_id: int, data: dict[str, Any]) -> bool:
    schedules.update_schedule(
        session=session, host_id=host_id, schedule_id=schedule_id, data=ScheduleInput.model_validate(data)
    )
    return True


def _delete(session: Session, host_id: int, schedule_id: int) -> bool:
    schedules.delete_schedule(session=session, host_id=host_id, schedule_id=schedule_id)
    return True


class ScheduleEditor:
    def __init__(self, who: SignedIn, schedule: dict[str, Any], *, on_saved: Callable[[], Awaitable[None]]) -> None:
        self.who, self.id, self.on_saved = who, schedule['id'], on_saved
        self.weekly: dict[str, list[dict[str, str]]] = {
            d: [dict(i) for i in schedule['weekly'].get(d, [])] for d in WEEKDAYS
        }
        self.overrides: list[dict[str, Any]] = [dict(o) for o in schedule['overrides']]
        with ui.card().classes(design.CARD).mark('schedule'):
            with ui.row().classes('w-full items-center gap-3'):
                self.name = (
                    ui.input(_('Schedule name'), value=schedule['name'])
                    .props('outlined')
                    .classes('flex-grow')
                    .mark('schedule-name')
                )
                self.zone = timezone_select(schedule['timezone'], lambda _: None, now=datetime.now(timezone.utc))
                self.default = ui.switch(_('Default'), value=schedule['is_default']).mark('schedule-default')
            heading(_('Weekly hours'), 2, design.TITLE + ' m-0')
            self.week_box = ui.column().classes('w-full gap-2').mark('weekly')
            heading(_('Date overrides'), 2, design.TITLE + ' m-0 mt-2')
            ui.label(_('Days off, or different hours on particular dates.')).classes(design.SUBTLE)
            self.override_box = ui.column().classes('w-full gap-2').mark('overrides')
            with ui.row().classes('items-center gap-2'):
                self.new_date = (
                    ui.input(_('Date'), placeholder=_('YYYY-MM-DD'))
                    .props('outlined dense type=date')
                    .mark('override-date')
                )
                ui.button(_('Add override'), on_click=self._add_override).props('flat no-caps').mark('add-override')
            self.error = ui.label().classes('text-red-700 whitespace-pre-line').props('role=alert').mark('error')
            self.dialogs = ui.element('div')
            with ui.row().classes('gap-2'):
                ui.button(_('Save schedule'), on_click=self.save).props('unelevated no-caps').mark('save-schedule')
                if not schedule['is_default']:
                    ui.button(_('Delete schedule'), on_click=self.delete).props('flat no-caps color=negative').mark(
                        'delete-schedule'
                    )
        self._render_week()
        self._render_overrides()

    def _render_week(self) -> None:
        self.week_box.clear()
        with self.week_box:
            for day in WEEKDAYS:
                # one line per day: on a phone the day's buttons sit under its (short) name, beside its hours
                with ui.element('div').classes(WEEK_ROW).mark(f'day-{day}'):
                    with ui.element('div').classes('pt-2 font-medium'):
                        ui.label(DAY_NAMES[day][:3]).classes('sm:hidden').props('aria-hidden=true')
                        ui.label(DAY_NAMES[day]).classes('max-sm:sr-only')
                    with ui.column().classes('gap-1 min-w-0 max-sm:row-span-2'):
                        if not self.weekly[day]:
                            ui.label(_('Unavailable')).classes(design.SUBTLE + ' pt-2')
                        for index, interval in enumerate(self.weekly[day]):
                            self._interval_row(self.weekly[day], index, interval, self._render_week)
                    with ui.row().classes('gap-0 flex-nowrap'):
                        ui.button(
                            icon='add', on_click=lambda d=day: self._add(self.weekly[d], self._render_week)
                        ).props(f'flat round dense aria-label="Add hours on {DAY_NAMES[day]}"').tooltip(
                            _('Add hours on {day}', day=DAY_NAMES[day])
                        ).mark(f'add-{day}')
                        ui.button(icon='content_copy', on_click=lambda d=day: self._copy(d)).props(
                            f'flat round dense aria-label="Copy {DAY_NAMES[day]} to every weekday"'
                        ).tooltip(_('Copy {day} to every weekday', day=DAY_NAMES[day])).mark(f'copy-{day}')

    def _interval_row(self, intervals: list[dict[str, str]], index: int, interval: dict[str, str], redraw: Any) -> None:
        with ui.row().classes('w-full items-center gap-1 sm:gap-2 flex-nowrap').mark('interval'):
            ui.input(
                _('From'), value=interval['start'], on_change=lambda e: interval.__setitem__('start', e.value)
            ).props('outlined dense type=time').classes(TIME_FIELD).mark('interval-start')
            ui.input(_('To'), value=interval['end'], on_change=lambda e: interval.__setitem__('end', e.value)).props(
                'outlined dense type=time'
            ).classes(TIME_FIELD).mark('interval-end')
            ui.button(icon='close', on_click=lambda: (intervals.pop(index), redraw())).props(
                'flat round dense aria-label="Remove these hours"'
            ).tooltip(_('Remove these hours')).mark('remove-interval')

    def _add(self, intervals: list[dict[str, str]], redraw: Any) -> None:
        start = max((i['end'] for i in intervals), default='09:00')
        if start >= '23:00':
            ui.notify(_('There is no room left on this day for more hours'), type='warning')
            return
        hour = int(start[:2]) + 1
        intervals.append({'start': start, 'end': f'{hour:02d}:{start[3:]}' if hour < 24 else '23:59'})
        redraw()

    def _copy(self, day: str) -> None:
        for other in WEEKDAYS[:5]:
            if other != day:
                self.weekly[other] = [dict(i) for i in self.weekly[day]]
        self._render_week()
        ui.notify(f"{DAY_NAMES[day]}'s hours copied to Monday to Friday (save to keep them)")

    def _add_override(self) -> None:
        try:
            day = date.fromisoformat(self.new_date.value or '')
        except ValueError:
            ui.notify(_('Pick a date first'), type='warning')
            return
        if any(o['date'] == day.isoformat() for o in self.overrides):
            ui.notify(_('That date already has an override'), type='warning')
            return
        self.overrides.append({'date': day.isoformat(), 'intervals': []})
        self.overrides.sort(key=lambda o: o['date'])
        self._render_overrides()

    def _remove_override(self, override: dict[str, Any]) -> None:
        self.overrides.remove(override)
        self._render_overrides()

    def _render_overrides(self) -> None:
        self.override_box.clear()
        with self.override_box:
            if not self.overrides:
                ui.label(_('No overrides.')).classes(design.SUBTLE)
            for override in self.overrides:
                with ui.row().classes('w-full items-start gap-3').mark('override'):
                    ui.label(format_day(date.fromisoformat(override['date']))).classes(
                        'w-full sm:w-56 pt-2 font-medium'
                    )
                    with ui.column().classes('gap-1 flex-grow min-w-0'):
                        if not override['intervals']:
                            ui.label(_('Unavailable all day')).classes(design.SUBTLE + ' pt-2')
                        for index, interval in enumerate(override['intervals']):
                            self._interval_row(override['intervals'], index, interval, self._render_overrides)
                    ui.button(
                        _('Add hours'), on_click=lambda o=override: self._add(o['intervals'], self._render_overrides)
                    ).props('flat dense no-caps')
                    ui.button(icon='delete', on_click=lambda o=override: self._remove_override(o)).props(
                        'flat round dense aria-label="Remove this override"'
                    ).tooltip(_('Remove this override'))

    def data(self) -> dict[str, Any]:
        return {
            'name': self.name.value or '',
            'timezone': self.zone.value,
            'is_default': self.default.value,
            'weekly': {d: i for d, i in self.weekly.items() if i},
            'overrides': self.overrides,
        }

    async def save(self) -> None:
        data = self.data()
        try:
            ScheduleInput.model_validate(data)
        except ValidationError as exc:
            self.error.text = '\n'.join(_reason(e, data) for e in exc.errors())
            return
        self.error.text = ''
        if await act(self.who, _save, self.id, data, done='Schedule saved'):
            await self.on_saved()  # the preview shows the saved hours at once

    async def delete(self) -> None:
        async def delete() -> None:
            if await act(self.who, _delete, self.id, done='Schedule deleted'):
                ui.navigate.to('/availability')

        confirm(
            self.dialogs,
            title=_('Delete this schedule?'),
            action='Delete',
            mark='confirm-delete-schedule',
            text=_('Event types that use it must be moved to another schedule first.'),
            on_confirm=delete,
        )


FIELD_NAMES = {
    'name': 'Schedule name',
    'timezone': 'Time zone',
    'weekly': 'Weekly hours',
    'overrides': 'Date overrides',
}


def _reason(error: ErrorDetails, data: dict[str, Any]) -> str:
    """A mistake as the sentence the event-type editor and the API use, led by the day or date it is on."""
    message, loc = messages.sentence(error, FIELD_NAMES), error['loc']
    if len(loc) > 1 and loc[0] == 'weekly':
        return f'{DAY_NAMES.get(str(loc[1]), str(loc[1]))}: {message}'
    if len(loc) > 1 and loc[0] == 'overrides' and isinstance(loc[1], int) and loc[1] < len(data['overrides']):
        return f'{_override_day(str(data["overrides"][loc[1]].get("date", "")))}: {message}'
    return message


def _override_day(iso: str) -> str:
    try:
        return format_day(date.fromisoformat(iso))
    except ValueError:
        return iso


class Preview:
    """What an invitee in a chosen zone would be offered next week, for a chosen event type."""

    def __init__(self, who: SignedIn, types: dict[int, str]) -> None:
        self.who, self.types = who, types
        with ui.card().classes(design.CARD).mark('preview'):
            heading(_('Preview: what invitees see next week'), 2, design.TITLE + ' m-0')
            if not types:
                ui.label(_('Create an event type to preview its free times.')).classes(design.SUBTLE)
                return
            with ui.row().classes('w-full items-center gap-3'):
                self.event_type = (
                    ui.select(types, value=next(iter(types)), label=_('Event type'), on_change=lambda _: self.refresh())
                    .props('outlined dense')
                    .classes('w-64')
                    .mark('preview-event-type')
                )
                self.zone = timezone_select(who.host.timezone, lambda _: self.refresh(), now=datetime.now(timezone.utc))
            self.box = ui.column().classes('w-full gap-1').mark('preview-times')
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        if not self.types:
            return
        zone = self.zone.value or self.who.host.timezone
        days = await read(self.who, _next_week, int(self.event_type.value), zone)
        self.box.clear()
        with self.box:
            if not any(days.values()):
                ui.label(_('No free times next week.')).classes(design.SUBTLE)
            for day, starts in days.items():
                with ui.row().classes('gap-2 items-baseline'):
                    ui.label(format_day(day)).classes('w-56 font-medium')
                    ui.label(
                        ', '.join(format_time(s.astimezone(ZoneInfo(zone)), self.who.host.clock24) for s in starts)
                        or '—'
                    ).classes('text-slate-700').mark(f'preview-day preview-{WEEKDAYS[day.weekday()]}')


def _next_week(session: Session, host_id: int, event_type_id: int, zone: str) -> dict[date, list[datetime]]:
    event_type = event_types.get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
    today = now().astimezone(ZoneInfo(zone)).date()
    monday = today + timedelta(days=7 - today.weekday())
    found = availability.slots_by_local_day(
        session=session, event_type=event_type, first=monday, last=monday + timedelta(days=6), zone=zone, now=now()
    )
    return {monday + timedelta(days=n): [s.start for s in found.get(monday + timedelta(days=n), [])] for n in range(7)}
