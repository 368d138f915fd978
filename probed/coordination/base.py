"""What every coordination backend offers: a provider's flight, shared results, the budget.

One `Coordinator` per process. The local backend (flock in `[daemon] lock_dir`, the host
ledger's budget) coordinates the processes of one host; the redis backend every process of
every host sharing a Redis and a namespace. Both pass the same contract tests
(tests/test_coordination_contract.py), so recover.py never knows which one it talks to.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from probed.errors import StoreBusy


class CoordinationUnavailable(StoreBusy):
    """The shared backend cannot answer: whatever needed it (a paid probe) is not done."""


class FlightLost(StoreBusy):
    """The flight expired or was taken over: the holder must not write the state."""


class Flight(Protocol):
    """A provider's flight, held by this process until the `async with` ends."""

    provider: str
    # False when the flight cannot pass to another holder (a flock lives as long as its
    # descriptor): a state write then skips `check`, and the hop back to the event loop it
    # costs inside the write (under OpenClaw's lock, while a pass may hold the loop).
    can_be_lost: bool

    async def fresh(self, key: str, *, after: float) -> Mapping[str, Any] | None:
        """The result recorded for `key` (a `result_key`) at or after `after` (epoch s)."""
        ...

    async def record(self, key: str, outcome: Mapping[str, Any]) -> None:
        """Share a result for `key`; its time is stamped here (field `at`). Never raises for an
        unreachable backend: sharing is best effort, the state write is not."""
        ...

    async def check(self) -> None:
        """The fencing check, called right before a state write: FlightLost unless this
        process still holds the flight."""
        ...


class Coordinator(Protocol):
    backend: str  # "local" | "redis"

    def flight(self, provider: str) -> AbstractAsyncContextManager[Flight]:
        """Hold `provider`'s flight: wait while a live holder keeps it (never steal it, never
        give up on a timeout), hold it until the block ends."""
        ...

    async def result_key(self, provider: str, credential: str, model: str | None) -> str:
        """The name results for this credential (and model) are shared under. Never the
        credential, nor anything it can be recovered from (see docs/fleet.md)."""
        ...

    async def spend(self, provider: str, now: datetime, limit: int) -> tuple[bool, bool]:
        """Take one paid probe from today's (UTC) budget: (allowed, warn); warn is True once
        per provider and day, the first time a probe is refused. CoordinationUnavailable when
        the budget cannot be consulted: a paid probe is then not sent (fail closed)."""
        ...

    async def aclose(self) -> None: ...
