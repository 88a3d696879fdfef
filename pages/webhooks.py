"""The Webhooks section of the settings page: the host's endpoints (add with a validated form, the signing secret
shown once with a copy button, delete, send a test event) and each endpoint's delivery log, with loading, empty and
error states. Every change goes through `pages.signed_in` as the signed-in host."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.errors import DomainError
from app.i18n import _
from components import design
from components.confirm import confirm
from components.headings import heading
from pages.auth import now
from pages.signed_in import SignedIn, act, read
from services.webhooks import EVENTS, subscriptions

FOLLOW_SECONDS, FOLLOW_LOOKS = 1.0, 30  # after a test event, the log looks again every second for up to 30 s
STATUS_COLORS = {
    'pending': 'grey-6',
    'retrying': 'orange-8',
    'delivered': 'green-8',
    'failed': 'red-8',
    'cancelled': 'grey-6',
}


@dataclass(frozen=True, slots=True)
class NewWebhook:
    id: int
    secret: str


class Webhooks:
    """Rendered inside the settings page; loads its list after the page is shown."""

    def __init__(self, who: SignedIn) -> None:
        self.who = who
        with ui.card().classes(design.CARD).mark('webhooks'):
            heading(_('Webhooks'), 2, design.TITLE + ' m-0')
            ui.label(
                _(
                    'CloudMeet POSTs booking events to your https endpoint, signed per Standard Webhooks '
                    '(headers webhook-id, webhook-timestamp, webhook-signature). Failed deliveries are retried for '
                    'about a day.'
                )
            ).classes(design.SUBTLE)
            self.list = ui.column().classes('w-full gap-2')
            with ui.column().classes('w-full gap-2'):
                self.url = (
                    ui.input(_('Endpoint address (https://...)'), validation=_url_problem)
                    .props('outlined dense')
                    .classes('w-full')
                    .mark('webhook-url')
                )
                with ui.row().classes('gap-x-4 gap-y-0 flex-wrap'):
                    self.events = {
                        event: ui.checkbox(event, value=True).mark(f'webhook-event-{event}') for event in EVENTS
                    }
                ui.button(_('Add webhook'), on_click=self.add).props('outline no-caps').mark('add-webhook')
            self.secret = ui.column().classes('w-full')
            self.dialogs = ui.element('div')
        self._loading()
        ui.timer(0, self.refresh, once=True)

    def _loading(self) -> None:
        self.list.clear()
        with self.list, ui.row().classes('items-center gap-2').mark('webhooks-loading'):
            ui.spinner(size='1.5em')
            ui.label(_('Loading webhooks…')).classes(design.SUBTLE)

    async def refresh(self) -> None:
        try:
            items = await read(self.who, _list)
        except (DomainError, OperationalError):
            self.list.clear()
            with self.list, ui.row().classes('items-center gap-2').mark('webhooks-error'):
                ui.label(_('Your webhooks could not be loaded right now.')).classes('text-red-700')
                ui.button(_('Try again'), on_click=self.refresh).props('flat dense no-caps')
            return
        self.list.clear()
        with self.list:
            if not items:
                ui.label(
                    _('No webhooks yet. Add an endpoint below to hear of new, moved and cancelled bookings.')
                ).classes(design.SUBTLE).mark('webhooks-empty')
            for item in items:
                _Subscription(self, item)

    async def add(self) -> None:
        chosen = [event for event, box in self.events.items() if box.value]
        problem = _url_problem(self.url.value or '') or ('' if chosen else 'Choose at least one event')
        if problem:
            ui.notify(problem, type='negative')
            return
        created = await act(self.who, _add, self.url.value or '', chosen, done='Webhook added')
        if created is None:
            return
        self.url.value = ''
        self.secret.clear()
        with self.secret:
            ui.label(_('Copy the signing secret now; it is shown only once:')).classes('font-medium')
            with ui.row().classes('w-full items-center gap-2 flex-nowrap'):
                ui.label(created.secret).classes(design.CODE + ' break-all min-w-0').mark('new-webhook-secret')
                ui.button(_('Copy'), icon='content_copy', on_click=lambda: _copy(created.secret)).props(
                    'outline no-caps'
                ).classes('shrink-0').mark('copy-webhook-secret')
        await self.refresh()

    def confirm_delete(self, item: dict[str, Any]) -> None:
        async def delete() -> None:
            await act(self.who, _delete, item['id'], done='Webhook deleted')
            self.secret.clear()
            await self.refresh()

        confirm(
            self.dialogs,
            title=_('Delete this webhook?'),
            mark='confirm-delete-webhook',
            action='Delete webhook',
            text=f'{item["url"]} will get no more events, including retries still waiting.',
            on_confirm=delete,
        )


class _Subscription:
    """One endpoint: its address and events, its actions, and its delivery log (opened on request)."""

    def __init__(self, section: Webhooks, item: dict[str, Any]) -> None:
        self.section, self.item = section, item
        with ui.column().classes('w-full gap-1 border rounded-lg p-3').mark('webhook'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(item['url']).classes('font-mono break-all flex-grow').mark('webhook-address')
                ui.button(_('Send test event'), on_click=self.send_test).props('flat dense no-caps').mark(
                    'webhook-test'
                )
                ui.button(_('Delivery log'), on_click=self.show_log).props('flat dense no-caps').mark('webhook-log')
                ui.button(_('Delete'), on_click=lambda: section.confirm_delete(item)).props(
                    'flat dense no-caps color=negative'
                ).mark('webhook-delete')
            ui.label(', '.join(item['events'])).classes(design.SUBTLE + ' text-sm')
            self.log = ui.column().classes('w-full gap-1')
        self._follow = 0  # looks left at a delivery still waiting to go out

    async def send_test(self) -> None:
        """Queue a test event, then show the log and follow it until the event has gone out (or tried to)."""
        queued = await act(
            self.section.who, _test, self.item['id'], done='Test event queued; it shows in the log below'
        )
        if queued:
            self._follow = FOLLOW_LOOKS
            await self.show_log()

    async def show_log(self, *, quietly: bool = False) -> None:
        if not quietly:
            self.log.clear()
            with self.log:
                ui.spinner(size='1.5em')
        try:
            entries = await read(self.section.who, _deliveries, self.item['id'])
        except (DomainError, OperationalError):
            self.log.clear()
            with self.log:
                ui.label(_('The delivery log could not be loaded right now.')).classes('text-red-700').mark(
                    'webhook-log-error'
                )
            return
        self.log.clear()
        with self.log:
            if not entries:
                ui.label(_('No deliveries yet.')).classes(design.SUBTLE).mark('webhook-log-empty')
            for entry in entries:
                with ui.row().classes('w-full items-center gap-3 text-sm').mark('webhook-delivery'):
                    ui.badge(entry['status'], color=STATUS_COLORS.get(entry['status'], 'grey-6'))
                    ui.label(entry['event']).classes('font-medium')
                    ui.label(_attempt_text(entry, self.section.who.host.timezone)).classes(design.SUBTLE)
                    if entry['error']:
                        ui.label(entry['error']).classes('text-red-700')
            waiting = any(entry['status'] == 'pending' for entry in entries)
            if waiting and self._follow > 0:  # (a new look at the log, or leaving the page, drops this timer)
                self._follow -= 1
                ui.timer(FOLLOW_SECONDS, lambda: self.show_log(quietly=True), once=True)
            else:
                self._follow = 0


def _attempt_text(entry: dict[str, Any], zone: str) -> str:
    """'2 attempts · HTTP 500 · 55 ms · 1 Dec 21:17 · next try 21:22', times in the host's zone."""

    def local(value: str) -> str:
        return f'{datetime.fromisoformat(value).astimezone(ZoneInfo(zone)):%-d %b %H:%M}'

    parts = [f'{entry["attempts"]} attempt{"s" if entry["attempts"] != 1 else ""}']
    if entry['response_code'] is not None:
        parts.append(f'HTTP {entry["response_code"]}')
    if entry['duration_ms'] is not None:
        parts.append(f'{entry["duration_ms"]} ms')
    parts.append(local(entry['created_at']))
    if entry['status'] in ('pending', 'retrying') and entry['next_attempt_at']:
        parts.append(f'next try {local(entry["next_attempt_at"])}')
    return ' · '.join(parts)


def _url_problem(value: str | None) -> str | None:
    """The form's own check (the server checks the address fully when it is added)."""
    value = (value or '').strip()
    if not value:
        return None
    if not value.startswith(('https://', 'http://')):
        return 'The address must start with https://'
    return None


def _copy(secret: str) -> None:
    ui.clipboard.write(secret)
    ui.notify(_('Secret copied'), type='positive', position='top')


def _list(session: Session, host_id: int) -> list[dict[str, Any]]:
    return [
        subscriptions.subscription_json(s) for s in subscriptions.list_subscriptions(session=session, host_id=host_id)
    ]


def _add(session: Session, host_id: int, url: str, events: list[str]) -> NewWebhook:
    created = subscriptions.subscribe(session=session, host_id=host_id, url=url, events=events, now=now())
    assert created.subscription.id is not None
    return NewWebhook(created.subscription.id, created.secret)


def _delete(session: Session, host_id: int, subscription_id: int) -> None:
    subscriptions.delete_subscription(session=session, host_id=host_id, subscription_id=subscription_id)


def _test(session: Session, host_id: int, subscription_id: int) -> bool:
    subscriptions.send_test(session=session, host_id=host_id, subscription_id=subscription_id, now=now())
    return True


def _deliveries(session: Session, host_id: int, subscription_id: int) -> list[dict[str, Any]]:
    return [
        subscriptions.delivery_json(d)
        for d in subscriptions.deliveries(session=session, host_id=host_id, subscription_id=subscription_id)
    ]
