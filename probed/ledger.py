"""probed's own memory: when each profile was last probed, with what result, when the next probe
is due, how many failures in a row, and how many paid probes each provider spent today.

It lives in `[daemon] state_dir`, never inside OpenClaw's store (OpenClaw drops fields it does
not know on its next write). SQLite, because the daemon, cron jobs and people at a shell all write
it at once: WAL plus `BEGIN IMMEDIATE` serialises them without a lock file of our own.

This memory is probed's own, never a reason to stop recovering: when the file cannot be written
or read (a full disk, a read-only or vanished directory, a corrupt file) the ledger says so once
(`ledger_unwritable`), keeps what it would have written in this process's memory, and answers
from disk and memory together; every probe, backoff step and budget count goes on. The daily
budget stays bounded: paid probes counted in memory add to what the file already holds. Once a
write succeeds again it says `ledger_writable`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from probed.clock import from_ms, to_ms, valid_ms
from probed.errors import ConfigError, ProbedError, StoreError
from probed.logs import get_logger

log = get_logger()

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
        # what could not be written, kept while the file is unwritable (see the module docstring)
        self._mem: dict[tuple[str, str, str], ProbeRecord] = {}
        self._mem_paid: dict[tuple[str, str], int] = {}
        self._mem_warned: set[tuple[str, str]] = set()
        self.problem: str | None = None  # the last write failure, until a write succeeds

    def _failed(self, exc: ProbedError) -> None:
        if str(exc) != self.problem:
            self.problem = str(exc)
            log.warning("ledger_unwritable", error=str(exc), path=str(self.path))

    def _succeeded(self) -> None:
        if self.problem is not None:
            self.problem = None
            log.info("ledger_writable", path=str(self.path))

    def _remember(self, rec: ProbeRecord) -> None:
        self._mem[(rec.agent, rec.profile, rec.model or "")] = rec

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
        except sqlite3.Error as exc:
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
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: probed's state is unavailable ({exc})") from None
        finally:
            conn.close()

    # ---- probes ----------------------------------------------------------------------------

    def get(self, agent: str, profile: str, model: str | None = None) -> ProbeRecord | None:
        kept = self._mem.get((agent, profile, model or ""))
        if kept is not None:
            return kept
        try:
            return self._get(agent, profile, model)
        except ProbedError as exc:
            self._failed(exc)
            return None

    def _get(self, agent: str, profile: str, model: str | None) -> ProbeRecord | None:
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
        """Every record; StoreError when the file cannot be read and nothing is in memory."""
        try:
            found = {(r.agent, r.profile, r.model or ""): r for r in self._all()}
        except ProbedError:
            if not self._mem:
                raise
            found = {}
        found.update(self._mem)
        return [found[k] for k in sorted(found)]

    def _all(self) -> list[ProbeRecord]:
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
        try:
            rec = self._record_probe(
                agent, profile, model, at=at, result=result, next_probe_at=next_probe_at
            )
        except ProbedError as exc:
            self._failed(exc)
            prev = self.get(agent, profile, model)
            streak = 0 if result == "ok" else (prev.consecutive_failures if prev else 0) + 1
            rec = ProbeRecord(agent, profile, model, at, result, streak, next_probe_at)
            self._remember(rec)
            return rec
        self._mem.pop((agent, profile, model or ""), None)
        self._succeeded()
        return rec

    def _record_probe(
        self,
        agent: str,
        profile: str,
        model: str | None,
        *,
        at: datetime,
        result: str,
        next_probe_at: datetime | None,
    ) -> ProbeRecord:
        kept = self._mem.get((agent, profile, model or ""))
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT consecutive_failures FROM probes WHERE agent=? AND profile=? AND model=?",
                (agent, profile, model or ""),
            ).fetchone()
            before = kept.consecutive_failures if kept else (row[0] if row else 0)
            streak = 0 if result == "ok" else before + 1
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
        self.set_next_many([(agent, profile, model, next_probe_at)])

    def set_next_many(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
        """Many next-probe times in one transaction (start-up schedules thousands at once)."""
        try:
            self._set_next_many(entries)
        except ProbedError as exc:
            self._failed(exc)
            for agent, profile, model, at in entries:
                prev = self.get(agent, profile, model)
                if prev is None:
                    prev = ProbeRecord(agent, profile, model, None, None, 0, None)
                self._remember(replace(prev, next_probe_at=at))
            return
        for agent, profile, model, _at in entries:
            self._mem.pop((agent, profile, model or ""), None)
        self._succeeded()

    def _set_next_many(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
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
        extra = self._mem_paid.get((provider, _day(now)), 0)
        try:
            return self._paid_on_disk(provider, now) + extra
        except ProbedError as exc:
            self._failed(exc)
            return extra

    def _paid_on_disk(self, provider: str, now: datetime) -> int:
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
        try:
            allowed, warn = self._try_spend(provider, day, limit)
        except ProbedError as exc:
            self._failed(exc)
            allowed = self.paid_today(provider, now) < limit
            if allowed:
                self._mem_paid[(provider, day)] = self._mem_paid.get((provider, day), 0) + 1
                return True, False
            warn = (provider, day) not in self._mem_warned
            self._mem_warned.add((provider, day))
            return False, warn
        self._succeeded()
        return allowed, warn

    def _try_spend(self, provider: str, day: str, limit: int) -> tuple[bool, bool]:
        extra = self._mem_paid.get((provider, day), 0)
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT paid, warned FROM budget WHERE provider=? AND day=?", (provider, day)
            ).fetchone()
            paid, warned = (int(row[0]), int(row[1])) if row else (0, 0)
            if paid + extra < limit:
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
        last_probe_at=from_ms(int(last_at))
        if isinstance(last_at, int) and valid_ms(last_at)
        else None,
        last_result=str(result) if result is not None else None,
        consecutive_failures=int(streak) if isinstance(streak, int) else 0,
        next_probe_at=from_ms(int(next_at))
        if isinstance(next_at, int) and valid_ms(next_at)
        else None,
    )
