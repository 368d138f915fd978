"""STUB (issue 3 owns this file): the backoff policy."""

from __future__ import annotations

import random
from datetime import datetime

from probed.config import Backoff
from probed.failure import Failure


def next_deadline(failure: Failure, failures_in_a_row: int, backoff: Backoff, *, now: datetime) -> datetime:
    """When to probe again: now + base * 2**(n-1) capped at cap; the provider's retry_at is a floor."""
    raise NotImplementedError


def with_jitter(deadline: datetime, window_s: float, *, jitter: float, jitter_max: float,
                rng: random.Random | None = None) -> datetime:
    """deadline + uniform(0, min(jitter * window_s, jitter_max)); never before deadline."""
    raise NotImplementedError


def merge_deadline(existing: datetime | None, new: datetime) -> datetime:
    """Merging a new failure into an existing window keeps the later deadline."""
    raise NotImplementedError
