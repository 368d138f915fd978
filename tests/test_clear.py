"""`probed clear PROFILE [--agent ID]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers.ocstate import SECRETS, era_b, era_c_agent, sqlite_state, tree_bytes

from probed.cli import main

NOW = 1_800_000_000_000
BILLED = {
    "disabledUntil": 4_000_000_000_000,
    "disabledReason": "billing",
    "errorCount": 1,
    "failureCounts": {"billing": 1},
    "lastFailureAt": NOW,
}


def _config(tmp_path: Path, state: Path, reload: list[str]) -> str:
    cfg = tmp_path / "probed.toml"
    cfg.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "ps"}"\n[openclaw]\nstate_dir = "{state}"\n'
        f"reload_command = {json.dumps(reload)}\n"
    )
    return str(cfg)


def test_clear_in_every_agent_then_reload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    d = era_b(state, {"anthropic:a": dict(BILLED)})
    db = era_c_agent(state, {"anthropic:a": dict(BILLED)}, agent="worker")
    marker = tmp_path / "reloaded"
    cfg = _config(tmp_path, state, [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x')"])
    assert main(["clear", "anthropic:a", "-c", cfg]) == 0
    out = capsys.readouterr().out
    assert "agent main" in out and "agent worker" in out
    assert (
        json.loads((d / "auth-state.json").read_text())["usageStats"]["anthropic:a"]["errorCount"]
        == 0
    )
    entry = sqlite_state(db)[0]["usageStats"]["anthropic:a"]
    assert "disabledUntil" not in entry and entry["lastFailureAt"] == NOW
    assert marker.read_text() == "x"  # one reload for the whole command
    assert not any(s in out for s in SECRETS)


def test_clear_only_in_one_agent(tmp_path: Path) -> None:
    state = tmp_path / "oc"
    d = era_b(state, {"anthropic:a": dict(BILLED)})
    db = era_c_agent(state, {"anthropic:a": dict(BILLED)}, agent="worker")
    assert (
        main(["clear", "anthropic:a", "--agent", "worker", "-c", _config(tmp_path, state, [])]) == 0
    )
    assert "disabledUntil" not in sqlite_state(db)[0]["usageStats"]["anthropic:a"]
    assert (
        json.loads((d / "auth-state.json").read_text())["usageStats"]["anthropic:a"][
            "disabledReason"
        ]
        == "billing"
    )


def test_unknown_profile_or_agent_names_it_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    era_b(state, {"anthropic:a": dict(BILLED)})
    before = tree_bytes(state)
    cfg = _config(tmp_path, state, [])
    assert main(["clear", "nobody:x", "-c", cfg]) == 2
    assert "profile nobody:x" in capsys.readouterr().err
    assert main(["clear", "anthropic:a", "--agent", "ghost", "-c", cfg]) == 2
    assert "agent ghost" in capsys.readouterr().err
    assert tree_bytes(state) == before


def test_reload_failure_is_not_fatal(tmp_path: Path) -> None:
    state = tmp_path / "oc"
    era_b(state, {"anthropic:a": dict(BILLED)})
    assert (
        main(["clear", "anthropic:a", "-c", _config(tmp_path, state, ["/nonexistent/reload"])]) == 0
    )


def test_stdout_holds_the_result_and_warnings_go_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "oc"
    era_b(state, {"anthropic:a": dict(BILLED)})
    cfg = _config(tmp_path, state, ["/nonexistent/openclaw", "secrets", "reload"])
    assert main(["-c", cfg, "clear", "anthropic:a"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [out.splitlines()[0]] and out.startswith("cleared anthropic:a")
    assert "profile_cleared" not in out + err  # an info event: not shown by a command
    assert "reload_command_failed" in err and "warning" in err
