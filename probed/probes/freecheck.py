"""What a free check's answer says about the credential: pure decision logic, no I/O.

A free check (a model list, a balance or key endpoint) is only worth anything when it answers
about *this credential*. Many answers do not: a LiteLLM proxy with no database answers
`GET /key/info` with `500 Database not connected` (or, as pip installs it without prisma, a
plain-text `500 Internal Server Error`); an OpenAI-compatible proxy has no `/models` (404); a
captive portal answers 200 with HTML. Each of those is a fault of the endpoint, not a verdict,
and taking one as the provider's verdict leaves a recovered profile disabled for hours (the
seed incident). So an answer decides the probe only when it is one:

- `passed`: a 2xx whose body is the API's own JSON in the shape that endpoint documents (a
  model list; a key or balance object that shows nothing wrong) proves the key is accepted;
- `failed`: a JSON error that classifies as a verdict on the credential or its account (auth,
  auth_permanent, permission, billing, quota, rate_limit), or a key/balance object that shows
  the money is gone;
- `silent`: everything else (any 5xx, 404/405/501, 408, a body that is not JSON or not in the
  documented shape, an error the classifier cannot pin on the credential, and the words of a
  server that is broken by itself, such as "database not connected"). Silence never decides:
  the next rung does (the next free check, else the one-token generation).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from probed.classify import classify
from probed.failure import Failure
from probed.probes.endpoints import FreeCheck
from probed.reasons import Reason

Kind = Literal["passed", "failed", "silent"]

# Reasons that are a verdict on the credential or its account (as opposed to the endpoint).
VERDICT_REASONS = frozenset(
    {
        Reason.AUTH,
        Reason.AUTH_PERMANENT,
        Reason.PERMISSION,
        Reason.BILLING,
        Reason.QUOTA,
        Reason.RATE_LIMIT,
    }
)

# Words of a server that cannot answer for reasons of its own, whatever status it sends them
# with (LiteLLM says "No connected db." with a 400 to any key but the master key).
SERVER_FAULTS = (
    "database not connected",
    "no connected db",
    "no_db_connection",
    "db not connected",
    "database is not connected",
    "prisma",
)

ABSENT_STATUSES = frozenset({404, 405, 501})


@dataclass(frozen=True, slots=True)
class FreeAnswer:
    kind: Kind
    failure: Failure | None = None  # set when kind is "failed"
    why: str = ""  # set when kind is "silent": what the answer was instead (for the log)


def judge(
    provider: str,
    check: FreeCheck,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    truncated: bool,
    now: datetime,
) -> FreeAnswer:
    """The verdict of one free check's HTTP answer (see the module docstring)."""
    text = body.decode("utf-8", errors="replace")
    lowered = text.lower()
    if status in ABSENT_STATUSES:
        return FreeAnswer("silent", why=f"HTTP {status}: the server has no such endpoint")
    if status >= 500:
        return FreeAnswer("silent", why=f"HTTP {status}: the server failed by itself")
    if any(word in lowered for word in SERVER_FAULTS):
        return FreeAnswer("silent", why=f"HTTP {status}: the server has no database")
    if status >= 400:
        if _json(body) is None:
            return FreeAnswer("silent", why=f"HTTP {status} with a body that is not JSON")
        failure = classify(provider, status, headers, text, now=now)
        if failure.reason in VERDICT_REASONS:
            return FreeAnswer("failed", failure)
        return FreeAnswer("silent", why=f"HTTP {status} ({failure.reason}) is not about the key")
    if status < 200 or status >= 300:
        return FreeAnswer("silent", why=f"HTTP {status}")
    if check.kind == "models":
        # A model list can be longer than the body cap, so its start decides, not a full parse.
        head = body[:64].lstrip()
        if head[:1] in (b"{", b"[") and not _embedded_error(body, truncated):
            return FreeAnswer("passed")
        ctype = headers.get("content-type", "no content type")
        return FreeAnswer("silent", why=f"HTTP {status} that is not the provider's JSON ({ctype})")
    data = None if truncated else _json(body)
    if data is None:
        return FreeAnswer("silent", why=f"HTTP {status} with a body that is not JSON")
    return read_account(provider, check, data)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _embedded_error(body: bytes, truncated: bool) -> bool:
    """`{"error": ...}` in a 200 (OpenRouter-style) is no model list."""
    if truncated:
        return False
    data = _json(body)
    return isinstance(data, dict) and bool(data.get("error")) and "data" not in data


def read_account(provider: str, check: FreeCheck, data: Any) -> FreeAnswer:
    """What a free key or balance endpoint says about money, or silence when its answer is not
    in the shape that endpoint documents."""
    top_up = f"add credit to the {provider} account; probed clears the profile on the next probe"
    d = data.get("data") if isinstance(data, dict) else None
    failure: Failure | None = None
    if check.kind == "openrouter_credits":
        if not isinstance(d, dict) or "total_credits" not in d:
            return _unshaped(check)
        total, used = _num(d.get("total_credits")), _num(d.get("total_usage"))
        if total is not None and used is not None and total - used <= 0:
            failure = _local(Reason.BILLING, "OpenRouter credit balance is used up", top_up)
    elif check.kind == "openrouter_key":
        if not isinstance(d, dict):
            return _unshaped(check)
        remaining = _num(d.get("limit_remaining"))
        if d.get("limit") is not None and remaining is not None and remaining <= 0:
            failure = _local(
                Reason.QUOTA,
                "this OpenRouter key has reached its credit limit",
                "raise the key's limit on openrouter.ai or wait for it to reset",
            )
    elif check.kind == "deepseek_balance":
        if not isinstance(data, dict) or "is_available" not in data:
            return _unshaped(check)
        if data.get("is_available") is False:
            failure = _local(
                Reason.BILLING, "DeepSeek reports the balance is not available", top_up
            )
    elif check.kind == "moonshot_balance":
        if not isinstance(d, dict) or "available_balance" not in d:
            return _unshaped(check)
        available = _num(d.get("available_balance"))
        if available is not None and available <= 0:
            failure = _local(Reason.BILLING, "Moonshot reports no available balance", top_up)
    elif check.kind == "xai_api_key":
        if not isinstance(data, dict) or not (
            {"api_key_blocked", "api_key_disabled", "team_blocked"} & data.keys()
        ):
            return _unshaped(check)
        if data.get("api_key_blocked") or data.get("api_key_disabled"):
            failure = _local(
                Reason.AUTH_PERMANENT,
                "xAI reports this API key is blocked or disabled",
                "create a new xAI API key and store it in OpenClaw",
            )
        elif data.get("team_blocked"):
            failure = _local(
                Reason.PERMISSION,
                "xAI reports the team is blocked",
                "check the team's status and billing in the xAI console",
            )
    elif check.kind == "litellm_key_info":
        info = data.get("info") if isinstance(data, dict) else None
        if not isinstance(info, dict):
            return _unshaped(check)
        spend, cap = _num(info.get("spend")), _num(info.get("max_budget"))
        if spend is not None and cap is not None and spend >= cap:
            failure = _local(
                Reason.QUOTA,
                "the LiteLLM key has spent its max_budget",
                "raise the key's max_budget on the LiteLLM proxy or wait for its reset",
            )
    else:
        return _unshaped(check)
    return FreeAnswer("failed", failure) if failure is not None else FreeAnswer("passed")


def _unshaped(check: FreeCheck) -> FreeAnswer:
    return FreeAnswer("silent", why=f"{check.kind}: JSON not in the shape that endpoint documents")


def _num(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _local(reason: Reason, message: str, action: str) -> Failure:
    return Failure(
        reason=reason,
        retry_at=None,
        retry_source=None,
        scope="profile",
        status=None,
        message=message,
        action=action,
    )
