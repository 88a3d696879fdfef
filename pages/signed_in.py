"""What every host page shares: who is signed in, and running an action as that host (the session is checked
again for every action, so a page left open after signing out can change nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.errors import DomainError
from app.i18n import _
from app.models import Host
from pages.auth import now
from pages.blocking import off_loop
from services import accounts
from web import auth

T = TypeVar('T')


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    host: Host

    @property
    def host_id(self) -> int:
        assert self.host.id is not None
        return self.host.id


async def signed_in(request: Request) -> SignedIn | None:
    """The signed-in host (read in a worker thread: page handlers never block the event loop on the database)."""
    token = auth.session_token(request)
    host = await off_loop(_host_for, token)
    return SignedIn(token, host) if host is not None else None


def _host_for(token: str) -> Host | None:
    return accounts.signed_in_host(token, now())


async def sign_in_first(request: Request) -> RedirectResponse:
    """Where a host page sends a visitor who is not signed in: a newcomer still onboarding goes on with that,
    everybody else to the sign-in page (and back here afterwards)."""
    if await off_loop(accounts.still_onboarding, auth.session_token(request), now()):
        return RedirectResponse('/onboarding', status_code=303)
    return RedirectResponse(f'/login?next={request.url.path}', status_code=303)


def _as_host(who: SignedIn, fn: Callable[..., T], write: bool, args: tuple[Any, ...]) -> T:
    return accounts.as_host(who.token, who.host_id, fn, *args, write=write, now=now())


async def read(who: SignedIn, fn: Callable[..., T], *args: Any) -> T:
    """`fn(session, host_id, *args)` in a worker thread, as the signed-in host."""
    return await off_loop(_as_host, who, fn, False, args)


async def act(who: SignedIn, fn: Callable[..., T], *args: Any, done: str = '') -> T | None:
    """Like `read`, in a write transaction; refusals become a notification (None is returned)."""
    return await _notified(off_loop(_as_host, who, fn, True, args), done)


async def run_as(who: SignedIn, use_case: Callable[..., T], /, *, done: str = '', **arguments: Any) -> T | None:
    """A use case (which owns its transaction) on behalf of the signed-in host, once the session is checked;
    refusals become a notification (None is returned), like `act`."""

    async def checked() -> T:
        await off_loop(_as_host, who, lambda _session, _host_id: None, False, ())
        return await off_loop(lambda: use_case(host_id=who.host_id, now=now(), **arguments))

    return await _notified(checked(), done)


async def _notified(work: Awaitable[T], done: str) -> T | None:
    """The result of `work`, with `done` notified; a refusal or a database outage notified instead (None)."""
    try:
        result = await work
    except DomainError as exc:
        ui.notify(exc.detail, type='negative')
        return None
    except OperationalError:
        ui.notify(_('That could not be saved right now. Please try again.'), type='negative')
        return None
    if done:
        ui.notify(done, type='positive')
    return result


Action = Callable[[Session, int], Any]
