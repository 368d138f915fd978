"""A sub-agent sees the main agent's profiles it has state of its own for, as OpenClaw merges
main's store under it; repairs of those go to the sub-agent's own state."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.openclaw import probe_view, sqlite_pkg
from helpers.openclawstate import AgentStore, api_key, now_ms

from probed import repair
from probed.config import OpenClawConfig
from probed.stores.discover import discover, open_agent

KEY_MAIN = "sk-ant-api03-INHERIT-0001-aaaaaaaaaaaa"
KEY_WORKER = "sk-ant-api03-INHERIT-0002-bbbbbbbbbbbb"
H = 3_600_000


def _disabled(until: int) -> dict[str, object]:
    return {
        "disabledUntil": until,
        "disabledReason": "billing",
        "errorCount": 1,
        "failureCounts": {"billing": 1},
        "lastFailureAt": until - 5 * H,
    }


def _seed(root: Path, era: str) -> tuple[AgentStore, AgentStore, int]:
    t = now_ms()
    main = AgentStore(root, "main", era)
    main.write({"anthropic:a": api_key("anthropic", KEY_MAIN)}, {"anthropic:a": {"lastUsed": t}})
    worker = AgentStore(root, "worker", era)
    worker.write(
        {"anthropic:w": api_key("anthropic", KEY_WORKER)},
        {"anthropic:a": _disabled(t + 5 * H), "anthropic:w": {"lastUsed": t}},
    )
    return main, worker, t


@pytest.mark.parametrize("era", ["B", "C"])
def test_an_inherited_profile_with_the_agents_own_state_is_listed_under_it(
    tmp_path: Path, era: str
) -> None:
    _, _, t = _seed(tmp_path, era)
    stores = {s.agent: s for s in discover(OpenClawConfig(state_dir=tmp_path))}
    worker = stores["worker"].read()
    assert set(worker.profiles) == {"anthropic:a", "anthropic:w"}
    assert worker.profiles["anthropic:a"].credential.key == KEY_MAIN  # main's credential
    assert worker.usage("anthropic:a").view("anthropic", t).state == "disabled"
    main = stores["main"].read()
    assert set(main.profiles) == {"anthropic:a"}
    assert main.usage("anthropic:a").view("anthropic", t).usable


@pytest.mark.parametrize("era", ["B", "C"])
def test_clearing_it_writes_the_agents_own_entry_and_leaves_main_alone(
    tmp_path: Path, era: str
) -> None:
    main, worker, t = _seed(tmp_path, era)
    before = main.usage()
    assert repair.clear(open_agent(tmp_path, "worker"), "anthropic:a", now_ms=t)
    entry = worker.usage()["anthropic:a"]
    assert "disabledUntil" not in entry and entry["errorCount"] == 0
    assert main.usage() == before


def test_profiles_inherited_without_state_of_their_own_stay_under_main(tmp_path: Path) -> None:
    t = now_ms()
    AgentStore(tmp_path, "main", "C").write(
        {"anthropic:a": api_key("anthropic", KEY_MAIN)}, {"anthropic:a": _disabled(t + H)}
    )
    AgentStore(tmp_path, "worker", "C").write({"anthropic:w": api_key("anthropic", KEY_WORKER)}, {})
    assert set(open_agent(tmp_path, "worker").read().profiles) == {"anthropic:w"}


@pytest.mark.interop
def test_openclaw_9_6_agrees_the_sub_agent_is_unblocked(tmp_path: Path) -> None:
    """OpenClaw's own loader for the sub-agent acts on its own entry for main's profile: before
    probed clears it the profile is out for that agent, afterwards it is usable."""
    _, worker, t = _seed(tmp_path, "C")
    before = probe_view(worker.agent_dir, pkg=sqlite_pkg(), now_ms=t + 1000)
    assert before["profiles"]["anthropic:a"]["inCooldown"] is True
    assert repair.clear(open_agent(tmp_path, "worker"), "anthropic:a", now_ms=t)
    after = probe_view(worker.agent_dir, pkg=sqlite_pkg(), now_ms=t + 1000)
    assert after["profiles"]["anthropic:a"]["inCooldown"] is False
