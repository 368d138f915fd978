"""Mistral: a spent plan answers with the 401 of a revoked key, so a 401 is re-tested slowly
rather than called permanent; 402 covers credit, spending limits and unpaid invoices."""

from __future__ import annotations

from probed.providers.base import ProviderSpec, Reading, Verdict, has
from probed.providers.base import verdict as _v
from probed.reasons import Reason


def rules(r: Reading) -> Verdict | None:
    if has(r.text, "capacity exceeded"):
        return _v(Reason.OVERLOADED, "model")
    if r.status == 402:
        return _v(Reason.BILLING, "account")
    if r.status == 401:
        return _v(Reason.AUTH, "profile")
    return None


# A Mistral 401 is also what a spent plan sends: the generic "re-authenticate" advice misleads.
_AUTH_ACTION = (
    "check this Mistral key's plan and usage in the Mistral console first (a used-up plan "
    "answers like a revoked key), then the key itself; probed re-tests it on a slow timer"
)

SPEC = ProviderSpec(
    id="mistral",
    display_name="Mistral",
    api="openai",
    base_url="https://api.mistral.ai/v1",
    model="ministral-3b-latest",
    rules=rules,
    actions={Reason.AUTH: _AUTH_ACTION},
)
