"""The booking use cases, one function each, called alike by the JSON API and the pages (and by jobs).

Each owns its unit of work: it asks the host's calendars before any write lock is taken, opens the write
transaction, runs the rules and the one booking transition (`services.bookings`), and commits once; the change is
published after the commit. Manage-link guesses are counted here, per booking and client address, so every edge
shares the same guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.config import get_settings
from app.db import session_scope
from app.errors import InvalidInput, NotFound, RateLimited, SlotUnavailable, Unavailable
from app.i18n import N_, supported
from app.metrics import count_booking
from app.models import Booking, EventType, utcnow
from services import (
    attempts,
    availability,
    booking_limits,
    bookings,
    kept_settings,
    offer_cache,
    public,
    team_use_cases,
    validation,
)
from services.bookings import Invitee, Receipt
from services.calendars import busy

TOO_MANY_GUESSES = N_('Too many attempts; please wait a few minutes and use the link from your e-mail.')


# --- invitees ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """What a booking link names, as the link's read path keeps it: its event type, that type's host and slug."""

    event_type_id: int
    host_id: int
    slug: str


def link(*, username: str, slug: str) -> Link:
    """The bookable event type behind `/{username}/{slug}` (NotFound otherwise), from the plan the link's read
    path keeps (the booking's write proves the event type current under its lock, `kept_settings`, and checks it
    still has this slug)."""

    def load() -> offer_cache.Plan:  # only when the plan is not kept: no session otherwise
        with session_scope() as session:
            return offer_cache.load_plan(session, username, slug)

    plan = offer_cache.get().plan(username, slug, load)
    return Link(plan.event_type_id, plan.host_id, plan.event_type.slug)


def book(
    *,
    event_type_id: int,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    address: str,
    idempotency_key: str | None = None,
    duration: int | None = None,
    host_id: int | None = None,
    slug: str | None = None,
) -> Receipt:
    """Book `start` if the rules offer it now; counted against the client address's booking rate (a replay of
    the same request counts nothing), and in the metrics by outcome.

    `host_id`: the event type's host as the caller knows it; a host known to have had no calendar connection
    moments ago is then booked without first reading to ask calendars (should one have been connected meanwhile,
    it is asked and the booking tried once more). `slug`: the link's, when the caller resolved it from memory;
    an event type that no longer has it is not booked (NotFound)."""
    return count_booking(
        lambda: _book(
            event_type_id=event_type_id,
            start=start,
            invitee=invitee,
            now=now,
            address=address,
            idempotency_key=idempotency_key,
            duration=duration,
            host_id=host_id,
            slug=slug,
        ),
        lambda r: r.replayed,
    )


def _book(
    *,
    event_type_id: int,
    start: datetime,
    invitee: Invitee,
    now: datetime,
    address: str,
    idempotency_key: str | None,
    duration: int | None,
    host_id: int | None,
    slug: str | None,
) -> Receipt:
    start = _offerable(start)

    def warm() -> None:
        with session_scope() as session:  # the host's calendars are asked before the write lock is taken
            availability.warm_calendars(host_id=_bookable(session, event_type_id).host_id, start=start, session=session)

    def write() -> Receipt:
        with session_scope(write=True) as session:
            counted = booking_limits.admit(session, address=address, rate=get_settings().booking_rate, now=now)
            owner = host_id if host_id is not None else _bookable(session, event_type_id).host_id
            event_type = kept_settings.for_booking(session, host_id=owner, event_type_id=event_type_id).event_type
            if not event_type.active:
                raise NotFound('This meeting can no longer be booked.')
            if slug is not None and event_type.slug.lower() != slug.lower():
                raise NotFound('This meeting can no longer be booked.')
            receipt = bookings.book_slot(
                session=session,
                event_type=event_type,
                start=start,
                invitee=invitee,
                now=now,
                idempotency_key=idempotency_key,
                warmed=True,
                duration=duration,
            )
            booking_limits.uncount(session, counted if receipt.replayed else None)
            return receipt

    if host_id is None or not busy.surely_without_calendars(host_id):
        warm()
        return write()
    try:
        return write()
    except Unavailable:  # a calendar connected moments ago, before this process heard of it: ask it, try again
        warm()
        return write()


def manage_view(*, uid: str, token: str, address: str, now: datetime) -> public.ManageView:
    """What the manage link shows; a right token always works, wrong ones are counted."""
    with session_scope() as session:
        _guarded(session, uid, token, address)
        return public.manage_view(session=session, uid=uid, token=token, now=now)


def cancel_by_token(*, uid: str, token: str, reason: str, now: datetime, address: str) -> Booking:
    with session_scope(write=True) as session:
        booking = _guarded(session, uid, token, address)
        return bookings.cancel_booking(session=session, booking=booking, reason=reason, now=now)


def reschedule_by_token(
    *, uid: str, token: str, start: datetime, now: datetime, address: str, reason: str = ''
) -> Booking:
    """Move the booking the manage link names; it keeps its time when the new one is refused. A wrong token is
    'not found' whatever the start."""
    if validation.within_calendar(start):
        availability.warm_for_booking(uid=uid, start=start)
        team_use_cases.warm_for_booking(uid=uid, start=start)  # a team booking: every member's calendars
    with session_scope(write=True) as session:
        booking = _guarded(session, uid, token, address)
        return bookings.reschedule_booking(
            session=session, booking=booking, start=_offerable(start), now=now, reason=reason
        )


def accept_proposal_by_token(*, uid: str, token: str, now: datetime, address: str) -> Booking:
    availability.warm_for_booking(uid=uid)
    team_use_cases.warm_for_booking(uid=uid)
    with session_scope(write=True) as session:
        booking = _guarded(session, uid, token, address)
        return bookings.accept_proposal(session=session, booking=booking, now=now)


def decline_proposal_by_token(*, uid: str, token: str, now: datetime, address: str) -> Booking:
    with session_scope(write=True) as session:
        booking = _guarded(session, uid, token, address)
        return bookings.decline_proposal(session=session, booking=booking, now=now)


def choose_language_by_token(*, uid: str, token: str, locale: str, now: datetime, address: str) -> str:
    """The invitee picked another language on the manage page: their later e-mails, reminders and invitations of
    this booking use it (messages still queued are written when they are sent). Returns the language kept."""
    chosen = supported(locale)
    if chosen is None:
        raise InvalidInput(f'Unknown language {locale!r}')
    with session_scope(write=True) as session:
        booking = _guarded(session, uid, token, address)
        if booking.locale != chosen:
            booking.locale, booking.updated_at = chosen, now
    return chosen


# --- hosts (the caller has checked who is signed in or which API key is used) -------------------------------


def cancel_as_host(*, host_id: int, uid: str, reason: str, now: datetime) -> Booking:
    with session_scope(write=True) as session:
        booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
        return bookings.cancel_booking(session=session, booking=booking, reason=reason, now=now)


def confirm_as_host(*, host_id: int, uid: str, now: datetime) -> Booking:
    """Confirm a pending request; its time is checked again against the host's calendars and bookings."""
    availability.warm_for_booking(uid=uid, current=True)
    with session_scope(write=True) as session:
        booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
        return bookings.confirm_booking(session=session, booking=booking, now=now)


def decline_as_host(*, host_id: int, uid: str, reason: str, now: datetime) -> Booking:
    with session_scope(write=True) as session:
        booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
        return bookings.decline_booking(session=session, booking=booking, reason=reason, now=now)


def decline_expired_requests(*, now: datetime) -> int:
    """Decline the pending requests whose start passed undecided (a job); the invitees are told."""
    with session_scope() as session:
        expired = bookings.expired_requests(session=session, now=now)
    for host_id, uid in expired:
        with session_scope(write=True) as session:
            booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
            bookings.decline_booking(
                session=session,
                booking=booking,
                now=now,
                reason='The host did not confirm the request before its start',
            )
    return len(expired)


def propose_as_host(*, host_id: int, uid: str, start: datetime, message: str, now: datetime) -> Booking:
    """Propose another offered time to the invitee (a far-off time is never offered: 409, after the ownership
    check, so another host's booking stays a 404)."""
    offered = validation.within_calendar(start)
    if offered:
        availability.warm_for_booking(uid=uid, start=start)
        team_use_cases.warm_for_booking(uid=uid, start=start)
    with session_scope(write=True) as session:
        booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
        if not offered:
            raise SlotUnavailable()
        return bookings.propose_time(session=session, booking=booking, start=start, message=message, now=now)


def erase_as_host(*, host_id: int, uid: str, now: datetime) -> Booking:
    with session_scope(write=True) as session:
        return bookings.erase_invitee(session=session, host_id=host_id, uid=uid, now=now)


# --- helpers ---------------------------------------------------------------------------------------------------


def _bookable(session: Session, event_type_id: int) -> EventType:
    event_type = session.get(EventType, event_type_id)
    if event_type is None or not event_type.active:
        raise NotFound('This meeting can no longer be booked.')
    return event_type


def _offerable(start: datetime) -> datetime:
    """A start in the years the app offers times in; one far off is simply not offered (409)."""
    if not validation.within_calendar(start):
        raise SlotUnavailable()
    return start


def _guarded(session: Session, uid: str, token: str, address: str) -> Booking:
    """The booking behind a right token, always; a wrong one is counted (per booking and address, in the
    database, outside this transaction: it must stay counted although this one rolls back) and refused with 404, or
    429 once over the limit."""
    try:
        return bookings.booking_for_token(session=session, uid=uid, token=token)
    except NotFound as wrong:
        refused = wrong
    session.rollback()  # let go of this transaction (and SQLite's write lock) before the count is written
    if attempts.wrong_token(uid=uid, address=address, now=utcnow()):
        raise RateLimited(TOO_MANY_GUESSES, retry_after=600) from None
    raise refused
