"""model.Usage.view(): lanes, bypass providers and model scoping, as OpenClaw computes them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from probed.clock import valid_ms
from probed.model import Credential, Listed, Profile, Usage, _secret_ref, usage_of

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


# ---- Usage.from_json walks the entry once: the same answer as a lookup of every field ------

_FIELD_KEYS = [
    "lastUsed",
    "cooldownUntil",
    "cooldownReason",
    "cooldownModel",
    "disabledUntil",
    "disabledReason",
    "blockedUntil",
    "blockedReason",
    "blockedModel",
    "blockedScope",
    "errorCount",
    "failureCounts",
    "lastFailureAt",
    "lastProbeAt",
]


def _looked_up(raw: dict[str, object]) -> Usage:
    """Usage.from_json as 0.1 wrote it: each field looked up in turn."""
    from probed.clock import valid_ms

    bad: list[tuple[str, str]] = []

    def ms(key: str) -> int | None:
        value = raw.get(key)
        if value is None:
            return None
        if valid_ms(value):
            return int(value)
        if not (value == 0 and not isinstance(value, bool)):
            bad.append((key, repr(value)[:40]))
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) and value else None

    def number(value: object) -> bool:
        import math

        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value > 0
        )

    counts = raw.get("failureCounts")
    return Usage(
        last_used=ms("lastUsed"),
        cooldown_until=ms("cooldownUntil"),
        cooldown_reason=text("cooldownReason"),
        cooldown_model=text("cooldownModel"),
        disabled_until=ms("disabledUntil"),
        disabled_reason=text("disabledReason"),
        blocked_until=ms("blockedUntil"),
        blocked_reason=text("blockedReason"),
        blocked_model=text("blockedModel"),
        blocked_scope=text("blockedScope"),
        error_count=int(raw["errorCount"]) if number(raw.get("errorCount")) else 0,  # type: ignore[call-overload]
        failure_counts={k: int(v) for k, v in counts.items() if isinstance(k, str) and number(v)}
        if isinstance(counts, dict)
        else {},
        last_failure_at=ms("lastFailureAt"),
        last_probe_at=ms("lastProbeAt"),
        invalid=tuple(bad),
    )


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**70),
    st.sampled_from([0, 1, 1_800_000_000_000, 253_402_300_799_999, 253_402_300_800_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.dictionaries(st.sampled_from(["billing", "auth", ""]), st.integers(-1, 3) | st.floats()),
)


@settings(max_examples=600)
@given(
    st.dictionaries(st.sampled_from([*_FIELD_KEYS, "other"]), _VALUES, max_size=10),
    st.permutations(range(10)),
)
def test_from_json_reads_every_entry_as_a_lookup_of_each_field_would(
    raw: dict[str, object], order: list[int]
) -> None:
    keys = list(raw)
    shuffled = {keys[i]: raw[keys[i]] for i in sorted(range(len(keys)), key=order.__getitem__)}
    assert Usage.from_json(shuffled) == _looked_up(shuffled)


SECRET = "sk-ant-api03-SECRET-never-shown-0123456789"
PROFILE_ENTRY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["api_key", "token", "oauth"]),
        "provider": st.sampled_from(["anthropic", " OpenAI "]),
    },
    optional={
        "key": st.sampled_from([SECRET, "", None, 5]),
        "apiKey": st.sampled_from([SECRET, ""]),
        "keyRef": st.sampled_from(
            [None, {"source": "env", "id": "K"}, {"source": "vault", "id": "K"}, "env:K", []]
        ),
        "token": st.sampled_from([SECRET, "", None]),
        "tokenRef": st.sampled_from([None, {"source": "file", "provider": "p", "id": "/t"}]),
        "access": st.sampled_from([SECRET, "", {"not": "text"}]),
        "refresh": st.sampled_from([SECRET, "", None, ["x"]]),
        "expires": st.sampled_from([NOW, 0, -1, 1e400, "soon", None, True]),
        "email": st.sampled_from(["a@b.c", "", None, 7]),
    },
)


def _profile_by_keywords(pid: str, raw: dict[str, Any]) -> tuple[Any, ...]:
    """0.2.0's reading, field by field and by keyword: the reference `from_json` must agree with."""
    listed = Listed.from_json(raw)
    assert listed is not None
    key = raw.get("key", raw.get("apiKey"))
    expires = raw.get("expires")
    credential = Credential(
        type=listed.type,
        key=key if isinstance(key, str) and key else None,
        key_ref=_secret_ref(raw.get("keyRef")),
        token=raw["token"] if isinstance(raw.get("token"), str) and raw["token"] else None,
        token_ref=_secret_ref(raw.get("tokenRef")),
        access=raw["access"] if isinstance(raw.get("access"), str) and raw["access"] else None,
        expires_ms=int(expires) if valid_ms(expires) else None,
        refreshable=isinstance(raw.get("refresh"), str) and bool(raw["refresh"]),
    )
    email = raw.get("email")
    return (
        pid,
        listed.provider,
        listed.type,
        credential,
        email if isinstance(email, str) else None,
    )


@settings(max_examples=400, deadline=None)
@given(PROFILE_ENTRY)
def test_a_profile_is_read_as_field_by_field_reading_would(raw: dict[str, Any]) -> None:
    """`Profile.from_json` builds by position (start-up parses every profile): the same fields."""
    profile = Profile.from_json("anthropic:a", raw)
    assert profile is not None
    assert tuple(profile) == _profile_by_keywords("anthropic:a", raw)
    assert (profile.id, profile.type) == ("anthropic:a", raw["type"])


def test_a_profile_shown_or_serialized_by_accident_shows_no_secret() -> None:
    """A profile is a named tuple; its credential is not, so no accident prints the key."""
    raw = {"type": "oauth", "provider": "anthropic", "key": SECRET, "access": SECRET}
    profile = Profile.from_json("anthropic:a", raw)
    assert profile is not None and profile.credential.key == SECRET
    shown = [repr(profile), str(profile), f"{profile}", "%s" % (profile,)]  # noqa: UP031
    shown.append(json.dumps(profile, default=str))
    assert all(SECRET not in text for text in shown)
    assert "anthropic:a" in repr(profile)
