"""Build OpenClaw stores of every era on disk for the state-layer tests.

The SQLite schemas are the ones OpenClaw 2026.9.6 itself created (copied from the databases in
tests/fixtures/openclaw-samples/, which `openclaw doctor --fix` and markAuthProfileFailure wrote).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "openclaw-samples"

KEY_A = "sk-ant-SECRET-0001-aaaaaaaaaaaa"
KEY_B = "sk-ant-SECRET-0002-bbbbbbbbbbbb"
KEY_O = "sk-or-SECRET-0003-cccccccccccc"
SECRETS = (KEY_A, KEY_B, KEY_O)

PROFILES: dict[str, Any] = {
    "anthropic:a": {"type": "api_key", "provider": "anthropic", "key": KEY_A},
    "anthropic:b": {"type": "api_key", "provider": "anthropic", "key": KEY_B},
    "openrouter:x": {"type": "api_key", "provider": "openrouter", "key": KEY_O},
}

AGENT_SCHEMA = """
CREATE TABLE auth_profile_store (
  store_key TEXT NOT NULL PRIMARY KEY,
  store_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE auth_profile_state (
  state_key TEXT NOT NULL PRIMARY KEY,
  state_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
"""
SHARED_SCHEMA = """
CREATE TABLE config_machine_state (
  state_key TEXT NOT NULL PRIMARY KEY,
  value_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
"""


def agent_dir(state: Path, agent: str = "main") -> Path:
    d = state / "agents" / agent / "agent"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def era_a(state: Path, usage: dict[str, Any], *, agent: str = "main", extra: Any = None) -> Path:
    d = agent_dir(state, agent)
    doc: dict[str, Any] = {"version": 1, "profiles": PROFILES, "usageStats": usage}
    if extra:
        doc.update(extra)
    write_json(d / "auth-profiles.json", doc)
    return d


def era_b(state: Path, usage: dict[str, Any], *, agent: str = "main", inline: Any = None) -> Path:
    d = agent_dir(state, agent)
    doc: dict[str, Any] = {"version": 1, "profiles": PROFILES}
    if inline is not None:
        doc["usageStats"] = inline
    write_json(d / "auth-profiles.json", doc)
    write_json(d / "auth-state.json", {"version": 1, "usageStats": usage})
    return d


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def era_c_agent(
    state: Path, usage: dict[str, Any], *, agent: str = "worker", user_version: int = 23
) -> Path:
    d = agent_dir(state, agent)
    db = d / "openclaw-agent.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(AGENT_SCHEMA)
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "INSERT INTO auth_profile_store VALUES ('primary', ?, 1)",
        (compact({"version": 1, "profiles": PROFILES}),),
    )
    conn.execute(
        "INSERT INTO auth_profile_state VALUES ('primary', ?, 1)",
        (compact({"version": 1, "usageStats": usage}),),
    )
    conn.close()
    return db


def era_c_shared(state: Path, usage: dict[str, Any], *, user_version: int = 18) -> Path:
    (state / "state").mkdir(parents=True, exist_ok=True)
    db = state / "state" / "openclaw.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(SHARED_SCHEMA)
    conn.execute(f"PRAGMA user_version = {user_version}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "INSERT INTO config_machine_state VALUES ('auth.sharedStore', ?, 1)",
        ('{"location":"state-db"}',),
    )
    conn.execute(
        "INSERT INTO config_machine_state VALUES ('authProfiles.store', ?, 1)",
        (compact({"version": 1, "profiles": PROFILES}),),
    )
    conn.execute(
        "INSERT INTO config_machine_state VALUES ('authProfiles.state', ?, 1)",
        (compact({"version": 1, "usageStats": usage}),),
    )
    conn.close()
    return db


def sqlite_state(db: Path) -> tuple[dict[str, Any], int]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT state_json, updated_at FROM auth_profile_state WHERE state_key='primary'"
        ).fetchone()
    except sqlite3.OperationalError:
        row = conn.execute(
            "SELECT value_json, updated_at_ms FROM config_machine_state"
            " WHERE state_key='authProfiles.state'"
        ).fetchone()
    conn.close()
    return json.loads(row[0]), int(row[1])


def sqlite_state_text(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT state_json FROM auth_profile_state").fetchone()
    except sqlite3.OperationalError:
        row = conn.execute(
            "SELECT value_json FROM config_machine_state WHERE state_key='authProfiles.state'"
        ).fetchone()
    conn.close()
    return str(row[0])


def real_sample_state(dest_state: Path) -> tuple[Path, Path]:
    """The databases OpenClaw 2026.9.6 wrote: (shared main DB, worker agent DB)."""
    shared = dest_state / "state" / "openclaw.sqlite"
    worker = dest_state / "agents" / "worker" / "agent" / "openclaw-agent.sqlite"
    for gz, out in (
        (FIXTURES / "main-state-openclaw.sqlite.gz", shared),
        (FIXTURES / "worker-openclaw-agent.sqlite.gz", worker),
    ):
        out.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(gz, "rb") as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        out.chmod(0o600)
    (dest_state / "agents" / "main" / "agent").mkdir(parents=True, exist_ok=True)
    return shared, worker


def sample_528_files(step: int) -> dict[str, str]:
    """The JSON files OpenClaw 2026.5.28 wrote after step `step` of probe-mark (0 = seed)."""
    data = json.loads((FIXTURES / "probe-mark.2026.5.28.main.json").read_text(encoding="utf-8"))
    return dict(data["steps"][step]["snapshot"]["files"])


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


class LogCapture:
    """probed's real log pipeline (redaction included) into a string."""

    def __init__(self) -> None:
        import io

        from probed.logs import configure

        self.stream = io.StringIO()
        configure("debug", "json", stream=self.stream)

    @property
    def text(self) -> str:
        return self.stream.getvalue()
