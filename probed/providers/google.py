"""Google Gemini API (`generativelanguage.googleapis.com`).

Bodies carry a canonical `status` (RESOURCE_EXHAUSTED, PERMISSION_DENIED ...) and typed
`details[]`: `ErrorInfo.reason` (API_KEY_INVALID), `QuotaFailure.violations[].quotaId` (which
window: PerMinute or PerDay) and `RetryInfo.retryDelay`. A bad key is a 400, and per-day quotas
reset at midnight US Pacific, which the body never says.
"""

from __future__ import annotations

import re

from probed.providers.base import ProviderSpec, Reading, Verdict, has
from probed.providers.base import verdict as _v
from probed.reasons import Reason


def rules(r: Reading) -> Verdict | None:
    t = r.text
    if has(t, "prepayment credits are depleted", "prepayment credit"):
        return _v(Reason.BILLING, "account")
    if "API_KEY_INVALID" in r.reasons or has(t, "api key not valid", "api key expired"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    if has(t, "reported as leaked", "has been suspended"):
        return _v(Reason.AUTH_PERMANENT, "profile")
    if has(t, "unregistered callers"):
        return _v(Reason.AUTH, "profile")
    if has(t, "denied access"):
        return _v(Reason.PERMISSION, "account")
    if re.search(r"\blimit:\s*0\b", t):
        return _v(Reason.BILLING, "model")  # no free-tier quota for this model: enable billing
    if any("perday" in q.lower() for q in r.quota_ids):
        return _v(
            Reason.QUOTA,
            "account",
            rule="rule:gemini-daily-pacific-midnight",
            drop=("body:error.details.RetryInfo.retryDelay", "message:try-again-in"),
        )
    if any("perminute" in q.lower() for q in r.quota_ids):
        per_model = any("permodel" in q.lower() for q in r.quota_ids)
        return _v(Reason.RATE_LIMIT, "model" if per_model else "account")
    gs = r.gstatus
    if gs == "RESOURCE_EXHAUSTED":
        return _v(Reason.RATE_LIMIT, "account")
    if gs == "UNAVAILABLE":
        return _v(Reason.OVERLOADED, "model")
    if gs == "DEADLINE_EXCEEDED":
        return _v(Reason.TIMEOUT, "model")
    if gs == "NOT_FOUND":
        return _v(Reason.MODEL_NOT_FOUND, "model")
    if gs == "FAILED_PRECONDITION":
        return _v(Reason.PERMISSION, "account")  # e.g. free tier not offered in this region
    if gs == "PERMISSION_DENIED":
        return _v(Reason.PERMISSION, "profile")
    if gs == "UNAUTHENTICATED":
        return _v(Reason.AUTH, "profile")
    return None


SPEC = ProviderSpec(
    id="google",
    display_name="Google (Gemini)",
    api="gemini",
    base_url="https://generativelanguage.googleapis.com",
    model="gemini-2.5-flash-lite",
    aliases=("gemini", "google-gemini"),
    rules=rules,
)
