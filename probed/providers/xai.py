"""xAI: `{"code": "<gRPC sentence>", "error": "<message>"}`; credits, spend limit, rate limit
and capacity share one status and code, so the message decides. `GET /v1/api-key` shows whether
the key or its team is blocked, for free."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from probed.providers.base import Finding, FreeCheck, ProviderSpec, Reading, Unshaped, Verdict, has
from probed.providers.base import verdict as _v
from probed.reasons import Reason


def rules(r: Reading) -> Verdict | None:
    t = r.text
    if has(t, "used all available credits", "monthly spending limit", "purchase more credits"):
        return _v(Reason.BILLING, "account")
    if has(t, "at capacity"):
        return _v(Reason.OVERLOADED, "model")
    if has(t, "api key is blocked", "api key is disabled", "team is blocked", "team blocked"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    return None


def read_api_key(data: Any, now: datetime) -> Finding | None:
    if not isinstance(data, dict) or not (
        {"api_key_blocked", "api_key_disabled", "team_blocked"} & data.keys()
    ):
        raise Unshaped("no api_key_blocked, api_key_disabled or team_blocked")
    if data.get("api_key_blocked") or data.get("api_key_disabled"):
        return Finding(
            Reason.AUTH_PERMANENT,
            "xAI reports this API key is blocked or disabled",
            "create a new xAI API key and store it in OpenClaw",
        )
    if data.get("team_blocked"):
        return Finding(
            Reason.PERMISSION,
            "xAI reports the team is blocked",
            "check the team's status and billing in the xAI console",
            scope="account",
        )
    return None


SPEC = ProviderSpec(
    id="xai",
    display_name="xAI",
    api="openai",
    base_url="https://api.x.ai/v1",
    model="grok-4-fast-non-reasoning",
    aliases=("x-ai", "grok"),
    free_checks=(FreeCheck("xai_api_key", "api-key", read_api_key),),
    rules=rules,
)
