"""The one HTTP path every probe takes.

A probe must never hang the scheduler, never follow a provider somewhere else with a credential in
its headers, and never buffer whatever a misbehaving server sends. So: one shared
`httpx.AsyncClient` (HTTP/1.1 keep-alive, TLS verified, redirects not followed, no proxy from the
environment, as OpenClaw's own default), a hard overall deadline with `anyio.fail_after`, and a
body read up to `MAX_BODY` bytes and then cut. Every transport problem becomes a `TransportError`
carrying one of the classifier's transport kinds; its message never holds a header value.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from probed import safejson
from probed.classify import TransportKind
from probed.redact import safe_url

MAX_BODY = 64 * 1024


class TransportError(Exception):
    """No usable HTTP response: the request failed below HTTP, or the response cannot be used."""

    def __init__(self, kind: TransportKind, detail: str) -> None:
        super().__init__(detail)
        self.kind: TransportKind = kind
        self.detail = detail


class BodyTooDeep(TransportError):
    """A JSON body nested deeper than probed reads (see probed.safejson): unreadable, but an
    answer all the same (a 200 to a paid request was billed)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes = field(repr=False)
    truncated: bool  # the server sent more than MAX_BODY; the rest was never read

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or raise TransportError("protocol") naming what was wrong."""
        if self.truncated:
            if safejson.too_deep(self.body):  # even its first MAX_BODY bytes nest too deep
                raise BodyTooDeep(
                    "protocol",
                    f"HTTP {self.status} response body is nested more than "
                    f"{safejson.MAX_DEPTH} levels deep",
                )
            raise TransportError("too_large", f"response body larger than {MAX_BODY} bytes")
        try:
            return safejson.loads(self.body)
        except safejson.TooDeep as exc:
            raise BodyTooDeep(
                "protocol", f"HTTP {self.status} response body is {exc.msg}"
            ) from None
        except (ValueError, UnicodeDecodeError):
            ctype = self.headers.get("content-type", "unknown type")
            raise TransportError(
                "protocol", f"HTTP {self.status} response is not JSON ({ctype})"
            ) from None


def make_http_client(timeout: float) -> httpx.AsyncClient:
    """The shared client. `timeout` bounds each phase; `send` also bounds the whole request."""
    return httpx.AsyncClient(
        http1=True,
        http2=False,
        verify=True,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30),
        headers={"user-agent": "probed", "accept-encoding": "identity"},
    )


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    json_body: Mapping[str, Any] | None = None,
    timeout: float,
    max_body: int = MAX_BODY,
) -> Response:
    """One request under a hard deadline. Raises TransportError, never an httpx exception."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1] or safe_url(url)  # never the user-info
    try:
        with anyio.fail_after(timeout):
            async with client.stream(method, url, headers=dict(headers), json=json_body) as resp:
                if 300 <= resp.status_code < 400:
                    target = urlsplit(resp.headers.get("location", "")).netloc or "elsewhere"
                    raise TransportError(
                        "redirect",
                        f"{host} answered HTTP {resp.status_code} redirecting to {target}; "
                        "redirects are not followed",
                    )
                chunks: list[bytes] = []
                size = 0
                truncated = False
                async for chunk in resp.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_body:
                        truncated = True
                        break
                body = b"".join(chunks)[:max_body]
                return Response(
                    status=resp.status_code,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=body,
                    truncated=truncated,
                )
    except TimeoutError:
        raise TransportError("timeout", f"{host} did not answer within {timeout:g}s") from None
    except httpx.TimeoutException:
        raise TransportError("timeout", f"{host} did not answer within {timeout:g}s") from None
    except httpx.ConnectError as exc:
        if _is_tls(exc):
            raise TransportError("tls", f"TLS handshake with {host} failed ({_why(exc)})") from None
        raise TransportError("connect", f"cannot connect to {host} ({_why(exc)})") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise TransportError("protocol", f"{host}: not a usable http(s) URL") from None
    except httpx.TransportError as exc:
        if _is_tls(exc):
            raise TransportError("tls", f"TLS with {host} failed ({_why(exc)})") from None
        raise TransportError("protocol", f"{host} broke the HTTP exchange ({_why(exc)})") from None
    except httpx.HTTPError as exc:
        raise TransportError(
            "protocol", f"{host} sent an unreadable response ({_why(exc)})"
        ) from None


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        if "SSL" in str(seen) or "CERTIFICATE" in str(seen).upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _why(exc: BaseException) -> str:
    """A short reason from the exception text (never headers: httpx does not put them there)."""
    text = str(exc).strip() or type(exc).__name__
    return text[:160]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    json_body: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EmbeddedError:
    """A 2xx response that carries an error (OpenRouter sends these): classify it like a status."""

    status: int | None
    body: str
