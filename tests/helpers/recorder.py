"""A recording HTTP server on 127.0.0.1: what a client (the OpenClaw gateway, its CLI, or probed)
sends upstream, headers and body, for the request-shape tests.

Two ways in: point a provider's `baseUrl` at `base_url`, or, for a provider's own public
endpoint (`https://api.anthropic.com`, where some fields are sent only to the direct API), use
the recorder as the client's forward proxy (`proxy_url`; OpenClaw: `OPENCLAW_PROXY_URL`): it
answers `CONNECT host:443`, ends TLS itself with a certificate for that host signed by a
throw-away test CA (`ca_file`; Node: `NODE_EXTRA_CA_CERTS`), and records what comes through.
Nothing leaves the machine.

It answers every family with a short success, streamed (SSE) when the request asked for a
stream, so the client takes the first request as a success and sends no retries of another
shape. Credentials never reach the record: any header value that holds one of the `secrets`
given to it is replaced by `<credential>` (with the scheme kept: `Bearer <credential>`).
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from probed.fakeprovider import QuietHandler, serve, shut

CREDENTIAL = "<credential>"


@dataclass(frozen=True, slots=True)
class Captured:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names, credentials replaced
    body: Any  # parsed JSON, or None

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body,
        }


@dataclass
class Recorder:
    secrets: tuple[str, ...] = ()
    tls_dir: Path | None = None  # where the test CA and host certificates go (enables CONNECT)
    # An answer of its own for some requests, e.g. a 402 that makes a gateway rotate profiles.
    refuse: Callable[[Captured], tuple[int, str] | None] | None = None
    captured: list[Captured] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _contexts: dict[str, ssl.SSLContext] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def proxy_url(self) -> str:
        return self.base_url

    @property
    def ca_file(self) -> Path:
        assert self.tls_dir is not None, "Recorder(tls_dir=...) enables interception"
        return self.tls_dir / "ca.pem"

    def _tls_for(self, host: str) -> ssl.SSLContext:
        with self._lock:
            if host not in self._contexts:
                cert, key = _host_cert(self.tls_dir or Path("."), host)
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert, key)
                self._contexts[host] = ctx
            return self._contexts[host]

    def generations(self) -> list[Captured]:
        with self._lock:
            return [c for c in self.captured if c.method == "POST"]

    def clear(self) -> None:
        with self._lock:
            self.captured.clear()

    def start(self) -> Recorder:
        recorder = self
        if self.tls_dir is not None:
            _make_ca(self.tls_dir)

        class Handler(_Handler):
            owner = recorder

        self._server, _ = serve(Handler, name="recorder")
        return self

    def stop(self) -> None:
        if self._server is not None:
            shut(self._server)
            self._server = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _scrub(self, value: str) -> str:
        for secret in self.secrets:
            if secret and secret in value:
                value = value.replace(secret, CREDENTIAL)
        return value

    def _keep(self, captured: Captured) -> None:
        with self._lock:
            self.captured.append(captured)


class _Handler(QuietHandler):
    owner: Recorder

    def do_CONNECT(self) -> None:
        """A tunnel to `host:443`: end TLS here as that host and serve what comes through."""
        host = self.path.rsplit(":", 1)[0]
        if self.owner.tls_dir is None:
            self.send_error(502, "this recorder does not intercept TLS")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.owner._tls_for(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        type(self)(tls, self.client_address, self.server)  # serves the tunnel until it closes
        self.close_connection = True

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): self.owner._scrub(v) for k, v in self.headers.items()}
        captured = Captured(method, self.path, headers, body)
        self.owner._keep(captured)
        refusal = self.owner.refuse(captured) if self.owner.refuse else None
        if refusal is not None:
            self._send_text(refusal[0], "application/json", refusal[1])
            return
        path = urlsplit(self.path).path
        stream = (isinstance(body, dict) and body.get("stream") is True) or "alt=sse" in self.path
        if method == "GET":
            self._send_text(200, "application/json", _model_list(path))
        elif path.endswith("/messages"):
            self._answer(stream, _ANTHROPIC_SSE, _ANTHROPIC_JSON)
        elif ":generateContent" in path or ":streamGenerateContent" in path:
            self._answer(stream, _GEMINI_SSE, _GEMINI_JSON)
        else:
            self._answer(stream, _OPENAI_SSE, _OPENAI_JSON)

    def _answer(self, stream: bool, sse: str, plain: dict[str, Any]) -> None:
        if stream:
            self._send_text(200, "text/event-stream", sse)
        else:
            self._send_text(200, "application/json", json.dumps(plain))

    def _send_text(self, status: int, ctype: str, text: str) -> None:
        self._send(status, text.encode(), {"content-type": ctype})


def _model_list(path: str) -> str:
    if "v1beta" in path:
        return json.dumps({"models": [{"name": "models/recorded"}]})
    return json.dumps({"data": [{"id": "recorded", "object": "model"}], "object": "list"})


def _sse(events: list[tuple[str | None, dict[str, Any] | str]]) -> str:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out)


_USAGE = {"input_tokens": 1, "output_tokens": 1}
_ANTHROPIC_JSON: dict[str, Any] = {
    "id": "msg_recorded",
    "type": "message",
    "role": "assistant",
    "model": "recorded",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": _USAGE,
}
_ANTHROPIC_SSE = _sse(
    [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {**_ANTHROPIC_JSON, "content": [], "stop_reason": None},
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "ok"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 1},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
)
_OPENAI_JSON: dict[str, Any] = {
    "id": "chatcmpl-recorded",
    "object": "chat.completion",
    "created": 1,
    "model": "recorded",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
_CHUNK = {"id": "chatcmpl-recorded", "object": "chat.completion.chunk", "created": 1}
_OPENAI_SSE = _sse(
    [
        (
            None,
            {
                **_CHUNK,
                "model": "recorded",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": "ok"},
                        "finish_reason": None,
                    }
                ],
            },
        ),
        (
            None,
            {
                **_CHUNK,
                "model": "recorded",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": _OPENAI_JSON["usage"],
            },
        ),
        (None, "[DONE]"),
    ]
)
_GEMINI_JSON: dict[str, Any] = {
    "candidates": [
        {
            "content": {"parts": [{"text": "ok"}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
}
_GEMINI_SSE = _sse([(None, _GEMINI_JSON)])


def _openssl(*args: str) -> None:
    """The test CA is made with the openssl command (Debian: package openssl)."""
    try:
        proc = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise AssertionError(
            "the openssl command is needed to make the recorder's test CA: apt-get install openssl"
        ) from None
    if proc.returncode != 0:
        raise AssertionError(f"openssl {args[0]} failed: {proc.stderr[-1000:]}")


def _make_ca(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    if (d / "ca.pem").exists():
        return
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "2",
        "-subj", "/CN=probed throw-away test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def _host_cert(d: Path, host: str) -> tuple[Path, Path]:
    key, csr, cert, ext = (d / f"{host}.{x}" for x in ("key", "csr", "pem", "ext"))
    ext.write_text(
        f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n",
        encoding="utf-8",
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={host}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
    )  # fmt: skip
    return cert, key
