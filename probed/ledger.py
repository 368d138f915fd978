"""probed's own memory: when each profile was last probed, with what result, when the next probe
is due, how many failures in a row, and how many paid probes each provider spent today.

It lives in `[daemon] state_dir`, never inside OpenClaw's store (OpenClaw drops fields it does
not know on its next write). SQLite, because the daemon, cron jobs and people at a shell all write
it at once: WAL plus `BEGIN IMMEDIATE` serialises them without a lock file of our own.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from probed.clock import from_ms, to_ms
from probed.errors import StoreError
from probed.files import make_state_dir

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
    failing_since INTEGER,
    PRIMARY KEY (agent, profile, model)
);
CREATE TABLE IF NOT EXISTS budget (
    provider TEXT NOT NULL,
    day TEXT NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    warned INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, day)
);
"""
# Columns added after 0.1, for ledgers written by an older probed.
_ADDED = (
    ("probes", "failing_since", "INTEGER"),
    ("budget", "rejected", "INTEGER NOT NULL DEFAULT 0"),
)
_COLUMNS = (
    "agent, profile, model, last_probe_at, last_result, consecutive_failures, next_probe_at,"
    " failing_since"
)


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    agent: str
    profile: str
    model: str | None
    last_probe_at: datetime | None
    last_result: str | None  # "ok" or a reason word
    consecutive_failures: int
    next_probe_at: datetime | None
    failing_since: datetime | None = None  # the first failed probe of the current outage


class Ledger:
    def __init__(self, state_dir: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = state_dir / "probed.sqlite"
        self._busy_timeout = busy_timeout
        # One connection, kept while the file is the one it opened (same device and inode):
        # opening, setting up and closing a WAL database per call (the close checkpoints it)
        # cost ~10 ms, which a burst of a thousand probes paid on the event loop.
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._ident: tuple[int, int] | None = None
        self._ready = False  # WAL and schema set up on this connection
        self._of_agent: dict[str, dict[tuple[object, ...], ProbeRecord]] = {}  # see of_agent

    def _open(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,  # used under self._lock, from threads too
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: probed's state cannot be opened ({exc})") from None

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _kept(self) -> sqlite3.Connection | None:
        """The kept connection if the file is still the one it opened, else None (closed)."""
        if self._conn is not None and self._identity() == self._ident:
            return self._conn
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn, self._ident, self._ready = None, None, False
        return None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A connection, or None when nothing was ever written (reads never create the file)."""
        with self._lock:
            conn = self._kept()
            if conn is None:
                if not self.path.exists():
                    yield None
                    return
                conn = self._conn = self._open()
                self._ident = self._identity()
            try:
                yield conn
            except sqlite3.OperationalError as exc:
                self._kept_drop()
                raise StoreError(f"{self.path}: probed's state is unavailable ({exc})") from None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._kept()
            if conn is None or not self._ready:
                make_state_dir(self.path.parent)
                if conn is None:
                    conn = self._conn = self._open()
            try:
                if not self._ready:
                    with contextlib.suppress(OSError):
                        self.path.chmod(0o600)
                    self._set_up(conn)
                    self._ident = self._identity()
                    self._ready = True
                yield conn
            except sqlite3.OperationalError as exc:
                self._kept_drop()
                raise StoreError(f"{self.path}: probed's state is unavailable ({exc})") from None
            finally:
                if self._conn is not None and self._conn.in_transaction:  # an error mid-way
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.rollback()

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """WAL and the schema, on a connection's first write. Writers that start together (the
        daemon, a cron job, three coordinators of one host) meet in the switch to WAL, which
        needs the database to itself, and SQLite answers one of them "locked" at once instead
        of waiting (its rule against two lock holders waiting for each other). Every step is
        idempotent, so the set-up is tried again, for up to the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints
                conn.executescript(_SCHEMA)
                _add_columns(conn)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                if conn.in_transaction:
                    conn.rollback()
                time.sleep(0.01)
            else:
                return

    def _kept_drop(self) -> None:
        """After an error the connection may be mid-transaction: start afresh next time."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn, self._ident, self._ready = None, None, False

    # ---- probes ----------------------------------------------------------------------------

    def get(self, agent: str, profile: str, model: str | None = None) -> ProbeRecord | None:
        with self._reading() as conn:
            if conn is None:
                return None
            try:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM probes WHERE agent=? AND profile=? AND model=?",  # noqa: S608 - fixed names
                    (agent, profile, model or ""),
                ).fetchone()
            except sqlite3.OperationalError:
                row = _old_row(conn, agent, profile, model)
        return _record(row) if row else None

    def all(self) -> list[ProbeRecord]:
        return self._rows("", ())

    def of_agent(self, agent: str) -> list[ProbeRecord]:
        """One agent's records, by the primary key's prefix: a pass over one store needs its
        own agent's verdicts, and reading all of a 10,000-row ledger for them blocked the
        event loop for tens of milliseconds after every probe.

        A row read again unchanged gives the record it gave last time: a pass after each probe
        reads the agent's 1,000 rows, of which one or two changed, and building the others'
        records again was most of the read (and the same object compares in no time)."""
        with self._lock:
            rows = self._fetch(" WHERE agent=?", (agent,))
            known = self._of_agent.get(agent, {})
            made = {row: known.get(row) or _record(row) for row in rows}
            self._of_agent[agent] = made
            return list(made.values())

    def _rows(self, where: str, params: tuple[str, ...]) -> list[ProbeRecord]:
        """Records matching `where` (a fixed clause), from a ledger of any schema version."""
        return [_record(r) for r in self._fetch(where, params)]

    def _fetch(self, where: str, params: tuple[str, ...]) -> list[tuple[object, ...]]:
        order = " ORDER BY agent, profile, model"
        with self._reading() as conn:
            if conn is None:
                return []
            try:
                rows: list[tuple[object, ...]] = conn.execute(
                    f"SELECT {_COLUMNS} FROM probes{where}{order}",  # noqa: S608 - fixed names
                    params,
                ).fetchall()
            except sqlite3.OperationalError:  # a ledger from before the last column
                rows = [
                    (*r, None)
                    for r in conn.execute(
                        "SELECT agent, profile, model, last_probe_at, last_result,"  # noqa: S608
                        f" consecutive_failures, next_probe_at FROM probes{where}{order}",
                        params,
                    ).fetchall()
                ]
        return rows

    def record_probe(
        self,
        agent: str,
        profile: str,
        model: str | None,
        *,
        at: datetime,
        result: str,
        next_probe_at: datetime | None,
        streak: int | None = None,
        failing_since: datetime | None = None,
        rejected: str | None = None,
    ) -> ProbeRecord:
        """Store a probe's result in one transaction. With `streak` (policy.Decision), the
        decision's own count and outage start are stored; without, a success resets the
        streak and a failure extends it (the outage start kept, or set now). `rejected` names
        the provider whose paid probe was answered with an error: not billed, so it is given
        back to today's budget and counted as rejected, in the same transaction."""
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT consecutive_failures, failing_since FROM probes"
                " WHERE agent=? AND profile=? AND model=?",
                (agent, profile, model or ""),
            ).fetchone()
            ok = result == "ok"
            if streak is None:
                streak = 0 if ok else (row[0] if row else 0) + 1
            if failing_since is None and not ok:
                failing_since = from_ms(int(row[1])) if row and row[1] is not None else at
            since = None if ok else failing_since
            conn.execute(
                "INSERT INTO probes (agent, profile, model, last_probe_at, last_result,"
                " consecutive_failures, next_probe_at, failing_since) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT(agent, profile, model) DO UPDATE SET"
                " last_probe_at=excluded.last_probe_at, last_result=excluded.last_result,"
                " consecutive_failures=excluded.consecutive_failures,"
                " next_probe_at=excluded.next_probe_at, failing_since=excluded.failing_since",
                (
                    agent,
                    profile,
                    model or "",
                    to_ms(at),
                    result,
                    streak,
                    to_ms(next_probe_at) if next_probe_at else None,
                    to_ms(since) if since else None,
                ),
            )
            if rejected is not None:
                _refund(conn, rejected, at)
            conn.execute("COMMIT")
        return ProbeRecord(agent, profile, model, at, result, streak, next_probe_at, since)

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

    def refund(self, provider: str, now: datetime) -> None:
        """Give back a paid probe the provider rejected (an error answer is not billed), and
        count it as rejected: the budget counts what can be billed, the rejected are shown."""
        with self._writing() as conn:
            conn.execute("BEGIN IMMEDIATE")
            _refund(conn, provider, now)
            conn.execute("COMMIT")

    def rejected_today(self, provider: str, now: datetime) -> int:
        """Paid probes the provider rejected today (sent, not billed)."""
        with self._reading() as conn:
            if conn is None:
                return 0
            try:
                row = conn.execute(
                    "SELECT rejected FROM budget WHERE provider=? AND day=?", (provider, _day(now))
                ).fetchone()
            except sqlite3.OperationalError:
                return 0
        return int(row[0]) if row else 0


def _refund(conn: sqlite3.Connection, provider: str, now: datetime) -> None:
    conn.execute(
        "INSERT INTO budget (provider, day, paid, rejected) VALUES (?,?,0,1)"
        " ON CONFLICT(provider, day) DO UPDATE SET paid=max(0, paid-1), rejected=rejected+1",
        (provider, _day(now)),
    )


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, decl in _ADDED:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


def _old_row(
    conn: sqlite3.Connection, agent: str, profile: str, model: str | None
) -> tuple[object, ...] | None:
    """A row of a ledger an older probed wrote (no failing_since yet) and nothing wrote since."""
    row = conn.execute(
        "SELECT agent, profile, model, last_probe_at, last_result, consecutive_failures,"
        " next_probe_at FROM probes WHERE agent=? AND profile=? AND model=?",
        (agent, profile, model or ""),
    ).fetchone()
    return (*row, None) if row else None


def _day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def _record(row: tuple[object, ...]) -> ProbeRecord:
    agent, profile, model, last_at, result, streak, next_at, since = row
    return ProbeRecord(
        agent=str(agent),
        profile=str(profile),
        model=str(model) or None,
        last_probe_at=from_ms(int(last_at)) if isinstance(last_at, int) else None,
        last_result=str(result) if result is not None else None,
        consecutive_failures=int(streak) if isinstance(streak, int) else 0,
        next_probe_at=from_ms(int(next_at)) if isinstance(next_at, int) else None,
        failing_since=from_ms(int(since)) if isinstance(since, int) else None,
    )
