"""Each profile's parsed `Usage`, reused while its `usageStats` entry is unchanged.

The daemon passes over a store after every probe and every change of its files, and a pass
parses the usage of each profile with a window: all 1,000 of a store whose profiles are all in
cooldown, two or three times per probe. An entry changes only when OpenClaw or probed writes
that profile, so most of that parsing gave the same `Usage` again. A `Usage` is immutable, so
the one parsed from an equal entry is the same value.

"Equal" is JSON's, not Python's: `1`, `1.0` and `true` compare equal in Python, but the parser
reads them differently (`true` is no count and no time), so an entry is reused only when it is
the same JSON: the same object (an unchanged state cell is not decoded again), else the same
`repr`, which tells `1`, `1.0` and `True` apart and is computed in C (walking both entries in
Python was a fifth of a pass over a store of 1,000 windows). The same text parses the same; an
entry whose keys were merely reordered is parsed again, which costs a parse, never a wrong
answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from probed.model import Usage
from probed.stores.base import Snapshot


class UsageMemo:
    """`snap.usage(profile)`, parsed once per distinct entry of each (agent, profile)."""

    def __init__(self) -> None:
        # (agent, profile) -> (the raw entry, its repr, the era's scoped reasons, its Usage)
        self._memo: dict[tuple[str, str], tuple[object, str, frozenset[str], Usage]] = {}

    def usage(self, snap: Snapshot, profile_id: str) -> Usage:
        stats = snap.state.get("usageStats")
        raw = stats.get(profile_id) if isinstance(stats, Mapping) else None
        scoped = snap.era.model_scoped_reasons
        key = (snap.agent, profile_id)
        hit = self._memo.get(key)
        if hit is not None and hit[2] == scoped:
            if hit[0] is raw:
                return hit[3]
            text = repr(raw)
            if text == hit[1]:
                self._memo[key] = (raw, text, scoped, hit[3])
                return hit[3]
        else:
            text = repr(raw)
        usage = snap.usage(profile_id)
        self._memo[key] = (raw, text, scoped, usage)
        return usage

    def keep_agents(self, agents: set[str]) -> None:
        """Forget the agents that are gone (a rediscovery)."""
        self._memo = {k: v for k, v in self._memo.items() if k[0] in agents}
