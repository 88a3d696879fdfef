"""`/teams` in the host dashboard: the host's teams with their members and roles, and each team's event types.
Admins create and rename teams, invite members (by username or e-mail of an account), change roles, remove members
and make team event types; every member may leave and pick which of their schedules a team event type uses. Also
the "Team bookings" section of the dashboard (who got each booking, and why). Every change goes through
`pages.signed_in` as the signed-in host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from nicegui import ui
from sqlmodel import Session

from app.i18n import _
from components import design
from components.confirm import confirm
from components.headings import heading
from components.host_frame import host_frame
from pages.auth import now
from pages.live import refresh_on_booking_change
from pages.signed_in import SignedIn, act, read, sign_in_first, signed_in
from services import schedules, team_bookings, teams, validation
from services.teams import TeamEventTypeInput

ASSIGNMENTS = {'round_robin': 'Round robin: one free member', 'collective': 'Collective: every member'}


def register() -> None:
    ui.page('/teams')(teams_page)


@dataclass(frozen=True, slots=True)
class TeamView:
    id: int
    slug: str
    name: str
    role: str
    members: list[teams.Member]
    event_types: list[dict[str, Any]]
    my_schedules: dict[int, int | None]  # event type id -> the schedule I chose (hosted ones only)


def _load(session: Session, host_id: int) -> tuple[list[TeamView], dict[int, str]]:
    views = []
    for team in teams.teams_of(session=session, host_id=host_id):
        assert team.id is not None
        listed = teams.list_team_event_types(session=session, team_id=team.id)
        mine = {
            row.event_type_id: row.schedule_id
            for e in listed
            for row in teams.hosts_of(session=session, event_type_id=e.id or 0)
            if row.host_id == host_id
        }
        views.append(
            TeamView(
                team.id,
                team.slug,
                team.name,
                teams.role_of(session=session, team_id=team.id, host_id=host_id) or 'member',
                teams.members(session=session, team_id=team.id),
                [teams.team_event_type_json(session, e) for e in listed],
                mine,
            )
        )
    own = {s.id or 0: s.name for s in schedules.list_schedules(session=session, host_id=host_id)}
    return views, own


async def teams_page(request: Request) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    TeamsPage(who)
    return None


class TeamsPage:
    def __init__(self, who: SignedIn) -> None:
        self.who = who
        with host_frame(_('Teams'), active='/teams', brand=who.host.brand_color):
            heading(_('Teams'), 1, design.HEADLINE + ' m-0')
            ui.label(
                _(
                    'Book meetings with a group: round robin gives each time to a free member, collective books '
                    'every member at once.'
                )
            ).classes(design.SUBTLE)
            with ui.card().classes(design.CARD).mark('new-team'):
                heading(_('New team'), 2, design.TITLE + ' m-0')
                with ui.row().classes('w-full items-start gap-3'):
                    self.name = (
                        ui.input(_('Name'), validation=_required)
                        .props('outlined dense')
                        .classes('flex-1')
                        .mark('team-name')
                    )
                    self.slug = (
                        ui.input(_('Address: /team/...'), validation=_slug_problem)
                        .props('outlined dense')
                        .classes('flex-1')
                        .mark('team-slug')
                    )
                    ui.button(_('Create team'), on_click=self.create).props('no-caps').mark('create-team')
            self.list = ui.column().classes('w-full gap-4').mark('teams')
            self.dialogs = ui.element('div')
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        views, own = await read(self.who, _load)
        self.list.clear()
        with self.list:
            if not views:
                ui.label(_('You are in no team yet.')).classes(design.SUBTLE).mark('no-teams')
            for view in views:
                _TeamCard(self, view, own)

    async def create(self) -> None:
        name, slug = (self.name.value or '').strip(), (self.slug.value or '').strip().lower()
        if _required(name) or _slug_problem(slug):
            self.name.validate()
            self.slug.validate()
            return
        made = await act(
            self.who, lambda s, h: teams.create_team(session=s, host_id=h, slug=slug, name=name), done=_('Team created')
        )
        if made is not None:
            self.name.value = self.slug.value = ''
            await self.refresh()


class _TeamCard:
    def __init__(self, page: TeamsPage, view: TeamView, own: dict[int, str]) -> None:
        self.page, self.view, self.who = page, view, page.who
        admin = view.role == 'admin'
        with ui.card().classes(design.CARD).mark(f'team-{view.slug}'):
            with ui.row().classes('w-full items-center justify-between'):
                heading(view.name, 2, design.TITLE + ' m-0')
                ui.link(f'/team/{view.slug}', f'/team/{view.slug}', new_tab=True).mark('team-link')
            heading(_('Members'), 3, 'text-lg font-semibold m-0')
            for member in view.members:
                with ui.row().classes('w-full items-center gap-3').mark(f'member-{member.username}'):
                    ui.label(f'{member.name} (@{member.username})').classes('flex-1 break-words')
                    if admin:
                        ui.select(
                            {'admin': _('Admin'), 'member': _('Member')},
                            value=member.role,
                            on_change=lambda e, m=member: self.set_role(m.username, e.value),
                        ).props('dense outlined').classes('w-32').mark('role')
                    else:
                        ui.label(_('Admin') if member.role == 'admin' else _('Member')).classes(design.SUBTLE)
                    if admin or member.host_id == self.who.host_id:
                        label = _('Leave') if member.host_id == self.who.host_id else _('Remove')
                        ui.button(label, on_click=lambda m=member: self.remove(m)).props(
                            'flat dense no-caps color=negative'
                        ).mark('remove-member')
            if admin:
                with ui.row().classes('w-full items-start gap-3'):
                    self.invite = (
                        ui.input(_('Username or e-mail of an account'))
                        .props('outlined dense')
                        .classes('flex-1')
                        .mark('invite')
                    )
                    self.role = (
                        ui.select({'member': _('Member'), 'admin': _('Admin')}, value='member')
                        .props('outlined dense')
                        .classes('w-32')
                    )
                    ui.button(_('Add member'), on_click=self.add).props('outline no-caps').mark('add-member')
            heading(_('Team event types'), 3, 'text-lg font-semibold m-0')
            if not view.event_types:
                ui.label(_('No team event types yet.')).classes(design.SUBTLE)
            for event_type in view.event_types:
                self._event_type(event_type, own, admin)
            if admin:
                self._new_event_type()

    def _event_type(self, event_type: dict[str, Any], own: dict[int, str], admin: bool) -> None:
        with ui.row().classes('w-full items-center gap-3').mark(f'team-type-{event_type["slug"]}'):
            with ui.column().classes('flex-1 gap-0'):
                ui.label(f'{event_type["title"]} · {event_type["duration_minutes"]} min').classes('font-medium')
                ui.label(f'{_(ASSIGNMENTS[event_type["assignment"]])} · {", ".join(event_type["members"])}').classes(
                    design.SUBTLE
                )
                ui.link(
                    f'/team/{self.view.slug}/{event_type["slug"]}',
                    f'/team/{self.view.slug}/{event_type["slug"]}',
                    new_tab=True,
                )
            if event_type['id'] in self.view.my_schedules:
                options: dict[int, str] = {0: _('My default schedule'), **own}
                ui.select(
                    options,
                    value=self.view.my_schedules[event_type['id']] or 0,
                    label=_('My schedule'),
                    on_change=lambda e, et=event_type: self.choose(et['id'], e.value),
                ).props('outlined dense').classes('w-48').mark('my-schedule')
            if admin:
                ui.button(icon='delete', on_click=lambda et=event_type: self.delete(et)).props(
                    'flat round dense color=negative aria-label="Delete event type"'
                ).mark('delete-type')

    def _new_event_type(self) -> None:
        with ui.expansion(_('New team event type')).classes('w-full').mark('new-team-type'):
            with ui.column().classes('w-full gap-2'):
                self.title = (
                    ui.input(_('Title'), validation=_required)
                    .props('outlined dense')
                    .classes('w-full')
                    .mark('type-title')
                )
                with ui.row().classes('w-full gap-3'):
                    self.minutes = (
                        ui.number(_('Minutes'), value=30, min=5, max=720, step=5)
                        .props('outlined dense')
                        .classes('w-32')
                        .mark('type-minutes')
                    )
                    self.assignment = (
                        ui.select({k: _(v) for k, v in ASSIGNMENTS.items()}, value='round_robin', label=_('Assignment'))
                        .props('outlined dense')
                        .classes('flex-1')
                        .mark('type-assignment')
                    )
                self.hosts = (
                    ui.select(
                        {m.username: m.name for m in self.view.members},
                        value=[m.username for m in self.view.members],
                        multiple=True,
                        label=_('Members who host it'),
                    )
                    .props('outlined dense use-chips')
                    .classes('w-full')
                    .mark('type-members')
                )
                ui.button(_('Create event type'), on_click=self.create_type).props('no-caps').mark('create-type')

    async def create_type(self) -> None:
        if _required(self.title.value or ''):
            self.title.validate()
            return
        try:
            data = TeamEventTypeInput(
                title=self.title.value,
                duration_minutes=int(self.minutes.value or 30),
                assignment=self.assignment.value,
                members=list(self.hosts.value or []),
            )
        except ValueError as exc:
            ui.notify(str(exc).splitlines()[0], type='negative')
            return
        made = await act(
            self.who,
            lambda s, h: teams.create_team_event_type(session=s, host_id=h, team_id=self.view.id, data=data),
            done=_('Event type created'),
        )
        if made is not None:
            await self.page.refresh()

    async def add(self) -> None:
        who, role = (self.invite.value or '').strip(), self.role.value
        if not who:
            return
        if (
            await act(
                self.who,
                lambda s, h: teams.add_member(session=s, host_id=h, team_id=self.view.id, who=who, role=role),
                done=_('Member added'),
            )
            is not None
        ):
            await self.page.refresh()

    async def set_role(self, username: str, role: str) -> None:
        await act(
            self.who,
            lambda s, h: teams.add_member(session=s, host_id=h, team_id=self.view.id, who=username, role=role),
            done=_('Role changed'),
        )
        await self.page.refresh()

    def remove(self, member: teams.Member) -> None:
        leaving = member.host_id == self.who.host_id
        question = (
            _('Leave {team}?', team=self.view.name)
            if leaving
            else _('Remove {name} from {team}?', name=member.name, team=self.view.name)
        )

        async def go() -> None:
            await act(
                self.who,
                lambda s, h: teams.remove_member(session=s, host_id=h, team_id=self.view.id, username=member.username),
                done=_('You left the team') if leaving else _('Member removed'),
            )
            await self.page.refresh()

        confirm(
            self.page.dialogs,
            title=_('Leave the team?') if leaving else _('Remove member?'),
            text=question,
            action=_('Leave') if leaving else _('Remove'),
            on_confirm=go,
            mark='confirm-remove',
        )

    def delete(self, event_type: dict[str, Any]) -> None:
        async def go() -> None:
            await act(
                self.who,
                lambda s, h: teams.delete_team_event_type(
                    session=s, host_id=h, team_id=self.view.id, event_type_id=event_type['id']
                ),
                done=_('Event type deleted'),
            )
            await self.page.refresh()

        confirm(
            self.page.dialogs,
            title=_('Delete event type?'),
            text=_('Delete {title}? Bookings already made stay.', title=event_type['title']),
            action=_('Delete'),
            on_confirm=go,
            mark='confirm-delete-type',
        )

    async def choose(self, event_type_id: int, schedule_id: int) -> None:
        await act(
            self.who,
            lambda s, h: teams.choose_schedule(
                session=s, host_id=h, event_type_id=event_type_id, schedule_id=schedule_id or None
            ),
            done=_('Schedule chosen'),
        )


class TeamBookings:
    """The dashboard's section of the host's upcoming team bookings: the member each went to, and why."""

    def __init__(self, who: SignedIn) -> None:
        self.who = who
        self.zone = ZoneInfo(who.host.timezone)
        with ui.card().classes(design.CARD).mark('team-bookings') as self.card:
            heading(_('Team bookings'), 2, design.TITLE + ' m-0')
            self.list = ui.column().classes('w-full gap-2')
        self.card.set_visibility(False)
        ui.timer(0, self.refresh, once=True)
        refresh_on_booking_change(who.host_id, self.refresh)

    async def refresh(self) -> None:
        found = await read(self.who, lambda s, h: team_bookings.upcoming_for_member(s, h, now()))
        self.card.set_visibility(bool(found))
        self.list.clear()
        with self.list:
            for item in found:
                start = item.start.astimezone(self.zone)
                with ui.column().classes('w-full gap-0 border-b border-slate-200 pb-2').mark('team-booking'):
                    ui.label(f'{start:%a %d %b, %H:%M} · {item.title} ({item.team}) · {item.invitee}').classes(
                        'font-medium break-words'
                    )
                    ui.label(_('With: {hosts}', hosts=', '.join(item.hosts))).classes(design.SUBTLE).mark(
                        'team-booking-hosts'
                    )
                    if item.reason:
                        ui.label(item.reason).classes(design.SUBTLE).mark('team-booking-reason')


def _required(value: str | None) -> str | None:
    return None if (value or '').strip() else _('Required')


def _slug_problem(value: str | None) -> str | None:
    value = (value or '').strip().lower()
    if not value:
        return _('Required')
    return (
        None
        if validation.SLUG.match(value) and len(value) <= teams.TEAM_SLUG_MAX
        else _('Lowercase letters, digits and hyphens (at most 40)')
    )
