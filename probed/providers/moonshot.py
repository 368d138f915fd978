"""Moonshot platform (`api.moonshot.ai`): OpenAI-compatible; an empty balance arrives as a 429
`exceeded_current_quota_error`, and `GET /v1/users/me/balance` shows the balance for free."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from probed.providers import kimi
from probed.providers.base import Finding, FreeCheck, ProviderSpec, Unshaped, number
from probed.reasons import Reason


def read_balance(data: Any, now: datetime) -> Finding | None:
    """`available_balance` is cash plus vouchers; at or below zero the platform refuses calls."""
    d = data.get("data") if isinstance(data, dict) else None
    if not isinstance(d, dict):
        raise Unshaped("no data object")
    available = number(d.get("available_balance"))
    if available is not None and available <= 0:
        return Finding(
            Reason.BILLING,
            "Moonshot reports no available balance",
            "add credit to the moonshot account; probed clears the profile on the next probe",
            scope="account",
        )
    return None


SPEC = ProviderSpec(
    id="moonshot",
    display_name="Moonshot",
    api="openai",
    base_url="https://api.moonshot.ai/v1",
    model="moonshot-v1-8k",
    aliases=("moonshot-cn",),
    free_checks=(FreeCheck("moonshot_balance", "users/me/balance", read_balance),),
    rules=kimi.rules,
)
