"""The pure state transitions, checked against what OpenClaw itself wrote (samples)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers.ocstate import FIXTURES

from probed.model import USAGE_FIELDS
from probed.reasons import OpenClawLane
from probed.transitions import (
    AGENT_DB_SUCCESS,
    JSON_SUCCESS,
    SHARED_DB_SUCCESS,
    clamp_billing,
    insert_ordered,
    mark_clear,
    mark_failure_window,
    mark_success,
)

NOW = 1_800_000_000_000
H = 3_600_000
BILLING = OpenClawLane("disabled", "billing")
RATE = OpenClawLane("cooldown", "rate_limit")
AUTH = OpenClawLane("cooldown", "auth")


def _steps(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["steps"]  # type: ignore[no-any-return]


def _sqlite_state(step: dict[str, Any]) -> dict[str, Any]:
    cells = step["snapshot"]["cells"]["agentDb"]["auth_profile_state"][0]
    return json.loads(cells["state_json"])  # type: ignore[no-any-return]


def test_success_matches_openclaw_9_6_byte_for_byte() -> None:
    steps = _steps("probe-mark.2026.9.6.worker.json")
    before, after = _sqlite_state(steps[3]), _sqlite_state(steps[4])
    a = after["usageStats"]["anthropic:a"]
    got = mark_success(
        before, "anthropic:a", provider="anthropic", now_ms=a["lastUsed"], fields=AGENT_DB_SUCCESS
    )
    got["usageStats"]["anthropic:a"]["lastProbeAt"] = a["lastProbeAt"]
    assert json.dumps(got, separators=(",", ":")) == json.dumps(after, separators=(",", ":"))


def _shared_state(step: dict[str, Any]) -> dict[str, Any]:
    rows = step["snapshot"]["cells"]["stateDb"]["config_machine_state"]
    cell = next(r for r in rows if r["state_key"] == "authProfiles.state")
    return json.loads(cell["value_json"])  # type: ignore[no-any-return]


def test_success_on_the_9_6_shared_main_store_writes_no_last_used_or_last_good() -> None:
    """OpenClaw 9.6's own success on the shared main row: errorCount 0 and lastProbeAt, the
    window gone, lastUsed left as it was, no lastGood (the fixture is what OpenClaw wrote)."""
    steps = _steps("probe-mark.2026.9.6.main.explicit-agentdir.json")
    before, after = _shared_state(steps[1]), _shared_state(steps[2])
    a = after["usageStats"]["anthropic:a"]
    got = mark_success(
        before,
        "anthropic:a",
        provider="anthropic",
        now_ms=a["lastProbeAt"],
        fields=SHARED_DB_SUCCESS,
    )
    assert json.dumps(got, separators=(",", ":")) == json.dumps(after, separators=(",", ":"))
    assert "lastGood" not in got and got["usageStats"]["anthropic:a"]["lastUsed"] == 1700000000000


def test_success_matches_openclaw_5_28_json_era_without_last_probe_at() -> None:
    steps = _steps("probe-mark.2026.5.28.main.json")
    before = json.loads(steps[3]["snapshot"]["files"]["auth-state.json"])
    after_text = steps[4]["snapshot"]["files"]["auth-state.json"]
    now = json.loads(after_text)["usageStats"]["anthropic:a"]["lastUsed"]
    got = mark_success(before, "anthropic:a", provider="anthropic", now_ms=now, fields=JSON_SUCCESS)
    assert json.dumps(got, indent=2) + "\n" == after_text
    assert "lastProbeAt" not in got["usageStats"]["anthropic:a"]


def test_success_clears_every_failure_field_keeps_last_failure_and_unknown_fields() -> None:
    state: dict[str, Any] = {
        "version": 1,
        "usageStats": {
            "p": {
                "lastUsed": 1,
                "blockedUntil": NOW + H,
                "blockedReason": "subscription_limit",
                "blockedSource": "wham",
                "blockedModel": "m",
                "blockedScope": "model",
                "cooldownUntil": NOW + H,
                "cooldownReason": "auth",
                "cooldownClassification": "wham_token_expired",
                "cooldownModel": "m",
                "disabledUntil": NOW + H,
                "disabledReason": "billing",
                "errorCount": 4,
                "failureCounts": {"billing": 4},
                "lastFailureAt": NOW - 5,
                "futureField": {"x": 1},
            }
        },
    }
    got = mark_success(state, "p", provider="Anthropic ", now_ms=NOW, fields=JSON_SUCCESS)
    assert got["usageStats"]["p"] == {
        "lastUsed": NOW,
        "errorCount": 0,
        "lastFailureAt": NOW - 5,
        "futureField": {"x": 1},
    }
    assert got["lastGood"] == {"anthropic": "p"}
    assert list(got) == ["version", "lastGood", "usageStats"]  # OpenClaw's section order
    assert state["usageStats"]["p"]["errorCount"] == 4  # input untouched


def test_clear_keeps_last_used_and_last_good_and_skips_absent_entries() -> None:
    state = {
        "version": 1,
        "lastGood": {"anthropic": "q"},
        "usageStats": {
            "p": {
                "lastUsed": 7,
                "cooldownUntil": NOW + H,
                "cooldownReason": "auth",
                "errorCount": 1,
                "failureCounts": {"auth": 1},
                "lastFailureAt": 5,
            }
        },
    }
    got = mark_clear(state, "p")
    assert got["usageStats"]["p"] == {"lastUsed": 7, "errorCount": 0, "lastFailureAt": 5}
    assert got["lastGood"] == {"anthropic": "q"}
    assert mark_clear(state, "nobody") == state


def test_failure_window_new_billing_window_in_whitelist_order() -> None:
    state = {"version": 1, "usageStats": {"p": {"lastUsed": 1, "errorCount": 0, "mine": True}}}
    got = mark_failure_window(state, "p", lane=BILLING, until_ms=NOW + H, model=None, now_ms=NOW)
    entry = got["usageStats"]["p"]
    assert entry == {
        "lastUsed": 1,
        "disabledUntil": NOW + H,
        "disabledReason": "billing",
        "errorCount": 1,
        "failureCounts": {"billing": 1},
        "lastFailureAt": NOW,
        "mine": True,
    }
    known = [k for k in entry if k in USAGE_FIELDS]
    assert known == sorted(known, key=USAGE_FIELDS.index)


def test_failure_window_later_deadline_wins_in_same_lane_and_counters_grow() -> None:
    state = {"version": 1, "usageStats": {}}
    s1 = mark_failure_window(state, "p", lane=BILLING, until_ms=NOW + 2 * H, model=None, now_ms=NOW)
    s2 = mark_failure_window(s1, "p", lane=BILLING, until_ms=NOW + H, model=None, now_ms=NOW + 1)
    e = s2["usageStats"]["p"]
    assert e["disabledUntil"] == NOW + 2 * H  # never shortened
    assert (e["errorCount"], e["failureCounts"]) == (2, {"billing": 2})
    s3 = mark_failure_window(
        s2, "p", lane=BILLING, until_ms=NOW + 3 * H, model=None, now_ms=NOW + 2
    )
    assert s3["usageStats"]["p"]["disabledUntil"] == NOW + 3 * H


def test_failure_window_other_reason_replaces_other_lane() -> None:
    state = {"version": 1, "usageStats": {}}
    billed = mark_failure_window(
        state, "p", lane=BILLING, until_ms=NOW + 5 * H, model=None, now_ms=NOW
    )
    auth = mark_failure_window(
        billed, "p", lane=AUTH, until_ms=NOW + 60_000, model=None, now_ms=NOW + 1
    )
    e = auth["usageStats"]["p"]
    assert "disabledUntil" not in e and "disabledReason" not in e
    assert (e["cooldownUntil"], e["cooldownReason"]) == (NOW + 60_000, "auth")
    assert e["failureCounts"] == {"billing": 1, "auth": 1}


def test_failure_window_counters_reset_after_expiry_or_24h() -> None:
    old = {
        "version": 1,
        "usageStats": {
            "p": {
                "cooldownUntil": NOW - 1,
                "cooldownReason": "rate_limit",
                "errorCount": 5,
                "failureCounts": {"rate_limit": 5},
                "lastFailureAt": NOW - 60_000,
            }
        },
    }
    got = mark_failure_window(old, "p", lane=RATE, until_ms=NOW + 30_000, model=None, now_ms=NOW)
    assert (got["usageStats"]["p"]["errorCount"], got["usageStats"]["p"]["failureCounts"]) == (
        1,
        {"rate_limit": 1},
    )
    stale = {
        "version": 1,
        "usageStats": {
            "p": {"errorCount": 3, "failureCounts": {"auth": 3}, "lastFailureAt": NOW - 25 * H}
        },
    }
    got = mark_failure_window(stale, "p", lane=AUTH, until_ms=NOW + 1, model=None, now_ms=NOW)
    assert got["usageStats"]["p"]["errorCount"] == 1


def test_failure_window_model_scope_only_for_scoped_words() -> None:
    state = {"version": 1, "usageStats": {}}
    rl = mark_failure_window(state, "p", lane=RATE, until_ms=NOW + 1000, model="m1", now_ms=NOW)
    assert rl["usageStats"]["p"]["cooldownModel"] == "m1"
    au = mark_failure_window(state, "p", lane=AUTH, until_ms=NOW + 1000, model="m1", now_ms=NOW)
    assert "cooldownModel" not in au["usageStats"]["p"]
    # another model failing while the window is active makes it profile-wide (as OpenClaw does)
    wide = mark_failure_window(rl, "p", lane=RATE, until_ms=NOW + 1000, model="m2", now_ms=NOW + 1)
    assert "cooldownModel" not in wide["usageStats"]["p"]


def _entry(**fields: Any) -> dict[str, Any]:
    return {"version": 1, "usageStats": {"p": fields}}


OVERLOADED = OpenClawLane("cooldown", "overloaded")
TIMEOUT = OpenClawLane("cooldown", "timeout")


def test_json_era_scopes_rate_limit_alone() -> None:
    """OpenClaw 5.28 scopes only rate_limit to a model: a timeout written with a model there
    would read as profile-wide to it, so it is written profile-wide."""
    json_era = frozenset({"rate_limit"})
    got = mark_failure_window(
        {}, "p", lane=TIMEOUT, until_ms=NOW + 1, model="m", now_ms=NOW, scoped_reasons=json_era
    )
    assert "cooldownModel" not in got["usageStats"]["p"]
    got = mark_failure_window({}, "p", lane=TIMEOUT, until_ms=NOW + 1, model="m", now_ms=NOW)
    assert got["usageStats"]["p"]["cooldownModel"] == "m"  # 9.x scopes timeouts


def test_sqlite_era_keeps_the_rate_limit_count_across_a_reset() -> None:
    """OpenClaw 2026.9.3+ keys its rate-limit backoff on failureCounts.rate_limit and keeps it
    when the other counters reset (differential test against computeNextProfileUsageStats)."""
    expired = _entry(
        cooldownUntil=NOW - 1,
        cooldownReason="rate_limit",
        errorCount=3,
        failureCounts={"rate_limit": 3},
        lastFailureAt=NOW - 60_000,
    )
    kw: dict[str, Any] = {"until_ms": NOW + 1, "model": None, "now_ms": NOW}
    got = mark_failure_window(expired, "p", lane=RATE, keep_rate_limit_count=True, **kw)
    assert got["usageStats"]["p"]["failureCounts"] == {"rate_limit": 4}
    assert got["usageStats"]["p"]["errorCount"] == 1
    got = mark_failure_window(expired, "p", lane=AUTH, keep_rate_limit_count=True, **kw)
    assert got["usageStats"]["p"]["failureCounts"] == {"auth": 1, "rate_limit": 3}
    got = mark_failure_window(expired, "p", lane=RATE, **kw)  # the JSON era resets it
    assert got["usageStats"]["p"]["failureCounts"] == {"rate_limit": 1}


def test_an_active_profile_wide_window_is_never_narrowed_to_one_model() -> None:
    wide = _entry(cooldownUntil=NOW + 120_000, cooldownReason="overloaded", lastFailureAt=NOW)
    got = mark_failure_window(wide, "p", lane=RATE, until_ms=NOW + 30_000, model="m", now_ms=NOW)
    e = got["usageStats"]["p"]
    assert (e["cooldownUntil"], e["cooldownReason"]) == (NOW + 120_000, "overloaded")
    assert "cooldownModel" not in e
    later = mark_failure_window(wide, "p", lane=RATE, until_ms=NOW + 300_000, model="m", now_ms=NOW)
    e = later["usageStats"]["p"]
    assert (e["cooldownUntil"], e["cooldownReason"]) == (NOW + 300_000, "rate_limit")
    assert "cooldownModel" not in e  # still for every model


def test_unrelated_evidence_never_shortens_the_other_lane() -> None:
    billed = _entry(disabledUntil=NOW + 5 * H, disabledReason="billing", lastFailureAt=NOW)
    got = mark_failure_window(billed, "p", lane=RATE, until_ms=NOW + 30_000, model=None, now_ms=NOW)
    e = got["usageStats"]["p"]
    assert e["disabledUntil"] == NOW + 5 * H and e["cooldownUntil"] == NOW + 30_000
    # a refused credential shows the billing word was a misreading: the lane goes
    got = mark_failure_window(billed, "p", lane=AUTH, until_ms=NOW + 30_000, model=None, now_ms=NOW)
    assert "disabledUntil" not in got["usageStats"]["p"]
    # an accepted credential ends an auth window, even a longer one
    authed = _entry(cooldownUntil=NOW + 6 * H, cooldownReason="auth", lastFailureAt=NOW)
    got = mark_failure_window(authed, "p", lane=BILLING, until_ms=NOW + H, model=None, now_ms=NOW)
    e = got["usageStats"]["p"]
    assert "cooldownUntil" not in e and e["disabledUntil"] == NOW + H


def test_cooldown_classification_is_dropped_on_every_failure() -> None:
    wham = _entry(
        cooldownUntil=NOW + H,
        cooldownReason="auth",
        cooldownClassification="wham_token_expired",
        lastFailureAt=NOW,
    )
    got = mark_failure_window(wham, "p", lane=AUTH, until_ms=NOW + 2 * H, model=None, now_ms=NOW)
    assert "cooldownClassification" not in got["usageStats"]["p"]


def test_failure_window_rejects_words_openclaw_would_drop() -> None:
    with pytest.raises(ValueError, match="quota"):
        mark_failure_window(
            {}, "p", lane=OpenClawLane("cooldown", "quota"), until_ms=1, model=None, now_ms=0
        )


def test_clamp_billing_is_anchored_and_idempotent() -> None:
    state = {
        "version": 1,
        "usageStats": {
            "long": {
                "disabledUntil": NOW + 20 * H,
                "disabledReason": "billing",
                "lastFailureAt": NOW,
                "x": 1,
            },
            "short": {"disabledUntil": NOW + H, "disabledReason": "billing", "lastFailureAt": NOW},
            "perm": {
                "disabledUntil": NOW + 20 * H,
                "disabledReason": "auth_permanent",
                "lastFailureAt": NOW,
            },
            "noanchor": {"disabledUntil": NOW + 20 * H, "disabledReason": "billing"},
        },
    }
    once, changes = clamp_billing(state, cap_ms=2 * H)
    assert [(c.profile, c.old_until_ms, c.new_until_ms) for c in changes] == [
        ("long", NOW + 20 * H, NOW + 2 * H)
    ]
    assert once["usageStats"]["long"] == {
        "disabledUntil": NOW + 2 * H,
        "disabledReason": "billing",
        "lastFailureAt": NOW,
        "x": 1,
    }
    assert once["usageStats"]["perm"]["disabledUntil"] == NOW + 20 * H
    twice, again = clamp_billing(once, cap_ms=2 * H)
    assert again == [] and twice == once


def test_insert_ordered_keeps_existing_places() -> None:
    d = {"b": 1, "zz": 2, "d": 3}
    assert list(insert_ordered(d, "c", 0, "abcd")) == ["b", "zz", "c", "d"]
    assert list(insert_ordered(d, "d", 9, "abcd")) == ["b", "zz", "d"]


def test_a_window_of_the_caps_own_length_is_not_clamped() -> None:
    """probed's own capped billing backoff: `disabledUntil` is now + cap, `lastFailureAt` was
    read a millisecond before. That is not a stale window, and clamping it by 1 ms would log a
    repair that never was."""
    entry = {"disabledUntil": NOW + 2 * H + 1, "disabledReason": "billing", "lastFailureAt": NOW}
    _, changes = clamp_billing({"usageStats": {"p": entry}}, cap_ms=2 * H)
    assert changes == []
    entry = {**entry, "disabledUntil": NOW + 2 * H + 5_000}
    _, changes = clamp_billing({"usageStats": {"p": entry}}, cap_ms=2 * H)
    assert [c.new_until_ms for c in changes] == [NOW + 2 * H]


def test_a_transition_shares_what_it_left_alone_and_never_changes_its_input() -> None:
    """Each one-profile change copied the whole state; the rest is now shared, read-only."""
    other = {
        "errorCount": 2,
        "failureCounts": {"billing": 2},
        "disabledUntil": NOW + 5 * H,
        "disabledReason": "billing",
        "lastFailureAt": NOW,
    }
    state = {
        "version": 1,
        "usageStats": {"p": {"errorCount": 1, "cooldownUntil": NOW}, "other": other},
    }
    before = json.dumps(state)
    for out in (
        mark_success(state, "p", provider="anthropic", now_ms=NOW, fields=AGENT_DB_SUCCESS),
        mark_clear(state, "p"),
        mark_failure_window(state, "p", lane=RATE, until_ms=NOW + H, model=None, now_ms=NOW),
    ):
        assert out["usageStats"]["other"] is other
        assert out["usageStats"] is not state["usageStats"]
    clamped, changes = clamp_billing(state, cap_ms=H)
    assert changes and clamped["usageStats"]["p"] is state["usageStats"]["p"]
    assert clamped["usageStats"]["other"]["disabledUntil"] == NOW + H
    assert json.dumps(state) == before
