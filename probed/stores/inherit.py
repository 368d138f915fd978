"""A sub-agent's store as OpenClaw sees it: its own profiles, plus the main agent's profiles it
has state of its own for.

OpenClaw merges the main agent's store under every other agent's, the agent's own entries
winning. A profile the agent inherits from main is usually recorded in main's store, but the
agent's own state can hold an entry for it too (JSON-era failures, or what `openclaw doctor
--fix` imported from an old `auth-state.json`), and that entry is what OpenClaw then acts on for
this agent. Without this view such an entry, a billing window say, would keep the agent locked
out while every listing showed the profile healthy under main, and nothing could clear it.

So the agent lists its own profiles and, from main, only those its own state has an entry for;
the rest are main's, shown and repaired there. Writes go to the agent's own state: the entry
OpenClaw reads for this agent. main's profiles are re-read only when its files changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from probed.errors import ProbedError
from probed.model import Listed, Profile
from probed.stores.base import (
    Era,
    FileSignature,
    Listing,
    Mutator,
    Snapshot,
    Store,
    file_signature,
    read_listing,
)

T = TypeVar("T")
V = TypeVar("V")


class InheritingStore:
    """`own`, with the profiles it inherits from `parent` (the main agent) where it has state."""

    def __init__(self, own: Store, parent: Store) -> None:
        self.own = own
        self.parent = parent
        self.agent = own.agent
        self.agent_dir = own.agent_dir
        self._seen: FileSignature | None = None
        self._parent_profiles: Mapping[str, Profile] = {}

    @property
    def era(self) -> Era:
        return self.own.era

    @property
    def location(self) -> Path:
        return self.own.location

    def watch_paths(self) -> tuple[Path, ...]:
        return self.own.watch_paths()

    def __repr__(self) -> str:
        return f"InheritingStore({self.own!r}, parent={self.parent.agent!r})"

    def read(self) -> Snapshot:
        snap = self.own.read()
        return Snapshot(
            agent=snap.agent,
            era=snap.era,
            profiles=self._with_inherited(snap.state, snap.profiles),
            state=snap.state,
        )

    def read_for_display(self) -> Listing:
        """`read` as a listing: neither this agent's nor main's credentials are parsed."""
        own = read_listing(self.own)
        stats = own.state.get("usageStats")
        wanted = _wanted(stats, own.profiles)
        if not wanted:
            return own
        try:
            parent = read_listing(self.parent).profiles
        except ProbedError:
            parent = {}  # main's own listing reports what is wrong with it
        extra = {pid: parent[pid] for pid in wanted if pid in parent}
        if not extra:
            return own
        profiles: dict[str, Listed] = {**own.profiles, **extra}
        return Listing(agent=own.agent, era=own.era, profiles=profiles, state=own.state)

    def update(self, mutate: Mutator[T]) -> T:
        def with_inherited(state: dict[str, Any], profiles: Mapping[str, Profile]) -> T:
            return mutate(state, self._with_inherited(state, profiles))

        return self.own.update(with_inherited)

    def _with_inherited(
        self, state: Mapping[str, Any], own: Mapping[str, Profile]
    ) -> Mapping[str, Profile]:
        wanted = _wanted(state.get("usageStats"), own)
        if not wanted:
            return own
        inherited = self._inheritable()
        extra = {pid: inherited[pid] for pid in wanted if pid in inherited}
        return {**own, **extra} if extra else own

    def _inheritable(self) -> Mapping[str, Profile]:
        seen = file_signature(self.parent.watch_paths())
        if seen != self._seen:
            try:
                self._parent_profiles = dict(self.parent.read().profiles)
            except ProbedError:
                self._parent_profiles = {}  # main's own listing reports what is wrong with it
            self._seen = seen
        return self._parent_profiles


def _wanted(stats: object, own: Mapping[str, V]) -> list[str]:
    """The profiles this agent's state has an entry for that it does not hold itself."""
    if not isinstance(stats, Mapping):
        return []
    return [pid for pid in stats if pid not in own]
