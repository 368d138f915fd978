"""Real OpenClaw-layout stores for daemon tests: era B (split JSON) and era C (per-agent SQLite).

Era C follows OpenClaw 2026.9.6 exactly: STRICT tables, `PRAGMA user_version = 23`, one row each
keyed 'primary', compact JSON, WAL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

SQLITE_SCHEMA = """
CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY,
  store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY,
  state_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
CREATE TABLE schema_meta (meta_key TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL,
  schema_version INTEGER NOT NULL, agent_id TEXT, app_version TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT;
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def api_key(provider: str, key: str) -> dict[str, Any]:
    return {"type": "api_key", "provider": provider, "key": key}


def cooldown(until_ms: int, reason: str = "rate_limit") -> dict[str, Any]:
    return {
        "cooldownUntil": until_ms,
        "cooldownReason": reason,
        "errorCount": 1,
        "failureCounts": {reason: 1},
        "lastFailureAt": now_ms() - 1000,
    }


def billing_disabled(t0: int) -> dict[str, Any]:
    """Disabled for billing at `t0` - 1 s, for 5 h (OpenClaw's first billing window)."""
    return {
        "disabledUntil": t0 + 5 * 3600_000,
        "disabledReason": "billing",
        "errorCount": 1,
        "failureCounts": {"billing": 1},
        "lastFailureAt": t0 - 1000,
    }


class AgentStore:
    """One agent's store on disk, in either era; `write` replaces profiles and usage at once."""

    def __init__(self, state_dir: Path, agent: str, era: str) -> None:
        self.agent_dir = state_dir / "agents" / agent / "agent"
        self.era = era
        self.agent = agent

    def write(self, profiles: dict[str, Any], usage: dict[str, Any]) -> None:
        self.agent_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = {"version": 1, "profiles": profiles}
        state = {"version": 1, "usageStats": usage}
        if self.era == "B":
            _atomic(self.agent_dir / "auth-profiles.json", json.dumps(store, indent=2) + "\n")
            _atomic(self.agent_dir / "auth-state.json", json.dumps(state, indent=2) + "\n")
            return
        db = self.agent_dir / "openclaw-agent.sqlite"
        fresh = not db.exists()
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            if fresh:
                conn.executescript(SQLITE_SCHEMA)
                conn.execute("PRAGMA user_version = 23")
                t = now_ms()
                conn.execute(
                    "INSERT INTO schema_meta VALUES ('primary','agent',23,?,'2026.9.6',?,?)",
                    (self.agent, t, t),
                )
            conn.execute("BEGIN IMMEDIATE")
            t = now_ms()
            for table, col, payload in (
                ("auth_profile_store", "store", store),
                ("auth_profile_state", "state", state),
            ):
                sql = (
                    f"INSERT INTO {table} ({col}_key, {col}_json, updated_at)"  # noqa: S608
                    f" VALUES ('primary',?,?) ON CONFLICT({col}_key) DO UPDATE SET"
                    f" {col}_json=excluded.{col}_json, updated_at=excluded.updated_at"
                )
                conn.execute(sql, (json.dumps(payload, separators=(",", ":")), t))
            conn.execute("COMMIT")
        finally:
            conn.close()
        db.chmod(0o600)

    def usage(self) -> dict[str, Any]:
        if self.era == "B":
            path = self.agent_dir / "auth-state.json"
            if not path.exists():
                return {}
            state = json.loads(path.read_text(encoding="utf-8"))
        else:
            conn = sqlite3.connect(self.agent_dir / "openclaw-agent.sqlite")
            try:
                row = conn.execute(
                    "SELECT state_json FROM auth_profile_state WHERE state_key='primary'"
                ).fetchone()
            finally:
                conn.close()
            state = json.loads(row[0]) if row else {}
        return dict(state.get("usageStats", {}))


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)
