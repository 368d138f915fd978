"""OpenClaw's own success, store by store, against probed's: the real releases write, we compare.

`tests/interop/probe-mark.mjs` lets the installed OpenClaw record a billing failure and then its
own `markAuthProfileSuccess` in a throw-away state dir, and dumps what it wrote. probed's success
transition, with the field set probed picks for the store it finds there (`Era.success_fields`),
must turn the same "before" into byte-for-byte the same "after", in each store OpenClaw has:
the 9.6 shared main store (no lastUsed, no lastGood), a 9.6 agent's own database, and 5.28's
JSON files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.openclaw import json_pkg, run_node, sqlite_pkg

from probed.stores.base import Era
from probed.stores.discover import open_agent
from probed.transitions import mark_success

pytestmark = pytest.mark.interop

SEED_PROFILES = {
    "version": 1,
    "profiles": {
        "anthropic:a": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-fixture-a"},
        "anthropic:b": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-fixture-b"},
    },
}
SEED_STATE = {
    "version": 1,
    "order": {"anthropic": ["anthropic:a", "anthropic:b"]},
    "usageStats": {"anthropic:a": {"lastUsed": 1700000000000, "errorCount": 0}},
}

CASES = {
    # id: (package, agent id, expected era)
    "9.6-shared-main": (sqlite_pkg, "main", Era.SQLITE_SHARED),
    "9.6-agent-db": (sqlite_pkg, "worker", Era.SQLITE_AGENT),
    "5.28-json": (json_pkg, "main", Era.JSON_SPLIT),
}


def _state_of(step: dict[str, Any], era: Era) -> dict[str, Any]:
    snap = step["snapshot"]
    if era is Era.JSON_SPLIT:
        return json.loads(snap["files"]["auth-state.json"])  # type: ignore[no-any-return]
    if era is Era.SQLITE_AGENT:
        cell = snap["cells"]["agentDb"]["auth_profile_state"][0]["state_json"]
        return json.loads(cell)  # type: ignore[no-any-return]
    rows = snap["cells"]["stateDb"]["config_machine_state"]
    cell = next(r["value_json"] for r in rows if r["state_key"] == "authProfiles.state")
    return json.loads(cell)  # type: ignore[no-any-return]


def _dump(state: dict[str, Any], era: Era) -> str:
    if era.is_sqlite:
        return json.dumps(state, separators=(",", ":"))
    return json.dumps(state, indent=2) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_probed_success_is_openclaws_own_in_each_store(tmp_path: Path, case: str) -> None:
    pkg, agent, era = CASES[case]
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "auth-profiles.json").write_text(json.dumps(SEED_PROFILES, indent=2) + "\n")
    (seed / "auth-state.json").write_text(json.dumps(SEED_STATE, indent=2) + "\n")
    work = tmp_path / "work"
    proc = run_node(
        "probe-mark.mjs",
        "--work",
        str(work),
        "--seed",
        str(seed),
        "--agent-id",
        agent,
        "--openclaw-dir",
        pkg(),
        "--op",
        "fail:anthropic:a:billing",
        "--op",
        "success:anthropic:a",
        pkg=pkg(),
        timeout=400,
    )
    assert proc.returncode == 0, f"probe-mark failed: {proc.stdout[-1500:]} {proc.stderr[-1500:]}"
    steps = json.loads(proc.stdout)["steps"]

    store = open_agent(work / "state", agent)
    assert store.era is era, f"probed reads {case} as era {store.era}, expected {era}"
    before, after = _state_of(steps[1], era), _state_of(steps[2], era)
    entry = after["usageStats"]["anthropic:a"]
    now = entry.get("lastProbeAt") or entry["lastUsed"]
    if "lastProbeAt" in entry and "lastUsed" in entry and entry["lastUsed"] != 1700000000000:
        # the agent database stamps lastUsed and lastProbeAt a millisecond apart
        got = mark_success(
            before,
            "anthropic:a",
            provider="anthropic",
            now_ms=entry["lastUsed"],
            fields=era.success_fields,
        )
        got["usageStats"]["anthropic:a"]["lastProbeAt"] = entry["lastProbeAt"]
    else:
        got = mark_success(
            before, "anthropic:a", provider="anthropic", now_ms=now, fields=era.success_fields
        )
    assert _dump(got, era) == _dump(after, era)
    # and what is on disk now is what OpenClaw wrote: no field probed would add or miss
    assert store.read().state["usageStats"]["anthropic:a"] == entry
    if era is Era.SQLITE_SHARED:
        assert "lastGood" not in after and entry["lastUsed"] == 1700000000000
    else:
        assert after["lastGood"] == {"anthropic": "anthropic:a"}
