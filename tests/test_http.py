"""The shared HTTP path against real 127.0.0.1 servers: every fault ends as a TransportError of
the right kind, within the deadline, without buffering a huge body or following a redirect."""

from __future__ import annotations

import socket
import time

import anyio
import httpx
import pytest

from probed.fakeprovider import TEN_MB, FakeProvider
from probed.probes.http import MAX_BODY, TransportError, make_http_client, send

SECRET = "sk-ant-api03-SECRET-http-0001"


def _get(url: str, *, timeout: float = 2.0, headers: dict[str, str] | None = None):
    async def go():
        async with make_http_client(timeout) as client:
            return await send(client, "GET", url, headers=headers or {}, timeout=timeout)

    return anyio.run(go)


def _kind(url: str, **kw: object) -> TransportError:
    with pytest.raises(TransportError) as info:
        _get(url, **kw)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)
    return info.value


def test_success_body_and_headers_are_read() -> None:
    with FakeProvider() as fake:
        fake.respond(headers={"X-Thing": "1"})
        resp = _get(fake.base_url + "/v1/models", headers={"authorization": f"Bearer {SECRET}"})
    assert resp.status == 200
    assert resp.headers["x-thing"] == "1"
    assert resp.json()["object"] == "list"
    assert SECRET not in repr(resp)


def test_closed_port_is_a_connect_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = _kind(f"http://127.0.0.1:{port}/v1/models")
    assert err.kind == "connect"
    assert "127.0.0.1" in err.detail


def test_https_to_a_plain_http_port_is_a_tls_failure() -> None:
    with FakeProvider() as fake:
        err = _kind(fake.base_url.replace("http://", "https://") + "/v1/models")
    assert err.kind == "tls"


def test_a_server_that_never_answers_is_cut_at_the_deadline() -> None:
    with FakeProvider() as fake:
        fake.hang()
        start = time.monotonic()
        err = _kind(fake.base_url + "/v1/models", timeout=0.5)
        elapsed = time.monotonic() - start
    assert err.kind == "timeout"
    assert elapsed < 5  # bounded: the deadline, not the server, ends the wait


def test_a_ten_megabyte_body_is_cut_at_the_cap() -> None:
    with FakeProvider() as fake:
        fake.respond(size=TEN_MB)
        resp = _get(fake.base_url + "/v1/chat/completions")
    assert resp.truncated
    assert len(resp.body) <= MAX_BODY
    with pytest.raises(TransportError) as info:
        resp.json()
    assert info.value.kind == "too_large"


def test_a_redirect_to_another_host_is_not_followed() -> None:
    with FakeProvider() as fake:
        fake.respond(redirect="http://collector.invalid/steal")
        err = _kind(fake.base_url + "/v1/models", headers={"x-api-key": SECRET})
        assert fake.counts().total == 1  # nothing else was requested
    assert err.kind == "redirect"
    assert "collector.invalid" in err.detail


def test_a_non_json_body_is_a_protocol_failure_when_json_is_needed() -> None:
    with FakeProvider() as fake:
        fake.respond(body="<html>502 Bad Gateway</html>")
        resp = _get(fake.base_url + "/v1/models")
    with pytest.raises(TransportError) as info:
        resp.json()
    assert info.value.kind == "protocol"
    assert "not JSON" in info.value.detail


def test_client_settings() -> None:
    client = make_http_client(3.0)
    try:
        assert client.follow_redirects is False
        assert client.timeout == httpx.Timeout(3.0)
        assert client.trust_env is False
    finally:
        anyio.run(client.aclose)
