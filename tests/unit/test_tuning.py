"""The remembered `expects_arguments` answers exactly as NiceGUI's own, for every kind of handler."""

from __future__ import annotations

import functools
from typing import Any

from nicegui.helpers.functions import expects_arguments as niceguis

from web import tuning


class Handlers:
    def plain(self) -> None: ...
    def takes(self, event: object) -> None: ...
    def optional(self, event: object = None) -> None: ...
    def star(self, *args: object) -> None: ...
    def keyword(self, *, event: object) -> None: ...
    def keyword_default(self, *, event: object = None) -> None: ...

    @classmethod
    def klass(cls, event: object) -> None: ...

    @staticmethod
    def static(event: object) -> None: ...

    def __call__(self, event: object) -> None: ...


class Partials:
    lenient = functools.partialmethod(functools.partial(lambda self, event=None: None))
    strict = functools.partialmethod(functools.partial(lambda self, event: None))


def _wrapped(func: Any) -> Any:
    @functools.wraps(func)
    def inner(*args: object, **kwargs: object) -> None: ...

    return inner


def test_the_remembered_answer_is_niceguis_for_every_kind_of_handler() -> None:
    h = Handlers()

    def two(a: object, b: object = 1) -> None: ...

    cases: list[Any] = [
        lambda: None,
        lambda e: None,
        lambda e=None: None,
        lambda *a, **k: None,
        lambda s=1: s,
        two,
        h.plain,
        h.takes,
        h.optional,
        h.star,
        h.keyword,
        h.keyword_default,
        Handlers.klass,
        Handlers.static,
        Handlers.takes,  # unbound: self is an argument
        h,  # a callable object
        functools.partial(two, 1),
        _wrapped(two),  # inspect follows __wrapped__
        _wrapped(lambda: None),
        print,
        Partials().lenient,  # partial methods share one inner function: told apart by what inspect reads
        Partials().strict,
    ]
    for _ in range(2):  # the second round answers from memory
        for case in cases:
            assert tuning.expects_arguments(case) == niceguis(case), case


def test_the_same_code_with_other_defaults_is_asked_anew() -> None:
    def make() -> Any:
        def handler(event: object) -> None: ...

        return handler

    required, optional = make(), make()
    optional.__defaults__ = (None,)
    assert required.__code__ is optional.__code__
    assert tuning.expects_arguments(required) is True
    assert tuning.expects_arguments(optional) is False
