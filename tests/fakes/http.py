"""What every local stand-in shares: a quiet request handler that answers JSON, and a server on a free loopback
port (optionally behind TLS), served from a background thread."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """Override `route(method)`; every HTTP method goes there."""

    def route(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self.route('GET')

    def do_POST(self) -> None:
        self.route('POST')

    def do_PATCH(self) -> None:
        self.route('PATCH')

    def do_PUT(self) -> None:
        self.route('PUT')

    def do_DELETE(self) -> None:
        self.route('DELETE')

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get('Content-Length', 0)))

    def send_json(
        self, code: int, body: Any = None, headers: dict[str, str] | None = None, content_type: str = 'application/json'
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b''
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def start(
    handler: type[BaseHTTPRequestHandler], *, tls: tuple[Path, Path] | None = None
) -> tuple[ThreadingHTTPServer, str]:
    """Serve `handler` on a free loopback port; returns the server (stop it with `shutdown()`) and its base URL."""
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'{"https" if tls else "http"}://127.0.0.1:{server.server_address[1]}'
