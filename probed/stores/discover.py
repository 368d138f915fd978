"""Find every OpenClaw agent store under the state root, and the era each one is in.

The era comes from what is on disk, never from a version number:

- `<agentDir>/openclaw-agent.sqlite` -> C (per-agent database). OpenClaw >= 2026.6.5 reads only
  this; JSON files beside it are legacy import sources (and make 9.x fail closed until
  `openclaw doctor --fix` imports them), so they are ignored here.
- the shared `<state>/state/openclaw.sqlite` -> C-shared for the main agent when it holds the
  main store (its `auth.sharedStore` marker says `state-db`, or, without a marker, it has the
  `authProfiles.*` rows: 9.x relocates the main store there).
- `auth-profiles.json` (+ `auth-state.json`) -> A or B (JsonStore tells them apart per read).

An agent that `openclaw.json` gives an `agentDir` is looked for there instead of under
`<state>/agents` (see `probed.openclawjson`). Each agent's era is its own: an agent directory
without any of these files (on 9.x, one that never got a database) has no profiles of its own
and is not listed, so the main agent's profiles are not shown twice. Every agent but main also
sees the main agent's profiles it has state of its own for (`InheritingStore`), as OpenClaw
merges main's store under it. `legacy_warnings` names the JSON files a SQLite-era OpenClaw
would refuse or ignore (`openclaw doctor --fix` imports them), for `probed status` to show. An
agent directory with something unusable (e.g. `auth-state.json` alone) is still returned, and
its read() says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from probed.config import OpenClawConfig
from probed.errors import ConfigError, NotFound, StoreError
from probed.openclawjson import configured_agent_dirs, load_openclaw_json
from probed.stores.base import Era, Mutator, Snapshot, Store
from probed.stores.inherit import InheritingStore
from probed.stores.jsonstore import PROFILES_FILE, STATE_FILE, JsonStore
from probed.stores.sqlitestore import AGENT_DB, SqliteStore, inspect_shared, shared_db_path

T = TypeVar("T")

MAIN_AGENT = "main"
_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def agent_dir(state_dir: Path, agent_id: str) -> Path:
    return state_dir / "agents" / agent_id / "agent"


@dataclass(frozen=True, slots=True)
class _Install:
    """What the whole state root says, read once per discovery."""

    state_dir: Path
    agent_ids: frozenset[str]
    shared_holds_main: bool
    configured_dirs: Mapping[str, Path]  # agentDir set in openclaw.json, by agent id

    def agent_dir(self, agent_id: str) -> Path:
        return self.configured_dirs.get(agent_id) or agent_dir(self.state_dir, agent_id)


def _install(state_dir: Path) -> _Install:
    state_dir = state_dir.expanduser()
    if not state_dir.is_dir():
        what = "is not a directory" if state_dir.exists() else "does not exist"
        raise ConfigError(
            f"{state_dir}: the OpenClaw state directory {what} (set [openclaw] "
            "state_dir or $OPENCLAW_STATE_DIR)"
        )
    shared = inspect_shared(shared_db_path(state_dir))
    configured = configured_agent_dirs(load_openclaw_json(state_dir))
    ids: set[str] = set()
    agents_root = state_dir / "agents"
    if agents_root.is_dir():
        for child in agents_root.iterdir():
            if _AGENT_ID.match(child.name) and (child / "agent").is_dir():
                ids.add(child.name)
    ids.update(agent_id for agent_id, where in configured.items() if where.is_dir())
    if shared.holds_main:
        ids.add(MAIN_AGENT)
    return _Install(state_dir, frozenset(ids), shared.holds_main, configured)


def discover(config: OpenClawConfig) -> list[Store]:
    """Every agent under <state>/agents/<id>/agent or at the `agentDir` openclaw.json gives it
    (filtered by config.agents), plus the shared main-agent store, each with its era detected
    from disk. Raises ConfigError (exit 78) naming the state dir when it does not exist; an
    unreadable or unknown agent store is still returned (its read() raises) so status can
    report it."""
    install = _install(config.state_dir)
    wanted = set(config.agents)
    main = _store_for(install, MAIN_AGENT)
    stores: list[Store] = []
    for agent_id in sorted(install.agent_ids):
        if wanted and agent_id not in wanted:
            continue
        store = main if agent_id == MAIN_AGENT else _store_for(install, agent_id, main=main)
        if store is not None:
            stores.append(store)
    return stores


def open_agent(state_dir: Path, agent_id: str) -> Store:
    """The store of one agent, by id. NotFound names the agent when it has none."""
    install = _install(state_dir)
    main = _store_for(install, MAIN_AGENT)
    store = main if agent_id == MAIN_AGENT else _store_for(install, agent_id, main=main)
    if store is None:
        where = install.agent_dir(agent_id)
        if not where.is_dir():
            raise NotFound(f"agent {agent_id}: {where} does not exist")
        raise NotFound(f"agent {agent_id}: {where} holds no OpenClaw auth-profile store")
    return store


def _store_for(install: _Install, agent_id: str, *, main: Store | None = None) -> Store | None:
    own = _own_store(install, agent_id)
    if own is None or main is None or isinstance(own, BrokenStore):
        return own
    return InheritingStore(own, main)


def _own_store(install: _Install, agent_id: str) -> Store | None:
    adir = install.agent_dir(agent_id)
    own_db = adir / AGENT_DB
    if agent_id == MAIN_AGENT and install.shared_holds_main:
        return SqliteStore(agent_id, adir, shared_db_path(install.state_dir), shared=True)
    if own_db.exists():
        return SqliteStore(agent_id, adir, own_db)
    if (adir / PROFILES_FILE).exists():
        return JsonStore(agent_id, adir)
    if (adir / STATE_FILE).exists():
        return BrokenStore(
            agent_id,
            adir,
            adir / STATE_FILE,
            f"{adir / STATE_FILE}: there is no {PROFILES_FILE} beside it, so OpenClaw "
            "has no profiles for it; left alone",
        )
    return None


@dataclass(frozen=True, slots=True)
class LegacyFiles:
    agent: str
    path: Path
    message: str


def legacy_warnings(state_dir: Path, stores: list[Store]) -> list[LegacyFiles]:
    """JSON stores that a SQLite-era OpenClaw (2026.6.5+) would not use as they are.

    Once any database exists the install is of that era: an agent still on JSON files is
    ignored by it until `openclaw doctor --fix` imports them, and an `auth-profiles.json` beside
    an agent database makes 9.x refuse to load that agent at all (AUTH_PROFILE_MIGRATION_REQUIRED).
    """
    shared = inspect_shared(shared_db_path(state_dir.expanduser())).present
    sqlite_era = shared or any(s.era.is_sqlite for s in stores)
    if not sqlite_era:
        return []
    out: list[LegacyFiles] = []
    for store in stores:
        legacy = store.agent_dir / PROFILES_FILE
        if not legacy.exists():
            continue
        if store.era.is_sqlite:
            why = (
                "sits beside the agent's database; OpenClaw 2026.6.5+ refuses to load this agent "
                "until `openclaw doctor --fix` imports it"
            )
        else:
            why = (
                "is a JSON store that OpenClaw 2026.6.5+ (which keeps auth profiles in SQLite) "
                "ignores until `openclaw doctor --fix` imports it; probed's repairs here reach "
                "only an older gateway"
            )
        out.append(LegacyFiles(store.agent, legacy, f"{legacy}: {why}"))
    return out


class BrokenStore:
    """An agent store probed cannot use; every access repeats why, naming the file."""

    era = Era.JSON_SPLIT

    def __init__(self, agent: str, agent_dir: Path, path: Path, message: str) -> None:
        self.agent = agent
        self.agent_dir = agent_dir
        self._path = path
        self._message = message

    @property
    def location(self) -> Path:
        return self._path

    def read(self) -> Snapshot:
        raise StoreError(self._message)

    def update(self, mutate: Mutator[T]) -> T:
        raise StoreError(self._message)

    def watch_paths(self) -> tuple[Path, ...]:
        return (self._path,)
