"""probed's own memory: when each profile was last probed, with what result, when the next probe
is due, how many failures in a row, and how many paid probes each provider spent today.

It lives in `[daemon] state_dir`, never inside OpenClaw's store (OpenClaw drops fields it does
not know on its next write). SQLite, because the daemon, cron jobs and people at a shell all write
it at once: WAL plus `BEGIN IMMEDIATE` serialises them without a lock file of our own.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from probed.clock import from_ms, to_ms
from probed.errors import ConfigError, StoreError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS probes (
    agent TEXT NOT NULL,
    profile TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    last_probe_at INTEGER,
    last_result TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_probe_at INTEGER,
    PRIMARY KEY (agent, profile, model)
);
CREATE TABLE IF NOT EXISTS budget (
    provider TEXT NOT NULL,
    day TEXT NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    warned INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, day)
);
"""


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    agent: str
    profile: str
    model: str | None
    last_probe_at: datetime | None
    last_result: str | None  # "ok" or a reason word
    consecutive_failures: int
    next_probe_at: datetime | None


class Ledger:
    def __init__(self, state_dir: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = state_dir / "probed.sqlite"
        self._busy_timeout = busy_timeout

    def _open(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: probed's state cannot be opened ({exc})") from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A connection, or None when nothing was ever written (reads never create the file)."""
        if not self.path.exists():
            yield None
            return
        conn = self._open()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: probed's state is unavailable ({exc})") from None
        finally:
            conn.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{self.path.parent}: cannot create probed's state directory ([daemon] "
                f"state_dir): {exc.strerror or exc}"
            ) from None
        conn = self._open()
        try:
            with contextlib.suppress(OSError):
                self.path.chmod(0o600)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            yield conn
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: probed's state is unavailable ({exc})") from None
        finally:
            conn.close()

    # ---- probes ----------------------------------------------------------------------------

    def get(self, agent: str, profile: str, model: str | None = None) -> ProbeRecord | None:
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(
                "SELECT agent, profile, model, last_probe_at, last_result, consecutive_failures,"
                " next_probe_at FROM probes WHERE agent=? AND profile=? AND model=?",
                (agent, profile, model or ""),
            ).fetchone()
        return _record(row) if row else None

    def all(self) -> list[ProbeRecord]:
        with self._reading() as conn:
            if conn is None:
                return []
            rows = conn.execute(
                "SELECT agent, profile, model, last_probe_at, last_result, consecutive_failures,"
                " next_probe_at FROM probes ORDER BY agent, profile, model"
            ).fetchall()
        return [_record(r) for r in rows]

    def record_probe(
        self,
        agent: str,
        profile: str,
        model: str | None,
        *,
        at: datetime,
        result: str,
        next_probe_at: datetime | None,
    ) -> ProbeRecord:
        """Store a probe's result; a success resets the failure streak, a failure extends it."""
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT consecutive_failures FROM probes WHERE agent=? AND profile=? AND model=?",
                (agent, profile, model or ""),
            ).fetchone()
            streak = 0 if result == "ok" else (row[0] if row else 0) + 1
            conn.execute(
                "INSERT INTO probes (agent, profile, model, last_probe_at, last_result,"
                " consecutive_failures, next_probe_at) VALUES (?,?,?,?,?,?,?)"
                " ON CONFLICT(agent, profile, model) DO UPDATE SET"
                " last_probe_at=excluded.last_probe_at, last_result=excluded.last_result,"
                " consecutive_failures=excluded.consecutive_failures,"
                " next_probe_at=excluded.next_probe_at",
                (
                    agent,
                    profile,
                    model or "",
                    to_ms(at),
                    result,
                    streak,
                    to_ms(next_probe_at) if next_probe_at else None,
                ),
            )
            conn.execute("COMMIT")
        return ProbeRecord(agent, profile, model, at, result, streak, next_probe_at)

    def set_next(
        self, agent: str, profile: str, model: str | None, next_probe_at: datetime | None
    ) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO probes (agent, profile, model, next_probe_at) VALUES (?,?,?,?)"
                " ON CONFLICT(agent, profile, model) DO UPDATE SET"
                " next_probe_at=excluded.next_probe_at",
                (agent, profile, model or "", to_ms(next_probe_at) if next_probe_at else None),
            )

    def set_next_many(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
        """Many next-probe times in one transaction (start-up schedules thousands at once)."""
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO probes (agent, profile, model, next_probe_at) VALUES (?,?,?,?)"
                " ON CONFLICT(agent, profile, model) DO UPDATE SET"
                " next_probe_at=excluded.next_probe_at",
                [(a, p, m or "", to_ms(t) if t else None) for a, p, m, t in entries],
            )
            conn.execute("COMMIT")

    # ---- budget ----------------------------------------------------------------------------

    def paid_today(self, provider: str, now: datetime) -> int:
        with self._reading() as conn:
            if conn is None:
                return 0
            row = conn.execute(
                "SELECT paid FROM budget WHERE provider=? AND day=?", (provider, _day(now))
            ).fetchone()
        return int(row[0]) if row else 0

    def try_spend(self, provider: str, now: datetime, limit: int) -> tuple[bool, bool]:
        """Take one paid probe from today's budget (UTC day).

        Returns (allowed, warn): allowed is False once `limit` paid probes were spent today;
        warn is True exactly once per provider and day, the first time a probe is refused.
        """
        day = _day(now)
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT paid, warned FROM budget WHERE provider=? AND day=?", (provider, day)
            ).fetchone()
            paid, warned = (int(row[0]), int(row[1])) if row else (0, 0)
            if paid < limit:
                conn.execute(
                    "INSERT INTO budget (provider, day, paid) VALUES (?,?,1)"
                    " ON CONFLICT(provider, day) DO UPDATE SET paid=paid+1",
                    (provider, day),
                )
                conn.execute("COMMIT")
                return True, False
            if not warned:
                conn.execute(
                    "INSERT INTO budget (provider, day, paid, warned) VALUES (?,?,?,1)"
                    " ON CONFLICT(provider, day) DO UPDATE SET warned=1",
                    (provider, day, paid),
                )
            conn.execute("COMMIT")
            return False, not warned


def _day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def _record(row: tuple[object, ...]) -> ProbeRecord:
    agent, profile, model, last_at, result, streak, next_at = row
    return ProbeRecord(
        agent=str(agent),
        profile=str(profile),
        model=str(model) or None,
        last_probe_at=from_ms(int(last_at)) if isinstance(last_at, int) else None,
        last_result=str(result) if result is not None else None,
        consecutive_failures=int(streak) if isinstance(streak, int) else 0,
        next_probe_at=from_ms(int(next_at)) if isinstance(next_at, int) else None,
    )
