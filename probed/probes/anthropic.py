"""Anthropic Messages API (and Anthropic-shaped providers such as MiniMax).

The probe carries every field by which Anthropic routes and bills a request, exactly as
OpenClaw 2026.9.6's gateway sends it (recorded: tests/test_request_shapes.py), so that its
verdict is the gateway's:

- On the direct API (`api.anthropic.com`) the body asks for `service_tier: "standard_only"`,
  as the gateway's agent requests do with either credential (priority capacity is billed and
  answered apart). API keys go in `x-api-key`.
- A Claude subscription token (`sk-ant-oat…`, a setup-token or an OAuth login) goes as
  `Authorization: Bearer` with the Claude Code identity: `x-app: cli`, a
  `claude-cli/<version>` user agent, `anthropic-dangerous-direct-browser-access: true`, the
  `claude-code-20250219,oauth-2025-04-20` betas (direct API only, as the gateway), and two
  leading system blocks, the `x-anthropic-billing-header: …` tag and "You are Claude Code,
  Anthropic's official CLI for Claude.". Without them the request lands in another billing
  bucket: it can read "out of extra usage" for a subscription that works, or succeed while the
  subscription's own window is exhausted.
- Any other bearer token (a `token` profile that is not a Claude subscription token) keeps the
  `oauth-2025-04-20` beta the official SDK adds to bearer requests.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from probed.probes.credentials import Secret
from probed.probes.endpoints import Endpoint
from probed.probes.http import EmbeddedError, Request, Response

VERSION = "2023-06-01"
OAUTH_BETA = "oauth-2025-04-20"
CLAUDE_CODE_BETA = "claude-code-20250219"
# OpenClaw 2026.9.6's ANTHROPIC_CLAUDE_CODE_VERSION: the Claude Code release it presents as.
CLAUDE_CODE_VERSION = "2.1.278"
BILLING_HEADER = (
    f"x-anthropic-billing-header: cc_version={CLAUDE_CODE_VERSION}; cc_entrypoint=sdk-cli;"
)
CLAUDE_CODE_IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."
DIRECT_HOST = "api.anthropic.com"
SERVICE_TIER = "standard_only"
# Models OpenClaw sends no service tier for (no priority tier: Opus 5 and Sonnet 5).
_NO_PRIORITY_TIER = re.compile(r"claude-(opus|sonnet)-5(?![0-9])")


def is_subscription(secret: Secret) -> bool:
    """OpenClaw's `isAnthropicOAuthApiKey`: the token itself says it is a subscription."""
    return secret.oauth and "sk-ant-oat" in secret.value


def is_direct(endpoint: Endpoint | None) -> bool:
    """The public Anthropic API itself, not a proxy or another Anthropic-shaped provider."""
    if endpoint is None:
        return True
    return endpoint.provider == "anthropic" and urlsplit(endpoint.base_url).hostname == DIRECT_HOST


def headers(secret: Secret, endpoint: Endpoint | None = None) -> dict[str, str]:
    base = {
        "anthropic-version": VERSION,
        "content-type": "application/json",
        "accept": "application/json",
    }
    if is_subscription(secret):
        out = {
            **base,
            "authorization": f"Bearer {secret.value}",
            "anthropic-dangerous-direct-browser-access": "true",
            "x-app": "cli",
            "user-agent": f"claude-cli/{CLAUDE_CODE_VERSION}",
        }
        if is_direct(endpoint):
            out["anthropic-beta"] = f"{CLAUDE_CODE_BETA},{OAUTH_BETA}"
        return out
    if secret.oauth:
        return {**base, "authorization": f"Bearer {secret.value}", "anthropic-beta": OAUTH_BETA}
    return {**base, "x-api-key": secret.value}


def generation(endpoint: Endpoint, model: str, secret: Secret | None = None) -> Request:
    """One output token, no tools, no thinking block (extended thinking is off unless asked),
    in the billing shape of the credential (see the module docstring)."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if secret is not None and is_subscription(secret):
        body["system"] = [
            {"type": "text", "text": BILLING_HEADER},
            {"type": "text", "text": CLAUDE_CODE_IDENTITY},
        ]
    if is_direct(endpoint) and not _NO_PRIORITY_TIER.search(model):
        body["service_tier"] = SERVICE_TIER
    return Request("POST", endpoint.url("v1/messages"), body)


def read_generation(resp: Response) -> EmbeddedError | None:
    data = resp.json()
    if isinstance(data, dict) and data.get("type") == "error":
        return EmbeddedError(None, resp.text)
    if not isinstance(data, dict) or data.get("type") != "message":
        return EmbeddedError(None, resp.text)
    return None
