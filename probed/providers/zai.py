"""Z.ai / Zhipu GLM (OpenClaw's `zai`): numbered business codes in `error.code` (or `type`), and
plan windows worded "Usage limit reached for 5 hour. Your limit will reset at 2026-09-09
05:38:28", or the same in Chinese ("已达到 5 小时的使用上限。您的限额将在 ... 重置。"). The time
has no zone: it is China Standard Time (UTC+8). `GET /api/monitor/usage/quota/limit` shows the
windows and their next reset for free.
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
    china_standard_time,
    epoch_at,
    number,
    window_used_up,
    windows_have_room,
)
from probed.providers.base import verdict as _v
from probed.reasons import Reason

# docs.z.ai/api-reference/api-code: 1308 5-hour window, 1310 weekly/monthly, 1316-1321 plan
# windows; 1302/1303 concurrency and frequency; 1113 balance; 1311 model not in the plan.
_WINDOW_CODES = frozenset({"1308", "1310", "1316", "1317", "1318", "1319", "1320", "1321"})


def _code(r: Reading) -> str:
    return r.ecode or r.etype


def rules(r: Reading) -> Verdict | None:
    code = _code(r)
    if code in _WINDOW_CODES:
        return _v(Reason.QUOTA, "profile")
    if code in ("1302", "1303", "1305"):
        return _v(Reason.RATE_LIMIT, "profile")
    if code == "1113":
        return _v(Reason.BILLING, "account")
    if code == "1311":
        return _v(Reason.PERMISSION, "model")
    return None


def read_quota_limit(data: Any, now: datetime) -> Finding | None:
    """Token or credit limits (`TOKENS_LIMIT`, `CREDIT_LIMIT`) at 100 % are a quota until their
    `nextResetTime` (epoch ms); `TIME_LIMIT` counts tool calls and is not a model window."""
    d = data.get("data") if isinstance(data, dict) else None
    limits = d.get("limits") if isinstance(d, dict) else None
    if not isinstance(limits, list):
        return None
    windows = [
        w
        for w in limits
        if isinstance(w, dict)
        and str(w.get("type", "")).upper() in ("TOKENS_LIMIT", "CREDIT_LIMIT")
    ]
    if not windows:
        return None
    spent = [
        w
        for w in windows
        if (number(w.get("percentage")) or 0) >= 100
        or (number(w.get("remaining")) is not None and (number(w.get("remaining")) or 0) <= 0)
    ]
    if not spent:
        return windows_have_room("the GLM plan's windows have room")
    return window_used_up(
        "the GLM coding plan's usage window is used up",
        (epoch_at(now, w.get("nextResetTime")) for w in spent),
        "free:api/monitor/usage/quota/limit",
    )


SPEC = ProviderSpec(
    id="zai",
    display_name="Z.ai (GLM)",
    api="openai",
    # The general and the coding-plan endpoints differ (/api/paas/v4, /api/coding/paas/v4) and a
    # coding-plan key on the general one reads as an empty balance: the endpoint must be named.
    base_url=None,
    model="glm-4.5-flash",
    aliases=("z-ai", "zhipu", "glm", "bigmodel"),
    free_checks=(
        FreeCheck(
            "zai_quota_limit", "/api/monitor/usage/quota/limit", read_quota_limit, advisory=True
        ),
    ),
    rules=rules,
    local_tz=china_standard_time(),
)
