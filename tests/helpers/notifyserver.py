"""A real HTTP server on 127.0.0.1 that records every request a notification service would get.

Apprise's `json://127.0.0.1:PORT/path` POSTs a JSON document (`title`, `message`, ...) and
`ntfy://127.0.0.1:PORT/topic` talks to it as to a self-hosted ntfy server. `status` makes it
answer with an error (to see `notify_failed`), `delay` makes it slow.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from probed.fakeprovider import serve, shut


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def text(self) -> str:
        """Everything a person would see: headers and body."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.path}\n{head}\n\n{self.body.decode('utf-8', 'replace')}"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.status = 200
        self.delay = 0.0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._record()

            def do_PUT(self) -> None:
                self._record()

            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append(
                    Request(self.command, self.path, dict(self.headers.items()), body)
                )
                if recorder.delay:
                    time.sleep(recorder.delay)
                payload = b'{"id": "x", "event": "message"}'
                self.send_response(recorder.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: object) -> None:
                pass

        self.server, self._thread = serve(Handler, name="notifyserver")
        self.port = int(self.server.server_address[1])

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *_exc: object) -> None:
        shut(self.server)
        self._thread.join(5)

    def on(self, path_prefix: str) -> list[Request]:
        return [r for r in list(self.requests) if r.path.startswith(path_prefix)]
