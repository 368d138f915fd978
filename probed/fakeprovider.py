"""A real HTTP server on 127.0.0.1 that speaks all three API families, for tests, `probed run
--demo` and benchmarks. No network, no credentials: it answers whatever rules it was given.

Routes (one port serves every family; a request's family is told by path and auth header):
anthropic `POST …/v1/messages`, `GET …/v1/models` (with `x-api-key` or `anthropic-version`);
openai-compatible `POST …/chat/completions`, `GET …/models` (Bearer); gemini
`POST …/v1beta/models/{m}:generateContent`, `GET …/v1beta/models` (`x-goog-api-key`); plus the
free account endpoints probed knows (`/key`, `/credits`, `/user/balance`, `/users/me/balance`,
`/api-key`, `/key/info`). `GET /_fake/counts` and `/_fake/requests` report what was received
(for cross-process tests) and are not recorded.

Rules (`respond`): the most recent matching rule wins; no match = the family's success shape.
A rule can also hang (accept and never answer), redirect elsewhere, or send a huge body.
Only a fingerprint of each credential is kept (sha256, 8 hex digits), never the credential.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

Family = Literal["anthropic", "openai", "gemini"]
Kind = Literal["paid", "free"]

TEN_MB = 10 * 1024 * 1024


def fingerprint(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Recorded:
    path: str
    method: str
    family: Family
    paid: bool
    model: str | None
    credential_fingerprint: str | None
    at: float
    auth: str | None = (
        None  # which header carried the credential: x-api-key, bearer, x-goog-api-key
    )
    beta: str | None = None  # the anthropic-beta header, if any
    body: Any = None  # the parsed JSON request body (probes carry no secrets in bodies)


@dataclass(frozen=True, slots=True)
class Counts:
    paid: int
    free: int
    total: int


@dataclass(frozen=True)
class Rule:
    credential: str | None = field(default=None, repr=False)
    model: str | None = None
    kind: Kind | None = None
    path: str | None = None  # substring of the request path
    status: int = 200
    body: str | None = None
    headers: Mapping[str, str] | None = None
    until: float | None = None
    delay: float = 0.0
    hang: bool = False
    redirect: str | None = None
    size: int | None = None  # send a body of this many bytes (streamed, never built whole)

    def matches(self, cred: str | None, model: str | None, kind: Kind, path: str) -> bool:
        if self.until is not None and time.time() > self.until:
            return False
        if self.credential is not None and self.credential != cred:
            return False
        if self.model is not None and self.model != model:
            return False
        if self.kind is not None and self.kind != kind:
            return False
        return self.path is None or self.path in path


class FakeProvider:
    """ThreadingHTTPServer on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, *, port: int = 0, delay: float = 0.0) -> None:
        self._port = port
        self.delay = delay  # added before every answer (lets concurrent callers overlap)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        fake = self

        class Handler(_Handler):
            provider = fake

        self._server, self._thread = serve(Handler, self._port, "fakeprovider")
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            shut(self._server)
            self._server = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- rules -----------------------------------------------------------------------------

    def respond(
        self,
        *,
        credential: str | None = None,
        model: str | None = None,
        status: int = 200,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        until: float | None = None,
        kind: Kind | None = None,
        path: str | None = None,
        delay: float = 0.0,
        redirect: str | None = None,
        size: int | None = None,
    ) -> None:
        """Add a rule. `body=None` means the family's own shape for `status`. `redirect` answers
        302 to that URL; `size` sends a body of that many bytes (e.g. TEN_MB)."""
        rule = Rule(
            credential,
            model,
            kind,
            path,
            status,
            body,
            headers,
            until,
            delay,
            False,
            redirect,
            size,
        )
        with self._lock:
            self._rules.append(rule)

    def hang(
        self, *, credential: str | None = None, model: str | None = None, kind: Kind | None = None
    ) -> None:
        """Accept matching requests and never answer (until the server stops)."""
        with self._lock:
            self._rules.append(Rule(credential, model, kind, hang=True))

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.requests.clear()

    def counts(self) -> Counts:
        with self._lock:
            paid = sum(1 for r in self.requests if r.paid)
            return Counts(paid=paid, free=len(self.requests) - paid, total=len(self.requests))

    def _rule_for(self, cred: str | None, model: str | None, kind: Kind, path: str) -> Rule | None:
        with self._lock:
            for rule in reversed(self._rules):
                if rule.matches(cred, model, kind, path):
                    return rule
        return None

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 without an access log; GET and POST go to `_handle(method)`. The base of this
    server's handler and of the tests' recording servers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        raise NotImplementedError

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """One answer with a content-length; a client that went away is not an error."""
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def serve(
    handler: type[BaseHTTPRequestHandler], port: int = 0, name: str = "localhttp"
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """A threaded HTTP server on 127.0.0.1:`port` (0: any free port), served by a daemon
    thread; `shut` stops it."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    return server, thread


def shut(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


class _Handler(QuietHandler):
    provider: FakeProvider

    def _handle(self, method: str) -> None:
        fake = self.provider
        path = urlsplit(self.path).path
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/_fake/"):
            self._control(path)
            return
        family, paid, model = _route(method, path, self.headers, raw)
        cred = _credential(self.headers)
        fake._record(
            Recorded(
                path,
                method,
                family,
                paid,
                model,
                fingerprint(cred) if cred else None,
                time.time(),
                auth=_auth_kind(self.headers),
                beta=self.headers.get("anthropic-beta"),
                body=_json_or_none(raw),
            )
        )
        rule = fake._rule_for(cred, model, "paid" if paid else "free", path)
        if rule is not None and rule.hang:
            fake._stopping.wait()
            return
        pause = fake.delay + (rule.delay if rule else 0.0)
        if pause:
            fake._stopping.wait(pause)
        if rule is not None and rule.redirect:
            self._send(302, b"", {"location": rule.redirect})
            return
        status = rule.status if rule else 200
        extra = dict(rule.headers or {}) if rule else {}
        if rule is not None and rule.size:
            self._send_big(status, rule.size, extra)
            return
        if rule is not None and rule.body is not None:
            body = rule.body.encode()
            extra.setdefault("content-type", _ctype(rule.body))
        else:
            body = json.dumps(_default_body(family, paid, path, model, status)).encode()
            extra.setdefault("content-type", "application/json")
        self._send(status, body, extra)

    def _control(self, path: str) -> None:
        fake = self.provider
        if path == "/_fake/counts":
            body = json.dumps(asdict(fake.counts())).encode()
        else:
            with fake._lock:
                body = json.dumps([asdict(r) for r in fake.requests]).encode()
        self._send(200, body, {"content-type": "application/json"})

    def _send_big(self, status: int, size: int, headers: Mapping[str, str]) -> None:
        chunk = b'{"pad":"' + b"x" * 65000 + b'"}\n'
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(size))
            self.end_headers()
            sent = 0
            while sent < size and not self.provider._stopping.is_set():
                piece = chunk[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def _ctype(body: str) -> str:
    try:
        json.loads(body)
    except RecursionError:  # deep JSON (the hardening tests send 30,000 levels)
        return "application/json"
    except ValueError:
        return "text/html; charset=utf-8"
    return "application/json"


def _credential(headers: Any) -> str | None:
    for name in ("x-api-key", "x-goog-api-key"):
        value = headers.get(name)
        if value:
            return str(value)
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return str(auth[7:].strip())
    return None


def _auth_kind(headers: Any) -> str | None:
    for name in ("x-api-key", "x-goog-api-key"):
        if headers.get(name):
            return name
    if (headers.get("authorization") or "").lower().startswith("bearer "):
        return "bearer"
    return None


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


_GEMINI_GEN = re.compile(r"/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)$")


def _route(method: str, path: str, headers: Any, raw: bytes) -> tuple[Family, bool, str | None]:
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    model = body.get("model") if isinstance(body, dict) else None
    gem = _GEMINI_GEN.search(path)
    if gem:
        return "gemini", True, gem.group(1)
    if method == "POST" and path.endswith("/messages"):
        return "anthropic", True, model
    if method == "POST" and path.endswith("/chat/completions"):
        return "openai", True, model
    if "/v1beta/" in path or headers.get("x-goog-api-key"):
        return "gemini", False, None
    if headers.get("x-api-key") or headers.get("anthropic-version"):
        return "anthropic", False, None
    return "openai", False, None


def _default_body(family: Family, paid: bool, path: str, model: str | None, status: int) -> Any:
    if status >= 400:
        return _error_body(family, status)
    if paid:
        if family == "anthropic":
            return {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "O"}],
                "stop_reason": "max_tokens",
                "usage": {"input_tokens": 8, "output_tokens": 1},
            }
        if family == "gemini":
            return {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": "O"}]},
                        "finishReason": "MAX_TOKENS",
                    }
                ],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
            }
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "O"},
                    "finish_reason": "length",
                }
            ],
            "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
        }
    if path.endswith("/credits"):
        return {"data": {"total_credits": 10.0, "total_usage": 1.0}}
    if path.endswith("/key/info"):
        return {"key": "hashed", "info": {"spend": 0.0, "max_budget": None}}
    if path.endswith("/key"):
        return {"data": {"label": "fake", "limit": None, "limit_remaining": None, "usage": 0}}
    if path.endswith("/user/balance"):
        return {
            "is_available": True,
            "balance_infos": [{"currency": "USD", "total_balance": "10.00"}],
        }
    if path.endswith("/users/me/balance"):
        return {"code": 0, "data": {"available_balance": 10.0}, "status": True}
    if path.endswith("/api-key"):
        return {"api_key_blocked": False, "api_key_disabled": False, "team_blocked": False}
    if family == "gemini":
        return {"models": [{"name": "models/gemini-2.5-flash-lite"}]}
    if family == "anthropic":
        return {"data": [{"id": "claude-haiku-4-5", "type": "model"}], "has_more": False}
    return {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}


_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _error_body(family: Family, status: int) -> Any:
    if family == "anthropic":
        return {
            "type": "error",
            "error": {
                "type": _ANTHROPIC_TYPES.get(status, "api_error"),
                "message": f"fake error {status}",
            },
            "request_id": "req_fake",
        }
    if family == "gemini":
        return {
            "error": {
                "code": status,
                "message": f"fake error {status}",
                "status": _GEMINI_STATUS.get(status, "INTERNAL"),
            }
        }
    return {
        "error": {
            "message": f"fake error {status}",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probed.fakeprovider")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--rules", help="JSON file: a list of respond() keyword objects")
    args = parser.parse_args(argv)
    fake = FakeProvider(port=args.port, delay=args.delay)
    if args.rules:
        with open(args.rules, encoding="utf-8") as fh:  # noqa: PTH123
            for rule in json.load(fh):
                if rule.pop("hang", False):
                    fake.hang(**rule)
                else:
                    fake.respond(**rule)
    fake.start()
    sys.stdout.write(f"{fake.base_url}\n")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
