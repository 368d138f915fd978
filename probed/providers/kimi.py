"""Kimi Code (`api.kimi.com/coding`): a subscription whose plan windows (5-hour, weekly, the
billing cycle) answer with 403 or 429 under types that also mean real denials
(`permission_error`, `access_terminated_error`), so the message decides. `GET /coding/v1/usages`
shows the windows and their resets for free.
"""

from __future__ import annotations

import re
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
    window_used_up,
    windows_have_room,
)
from probed.providers.base import verdict as _v
from probed.reasons import Reason

_RE_PLAN_WINDOW = re.compile(
    r"usage limit.{0,80}(reached|will reset|will be refreshed|billing cycle|this period|"
    r"5-hour|weekly|7-day)|(reached|exceeded) your .{0,40}usage limit"
)


def rules(r: Reading) -> Verdict | None:
    """Shared by Kimi Code and the Moonshot platform, which word their errors alike."""
    t = r.text
    if _RE_PLAN_WINDOW.search(t):
        return _v(Reason.QUOTA, "profile")
    if has(t, "unable to verify your membership"):
        return _v(Reason.BILLING, "account")
    if has(t, "only available for coding agents"):
        return _v(Reason.PERMISSION, "profile")
    if has(t, "access terminated"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    if has(t, "engine is currently overloaded"):
        return _v(Reason.OVERLOADED, "model")
    return None


def _exhausted(bucket: object) -> bool:
    if not isinstance(bucket, dict):
        return False
    ratio = number(bucket.get("used_ratio"))
    if ratio is not None:
        return ratio >= 1
    limit, remaining = number(bucket.get("limit")), number(bucket.get("remaining"))
    if limit is None or limit <= 0:
        return False  # a zero limit is a redacted or absent pool, not a spent one
    if remaining is not None:
        return remaining <= 0
    used = number(bucket.get("used"))
    return used is not None and used >= limit


def _reset_of(bucket: dict[str, Any], now: datetime) -> datetime | None:
    for key in ("resetTime", "reset_time", "resetAt", "reset_at"):
        at = text_at(now, bucket.get(key))
        if at is not None:
            return at
    return None


def read_usages(data: Any, now: datetime) -> Finding | None:
    """`GET /coding/v1/usages`: the weekly `usage`, the `limits[]` windows (5-hour) and the
    `usages{}` pools (5-hour, month); a spent one is a quota until its reset time."""
    if not isinstance(data, dict):
        return None
    buckets: list[dict[str, Any]] = []
    if isinstance(data.get("usage"), dict):
        buckets.append(data["usage"])
    for entry in data.get("limits") or ():
        if isinstance(entry, dict) and isinstance(entry.get("detail"), dict):
            buckets.append(entry["detail"])
    pools = data.get("usages")
    if isinstance(pools, dict):
        buckets.extend(b for b in pools.values() if isinstance(b, dict))
    if not buckets:
        return None
    spent = [b for b in buckets if _exhausted(b)]
    if not spent:
        # Older answers leave out the billing-cycle pool, whose exhaustion is a quota too: only
        # an answer that shows it proves every window has room.
        shows_cycle = isinstance(pools, dict) and any("month" in str(k) for k in pools)
        if not shows_cycle:
            return None
        return windows_have_room("the Kimi plan's windows have room")
    return window_used_up(
        "the Kimi plan's usage window is used up",
        (_reset_of(b, now) for b in spent),
        "free:coding/v1/usages",
    )


SPEC = ProviderSpec(
    id="kimi",
    display_name="Kimi",
    api="anthropic",
    base_url="https://api.kimi.com/coding",
    model="kimi-for-coding",
    aliases=("kimi-coding", "kimi-code"),
    free_checks=(FreeCheck("kimi_usages", "v1/usages", read_usages, advisory=True),),
    rules=rules,
)
