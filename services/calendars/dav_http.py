"""The HTTP session the CalDAV client talks through, guarded like ICS feeds: every host it reaches (the server's own,
and the hosts its answers point to, as iCloud's partition hosts) is checked and resolved once, and the connection
goes to exactly the addresses that were checked (a second DNS answer cannot point it elsewhere), the next one when one
cannot be connected to; redirects are checked hop by hop the same way; every answer is bounded in size and the whole
conversation in time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from app.errors import InvalidInput
from services.calendars.errors import ProviderError

MAX_BYTES = 5_000_000
MAX_REDIRECTS = 3


class GuardedAdapter(HTTPAdapter):
    """Connects each (scheme, host, port) only to the addresses checked for it, and bounds answers in size and the
    whole session's requests in time. `last_status` is the status of the latest answer (401 tells a refused password
    from a 403 on one calendar)."""

    def __init__(self, *, allow_private: bool, timeout: float, check: Callable[..., Any]) -> None:
        self.allow_private = allow_private
        self.deadline = time.monotonic() + timeout * 3  # discovery and a few calendars share one deadline
        self.last_status = 0
        self._check = check
        self._addresses: dict[tuple[str, str, int], tuple[str, ...]] = {}
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            'http': _pinned_pool(HTTPConnectionPool, HTTPConnection, self.addresses_of, 'http'),
            'https': _pinned_pool(HTTPSConnectionPool, HTTPSConnection, self.addresses_of, 'https'),
        }

    def addresses_of(self, scheme: str, host: str, port: int) -> tuple[str, ...]:
        """The addresses this host may be reached at, in the order to try them, checked on first use (https and
        public unless allowed)."""
        key = (scheme, host, port)
        if key not in self._addresses:
            literal = f'[{host}]' if ':' in host else host
            found = self._check(f'{scheme}://{literal}:{port}/', allow_private=self.allow_private)
            self._addresses[key] = tuple(found)
        return self._addresses[key]

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ProviderError('the CalDAV server took too long to answer')
        wait = min(float(timeout), remaining) if isinstance(timeout, int | float) else remaining
        response = super().send(request, stream=True, timeout=wait, verify=verify, cert=cert, proxies=None)
        body = bytearray()
        for chunk in response.iter_content(65536):
            body += chunk
            if len(body) > MAX_BYTES:
                response.close()
                raise ProviderError('the CalDAV server answered with more than 5 MB')
            if time.monotonic() > self.deadline:
                response.close()
                raise ProviderError('the CalDAV server took too long to answer')
        response._content = bytes(body)  # read here, bounded, instead of by requests unbounded
        self.last_status = response.status_code
        return response


def session(
    *, allow_private: bool, timeout: float, check: Callable[..., Any]
) -> tuple[requests.Session, GuardedAdapter]:
    """A session with no environment proxies or .netrc, whose every connection goes through the guard.
    `check(url, allow_private=...)` returns the addresses of the URL's host that may be used, in the order to try
    them (or raises InvalidInput)."""
    guarded = requests.Session()
    guarded.trust_env = False
    guarded.max_redirects = MAX_REDIRECTS
    adapter = GuardedAdapter(allow_private=allow_private, timeout=timeout, check=check)
    guarded.adapters.clear()
    guarded.mount('https://', adapter)
    guarded.mount('http://', adapter)
    return guarded, adapter


def _pinned_pool(
    pool: type[HTTPConnectionPool],
    connection: type[HTTPConnection],
    addresses_of: Callable[[str, str, int], tuple[str, ...]],
    scheme: str,
) -> type[HTTPConnectionPool]:
    """A pool class whose connections reach the checked addresses (the next when one cannot be connected to), while
    TLS still verifies the host's own name."""

    class PinnedConnection(connection):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            named: str = self._dns_host  # type: ignore[has-type]
            try:
                addresses = addresses_of(scheme, named.rstrip('.'), self.port)
            except InvalidInput as exc:
                raise ProviderError(exc.detail) from None
            for address in addresses[:-1]:
                self._dns_host = address
                try:
                    return super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError):
                    continue  # refused, unreachable or silent: the next checked address
                finally:
                    self._dns_host = named
            self._dns_host = addresses[-1]
            try:
                return super()._new_conn()
            finally:
                self._dns_host = named  # the name again, for TLS (SNI and certificate) and the Host header

    class PinnedPool(pool):  # type: ignore[valid-type,misc]
        ConnectionCls = PinnedConnection

    return PinnedPool
