"""STUB (issue 2 owns this file): find every agent store and its era."""

from __future__ import annotations

from probed.config import OpenClawConfig
from probed.stores.base import Store


def discover(config: OpenClawConfig) -> list[Store]:
    """Every agent under <state>/agents/<id>/agent (filtered by config.agents), plus the shared
    main-agent store, each with its era detected from disk. Raises StoreError naming the state
    dir when it does not exist; an unreadable or unknown agent store is still returned (its
    read() raises) so status can report it."""
    raise NotImplementedError
