"""Drain the outbox: claim due messages, render them from the booking as recorded, send, record the outcome."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import crypto
from app.config import Settings
from app.db import session_scope
from app.i18n import DEFAULT_LOCALE, translator
from app.models import (
    BOOKING_CONFIRMED,
    Booking,
    BookingStatus,
    CalendarConnection,
    EventType,
    Host,
    OutboxMessage,
    Team,
    utcnow,
)
from services import bookings, calendar_links, webhooks
from services.calendars import busy as calendar_busy
from services.calendars import events as calendar_events
from services.calendars import status as calendar_status
from services.calendars.errors import ProviderError, ReconnectNeeded
from services.notifications import outbox
from services.notifications.ledger import LEDGER
from services.notifications.mailers import DeliveryError, Mailer
from services.notifications.preferences import KINDS, preference
from services.notifications.templates import Letter, defang, render
from services.public import LOCATION_LABELS
from services.webhooks import sender as webhook_sender

log = logging.getLogger(__name__)
# A confirmation or reschedule notice still waiting (for a retry, say) when the booking changes again is not sent:
# the later message says what holds now.
SUPERSEDED_BY_LATER_CHANGES = frozenset({'confirmation', 'reschedule', 'host_booking', 'host_reschedule'})


@dataclass(slots=True)
class DrainStats:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.retried + self.failed


def drain(
    *,
    mailer: Mailer,
    settings: Settings,
    batch: int = 200,
    senders: int = 4,
    worker: str = outbox.WORKER_ID,
    max_batches: int | None = None,
    stop: threading.Event | None = None,
) -> DrainStats:
    """Send every message that is due now, batch by batch, until none is left (or `max_batches`).

    `senders` threads deliver at once, so one slow SMTP or HTTP round trip does not hold up the rest. Each outcome
    is noted in this process the moment the mailer returns; a pass that fails (the database went away) records
    what it handed over and takes back its other claims at once, or the next pass does before it claims anything.
    Once `stop` is set (shutdown), the messages being sent finish and are recorded, and the rest are given back.
    """
    stats = DrainStats()
    # An idempotent mailer (file outbox, Resend's idempotency key) may record a batch at once; SMTP records every
    # message as soon as it is sent, so a crash of the process can repeat at most the messages in flight.
    idempotent = getattr(mailer, 'idempotent', False)
    record_every = batch if idempotent else 1
    if not idempotent:  # claim only what the senders can finish well within the claim's lease
        batch = senders
    LEDGER.settle(worker)
    pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix='outbox')
    try:
        batches = 0
        stop = stop or threading.Event()
        while (max_batches is None or batches < max_batches) and not stop.is_set():
            batches += 1
            if not _one_batch(
                pool, stats, mailer, settings, worker=worker, batch=batch, record_every=record_every, stop=stop
            ):
                break
        if stop.is_set():
            LEDGER.record(worker, release=True)
    except Exception:
        pool.shutdown(cancel_futures=True)  # the messages in flight finish (and are noted); no more start
        LEDGER.take_back(worker)
        raise
    finally:
        pool.shutdown()
    return stats


def _one_batch(
    pool: ThreadPoolExecutor,
    stats: DrainStats,
    mailer: Mailer,
    settings: Settings,
    *,
    worker: str,
    batch: int,
    record_every: int,
    stop: threading.Event,
) -> bool:
    """Claim, send and record one batch; False when nothing was due. Messages not started when `stop` is set are
    left claimed (the caller gives them back)."""
    with session_scope(write=True) as session:
        ids = outbox.claim(session, now=utcnow(), limit=batch, worker=worker)
    if not ids:
        return False
    with session_scope() as session:
        work = _load(session, ids)
    # Calendar events first: a confirmation in the same batch then carries the new Meet or Teams link.
    calendar = [m for m in work.messages if m.kind == outbox.CALENDAR_SYNC]
    for future in as_completed(
        [pool.submit(_unless_stopped, stop, worker, m, _sync_calendar, work, settings) for m in calendar]
    ):
        _count(stats, future.result())
    # Webhook deliveries ride along with the e-mails: the same claims, ledger and retries (their own schedule). One
    # booking's messages go one after the other, in the order they were queued (a receiver hears of a move before
    # the cancellation that followed it); other bookings' go meanwhile.
    by_booking: dict[int, list[OutboxMessage]] = {}
    for m in work.messages:
        if m.kind != outbox.CALENDAR_SYNC:
            by_booking.setdefault(m.booking_id if m.booking_id is not None else -(m.id or 0), []).append(m)
    done = 0
    for sent in as_completed(
        [pool.submit(_in_order, stop, worker, group, work, mailer, settings) for group in by_booking.values()]
    ):
        for status in sent.result():
            _count(stats, status)
            done += 1
            if done % record_every == 0:
                LEDGER.record(worker)
    LEDGER.record(worker)
    return True


def _in_order(
    stop: threading.Event, worker: str, messages: list[OutboxMessage], work: _Work, mailer: Mailer, settings: Settings
) -> list[str]:
    """Send messages one after the other (stopping short at shutdown); their statuses."""
    return [
        _unless_stopped(stop, worker, m, _send_webhook if m.kind == webhooks.KIND else _deliver, work, mailer, settings)
        for m in messages
    ]


def _send_webhook(message: OutboxMessage, _work: _Work, mailer: Mailer, settings: Settings) -> outbox.Outcome:
    return webhook_sender.deliver(message, mailer, settings)


def _unless_stopped(
    stop: threading.Event, worker: str, message: OutboxMessage, handle: Callable[..., outbox.Outcome], *args: Any
) -> str:
    """Handle a claimed message unless shutting down (then it is not handed over); its status, or ''."""
    return '' if stop.is_set() else LEDGER.run(worker, message, handle, *args).status


@dataclass(slots=True)
class _Work:
    messages: list[OutboxMessage]
    bookings: dict[int, Booking]
    hosts: dict[int, Host]
    event_types: dict[int, EventType]
    team_slugs: dict[int, str] = field(default_factory=dict)  # team id -> slug (links to team booking pages)


def _load(session: Session, ids: list[int]) -> _Work:
    messages = list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))  # type: ignore
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        )
    )
    booking_ids = {m.booking_id for m in messages if m.booking_id}
    bookings = {b.id: b for b in session.exec(select(Booking).where(Booking.id.in_(booking_ids)))}  # type: ignore
    host_ids = {m.host_id for m in messages}
    hosts = {h.id: h for h in session.exec(select(Host).where(Host.id.in_(host_ids)))}  # type: ignore
    type_ids = {b.event_type_id for b in bookings.values() if b.event_type_id}
    types = {e.id: e for e in session.exec(select(EventType).where(EventType.id.in_(type_ids)))}  # type: ignore
    team_ids = {e.team_id for e in types.values() if e.team_id}
    slugs = dict(session.exec(select(Team.id, Team.slug).where(col(Team.id).in_(team_ids))).all()) if team_ids else {}
    return _Work(messages, bookings, hosts, types, slugs)  # type: ignore[arg-type]


def _deliver(message: OutboxMessage, work: _Work, mailer: Mailer, settings: Settings) -> outbox.Outcome:
    assert message.id is not None
    now = utcnow()
    booking = work.bookings.get(message.booking_id or -1)
    host = work.hosts.get(message.host_id)
    reason = _stale(message, booking, host, now)
    if reason:
        log.info('outbox %s skipped: %s', message.key, reason)
        return outbox.Outcome(message.id, outbox.SKIPPED, reason)
    assert booking is not None and host is not None
    event_type = work.event_types.get(booking.event_type_id or -1)
    try:
        team_slug = work.team_slugs.get(event_type.team_id or -1, '') if event_type else ''
        mailer.send(render(letter_for(message, booking, host, event_type, settings, team_slug)), message.key)
    except DeliveryError as exc:
        outcome = outbox.delivery_failed(message, str(exc), permanent=exc.permanent, now=now)
        log.warning(
            'outbox %s attempt %d failed: %s%s',
            message.key,
            message.attempts,
            exc,
            '' if outcome.status == outbox.FAILED else ' (will retry)',
        )
        return outcome
    except Exception as exc:  # a bug in rendering must not stop the other messages
        log.exception('outbox %s could not be rendered', message.key)
        return outbox.delivery_failed(message, f'{type(exc).__name__}: {exc}', permanent=False, now=now)
    return outbox.Outcome(message.id, outbox.SENT)


def _sync_calendar(message: OutboxMessage, work: _Work, settings: Settings) -> outbox.Outcome:
    """Bring the booking's calendar event to its current state; the provider is asked outside any transaction."""
    assert message.id is not None
    now = utcnow()
    booking, host = work.bookings.get(message.booking_id or -1), work.hosts.get(message.host_id)
    if booking is None or host is None:
        return outbox.Outcome(message.id, outbox.SKIPPED, 'the booking no longer exists')
    if message.context.get('remove_from'):  # a team booking went to another member: its event leaves this calendar
        return _remove_event(message, booking, settings)
    with session_scope() as session:
        booking = session.get(Booking, booking.id)  # the latest state: a later change may have been committed
        if booking is None:
            return outbox.Outcome(message.id, outbox.SKIPPED, 'the booking no longer exists')
        connection = (
            session.get(CalendarConnection, booking.calendar_connection_id)
            if booking.calendar_connection_id
            else calendar_events.destination(session, host_id=booking.host_id)
        )
        others = calendar_events.members_of(session, booking)
    if bookings.is_seated(booking):  # one of the bookings of a seated start: they share one event
        return _sync_seats(message, booking, work, settings, connection)
    try:
        synced = calendar_events.sync(
            booking, work.event_types.get(booking.event_type_id or -1), connection, settings, others
        )
    except ProviderError as exc:
        return _not_written(message, connection, exc, booking.uid, now)
    with session_scope(write=True) as session:  # compare and set: a sync that ran meanwhile is not overwritten
        written = session.execute(
            update(Booking)
            .where(col(Booking.id) == booking.id, col(Booking.calendar_event_id) == booking.calendar_event_id)
            .values(
                calendar_event_id=synced.event_id,
                calendar_connection_id=synced.connection_id,
                meeting_url=synced.meeting_url,
            )
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        latest = session.get(Booking, booking.id)
    calendar_busy.reset_cache(host.id)  # the host's calendar just changed
    if written and latest is not None and latest.status != BOOKING_CONFIRMED and synced.event_id:
        # cancelled while the event was being made: the cancellation's own job may have missed it
        return _sync_calendar(message, work, settings)
    if booking.id in work.bookings:
        work.bookings[booking.id].meeting_url = synced.meeting_url  # for the e-mails of this batch
    if synced.pending:  # saved the event; the video link is asked for again, with the outbox's backoff
        return outbox.delivery_failed(message, 'waiting for the video link', permanent=False, now=now)
    return outbox.Outcome(message.id, outbox.SENT)


def _not_written(
    message: OutboxMessage, connection: CalendarConnection | None, exc: ProviderError, what: str, now: datetime
) -> outbox.Outcome:
    """A calendar write that failed: refused credentials mark the connection (no retry), anything else retries."""
    if isinstance(exc, ReconnectNeeded):
        calendar_status.mark_reconnect_needed(connection.id or 0 if connection else 0, str(exc))
        return outbox.delivery_failed(message, str(exc), permanent=True, now=now)
    log.warning('calendar event for %s not written yet: %s', what, exc)
    return outbox.delivery_failed(message, str(exc), permanent=False, now=now)


def _sync_seats(
    message: OutboxMessage, booking: Booking, work: _Work, settings: Settings, connection: CalendarConnection | None
) -> outbox.Outcome:
    """The one event of each seated start the change touched (a move leaves one start for another), its attendees
    the start's confirmed bookings."""
    assert message.id is not None
    now, event_type = utcnow(), work.event_types.get(booking.event_type_id or -1)
    keys = [booking.seat_key]
    if message.context.get('old_start') and booking.event_type_id is not None:
        old = f'{booking.event_type_id}@{int(datetime.fromisoformat(message.context["old_start"]).timestamp())}'
        keys += [old] if old != booking.seat_key else []
    for key in keys:
        with session_scope() as session:
            attendees, event_id = calendar_events.seated(session, host_id=booking.host_id, seat_key=key)
            session.expunge_all()
        if key != booking.seat_key:  # the start the booking left: its event, also when it was the only seat
            event_id = event_id or str(message.context.get('old_event_id') or '')
        uid = calendar_events.seat_group_uid(booking.host_id, key)
        try:
            synced = calendar_events.sync_seats(
                attendees, uid=uid, event_id=event_id, event_type=event_type, connection=connection, settings=settings
            )
        except ProviderError as exc:
            return _not_written(message, connection, exc, f'the seats of {booking.uid}', now)
        with session_scope(write=True) as session:
            session.execute(
                update(Booking)
                .where(col(Booking.host_id) == booking.host_id, col(Booking.seat_key) == key)
                .values(
                    calendar_event_id=synced.event_id,
                    calendar_connection_id=synced.connection_id,
                    **({'meeting_url': synced.meeting_url} if synced.meeting_url else {}),
                )
            )
    calendar_busy.reset_cache(booking.host_id)
    return outbox.Outcome(message.id, outbox.SENT)


def _remove_event(message: OutboxMessage, booking: Booking, settings: Settings) -> outbox.Outcome:
    """Delete the booking's event from the connection it was written to before the booking was re-assigned."""
    assert message.id is not None
    with session_scope() as session:
        connection = session.get(CalendarConnection, message.context['remove_from'])
    if connection is None:
        return outbox.Outcome(message.id, outbox.SKIPPED, 'the calendar connection is gone')
    try:
        calendar_events.remove(
            connection, uid=booking.uid, event_id=message.context.get('event_id', ''), settings=settings
        )
    except ReconnectNeeded as exc:
        calendar_status.mark_reconnect_needed(connection.id or 0, str(exc))
        return outbox.delivery_failed(message, str(exc), permanent=True, now=utcnow())
    except ProviderError as exc:
        return outbox.delivery_failed(message, str(exc), permanent=False, now=utcnow())
    calendar_busy.reset_cache(connection.host_id)
    return outbox.Outcome(message.id, outbox.SENT)


def _stale(message: OutboxMessage, booking: Booking | None, host: Host | None, now: datetime) -> str:
    """Why a message should not go out any more ('' when it should)."""
    if booking is None or host is None:
        return 'the booking no longer exists'
    if message.kind not in KINDS:
        return f'unknown kind {message.kind}'
    if message.kind == 'reminder':
        if booking.status != BOOKING_CONFIRMED:
            return 'the booking was cancelled'
        if booking.sequence != message.context.get('sequence'):
            return 'the booking was moved'
        if now >= booking.start_at:
            return 'the meeting has already started'
        if not preference(host, 'reminder').enabled:
            return 'the host switched reminders off'
    if message.kind == 'host_request' and booking.status != BookingStatus.PENDING:
        return 'the host already decided on the request'
    if message.kind == 'proposal':
        proposed = message.context.get('proposal', {}).get('start')
        if (
            booking.status != BOOKING_CONFIRMED
            or booking.proposed_start_at is None
            or booking.proposed_start_at != datetime.fromisoformat(proposed)
        ):
            return 'the proposal was answered, replaced or the booking changed'
    if message.kind in SUPERSEDED_BY_LATER_CHANGES and booking.sequence != message.context.get('sequence'):
        return 'a later change of the booking superseded it (its own message carries the current state)'
    return ''


def letter_for(
    message: OutboxMessage,
    booking: Booking,
    host: Host,
    event_type: EventType | None,
    settings: Settings,
    team_slug: str = '',
) -> Letter:
    """What one outbox row says, in its recipient's zone, from the booking as it was when the change happened."""
    kind = KINDS[message.kind]
    ctx: dict[str, Any] = message.context
    # the invitee reads their e-mails and .ics in the language kept with the booking; hosts read English for now
    locale = DEFAULT_LOCALE if kind.to_host else booking.locale
    _ = translator(locale).gettext
    start, end = datetime.fromisoformat(ctx['start']), datetime.fromisoformat(ctx['end'])
    title = event_type.title if event_type else _('Meeting')
    location_kind = event_type.location_kind if event_type else 'none'
    location_value = booking.meeting_url or (event_type.location_value if event_type else '')
    location_label = (
        _(LOCATION_LABELS[location_kind]) if location_kind in LOCATION_LABELS and location_kind != 'none' else ''
    )
    manage_url = ''
    if kind.to_host:
        manage_url = f'{settings.public_url}/dashboard'
    elif message.kind in ('cancellation', 'declined') and event_type and event_type.active and team_slug:
        manage_url = f'{settings.public_url}/team/{quote(team_slug)}/{quote(event_type.slug.rsplit(".", 1)[0])}'
    elif message.kind in ('cancellation', 'declined') and event_type and event_type.active:
        manage_url = f'{settings.public_url}/{quote(host.username)}/{quote(event_type.slug)}'
    elif message.kind not in ('cancellation', 'declined'):
        token = crypto.decrypt(booking.manage_token_encrypted)
        manage_url = f'{settings.public_url}/booking/{booking.uid}?token={token}'
    if manage_url and not kind.to_host and message.kind in ('cancellation', 'declined') and locale != DEFAULT_LOCALE:
        manage_url += f'?lang={locale}'  # booking again opens in the invitee's language
    ics = b''
    if kind.ics:
        meeting = _(
            '{event_name} with {name}', event_name=title, name=booking.invitee_name if kind.to_host else host.name
        )
        # The invitee's own copy carries their manage link; the host's never does (host calendars are shared).
        own_link = manage_url if kind.ics == 'REQUEST' and not kind.to_host else ''
        details = (
            defang(booking.notes)
            if kind.to_host
            else _('Reschedule or cancel: {link}', link=own_link)
            if own_link
            else ''
        )
        ics = calendar_links.invitation(
            uid=booking.uid,
            title=meeting,
            start=start,
            end=end,
            host_name=host.name,
            host_email=host.email,
            invitee_name=booking.invitee_name,
            invitee_email=booking.invitee_email,
            location=location_value or location_label,
            description=details,
            sequence=int(ctx.get('sequence', 0)),
            cancelled=kind.ics == 'CANCEL',
            stamp=message.created_at,
            url=own_link,
        )
    labels = {q['id']: q['label'] for q in (event_type.questions if event_type else [])}
    answers = tuple(
        (labels.get(k, k), _('Yes') if v is True else _('No') if v is False else str(v))
        for k, v in booking.answers.items()
    )
    pref = preference(host, message.kind)
    old_start = datetime.fromisoformat(ctx['old_start']) if ctx.get('old_start') else None
    old_end = datetime.fromisoformat(ctx['old_end']) if ctx.get('old_end') else None
    proposal = ctx.get('proposal') or {}
    links: tuple[tuple[str, str], ...] = ()
    if proposal:  # the proposed time leads; the current one is shown beside it
        old_start, old_end = start, end
        start, end = datetime.fromisoformat(proposal['start']), datetime.fromisoformat(proposal['end'])
        links = (
            (_('Accept the new time'), f'{manage_url}&action=accept'),
            (_('Pick another time'), f'{manage_url}&action=pick'),
            (_('Decline and cancel'), f'{manage_url}&action=decline'),
        )
        manage_url = ''
    if message.kind == 'host_request':  # the host decides on a page that asks first
        decide = f'{settings.public_url}/dashboard/requests/{booking.uid}'
        links, manage_url = ((_('Confirm'), f'{decide}?action=confirm'), (_('Decline'), f'{decide}?action=decline')), ''
    return Letter(
        kind=message.kind,
        key=message.key,
        to_name=host.name if kind.to_host else booking.invitee_name,
        to_email=host.email if kind.to_host else booking.invitee_email,
        zone=host.timezone if kind.to_host else booking.invitee_timezone,
        host_name=host.name,
        event_title=title,
        start=start,
        end=end,
        invitee_name=booking.invitee_name,
        invitee_email=booking.invitee_email,
        invitee_zone=booking.invitee_timezone,
        mail_from=settings.mail_from,
        subject_template=pref.subject,
        custom_message=pref.message,
        brand_color=host.brand_color,
        location_label=location_label,
        location_value=location_value,
        location_kind=location_kind,
        old_start=old_start,
        old_end=old_end,
        reason=ctx.get('reason', ''),
        manage_url=manage_url,
        notes=booking.notes,
        answers=answers,
        proposal_message=proposal.get('message', ''),
        proposal_links=links,
        answer_by=datetime.fromisoformat(proposal['expires_at']) if proposal else None,
        reply_to=booking.invitee_email if kind.to_host else host.email,
        ics=ics,
        ics_method=kind.ics,
        clock24=host.clock24 if kind.to_host else _invitee_clock24(booking, host),
        locale=locale,
    )


def _invitee_clock24(booking: Booking, host: Host) -> bool:
    """The clock the invitee chose when booking; bookings made before it was kept follow the host's."""
    return host.clock24 if booking.clock24 is None else booking.clock24


def _count(stats: DrainStats, status: str) -> None:
    if not status:  # not handed over (shutting down)
        return
    if status == outbox.SENT:
        stats.sent += 1
    elif status == outbox.SKIPPED:
        stats.skipped += 1
    elif status == outbox.PENDING:
        stats.retried += 1
    else:
        stats.failed += 1


def take_back_abandoned() -> int:
    """At start-up, before this process claims anything: give back what killed workers of this machine held."""
    with session_scope(write=True) as session:
        count = outbox.release_abandoned(session)
    if count:
        log.info('outbox: took back %d messages claimed by workers that no longer run', count)
    return count


def deliver_due(*, mailer: Mailer, settings: Settings, stop: threading.Event | None = None) -> datetime | None:
    """One pass of the background job: send everything due (until `stop`), then say when the next message falls
    due."""
    stats = drain(mailer=mailer, settings=settings, stop=stop)
    if stats.handled:
        log.info(
            'outbox: %d sent, %d skipped, %d to retry, %d failed',
            stats.sent,
            stats.skipped,
            stats.retried,
            stats.failed,
        )
    with session_scope() as session:
        return outbox.next_due(session)
