"""Blocking work (the database, outside services) runs in NiceGUI's I/O thread pool, never on the event loop.

`run.io_bound` answers None instead of the result when the app is stopping (an interim shape NiceGUI 4 replaces
with CancelledError); pages unpack results, so this raises CancelledError already, and is typed as the callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

from nicegui import core, run

P = ParamSpec('P')
R = TypeVar('R')


async def off_loop(callback: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`callback(*args, **kwargs)` in a worker thread; its result, or its exception."""
    if core.app.is_stopping:
        raise asyncio.CancelledError
    return await asyncio.get_running_loop().run_in_executor(run.thread_pool, partial(callback, *args, **kwargs))
