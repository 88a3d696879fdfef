"""Slow and idle clients are cut off by the real HTTP server with CloudMeet's options: a connection that never
completes its headers (one byte now and then), or that says nothing at all, is closed after the header deadline."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.responses import PlainTextResponse

from app.config import Settings
from tests.e2e.server import free_port
from web.edge import HeaderDeadline, server_options


class QuickDeadline(HeaderDeadline):
    header_seconds = 1.0


@pytest.fixture(scope='module')
def server() -> Iterator[int]:
    """A uvicorn server with the app's own options (a 1 s header deadline to keep the test short)."""
    port = free_port()
    options = {**server_options(Settings()), 'http': QuickDeadline, 'timeout_keep_alive': 1}
    config = uvicorn.Config(PlainTextResponse('hello'), host='127.0.0.1', port=port, log_level='warning', **options)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(5)


def closed_after(sock: socket.socket, drip: bytes, limit: float) -> float | None:
    """Send `drip` a byte every 0.2 s; the seconds until the server closed the connection, or None."""
    begun = time.monotonic()
    sock.settimeout(0.2)
    for byte in drip:
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1024) == b'':
                return time.monotonic() - begun
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - begun
        if time.monotonic() - begun > limit:
            return None
    return None


def test_a_client_that_sends_its_headers_a_byte_at_a_time_is_cut_off(server: int) -> None:
    with socket.create_connection(('127.0.0.1', server)) as sock:
        took = closed_after(sock, b'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + b'a' * 200, limit=5)
    assert took is not None and took < 3


def test_a_client_that_connects_and_says_nothing_is_cut_off(server: int) -> None:
    with socket.create_connection(('127.0.0.1', server)) as sock:
        sock.settimeout(5)
        begun = time.monotonic()
        assert sock.recv(1024) == b''
        assert time.monotonic() - begun < 3


def test_a_prompt_client_is_answered_and_its_idle_keep_alive_connection_closed(server: int) -> None:
    with socket.create_connection(('127.0.0.1', server)) as sock:
        sock.settimeout(5)
        sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        answer = b''
        while b'hello' not in answer:
            answer += sock.recv(1024)
        assert answer.startswith(b'HTTP/1.1 200')
        begun = time.monotonic()
        assert sock.recv(1024) == b''
        assert time.monotonic() - begun < 3


def test_unfinished_headers_over_the_size_limit_are_refused_without_waiting_for_the_rest(server: int) -> None:
    with socket.create_connection(('127.0.0.1', server)) as sock:
        sock.settimeout(5)
        sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * (40 * 1024))
        assert sock.recv(1024).startswith(b'HTTP/1.1 4')
