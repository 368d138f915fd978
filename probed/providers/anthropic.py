"""Anthropic: the Messages API with API keys, and Claude subscription OAuth tokens.

Error bodies: `{"type":"error","error":{"type":T,"message":M[,"details":{"error_code":C}]}}`.
The status alone misleads here: an empty prepaid balance and a workspace spend limit are both a
400 `invalid_request_error`, the tier's monthly cap is a 429 without Retry-After, and a Claude
subscription's 5-hour or weekly window is a 429 whose only tell is the
`anthropic-ratelimit-unified-*` headers. The OAuth usage endpoint shows those windows for free.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from probed.providers.base import (
    Finding,
    FreeCheck,
    ProviderSpec,
    Reading,
    Verdict,
    has,
    number,
    text_at,
    verdict,
    window_used_up,
    windows_have_room,
)
from probed.reasons import Reason


def rules(r: Reading) -> Verdict | None:
    t = r.text
    if r.detail_code == "enforced_spend_limit_reached":
        return verdict(Reason.QUOTA, "account", rule="rule:first-of-month")
    if has(t, "regain access on", "api usage limits", "specified api usage limit"):
        return verdict(Reason.QUOTA, "account", fallback_rule="rule:first-of-month")
    if has(t, "credit balance is too low"):
        return verdict(Reason.BILLING, "account")
    if has(t, "out of extra usage", "extra usage is required", "claude.ai/settings/usage"):
        return verdict(Reason.BILLING, "account")
    if has(t, "only authorized for use with claude code"):
        return verdict(Reason.PERMISSION, "profile")
    et = r.etype
    if et == "billing_error":
        return verdict(Reason.BILLING, "account")
    if et == "authentication_error":
        if has(t, "oauth", "expired", "token has been", "refresh"):
            return verdict(Reason.AUTH, "profile")
        return verdict(Reason.AUTH_PERMANENT, "profile")
    if et == "permission_error":
        return verdict(Reason.PERMISSION, "profile")
    if et == "not_found_error":
        if "model" in t:
            return verdict(Reason.MODEL_NOT_FOUND, "model")
        return verdict(Reason.FORMAT, "model")
    if et == "overloaded_error":
        return verdict(Reason.OVERLOADED, "model")
    if et == "api_error":
        # "Internal server error": a 5xx like any other provider's, not a capacity signal.
        return verdict(Reason.TIMEOUT, "model")
    if et == "rate_limit_error" or r.status == 429:
        h = r.headers
        if h.get("anthropic-ratelimit-unified-status") == "rejected" or any(
            k.startswith("anthropic-ratelimit-unified-")
            and k.endswith("-status")
            and v == "rejected"
            for k, v in h.items()
        ):
            return verdict(Reason.QUOTA, "profile")
        told = (
            "retry-after" in h
            or "retry-after-ms" in h
            or any(k.startswith("anthropic-ratelimit-") and k.endswith("-reset") for k in h)
        )
        if not told and has(t, "spend limit", "spending limit", "usage limit", "monthly"):
            return verdict(Reason.QUOTA, "account", rule="rule:first-of-month")
        if et == "rate_limit_error":
            return verdict(Reason.RATE_LIMIT, "profile")
    return None


# The OAuth usage windows: utilization is a percentage (0-100), resets_at RFC 3339.
_WINDOWS = ("five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet")


def read_oauth_usage(data: Any, now: datetime) -> Finding | None:
    """`GET /api/oauth/usage`: a window at 100 % is a quota until its `resets_at`; all windows
    below 100 % prove a plan window is over (the subscription has room again)."""
    if not isinstance(data, dict):
        return None
    full: list[tuple[str, datetime | None]] = []
    seen = 0
    for name in _WINDOWS:
        w = data.get(name)
        if not isinstance(w, dict):
            continue
        used = number(w.get("utilization"))
        if used is None:
            continue
        seen += 1
        if used >= 100:
            full.append((name, text_at(now, w.get("resets_at"))))
    if full:
        names = ", ".join(n.replace("_", "-") for n, _ in full)
        return window_used_up(
            f"the Claude subscription's {names} usage window is used up",
            (at for _, at in full),
            "free:api/oauth/usage",
        )
    if seen:
        return windows_have_room("the Claude subscription's usage windows have room")
    return None


SPEC = ProviderSpec(
    id="anthropic",
    display_name="Anthropic",
    api="anthropic",
    base_url="https://api.anthropic.com",
    model="claude-haiku-4-5",
    aliases=("anthropic-oauth", "claude"),
    free_checks=(
        FreeCheck(
            "anthropic_oauth_usage",
            "/api/oauth/usage",
            read_oauth_usage,
            oauth_only=True,
            advisory=True,
        ),
    ),
    rules=rules,
)
