"""The backoff policy: doubling up to a cap, the provider's reset as a floor, bounded jitter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from probed.config import DEFAULT_BACKOFF, Backoff, Config
from probed.failure import Failure
from probed.policy import backoff_window, merge_deadline, next_deadline, with_jitter
from probed.reasons import Reason

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)


def _failure(reason: Reason, retry_at: datetime | None = None) -> Failure:
    return Failure(
        reason, retry_at, "header:retry-after" if retry_at else None, "profile", 429, "m", "a"
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (Reason.RATE_LIMIT, [30, 60, 120, 240, 300, 300]),
        (Reason.OVERLOADED, [30, 60, 120, 240, 300, 300]),
        (Reason.TIMEOUT, [30, 60, 120, 240, 300, 300]),
        (Reason.BILLING, [600, 1200, 2400, 4800, 7200, 7200]),
        (Reason.QUOTA, [1800, 3600, 7200, 14400, 21600, 21600]),
        (Reason.AUTH, [600, 1200, 2400, 4800, 9600, 19200, 21600]),
    ],
)
def test_base_doubles_per_consecutive_failure_up_to_cap(
    reason: Reason, expected: list[int]
) -> None:
    b = Config().backoff_for(reason)
    got = [
        (next_deadline(_failure(reason), n, b, now=NOW) - NOW).total_seconds()
        for n in range(1, len(expected) + 1)
    ]
    assert got == expected


def test_defaults_come_from_config() -> None:
    assert Config().backoff_for(Reason.RATE_LIMIT) is DEFAULT_BACKOFF[Reason.RATE_LIMIT]
    assert backoff_window(0, Backoff(10, 100)) == 10  # n < 1 counts as the first failure
    assert backoff_window(10_000, Backoff(10, 100)) == 100  # no overflow on long streaks


def test_configured_backoff_is_used() -> None:
    b = Backoff(5, 12)
    assert [backoff_window(n, b) for n in (1, 2, 3, 4)] == [5, 10, 12, 12]


def test_provider_retry_at_is_a_floor() -> None:
    later = NOW + timedelta(hours=3)
    b = DEFAULT_BACKOFF[Reason.RATE_LIMIT]
    assert next_deadline(_failure(Reason.RATE_LIMIT, later), 1, b, now=NOW) == later
    # an earlier retry_at does not shorten the backoff
    soon = NOW + timedelta(seconds=5)
    assert next_deadline(_failure(Reason.RATE_LIMIT, soon), 1, b, now=NOW) == NOW + timedelta(
        seconds=30
    )


def test_quota_with_a_known_reset_waits_for_exactly_that_reset() -> None:
    reset = NOW + timedelta(minutes=10)
    b = DEFAULT_BACKOFF[Reason.QUOTA]
    assert next_deadline(_failure(Reason.QUOTA, reset), 3, b, now=NOW) == reset
    # without one, the 30 m -> 6 h backoff applies
    assert next_deadline(_failure(Reason.QUOTA), 1, b, now=NOW) == NOW + timedelta(minutes=30)
    # a reset already past is no floor
    past = NOW - timedelta(minutes=1)
    assert next_deadline(_failure(Reason.QUOTA, past), 1, b, now=NOW) == NOW + timedelta(minutes=30)


def test_jitter_is_bounded_and_never_before_the_deadline() -> None:
    rng = random.Random(7)
    deadline = NOW + timedelta(minutes=5)
    for window, jitter, jmax in (
        (300, 0.1, 30.0),
        (60, 0.1, 30.0),
        (7200, 0.1, 30.0),
        (100, 0.5, 1000.0),
    ):
        bound = min(jitter * window, jmax)
        offsets = [
            (
                with_jitter(deadline, window, jitter=jitter, jitter_max=jmax, rng=rng) - deadline
            ).total_seconds()
            for _ in range(500)
        ]
        assert min(offsets) >= 0
        assert max(offsets) <= bound
        assert max(offsets) > bound * 0.8  # it does spread, not a constant
    assert with_jitter(deadline, 300, jitter=0.0, jitter_max=30, rng=rng) == deadline
    assert with_jitter(deadline, -5, jitter=0.1, jitter_max=30, rng=rng) == deadline
    assert with_jitter(deadline, float("nan"), jitter=0.1, jitter_max=30, rng=rng) == deadline


def test_jitter_on_a_provider_floor_stays_after_the_floor() -> None:
    floor = NOW + timedelta(hours=2)
    b = DEFAULT_BACKOFF[Reason.RATE_LIMIT]
    deadline = next_deadline(_failure(Reason.RATE_LIMIT, floor), 1, b, now=NOW)
    for seed in range(50):
        got = with_jitter(
            deadline,
            (deadline - NOW).total_seconds(),
            jitter=0.1,
            jitter_max=30,
            rng=random.Random(seed),
        )
        assert floor <= got <= floor + timedelta(seconds=30)


def test_merge_keeps_the_later_deadline() -> None:
    a = NOW + timedelta(minutes=1)
    b = NOW + timedelta(hours=1)
    assert merge_deadline(None, a) == a
    assert merge_deadline(a, b) == b
    assert merge_deadline(b, a) == b
