"""The shapes every provider module fills in: its spec, its classifier rules, its free checks.

A provider is one module under `probed/providers/` that defines `SPEC`. Everything probed knows
about that provider lives there: its ids and aliases, which API family it speaks, where its
endpoint is by default, which free endpoints prove something at no cost (and how to read them),
the classifier rules that read its error bodies before the generic rules do, where it writes reset
times that the generic readers do not know, and how to name it to a person. Nothing here performs
I/O: readers and rules are pure functions over a response already received.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from probed import resets
from probed.config import Api
from probed.failure import Scope
from probed.reasons import Reason
from probed.resets import Signal

__all__ = [
    "Finding",
    "FreeCheck",
    "ProviderSpec",
    "Reading",
    "ResetReader",
    "Rule",
    "Verdict",
    "epoch_at",
    "has",
    "is_plan_window",
    "number",
    "seconds_at",
    "text_at",
    "verdict",
    "window_used_up",
    "windows_have_room",
]


@dataclass(frozen=True, slots=True)
class Reading:
    """One provider error response, read once: its structured fields and its prose."""

    provider: str
    status: int | None
    headers: Mapping[str, str]  # lower-case names
    doc: Any  # the parsed JSON body, or None
    etype: str  # error.type, lower-case
    ecode: str  # error.code, lower-case
    detail_code: str  # Anthropic error.details.error_code
    gstatus: str  # Google canonical status (RESOURCE_EXHAUSTED ...), upper-case
    reasons: tuple[str, ...]  # Google ErrorInfo reasons, upper-case
    quota_ids: tuple[str, ...]  # Google QuotaFailure quotaIds
    limit_source: str  # OpenRouter error.metadata.limit_source
    message: str  # the provider's own words, unredacted (never printed as is)
    text: str  # lower-cased material for pattern matching


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule decided: the reason and scope, and how the reset time is to be found."""

    reason: Reason
    scope: Scope
    rule: str | None = None  # a calendar rule that always applies (a floor among the signals)
    fallback_rule: str | None = None  # a calendar rule used only when nothing else was said
    drop: tuple[str, ...] = ()  # signal sources that do not apply to this kind of failure
    message: str | None = None
    action: str | None = None
    upstream: bool = field(default=False)


def verdict(reason: Reason, scope: Scope, **kw: Any) -> Verdict:
    return Verdict(reason, scope, **kw)


def has(text: str, *needles: str) -> bool:
    return any(n in text for n in needles)


Rule = Callable[[Reading], Verdict | None]
# Reset signals a provider writes where the generic readers do not look:
# (headers, parsed body, message, now) -> signals.
ResetReader = Callable[[Mapping[str, str], Any, str, datetime], list[Signal]]


@dataclass(frozen=True, slots=True)
class Finding:
    """What a free endpoint showed: a failure that still holds, with its reset when known.

    `clears` names the reasons this reading proves are over (a plan window with room again), so
    a caller may skip the paid rung for them; a reading that proves nothing either way is None.
    """

    reason: Reason | None
    message: str
    action: str
    scope: Scope = "profile"
    retry_at: datetime | None = None
    retry_source: str | None = None
    clears: frozenset[Reason] = frozenset()


class Unshaped(ValueError):
    """A free endpoint answered JSON that is not in the shape it documents: the answer of a proxy
    or a broken server, not a verdict on the credential (the next rung decides)."""


AccountReader = Callable[[Any, datetime], Finding | None]


@dataclass(frozen=True, slots=True)
class FreeCheck:
    """A request that costs nothing. `path` starting with "/" is taken from the URL's origin;
    otherwise it is appended to the base URL. `read` turns its JSON into a Finding; a check
    without a reader (a model list) proves only that the credential is accepted.

    `oauth_only`: the endpoint exists for subscription tokens only (an API key is not asked).
    `advisory`: an error answer says nothing about the credential (an undocumented usage endpoint
    that may want a scope or header the profile lacks), so only a 200 counts."""

    kind: str
    path: str
    read: AccountReader | None = field(default=None, compare=False)
    oauth_only: bool = False
    advisory: bool = False


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything probed knows about one provider, in one place."""

    id: str  # OpenClaw's provider id, lower-case
    display_name: str
    api: Api
    base_url: str | None  # as the official SDK takes it; None = must come from configuration
    model: str | None  # the model a paid probe uses when the cooldown names none
    aliases: tuple[str, ...] = ()
    free_checks: tuple[FreeCheck, ...] = ()
    models_check: bool = True  # also list models (False where the list is huge or upstream-bound)
    rules: Rule | None = field(default=None, compare=False)
    reset_readers: tuple[ResetReader, ...] = field(default=(), compare=False)
    # The zone a provider writes naive times in ("will reset at 2026-09-09 05:38:28").
    local_tz: timezone = UTC
    actions: Mapping[Reason, str] = field(default_factory=dict, compare=False)


def number(value: object) -> float | None:
    """A finite number from JSON that may spell numbers as strings ("100")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def china_standard_time() -> timezone:
    """UTC+8, no daylight saving: the zone Chinese providers write their reset times in."""
    return timezone(timedelta(hours=8), "CST")


# A plan or usage window (5-hour, weekly, monthly, billing cycle ...) rather than a short rate
# limit: a limit word together with a period or a stated reset. Shared by the generic rules and
# by provider rules that must step aside for it.
_LIMIT = re.compile(
    r"usage[ _]limit|usage cap|(?<!rate )limit (reached|exceeded|exhausted)|"
    r"reached (the|your) (\w+ )?limit|quota (used|exceeded|exhausted|reached|will)|free quota|"
    r"exceeded (the|your) (\w+ )?quota|"
    r"(使用|用量)上限|限额|额度"
)
_RATE_LIMIT = re.compile(r"rate[ _-]?limit")
_PERIOD = re.compile(
    r"\b\d+\s*-?\s*(h|hr|hrs|hour|hours)\b|\bfive[- ]hour|\bhourly\b|\bdaily\b|\bper day\b|"
    r"\bweekly\b|\b\d+[- ]day\b|\bmonthly\b|billing (cycle|period)|this (period|cycle)|"
    r"\bsession\b|小时|每日|每周|每月"
)
_RESET = re.compile(
    r"will (be )?reset|will be refreshed|resets? (at|on|in|when)|reset at|重置|刷新"
)
_SHORT = re.compile(
    r"per min|per second|tokens per min|requests per min|\b[rt]pm\b|"
    r"try again in \d+(\.\d+)?\s*(ms|s|sec|secs|seconds?)\b"
)


def is_plan_window(text: str) -> bool:
    """True when lower-cased `text` describes a usage window that resets by itself."""
    text = text.replace("_", " ")
    if _SHORT.search(text):
        return False
    if _LIMIT.search(text):
        return bool(_PERIOD.search(text) or _RESET.search(text))
    if _RATE_LIMIT.search(text):
        # "You've reached your weekly rate limit": a window, however it is named.
        return bool(re.search(r"\b(weekly|monthly|daily|5-hour|five-hour)\b", text))
    return False


# The free usage readers of subscription plans (Claude, ChatGPT Codex, GLM, Kimi) each read their
# plan's windows in its own shape; once the used-up ones are told apart, the finding is the same.

WAIT_FOR_WINDOW = "wait for the usage window to reset, or switch this cron job to another provider"


def epoch_at(now: datetime, value: object) -> datetime | None:
    """A reset given in epoch seconds or milliseconds, if it is a sane instant ahead."""
    n = number(value)
    sig = resets.at_epoch(now, n, "free:usage") if n is not None else None
    return sig.at if sig else None


def seconds_at(now: datetime, value: object) -> datetime | None:
    """A reset given as seconds from now, if sane."""
    n = number(value)
    sig = resets.after(now, n, "free:usage") if n is not None else None
    return sig.at if sig else None


def text_at(now: datetime, value: object) -> datetime | None:
    """A reset given as text (RFC 3339, epoch, HTTP-date ...), if it is a sane instant ahead."""
    sig = resets.parse_instant(value, now, "free:usage") if isinstance(value, str) else None
    return sig.at if sig else None


def window_used_up(message: str, reset_times: Iterable[datetime | None], source: str) -> Finding:
    """A used-up plan window: a quota until the latest known reset of the used-up windows."""
    known = [t for t in reset_times if t is not None]
    until = max(known) if known else None
    return Finding(
        Reason.QUOTA,
        message,
        WAIT_FOR_WINDOW,
        retry_at=until,
        retry_source=source if until else None,
    )


def windows_have_room(message: str) -> Finding:
    """Every plan window has room: whatever quota was recorded is over."""
    return Finding(None, message, "", clears=frozenset({Reason.QUOTA}))
