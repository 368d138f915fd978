"""Era C: OpenClaw's SQLite stores (2026.6.5+), read read-only and written in one transaction.

Two layouts hold the very same JSON payloads the old files held, compact (`JSON.stringify`):

- per agent, `<agentDir>/openclaw-agent.sqlite`: tables `auth_profile_store(store_key, store_json,
  updated_at)` and `auth_profile_state(state_key, state_json, updated_at)`, row `'primary'`;
- shared (the main agent since ~2026.8), `<state>/state/openclaw.sqlite`: table
  `config_machine_state(state_key, value_json, updated_at_ms)`, rows `authProfiles.store` and
  `authProfiles.state`.

Before anything is read, the tables, their columns and `PRAGMA user_version` are checked: a
layout we do not know, or a schema newer than the newest we have seen, is UnsupportedStore and
left alone (a STRICT table of a newer OpenClaw may mean something else by the same names).

Reads open the file with `mode=ro`, so `probed status` can never write. Writes take
`BEGIN IMMEDIATE` with a busy timeout (OpenClaw's own is 5 s), re-read the state inside the
transaction, and replace only the state cell, bumping its timestamp. OpenClaw's writers do the
same inside their own immediate transactions, so SQLite serialises both sides.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import quote

from probed import safejson
from probed.clock import valid_ms
from probed.errors import StoreBusy, StoreError, UnsupportedStore
from probed.model import Profile
from probed.stores.atomic import dumps_compact
from probed.stores.base import (
    Era,
    Listing,
    Mutator,
    Snapshot,
    listed_profiles,
    parsed_profiles,
)

T = TypeVar("T")

AGENT_DB = "openclaw-agent.sqlite"
SHARED_DB = ("state", "openclaw.sqlite")
STORE_KEY = "authProfiles.store"
STATE_KEY = "authProfiles.state"
SHARED_MARKER_KEY = "auth.sharedStore"
PRIMARY = "primary"
# The newest schemas seen (OpenClaw 2026.9.6). Older ones with the same tables are fine.
MAX_AGENT_USER_VERSION = 23
MAX_SHARED_USER_VERSION = 18
DEFAULT_BUSY_TIMEOUT_S = 5.0
STRICT_TABLES_SINCE = (3, 37, 0)  # OpenClaw 9.x creates STRICT tables


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the two payloads live in one kind of database."""

    kind: str
    max_user_version: int
    store_sql: str
    state_sql: str
    upsert_sql: str
    required: Mapping[str, frozenset[str]]


_AGENT = _Layout(
    kind="agent",
    max_user_version=MAX_AGENT_USER_VERSION,
    store_sql="SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'",
    state_sql="SELECT state_json, updated_at FROM auth_profile_state WHERE state_key = 'primary'",
    upsert_sql=(
        "INSERT INTO auth_profile_state (state_key, state_json, updated_at)"
        " VALUES ('primary', ?, ?)"
        " ON CONFLICT(state_key) DO UPDATE SET state_json = excluded.state_json,"
        " updated_at = excluded.updated_at"
    ),
    required={
        "auth_profile_store": frozenset({"store_key", "store_json", "updated_at"}),
        "auth_profile_state": frozenset({"state_key", "state_json", "updated_at"}),
    },
)
_SHARED = _Layout(
    kind="shared",
    max_user_version=MAX_SHARED_USER_VERSION,
    store_sql="SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'",
    state_sql=(
        "SELECT value_json, updated_at_ms FROM config_machine_state"
        " WHERE state_key = 'authProfiles.state'"
    ),
    upsert_sql=(
        "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms)"
        " VALUES ('authProfiles.state', ?, ?) ON CONFLICT(state_key) DO UPDATE SET"
        " value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms"
    ),
    required={"config_machine_state": frozenset({"state_key", "value_json", "updated_at_ms"})},
)


def _digest(text: str) -> bytes:
    """A cell's identity: BLAKE2b-128 of its text (a tenth of a millisecond for 100 KB)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _RecentCells:
    """The last few state cells read, by digest, decoded: a due key's store is read by the
    daemon, then by the probe inside its flight, before anything writes it, and the decode (with
    its depth guard) was most of each read and of the wake-up lateness at 100,000 profiles
    (docs/fleet.md). Only the last few: every store's document kept would grow the daemon with
    the fleet (30 MB at 100,000). Reads run in worker threads, hence the lock."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._cells: OrderedDict[tuple[Path, str], tuple[bytes, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, where: tuple[Path, str], digest: bytes) -> dict[str, Any] | None:
        with self._lock:
            hit = self._cells.get(where)
            if hit is None or hit[0] != digest:
                return None
            self._cells.move_to_end(where)
            return hit[1]

    def put(self, where: tuple[Path, str], digest: bytes, doc: dict[str, Any]) -> None:
        with self._lock:
            self._cells[where] = (digest, doc)
            self._cells.move_to_end(where)
            while len(self._cells) > self._size:
                self._cells.popitem(last=False)


RECENT_STATE_CELLS = 8  # how many stores' state documents are kept (see _RecentCells)
_RECENT_STATES = _RecentCells(RECENT_STATE_CELLS)


def shared_db_path(state_dir: Path) -> Path:
    return state_dir.joinpath(*SHARED_DB)


class SqliteStore:
    """One agent's SQLite-era store: its own database, or the shared one (`shared=True`)."""

    def __init__(
        self,
        agent: str,
        agent_dir: Path,
        db_path: Path,
        *,
        shared: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> None:
        self.agent = agent
        self.agent_dir = agent_dir
        self.db_path = db_path
        self._parsed: tuple[Any, Mapping[str, Profile]] | None = None  # see _profiles
        # The profiles cell's digest and its document (read-only): it changes at a login, while
        # the daemon reads the store several times per probe; the same text is not decoded
        # (nor depth-checked) again. A digest, not the text: 100 stores of 1,000 profiles held
        # 12 MB of it.
        self._store_cell: tuple[bytes, dict[str, Any]] | None = None
        self.era = Era.SQLITE_SHARED if shared else Era.SQLITE_AGENT
        self.busy_timeout = busy_timeout
        self._layout = _SHARED if shared else _AGENT

    @property
    def location(self) -> Path:
        return self.db_path

    def watch_paths(self) -> tuple[Path, ...]:
        return (self.db_path, self.db_path.with_name(self.db_path.name + "-wal"))

    def __repr__(self) -> str:
        return f"SqliteStore(agent={self.agent!r}, db={str(self.db_path)!r}, era={self.era.value})"

    # ---- connections ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        if not self.db_path.is_file():
            what = "is a directory" if self.db_path.is_dir() else "does not exist"
            raise StoreError(f"{self.db_path}: {what}, so there is no OpenClaw database here")
        mode = "rw" if write else "ro"
        uri = f"file:{quote(str(self.db_path))}?mode={mode}"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.db_path}: cannot be opened ({exc})") from None
        try:
            self._check_schema(conn)  # (`timeout` above is SQLite's busy timeout)
            yield conn
        except sqlite3.DatabaseError as exc:
            raise self._sqlite_error(exc) from None
        finally:
            conn.close()

    def _sqlite_error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreBusy(
                f"{self.db_path}: the database stayed busy for more than "
                f"{self.busy_timeout:g}s (OpenClaw is writing); nothing was written"
            )
        if "malformed" in text and sqlite3.sqlite_version_info < STRICT_TABLES_SINCE:
            return StoreError(
                f"{self.db_path}: cannot be read with this Python's SQLite "
                f"{sqlite3.sqlite_version}: OpenClaw's STRICT tables need SQLite 3.37 or newer "
                "(the database itself is probably fine)"
            )
        if "not a database" in text or "malformed" in text:
            return StoreError(f"{self.db_path}: is not a readable SQLite database ({text})")
        return StoreError(f"{self.db_path}: {text}")

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > self._layout.max_user_version:
            raise UnsupportedStore(
                f"{self.db_path}: schema version {version} is newer than any probed knows "
                f"(up to {self._layout.max_user_version}); update probed. Left alone"
            )
        for table, needed in self._layout.required.items():
            cols = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not cols:
                raise UnsupportedStore(
                    f"{self.db_path}: has no {table} table, so it is not an OpenClaw "
                    f"{self._layout.kind} auth store probed knows; left alone"
                )
            missing = needed - cols
            if missing:
                raise UnsupportedStore(
                    f"{self.db_path}: table {table} lacks column(s) "
                    f"{', '.join(sorted(missing))}; an unknown layout, left alone"
                )

    # ---- reading --------------------------------------------------------------------------

    def _payloads(
        self, conn: sqlite3.Connection, *, remember: bool = True
    ) -> tuple[dict[str, Any], dict[str, Any], int | None]:
        """Both cells, decoded. With `remember`, each one's document is kept by its digest and
        not decoded again while unchanged (see `_store_cell`, `_RecentCells`); a read made once
        (`probed status`) would only pay for hashing 20 MB at 100,000 profiles."""
        row = conn.execute(self._layout.store_sql).fetchone()
        digest = _digest(row[0]) if remember and row and isinstance(row[0], str) else None
        cell = self._store_cell
        if digest is not None and cell is not None and digest == cell[0]:
            store = cell[1]  # the credentials' cell, unchanged since the last read
        else:
            store = self._decode(row[0], "store") if row else {"version": 1, "profiles": {}}
            if not isinstance(store.get("profiles"), dict):
                raise StoreError(
                    f"{self.db_path}: the auth profile store has no `profiles` object; left alone"
                )
            if digest is not None:
                self._store_cell = (digest, store)
        row = conn.execute(self._layout.state_sql).fetchone()
        if remember and row and isinstance(row[0], str):
            where = (self.db_path, self._layout.kind)
            digest = _digest(row[0])
            state = _RECENT_STATES.get(where, digest)  # read-only, as every reader treats it
            if state is None:
                state = self._decode(row[0], "state")
                _RECENT_STATES.put(where, digest, state)
        else:
            state = self._decode(row[0], "state") if row else {"version": 1}
        updated = int(row[1]) if row and valid_ms(row[1]) else None  # an absurd stamp: ignored
        return store, state, updated

    def _decode(self, text: object, what: str) -> dict[str, Any]:
        if not isinstance(text, str):
            raise StoreError(f"{self.db_path}: the auth profile {what} cell is not text")
        try:
            doc = safejson.loads(text)
        except safejson.TooDeep as exc:
            raise StoreError(
                f"{self.db_path}: the auth profile {what} cell is {exc.msg}; left alone"
            ) from None
        except json.JSONDecodeError:
            raise StoreError(
                f"{self.db_path}: the auth profile {what} cell is not valid JSON; left alone"
            ) from None
        if not isinstance(doc, dict):
            raise StoreError(f"{self.db_path}: the auth profile {what} cell is not an object")
        version = doc.get("version", 1)
        if version != 1 or isinstance(version, bool):
            raise StoreError(
                f"{self.db_path}: the auth profile {what} has version {json.dumps(version)}, "
                "which probed does not know; left alone"
            )
        return doc

    def _snapshot(self, store: Mapping[str, Any], state: Mapping[str, Any]) -> Snapshot:
        return Snapshot(agent=self.agent, era=self.era, profiles=self._profiles(store), state=state)

    def _profiles(self, store: Mapping[str, Any]) -> Mapping[str, Profile]:
        """The parsed profiles, reused while the profiles cell is unchanged: they change at a
        login, the state at every failure, and parsing a thousand profiles was most of each
        read (the daemon reads a store several times per probe)."""
        raw = store["profiles"]
        cached = self._parsed
        if cached is not None and (cached[0] is raw or cached[0] == raw):
            return cached[1]
        frozen = MappingProxyType(parsed_profiles(raw))
        self._parsed = (raw, frozen)
        return frozen

    def read(self) -> Snapshot:
        with self._connect(write=False) as conn:
            conn.execute("BEGIN")  # one snapshot for both cells
            store, state, _ = self._payloads(conn)
            conn.execute("COMMIT")
        return self._snapshot(store, state)

    def read_for_display(self) -> Listing:
        """`read` without parsing a credential: the same checks, the same snapshot of both
        cells, each profile's provider and type only (`probed status`, which reads each store
        once: nothing is remembered)."""
        with self._connect(write=False) as conn:
            conn.execute("BEGIN")
            store, state, _ = self._payloads(conn, remember=False)
            conn.execute("COMMIT")
        return Listing(self.agent, self.era, listed_profiles(store["profiles"]), state)

    # ---- writing --------------------------------------------------------------------------

    def update(self, mutate: Mutator[T]) -> T:
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                store, state, updated = self._payloads(conn)
                work = safejson.copied(state)
                result = mutate(work, self._snapshot(store, state).profiles)
                if work != state:
                    stamp = max(time.time_ns() // 1_000_000, (updated or 0) + 1)
                    conn.execute(self._layout.upsert_sql, (dumps_compact(work), stamp))
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            return result


@dataclass(frozen=True, slots=True)
class SharedDb:
    """What `<state>/state/openclaw.sqlite` says about an install."""

    present: bool  # it exists with OpenClaw's config_machine_state table: a 2026.8+ install
    holds_main: bool  # the main agent's auth store lives in it


def inspect_shared(db_path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S) -> SharedDb:
    """Where OpenClaw 9.x keeps the main agent's store, decided as it decides it.

    Its own marker row `auth.sharedStore` = `{"location": "state-db"}` says this database; any
    other location (`legacy-main`) says the main agent's own database. Without the row, the
    `authProfiles.*` rows decide. A database that cannot be read is taken to hold the store, so
    that reading it names the file and what is wrong, instead of the main agent vanishing."""
    if not db_path.is_file():
        return SharedDb(present=False, holds_main=False)
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(db_path))}?mode=ro", uri=True, timeout=busy_timeout
        )
    except sqlite3.Error:
        return SharedDb(present=True, holds_main=True)
    try:
        rows = dict(
            conn.execute(
                "SELECT state_key, value_json FROM config_machine_state"
                " WHERE state_key IN (?, ?, ?)",
                (SHARED_MARKER_KEY, STORE_KEY, STATE_KEY),
            ).fetchall()
        )
    except sqlite3.Error as exc:
        if "no such table" in str(exc):
            return SharedDb(present=False, holds_main=False)
        return SharedDb(present=True, holds_main=True)
    finally:
        conn.close()
    marker = rows.get(SHARED_MARKER_KEY)
    if marker is not None:
        try:
            location = json.loads(marker).get("location") if isinstance(marker, str) else None
        except (ValueError, AttributeError):
            location = None
        return SharedDb(present=True, holds_main=location == "state-db")
    return SharedDb(present=True, holds_main=STORE_KEY in rows or STATE_KEY in rows)
