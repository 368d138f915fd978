"""DeepSeek: OpenAI-shaped with odd values (`type: unknown_error`, `code: invalid_request_error`),
402 for an empty balance, and a free balance endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from probed.providers.base import Finding, FreeCheck, ProviderSpec, Reading, Unshaped, Verdict, has
from probed.providers.base import verdict as _v
from probed.reasons import Reason


def rules(r: Reading) -> Verdict | None:
    t = r.text
    if r.status == 402 or has(t, "insufficient balance"):
        return _v(Reason.BILLING, "account")
    if has(t, "auth header format"):
        return _v(Reason.AUTH, "profile")
    if has(t, "authentication fails"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    if r.status == 503:
        return _v(Reason.OVERLOADED, "model")
    return None


def read_balance(data: Any, now: datetime) -> Finding | None:
    """`GET /user/balance`: `is_available: false` means the balance cannot pay for a request."""
    if not isinstance(data, dict) or "is_available" not in data:
        raise Unshaped("no is_available")
    if isinstance(data, dict) and data.get("is_available") is False:
        return Finding(
            Reason.BILLING,
            "DeepSeek reports the balance is not available",
            "add credit to the deepseek account; probed clears the profile on the next probe",
            scope="account",
        )
    return None


SPEC = ProviderSpec(
    id="deepseek",
    display_name="DeepSeek",
    api="openai",
    base_url="https://api.deepseek.com",
    model="deepseek-chat",
    free_checks=(FreeCheck("deepseek_balance", "/user/balance", read_balance),),
    rules=rules,
)
