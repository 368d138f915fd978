"""Each profile's parsed `Usage`, reused while its `usageStats` entry is unchanged.

The daemon passes over a store after every probe and every change of its files, and a pass
parses the usage of each profile with a window: all 1,000 of a store whose profiles are all in
cooldown, two or three times per probe. An entry changes only when OpenClaw or probed writes
that profile, so most of that parsing gave the same `Usage` again. A `Usage` is immutable, so
the one parsed from an equal entry is the same value.

"Equal" is JSON's, not Python's: `1`, `1.0` and `true` compare equal in Python, but the parser
reads them differently (`true` is no count and no time), so an entry is reused only when it is
equal with every value of the same type (`same_json`).
"""

from __future__ import annotations

from collections.abc import Mapping

from probed.model import Usage
from probed.stores.base import Snapshot


def same_json(a: object, b: object) -> bool:
    """Equal, and of the same types throughout (a parsed JSON value: dicts, lists, scalars)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class UsageMemo:
    """`snap.usage(profile)`, parsed once per distinct entry of each (agent, profile)."""

    def __init__(self) -> None:
        # (agent, profile) -> (the raw entry, the era's scoped reasons, its Usage)
        self._memo: dict[tuple[str, str], tuple[object, frozenset[str], Usage]] = {}

    def usage(self, snap: Snapshot, profile_id: str) -> Usage:
        stats = snap.state.get("usageStats")
        raw = stats.get(profile_id) if isinstance(stats, Mapping) else None
        scoped = snap.era.model_scoped_reasons
        key = (snap.agent, profile_id)
        hit = self._memo.get(key)
        if hit is not None and hit[1] == scoped and same_json(hit[0], raw):
            return hit[2]
        usage = snap.usage(profile_id)
        self._memo[key] = (raw, scoped, usage)
        return usage

    def keep_agents(self, agents: set[str]) -> None:
        """Forget the agents that are gone (a rediscovery)."""
        self._memo = {k: v for k, v in self._memo.items() if k[0] in agents}
