"""What a person should do about a failure: one sentence per reason word.

Kept apart from classification because `probed status` needs the same advice for reasons
OpenClaw recorded itself, where there is no response to classify, only a word.
"""

from __future__ import annotations

import functools
from datetime import datetime

from probed.clock import iso
from probed.failure import Scope
from probed.providers import display_name as _display_name
from probed.providers import spec_for
from probed.reasons import Reason

# The contract's own example sentence for quota; kept verbatim.
QUOTA_ACTION = "wait for the quota window to reset, or switch this cron job to another provider"


def display_name(provider: str) -> str:
    """How a person calls the provider (its spec's name; an unknown id as given)."""
    return _display_name(provider) if provider.strip() else "the provider"


def action_for(
    reason: Reason | str,
    provider: str,
    *,
    scope: Scope = "profile",
    retry_at: datetime | None = None,
) -> str:
    """One sentence, no trailing period, for `action` in classify and status output.

    Accepts a reason word too (OpenClaw's recorded words are mapped via reasons.from_openclaw by
    the caller; an unknown word gets the `unknown` advice rather than an exception).
    """
    if type(reason) is Reason:  # the usual case, without the enum's slow lookup
        return _action(reason, provider, scope, retry_at)
    try:
        r = Reason(reason)
    except ValueError:
        r = Reason.UNKNOWN
    return _action(r, provider, scope, retry_at)


@functools.lru_cache(maxsize=1024)
def _action(r: Reason, provider: str, scope: Scope, retry_at: datetime | None) -> str:
    """`action_for`, once per distinct question: `probed status` asks it for each of 10,000
    windows at 100,000 profiles, and a fleet has a handful of reasons, providers and scopes."""
    spec = spec_for(provider)
    if spec is not None and r in spec.actions:
        return spec.actions[r]
    name = display_name(provider)
    if r is Reason.BILLING:
        if scope == "model":
            return (
                "top up the credit of the upstream account that serves this model, "
                "or route the model to another deployment"
            )
        return (
            f"top up the account's credit or fix its payment method with {name}; "
            "probed re-checks with a 1-token request"
        )
    if r is Reason.QUOTA:
        return QUOTA_ACTION
    if r is Reason.RATE_LIMIT:
        when = " (provider says by " + _hm(retry_at) + ")" if retry_at else ""
        return (
            f"nothing to do: the rate limit clears by itself{when}; "
            "lower this job's request rate if it keeps happening"
        )
    if r is Reason.AUTH:
        return (
            f"re-authenticate this {name} credential (log in again or refresh the token, "
            "and check the request's auth headers); probed re-tests it on a slow timer"
        )
    if r is Reason.AUTH_PERMANENT:
        return f"replace this {name} API key: it is invalid, revoked or deactivated"
    if r is Reason.PERMISSION:
        if scope == "account":
            return (
                f"ask the {name} account owner to enable access (region, plan or organisation "
                "settings); another key of the same account will fail the same way"
            )
        return (
            f"use a credential that {name} allows for this model or request, "
            "or ask the account owner to grant access"
        )
    if r is Reason.OVERLOADED:
        return (
            f"nothing to do: {name} is out of capacity for now; probed retries with backoff, "
            "or switch to another model meanwhile"
        )
    if r is Reason.TIMEOUT:
        return (
            f"check the network path to {name} (DNS, proxy, firewall, TLS); "
            "probed retries with backoff"
        )
    if r is Reason.MODEL_NOT_FOUND:
        return (
            "choose a model this key can use in the OpenClaw configuration: "
            "this one does not exist or is not available to it"
        )
    if r is Reason.FORMAT:
        return (
            "fix the request's shape (headers, model parameters or body); if it was probed's "
            "own probe, configure the provider's api and base_url"
        )
    return (
        f"read {name}'s message; probed retries with backoff, and `probed probe` re-tests on demand"
    )


def _hm(dt: datetime) -> str:
    return iso(dt.replace(microsecond=0)) or ""
