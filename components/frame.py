"""The shared page layout: header, content column and footer."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from components import design


@contextmanager
def frame(title: str) -> Iterator[ui.column]:
    """Render the site frame and yield the content column."""
    ui.page_title(f'{title} · CloudMeet' if title != 'CloudMeet' else title)
    ui.colors(primary=design.BRAND)
    with ui.header().classes('bg-white text-slate-900 border-b border-slate-200 px-6 py-3 items-center'):
        ui.link('CloudMeet', '/').classes('text-xl font-semibold no-underline text-slate-900').mark('brand')
    with ui.column().classes(design.PAGE) as content:
        yield content
    with ui.footer().classes('bg-white text-slate-500 border-t border-slate-200 px-6 py-2 text-sm'):
        ui.label('CloudMeet: open-source, self-hosted scheduling')
