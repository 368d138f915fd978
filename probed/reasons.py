"""The failure vocabulary: probed's reason words and how they map onto OpenClaw's lanes.

probed speaks the contract's eleven words. OpenClaw persists a different, older enum and only two
lanes that matter for recovery, so every write goes through `openclaw_lane` to land somewhere
OpenClaw will honour (it silently drops any word it does not know).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Reason(StrEnum):
    BILLING = "billing"
    QUOTA = "quota"
    RATE_LIMIT = "rate_limit"
    AUTH = "auth"
    AUTH_PERMANENT = "auth_permanent"
    PERMISSION = "permission"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    MODEL_NOT_FOUND = "model_not_found"
    FORMAT = "format"
    UNKNOWN = "unknown"

    @property
    def is_credential_problem(self) -> bool:
        return self in CREDENTIAL_REASONS

    @property
    def exit_code(self) -> int:
        """sysexits: 77 when the credential itself is at fault, else 75 (unavailable for now)."""
        return EX_NOPERM if self.is_credential_problem else EX_TEMPFAIL

    @property
    def is_money(self) -> bool:
        """Money, not a model: any model the account can use may be the one to show it over."""
        return self in (Reason.BILLING, Reason.QUOTA)

    @property
    def needs_generation(self) -> bool:
        """Failures a free probe cannot disprove: a provider keeps answering its model list
        through an outage of money, a rate or daily limit, an overload, or a missing model,
        so only a generation (not billed when it is refused) shows the outage over."""
        return self in _NEEDS_GENERATION


CREDENTIAL_REASONS = frozenset({Reason.AUTH, Reason.AUTH_PERMANENT, Reason.PERMISSION})
_NEEDS_GENERATION = frozenset(
    {Reason.BILLING, Reason.QUOTA, Reason.RATE_LIMIT, Reason.OVERLOADED, Reason.MODEL_NOT_FOUND}
)

EX_OK = 0
EX_SOFTWARE = 1
EX_USAGE = 2
EX_TEMPFAIL = 75
EX_NOPERM = 77
EX_CONFIG = 78

# What OpenClaw accepts in cooldownReason, disabledReason and failureCounts keys
# (its AUTH_FAILURE_REASONS).
OPENCLAW_REASONS = frozenset(
    {
        "auth",
        "auth_permanent",
        "format",
        "overloaded",
        "rate_limit",
        "billing",
        "timeout",
        "model_not_found",
        "session_expired",
        "empty_response",
        "no_error_details",
        "unclassified",
        "unknown",
    }
)

# OpenClaw scopes a cooldown to `cooldownModel` only for these reasons (8.x/9.x set).
OPENCLAW_MODEL_SCOPED = frozenset({"rate_limit", "timeout", "model_not_found"})
# The JSON-file era scoped rate_limit alone (2026.3.28 - 5.28; 6.1 added timeout): read and
# written the conservative way, a timeout cooldown there counts for every model.
JSON_ERA_MODEL_SCOPED = frozenset({"rate_limit"})

Lane = Literal["cooldown", "disabled"]


@dataclass(frozen=True, slots=True)
class OpenClawLane:
    """Where a probed reason is written so that OpenClaw honours it."""

    lane: Lane
    word: str


_LANES: dict[Reason, OpenClawLane] = {
    Reason.BILLING: OpenClawLane("disabled", "billing"),
    Reason.AUTH_PERMANENT: OpenClawLane("disabled", "auth_permanent"),
    # OpenClaw has no "quota": a self-resetting window is a (profile-wide) rate limit to it.
    Reason.QUOTA: OpenClawLane("cooldown", "rate_limit"),
    Reason.RATE_LIMIT: OpenClawLane("cooldown", "rate_limit"),
    Reason.AUTH: OpenClawLane("cooldown", "auth"),
    # OpenClaw has no "permission": the credential is refused for this use, which it calls auth.
    Reason.PERMISSION: OpenClawLane("cooldown", "auth"),
    Reason.OVERLOADED: OpenClawLane("cooldown", "overloaded"),
    Reason.TIMEOUT: OpenClawLane("cooldown", "timeout"),
    Reason.MODEL_NOT_FOUND: OpenClawLane("cooldown", "model_not_found"),
    Reason.FORMAT: OpenClawLane("cooldown", "format"),
    Reason.UNKNOWN: OpenClawLane("cooldown", "unknown"),
}


def openclaw_lane(reason: Reason) -> OpenClawLane:
    return _LANES[reason]


def from_openclaw(word: str | None) -> Reason | None:
    """Read a reason OpenClaw recorded, in probed's words (None when nothing was recorded)."""
    if word is None:
        return None
    return _from_word(word)


@functools.lru_cache(maxsize=512)
def _from_word(word: str) -> Reason:
    """A fleet records a handful of words over thousands of windows: each is read once
    (`Reason(word)` goes through the enum's slow lookup)."""
    return _read_word(word)


def _read_word(word: str) -> Reason:
    try:
        return Reason(word)
    except ValueError:
        pass
    return {
        "session_expired": Reason.AUTH,
        "subscription_limit": Reason.QUOTA,
        "server_error": Reason.TIMEOUT,
        "empty_response": Reason.UNKNOWN,
        "no_error_details": Reason.UNKNOWN,
        "unclassified": Reason.UNKNOWN,
    }.get(word, Reason.UNKNOWN)


def refine(recorded: Reason | None, own_verdict: str | None) -> Reason | None:
    """OpenClaw's recorded reason, sharpened by probed's own last verdict (ledger word).

    OpenClaw has no word for quota and writes one as `rate_limit`: when probed's verdict is a
    reason OpenClaw writes under exactly the recorded word, the verdict is the truer of the two
    (a quota, not a rate limit). Anything else leaves OpenClaw's word as it is."""
    if recorded is None or own_verdict in (None, "ok"):
        return recorded
    mine = from_openclaw(own_verdict)
    if mine is not None and mine != recorded and openclaw_lane(mine).word == str(recorded):
        return mine
    return recorded
