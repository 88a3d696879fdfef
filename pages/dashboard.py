"""`/dashboard`: the host's bookings, live: upcoming (by day), past and cancelled, searchable and paged, with the
actions cancel (with a message), propose a new time, and erase an invitee's details."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from nicegui import ui
from sqlmodel import Session

from app import events
from app.config import get_settings
from app.errors import DomainError
from app.i18n import DEFAULT_LOCALE, N_, _, language_name
from app.models import Booking, EventType
from components import design
from components.confirm import confirm
from components.getting_started import status_card
from components.headings import heading
from components.host_frame import host_frame
from components.slot_picker import MonthSlots, SlotPicker, format_day, format_time
from components.timezone_select import city_name
from pages import slot_loading
from pages.auth import now
from pages.live import refresh_on_booking_change
from pages.signed_in import SignedIn, read, run_as, sign_in_first, signed_in
from pages.teams import TeamBookings
from services import bookings, event_types, hosts, use_cases
from services.calendars import connections as calendar_connections
from services.notifications import outbox
from services.public import LOCATION_LABELS
from services.slots import Slot

PAGE_SIZE = 20
TABS = {'upcoming': N_('Upcoming'), 'pending': N_('Requests'), 'past': N_('Past'), 'cancelled': N_('Cancelled')}
STATUS_WORDS = {
    'pending': 'queued',
    'sending': 'sending',
    'sent': 'sent',
    'failed': 'failed',
    'skipped': 'not needed',
    'cancelled': 'withdrawn',
}


def register() -> None:
    ui.page('/dashboard')(dashboard_page)
    ui.page('/dashboard/requests/{uid}')(request_page)


@dataclass(frozen=True, slots=True)
class Row:
    """One booking as the dashboard shows it (plain data, read in a worker thread)."""

    booking: Booking
    event_type: EventType | None
    messages: list[dict[str, Any]]
    attendees: tuple[Booking, ...] = ()  # a seated start's bookings, this one first: one meeting for the host


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[Row]
    total: int
    event_types: int
    calendar_problems: list[str]


def load_listing(session: Session, host_id: int, status: str, search: str, page: int) -> Listing:
    found = bookings.list_bookings(
        session=session,
        host_id=host_id,
        status=status,
        now=now(),
        search=search,
        limit=PAGE_SIZE,
        offset=page * PAGE_SIZE,
    )
    types = {e.id: e for e in event_types.list_event_types(session=session, host_id=host_id)}
    seated: dict[str, list[Booking]] = {}
    for b in found:  # the bookings of one seated start are one meeting with its attendees
        if bookings.is_seated(b):
            seated.setdefault(b.seat_key, []).append(b)
    rows = [
        Row(
            b,
            types.get(b.event_type_id),
            outbox.deliveries(session, booking_id=b.id),
            tuple(seated.get(b.seat_key, ())),
        )
        for b in found
        if not bookings.is_seated(b) or seated[b.seat_key][0] is b
    ]
    total = bookings.count_bookings(session=session, host_id=host_id, status=status, now=now(), search=search)
    problems = [
        f'{c.label}: {c.status_detail or "reconnect needed"}'
        for c in calendar_connections.list_connections(session, host_id=host_id)
        if c.status == 'reconnect_needed'
    ]
    return Listing(rows, total, len(types), problems)


async def dashboard_page(request: Request) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    Dashboard(who)
    return None


class Dashboard:
    def __init__(self, who: SignedIn) -> None:
        self.who, self.host = who, who.host
        self.zone = ZoneInfo(self.host.timezone)
        self.status, self.search, self.page = 'upcoming', '', 0
        self.generation = 0
        with host_frame(_('Bookings'), active='/dashboard', brand=self.host.brand_color):
            self.banner = ui.column().classes('w-full')
            self._header()
            with ui.row().classes('w-full items-center gap-3'):
                ui.toggle(
                    {tab: _(name) for tab, name in TABS.items()},
                    value='upcoming',
                    on_change=lambda e: self._switch(e.value),
                ).props('no-caps aria-label="Which bookings"').mark('tabs')
                ui.element('div').classes('flex-grow')
                ui.input(_('Search name or e-mail'), on_change=lambda e: self._find(e.value or '')).props(
                    'outlined dense clearable debounce=300 type=search'
                ).classes('w-64').mark('search')
            self.list = ui.column().classes('w-full gap-4').mark('bookings')
            self.pager = ui.row().classes('w-full items-center justify-center gap-3')
            self.dialogs = ui.element('div')
            self.instance = ui.column().classes('w-full')  # inside the page column, like the bookings
            TeamBookings(who)  # shown when the host has upcoming team bookings
        with self.list:
            ui.skeleton().classes('w-full h-24')
        ui.timer(0, self.refresh, once=True)
        refresh_on_booking_change(self.host.id or 0, self.refresh, self._announce)
        if self.host.is_owner:  # what the instance runs on, and what to do first, is for its owner only
            ui.timer(0, self._instance_status, once=True)

    async def _instance_status(self) -> None:
        database, counts = await read(self.who, _instance)
        with self.instance:
            status_card(database=database, hosts=counts.hosts, event_types=counts.event_types)

    def _header(self) -> None:
        link = f'{get_settings().public_url}/{self.host.username}'
        with ui.row().classes('w-full items-center justify-between gap-3'):
            heading(_('Bookings'), 1, design.HEADLINE + ' m-0')
            with ui.row().classes('items-center gap-x-2 gap-y-0 min-w-0'):
                ui.label(_('Your booking page:')).classes(design.SUBTLE)
                ui.link(link, f'/{self.host.username}', new_tab=True).classes('break-all').mark('booking-link')
                ui.button(icon='content_copy', on_click=lambda: self._copy(link)).props(
                    'flat round dense aria-label="Copy your booking link"'
                ).tooltip(_('Copy your booking link')).mark('copy-link')

    def _copy(self, text: str) -> None:
        ui.clipboard.write(text)
        ui.notify(_('Link copied'), type='positive', position='top')

    def _announce(self, event: events.BookingChanged) -> None:
        words = {
            'created': 'New booking',
            'cancelled': 'A booking was cancelled',
            'rescheduled': 'A booking was moved',
            'proposed': 'New time proposed',
        }
        ui.notify(words.get(event.kind, 'Bookings changed'), type='info', position='top-right')

    async def _switch(self, status: str) -> None:
        self.status, self.page = status, 0
        await self.refresh()

    async def _find(self, text: str) -> None:
        self.search, self.page = text, 0
        await self.refresh()

    async def _turn(self, step: int) -> None:
        self.page = max(0, self.page + step)
        await self.refresh()

    async def refresh(self) -> None:
        self.generation += 1
        generation = self.generation
        try:
            listing = await read(self.who, load_listing, self.status, self.search, self.page)
        except Exception:  # noqa: BLE001 - shown, never a broken page
            self.list.clear()
            with self.list:
                ui.label(
                    _('Your bookings could not be loaded right now. The page retries on the next change.')
                ).classes('text-red-700').props('role=alert').mark('load-error')
            return
        if generation == self.generation:  # a newer refresh (fast typing, a tab switch) wins
            self._render(listing)
            self._banner(listing.calendar_problems)

    def _render(self, listing: Listing) -> None:
        self.list.clear()
        with self.list:
            if not listing.rows:
                self._empty(listing)
            day: date | None = None
            for row in listing.rows:
                local = row.booking.start_at.astimezone(self.zone).date()
                if local != day:
                    day = local
                    heading(format_day(local), 2, 'text-lg font-semibold text-slate-800 m-0 mt-2').mark('day')
                self._card(row)
        self.pager.clear()
        pages = (listing.total + PAGE_SIZE - 1) // PAGE_SIZE
        if pages > 1:
            with self.pager:
                ui.button(_('Previous'), on_click=lambda: self._turn(-1)).props('flat no-caps').set_enabled(
                    self.page > 0
                )
                ui.label(
                    _('Page {page} of {pages} ({total} bookings)', page=self.page + 1, pages=pages, total=listing.total)
                ).mark('page')
                ui.button(_('Next'), on_click=lambda: self._turn(1)).props('flat no-caps').set_enabled(
                    self.page + 1 < pages
                )

    def _banner(self, problems: list[str]) -> None:
        self.banner.clear()
        if problems:
            with (
                self.banner,
                ui.card()
                .classes(design.CARD + ' bg-amber-50 border border-amber-300')
                .props('role=alert')
                .mark('calendar-banner'),
            ):
                ui.label(_('A calendar needs your attention: until it is fixed, its times are not offered.')).classes(
                    'font-semibold text-amber-900'
                )
                for problem in problems:
                    ui.label(problem).classes('text-amber-900')
                ui.link(_('Open Integrations'), '/integrations')

    def _empty(self, listing: Listing) -> None:
        with ui.card().classes(design.CARD).mark('empty'):
            if self.search:
                ui.label(_('No {tab} bookings match "{search}".', tab=_(TABS[self.status]).lower(), search=self.search))
            elif self.status != 'upcoming':
                ui.label(_('No {tab} bookings.', tab=_(TABS[self.status]).lower()))
            elif listing.event_types == 0:
                ui.label(_('You have no event types yet. Create one, then share its link.'))
                ui.link(_('Create an event type'), '/event-types')
            else:
                ui.label(_('Nothing booked yet. Share your booking page to get your first meeting.'))
                ui.link(_('Open your booking page'), f'/{self.host.username}', new_tab=True)

    def _card(self, row: Row) -> None:
        booking, event_type, clock24 = row.booking, row.event_type, self.host.clock24
        start, end = booking.start_at.astimezone(self.zone), booking.end_at.astimezone(self.zone)
        with ui.card().classes(design.CARD).mark('booking'):
            with ui.row().classes('w-full items-start justify-between gap-3 max-sm:flex-col sm:flex-nowrap'):
                with ui.column().classes('gap-1 min-w-0 flex-1 max-sm:w-full'):  # long names and e-mails wrap
                    with ui.row().classes('items-center gap-x-2 gap-y-0'):
                        if event_type and event_type.color:
                            ui.element('span').classes('inline-block w-3 h-3 rounded-full').style(
                                f'background:{event_type.color}'
                            ).props('aria-hidden=true')
                        ui.label(f'{format_time(start, clock24)} – {format_time(end, clock24)}').classes(
                            'font-semibold'
                        ).mark('when')
                        ui.label(event_type.title if event_type else 'Deleted event type').classes(
                            design.SUBTLE + ' break-words min-w-0'
                        )
                    if booking.status == 'pending':
                        ui.badge(_('Awaiting your confirmation'), color='amber-8').mark('pending')
                    elif booking.status == 'declined':
                        ui.badge(_('Declined'), color='grey-7').mark('declined')
                    if len(row.attendees) > 1 or (event_type and event_type.seats > 1):
                        self._attendees(row)
                    else:
                        ui.label(f'{booking.invitee_name} · {booking.invitee_email}').classes(
                            'break-words max-w-full'
                        ).mark('invitee')
                    if booking.invitee_timezone != self.host.timezone and not row.attendees:
                        ui.label(_("Invitee's time zone: {city}", city=city_name(booking.invitee_timezone))).classes(
                            design.SUBTLE
                        )
                    if booking.locale != DEFAULT_LOCALE and not row.attendees:  # their e-mails are in it
                        ui.label(_("Invitee's language: {language}", language=language_name(booking.locale))).classes(
                            design.SUBTLE
                        ).mark('invitee-language')
                    if event_type and event_type.location_kind != 'none':
                        value = event_type.location_value
                        if value.startswith(('https://', 'http://')):
                            ui.link(value, value, new_tab=True).classes('break-all').mark('location')
                        else:
                            ui.label(f'{LOCATION_LABELS[event_type.location_kind]}: {value}'.rstrip(': ')).mark(
                                'location'
                            )
                    labels = {q['id']: q['label'] for q in (event_type.questions if event_type else [])}
                    for key, value in booking.answers.items():
                        answer = 'Yes' if value is True else 'No' if value is False else str(value)
                        ui.label(f'{labels.get(key, key)}: {answer}').classes('whitespace-pre-line break-words').mark(
                            'answer'
                        )
                    if booking.notes:
                        ui.label(_('Notes: {notes}', notes=booking.notes)).classes(
                            'whitespace-pre-line break-words'
                        ).mark('notes')
                    if booking.cancel_reason:
                        ui.label(_('Cancelled: {reason}', reason=booking.cancel_reason)).classes('text-slate-700').mark(
                            'reason'
                        )
                    proposal = bookings.pending_proposal(booking, now())
                    if proposal:
                        local = proposal.start.astimezone(self.zone)
                        ui.label(
                            _(
                                'New time proposed: {when} (waiting for the invitee)',
                                when=f'{format_day(local.date())}, {format_time(local, clock24)}',
                            )
                        ).classes('text-amber-800').mark('proposal')
                self._actions(row)
            if row.messages:
                with ui.column().classes('w-full gap-0 text-sm').mark('deliveries'):
                    for message in row.messages:
                        ui.label(delivery_line(message, booking.start_at, self.zone, clock24)).classes(
                            'text-red-700 font-medium' if message['status'] == 'failed' else design.SUBTLE
                        ).mark('delivery')

    def _attendees(self, row: Row) -> None:
        people = row.attendees or (row.booking,)
        seats = row.event_type.seats if row.event_type else len(people)
        ui.label(_('{taken} of {seats} seats taken', taken=len(people), seats=seats)).classes('font-medium').mark(
            'seats'
        )
        with ui.column().classes('gap-0'):
            for person in people:
                with ui.row().classes('items-center gap-1'):
                    ui.label(f'{person.invitee_name} · {person.invitee_email}').classes('break-words').mark('invitee')
                    if person.end_at > now() and person.status in ('confirmed', 'pending'):
                        ui.button(icon='close', on_click=lambda p=person: self._cancel(p)).props(
                            f'flat round dense size=sm aria-label="Cancel {person.invitee_name}\'s seat"'
                        ).tooltip(_('Cancel this seat')).mark('cancel-seat')

    def _actions(self, row: Row) -> None:
        booking = row.booking
        # a seated meeting's seats are cancelled one by one beside each attendee
        upcoming = booking.status == 'confirmed' and booking.end_at > now() and not row.attendees
        with ui.row().classes('gap-1'):
            if booking.status == 'pending' and booking.end_at > now():
                ui.button(_('Confirm'), on_click=lambda: self._decide(booking, True)).props(
                    'unelevated no-caps dense color=positive'
                ).mark('confirm-request')
                ui.button(_('Decline'), on_click=lambda: self._decide(booking, False)).props(
                    'flat no-caps dense color=negative'
                ).mark('decline-request')
            if upcoming:
                ui.button(_('Propose new time'), on_click=lambda: self._propose(row)).props('flat no-caps dense').mark(
                    'propose'
                )
                ui.button(_('Cancel'), on_click=lambda: self._cancel(booking)).props(
                    'flat no-caps dense color=negative'
                ).mark('cancel')
            if booking.invitee_email != bookings.ERASED_EMAIL:
                with (
                    ui.button(icon='more_vert')
                    .props('flat round dense aria-label="More actions"')
                    .tooltip(_('More actions'))
                    .mark('more')
                ):
                    with ui.menu():
                        ui.menu_item('Erase invitee data…', on_click=lambda: self._erase(booking)).classes(
                            'whitespace-nowrap'
                        ).props('role=menuitem').mark('erase')

    def _cancel(self, booking: Booking) -> None:
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading(_('Cancel the meeting with {name}?', name=booking.invitee_name), 2, design.TITLE + ' m-0')
            message = (
                ui.textarea(
                    _('Message to the invitee (optional)'),
                    validation={'Please keep it under 1000 characters': lambda v: len(v or '') <= 1000},
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('cancel-message')
            )
            ui.label(_('They get a cancellation e-mail with this message; the time becomes free again.')).classes(
                design.SUBTLE
            )

            async def confirm() -> None:
                if not message.validate():
                    return
                dialog.close()
                await run_as(
                    self.who,
                    use_cases.cancel_as_host,
                    uid=booking.uid,
                    reason=message.value or '',
                    done='Meeting cancelled',
                )
                await self.refresh()

            with ui.row().classes('gap-2'):
                ui.button(_('Cancel meeting'), on_click=confirm).props('unelevated no-caps color=negative').mark(
                    'confirm-cancel'
                )
                ui.button(_('Keep it'), on_click=dialog.close).props('flat no-caps')
        dialog.open()

    def _decide(self, booking: Booking, accept: bool) -> None:
        self.dialogs.clear()
        with self.dialogs:
            decide_dialog(self.who, booking, accept, self.zone, self.host.clock24, after=self.refresh).open()

    def _erase(self, booking: Booking) -> None:
        async def erase() -> None:
            await run_as(self.who, use_cases.erase_as_host, uid=booking.uid, done="The invitee's details were erased")
            await self.refresh()

        confirm(
            self.dialogs,
            title=_("Erase this invitee's details?"),
            action='Erase',
            mark='confirm-erase',
            keep='Keep',
            on_confirm=erase,
            text=f"{booking.invitee_name}'s name, e-mail, notes and answers are removed from this booking (for an "
            'erasure request). An upcoming meeting is cancelled without e-mails. This cannot be undone.',
        )

    def _propose(self, row: Row) -> None:
        booking, event_type = row.booking, row.event_type
        if event_type is None:
            ui.notify(_('The event type of this booking was deleted; it cannot be moved.'), type='warning')
            return
        host_id = self.who.host_id
        self.dialogs.clear()
        with self.dialogs, ui.dialog().props('maximized=false') as dialog, ui.card().classes('gap-3 w-full max-w-3xl'):
            heading(_('Propose a new time to {name}', name=booking.invitee_name), 2, design.TITLE + ' m-0')
            ui.label(
                _(
                    'Pick a free time. They get an e-mail to accept it, decline (which cancels) or pick another '
                    'time; the proposal expires after 7 days.'
                )
            ).classes(design.SUBTLE)
            message = (
                ui.textarea(_('Message (optional)'))
                .props('outlined autogrow')
                .classes('w-full')
                .mark('proposal-message')
            )
            chosen = ui.label().classes('font-medium').mark('proposal-choice')
            picked: list[Slot] = []

            async def load(month: date, zone: str) -> MonthSlots:
                data = await slot_loading.month_slots(host_id, event_type.id or 0, month, zone, booking.uid)
                days = {d: [s for s in found if s.start != booking.start_at] for d, found in data.days.items()}
                return MonthSlots(days={d: s for d, s in days.items() if s}, degraded=data.degraded)

            async def find_next(after: date, zone: str) -> date | None:
                return await slot_loading.first_free_day(event_type.id or 0, after, zone)

            def pick(slot: Slot, zone: str) -> None:
                picked[:] = [slot]
                local = slot.start.astimezone(ZoneInfo(zone))
                chosen.text = _(
                    'Proposing {when} ({zone})',
                    zone=zone,
                    when=f'{format_day(local.date())}, {format_time(local, self.host.clock24)}',
                )
                send.enable()

            picker = SlotPicker(
                zone=self.host.timezone, load=load, find_next=find_next, on_pick=pick, clock24=self.host.clock24
            )

            async def confirm() -> None:
                if not picked:
                    return
                dialog.close()
                await run_as(
                    self.who,
                    use_cases.propose_as_host,
                    uid=booking.uid,
                    start=picked[0].start,
                    message=message.value or '',
                    done='Proposal sent',
                )
                await self.refresh()

            with ui.row().classes('gap-2'):
                send = ui.button(_('Send proposal'), on_click=confirm).props('unelevated no-caps').mark('send-proposal')
                send.disable()
                ui.button(_('Close'), on_click=dialog.close).props('flat no-caps')
        dialog.open()
        ui.timer(0, picker.reload, once=True)


def _instance(session: Session, host_id: int) -> tuple[str, hosts.InstanceCounts]:
    database = 'PostgreSQL' if session.get_bind().dialect.name == 'postgresql' else 'SQLite'
    return database, hosts.instance_counts(session=session)


def delivery_line(message: dict[str, Any], start: datetime, zone: ZoneInfo, clock24: bool) -> str:
    """One message as a line: which one (a reminder by how long before) and what happened when, in the host's zone."""
    label = message['label']
    if message['kind'] == 'reminder':
        before = int((start - datetime.fromisoformat(message['due_at'])).total_seconds()) // 60
        label = f'Reminder {_span(before)} before' + label.removeprefix('Reminder')
    status = message['status']
    if status == 'sent' and message['sent_at']:
        return f'{label}: sent {_moment(message["sent_at"], zone, clock24)}'
    if status == 'pending' and message['attempts']:
        return f'{label}: retrying ({(message["error"] or "")[:60]})'
    if status == 'pending':
        return f'{label}: due {_moment(message["due_at"], zone, clock24)}'
    if status == 'failed':
        return f'{label}: failed ({(message["error"] or "no reason given")[:60]})'
    return f'{label}: {STATUS_WORDS.get(status, status)}'


def _span(minutes: int) -> str:
    if minutes >= 2880 and minutes % 1440 == 0:
        return f'{minutes // 1440} days'
    return f'{minutes // 60} h' if minutes % 60 == 0 else f'{minutes} min'


def _moment(iso: str, zone: ZoneInfo, clock24: bool) -> str:
    local = datetime.fromisoformat(iso).astimezone(zone)
    return f'{local.day} {local:%b}, {format_time(local, clock24)}'


def decide_dialog(
    who: SignedIn, booking: Booking, accept: bool, zone: ZoneInfo, clock24: bool, after: Callable[[], Awaitable[None]]
) -> ui.dialog:
    """Ask before confirming or declining a request (declining takes an optional message to the invitee)."""
    start = booking.start_at.astimezone(zone)
    when = f'{format_day(start.date())}, {format_time(start, clock24)}'
    with ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
        title = (
            _('Confirm the meeting with {name}?', name=booking.invitee_name)
            if accept
            else _('Decline the request from {name}?', name=booking.invitee_name)
        )
        heading(title, 2, design.TITLE + ' m-0')
        ui.label(when).classes('font-medium').mark('request-when')
        reason = None
        if accept:
            ui.label(
                _('They get a confirmation e-mail with the invitation; the event goes into your calendar.')
            ).classes(design.SUBTLE)
        else:
            reason = (
                ui.textarea(
                    _('Message to the invitee (optional)'),
                    validation={'Please keep it under 1000 characters': lambda v: len(v or '') <= 1000},
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('decline-message')
            )
            ui.label(_('They are told the request was declined; the time becomes free again.')).classes(design.SUBTLE)

        async def go() -> None:
            if reason is not None and not reason.validate():
                return
            dialog.close()
            if accept:
                await run_as(who, use_cases.confirm_as_host, uid=booking.uid, done=_('Meeting confirmed'))
            else:
                await run_as(
                    who,
                    use_cases.decline_as_host,
                    uid=booking.uid,
                    reason=reason.value or '' if reason else '',
                    done=_('Request declined'),
                )
            await after()

        with ui.row().classes('gap-2'):
            ui.button(_('Confirm meeting') if accept else _('Decline request'), on_click=go).props(
                f'unelevated no-caps color={"positive" if accept else "negative"}'
            ).mark('decide')
            ui.button(_('Not now'), on_click=dialog.close).props('flat no-caps')
    return dialog


async def request_page(request: Request, uid: str, action: str = '') -> Response | None:
    """Where the host's e-mailed Confirm and Decline links lead: the request, and a question before anything
    happens (a link opened by a mail scanner changes nothing)."""
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    zone = ZoneInfo(who.host.timezone)
    with host_frame(_('Booking request'), active='/dashboard', brand=who.host.brand_color):
        box = ui.column().classes('w-full gap-4')

        async def show() -> None:
            box.clear()
            try:
                found = await read(who, _request_row, uid)
            except DomainError:
                found = None
            with box:
                if found is None:
                    ui.label(_('This request was not found.')).classes(design.SUBTLE).mark('not-found')
                    ui.link(_('Back to your bookings'), '/dashboard')
                    return
                booking, title = found
                start = booking.start_at.astimezone(zone)
                with ui.card().classes(design.CARD):
                    heading(title, 1, design.HEADLINE + ' m-0')
                    ui.label(f'{format_day(start.date())}, {format_time(start, who.host.clock24)}').classes(
                        'font-medium'
                    ).mark('request-when')
                    ui.label(f'{booking.invitee_name} · {booking.invitee_email}').mark('invitee')
                    if booking.notes:
                        ui.label(_('Notes: {notes}', notes=booking.notes)).classes('whitespace-pre-line break-words')
                    if booking.status != 'pending':
                        ui.label(_('This request is already {status}.', status=_(str(booking.status)))).classes(
                            'font-medium'
                        ).mark('decided')
                    else:
                        with ui.row().classes('gap-2'):
                            ui.button(_('Confirm'), on_click=lambda: ask(booking, True)).props(
                                'unelevated no-caps color=positive'
                            ).mark('confirm-request')
                            ui.button(_('Decline'), on_click=lambda: ask(booking, False)).props(
                                'outline no-caps color=negative'
                            ).mark('decline-request')
                ui.link(_('Back to your bookings'), '/dashboard')

        def ask(booking: Booking, accept: bool) -> None:
            with box:
                decide_dialog(who, booking, accept, zone, who.host.clock24, after=show).open()

        await show()
        if action in ('confirm', 'decline') and box.default_slot.children:
            found = await read(who, _request_row, uid)
            if found is not None and found[0].status == 'pending':
                ask(found[0], action == 'confirm')
    return None


def _request_row(session: Session, host_id: int, uid: str) -> tuple[Booking, str]:
    booking = bookings.host_booking(session=session, host_id=host_id, uid=uid)
    event_type = session.get(EventType, booking.event_type_id) if booking.event_type_id else None
    session.expunge(booking)
    return booking, event_type.title if event_type else _('Meeting')
