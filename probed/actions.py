"""What a person should do about a failure: one sentence per reason word.

Kept apart from classification because `probed status` needs the same advice for reasons
OpenClaw recorded itself, where there is no response to classify, only a word.
"""

from __future__ import annotations

from datetime import datetime

from probed.clock import iso
from probed.failure import Scope
from probed.model import PROVIDER_ALIASES
from probed.reasons import Reason

# OpenClaw's provider ids and the aliases seen in logs and fixtures (wider than the contract's
# own, since a pasted log line may name a provider any way).
ALIASES = {
    **PROVIDER_ALIASES,
    "google-gemini": "google",
    "anthropic-oauth": "anthropic",
    "claude": "anthropic",
    "kimi-code": "kimi",
    "litellm-proxy": "litellm",
    "x-ai": "xai",
    "grok": "xai",
}

DISPLAY_NAMES = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "google": "Google (Gemini)",
    "openrouter": "OpenRouter",
    "deepseek": "DeepSeek",
    "moonshot": "Moonshot",
    "kimi": "Kimi",
    "groq": "Groq",
    "mistral": "Mistral",
    "xai": "xAI",
    "litellm": "the LiteLLM proxy",
}

# The contract's own example sentence for quota; kept verbatim.
QUOTA_ACTION = "wait for the quota window to reset, or switch this cron job to another provider"


def canonical_provider(provider: str) -> str:
    """The contract's id for an OpenClaw id or alias (`gemini` -> `google`); others unchanged."""
    pid = provider.strip().lower()
    return ALIASES.get(pid, pid)


def display_name(provider: str) -> str:
    pid = canonical_provider(provider)
    return DISPLAY_NAMES.get(pid, provider or "the provider")


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
    try:
        r = Reason(reason)
    except ValueError:
        r = Reason.UNKNOWN
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
