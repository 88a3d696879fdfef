"""`/{username}` (the host's public page) and `/{username}/{slug}` (the booking page)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from nicegui import Client, app, background_tasks, ui
from sqlalchemy.exc import OperationalError

from app.errors import Conflict, InvalidInput, Moved, NotFound, RateLimited, SlotUnavailable
from app.i18n import ENGLISH, Translator
from components import design
from components.booking_form import BookingForm
from components.clock import clock24_for
from components.event_header import avatar, event_header
from components.frame import frame, not_found
from components.headings import heading
from components.rich_text import plain_text
from components.slot_picker import MonthSlots, SlotPicker, format_day, format_time
from components.timezone_select import show_zone
from pages import slot_loading
from pages.blocking import off_loop
from pages.language import page_translator, reload_in
from pages.live import refresh_on_booking_change
from services import bookings, public, use_cases, validation
from services.slots import Slot
from web.edge import client_address


def avatar_image(username: str) -> Response:
    """A host's picture (public, like their name)."""
    try:
        data, kind = public.avatar(username=username)
    except NotFound:
        return Response(status_code=404)
    return Response(
        data,
        media_type=kind,
        headers={'Cache-Control': 'public, max-age=300', 'Content-Security-Policy': "default-src 'none'"},
    )


def register() -> None:
    app.get('/avatar/{username}', include_in_schema=False)(avatar_image)
    ui.page('/{username}')(host_page)
    ui.page('/{username}/{slug}')(booking_page)


async def host_page(request: Request, username: str, lang: str = '') -> Response | None:
    t = page_translator(request, lang)
    _ = t.gettext
    try:
        host, types = await off_loop(lambda: public.host_page(username=username))
    except Moved as moved:  # a username the host gave up lately still leads to them
        return RedirectResponse(f'/{moved.username}', status_code=307)
    except NotFound:
        not_found(_('There is no booking page at this address. Check the link you were given.'), t=t)
        return None
    with frame(host.name, brand=host.brand_color, t=t, on_language=lambda code: reload_in(code, f'/{username}')):
        with ui.row().classes('items-center gap-4'):
            avatar(host)
            heading(host.name, 1, design.HEADLINE + ' m-0')
        if host.intro:
            ui.label(host.intro).classes('text-slate-700 whitespace-pre-line').mark('intro')
        if not types:
            ui.label(_('{host_name} has no meetings to book right now.', host_name=host.name)).classes(
                design.SUBTLE
            ).mark('no-types')
        for event_type in types:
            target = f'/{host.username}/{event_type.slug}' + (f'?lang={t.locale}' if lang else '')
            with ui.link(target=target).classes('w-full no-underline text-inherit'):
                with ui.card().classes(design.CARD + ' hover:shadow-md'):
                    heading(event_type.title, 2, design.TITLE + ' m-0')
                    minutes = _('{minutes} min', minutes=event_type.duration_minutes)
                    ui.label(f'{minutes} · {_(event_type.location_label)}').classes(design.SUBTLE)
                    if event_type.description:
                        ui.label(plain_text(event_type.description)).classes(
                            'text-slate-700 whitespace-pre-line line-clamp-3 break-words'
                        )
    return None


async def booking_page(
    request: Request,
    username: str,
    slug: str,
    embed: str = '',
    date: str = '',
    slot: str = '',
    tz: str = '',
    lang: str = '',
    duration: str = '',
) -> Response | None:
    t = page_translator(request, lang)
    try:
        host, event_type = await off_loop(lambda: public.booking_page(username=username, slug=slug))
    except Moved as moved:
        query = f'?{request.url.query}' if request.url.query else ''
        return RedirectResponse(f'/{moved.username}/{slug}{query}', status_code=307)
    except NotFound:
        not_found(
            t.gettext('This booking page does not exist, or it is not taking bookings right now.'),
            embed=embed == '1',
            t=t,
        )
        return None
    ui.add_head_html(ZONE_COOKIE_SCRIPT)
    known_zone = _valid_zone(tz) or _valid_zone(request.cookies.get(ZONE_COOKIE))
    state = FlowState(
        day=_valid_day(date),
        slot=_valid_instant(slot),
        zone_given=bool(_valid_zone(tz)),
        lang=t.locale if lang else '',
        duration=int(duration) if duration.isdigit() else None,
    )
    BookingFlow(
        host, event_type, embed=embed == '1', known_zone=known_zone, state=state, clock24=_clock24(host, request), t=t
    )
    return None


@dataclass(frozen=True, slots=True)
class FlowState:
    """The step the URL names (`?date=`, `?slot=`, `?tz=`), so a reload, Back or a shared link lands there."""

    day: date | None = None
    slot: datetime | None = None
    zone_given: bool = False
    lang: str = ''  # a language the address names (kept in it)
    duration: int | None = None  # the length chosen among the event type's options


ZONE_COOKIE = 'cloudmeet_tz'
# Remembers the browser's zone for the next visit, so its times can load without asking the browser first.
ZONE_COOKIE_SCRIPT = (
    '<script>document.cookie="cloudmeet_tz="+encodeURIComponent('
    'Intl.DateTimeFormat().resolvedOptions().timeZone)+";path=/;max-age=31536000;samesite=lax"'
    '</script>'
)


class BookingFlow:
    """Step 1 picks a time, step 2 takes the invitee's details; the times stay live throughout."""

    def __init__(
        self,
        host: public.PublicHost,
        event_type: public.PublicEventType,
        *,
        embed: bool,
        known_zone: str | None = None,
        state: FlowState | None = None,
        clock24: bool = True,
        t: Translator = ENGLISH,
    ) -> None:
        self.host, self.event_type, self.t = host, event_type, t
        _ = t.gettext
        self.chosen: Slot | None = None
        self.zone = known_zone or host.timezone
        self.known_zone = known_zone
        self.state = state or FlowState()
        self.embed = embed
        self.idempotency_key = ''
        self.duration = (
            self.state.duration if self.state.duration in event_type.durations else event_type.duration_minutes
        )
        with frame(event_type.title, embed=embed, brand=host.brand_color, t=t, on_language=self._switch_language):
            event_header(host, event_type, t)
            with ui.card().classes(design.CARD) as self.pick_step:
                heading(_('Select a date and time'), 2, design.TITLE + ' m-0')
                if len(event_type.durations) > 1:  # the invitee picks the length first; the times follow it
                    with ui.row().classes('items-center gap-2'):
                        ui.label(_('Duration')).classes('font-medium text-slate-700')
                        toggle = (
                            ui.toggle(
                                {m: _('{minutes} min', minutes=m) for m in event_type.durations},
                                value=self.duration,
                                on_change=self._choose_duration,
                            )
                            .props('no-caps')
                            .mark('durations')
                        )
                        toggle.props['aria-label'] = _('Duration')
                self.picker = SlotPicker(
                    zone=self.zone,
                    load=self._load,
                    find_next=self._find_next,
                    on_pick=self._pick,
                    clock24=clock24,
                    on_view=self._keep_in_url,
                    t=t,
                )
            with ui.card().classes(design.CARD) as self.form_step:
                with ui.row().classes('items-center gap-2'):
                    back = (
                        ui.button(icon='arrow_back', on_click=self._back_pressed)
                        .props('flat round')
                        .tooltip(_('Back to times'))
                        .mark('back')
                    )
                    back.props['aria-label'] = _('Back to times')
                    heading(_('Enter your details'), 2, design.TITLE + ' m-0')
                self.summary = ui.label('').classes('font-medium text-slate-800').mark('chosen-time')
                self.taken = ui.label('').classes(design.WARNING).props('role=alert').mark('taken')
                self.form_box = ui.column().classes('w-full')  # the form is built when a time is first picked
            self.form_step.set_visibility(False)
        self._form: BookingForm | None = None
        self.client = ui.context.client
        # the browser's Back button leaves the details step for the times, like the page's own back arrow
        ui.on('booking_back', lambda: self._back() if self.form_step.visible else None)
        ui.run_javascript("window.addEventListener('popstate', () => emitEvent('booking_back'))")
        refresh_on_booking_change(host.id, self._refresh)
        background_tasks.create(self._start(), name='booking-page-start')

    async def _start(self) -> None:
        if self.known_zone:  # a returning browser (or a link naming its zone): no need to ask for it first
            await self.client.connected()
        else:
            zone = await detect_browser_zone(self.client)
            if zone and zone != self.picker.zone:
                self.picker.zone = zone
                show_zone(self.picker.zone_select, zone, self.t)
        if self.state.day:
            await self.picker.jump_to(self.state.day)
        else:
            await self.picker.reload()
        slot = self.state.slot
        if slot is not None:
            offered = next((s for s in self.picker.slots_of_selected_day() if s.start == slot), None)
            if offered:
                self._pick(offered, self.picker.zone, push=False)
                with self.form_step:  # the tab's storage is found through the page's client
                    self.form.fill(app.storage.tab.get(self._details_key, {}))
            else:
                with self.pick_step:
                    ui.notify(
                        self.t.gettext('That time is no longer free. Here are the times that are.'),
                        type='warning',
                        position='top',
                    )
                self._keep_in_url()

    @property
    def form(self) -> BookingForm:
        """The details form, built on first use: the first HTML of the page stays light."""
        if self._form is None:
            with self.form_box:
                self._form = BookingForm(self.event_type.questions, self._submit, t=self.t)
            self._form.on_change(self._remember_details)
        return self._form

    @property
    def _details_key(self) -> str:
        return f'booking-details:{self.event_type.id}'

    def _remember_details(self) -> None:
        """Typed details survive a reload of this tab (kept server-side with the tab, never in the URL)."""
        app.storage.tab[self._details_key] = self.form.values()

    def _keep_in_url(self, *, push: bool = False) -> None:
        query = self._query()
        if self.state.lang:
            query['lang'] = self.state.lang
        url = f'{self._path}?{urlencode(query)}'
        self.client.run_javascript(f'history.{"pushState" if push else "replaceState"}(null, "", {json.dumps(url)})')

    def _query(self) -> dict[str, str]:
        query = {'tz': self.picker.zone}
        if self.picker.selected:
            query['date'] = self.picker.selected.isoformat()
        if self.chosen and self.form_step.visible:
            query['slot'] = self.chosen.start.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        if self.embed:
            query['embed'] = '1'
        if self._chosen_duration:
            query['duration'] = str(self.duration)
        return query

    @property
    def _path(self) -> str:
        return f'/{self.host.username}/{self.event_type.slug}'

    def _switch_language(self, locale: str) -> None:
        """The same step in another language (typed details are kept with the tab)."""
        if locale != self.t.locale:
            reload_in(locale, self._path, self._query())

    async def _load(self, month: date, zone: str) -> MonthSlots:
        self.zone = zone
        return await slot_loading.month_slots(
            self.host.id, self.event_type.id, month, zone, duration=self._chosen_duration
        )

    async def _find_next(self, after: date, zone: str) -> date | None:
        return await slot_loading.first_free_day(self.event_type.id, after, zone, duration=self._chosen_duration)

    @property
    def _chosen_duration(self) -> int | None:
        return self.duration if self.duration != self.event_type.duration_minutes else None

    async def _choose_duration(self, event: Any) -> None:
        self.duration = int(event.value)
        self._keep_in_url()
        await self.picker.reload()

    def _pick(self, slot: Slot, zone: str, *, push: bool = True) -> None:
        self.chosen, self.zone = slot, zone
        self.idempotency_key = secrets.token_urlsafe(16)
        self._show_chosen()
        self.taken.set_visibility(False)
        self.form.set_enabled(True)
        self.form.show_error('')
        self.pick_step.set_visibility(False)
        self.form_step.set_visibility(True)
        self._keep_in_url(push=push)
        self.form.name.run_method('focus')

    def _show_chosen(self) -> None:
        if self.chosen:
            start = self.chosen.start.astimezone(ZoneInfo(self.zone))
            end = self.chosen.end.astimezone(ZoneInfo(self.zone))
            clock, t = self.picker.clock24, self.t
            when = f'{format_day(start.date(), t)}, {format_time(start, clock, t)} – {format_time(end, clock, t)}'
            self.summary.text = t.gettext('{when} ({city} time)', when=when, city=t.city(self.zone))

    def _back(self, message: str = '') -> None:
        self.form_step.set_visibility(False)
        self.pick_step.set_visibility(True)
        self._keep_in_url()
        if message:
            ui.notify(message, type='warning', position='top')

    def _back_pressed(self) -> None:
        self._back()
        self.client.run_javascript('history.back()')  # leave the details step's history entry too (popstate: no-op)

    async def _refresh(self) -> None:
        await self.picker.reload(quiet=True)
        if self.chosen and self.form_step.visible and not self.picker.is_free(self.chosen):
            self.taken.text = self.t.gettext(
                'Sorry, this time was just booked by someone else. Please go back and pick another time.'
            )
            self.taken.set_visibility(True)
            self.form.set_enabled(False)

    async def _submit(self, values: dict[str, Any]) -> None:
        assert self.chosen is not None
        try:
            invitee = bookings.Invitee(
                name=values['name'],
                email=values['email'],
                timezone=self.zone,
                notes=values['notes'],
                answers=values['answers'],
                clock24=self.picker.clock24,
                locale=self.t.locale,
            )
            receipt = await self._book(invitee)
        except SlotUnavailable:
            await self.picker.reload()
            self._back(self.t.gettext('Sorry, that time was just taken. Here are the times that are still free.'))
            return
        except (InvalidInput, NotFound, Conflict, RateLimited) as exc:
            self.form.show_error(self.t.gettext(exc.detail))  # the known messages are in the catalogs
            return
        except OperationalError:
            self.form.show_error(
                self.t.gettext('We could not save your booking right now; nothing was booked. Please try again.')
            )
            return
        ui.navigate.to(f'/booking/{receipt.booking.uid}?token={receipt.token}')

    async def _book(self, invitee: bookings.Invitee) -> bookings.Receipt:
        """Book the chosen time (a team's page books with the team)."""
        assert self.chosen is not None
        return await off_loop(
            use_cases.book,
            event_type_id=self.event_type.id,
            host_id=self.host.id,
            start=self.chosen.start,
            invitee=invitee,
            now=slot_loading.now(),
            address=client_address(self.client.request),
            idempotency_key=self.idempotency_key,
            duration=self._chosen_duration,
        )


async def detect_browser_zone(client: Client) -> str | None:
    """The browser's IANA zone, when it reports a known one."""
    try:
        zone = await client.run_javascript('Intl.DateTimeFormat().resolvedOptions().timeZone', timeout=3)
    except TimeoutError:
        return None
    return _valid_zone(zone)


def _clock24(host: public.PublicHost, request: Request) -> bool:
    """The host's chosen clock, else the one the browser's language writes times with (en-US: 12 h)."""
    return host.clock24 if host.clock24 is not None else clock24_for(request.headers.get('accept-language'))


def _valid_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _valid_instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment and moment.tzinfo else None


def _valid_zone(zone: object) -> str | None:
    try:
        return validation.time_zone(zone) if isinstance(zone, str) else None
    except InvalidInput:
        return None
