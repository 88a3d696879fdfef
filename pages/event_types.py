"""`/event-types`: the host's event types with active switches, and the editor (`/event-types/new`,
`/event-types/{id}`) for every field of the contract, the booking questions included."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from nicegui import ui
from pydantic import ValidationError
from sqlmodel import Session

from app.config import get_settings
from app.errors import DomainError
from app.i18n import _
from components import design
from components.confirm import confirm
from components.frame import not_found
from components.headings import heading
from components.host_frame import host_frame
from pages.signed_in import SignedIn, act, read, sign_in_first, signed_in
from services import event_types, messages, schedules, validation
from services.calendars import events as calendar_events
from services.event_types import EventTypeInput

LOCATIONS = {
    'google_meet': 'Google Meet',
    'teams': 'Microsoft Teams',
    'phone': 'Phone call',
    'in_person': 'In person',
    'link': 'Custom link',
    'none': 'None (details follow)',
}
VIDEO_NEEDS = {'google_meet': 'Google', 'teams': 'Microsoft'}
LOCATION_VALUE = {'phone': 'Phone number', 'in_person': 'Address', 'link': 'Meeting link (https://...)'}
QUESTION_KINDS = {
    'short_text': 'Short text',
    'long_text': 'Long text',
    'single_choice': 'Single choice',
    'checkbox': 'Checkbox',
    'phone': 'Phone number',
}


def register() -> None:
    ui.page('/event-types')(list_page)
    ui.page('/event-types/new')(new_page)
    ui.page('/event-types/{event_type_id}')(edit_page)


def _all(session: Session, host_id: int) -> list[dict[str, Any]]:
    return [event_types.event_type_json(e) for e in event_types.list_event_types(session=session, host_id=host_id)]


async def list_page(request: Request) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    with host_frame(_('Event types'), active='/event-types', brand=who.host.brand_color):
        with ui.row().classes('w-full items-center justify-between'):
            heading(_('Event types'), 1, design.HEADLINE + ' m-0')
            ui.button(_('New event type'), icon='add', on_click=lambda: ui.navigate.to('/event-types/new')).props(
                'unelevated no-caps'
            ).mark('new-event-type')
        EventTypeList(who)
    return None


class EventTypeList:
    def __init__(self, who: SignedIn) -> None:
        self.who = who
        self.box = ui.column().classes('w-full gap-3').mark('event-types')
        self.dialogs = ui.element('div')
        with self.box:
            ui.skeleton().classes('w-full h-20')
        ui.timer(0, self.refresh, once=True)

    async def refresh(self) -> None:
        items = await read(self.who, _all)
        base, username = get_settings().public_url, self.who.host.username
        self.box.clear()
        with self.box:
            if not items:
                with ui.card().classes(design.CARD).mark('empty'):
                    ui.label(_('No event types yet. Create one: invitees book it at its own link.'))
            for item in items:
                with ui.card().classes(design.CARD).mark('event-type'):
                    with ui.row().classes('w-full items-center gap-3'):
                        ui.element('span').classes('inline-block w-3 h-3 rounded-full').props('aria-hidden=true').style(
                            f'background:{item["color"] or "#94a3b8"}'
                        )
                        with ui.column().classes('gap-0 flex-grow'):
                            ui.label(item['title']).classes('font-semibold').mark('event-type-title')
                            details = f'{item["duration_minutes"]} min · {LOCATIONS[item["location"]["kind"]]}'
                            ui.label(details + (' · hidden (link only)' if item['hidden'] else '')).classes(
                                design.SUBTLE
                            )
                            ui.link(
                                f'{base}/{username}/{item["slug"]}', f'/{username}/{item["slug"]}', new_tab=True
                            ).classes('text-sm')
                        ui.switch(
                            _('Active'), value=item['active'], on_change=lambda e, i=item: self.toggle(i['id'], e.value)
                        ).mark('active')
                        ui.button(_('Edit'), on_click=lambda i=item: ui.navigate.to(f'/event-types/{i["id"]}')).props(
                            'flat no-caps'
                        ).mark('edit')
                        ui.button(_('Duplicate'), on_click=lambda i=item: self.duplicate(i['id'])).props(
                            'flat no-caps'
                        ).mark('duplicate')
                        ui.button(_('Delete'), on_click=lambda i=item: self.confirm_delete(i)).props(
                            'flat no-caps color=negative'
                        ).mark('delete')

    async def toggle(self, event_type_id: int, active: bool) -> None:
        await act(
            self.who,
            _change,
            event_type_id,
            {'active': active},
            done='Bookable again' if active else 'Switched off: not listed and not bookable',
        )

    async def duplicate(self, event_type_id: int) -> None:
        await act(self.who, _duplicate, event_type_id, done='Copied (switched off until you turn it on)')
        await self.refresh()

    def confirm_delete(self, item: dict[str, Any]) -> None:
        async def delete() -> None:
            await act(self.who, _delete, item['id'], done='Event type deleted')
            await self.refresh()

        confirm(
            self.dialogs,
            title=f'Delete "{item["title"]}"?',
            action='Delete',
            mark='confirm-delete',
            text=_('Its booking link stops working. Existing bookings are kept.'),
            on_confirm=delete,
        )


def _change(session: Session, host_id: int, event_type_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    return event_types.event_type_json(
        event_types.update_event_type(session=session, host_id=host_id, event_type_id=event_type_id, changes=changes)
    )


def _duplicate(session: Session, host_id: int, event_type_id: int) -> None:
    event_types.duplicate_event_type(session=session, host_id=host_id, event_type_id=event_type_id)


def _delete(session: Session, host_id: int, event_type_id: int) -> None:
    event_types.delete_event_type(session=session, host_id=host_id, event_type_id=event_type_id)


def _create(session: Session, host_id: int, data: dict[str, Any]) -> dict[str, Any]:
    return event_types.event_type_json(
        event_types.create_event_type(session=session, host_id=host_id, data=EventTypeInput.model_validate(data))
    )


def _editor_data(session: Session, host_id: int, event_type_id: int | None) -> dict[str, Any]:
    current = (
        event_types.event_type_json(
            event_types.get_event_type(session=session, host_id=host_id, event_type_id=event_type_id)
        )
        if event_type_id
        else None
    )
    return {
        'event_type': current,
        'video': calendar_events.video_kind(session, host_id=host_id),
        'schedules': {
            s.id: f'{s.name} ({s.timezone})' + (' · default' if s.is_default else '')
            for s in schedules.list_schedules(session=session, host_id=host_id)
        },
    }


async def new_page(request: Request) -> Response | None:
    return await _editor_page(request, None)


async def edit_page(request: Request, event_type_id: str) -> Response | None:
    if not event_type_id.isdigit():
        return await _editor_page(request, -1)
    return await _editor_page(request, int(event_type_id))


async def _editor_page(request: Request, event_type_id: int | None) -> Response | None:
    who = await signed_in(request)
    if who is None:
        return await sign_in_first(request)
    try:
        data = await read(who, _editor_data, event_type_id) if event_type_id != -1 else None
    except DomainError:
        data = None
    if data is None:
        not_found('This event type does not exist, or it is not yours.')
        return None
    title = 'Edit event type' if event_type_id else 'New event type'
    with host_frame(title, active='/event-types', brand=who.host.brand_color):
        ui.link(_('← All event types'), '/event-types')
        heading(title, 1, design.HEADLINE + ' m-0')
        Editor(who, data['event_type'], data['schedules'], video=data['video'])
    return None


class Editor:
    """Every field of an event type; the whole is validated by the same rules as the API on save."""

    def __init__(
        self, who: SignedIn, current: dict[str, Any] | None, schedule_names: dict[int, str], *, video: str = ''
    ) -> None:
        self.who, self.id, self.video = who, current['id'] if current else None, video
        value = current or {
            'title': '',
            'slug': '',
            'description': '',
            'confirmation_message': '',
            'duration_minutes': 30,
            'slot_interval_minutes': None,
            'buffer_before_minutes': 0,
            'buffer_after_minutes': 0,
            'min_notice_minutes': 240,
            'max_days_ahead': 60,
            'daily_limit': None,
            'weekly_limit': None,
            'monthly_limit': None,
            'seats': 1,
            'requires_confirmation': False,
            'duration_options': [],
            'location': {'kind': video or 'none', 'value': ''},
            'schedule_id': None,
            'active': True,
            'hidden': False,
            'color': '',
            'questions': [],
        }
        self.slug_edited = bool(current)
        with ui.card().classes(design.CARD):
            heading(_('What invitees book'), 2, design.TITLE + ' m-0')
            self.title = (
                ui.input(
                    _('Title'),
                    value=value['title'],
                    on_change=self._title_changed,
                    validation={'Enter a title.': lambda v: bool((v or '').strip())},
                )
                .props('outlined')
                .classes('w-full')
                .mark('title')
            )
            self.slug = (
                ui.input(_('URL slug'), value=value['slug'], on_change=self._slug_typed)
                .props(f'outlined prefix="/{who.host.username}/"')
                .classes('w-full')
                .mark('slug')
            )
            self.description = (
                ui.textarea(_('Description (Markdown: **bold**, *italic*, lists, links)'), value=value['description'])
                .props('outlined autogrow')
                .classes('w-full')
                .mark('description')
            )
            self.confirmation = (
                ui.textarea(
                    _('Message on the confirmation page (optional)'), value=value.get('confirmation_message', '')
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('confirmation-message')
            )
            with ui.row().classes('w-full gap-3'):
                self.duration = _number('Duration (minutes)', value['duration_minutes'], 'duration')
                self.color = (
                    ui.color_input('Colour', value=value['color'] or '#1d4ed8')
                    .props('outlined')
                    .classes('w-44')
                    .mark('color')
                )
            others = [m for m in value.get('duration_options', []) if m != value['duration_minutes']]
            self.duration_options = (
                ui.input(
                    _('Other lengths the invitee may choose (minutes, separated by commas; empty: only the duration)'),
                    value=', '.join(str(m) for m in others),
                    validation={_('Write whole minutes separated by commas, e.g. 15, 60'): _minutes_list_ok},
                )
                .props('outlined')
                .classes('w-full')
                .mark('duration-options')
            )
            with ui.row().classes('w-full items-center gap-6'):
                self.seats = _number(
                    'Seats per time (invitees who can book the same start)', value.get('seats', 1), 'seats'
                )
                self.seats.props('step=1')
                self.requires_confirmation = ui.switch(
                    _('Requires confirmation (you confirm or decline each request)'),
                    value=value.get('requires_confirmation', False),
                ).mark('requires-confirmation')
        with ui.card().classes(design.CARD):
            heading(_('Where'), 2, design.TITLE + ' m-0')
            self.location_kind = (
                ui.select(
                    LOCATIONS,
                    value=value['location']['kind'],
                    label=_('Location'),
                    on_change=lambda e: self._location_changed(e.value),
                )
                .props('outlined')
                .classes('w-full')
                .mark('location-kind')
            )
            self.location_value = (
                ui.input(LOCATION_VALUE.get(value['location']['kind'], 'Details'), value=value['location']['value'])
                .props('outlined')
                .classes('w-full')
                .mark('location-value')
            )
            with ui.row().classes('w-full items-center gap-3 ' + design.WARNING) as self.video_note:
                self.video_text = ui.label().classes('flex-1').mark('video-needs-calendar')
                ui.button(_('Connect a calendar'), on_click=lambda: ui.navigate.to('/integrations')).props(
                    'outline no-caps'
                ).mark('connect-for-video')
            self._location_changed(value['location']['kind'])
        with ui.card().classes(design.CARD):
            heading(_('When'), 2, design.TITLE + ' m-0')
            options = {0: 'The default schedule', **schedule_names}
            self.schedule = (
                ui.select(options, value=value['schedule_id'] or 0, label=_('Available hours from'))
                .props('outlined')
                .classes('w-full')
                .mark('schedule')
            )
            with ui.row().classes('w-full gap-3'):
                self.interval = _number(
                    'Start times every (minutes; empty: the duration)',
                    value['slot_interval_minutes'],
                    'interval',
                    optional=True,
                )
                self.daily_limit = _number(
                    'At most per day (empty: no limit)', value['daily_limit'], 'daily-limit', optional=True
                )
            with ui.row().classes('w-full gap-3'):
                self.weekly_limit = _number(
                    'At most per week, from Monday (empty: no limit)',
                    value.get('weekly_limit'),
                    'weekly-limit',
                    optional=True,
                )
                self.monthly_limit = _number(
                    'At most per calendar month (empty: no limit)',
                    value.get('monthly_limit'),
                    'monthly-limit',
                    optional=True,
                )
                for limit in (self.daily_limit, self.weekly_limit, self.monthly_limit):
                    limit.props('step=1')
            with ui.row().classes('w-full gap-3'):
                self.buffer_before = _number('Buffer before (minutes)', value['buffer_before_minutes'], 'buffer-before')
                self.buffer_after = _number('Buffer after (minutes)', value['buffer_after_minutes'], 'buffer-after')
            with ui.row().classes('w-full gap-3'):
                self.notice = _number('Minimum notice (minutes)', value['min_notice_minutes'], 'min-notice')
                self.window = _number('Bookable up to (days ahead)', value['max_days_ahead'], 'max-days')
            with ui.row().classes('gap-6'):
                self.active = ui.switch(_('Active (bookable)'), value=value['active']).mark('active')
                self.hidden = ui.switch(_('Hidden (bookable by its link only)'), value=value['hidden']).mark('hidden')
        with ui.card().classes(design.CARD):
            heading(_('Questions for the invitee'), 2, design.TITLE + ' m-0')
            ui.label(_('Name and e-mail are always asked. Add your own questions:')).classes(design.SUBTLE)
            self.questions: list[dict[str, Any]] = [dict(q) for q in value['questions']]
            self.question_box = ui.column().classes('w-full gap-2').mark('questions')
            ui.button(_('Add a question'), icon='add', on_click=self._add_question).props('flat no-caps').mark(
                'add-question'
            )
            self._render_questions()
        self.error = ui.label().classes('text-red-700 whitespace-pre-line').props('role=alert').mark('error')
        with ui.row().classes('gap-2'):
            ui.button(_('Save'), on_click=self.save).props('unelevated no-caps size=lg').mark('save')
            ui.button(_('Cancel'), on_click=lambda: ui.navigate.to('/event-types')).props('flat no-caps')

    def _title_changed(self, event: Any) -> None:
        if not self.slug_edited:
            self.slug.value = validation.slugify(event.value or '')
            self.slug_edited = False

    def _slug_typed(self, event: Any) -> None:
        if (event.value or '') != validation.slugify(self.title.value or ''):
            self.slug_edited = True

    def _location_changed(self, kind: str) -> None:
        self.location_value.props(f'label=_("{LOCATION_VALUE.get(kind, ")Details")}"')
        self.location_value.set_visibility(kind in LOCATION_VALUE)
        needed = VIDEO_NEEDS.get(kind)
        self.video_note.set_visibility(bool(needed) and kind != self.video)
        if needed:
            self.video_text.text = (
                f'A {LOCATIONS[kind]} link needs a connected {needed} account that receives your '
                f'bookings. Until then invitees are told you will send the details yourself.'
            )

    def _add_question(self) -> None:
        used, n = {q['id'] for q in self.questions}, 1
        while f'q{n}' in used:
            n += 1
        self.questions.append({'id': f'q{n}', 'label': '', 'kind': 'short_text', 'required': False, 'options': []})
        self._render_questions()

    def _move(self, index: int, step: int) -> None:
        other = index + step
        if 0 <= other < len(self.questions):
            self.questions[index], self.questions[other] = self.questions[other], self.questions[index]
            self._render_questions()

    def _remove(self, index: int) -> None:
        self.questions.pop(index)
        self._render_questions()

    def _render_questions(self) -> None:
        self.question_box.clear()
        with self.question_box:
            for index, question in enumerate(self.questions):
                with ui.row().classes('w-full items-center gap-2').mark('question'):
                    ui.input(
                        _('Question'),
                        value=question['label'],
                        on_change=lambda e, q=question: q.__setitem__('label', e.value or ''),
                    ).props('outlined dense').classes('flex-grow').mark('question-label')
                    ui.select(
                        QUESTION_KINDS, value=question['kind'], on_change=lambda e, q=question: self._kind(q, e.value)
                    ).props('outlined dense').classes('w-40').mark('question-kind')
                    ui.checkbox(
                        _('Required'),
                        value=question['required'],
                        on_change=lambda e, q=question: q.__setitem__('required', e.value),
                    ).mark('question-required')
                    ui.button(icon='arrow_upward', on_click=lambda i=index: self._move(i, -1)).props(
                        'flat round dense aria-label="Move up"'
                    )
                    ui.button(icon='arrow_downward', on_click=lambda i=index: self._move(i, 1)).props(
                        'flat round dense aria-label="Move down"'
                    )
                    ui.button(icon='delete', on_click=lambda i=index: self._remove(i)).props(
                        'flat round dense aria-label="Remove question"'
                    )
                if question['kind'] == 'single_choice':
                    ui.input(
                        _('Choices, separated by commas'),
                        value=', '.join(question['options']),
                        on_change=lambda e, q=question: q.__setitem__(
                            'options', [o.strip() for o in (e.value or '').split(',') if o.strip()]
                        ),
                    ).props('outlined dense').classes('w-full').mark('question-options')

    def _kind(self, question: dict[str, Any], kind: str) -> None:
        question['kind'] = kind
        self._render_questions()

    def data(self) -> dict[str, Any]:
        questions = [dict(question) for question in self.questions]  # ids stay: stored answers keep their labels
        return {
            'title': self.title.value or '',
            'slug': self.slug.value or None,
            'description': self.description.value or '',
            'duration_minutes': _int(self.duration.value),
            'confirmation_message': self.confirmation.value or '',
            'slot_interval_minutes': _int(self.interval.value),
            'buffer_before_minutes': _int(self.buffer_before.value),
            'buffer_after_minutes': _int(self.buffer_after.value),
            'min_notice_minutes': _int(self.notice.value),
            'max_days_ahead': _int(self.window.value),
            'daily_limit': _int(self.daily_limit.value),
            'weekly_limit': _int(self.weekly_limit.value),
            'monthly_limit': _int(self.monthly_limit.value),
            'seats': _int(self.seats.value),
            'requires_confirmation': bool(self.requires_confirmation.value),
            'duration_options': _minutes_list(self.duration_options.value, _int(self.duration.value)),
            'location': {
                'kind': self.location_kind.value,
                'value': (self.location_value.value or '') if self.location_kind.value in LOCATION_VALUE else '',
            },
            'schedule_id': self.schedule.value or None,
            'active': self.active.value,
            'hidden': self.hidden.value,
            'color': self.color.value or '',
            'questions': questions,
        }

    def _fields(self) -> dict[str, ui.element]:
        return {
            'title': self.title,
            'slug': self.slug,
            'description': self.description,
            'confirmation_message': self.confirmation,
            'duration_minutes': self.duration,
            'slot_interval_minutes': self.interval,
            'buffer_before_minutes': self.buffer_before,
            'buffer_after_minutes': self.buffer_after,
            'min_notice_minutes': self.notice,
            'max_days_ahead': self.window,
            'daily_limit': self.daily_limit,
            'weekly_limit': self.weekly_limit,
            'monthly_limit': self.monthly_limit,
            'seats': self.seats,
            'duration_options': self.duration_options,
        }

    async def save(self) -> None:
        data = self.data()
        for element in self._fields().values():
            element.props(remove='error error-message')
        try:
            EventTypeInput.model_validate(data)
        except ValidationError as exc:
            problems = [(messages.field_of(e), messages.sentence(e, FIELD_NAMES)) for e in exc.errors()]
            fields = self._fields()
            for field, text in problems:  # each message sits at its field; the summary lists them all
                if field in fields:
                    fields[field].props['error'] = True
                    fields[field].props['error-message'] = text
            self.error.text = '\n'.join(text for _, text in problems)
            return
        self.error.text = ''
        if self.id is None:
            saved = await act(self.who, _create, data, done='Event type created')
        else:
            saved = await act(self.who, _change, self.id, data, done='Event type saved')
        if saved is not None:
            ui.navigate.to('/event-types')


def _number(label: str, value: int | None, mark: str, optional: bool = False) -> ui.number:
    required = {f'Enter the {label.split(" (")[0].lower()}.': lambda v: v is not None}
    return (
        ui.number(label, value=value, min=0, step=5, format='%d', validation=None if optional else required)
        .props('outlined')
        .classes('flex-1 min-w-[12rem]')
        .mark(mark)
    )


def _int(value: Any) -> int | None:
    return None if value in (None, '') else int(value)


def _minutes_list_ok(text: str | None) -> bool:
    return all(part.strip().isdigit() for part in (text or '').split(',') if part.strip())


def _minutes_list(text: str | None, duration: int | None) -> list[int]:
    """The invitee's choice of lengths: the typed ones with the duration itself (none typed: no choice)."""
    typed = [int(part) for part in (text or '').split(',') if part.strip().isdigit()]
    return sorted({*typed, *([duration] if duration else [])}) if typed else []


FIELD_NAMES = {
    'duration_minutes': 'Duration',
    'slot_interval_minutes': 'Start times every',
    'buffer_before_minutes': 'Buffer before',
    'buffer_after_minutes': 'Buffer after',
    'min_notice_minutes': 'Minimum notice',
    'max_days_ahead': 'Bookable up to',
    'daily_limit': 'At most per day',
    'weekly_limit': 'At most per week',
    'monthly_limit': 'At most per month',
    'seats': 'Seats per time',
    'duration_options': 'Other lengths',
    'title': 'Title',
    'slug': 'URL slug',
    'description': 'Description',
    'confirmation_message': 'Confirmation message',
    'color': 'Colour',
}
