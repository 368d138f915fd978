"""Wall-clock helpers. OpenClaw stores integer epoch milliseconds; people read ISO 8601 with Z.

A store is input: a timestamp in it may be `1e20`, negative or not a number at all. `valid_ms`
is the one rule for what counts as a time (a positive number up to the last millisecond of year
9999, what a datetime holds); `from_ms` refuses anything else with a ValueError instead of the
platform's `OSError: Value too large`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeGuard

Now = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


# 9999-12-31T23:59:59.999Z, the last instant a datetime can hold
MAX_MS = 253_402_300_799_999


def valid_ms(value: object) -> TypeGuard[int | float]:
    """A number OpenClaw could mean as an epoch-ms time: finite, positive, at most MAX_MS."""
    if type(value) is int:  # what OpenClaw writes: decided without the checks below
        return 0 < value <= MAX_MS
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and 0 < value <= MAX_MS
    except OverflowError:  # an int too large for a float
        return False


def from_ms(ms: float) -> datetime:
    if type(ms) is int and -MAX_MS <= ms <= MAX_MS:  # the usual case, without the checks below
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    if not (isinstance(ms, int | float) and math.isfinite(ms) and -MAX_MS <= ms <= MAX_MS):
        raise ValueError(f"{ms!r} is not an epoch-millisecond time probed can represent")
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: object) -> str:
    """An epoch-ms value for a message: ISO 8601 when it is a time, else the value itself."""
    if isinstance(ms, int | float) and valid_ms(ms):
        return iso(from_ms(ms)) or ""
    return repr(ms)[:40]


def iso(dt: datetime | None) -> str | None:
    """UTC, second precision unless sub-second matters, always with a trailing Z."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """ISO 8601 (with Z or an offset) to an aware UTC datetime; naive input is taken as UTC."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
