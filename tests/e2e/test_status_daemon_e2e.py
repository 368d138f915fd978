"""`probed status` beside a real daemon and without one: NEXT only when something will run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.daemonproc import DaemonProc, daemon_env, wait_for
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed import heartbeat

pytestmark = pytest.mark.slow

KEY = "sk-ant-api03-SECRET-1631-aaaaaaaaaaaaaaaa"


def _status(config: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = daemon_env(home)
    return subprocess.run(
        [sys.executable, "-m", "probed", "status", "-c", str(config), *extra],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_status_shows_no_next_probe_without_a_daemon(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "openclaw", "main", "B")
    store.write({"anthropic:a": api_key("anthropic", KEY)},
                {"anthropic:a": cooldown(now_ms() + 3600_000)})  # fmt: skip
    config = tmp_path / "probed.toml"
    config.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "state"}"\nlock_dir = "{tmp_path / "locks"}"\n'
        f'[openclaw]\nstate_dir = "{tmp_path / "openclaw"}"\nreload_command = []\n'
        '[providers.anthropic]\napi = "anthropic"\nbase_url = "http://127.0.0.1:9"\n'
    )
    home = tmp_path / "home"
    with DaemonProc(config, home=home) as d:
        d.wait_for(lambda: (tmp_path / "state" / heartbeat.FILE).exists(), "the heartbeat")
        doc = json.loads(_status(config, home, "--json").stdout)
        assert doc["daemon"]["running"] is True and doc["daemon"]["pid"] == d.proc.pid
        assert doc["profiles"][0]["next_probe_at"] is not None
        table = _status(config, home).stdout
        assert "no probed daemon is running" not in table
        assert " in 59m" in table or " in 1h" in table  # NEXT: the daemon's armed time
    wait_for(lambda: not (tmp_path / "state" / heartbeat.FILE).exists(), "the file removed", 5)
    doc = json.loads(_status(config, home, "--json").stdout)
    assert doc["daemon"] == {"running": False, "pid": None, "started_at": None,
                             "heartbeat_at": None}  # fmt: skip
    table = _status(config, home).stdout
    assert "no probed daemon is running" in table
    row = next(line for line in table.splitlines() if line.startswith("main"))
    assert row.rstrip().endswith("-") and " in " not in row  # no NEXT nobody would run
    assert KEY not in table
