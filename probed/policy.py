"""The backoff policy: when to probe again after a failure.

Per reason, `base` doubles per consecutive failure up to `cap` (Config.backoff; defaults in
config.DEFAULT_BACKOFF). The provider's own reset time is a floor: probing before it only spends
money and rate limit. A quota with a known reset is probed at that reset, because the window, not
our guesswork, decides; the 30 m -> 6 h quota backoff exists for windows that name no reset.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from probed.config import Backoff
from probed.failure import Failure
from probed.reasons import Reason

# 2**64 * any base is already far past every cap; stop the exponent before floats overflow.
_MAX_DOUBLINGS = 64


def backoff_window(failures_in_a_row: int, backoff: Backoff) -> float:
    """base * 2**(n-1), capped; n below 1 counts as the first failure."""
    n = max(1, failures_in_a_row)
    return float(min(backoff.cap, backoff.base * 2.0 ** min(n - 1, _MAX_DOUBLINGS)))


def next_deadline(
    failure: Failure, failures_in_a_row: int, backoff: Backoff, *, now: datetime
) -> datetime:
    """now + base * 2**(n-1) capped at cap, never before the provider's retry_at (a floor)."""
    retry_at = failure.retry_at
    if retry_at is not None and failure.reason is Reason.QUOTA and retry_at > now:
        return retry_at
    deadline = now + timedelta(seconds=backoff_window(failures_in_a_row, backoff))
    if retry_at is not None and retry_at > deadline:
        return retry_at
    return deadline


def with_jitter(
    deadline: datetime,
    window_s: float,
    *,
    jitter: float,
    jitter_max: float,
    rng: random.Random | None = None,
) -> datetime:
    """deadline + uniform(0, min(jitter * window_s, jitter_max)); never before deadline.

    Jitter only ever adds, so a provider's reset time used as the deadline stays a floor, and
    many profiles expiring together do not all probe in the same second.
    """
    spread = min(jitter * window_s, jitter_max)
    if not math.isfinite(spread) or spread <= 0:
        return deadline
    offset = (rng or random).uniform(0.0, spread)  # scheduling, not secrets
    return deadline + timedelta(seconds=max(0.0, offset))


def merge_deadline(existing: datetime | None, new: datetime) -> datetime:
    """Merging a new failure into an existing window keeps the later deadline."""
    if existing is None:
        return new
    return max(existing, new)
