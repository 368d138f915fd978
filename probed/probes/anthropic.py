"""Anthropic Messages API (and Anthropic-shaped providers such as Kimi Code).

API keys go in `x-api-key`. Subscription OAuth tokens (`sk-ant-oat…`, OpenClaw `token` and `oauth`
profiles) go as `Authorization: Bearer` with the `anthropic-beta: oauth-2025-04-20` flag the
official SDK adds to every bearer request; `x-api-key` with such a token is a 401.
"""

from __future__ import annotations

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint
from probed.probes.http import EmbeddedError, Request, Response

VERSION = "2023-06-01"
OAUTH_BETA = "oauth-2025-04-20"


def headers(secret: Secret) -> dict[str, str]:
    base = {"anthropic-version": VERSION, "content-type": "application/json"}
    if secret.oauth:
        return {**base, "authorization": f"Bearer {secret.value}", "anthropic-beta": OAUTH_BETA}
    return {**base, "x-api-key": secret.value}


def generation(endpoint: Endpoint, model: str) -> Request:
    """One output token, no tools, no thinking block (extended thinking is off unless asked)."""
    return Request(
        "POST",
        endpoint.url("v1/messages"),
        {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]},
    )


def read_generation(resp: Response) -> EmbeddedError | None:
    data = resp.json()
    if isinstance(data, dict) and data.get("type") == "error":
        return EmbeddedError(None, resp.text)
    if not isinstance(data, dict) or data.get("type") != "message":
        return EmbeddedError(None, resp.text)
    return None
