"""A confirmation before a destructive action: a title, what will happen, and the two choices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components import design
from components.headings import heading


def confirm(
    parent: ui.element,
    *,
    title: str,
    text: str,
    action: str,
    on_confirm: Callable[[], Awaitable[None]],
    mark: str,
    keep: str = 'Keep it',
) -> None:
    """Open the dialog inside `parent` (a stable element, so live redraws never delete an open dialog)."""
    parent.clear()
    with parent, ui.dialog() as dialog, ui.card().classes('gap-3 w-full max-w-md'):
        heading(title, 2, design.TITLE + ' m-0')
        ui.label(text)

        async def confirmed() -> None:
            dialog.close()
            await on_confirm()

        with ui.row().classes('gap-2'):
            ui.button(action, on_click=confirmed).props('unelevated no-caps color=negative').mark(mark)
            ui.button(keep, on_click=dialog.close).props('flat no-caps')
    dialog.open()
