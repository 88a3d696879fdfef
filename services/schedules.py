"""Schedules: weekly hours and date overrides, stored as the contract's JSON and read by the slot engine."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel import Session, col, select

from app import db, events
from app.errors import Conflict, NotFound
from app.models import EventType, Schedule
from services import slots, validation

WEEKDAYS = ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday')
CLOCK = re.compile(r'^([01]\d|2[0-3]):([0-5]\d)$|^24:00$')


class IntervalIn(BaseModel):
    start: str
    end: str

    @model_validator(mode='after')
    def _ordered(self) -> IntervalIn:
        for value in (self.start, self.end):
            if not CLOCK.match(value):
                raise ValueError(f"times are HH:MM between 00:00 and 24:00, not '{value[:10]}'")
        if _minutes(self.end) <= _minutes(self.start):
            raise ValueError(f'end {self.end} must be after start {self.start}')
        return self


class OverrideIn(BaseModel):
    date: date
    intervals: list[IntervalIn] = Field(default_factory=list, max_length=12)

    @field_validator('intervals')
    @classmethod
    def _no_overlap(cls, value: list[IntervalIn]) -> list[IntervalIn]:
        return _check_overlaps(value)


class ScheduleInput(BaseModel):
    """A schedule as the API and the dashboard send it."""

    model_config = ConfigDict(extra='forbid')

    name: Annotated[str, Field(min_length=1, max_length=80), validation.line('Name', 80)] = 'Working hours'
    timezone: str
    is_default: bool = False
    weekly: dict[str, list[IntervalIn]] = Field(default_factory=dict)
    overrides: list[OverrideIn] = Field(default_factory=list, max_length=400)

    @field_validator('weekly')
    @classmethod
    def _weekdays(cls, value: dict[str, list[IntervalIn]]) -> dict[str, list[IntervalIn]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f'unknown weekday {unknown[0]!r}; use monday..sunday')
        return {day: _check_overlaps(value[day], day.title()) for day in WEEKDAYS if day in value}

    @field_validator('overrides')
    @classmethod
    def _unique_dates(cls, value: list[OverrideIn]) -> list[OverrideIn]:
        if len({o.date for o in value}) != len(value):
            raise ValueError('each date may have one override')
        return sorted(value, key=lambda o: o.date)


def default_schedule_input(zone: str) -> ScheduleInput:
    """Monday to Friday, 09:00-17:00, in the host's zone."""
    nine_to_five = [IntervalIn(start='09:00', end='17:00')]
    return ScheduleInput(timezone=zone, is_default=True, weekly={day: nine_to_five for day in WEEKDAYS[:5]})


def list_schedules(*, session: Session, host_id: int) -> list[Schedule]:
    return list(session.exec(select(Schedule).where(Schedule.host_id == host_id).order_by(col(Schedule.id))))


def get_schedule(*, session: Session, host_id: int, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id) if validation.storable_id(schedule_id) else None
    if schedule is None or schedule.host_id != host_id:
        raise NotFound('Schedule not found')
    return schedule


def default_schedule(*, session: Session, host_id: int) -> Schedule:
    found = session.exec(select(Schedule).where(Schedule.host_id == host_id, Schedule.is_default)).first()
    if found is None:
        raise NotFound('The host has no default schedule')
    return found


def create_schedule(*, session: Session, host_id: int, data: ScheduleInput) -> Schedule:
    """Add a schedule; a new default replaces the old default."""
    schedule = Schedule(host_id=host_id, name=data.name, timezone=validation.time_zone(data.timezone))
    _apply(session, schedule, data)
    session.add(schedule)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))
    return schedule


def update_schedule(*, session: Session, host_id: int, schedule_id: int, data: ScheduleInput) -> Schedule:
    schedule = get_schedule(session=session, host_id=host_id, schedule_id=schedule_id)
    if schedule.is_default and not data.is_default:
        raise Conflict('A host always has a default schedule; make another one the default instead')
    schedule.name, schedule.timezone = data.name, validation.time_zone(data.timezone)
    _apply(session, schedule, data)
    session.add(schedule)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))
    return schedule


def delete_schedule(*, session: Session, host_id: int, schedule_id: int) -> None:
    schedule = get_schedule(session=session, host_id=host_id, schedule_id=schedule_id)
    if schedule.is_default:
        raise Conflict('The default schedule cannot be deleted; make another one the default first')
    in_use = session.exec(select(EventType.title).where(EventType.schedule_id == schedule.id)).first()
    if in_use is not None:
        raise Conflict(f"The schedule is used by the event type '{in_use}'")
    session.delete(schedule)
    session.flush()
    db.after_commit(session, events.SettingsChanged(host_id))


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    """The contract's JSON shape."""
    return {
        'id': schedule.id,
        'name': schedule.name,
        'timezone': schedule.timezone,
        'is_default': schedule.is_default,
        'weekly': schedule.weekly,
        'overrides': schedule.overrides,
    }


def engine_schedule(schedule: Schedule) -> slots.Schedule:
    """The slot engine's view of a stored schedule."""
    return _engine_schedule(schedule.timezone, _freeze(schedule.weekly), _freeze(schedule.overrides))


@lru_cache(maxsize=512)
def _engine_schedule(zone: str, weekly: tuple, overrides: tuple) -> slots.Schedule:
    def intervals(items: tuple) -> tuple[slots.WallInterval, ...]:
        return tuple(slots.WallInterval(_minutes(dict(i)['start']), _minutes(dict(i)['end'])) for i in items)

    by_day = {WEEKDAYS.index(day): intervals(items) for day, items in weekly}
    by_date = {date.fromisoformat(dict(o)['date']): intervals(dict(o)['intervals']) for o in overrides}
    return slots.Schedule(zone, by_day, by_date)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _apply(session: Session, schedule: Schedule, data: ScheduleInput) -> None:
    schedule.weekly = {day: [i.model_dump() for i in items] for day, items in data.weekly.items()}
    schedule.overrides = [
        {'date': o.date.isoformat(), 'intervals': [i.model_dump() for i in o.intervals]} for o in data.overrides
    ]
    if data.is_default and not schedule.is_default:
        for other in session.exec(select(Schedule).where(Schedule.host_id == schedule.host_id, Schedule.is_default)):
            other.is_default = False
            session.add(other)
    schedule.is_default = schedule.is_default or data.is_default


def _check_overlaps(intervals: list[IntervalIn], day: str = '') -> list[IntervalIn]:
    ordered = sorted(intervals, key=lambda i: _minutes(i.start))
    for a, b in pairwise(ordered):
        if _minutes(b.start) < _minutes(a.end):
            raise ValueError(f'{day + ": " if day else ""}{a.start}-{a.end} overlaps {b.start}-{b.end}')
    return ordered


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(':')
    return int(hours) * 60 + int(minutes)
