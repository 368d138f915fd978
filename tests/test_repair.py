"""repair: one locked read-modify-write per intent, on every era."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.ocstate import LogCapture, era_a, era_b, era_c_agent, era_c_shared

from probed import repair
from probed.errors import NotFound
from probed.reasons import Reason
from probed.stores.base import Store
from probed.stores.jsonstore import JsonStore
from probed.stores.sqlitestore import SqliteStore

NOW = 1_800_000_000_000
H = 3_600_000
BILLED = {
    "disabledUntil": NOW + 20 * H,
    "disabledReason": "billing",
    "errorCount": 1,
    "failureCounts": {"billing": 1},
    "lastFailureAt": NOW,
    "lastUsed": 5,
}


def _a(p: Path, u: dict[str, Any]) -> Store:
    return JsonStore("main", era_a(p, u))


def _b(p: Path, u: dict[str, Any]) -> Store:
    return JsonStore("main", era_b(p, u))


def _c(p: Path, u: dict[str, Any]) -> Store:
    db = era_c_agent(p, u)
    return SqliteStore("worker", db.parent, db)


def _cs(p: Path, u: dict[str, Any]) -> Store:
    return SqliteStore("main", p / "agents/main/agent", era_c_shared(p, u), shared=True)


ERAS: dict[str, Callable[[Path, dict[str, Any]], Store]] = {
    "A": _a,
    "B": _b,
    "C": _c,
    "C-shared": _cs,
}


@pytest.mark.parametrize("era", sorted(ERAS))
def test_success_then_failure_on_every_era(tmp_path: Path, era: str) -> None:
    store = ERAS[era](tmp_path, {"anthropic:a": dict(BILLED)})
    assert repair.record_success(store, "anthropic:a", now_ms=NOW + 1)
    snap = store.read()
    entry = snap.state["usageStats"]["anthropic:a"]
    assert snap.usage("anthropic:a").view("anthropic", NOW + 2).usable
    assert entry["lastFailureAt"] == NOW and entry["errorCount"] == 0
    assert ("lastProbeAt" in entry) is era.startswith("C")
    if era == "C-shared":  # OpenClaw 9.6 writes neither into the shared main row
        assert "lastGood" not in snap.state and entry.get("lastUsed") == BILLED.get("lastUsed")
    else:
        assert snap.state["lastGood"] == {"anthropic": "anthropic:a"}
        assert entry["lastUsed"] == NOW + 1

    repair.record_failure(
        store,
        "anthropic:a",
        reason=Reason.QUOTA,
        until_ms=NOW + H,
        model="claude-x",
        now_ms=NOW + 10,
    )
    view = store.read().usage("anthropic:a").view("anthropic", NOW + 20)
    assert (view.state, view.reason, view.until_ms, view.model) == (
        "cooldown",
        "rate_limit",
        NOW + H,
        "claude-x",
    )


def test_clamp_stale_logs_old_and_new_and_is_idempotent(tmp_path: Path) -> None:
    store = _b(tmp_path, {"anthropic:a": dict(BILLED), "anthropic:b": {"errorCount": 0}})
    state_file = tmp_path / "agents/main/agent/auth-state.json"
    logs = LogCapture()
    got = repair.clamp_stale(store, cap_s=7200, now_ms=NOW)
    assert [(c.agent, c.profile, c.old_until_ms, c.new_until_ms) for c in got] == [
        ("main", "anthropic:a", NOW + 20 * H, NOW + 2 * H)
    ]
    assert (
        json.loads(state_file.read_text())["usageStats"]["anthropic:a"]["disabledUntil"]
        == NOW + 2 * H
    )
    text = logs.text
    event = json.loads(text.splitlines()[-1])
    assert event["event"] == "stale_clamped"
    assert (event["agent"], event["profile"]) == ("main", "anthropic:a")
    assert (event["old_until"], event["new_until"]) == (
        "2027-01-16T04:00:00Z",
        "2027-01-15T10:00:00Z",
    )
    mtime = state_file.stat().st_mtime_ns
    assert repair.clamp_stale(store, cap_s=7200, now_ms=NOW + H) == []
    assert state_file.stat().st_mtime_ns == mtime  # second pass: nothing written
    assert not (tmp_path / "agents/main/agent/auth-profiles.json.lock").exists()


def test_clear_is_the_success_field_set(tmp_path: Path) -> None:
    store = _c(tmp_path, {"anthropic:a": dict(BILLED)})
    assert repair.clear(store, "anthropic:a", now_ms=NOW + 5)
    assert store.read().state["usageStats"]["anthropic:a"] == {
        "lastUsed": NOW + 5,
        "errorCount": 0,
        "lastFailureAt": NOW,
        "lastProbeAt": NOW + 5,
    }


def test_clear_cooldown_keeps_last_used(tmp_path: Path) -> None:
    store = _b(tmp_path, {"anthropic:a": dict(BILLED)})
    assert repair.clear_cooldown(store, "anthropic:a")
    assert store.read().state["usageStats"]["anthropic:a"] == {
        "lastUsed": 5,
        "errorCount": 0,
        "lastFailureAt": NOW,
    }


def test_unknown_profile_is_not_found_and_nothing_written(tmp_path: Path) -> None:
    store = _b(tmp_path, {})
    before = (tmp_path / "agents/main/agent/auth-state.json").read_bytes()
    with pytest.raises(NotFound, match="profile nobody:x"):
        repair.record_success(store, "nobody:x", now_ms=NOW)
    assert (tmp_path / "agents/main/agent/auth-state.json").read_bytes() == before


def test_bypass_provider_is_never_cooled_down(tmp_path: Path) -> None:
    store = _b(tmp_path, {})
    assert not repair.record_failure(
        store, "openrouter:x", reason=Reason.RATE_LIMIT, until_ms=NOW + H, model=None, now_ms=NOW
    )
    assert "openrouter:x" not in store.read().state.get("usageStats", {})
