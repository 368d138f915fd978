"""The probe policy as pure functions: no event loop, no files, one uniform draw per decision."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from probed.config import DEFAULT_BACKOFF, Backoff, Config, ProbeConfig
from probed.failure import Failure
from probed.policy import (
    NO_WINDOW,
    Decision,
    History,
    Window,
    after_budget,
    backoff_window,
    decide,
    draw,
    first_probe,
    next_deadline,
    own_verdict_stands,
    spread_s,
    step,
)
from probed.reasons import Reason

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)
CFG = Config()
S = timedelta(seconds=1)
MIN = timedelta(minutes=1)


def _failure(reason: Reason, retry_at: datetime | None = None) -> Failure:
    return Failure(
        reason, retry_at, "header:retry-after" if retry_at else None, "profile", 429, "m", "a"
    )


def _disabled(until: datetime, last: datetime = NOW) -> Window:
    return Window("disabled", Reason.BILLING, until, last)


def _cooldown(until: datetime, reason: Reason = Reason.RATE_LIMIT, last: datetime = NOW) -> Window:
    return Window("cooldown", reason, until, last)


def _decide(
    failure: Failure | None,
    window: Window,
    *,
    evidence: bool = True,
    history: History | None = None,
    u: float = 0.0,
    now: datetime = NOW,
) -> Decision:
    """`decide` at `now` (NOW) with the default config: a fresh history, the lowest draw."""
    return decide(
        failure,
        evidence=evidence,
        window=window,
        history=history if history is not None else History(),
        now=now,
        config=CFG,
        u=u,
    )


# ---- steps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (Reason.RATE_LIMIT, [30, 60, 120, 240, 300, 300]),
        (Reason.OVERLOADED, [30, 60, 120, 240, 300, 300]),
        (Reason.TIMEOUT, [30, 60, 120, 240, 300, 300]),
        (Reason.QUOTA, [1800, 3600, 7200, 14400, 21600, 21600]),
    ],
)
def test_base_doubles_per_consecutive_failure_up_to_cap(
    reason: Reason, expected: list[int]
) -> None:
    b = CFG.backoff_for(reason)
    assert b.early == 0
    assert [step(b, n, age_s=10_000) for n in range(1, len(expected) + 1)] == expected


def test_what_needs_a_person_is_probed_every_base_early_then_by_the_outages_age() -> None:
    """Billing every 20 s for the first 10 minutes (a rejected probe is not billed), auth every
    5 s (a model list proves a key back, for free); then the interval doubles each time the
    outage doubles in age, up to 4 minutes."""
    ages = [0, 299, 599, 600, 1199, 1200, 2400, 4800, 9600, 86_400]
    for reason, want in (
        (Reason.BILLING, [20, 20, 20, 40, 40, 80, 160, 240, 240, 240]),
        (Reason.AUTH, [5, 5, 5, 10, 10, 20, 40, 80, 160, 240]),
    ):
        b = CFG.backoff_for(reason)
        assert [step(b, n, age) for n, age in enumerate(ages, start=1)] == want
    # the consecutive-failure count plays no part while `early` is set
    assert step(CFG.backoff_for(Reason.BILLING), 500, age_s=10) == 20


def test_defaults_come_from_config_and_backoff_window_is_bounded() -> None:
    assert CFG.backoff_for(Reason.RATE_LIMIT) is DEFAULT_BACKOFF[Reason.RATE_LIMIT]
    assert backoff_window(0, Backoff(10, 100)) == 10  # n < 1 counts as the first failure
    assert backoff_window(10_000, Backoff(10, 100)) == 100  # no overflow on long streaks
    assert step(Backoff(10, 100, early=60), 1, age_s=1e12) == 100


def test_cost_per_day_of_one_broken_billing_profile() -> None:
    """docs/policy.md's figure: probes in the first 24 h of an outage at the defaults."""
    b = CFG.backoff_for(Reason.BILLING)
    t, n = 0.0, 0
    while t < 86_400:
        t += step(b, n + 1, t)
        n += 1
    assert 405 <= n <= 425


# ---- after a probe -------------------------------------------------------------------------


def test_a_success_ends_everything() -> None:
    d = _decide(None, _disabled(NOW + MIN), history=History(3), u=0.5)
    assert (d.outcome, d.next_probe_at, d.write_until, d.streak) == ("recovered", None, None, 0)


@pytest.mark.parametrize("u", [0.0, 0.5, 1.0])
def test_a_stated_reset_is_the_window_end_and_the_probe_follows_it(u: float) -> None:
    reset = NOW + timedelta(seconds=150)
    d = _decide(_failure(Reason.RATE_LIMIT, reset), _cooldown(NOW + 30 * S), u=u)
    assert d.write_until == reset  # the gateway goes back at the provider's own instant
    assert d.next_probe_at == reset  # and the probe with it: no jitter on a stated reset


def test_a_quota_reset_hours_away_is_believed_whatever_the_backoff() -> None:
    reset = NOW + timedelta(hours=3, minutes=12)
    d = _decide(_failure(Reason.QUOTA, reset), NO_WINDOW)
    assert d.write_until == reset == d.next_probe_at
    # a short stated reset is believed too: no 30 m quota step on top of it
    soon = NOW + 5 * S
    d = _decide(_failure(Reason.QUOTA, soon), NO_WINDOW)
    assert d.next_probe_at == soon


def test_a_failed_billing_probe_inside_openclaws_long_window_writes_nothing() -> None:
    """OpenClaw's 10-minute (9.6) or 5-hour (5.28) window outlasts the next look + lead: the
    store is left alone (no write, no reload), the next probe comes one early step later."""
    window = _disabled(NOW + 10 * MIN)
    d = _decide(_failure(Reason.BILLING), window)
    assert d.outcome == "failed" and d.write_until is None
    assert d.next_probe_at == NOW + 20 * S
    assert d.until == window.until
    assert (d.streak, d.failing_since) == (1, NOW)


def test_a_window_that_would_lapse_before_the_next_look_is_extended() -> None:
    """The next look comes after OpenClaw's window ends: the window is extended past the next
    look + lead, so no user request reaches the still-broken provider in between; and by the
    hold (the reason's cap, 4 min for billing), so the next looks write nothing."""
    window = _disabled(NOW + 10 * S)
    d = _decide(_failure(Reason.BILLING), window)
    assert d.next_probe_at == NOW + 20 * S
    assert d.write_until == NOW + 4 * MIN == d.until
    assert d.next_probe_at + timedelta(seconds=CFG.probe.lead) < d.write_until


def test_a_long_outage_writes_once_per_hold_not_once_per_probe() -> None:
    """Each write is a gateway reload, and a 2026.9.6 gateway passes no request on while one
    runs: ten minutes of a refused key probed every 5 s cost three writes, not 120."""
    window, history, now, writes, probes = _cooldown(NOW + 1 * S, Reason.AUTH), History(), NOW, 0, 0
    while now < NOW + 10 * MIN:
        d = _decide(_failure(Reason.AUTH), window, history=history, now=now)
        probes += 1
        writes += d.write_until is not None
        assert d.until is not None and d.next_probe_at is not None
        assert d.until >= d.next_probe_at + timedelta(seconds=CFG.probe.lead)  # never lapses
        window = _cooldown(d.until, Reason.AUTH)
        history = History(d.streak, d.failing_since, now, "auth", d.next_probe_at)
        now = d.next_probe_at
    assert probes >= 100 and writes == 3


def test_hours_into_an_outage_the_interval_is_the_cap() -> None:
    since = NOW - timedelta(hours=3)
    d = _decide(
        _failure(Reason.BILLING),
        _disabled(NOW + 1 * S),
        history=History(streak=60, failing_since=since),
    )
    assert d.next_probe_at == NOW + 4 * MIN
    assert d.failing_since == since and d.streak == 61


def test_fresh_evidence_of_another_reason_is_written_even_inside_a_longer_window() -> None:
    d = _decide(_failure(Reason.AUTH), _disabled(NOW + timedelta(hours=5)))
    assert d.write_until == NOW + 4 * MIN == d.until  # auth's own lane, held for its cap


def test_no_evidence_writes_nothing_and_looks_again_before_the_window_lapses() -> None:
    """A transport error says nothing about the credential: no write; the next look is moved
    before the window's end - lead rather than after the lapse."""
    window = _cooldown(NOW + 40 * S, Reason.UNKNOWN)
    d = _decide(_failure(Reason.TIMEOUT), window, evidence=False)
    assert d.outcome == "held" and d.write_until is None
    assert d.next_probe_at == NOW + 20 * S  # 40 s - lead 20 s, before the 30 s step


def test_jitter_is_drawn_once_and_bounded() -> None:
    rng = random.Random(7)
    u = draw(rng)
    assert 0 <= u < 1
    w = _disabled(NOW + timedelta(hours=5))
    a = _decide(_failure(Reason.BILLING), w, u=u)
    b = _decide(_failure(Reason.BILLING), w, u=u)
    assert a == b  # the same draw, the same decision: pure
    assert a.next_probe_at is not None
    assert NOW + 20 * S <= a.next_probe_at <= NOW + 22 * S  # 10 % of 20 s
    big = Config(probe=ProbeConfig(jitter=1.0, jitter_max=30))
    assert spread_s(big, 3600, 1.0) == 30  # jitter_max bounds it
    assert spread_s(big, 3600, 0.0) == 0
    assert spread_s(Config(probe=ProbeConfig(jitter=0.0)), 3600, 1.0) == 0


def test_times_are_whole_milliseconds_never_before_a_floor() -> None:
    reset = NOW + timedelta(seconds=10, microseconds=1500)
    d = _decide(_failure(Reason.RATE_LIMIT, reset), NO_WINDOW)
    assert d.write_until is not None and d.write_until >= reset
    assert d.write_until.microsecond % 1000 == 0


# ---- windows OpenClaw recorded -------------------------------------------------------------


def test_a_cooldown_is_probed_lead_before_it_ends() -> None:
    at = first_probe(_cooldown(NOW + 5 * MIN), History(), now=NOW, config=CFG, u=0.0)
    assert at == NOW + 5 * MIN - 20 * S
    # jitter only moves it earlier
    late = first_probe(_cooldown(NOW + 5 * MIN), History(), now=NOW, config=CFG, u=1.0)
    assert NOW + 4 * MIN + 10 * S <= late <= at


def test_a_billing_window_is_probed_one_early_step_after_the_failure() -> None:
    for until in (NOW + 10 * MIN, NOW + timedelta(hours=5)):  # 9.6 and 5.28 windows
        assert first_probe(_disabled(until), History(), now=NOW, config=CFG, u=0.0) == NOW + 20 * S


def test_hours_in_the_first_probe_of_a_new_window_is_one_cap_after_the_failure() -> None:
    since = NOW - timedelta(hours=6)
    got = first_probe(
        _disabled(NOW + timedelta(hours=2)),
        History(failing_since=since),
        now=NOW,
        config=CFG,
        u=0.0,
    )
    assert got == NOW + 4 * MIN


def test_a_window_already_over_is_probed_now() -> None:
    past = _cooldown(NOW - MIN, last=NOW - 2 * MIN)
    assert first_probe(past, History(), now=NOW, config=CFG, u=0.5) == NOW


def test_a_pending_limit_verdict_is_a_floor_a_pending_billing_verdict_a_ceiling() -> None:
    """OpenClaw re-opening 30-second windows on a quota probed already saw does not bring the
    probe forward; a billing look already due sooner than the new window's is kept."""
    later = NOW + timedelta(hours=1)
    quota = History(1, NOW, NOW - S, "quota", later)
    assert first_probe(_cooldown(NOW + 30 * S), quota, now=NOW, config=CFG, u=0.0) == later
    soon = NOW + 5 * S
    billing = History(1, NOW, NOW - S, "billing", soon)
    assert first_probe(_disabled(NOW + 10 * MIN), billing, now=NOW, config=CFG, u=0.0) == soon


def test_own_verdict_stands_until_openclaw_records_a_newer_failure() -> None:
    h = History(1, NOW, NOW, "billing", NOW + 30 * S)
    assert own_verdict_stands(_disabled(NOW + MIN, last=NOW), h)
    assert not own_verdict_stands(_disabled(NOW + MIN, last=NOW + S), h)
    assert not own_verdict_stands(_disabled(NOW + MIN), History())
    assert not own_verdict_stands(_disabled(NOW + MIN), History(0, None, NOW, "ok", None))


def test_a_spent_budget_waits_for_midnight_or_the_window() -> None:
    midnight = datetime(2026, 10, 8, tzinfo=UTC)
    assert after_budget(NOW, None) == midnight
    assert after_budget(NOW, midnight + timedelta(hours=2)) == midnight + timedelta(hours=2)


def test_next_deadline_believes_a_stated_reset() -> None:
    b = DEFAULT_BACKOFF[Reason.RATE_LIMIT]
    later = NOW + timedelta(hours=3)
    assert next_deadline(_failure(Reason.RATE_LIMIT, later), 1, b, now=NOW) == later
    assert next_deadline(_failure(Reason.RATE_LIMIT), 2, b, now=NOW) == NOW + MIN
