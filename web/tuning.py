"""What makes a serving process with many open pages quick to update them all (wired by the composition root).

Measured with 100 booking pages open in one process and a booking made through another
(`tests/bench/bench_scale_out.py`): every page's live update waits for the process's one event loop, so the cost of
building page elements and of the garbage collector's full passes is paid a hundred times, or holds all of them up.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Callable
from typing import Any

from nicegui import App, helpers

_original: Callable[[Callable[..., Any]], bool] = helpers.expects_arguments
_known: dict[tuple[object, ...], bool] = {}


def install(app: App) -> None:
    """Remember NiceGUI's answer to "does this handler take arguments?" per kind of handler, and set the heap
    built at start-up aside from the collector once the process has started."""
    helpers.expects_arguments = expects_arguments  # NiceGUI calls it through `helpers`, where it is looked up each time
    app.on_startup(settle_heap)


def expects_arguments(func: Callable[..., Any]) -> bool:
    """NiceGUI's `helpers.expects_arguments`, remembered per code object and defaults.

    NiceGUI asks it for every element it builds (its props, classes and style each take a change handler, and
    every event handler is asked too), and answers from `inspect.signature` each time: a third of the time a time
    button takes to build. For a plain function (or a method of one) with no attributes of its own, the answer
    depends only on its code, how many of its arguments have defaults, and whether it is bound; anything else
    `inspect.signature` reads (`__wrapped__`, `__signature__`, a partial method's `_partialmethod`: all attributes;
    partials and callable objects) is asked as before.
    """
    target, bound = (func.__func__, True) if isinstance(func, types.MethodType) else (func, False)
    if type(target) is not types.FunctionType or target.__dict__:
        return _original(func)
    key = (target.__code__, len(target.__defaults__ or ()), frozenset(target.__kwdefaults__ or ()), bound)
    found = _known.get(key)
    if found is None:
        found = _known[key] = _original(func)
    return found


def settle_heap() -> None:
    """Once started, set what start-up built (modules, routes, the API's models: it lives as long as the process)
    aside from the garbage collector. Its full passes, which open pages' churn brings on, then walk only what came
    after: with 100 open booking pages a full pass otherwise held the event loop up to about half a second. What
    start-up built and later drops in a reference cycle is never freed: a bounded, one-time cost."""
    gc.collect()
    gc.freeze()
