"""Find every OpenClaw agent store under the state root, and the era each one is in.

The era comes from what is on disk, never from a version number:

- `<agentDir>/openclaw-agent.sqlite` -> C (per-agent database). OpenClaw >= 2026.6.5 reads only
  this; JSON files beside it are legacy import sources (and make 9.x fail closed until
  `openclaw doctor --fix` imports them), so they are ignored here.
- the shared `<state>/state/openclaw.sqlite` with `authProfiles.store`/`authProfiles.state` rows
  -> C-shared, for the main agent (9.x relocates the main store there). Its presence also says
  the install is 9.x, where auth profiles are per agent and read from the agent's own database
  only: another agent directory without one has no profiles of its own (it is not listed, so the
  main agent's profiles are not shown twice), and one holding only legacy JSON files is reported
  as waiting for `openclaw doctor --fix` (9.x fails closed on it).
- `auth-profiles.json` (+ `auth-state.json`) -> A or B (JsonStore tells them apart per read).

An agent directory with none of these has no auth profiles and is skipped; one with something
unusable (e.g. `auth-state.json` alone) is still returned, and its read() says what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

from probed.config import OpenClawConfig
from probed.errors import ConfigError, NotFound, StoreError
from probed.stores.base import Era, Mutator, Snapshot, Store
from probed.stores.jsonstore import PROFILES_FILE, STATE_FILE, JsonStore
from probed.stores.sqlitestore import AGENT_DB, SqliteStore, has_shared_rows, shared_db_path

T = TypeVar("T")

MAIN_AGENT = "main"
_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def agent_dir(state_dir: Path, agent_id: str) -> Path:
    return state_dir / "agents" / agent_id / "agent"


def discover(config: OpenClawConfig) -> list[Store]:
    """Every agent under <state>/agents/<id>/agent (filtered by config.agents), plus the shared
    main-agent store, each with its era detected from disk. Raises ConfigError (exit 78)
    naming the state dir when it does not exist; an unreadable or unknown agent store is still
    returned (its read() raises) so status can report it."""
    state_dir = config.state_dir.expanduser()
    if not state_dir.is_dir():
        raise ConfigError(
            f"{state_dir}: the OpenClaw state directory does not exist (set [openclaw] "
            "state_dir or $OPENCLAW_STATE_DIR)"
        )
    wanted = set(config.agents)
    shared = has_shared_rows(shared_db_path(state_dir))
    ids: set[str] = set()
    agents_root = state_dir / "agents"
    if agents_root.is_dir():
        for child in agents_root.iterdir():
            if _AGENT_ID.match(child.name) and (child / "agent").is_dir():
                ids.add(child.name)
    if shared:
        ids.add(MAIN_AGENT)
    stores: list[Store] = []
    for agent_id in sorted(ids):
        if wanted and agent_id not in wanted:
            continue
        store = _store_for(state_dir, agent_id, shared=shared)
        if store is not None:
            stores.append(store)
    return stores


def open_agent(state_dir: Path, agent_id: str) -> Store:
    """The store of one agent, by id. NotFound names the agent when it has none."""
    state_dir = state_dir.expanduser()
    if not state_dir.is_dir():
        raise ConfigError(
            f"{state_dir}: the OpenClaw state directory does not exist (set [openclaw] "
            "state_dir or $OPENCLAW_STATE_DIR)"
        )
    store = _store_for(state_dir, agent_id, shared=has_shared_rows(shared_db_path(state_dir)))
    if store is None:
        where = agent_dir(state_dir, agent_id)
        if not where.is_dir():
            raise NotFound(f"agent {agent_id}: {where} does not exist")
        raise NotFound(f"agent {agent_id}: {where} holds no OpenClaw auth-profile store")
    return store


def _store_for(state_dir: Path, agent_id: str, *, shared: bool) -> Store | None:
    adir = agent_dir(state_dir, agent_id)
    own_db = adir / AGENT_DB
    if agent_id == MAIN_AGENT and shared:
        return SqliteStore(agent_id, adir, shared_db_path(state_dir), shared=True)
    if own_db.exists():
        return SqliteStore(agent_id, adir, own_db)
    if shared:
        if (adir / PROFILES_FILE).exists():
            return BrokenStore(
                agent_id,
                adir,
                adir / PROFILES_FILE,
                f"{adir / PROFILES_FILE}: a legacy JSON store that this OpenClaw (2026.6.5 or "
                "newer, which keeps auth profiles in SQLite) does not read until `openclaw "
                "doctor --fix` imports it; left alone",
            )
        return None
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
