"""The LiteLLM proxy: its own errors (virtual-key budgets and rate limits, model access lists,
router cooldowns) and its upstream deployments' errors passed through with a prefix.

Scope follows what the limit is attached to: a key's budget or rate limit is the profile's; a
team's, user's or organisation's covers every key of it (account); a per-model budget, a
deployment budget, a model the key may not use, and any upstream deployment's own error concern
that model only.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from probed import resets
from probed.failure import Scope
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

_RE_UPSTREAM = re.compile(r"litellm\.\w+(error|exception)|\w+exception - ", re.I)
_RE_WHO = re.compile(r"\b(key|team|user|end user|org|organization|customer)\s*[=:]", re.I)


def _budget_scope(t: str) -> Scope:
    if re.search(r"budget for (model|deployment)|for model\s*=|model_max_budget", t):
        return "model"
    who = _RE_WHO.search(t)
    if who is None:
        return "profile"
    word = who.group(1).lower()
    return "profile" if word in ("key", "end user", "customer") else "account"


def rules(r: Reading) -> Verdict | None:
    t = r.text
    if _RE_UPSTREAM.search(r.message):
        # An upstream deployment's own error, passed through: the generic rules read it, and it
        # concerns this model only.
        return _v(Reason.UNKNOWN, "model", upstream=True)
    if has(t, "no deployments available"):
        if "budget" in t:
            return _v(Reason.QUOTA, "model")
        return _v(Reason.RATE_LIMIT, "model")
    if r.etype == "budget_exceeded" or has(
        t, "budget has been exceeded", "exceeded budget", "over budget", "exceededbudget"
    ):
        return _v(Reason.QUOTA, _budget_scope(t))
    if r.etype == "key_model_access_denied" or has(
        t, "not allowed to access model", "team not allowed to access model"
    ):
        return _v(Reason.PERMISSION, "model")
    if r.etype in ("auth_error", "expired_key") or has(t, "invalid proxy server token"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    if re.search(r"rate limit exceeded for (api_key|key|user|team|end_user|org)", t):
        return _v(Reason.RATE_LIMIT, "profile")
    return None


def read_key_info(data: Any, now: datetime) -> Finding | None:
    """`GET /key/info`: a key whose spend reached `max_budget`, until `budget_reset_at`."""
    info = data.get("info") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        raise Unshaped("no info object")
    spend, cap = number(info.get("spend")), number(info.get("max_budget"))
    if spend is None or cap is None or spend < cap:
        return None
    reset = info.get("budget_reset_at")
    sig = resets.parse_instant(reset, now, "free:key/info") if isinstance(reset, str) else None
    return Finding(
        Reason.QUOTA,
        "the LiteLLM key has spent its max_budget",
        "raise the key's max_budget on the LiteLLM proxy or wait for its reset",
        retry_at=sig.at if sig else None,
        retry_source="free:key/info.budget_reset_at" if sig else None,
    )


SPEC = ProviderSpec(
    id="litellm",
    display_name="the LiteLLM proxy",
    api="openai",
    # LiteLLM's proxy default address; the model must come from config or openclaw.json.
    base_url="http://localhost:4000",
    model=None,
    aliases=("litellm-proxy",),
    free_checks=(FreeCheck("litellm_key_info", "/key/info", read_key_info),),
    models_check=False,  # its model list is upstream-bound
    rules=rules,
)
