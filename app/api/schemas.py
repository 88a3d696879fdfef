"""Request bodies of the JSON API (responses are the services' JSON shapes)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from app.errors import InvalidInput
from services import validation


def _line(field: str, max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return validation.single_line(value, field, max_length)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
    return AfterValidator(check)


def _email(value: str) -> str:
    try:
        return validation.email(value)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 at +23:59, year 9999 at -23:59: no such instant in UTC
        raise ValueError('must be a time between the years 1 and 9999 in UTC') from None


# An aware time, converted to UTC on the way in (so no later arithmetic meets an unrepresentable instant).
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]


class Strict(BaseModel):
    model_config = ConfigDict(extra='forbid')


class BookingRequest(Strict):
    start: Instant
    name: Annotated[str, _line('Name', 120)]
    email: Annotated[str, AfterValidator(_email)]
    timezone: Annotated[str, Field(max_length=64)]
    notes: Annotated[str, Field(max_length=2000)] = ''
    answers: dict[str, Any] = Field(default_factory=dict, max_length=20)


class CancelRequest(Strict):
    reason: Annotated[str, Field(max_length=1000)] = ''


class TokenCancelRequest(CancelRequest):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class RescheduleRequest(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]
    start: Instant


class NotificationKindChange(Strict):
    enabled: bool | None = None
    subject: str | None = Field(default=None, max_length=200)
    message: str | None = Field(default=None, max_length=2000)


class NotificationSettingsRequest(Strict):
    kinds: dict[str, NotificationKindChange] | None = None
    reminder_offsets_minutes: list[int] | None = Field(default=None, max_length=5)


class ProposalRequest(Strict):
    start: Instant
    message: Annotated[str, Field(max_length=1000)] = ''


class TokenRequest(Strict):
    token: Annotated[str, Field(min_length=1, max_length=200)]
