"""model.Usage.view(): lanes, bypass providers and model scoping, as OpenClaw computes them."""

from __future__ import annotations

from probed.model import Usage, usage_of

NOW = 1_800_000_000_000


def test_unusable_until_is_the_latest_lane_even_if_inactive() -> None:
    u = Usage(cooldown_until=NOW - 5, disabled_until=NOW + 10, blocked_until=NOW + 3)
    assert u.unusable_until() == NOW + 10
    assert Usage().unusable_until() is None


def test_lanes_and_priority() -> None:
    assert Usage().view("anthropic", NOW).state == "ok"
    v = Usage(
        disabled_until=NOW + 10,
        disabled_reason="billing",
        cooldown_until=NOW + 99,
        cooldown_reason="rate_limit",
    ).view("anthropic", NOW)
    assert (v.state, v.reason, v.until_ms) == ("disabled", "billing", NOW + 99)
    v = Usage(blocked_until=NOW + 5, blocked_reason="subscription_limit").view("openai", NOW)
    assert (v.state, v.reason) == ("blocked", "subscription_limit")
    assert (
        Usage(cooldown_until=NOW, cooldown_reason="auth").view("anthropic", NOW).usable
    )  # now >= until


def test_bypass_providers_are_always_usable() -> None:
    u = Usage(disabled_until=NOW + 10, disabled_reason="billing")
    assert u.view(" OpenRouter ", NOW).usable and u.view("kilocode", NOW).usable
    assert not u.view("anthropic", NOW).usable


def test_model_scope_only_for_scoped_reasons_and_not_over_disabled() -> None:
    scoped = Usage(cooldown_until=NOW + 10, cooldown_reason="rate_limit", cooldown_model="m1")
    assert scoped.view("anthropic", NOW, for_model="m2").usable
    assert not scoped.view("anthropic", NOW, for_model="m1").usable
    v = scoped.view("anthropic", NOW)
    assert (v.state, v.model) == ("cooldown", "m1")
    auth = Usage(cooldown_until=NOW + 10, cooldown_reason="auth", cooldown_model="m1")
    assert not auth.view("anthropic", NOW, for_model="m2").usable  # auth is never model-scoped
    assert auth.view("anthropic", NOW).model is None
    both = Usage(
        cooldown_until=NOW + 10,
        cooldown_reason="rate_limit",
        cooldown_model="m1",
        disabled_until=NOW + 5,
        disabled_reason="billing",
    )
    assert both.view("anthropic", NOW, for_model="m2").state == "disabled"


def test_parsing_ignores_junk_like_openclaw() -> None:
    u = Usage.from_json(
        {
            "cooldownUntil": "soon",
            "disabledUntil": -1,
            "errorCount": True,
            "failureCounts": {"billing": 2, "x": "y"},
            "lastFailureAt": 5.0,
        }
    )
    assert (u.cooldown_until, u.disabled_until, u.error_count) == (None, None, 0)
    assert dict(u.failure_counts) == {"billing": 2} and u.last_failure_at == 5
    assert usage_of({"usageStats": []}, "p") == Usage()


def test_json_era_reads_a_timeout_cooldown_as_profile_wide() -> None:
    """OpenClaw 5.28 ignores cooldownModel for anything but rate_limit."""
    raw = {"cooldownUntil": NOW + 5, "cooldownReason": "timeout", "cooldownModel": "m1"}
    nine = Usage.from_json(raw)
    assert nine.view("anthropic", NOW, for_model="m2").usable
    json_era = Usage.from_json(raw, scoped_reasons=frozenset({"rate_limit"}))
    assert not json_era.view("anthropic", NOW, for_model="m2").usable
    assert json_era.view("anthropic", NOW).model is None
