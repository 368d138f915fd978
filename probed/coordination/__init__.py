"""Fleet coordination: who probes a provider now, what they found, what the budget allows.

`make_coordinator` builds the backend `[coordination] backend` names. The redis backend is
imported only when configured: redis-py is the optional extra `openclaw-probed[redis]`, and
`probed.config` already refused a redis backend without it (exit 78 naming the extra).
"""

from __future__ import annotations

from collections.abc import Mapping

from probed.config import Config
from probed.coordination.base import CoordinationUnavailable, Coordinator, Flight, FlightLost
from probed.coordination.batch import Batcher, Coalesced, Gathered
from probed.coordination.local import LocalCoordinator, LocalFlight, SingleFlight
from probed.ledger import Ledger


def make_coordinator(
    config: Config, ledger: Ledger, *, env: Mapping[str, str] | None = None
) -> Coordinator:
    local = LocalCoordinator(config.daemon.lock_dir, ledger)
    c = config.coordination
    if c.backend == "local":
        return local
    from probed.coordination.redisbackend import RedisCoordinator  # noqa: PLC0415 - optional

    return RedisCoordinator(c.redis_url, c.namespace, local, env=env)


__all__ = [
    "Batcher",
    "Coalesced",
    "CoordinationUnavailable",
    "Coordinator",
    "Flight",
    "FlightLost",
    "Gathered",
    "LocalCoordinator",
    "LocalFlight",
    "SingleFlight",
    "make_coordinator",
]
