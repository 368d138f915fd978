"""OpenRouter: an aggregator whose errors name their source (`error.metadata.limit_source`)
and whose key and credit endpoints show the balance and the key's own limit for free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from probed import resets
from probed.providers.base import (
    Finding,
    FreeCheck,
    ProviderSpec,
    Reading,
    Unshaped,
    Verdict,
    has,
    number,
)
from probed.providers.base import verdict as _v
from probed.reasons import Reason

TOP_UP = "add credit to the openrouter account; probed clears the profile on the next probe"


def rules(r: Reading) -> Verdict | None:
    t = r.text
    ls = r.limit_source
    if ls == "openrouter_credits":
        return _v(Reason.BILLING, "account")
    if ls == "openrouter_key_limit" or has(t, "key limit exceeded"):
        return _v(Reason.QUOTA, "profile")
    if ls == "openrouter_free_tier_daily" or has(t, "free-models-per-day"):
        return _v(Reason.QUOTA, "account", rule="rule:utc-midnight")
    if ls == "upstream_provider_shared_pool" or has(t, "rate-limited upstream"):
        return _v(Reason.RATE_LIMIT, "model")
    if has(t, "provider returned error"):
        # The upstream provider's own error, relayed: read generically, for this model only.
        return _v(Reason.UNKNOWN, "model", upstream=True)
    if r.status == 402 or has(t, "requires more credits", "insufficient credits"):
        return _v(Reason.BILLING, "account")
    if has(t, "prompt tokens limit exceeded") and has(t, "credits"):
        return _v(Reason.BILLING, "account")  # a free account's prompt cap: pay to lift it
    if r.status == 403 and has(t, "moderation", "flagged"):
        return _v(Reason.FORMAT, "model")
    if r.status == 502:
        return _v(Reason.TIMEOUT, "model")
    if r.status == 503 and not has(t, "unauthor"):
        return _v(Reason.OVERLOADED, "model")
    return None


def _limit_reset(period: object, now: datetime) -> datetime | None:
    """OpenRouter's `limit_reset` word: when a key's own credit limit starts over (UTC)."""
    if period == "daily":
        return resets.next_utc_midnight(now)
    if period == "weekly":
        n = now.astimezone(UTC)
        monday = datetime(n.year, n.month, n.day, tzinfo=UTC) + timedelta(days=7 - n.weekday())
        return monday
    if period == "monthly":
        return resets.first_of_next_month(now)
    return None


def read_key(data: Any, now: datetime) -> Finding | None:
    """`GET /api/v1/key`: a key whose own limit is spent, and when that limit resets."""
    d = data.get("data") if isinstance(data, dict) else None
    if not isinstance(d, dict):
        raise Unshaped("no data object")
    remaining = number(d.get("limit_remaining"))
    if d.get("limit") is not None and remaining is not None and remaining <= 0:
        until = _limit_reset(d.get("limit_reset"), now)
        return Finding(
            Reason.QUOTA,
            "this OpenRouter key has reached its credit limit",
            "raise the key's limit on openrouter.ai or wait for it to reset",
            retry_at=until,
            retry_source="free:api/v1/key.limit_reset" if until else None,
        )
    return None


def read_credits(data: Any, now: datetime) -> Finding | None:
    """`GET /api/v1/credits`: the balance is `total_credits - total_usage`."""
    d = data.get("data") if isinstance(data, dict) else None
    if not isinstance(d, dict) or "total_credits" not in d:
        raise Unshaped("no data.total_credits")
    total, used = number(d.get("total_credits")), number(d.get("total_usage"))
    if total is not None and used is not None and total - used <= 0:
        return Finding(
            Reason.BILLING, "OpenRouter credit balance is used up", TOP_UP, scope="account"
        )
    return None


SPEC = ProviderSpec(
    id="openrouter",
    display_name="OpenRouter",
    api="openai",
    base_url="https://openrouter.ai/api/v1",
    model="openai/gpt-4.1-nano",
    free_checks=(
        FreeCheck("openrouter_key", "key", read_key),
        FreeCheck("openrouter_credits", "credits", read_credits),
    ),
    models_check=False,  # the model list is huge and proves nothing about the key
    rules=rules,
)
