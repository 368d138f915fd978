"""The daemon's memo of parsed usage: reused only for an entry equal as JSON, types included."""

from __future__ import annotations

from typing import Any

import pytest

from probed.model import Usage
from probed.stores.base import Era, Snapshot
from probed.usagememo import UsageMemo

T = 1_800_000_000_000


def _snap(entry: Any, era: Era = Era.SQLITE_AGENT) -> Snapshot:
    return Snapshot("main", era, {}, {"version": 1, "usageStats": {"anthropic:a": entry}})


@pytest.mark.parametrize(
    ("a", "b", "reused"),
    [
        ({"errorCount": 1}, {"errorCount": 1}, True),
        ({"errorCount": 1}, {"errorCount": 1.0}, False),
        ({"errorCount": 1}, {"errorCount": True}, False),
        ({"failureCounts": {"billing": 1}}, {"failureCounts": {"billing": True}}, False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ({"a": [1]}, {"a": [1, 2]}, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # only parsed again: the same answer
        ({"a": 1}, {"a": 1, "b": None}, False),
        ({"lastUsed": "1"}, {"lastUsed": 1}, False),
        ({"errorCount": 2}, {"errorCount": 2}, True),
    ],
)
def test_an_entry_is_reused_only_when_it_is_the_same_json(
    a: dict[str, Any], b: dict[str, Any], reused: bool
) -> None:
    memo = UsageMemo()
    entry = {"cooldownUntil": T, "cooldownReason": "rate_limit"}
    first = memo.usage(_snap({**entry, **a}), "anthropic:a")
    second = memo.usage(_snap({**entry, **b}), "anthropic:a")
    assert (second is first) is reused
    assert second == Usage.from_json({**entry, **b})  # reused or not, the entry's own parse


def test_the_same_entry_object_is_reused_without_looking_into_it() -> None:
    memo = UsageMemo()
    entry = {"cooldownUntil": T, "cooldownReason": "rate_limit"}
    snap = _snap(entry)
    first = memo.usage(snap, "anthropic:a")
    assert memo.usage(snap, "anthropic:a") is first


def test_an_equal_entry_gives_the_same_usage_and_a_changed_one_a_new_parse() -> None:
    memo = UsageMemo()
    entry = {"cooldownUntil": T, "cooldownReason": "rate_limit", "errorCount": 1}
    first = memo.usage(_snap(entry), "anthropic:a")
    assert memo.usage(_snap(dict(entry)), "anthropic:a") is first  # another read, equal entry
    changed = memo.usage(_snap({**entry, "errorCount": True}), "anthropic:a")
    assert changed is not first and changed.error_count == 0  # `true` is no count
    assert changed == Usage.from_json({**entry, "errorCount": True})


def test_the_era_decides_what_a_cooldown_model_scopes() -> None:
    """The same entry read in a JSON-era store scopes other reasons to its model."""
    memo = UsageMemo()
    entry = {"cooldownUntil": T, "cooldownReason": "rate_limit", "cooldownModel": "m"}
    sqlite = memo.usage(_snap(entry), "anthropic:a")
    json_era = memo.usage(_snap(entry, Era.JSON_SPLIT), "anthropic:a")
    assert sqlite.scoped_reasons == Era.SQLITE_AGENT.model_scoped_reasons
    assert json_era.scoped_reasons == Era.JSON_SPLIT.model_scoped_reasons
    assert memo.usage(_snap(entry), "anthropic:a").scoped_reasons == sqlite.scoped_reasons


def test_agents_that_are_gone_are_forgotten() -> None:
    memo = UsageMemo()
    first = memo.usage(_snap({"cooldownUntil": T}), "anthropic:a")
    memo.keep_agents({"other"})
    assert memo.usage(_snap({"cooldownUntil": T}), "anthropic:a") is not first
