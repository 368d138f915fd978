"""Discovery: every agent, the shared main store, each era from disk."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from helpers.ocstate import agent_dir, era_a, era_b, era_c_agent, era_c_shared, real_sample_state

from probed.config import OpenClawConfig
from probed.errors import ConfigError, NotFound, StoreError
from probed.stores.base import Era
from probed.stores.discover import discover, legacy_warnings, open_agent


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


def test_legacy_json_in_a_sqlite_era_install_is_read_and_warned_about(tmp_path: Path) -> None:
    era_c_shared(tmp_path, {})
    era_b(tmp_path, {}, agent="old")
    stores = discover(OpenClawConfig(state_dir=tmp_path))
    assert {s.agent: s.era for s in stores}["old"] is Era.JSON_SPLIT  # its own era, from disk
    (warned,) = legacy_warnings(tmp_path, stores)
    assert warned.agent == "old" and "doctor --fix" in warned.message
    assert str(tmp_path / "agents/old/agent/auth-profiles.json") in warned.message


def test_json_beside_an_agent_database_is_warned_about(tmp_path: Path) -> None:
    era_c_agent(tmp_path, {}, agent="worker")
    era_b(tmp_path, {}, agent="worker")
    stores = discover(OpenClawConfig(state_dir=tmp_path))
    (warned,) = legacy_warnings(tmp_path, stores)
    assert "refuses to load this agent" in warned.message
    assert legacy_warnings(tmp_path, [s for s in stores if s.agent != "worker"]) == []


def test_a_pure_json_install_has_nothing_to_warn_about(tmp_path: Path) -> None:
    era_b(tmp_path, {}, agent="main")
    era_a(tmp_path, {}, agent="other")
    assert legacy_warnings(tmp_path, discover(OpenClawConfig(state_dir=tmp_path))) == []


def test_the_shared_marker_decides_where_main_lives(tmp_path: Path) -> None:
    """OpenClaw 9.x reads `auth.sharedStore`: `legacy-main` keeps main in its own database even
    when the shared one has auth rows."""
    db = era_c_shared(tmp_path, {})
    era_c_agent(tmp_path, {}, agent="main")
    assert open_agent(tmp_path, "main").era is Era.SQLITE_SHARED
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE config_machine_state SET value_json = ? WHERE state_key = 'auth.sharedStore'",
            ('{"location":"legacy-main"}',),
        )
    conn.close()
    assert open_agent(tmp_path, "main").era is Era.SQLITE_AGENT
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM config_machine_state WHERE state_key = 'auth.sharedStore'")
    conn.close()
    assert open_agent(tmp_path, "main").era is Era.SQLITE_SHARED  # no marker: the rows decide


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
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="a-file: the OpenClaw state directory is not a dir"):
        discover(OpenClawConfig(state_dir=tmp_path / "a-file"))
    with pytest.raises(NotFound, match="agent ghost"):
        open_agent(tmp_path, "ghost")
    era_b(tmp_path, {}, agent="beta")
    assert open_agent(tmp_path, "beta").era is Era.JSON_SPLIT


def test_an_agent_dir_set_in_openclaw_json_is_where_its_store_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenClaw keeps a configured agent's store at its `agentDir`, wherever that is; its
    default directory, if one is left over, is not what the gateway uses."""
    state, home = tmp_path / "state", tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("OPENCLAW_HOME", raising=False)
    era_b(state, {}, agent="work")
    elsewhere = home / "bots" / "work"
    elsewhere.parent.mkdir(parents=True)
    shutil.move(state / "agents" / "work" / "agent", elsewhere)
    era_b(state, {}, agent="moved")  # a leftover: openclaw.json sends this agent elsewhere
    era_b(state, {}, agent="plain")
    (state / "openclaw.json").write_text(
        '{agents: {list: [{id: "Work", agentDir: "~/bots/work"},'
        ' {id: "moved", agentDir: "/nonexistent/moved"}, {id: "plain"}]}}'
    )
    stores = {s.agent: s for s in discover(OpenClawConfig(state_dir=state))}
    assert set(stores) == {"work", "plain"}
    assert stores["work"].agent_dir == elsewhere
    assert stores["work"].era is Era.JSON_SPLIT and stores["work"].read().profiles
    assert open_agent(state, "work").agent_dir == elsewhere
    with pytest.raises(NotFound, match="/nonexistent/moved"):
        open_agent(state, "moved")
