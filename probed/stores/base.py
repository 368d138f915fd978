"""What every store offers: a consistent read, and a locked read-modify-write of the state.

The state payload is OpenClaw's own `{version, order, lastGood, usageStats}` object. Writers never
see or touch `profiles` (the credentials): `update` hands the mutator a fresh copy of the state
and the parsed profiles, and writes the state back only if the mutator changed it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from probed.model import Listed, Profile, Usage, usage_of
from probed.reasons import JSON_ERA_MODEL_SCOPED, OPENCLAW_MODEL_SCOPED
from probed.transitions import (
    AGENT_DB_SUCCESS,
    JSON_SUCCESS,
    SHARED_DB_SUCCESS,
    SuccessFields,
)

T = TypeVar("T")


class Era(StrEnum):
    """Where OpenClaw keeps the failure state, detected from what is on disk."""

    JSON_SINGLE = "A"  # auth-profiles.json holds profiles and usageStats together (<= 2026.4.5)
    JSON_SPLIT = "B"  # auth-profiles.json + auth-state.json (2026.4.7 - 2026.6.1)
    SQLITE_AGENT = "C"  # <agentDir>/openclaw-agent.sqlite (>= 2026.6.5)
    SQLITE_SHARED = (
        "C-shared"  # <state>/state/openclaw.sqlite config_machine_state (main agent, 9.x)
    )

    @property
    def is_sqlite(self) -> bool:
        return self in (Era.SQLITE_AGENT, Era.SQLITE_SHARED)

    @property
    def success_fields(self) -> SuccessFields:
        """What OpenClaw's own success writes in this kind of store (see SuccessFields)."""
        if self is Era.SQLITE_SHARED:
            return SHARED_DB_SUCCESS
        return AGENT_DB_SUCCESS if self is Era.SQLITE_AGENT else JSON_SUCCESS

    @property
    def model_scoped_reasons(self) -> frozenset[str]:
        """The cooldown reasons OpenClaw of this era scopes to `cooldownModel`."""
        return OPENCLAW_MODEL_SCOPED if self.is_sqlite else JSON_ERA_MODEL_SCOPED


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent read of an agent's store."""

    agent: str
    era: Era
    profiles: Mapping[str, Profile]
    state: Mapping[str, Any]  # the raw state payload; treat as read-only

    def usage(self, profile_id: str) -> Usage:
        return usage_of(self.state, profile_id, scoped_reasons=self.era.model_scoped_reasons)


@dataclass(frozen=True, slots=True)
class Listing:
    """A read for display (`probed status`): each profile's provider and type, and the state.

    No credential is parsed or resolved: listing 100,000 profiles is what `status` does, and
    building each one's Credential was most of its time (see `read_for_display`)."""

    agent: str
    era: Era
    profiles: Mapping[str, Listed]
    state: Mapping[str, Any]  # the raw state payload; treat as read-only

    def usage(self, profile_id: str) -> Usage:
        return usage_of(self.state, profile_id, scoped_reasons=self.era.model_scoped_reasons)


def parsed_profiles(raw: Mapping[str, Any]) -> dict[str, Profile]:
    """The `profiles` object parsed (`Profile.from_json`): the entries OpenClaw keeps."""
    out: dict[str, Profile] = {}
    for pid, entry in raw.items():
        if type(entry) is dict or isinstance(entry, Mapping):  # JSON's own dict: no ABC check
            profile = Profile.from_json(pid, entry)
            if profile is not None:
                out[pid] = profile
    return out


def listed_profiles(raw: Mapping[str, Any]) -> dict[str, Listed]:
    """The `profiles` object as a listing shows it: the same entries `Profile.from_json` keeps
    (one rule, `Listed.from_json`), and nothing read from their credential fields.

    A store is usually all JSON objects that each name a `type` and a `provider`, in a handful
    of distinct pairs: those are read in C, and each pair is judged once (the rule reads nothing
    else of an entry that has a `type`). Any other store is judged entry by entry."""
    try:
        pairs = list(map(_TYPE_AND_PROVIDER, raw.values()))
        judged = {
            pair: Listed.from_json({"type": pair[0], "provider": pair[1]}) for pair in set(pairs)
        }
    except (KeyError, TypeError):  # an entry without `type`, not an object, or unhashable values
        return _listed_one_by_one(raw)
    each = map(judged.__getitem__, pairs)
    if None in judged.values():  # some pair OpenClaw drops
        return {pid: listed for pid, listed in zip(raw, each, strict=True) if listed is not None}
    return dict(zip(raw, cast("Iterator[Listed]", each), strict=True))  # no None: see above


_TYPE_AND_PROVIDER = operator.itemgetter("type", "provider")


def _listed_one_by_one(raw: Mapping[str, Any]) -> dict[str, Listed]:
    out: dict[str, Listed] = {}
    for pid, entry in raw.items():
        if isinstance(entry, Mapping):
            listed = Listed.from_json(entry)
            if listed is not None:
                out[pid] = listed
    return out


def listing_of(snap: Snapshot) -> Listing:
    """A full read, shown as a listing (stores without a display read of their own)."""
    profiles = {pid: Listed(p.provider, p.type) for pid, p in snap.profiles.items()}
    return Listing(agent=snap.agent, era=snap.era, profiles=profiles, state=snap.state)


Mutator = Callable[[dict[str, Any], Mapping[str, Profile]], T]


class Store(Protocol):
    agent: str  # the agent id (directory name under <state>/agents)
    agent_dir: Path

    @property
    def era(self) -> Era: ...

    @property
    def location(self) -> Path:
        """The file that holds the state (for messages and `status`)."""
        ...

    def read(self) -> Snapshot:
        """Parse the store; raise StoreError naming the file when it cannot be read."""
        ...

    def update(self, mutate: Mutator[T]) -> T:
        """Lock (OpenClaw's protocol for this era), re-read the freshest state, run `mutate` on a
        mutable copy, write it back atomically if it changed, unlock. Raise StoreBusy when a
        live holder keeps the lock past the timeout, StoreError on anything unreadable; in
        both cases nothing is written."""
        ...

    def watch_paths(self) -> tuple[Path, ...]:
        """Files whose change means the state may have changed (for the daemon's watcher)."""
        ...


@runtime_checkable
class DisplayReadable(Protocol):
    """A store that can list its profiles without parsing credentials (see Listing)."""

    def read_for_display(self) -> Listing:
        """What `read` would show, profiles as Listed; the same errors as `read`."""
        ...


def read_listing(store: Store) -> Listing:
    """The store's listing: its own display read where it has one, else its full read."""
    if isinstance(store, DisplayReadable):
        return store.read_for_display()
    return listing_of(store.read())


FileSignature = tuple[tuple[int, int, int] | None, ...]


def file_signature(paths: tuple[Path, ...]) -> FileSignature:
    """Each file's (inode, size, mtime), None where it is missing: a write by anyone moves one
    of them, so a store needs re-reading only when its signature changed."""
    out: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)
