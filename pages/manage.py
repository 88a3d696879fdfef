"""`/booking/{uid}?token=...`: the invitee's confirmation, with add-to-calendar, cancel and reschedule."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from nicegui import app, ui
from sqlalchemy.exc import OperationalError

from app.errors import Conflict, InvalidInput, NotFound, RateLimited, SlotUnavailable
from app.i18n import N_, Translator, translator
from components import design
from components.frame import frame, not_found
from components.headings import heading
from components.rich_text import rich_text
from components.slot_picker import MonthSlots, SlotPicker, format_day, format_time
from pages import slot_loading
from pages.blocking import off_loop
from pages.language import page_translator, reload_in
from pages.live import refresh_on_booking_change
from services import bookings, calendar_links, public, use_cases
from services.slots import Slot
from web.edge import client_address

LINK_NOT_VALID = N_('This link is not valid. Please use the link from your confirmation e-mail.')


def register() -> None:
    ui.page('/booking/{uid}')(manage_page)
    app.get('/booking/{uid}/invite.ics', include_in_schema=False)(download_invite)


async def manage_page(request: Request, uid: str, token: str = '', action: str = '', lang: str = '') -> None:
    try:
        view = await off_loop(_guarded_view, _client_address(request), uid, token)
    except RateLimited as exc:
        t = page_translator(request, lang)
        not_found(t.gettext(exc.detail), t=t)
        ui.context.client.status_code = 429
        return
    except NotFound:
        t = page_translator(request, lang)
        not_found(t.gettext(LINK_NOT_VALID), t=t)
        return
    flow = ManageFlow(view, address=_client_address(request), t=page_translator(request, lang, kept=view.locale))
    if action in ('accept', 'decline', 'pick') and view.proposal and view.confirmed:
        flow.answer_proposal(action)  # a link from the proposal e-mail: ask, never act on a GET alone


def download_invite(request: Request, uid: str, token: str = '') -> Response:
    """The booking as an .ics file (a GET that changes nothing)."""
    try:
        view = _guarded_view(_client_address(request), uid, token)
    except RateLimited as exc:
        return Response(exc.detail, status_code=429, media_type='text/plain')
    except NotFound:
        return Response(LINK_NOT_VALID, status_code=404, media_type='text/plain')
    return Response(
        invitation(view),
        media_type='text/calendar; charset=utf-8',
        headers={'Content-Disposition': 'attachment; filename="invite.ics"'},
    )


def invitation(view: public.ManageView) -> bytes:
    """The invitee's own copy: published (nothing to answer), organised by the host, with the manage link; its
    texts in the language kept with the booking."""
    t = translator(view.locale)
    link = calendar_links.manage_url(view.uid, view.token) if view.confirmed else ''
    return calendar_links.invitation(
        uid=view.uid,
        title=_title(view, t),
        start=view.start,
        end=view.end,
        host_name=view.host.name,
        host_email=view.host_email,
        invitee_name=view.invitee_name,
        invitee_email=view.invitee_email,
        location=_location_text(view, t),
        url=link,
        description=t.gettext('Reschedule or cancel: {link}', link=link) if link else '',
        sequence=view.sequence,
        cancelled=not view.confirmed,
        published=True,
    )


class ManageFlow:
    def __init__(self, view: public.ManageView, *, address: str, t: Translator | None = None) -> None:
        self.view, self.address = view, address  # the client's address: manage-link guesses are counted by it
        self.t = t or translator(view.locale)
        self.picker: SlotPicker | None = None
        with frame(
            self.t.gettext('Your booking'), brand=view.host.brand_color, t=self.t, on_language=self._switch_language
        ):
            self.body = ui.column().classes('w-full gap-4')
            self.dialogs = ui.element('div')  # stable parent: live refreshes never delete an open dialog
        self._render()
        refresh_on_booking_change(view.host.id, self._refresh_picker)

    async def _switch_language(self, locale: str) -> None:
        """Show the page in another language and keep it with the booking for its later e-mails."""
        if locale == self.t.locale:
            return
        try:
            await off_loop(
                use_cases.choose_language_by_token,
                uid=self.view.uid,
                token=self.view.token,
                locale=locale,
                now=slot_loading.now(),
                address=self.address,
            )
        except (NotFound, RateLimited, InvalidInput, OperationalError):
            pass  # the page still changes language; the e-mails keep the booking's
        reload_in(locale, f'/booking/{self.view.uid}', {'token': self.view.token})

    def _render(self) -> None:
        self.body.clear()
        view, zone, t, _ = self.view, ZoneInfo(self.view.invitee_timezone), self.t, self.t.gettext
        start, end = view.start.astimezone(zone), view.end.astimezone(zone)
        with self.body:
            with ui.card().classes(design.CARD):
                if view.confirmed:
                    with ui.row().classes('items-center gap-2'):
                        ui.icon('check_circle', color='positive', size='md').props('aria-hidden=true')
                        heading(_('You are scheduled'), 1, design.HEADLINE + ' m-0').mark('status')
                    ui.label(
                        _(
                            "Booked for {name} ({email}). Keep this page's address: it lets you reschedule or cancel.",
                            name=view.invitee_name,
                            email=view.invitee_email,
                        )
                    ).classes(design.SUBTLE)
                elif view.pending:
                    with ui.row().classes('items-center gap-2'):
                        ui.icon('hourglass_top', color='warning', size='md').props('aria-hidden=true')
                        heading(_('Awaiting confirmation'), 1, design.HEADLINE + ' m-0').mark('status')
                    ui.label(
                        _(
                            '{host_name} will confirm or decline your request; you will get an e-mail either '
                            "way. The time is held for you meanwhile. Keep this page's address: it lets you "
                            'reschedule or cancel.',
                            host_name=view.host.name,
                        )
                    ).classes(design.SUBTLE)
                else:
                    heading(
                        _('This request was declined')
                        if view.status == 'declined'
                        else _('This meeting was cancelled'),
                        1,
                        design.HEADLINE + ' m-0',
                    ).mark('status')
                    if view.cancel_reason:
                        ui.label(_('Reason: {reason}', reason=view.cancel_reason)).classes('text-slate-700').mark(
                            'cancel-reason'
                        )
                _details(view, start, end, t)
                if view.confirmed and view.confirmation_message:
                    rich_text(view.confirmation_message).classes('border-l-4 border-slate-300 pl-3').mark(
                        'confirmation-message'
                    )
            if view.confirmed and view.proposal:
                self._proposal(view.proposal, zone)
            if view.confirmed:
                self._calendar_links()
            if view.confirmed or view.pending:
                self._actions()
            elif view.event_type:
                ui.link(_('Book a new time'), f'/{view.host.username}/{view.event_type.slug}').mark('book-again')

    def _proposal(self, proposal: bookings.Proposal, zone: ZoneInfo) -> None:
        start, end, clock = proposal.start.astimezone(zone), proposal.end.astimezone(zone), self.view.clock24
        t, _ = self.t, self.t.gettext
        with ui.card().classes(design.CARD + ' border-l-4 border-amber-500').mark('proposal'):
            heading(_('{host_name} proposes a new time', host_name=self.view.host.name), 2, design.TITLE + ' m-0')
            ui.label(
                f'{format_day(start.date(), t)}, {format_time(start, clock, t)} – {format_time(end, clock, t)}'
            ).classes('font-medium').mark('proposed-when')
            if proposal.message:
                ui.label(proposal.message).classes('whitespace-pre-line text-slate-700').mark('proposal-message')
            expires = proposal.expires_at.astimezone(zone)
            ui.label(
                _('Please answer by {when}.', when=f'{format_day(expires.date(), t)}, {format_time(expires, clock, t)}')
            ).classes(design.SUBTLE)
            with ui.row().classes('gap-3'):
                self.accept_button = (
                    ui.button(_('Accept the new time'), on_click=lambda: self.answer_proposal('accept'))
                    .props('unelevated no-caps')
                    .mark('accept-proposal')
                )
                if self.view.reschedulable:
                    ui.button(_('Pick another time'), on_click=lambda: self.answer_proposal('pick')).props(
                        'outline no-caps'
                    ).mark('pick-another')
                ui.button(_('Decline and cancel'), on_click=lambda: self.answer_proposal('decline')).props(
                    'outline no-caps color=negative'
                ).mark('decline-proposal')

    def answer_proposal(self, action: str) -> None:
        """Each answer is confirmed in a dialog (or, to pick another time, opens the time picker)."""
        proposal = self.view.proposal
        if proposal is None:
            return
        if action == 'pick':
            self._open_picker()
            return
        local, clock = proposal.start.astimezone(ZoneInfo(self.view.invitee_timezone)), self.view.clock24
        accept, t, _ = action == 'accept', self.t, self.t.gettext
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading(
                _('Move your meeting to the proposed time?') if accept else _('Decline and cancel the meeting?'),
                2,
                design.TITLE + ' m-0',
            )
            when = _(
                '{when} ({city} time)',
                when=f'{format_day(local.date(), t)}, {format_time(local, clock, t)}',
                city=t.city(self.view.invitee_timezone),
            )
            ui.label(when if accept else _('Your meeting will be cancelled. You can book a new time afterwards.'))
            with ui.row().classes('gap-2'):
                ui.button(
                    _('Yes, move it') if accept else _('Yes, decline and cancel'),
                    on_click=lambda: self._answer(dialog, accept),
                ).props('unelevated no-caps' + ('' if accept else ' color=negative')).mark(
                    'confirm-accept' if accept else 'confirm-decline'
                )
                ui.button(_('Not now'), on_click=dialog.close).props('flat no-caps')
        dialog.open()

    async def _answer(self, dialog: ui.dialog, accept: bool) -> None:
        _ = self.t.gettext
        dialog.close()
        try:
            self.view = await off_loop(_answer_proposal, self.address, self.view.uid, self.view.token, accept)
        except SlotUnavailable:
            ui.notify(_('Sorry, the proposed time is no longer free. Please pick another time.'), type='warning')
            self._open_picker()
            return
        except (Conflict, NotFound) as exc:
            ui.notify(self.t.gettext(exc.detail), type='negative')
            self.view = await off_loop(_guarded_view, self.address, self.view.uid, self.view.token)
            self._render()
            return
        except OperationalError:
            ui.notify(_('Your answer could not be saved right now. Please try again.'), type='negative')
            return
        self.picker = None
        self._render()
        ui.notify(
            _('Your meeting was moved.') if accept else _('Your meeting was cancelled.'),
            type='positive' if accept else 'info',
        )

    def _calendar_links(self) -> None:
        view, _ = self.view, self.t.gettext
        title, location = _title(view, self.t), _location_text(view, self.t)
        details = _('To reschedule or cancel, use the link in your confirmation e-mail.')
        with ui.card().classes(design.CARD):
            heading(_('Add to your calendar'), 2, design.TITLE + ' m-0')
            with ui.row().classes('gap-3'):
                google = calendar_links.google_calendar_link(
                    title=title, start=view.start, end=view.end, details=details, location=location
                )
                outlook = calendar_links.outlook_calendar_link(
                    title=title, start=view.start, end=view.end, details=details, location=location
                )
                ui.link('Google Calendar', google, new_tab=True).mark('google')
                ui.link('Outlook', outlook, new_tab=True).mark('outlook')
                ui.link(_('Download .ics'), f'/booking/{view.uid}/invite.ics?token={view.token}').props(
                    'download=invite.ics'
                ).mark('ics')

    def _actions(self) -> None:
        _ = self.t.gettext
        with ui.card().classes(design.CARD):
            heading(_('Need to make a change?'), 2, design.TITLE + ' m-0')
            with ui.row().classes('gap-3'):
                if self.view.reschedulable:
                    ui.button(_('Reschedule'), on_click=self._open_picker).props('outline no-caps').mark('reschedule')
                ui.button(_('Cancel meeting'), on_click=self._confirm_cancel).props(
                    'outline no-caps color=negative'
                ).mark('cancel')
            self.picker_box = ui.column().classes('w-full')

    def _open_picker(self) -> None:
        if self.view.event_type is None:
            return
        self.picker_box.clear()
        with self.picker_box:
            heading(self.t.gettext('Pick a new time'), 3, 'text-base font-semibold m-0')
            self.picker = SlotPicker(
                zone=self.view.invitee_timezone,
                load=self._load,
                find_next=self._find_next,
                on_pick=self._confirm_move,
                clock24=self.view.clock24,
                t=self.t,
            )
        booked = self.view.start.astimezone(ZoneInfo(self.view.invitee_timezone)).date()
        picker = self.picker
        ui.timer(0, lambda: picker.jump_to(booked), once=True)  # opens on the booked date

    async def _refresh_picker(self) -> None:
        if self.picker is not None and not self.picker_box.is_deleted:
            await self.picker.reload(quiet=True)

    async def _load(self, month: date, zone: str) -> MonthSlots:
        """The times this meeting could move to: its own current time is not a new time."""
        assert self.view.event_type is not None
        data = await slot_loading.month_slots(self.view.host.id, self.view.event_type.id, month, zone, self.view.uid)
        days = {day: [s for s in slots if s.start != self.view.start] for day, slots in data.days.items()}
        return MonthSlots(days={day: slots for day, slots in days.items() if slots}, degraded=data.degraded)

    async def _find_next(self, after: date, zone: str) -> date | None:
        assert self.view.event_type is not None
        return await slot_loading.first_free_day(self.view.event_type.id, after, zone)

    def _confirm_move(self, slot: Slot, zone: str) -> None:
        local, clock = slot.start.astimezone(ZoneInfo(zone)), self.picker.clock24 if self.picker else True
        t, _ = self.t, self.t.gettext
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3'):
            heading(_('Move your meeting?'), 2, design.TITLE + ' m-0')
            ui.label(
                _(
                    'New time: {when} ({city} time)',
                    when=f'{format_day(local.date(), t)}, {format_time(local, clock, t)}',
                    city=t.city(zone),
                )
            )
            reason = (
                ui.textarea(
                    _('Reason for the change (optional, sent to the host)'),
                    validation={_('Keep the reason under 1000 characters.'): lambda v: len(v or '') <= 1000},
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('move-reason')
            )
            with ui.row().classes('gap-2'):
                ui.button(_('Move meeting'), on_click=lambda: self._move(dialog, slot, reason.value or '')).props(
                    'unelevated no-caps'
                ).mark('confirm-move')
                ui.button(_('Keep the current time'), on_click=dialog.close).props('flat no-caps')
        dialog.open()

    async def _move(self, dialog: ui.dialog, slot: Slot, reason: str = '') -> None:
        if len(reason) > 1000:
            return
        _ = self.t.gettext
        dialog.close()
        try:
            self.view = await off_loop(_reschedule, self.address, self.view.uid, self.view.token, slot.start, reason)
        except SlotUnavailable:
            ui.notify(_('Sorry, that time was just taken. Please pick another one.'), type='warning')
            if self.picker:
                await self.picker.reload()
            return
        except (Conflict, NotFound) as exc:
            ui.notify(self.t.gettext(exc.detail), type='negative')
            return
        except OperationalError:
            ui.notify(_('The meeting could not be moved right now. Please try again.'), type='negative')
            return
        self.picker = None
        self._render()
        ui.notify(_('Your meeting was moved.'), type='positive')

    def _confirm_cancel(self) -> None:
        _ = self.t.gettext
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
            heading(_('Cancel this meeting?'), 2, design.TITLE + ' m-0')
            reason = (
                ui.textarea(
                    _('Reason (optional)'),
                    validation={_('Please keep it under 1000 characters'): lambda v: len(v or '') <= 1000},
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('cancel-reason-input')
            )
            with ui.row().classes('gap-2'):
                ui.button(_('Yes, cancel'), on_click=lambda: self._cancel(dialog, reason.value or '')).props(
                    'unelevated no-caps color=negative'
                ).mark('confirm-cancel')
                ui.button(_('Keep the meeting'), on_click=dialog.close).props('flat no-caps')
        dialog.open()

    async def _cancel(self, dialog: ui.dialog, reason: str) -> None:
        dialog.close()
        try:
            self.view = await off_loop(_cancel, self.address, self.view.uid, self.view.token, reason[:1000])
        except (NotFound, OperationalError):
            ui.notify(
                self.t.gettext('The meeting could not be cancelled right now. Please try again.'), type='negative'
            )
            return
        self.picker = None
        self._render()


def _details(view: public.ManageView, start: datetime, end: datetime, t: Translator) -> None:
    clock, _ = view.clock24, t.gettext
    with ui.column().classes('gap-1 text-slate-800').mark('details'):
        ui.label(_title(view, t)).classes('text-lg font-semibold')
        ui.label(
            f'{format_day(start.date(), t)}, {format_time(start, clock, t)} – {format_time(end, clock, t)}'
        ).classes('font-medium').mark('when')
        ui.label(_('Time zone: {city}', city=t.city(view.invitee_timezone))).classes(design.SUBTLE)
        ui.label(_('Location: {place}', place=_(view.location_label))).mark('where')
        value = view.location_value
        if value and _is_web_link(value):
            ui.link(value, value, new_tab=True).mark('location-link')
        elif value:
            ui.label(value).classes('whitespace-pre-line').mark('location-value')


def _title(view: public.ManageView, t: Translator) -> str:
    name = view.event_type.title if view.event_type else t.gettext('Meeting')
    return t.gettext('{event_name} with {name}', event_name=name, name=view.host.name)


def _location_text(view: public.ManageView, t: Translator) -> str:
    return view.location_value or t.gettext(view.location_label)


def _is_web_link(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ('http', 'https') and bool(parsed.netloc)


def _client_address(request: Request) -> str:
    return client_address(request)


def _guarded_view(address: str, uid: str, token: str) -> public.ManageView:
    """The manage view for the right token, always; wrong tokens are counted per booking and client address."""
    return use_cases.manage_view(uid=uid, token=token, address=address, now=slot_loading.now())


def _reschedule(address: str, uid: str, token: str, start: datetime, reason: str = '') -> public.ManageView:
    use_cases.reschedule_by_token(
        uid=uid, token=token, start=start, now=slot_loading.now(), address=address, reason=reason
    )
    return _guarded_view(address, uid, token)


def _answer_proposal(address: str, uid: str, token: str, accept: bool) -> public.ManageView:
    answer = use_cases.accept_proposal_by_token if accept else use_cases.decline_proposal_by_token
    answer(uid=uid, token=token, now=slot_loading.now(), address=address)
    return _guarded_view(address, uid, token)


def _cancel(address: str, uid: str, token: str, reason: str) -> public.ManageView:
    use_cases.cancel_by_token(uid=uid, token=token, reason=reason, now=slot_loading.now(), address=address)
    return _guarded_view(address, uid, token)
