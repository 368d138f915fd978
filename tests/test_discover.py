"""Discovery: every agent, the shared main store, each era from disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.ocstate import agent_dir, era_a, era_b, era_c_agent, era_c_shared, real_sample_state

from probed.config import OpenClawConfig
from probed.errors import ConfigError, NotFound, StoreError
from probed.stores.base import Era
from probed.stores.discover import discover, open_agent


def _eras(state: Path, agents: tuple[str, ...] = ()) -> dict[str, Era]:
    return {s.agent: s.era for s in discover(OpenClawConfig(state_dir=state, agents=agents))}


def test_every_era_side_by_side(tmp_path: Path) -> None:
    era_a(tmp_path, {}, agent="alpha")
    era_b(tmp_path, {}, agent="beta")
    era_c_agent(tmp_path, {}, agent="gamma")
    agent_dir(tmp_path, "empty")  # no auth store at all: skipped
    assert _eras(tmp_path) == {
        "alpha": Era.JSON_SINGLE,
        "beta": Era.JSON_SPLIT,
        "gamma": Era.SQLITE_AGENT,
    }
    assert _eras(tmp_path, ("beta",)) == {"beta": Era.JSON_SPLIT}


def test_shared_main_store_and_agents_without_own_db(tmp_path: Path) -> None:
    era_c_shared(tmp_path, {})
    era_c_agent(tmp_path, {}, agent="worker")
    agent_dir(tmp_path, "helper")  # 9.x: no database of its own, so no profiles of its own
    stores = {s.agent: s for s in discover(OpenClawConfig(state_dir=tmp_path))}
    assert set(stores) == {"main", "worker"}  # main's profiles are not listed twice
    assert stores["main"].era is Era.SQLITE_SHARED
    assert stores["main"].location == tmp_path / "state" / "openclaw.sqlite"
    assert stores["worker"].era is Era.SQLITE_AGENT
    with pytest.raises(NotFound, match="agent helper"):
        open_agent(tmp_path, "helper")


def test_legacy_json_beside_a_9x_install_waits_for_doctor(tmp_path: Path) -> None:
    era_c_shared(tmp_path, {})
    era_b(tmp_path, {}, agent="old")
    stores = {s.agent: s for s in discover(OpenClawConfig(state_dir=tmp_path))}
    with pytest.raises(StoreError, match=r"auth-profiles\.json: a legacy JSON store.*doctor --fix"):
        stores["old"].read()


def test_sqlite_wins_over_leftover_json(tmp_path: Path) -> None:
    era_b(tmp_path, {}, agent="worker")
    era_c_agent(tmp_path, {}, agent="worker")
    assert _eras(tmp_path) == {"worker": Era.SQLITE_AGENT}


def test_real_openclaw_layout(tmp_path: Path) -> None:
    real_sample_state(tmp_path)
    assert _eras(tmp_path) == {"main": Era.SQLITE_SHARED, "worker": Era.SQLITE_AGENT}


def test_state_file_without_profiles_is_returned_broken(tmp_path: Path) -> None:
    d = agent_dir(tmp_path, "odd")
    (d / "auth-state.json").write_text("{}")
    (store,) = discover(OpenClawConfig(state_dir=tmp_path))
    with pytest.raises(StoreError, match=r"auth-state\.json: there is no auth-profiles\.json"):
        store.read()


def test_missing_state_dir_and_agents(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="state directory does not exist"):
        discover(OpenClawConfig(state_dir=tmp_path / "nope"))
    with pytest.raises(NotFound, match="agent ghost"):
        open_agent(tmp_path, "ghost")
    era_b(tmp_path, {}, agent="beta")
    assert open_agent(tmp_path, "beta").era is Era.JSON_SPLIT
