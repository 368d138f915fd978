"""probed's record of each repair and whether the running gateway has taken it.

One row per (agent, profile): when probed last repaired it (a probe's success or `probed
clear`), the current verdict (`probed.confirm.Verdict`), how many reload attempts failed since,
the last error in one sentence, and when the next retry is due. It lives in `[daemon] state_dir`
(`repairs.sqlite`) beside the ledger, never in OpenClaw's store, and is written by the daemon and
by `probed probe` / `probed clear` alike: WAL plus `BEGIN IMMEDIATE` serialise them. Reads never
create the file, so `probed status` stays read-only. No credential is ever stored here.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from probed.confirm import Verdict
from probed.errors import StoreError
from probed.files import make_state_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS repairs (
    agent TEXT NOT NULL,
    profile TEXT NOT NULL,
    repaired_at INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    checked_at INTEGER,
    next_retry_at INTEGER,
    reload_ok_at INTEGER,
    PRIMARY KEY (agent, profile)
);
"""
_COLUMNS = (
    "agent, profile, repaired_at, verdict, attempts, last_error, checked_at, next_retry_at,"
    " reload_ok_at"
)


@dataclass(frozen=True, slots=True)
class RepairRecord:
    agent: str
    profile: str
    repaired_at_ms: int
    verdict: Verdict
    attempts: int = 0  # reload attempts (or looks at a stopped gateway) since the repair
    last_error: str | None = None
    checked_at_ms: int | None = None
    next_retry_at_ms: int | None = None
    reload_ok_at_ms: int | None = None  # the last reload command that succeeded after it

    def checked(
        self,
        verdict: Verdict,
        *,
        at_ms: int,
        error: str | None,
        next_retry_at_ms: int | None,
        reload_ok_at_ms: int | None,
    ) -> RepairRecord:
        return replace(
            self,
            verdict=verdict,
            attempts=0 if verdict.settled else self.attempts + 1,
            last_error=None if verdict.settled else error,
            checked_at_ms=at_ms,
            next_retry_at_ms=None if verdict.settled else next_retry_at_ms,
            reload_ok_at_ms=reload_ok_at_ms
            if reload_ok_at_ms is not None
            else self.reload_ok_at_ms,
        )


class RepairLog:
    def __init__(self, state_dir: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = state_dir / "repairs.sqlite"
        self._busy_timeout = busy_timeout

    def _open(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{self.path}: probed's repair record cannot be opened ({exc})"
            ) from None

    @contextlib.contextmanager
    def _conn(self, *, write: bool) -> Iterator[sqlite3.Connection | None]:
        if not write and not self.path.exists():
            yield None
            return
        if write:
            make_state_dir(self.path.parent)
        conn = self._open()
        try:
            if write:
                with contextlib.suppress(OSError):
                    self.path.chmod(0o600)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
            yield conn
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: probed's repair record is unavailable ({exc})"
            ) from None
        finally:
            conn.close()

    def all(self) -> list[RepairRecord]:
        with self._conn(write=False) as conn:
            if conn is None:
                return []
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM repairs ORDER BY agent, profile"  # noqa: S608
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise
        return [_record(r) for r in rows]

    def open_records(self) -> list[RepairRecord]:
        """Repairs the gateway has not taken yet (pending or not running). The daemon asks every
        few seconds, so only those rows are read."""
        waiting = tuple(str(v) for v in Verdict if not v.settled)
        with self._conn(write=False) as conn:
            if conn is None:
                return []
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM repairs WHERE verdict IN (?, ?)"  # noqa: S608
                    " ORDER BY agent, profile",
                    waiting,
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return []
                raise
        return [_record(r) for r in rows]

    def record_repairs(
        self, keys: Iterable[tuple[str, str]], *, at_ms: int, retry_at_ms: int | None = None
    ) -> None:
        """New repairs of (agent, profile): pending until confirmed; an older record goes.
        `retry_at_ms`: when a retry may pick one up (None: at once) - the caller confirms them
        itself right away, and a retry meanwhile would reload the gateway a second time."""
        self.save_many(
            RepairRecord(a, p, at_ms, Verdict.PENDING, next_retry_at_ms=retry_at_ms)
            for a, p in keys
        )

    def save_many(self, records: Iterable[RepairRecord]) -> None:
        """Write the records in one transaction; a record older than the repair already on
        file for its profile (a newer repair recorded meanwhile) is not written."""
        todo = list(records)
        if not todo:
            return
        with self._conn(write=True) as conn:
            if conn is None:  # never: a writing connection always exists
                return
            conn.execute("BEGIN IMMEDIATE")
            for rec in todo:
                row = conn.execute(
                    "SELECT repaired_at FROM repairs WHERE agent=? AND profile=?",
                    (rec.agent, rec.profile),
                ).fetchone()
                if row is not None and row[0] > rec.repaired_at_ms:
                    continue
                conn.execute(
                    f"INSERT OR REPLACE INTO repairs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",  # noqa: S608
                    (
                        rec.agent,
                        rec.profile,
                        rec.repaired_at_ms,
                        str(rec.verdict),
                        rec.attempts,
                        rec.last_error,
                        rec.checked_at_ms,
                        rec.next_retry_at_ms,
                        rec.reload_ok_at_ms,
                    ),
                )
            conn.execute("COMMIT")


def _record(row: tuple[object, ...]) -> RepairRecord:
    agent, profile, repaired, verdict, attempts, error, checked, nxt, ok = row
    try:
        v = Verdict(str(verdict))
    except ValueError:
        v = Verdict.PENDING
    return RepairRecord(
        str(agent),
        str(profile),
        int(repaired),  # type: ignore[call-overload]
        v,
        int(attempts),  # type: ignore[call-overload]
        str(error) if error is not None else None,
        int(checked) if checked is not None else None,  # type: ignore[call-overload]
        int(nxt) if nxt is not None else None,  # type: ignore[call-overload]
        int(ok) if ok is not None else None,  # type: ignore[call-overload]
    )
