"""One sentence of advice per reason word, usable with no Failure at hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from probed.actions import QUOTA_ACTION, action_for, display_name
from probed.providers import canonical as canonical_provider
from probed.reasons import Reason, from_openclaw


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_one_sentence(reason: Reason) -> None:
    text = action_for(reason, "anthropic")
    assert text
    assert "\n" not in text
    assert not text.endswith(".")
    assert text.count(". ") == 0
    assert len(text) < 200


def test_contract_wording() -> None:
    assert action_for(Reason.QUOTA, "kimi") == QUOTA_ACTION
    assert QUOTA_ACTION == (
        "wait for the quota window to reset, or switch this cron job to another provider"
    )
    assert action_for(Reason.BILLING, "openai").startswith("top up the account's credit")
    assert "OpenAI" in action_for(Reason.BILLING, "openai")


def test_advice_differs_by_scope_where_it_matters() -> None:
    assert "upstream" in action_for(Reason.BILLING, "litellm", scope="model")
    assert "account owner" in action_for(Reason.PERMISSION, "google", scope="account")


def test_reasons_that_need_a_person_say_what_to_do() -> None:
    assert "replace" in action_for(Reason.AUTH_PERMANENT, "openai")
    assert "re-authenticate" in action_for(Reason.AUTH, "anthropic")
    assert "model" in action_for(Reason.MODEL_NOT_FOUND, "openai")
    assert "nothing to do" in action_for(Reason.RATE_LIMIT, "groq")
    at = datetime(2026, 10, 7, 12, 41, tzinfo=UTC)
    assert "2026-10-07T12:41:00Z" in action_for(Reason.RATE_LIMIT, "groq", retry_at=at)


def test_works_on_openclaw_recorded_words_and_strings() -> None:
    for word in ("billing", "auth_permanent", "session_expired", "unclassified", "rate_limit"):
        reason = from_openclaw(word)
        assert reason is not None
        assert action_for(reason, "anthropic")
    assert action_for("billing", "openai") == action_for(Reason.BILLING, "openai")
    assert action_for("not-a-word", "openai") == action_for(Reason.UNKNOWN, "openai")


def test_provider_aliases() -> None:
    assert canonical_provider("Gemini") == "google"
    assert canonical_provider("kimi-coding") == "kimi"
    assert canonical_provider("litellm-proxy") == "litellm"
    assert canonical_provider("anthropic-oauth") == "anthropic"
    assert canonical_provider("my-vllm") == "my-vllm"
    assert display_name("gemini") == "Google (Gemini)"
    assert display_name("my-vllm") == "my-vllm"
