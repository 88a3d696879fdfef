"""A webhook endpoint on loopback that keeps every request it gets (headers lower-cased, raw body) and answers with
the next scripted reply (status, body, headers, delay); the last reply repeats."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.http import JsonHandler, start


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    def __init__(self, replies: list[Reply] | None = None) -> None:
        self.replies = replies or [Reply()]
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.url = ''

    def next_reply(self, request: Received) -> Reply:
        with self.lock:
            self.received.append(request)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


def serve(replies: list[Reply] | None = None, *, tls: tuple[Path, Path] | None = None) -> Receiver:
    receiver = Receiver(replies)

    class Handler(JsonHandler):
        def route(self, method: str) -> None:
            body = self.read_body()
            reply = receiver.next_reply(Received({k.lower(): v for k, v in self.headers.items()}, body, self.path))
            if reply.delay:
                time.sleep(reply.delay)
            self.send_json(reply.status, reply.body, reply.headers)

        def log_message(self, *args: Any) -> None:
            pass

    receiver.server, base = start(Handler, tls=tls)
    receiver.url = f'{base}/hooks/cloudmeet'
    return receiver
