"""STUB (issue 2 owns this file): one function per intent, each a locked read-modify-write."""

from __future__ import annotations

from dataclasses import dataclass

from probed.reasons import Reason
from probed.stores.base import Store


@dataclass(frozen=True, slots=True)
class Clamped:
    agent: str
    profile: str
    old_until_ms: int
    new_until_ms: int


def record_success(store: Store, profile_id: str, *, now_ms: int) -> bool:
    """Apply OpenClaw's markAuthProfileSuccess field set. True if the store changed."""
    raise NotImplementedError


def clear(store: Store, profile_id: str, *, now_ms: int) -> bool:
    """Operator override (`probed clear`): clear the failure state as a success would."""
    raise NotImplementedError


def record_failure(store: Store, profile_id: str, *, reason: Reason, until_ms: int,
                   model: str | None, now_ms: int) -> bool:
    """Set/extend the lane OpenClaw honours for `reason` up to `until_ms` (the later deadline
    wins within the same lane; fresh evidence of a different reason replaces the old lanes)."""
    raise NotImplementedError


def clamp_stale(store: Store, *, cap_s: float, now_ms: int) -> list[Clamped]:
    """Clamp billing disabledUntil to lastFailureAt + cap (idempotent); logs stale_clamped."""
    raise NotImplementedError
