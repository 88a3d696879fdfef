"""`/team/{team_slug}` (a team's profile, listing its event types) and `/team/{team_slug}/{slug}` (its booking
page: the host booking page's flow, components and live updates, with the team's free times and booking)."""

from __future__ import annotations

from datetime import date

from fastapi import Request, Response
from nicegui import ui

from app.errors import NotFound
from components import design
from components.frame import frame, not_found
from components.headings import heading
from components.rich_text import plain_text
from components.slot_picker import MonthSlots
from pages import slot_loading
from pages.blocking import off_loop
from pages.language import page_translator, reload_in
from pages.live import refresh_on_booking_change
from pages.public import (
    ZONE_COOKIE,
    ZONE_COOKIE_SCRIPT,
    BookingFlow,
    FlowState,
    _valid_day,
    _valid_instant,
    _valid_zone,
)
from services import bookings, public, team_use_cases
from services.team_use_cases import TeamPage
from web.edge import client_address


def register() -> None:
    ui.page('/team/{team_slug}')(team_page)
    ui.page('/team/{team_slug}/{slug}')(team_booking_page)


async def team_page(request: Request, team_slug: str, lang: str = '') -> Response | None:
    t = page_translator(request, lang)
    _ = t.gettext
    try:
        profile = await off_loop(lambda: team_use_cases.team_profile(team_slug=team_slug))
    except NotFound:
        not_found(_('There is no booking page at this address. Check the link you were given.'), t=t)
        return None
    with frame(profile.name, t=t, on_language=lambda code: reload_in(code, f'/team/{team_slug}')):
        heading(profile.name, 1, design.HEADLINE + ' m-0').mark('team-name')
        ui.label(', '.join(profile.members)).classes(design.SUBTLE).mark('team-members')
        if not profile.event_types:
            ui.label(_('{host_name} has no meetings to book right now.', host_name=profile.name)).classes(
                design.SUBTLE
            ).mark('no-types')
        for slug, title, description, minutes in profile.event_types:
            target = f'/team/{profile.slug}/{slug}' + (f'?lang={t.locale}' if lang else '')
            with ui.link(target=target).classes('w-full no-underline text-inherit').mark(f'team-type-{slug}'):
                with ui.card().classes(design.CARD + ' hover:shadow-md'):
                    heading(title, 2, design.TITLE + ' m-0')
                    ui.label(_('{minutes} min', minutes=minutes)).classes(design.SUBTLE)
                    if description:
                        ui.label(plain_text(description)).classes(
                            'text-slate-700 whitespace-pre-line line-clamp-3 break-words'
                        )
    return None


async def team_booking_page(
    request: Request,
    team_slug: str,
    slug: str,
    embed: str = '',
    date: str = '',
    slot: str = '',
    tz: str = '',
    lang: str = '',
) -> Response | None:
    t = page_translator(request, lang)
    try:
        page = await off_loop(lambda: team_use_cases.team_page(team_slug=team_slug, slug=slug))
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
        day=_valid_day(date), slot=_valid_instant(slot), zone_given=bool(_valid_zone(tz)), lang=t.locale if lang else ''
    )
    TeamBookingFlow(page, embed=embed == '1', known_zone=known_zone, state=state, t=t)
    return None


class TeamBookingFlow(BookingFlow):
    """The host booking flow over a team: free times merged over its members, booked with the team, refreshed
    live on any member's change."""

    def __init__(self, page: TeamPage, **options: object) -> None:
        self.page = page
        event_type = page.event_type
        shown = public.PublicHost(
            id=page.member_ids[0] if page.member_ids else 0, username='', name=page.team_name, intro='', timezone='UTC'
        )
        offered = public.PublicEventType(
            id=page.event_type_id,
            slug=page.slug,
            title=event_type.title,
            description=event_type.description,
            duration_minutes=event_type.duration_minutes,
            location_kind=event_type.location_kind,
            questions=tuple(event_type.questions),
        )
        super().__init__(shown, offered, **options)  # type: ignore[arg-type]
        for member_id in page.member_ids[1:]:
            refresh_on_booking_change(member_id, self._refresh)

    @property
    def _path(self) -> str:
        return f'/team/{self.page.team_slug}/{self.page.slug}'

    async def _load(self, month: date, zone: str) -> MonthSlots:
        self.zone = zone
        days, problem = await off_loop(
            team_use_cases.picker_month,
            event_type_id=self.page.event_type_id,
            month=month,
            zone=zone,
            now=slot_loading.now(),
        )
        return MonthSlots(days=days, degraded=problem)

    async def _find_next(self, after: date, zone: str) -> date | None:
        return await off_loop(
            team_use_cases.picker_next_free_day,
            event_type_id=self.page.event_type_id,
            after=after,
            zone=zone,
            now=slot_loading.now(),
        )

    async def _book(self, invitee: bookings.Invitee) -> bookings.Receipt:
        assert self.chosen is not None
        found = await off_loop(
            team_use_cases.book,
            event_type_id=self.page.event_type_id,
            start=self.chosen.start,
            invitee=invitee,
            now=slot_loading.now(),
            address=client_address(self.client.request),
            idempotency_key=self.idempotency_key,
        )
        return found.receipt
