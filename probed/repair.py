"""One function per intent, each a single locked read-modify-write of the freshest state.

The store takes OpenClaw's lock for its era (the JSON sidecar lock, or a SQLite immediate
transaction), re-reads, and hands the state to a pure transition from `probed.transitions`;
nothing is written when the transition changes nothing. The callers decide *whether* to call:
`[repair] clamp_stale = false` is honoured by the daemon (and any other caller), not here, so
this module stays a plain "do it" library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from probed.clock import iso_ms
from probed.errors import NotFound
from probed.logs import get_logger
from probed.model import BYPASS_PROVIDERS, Profile
from probed.reasons import Reason, openclaw_lane
from probed.stores.base import Store
from probed.transitions import clamp_billing, mark_clear, mark_failure_window, mark_success

log = get_logger()


@dataclass(frozen=True, slots=True)
class Clamped:
    agent: str
    profile: str
    old_until_ms: int
    new_until_ms: int


def _profile(store: Store, profiles: Mapping[str, Profile], profile_id: str) -> Profile:
    profile = profiles.get(profile_id)
    if profile is None:
        raise NotFound(f"profile {profile_id}: not found in agent {store.agent} ({store.location})")
    return profile


def _replace(state: dict[str, Any], new: Mapping[str, Any]) -> bool:
    if new == state:
        return False
    state.clear()
    state.update(new)
    return True


def record_success(store: Store, profile_id: str, *, now_ms: int) -> bool:
    """Apply OpenClaw's markAuthProfileSuccess field set, as OpenClaw writes it in this store's
    era (`Era.success_fields`). True if the store changed."""

    def mutate(state: dict[str, Any], profiles: Mapping[str, Profile]) -> bool:
        profile = _profile(store, profiles, profile_id)
        return _replace(
            state,
            mark_success(
                state,
                profile_id,
                provider=profile.provider,
                now_ms=now_ms,
                fields=store.era.success_fields,
            ),
        )

    return store.update(mutate)


def clear(store: Store, profile_id: str, *, now_ms: int) -> bool:
    """Operator override (`probed clear`): clear the failure state as a success would.

    The field set is markAuthProfileSuccess's as OpenClaw writes it in this store (what the
    contract asks: "as a success would"): in JSON files and agent databases the profile also
    becomes lastGood and lastUsed moves to now; `now_ms` stamps that (and lastProbeAt on 9.x).
    """
    return record_success(store, profile_id, now_ms=now_ms)


def clear_cooldown(store: Store, profile_id: str) -> bool:
    """clearAuthProfileCooldown exactly: the failure fields only, lastUsed and lastGood kept."""

    def mutate(state: dict[str, Any], profiles: Mapping[str, Profile]) -> bool:
        _profile(store, profiles, profile_id)
        return _replace(state, mark_clear(state, profile_id))

    return store.update(mutate)


def record_failure(
    store: Store,
    profile_id: str,
    *,
    reason: Reason,
    until_ms: int,
    model: str | None,
    now_ms: int,
) -> bool:
    """Set/extend the lane OpenClaw honours for `reason` up to `until_ms` (the later deadline
    wins within the same lane; fresh evidence of a different reason replaces the old lanes).
    Providers OpenClaw never cools down (openrouter, kilocode) are left alone, as it does."""
    lane = openclaw_lane(reason)

    def mutate(state: dict[str, Any], profiles: Mapping[str, Profile]) -> bool:
        profile = _profile(store, profiles, profile_id)
        if profile.provider in BYPASS_PROVIDERS:
            return False
        return _replace(
            state,
            mark_failure_window(
                state,
                profile_id,
                lane=lane,
                until_ms=until_ms,
                model=model,
                now_ms=now_ms,
                scoped_reasons=store.era.model_scoped_reasons,
                keep_rate_limit_count=store.era.is_sqlite,
            ),
        )

    return store.update(mutate)


def needs_clamp(state: Mapping[str, Any], *, cap_s: float) -> bool:
    """Whether `clamp_stale` would change this state (a store read the caller already has)."""
    _, changes = clamp_billing(state, cap_ms=int(cap_s * 1000))
    return bool(changes)


def clamp_stale(store: Store, *, cap_s: float, now_ms: int) -> list[Clamped]:
    """Clamp billing disabledUntil to lastFailureAt + cap (idempotent); logs stale_clamped.

    A read comes first, so the common case (nothing to clamp) never takes the write lock.
    `now_ms` is unused by the rule itself (it is anchored to lastFailureAt, not to now) and
    kept for the agreed signature.
    """
    del now_ms
    cap_ms = int(cap_s * 1000)
    if not needs_clamp(store.read().state, cap_s=cap_s):
        return []
    found: list[Clamped] = []

    def mutate(state: dict[str, Any], _profiles: Mapping[str, Profile]) -> None:
        new, changes = clamp_billing(state, cap_ms=cap_ms)
        _replace(state, new)
        found[:] = [
            Clamped(store.agent, c.profile, c.old_until_ms, c.new_until_ms) for c in changes
        ]

    store.update(mutate)
    for c in found:
        log.info(
            "stale_clamped",
            agent=c.agent,
            profile=c.profile,
            reason="billing",
            old_until=iso_ms(c.old_until_ms),
            new_until=iso_ms(c.new_until_ms),
        )
    return found
