"""The invitee's details: name, e-mail, notes and the event type's own questions, validated inline."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from app.i18n import ENGLISH, Translator

EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
PHONE = re.compile(r'^\+?[0-9 ().-]{6,25}$')


class BookingForm:
    """Builds the form; `submit` validates everything and hands the values to `on_submit`."""

    def __init__(
        self,
        questions: tuple[dict[str, Any], ...],
        on_submit: Callable[[dict[str, Any]], Awaitable[None]],
        *,
        submit_label: str = '',
        t: Translator = ENGLISH,
    ) -> None:
        self.on_submit, self.t = on_submit, t
        self.answers: dict[str, Any] = {}
        _ = t.gettext
        with ui.column().classes('w-full gap-3') as self.root:
            self.name = (
                ui.input(
                    _('Your name *'),
                    validation={
                        _('Please enter your name'): lambda v: bool(v and v.strip()),
                        _('Please keep it under 120 characters'): lambda v: len(v or '') <= 120,
                    },
                )
                .props('outlined autocomplete=name')
                .classes('w-full')
                .mark('name')
            )
            self.email = (
                ui.input(
                    _('E-mail *'),
                    validation={
                        _('Please enter an e-mail address like name@example.com'): lambda v: bool(
                            EMAIL.match((v or '').strip())
                        ),
                    },
                )
                .props('outlined type=email autocomplete=email')
                .classes('w-full')
                .mark('email')
            )
            for question in questions:
                self.answers[question['id']] = _question_input(question, t)
            self.notes = (
                ui.textarea(
                    _('Anything that will help prepare the meeting?'),
                    validation={
                        _('Please keep notes under 2000 characters'): lambda v: len(v or '') <= 2000,
                    },
                )
                .props('outlined autogrow')
                .classes('w-full')
                .mark('notes')
            )
            self.error = ui.label('').classes('text-red-800').props('role=alert').mark('form-error')
            self.error.set_visibility(False)
            self.button = (
                ui.button(submit_label or _('Confirm booking'), on_click=self.submit)
                .props('unelevated no-caps size=lg')
                .classes('w-full sm:w-auto')
                .mark('confirm')
            )

    def values(self) -> dict[str, Any]:
        answers = {key: element.value for key, element in self.answers.items()}
        return {
            'name': (self.name.value or '').strip(),
            'email': (self.email.value or '').strip(),
            'notes': self.notes.value or '',
            'answers': answers,
        }

    def on_change(self, callback: Callable[[], Any]) -> None:
        """Call `callback` whenever any field changes (the page keeps the typed details for a reload)."""
        for element in (self.name, self.email, self.notes, *self.answers.values()):
            target = element.radio if isinstance(element, ChoiceQuestion) else element
            target.on_value_change(lambda _: callback())

    def fill(self, values: dict[str, Any]) -> None:
        """Put back details typed earlier (unknown questions are ignored)."""
        for key, element in (('name', self.name), ('email', self.email), ('notes', self.notes)):
            if isinstance(values.get(key), str):
                element.value = values[key]
        for key, value in (values.get('answers') or {}).items():
            if key in self.answers and value is not None:
                target = self.answers[key]
                (target.radio if isinstance(target, ChoiceQuestion) else target).value = value

    def show_error(self, message: str) -> None:
        self.error.text = message
        self.error.set_visibility(bool(message))

    def set_enabled(self, enabled: bool) -> None:
        self.button.set_enabled(enabled)

    async def submit(self) -> None:
        checks = [self.name.validate(), self.email.validate(), self.notes.validate()]
        checks += [element.validate() for element in self.answers.values() if hasattr(element, 'validate')]
        if not all(checks):
            self.show_error(self.t.gettext('Please correct the marked fields.'))
            return
        self.show_error('')
        self.button.props('loading')
        try:
            await self.on_submit(self.values())
        finally:
            self.button.props(remove='loading')


def _question_input(question: dict[str, Any], t: Translator) -> Any:
    _ = t.gettext
    label = question['label'] + (' *' if question['required'] else '')
    required = question['required']
    kind = question['kind']
    if kind == 'checkbox':
        return ui.checkbox(label).mark(f'question-{question["id"]}')
    if kind == 'single_choice':
        return ChoiceQuestion(
            question['label'], question['options'], required=required, mark=f'question-{question["id"]}', t=t
        )
    rules: dict[str, Callable[[Any], bool]] = {
        _('This field is required'): lambda v: bool(v and str(v).strip()) or not required
    }
    if kind == 'phone':
        rules[_('Please enter a phone number like +44 20 7946 0000')] = lambda v: not v or bool(PHONE.match(v.strip()))
    element = ui.textarea(label, validation=rules) if kind == 'long_text' else ui.input(label, validation=rules)
    props = 'outlined autogrow' if kind == 'long_text' else 'outlined'
    if kind == 'phone':
        props += ' type=tel autocomplete=tel'
    return element.props(props).classes('w-full').mark(f'question-{question["id"]}')


class ChoiceQuestion:
    """A single-choice question: a radio group under its label, with its own message when a required one is
    left unanswered (`ui.radio` has no validation of its own)."""

    def __init__(self, label: str, options: list[str], *, required: bool, mark: str, t: Translator = ENGLISH) -> None:
        self.required = required
        with ui.column().classes('gap-0') as self.root:
            ui.label(label + (' *' if required else '')).classes('text-sm text-slate-700')
            self.error: ui.label | None = None
            self.radio = (
                ui.radio(options, on_change=lambda _: self.validate() if self.error and self.error.visible else None)
                .props('inline')
                .mark(mark)
            )
            self.radio.props['aria-label'] = label
            self.error = (
                ui.label(t.gettext('Choose an answer to "{question}".', question=label))
                .classes('text-xs text-red-800')
                .props('role=alert')
                .mark(f'{mark}-error')
            )
            self.error.set_visibility(False)

    @property
    def value(self) -> Any:
        return self.radio.value

    def validate(self) -> bool:
        ok = bool(self.radio.value) or not self.required
        if self.error is not None:
            self.error.set_visibility(not ok)
        return ok
