"""OpenClaw 2026.9.6 per-agent SQLite stores (era C), written and read the way OpenClaw does it.

The bench plays OpenClaw here: it creates the stores probed reads and, while a scenario runs,
records the failures and successes of the simulated cron traffic, each as one `BEGIN IMMEDIATE`
read-modify-write so it never clobbers probed's own writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = """
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


class AgentDb:
    """One agent's `openclaw-agent.sqlite`."""

    def __init__(self, state_dir: Path, agent: str) -> None:
        self.agent = agent
        self.agent_dir = state_dir / "agents" / agent / "agent"
        self.path = self.agent_dir / "openclaw-agent.sqlite"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def create(self, profiles: dict[str, Any], usage: dict[str, Any]) -> None:
        self.agent_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute("PRAGMA user_version = 23")
            t = now_ms()
            conn.execute(
                "INSERT INTO schema_meta VALUES ('primary','agent',23,?,'2026.9.6',?,?)",
                (self.agent, t, t),
            )
        finally:
            conn.close()
        self.path.chmod(0o600)
        self.write(profiles=profiles, usage=usage)

    def write(
        self, *, profiles: dict[str, Any] | None = None, usage: dict[str, Any] | None = None
    ) -> None:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            t = now_ms()
            if profiles is not None:
                _put(conn, "auth_profile_store", "store", {"version": 1, "profiles": profiles}, t)
            if usage is not None:
                _put(conn, "auth_profile_state", "state", {"version": 1, "usageStats": usage}, t)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def usage(self) -> dict[str, Any]:
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT state_json FROM auth_profile_state WHERE state_key='primary'"
            ).fetchone()
        finally:
            conn.close()
        state = json.loads(row[0]) if row else {}
        return dict(state.get("usageStats") or {})

    def update_stats(
        self, profile: str, mutate: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """Read-modify-write one profile's usageStats entry under SQLite's write lock."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT state_json FROM auth_profile_state WHERE state_key='primary'"
            ).fetchone()
            state = json.loads(row[0]) if row else {"version": 1, "usageStats": {}}
            stats = state.setdefault("usageStats", {})
            stats[profile] = mutate(dict(stats.get(profile) or {}))
            _put(conn, "auth_profile_state", "state", state, now_ms(), raw=True)
            conn.execute("COMMIT")
        finally:
            conn.close()


def _put(
    conn: sqlite3.Connection, table: str, col: str, payload: Any, t: int, *, raw: bool = False
) -> None:
    del raw
    sql = (
        f"INSERT INTO {table} ({col}_key, {col}_json, updated_at)"  # noqa: S608 - fixed names
        f" VALUES ('primary',?,?) ON CONFLICT({col}_key) DO UPDATE SET"
        f" {col}_json=excluded.{col}_json, updated_at=excluded.updated_at"
    )
    conn.execute(sql, (json.dumps(payload, separators=(",", ":")), t))
