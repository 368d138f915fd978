"""The probe policy: after a probe, what to write into OpenClaw's state and when to probe next;
for a window OpenClaw recorded by itself, when to probe it first.

Pure functions of a snapshot (OpenClaw's window, probed's own history of the key, the clock, the
configuration and one uniform draw), so the daemon, `probed probe` and the tests all get the same
answer, and no event loop is needed to check it. This module is the only owner of the next-probe
time and of jitter: the caller draws `u` once per decision (`draw`), and the daemon arms exactly
the time decided here (docs/policy.md has the reasons and the cost).

The rules:

- **Stated reset.** A provider that names its reset (Retry-After, reset headers, a quota reset
  time) is believed: the window written into OpenClaw ends at that instant (when OpenClaw's own
  window of the same reason ends later, it cannot be shortened, so the probe at the reset clears
  it), and the next probe goes out exactly then, with no jitter. Nothing is probed before it.
- **Probe early while a person must act** (`[backoff.<reason>] early`, set for billing and
  auth): for the first `early` of an outage the probe interval stays at `base`; a probe the
  provider rejects is not billed, so a top-up or a re-enabled key is seen within one `base`.
  After that the interval doubles each time the outage doubles in age, up to `cap`.
- **Otherwise** `base` doubles per consecutive failure up to `cap` (0.1's rule).
- **Never let a window lapse onto a broken provider.** OpenClaw sends user traffic again the
  moment its window ends. So the first probe of a window OpenClaw recorded goes out `[probe]
  lead` before that end at the latest, and a failed probe whose next look would come after the
  window's end extends the window past the next look + `lead`, as far as the reason's `cap`
  (10 min at most: one store write and one gateway reload per hold, not per probe): while
  probed runs, user requests reach the provider only once a probe proved it back (or its
  stated reset came).
- **Jitter** spreads many profiles that failed together: `u * min(jitter * step, jitter_max)`,
  added after a step, taken off a pre-window-end probe (never after `window end - lead`); none
  on a stated reset.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from probed.config import Backoff, Config
from probed.failure import Failure
from probed.reasons import Reason, openclaw_lane

# 2**64 * any base is already far past every cap; stop the exponent before floats overflow.
_MAX_DOUBLINGS = 64
_HOLD_MAX_S = 600.0  # a window probed extends reaches this far ahead at most (or `cap`)

Outcome = Literal["recovered", "failed", "held"]


@dataclass(frozen=True, slots=True)
class Window:
    """OpenClaw's recorded window for one key: active, or expired but not yet cleared."""

    state: str  # cooldown | disabled | blocked (ok: nothing recorded)
    reason: Reason | None
    until: datetime | None
    last_failure_at: datetime | None = None


NO_WINDOW = Window("ok", None, None, None)


@dataclass(frozen=True, slots=True)
class History:
    """probed's own record of the key (the ledger row)."""

    streak: int = 0  # consecutive failed probes before this one
    failing_since: datetime | None = None  # the first failed probe of this outage
    last_probe_at: datetime | None = None
    last_result: str | None = None  # "ok" or a reason word
    next_probe_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What one probe's verdict leads to: at most one store write and one ledger write."""

    outcome: Outcome
    next_probe_at: datetime | None  # None: nothing more to probe (recovered)
    write_until: datetime | None  # the window to write into OpenClaw; None: no store write
    streak: int  # consecutive failures including this probe
    failing_since: datetime | None
    until: datetime | None  # the window in force once the write (if any) is applied


def draw(rng: random.Random | None = None) -> float:
    """The one uniform draw a decision's jitter comes from (scheduling, not secrets)."""
    return (rng or random).random()


def backoff_window(failures_in_a_row: int, backoff: Backoff) -> float:
    """base * 2**(n-1), capped; n below 1 counts as the first failure."""
    n = max(1, failures_in_a_row)
    return float(min(backoff.cap, backoff.base * 2.0 ** min(n - 1, _MAX_DOUBLINGS)))


def next_deadline(
    failure: Failure, failures_in_a_row: int, backoff: Backoff, *, now: datetime
) -> datetime:
    """The next look after a failure, before jitter: the provider's stated reset when it named
    one, else now + backoff_window (no `early`, no age: see `decide` for the full rule)."""
    if failure.retry_at is not None and failure.retry_at > now:
        return failure.retry_at
    return now + timedelta(seconds=backoff_window(failures_in_a_row, backoff))


def step(backoff: Backoff, failures_in_a_row: int, age_s: float) -> float:
    """Seconds to the next probe after the n-th failure in a row of an outage `age_s` old.

    With `early`: `base` while the outage is younger than `early`, then `base` doubled once per
    doubling of the outage's age past `early` (10 m early: 2 x base from 10 m, 4 x from 20 m,
    8 x from 40 m ...), capped. Without: `backoff_window`."""
    if backoff.early <= 0:
        return backoff_window(failures_in_a_row, backoff)
    if age_s < backoff.early:
        return float(min(backoff.base, backoff.cap))
    doublings = 1 + math.floor(math.log2(max(1.0, age_s / backoff.early)))
    return float(min(backoff.cap, backoff.base * 2.0 ** min(doublings, _MAX_DOUBLINGS)))


def _hold_s(backoff: Backoff) -> float:
    """How far ahead a window probed extends reaches: the next look + `lead` at the least, and
    the reason's `cap` (at most 10 minutes), so that a long outage costs one store write and one
    gateway reload per hold, not one per probe. A 2026.9.6 gateway passes no request on while a
    reload runs, so a reload every 20 s would stall every other provider's traffic too."""
    return float(min(backoff.cap, _HOLD_MAX_S))


def spread_s(config: Config, window_s: float, u: float) -> float:
    """The jitter for one decision: u * min(jitter * window, jitter_max), never negative."""
    p = config.probe
    width = min(p.jitter * max(0.0, window_s), p.jitter_max)
    if not math.isfinite(width) or width <= 0:
        return 0.0
    return max(0.0, min(1.0, u)) * width


def decide(
    failure: Failure | None,
    *,
    evidence: bool,
    window: Window,
    history: History,
    now: datetime,
    config: Config,
    u: float,
) -> Decision:
    """The decision after one probe. `failure` None = the probe proved the profile works.

    `evidence`: the failure is the provider's own answer about the credential (worth writing
    into OpenClaw's state); False for what says nothing about it (a transport error, a secret
    probed cannot resolve), which only schedules the next look, before the window lapses."""
    if failure is None:
        return Decision("recovered", None, None, 0, None, None)
    streak = history.streak + 1
    since = history.failing_since or now
    age = max(0.0, (now - since).total_seconds())
    reset = failure.retry_at if failure.retry_at is not None and failure.retry_at > now else None
    backoff = config.backoff_for(failure.reason)
    if reset is not None:
        # The provider named its reset: the window ends there and the probe goes out at it, with
        # no jitter (the per-provider single flight already keeps one account's profiles apart).
        nxt = wanted = reset
    else:
        s = step(backoff, streak, age)
        nxt = now + timedelta(seconds=s + spread_s(config, s, u))
        wanted = nxt + timedelta(seconds=config.probe.lead)
    current = window.until if window.state != "ok" else None
    same_lane = window.reason is not None and (
        openclaw_lane(window.reason).word == openclaw_lane(failure.reason).word
    )
    write = evidence and (current is None or current < wanted or not same_lane)
    written = (
        wanted if reset is not None else max(wanted, now + timedelta(seconds=_hold_s(backoff)))
    )
    if write:
        until: datetime | None = max(written, current) if same_lane and current else written
    else:
        until = current
        latest = current - timedelta(seconds=config.probe.lead) if current else None
        if reset is None and latest is not None and now < latest < nxt:
            nxt = latest  # nothing written: look again before the window lapses
    return Decision(
        "failed" if evidence else "held",
        _ms_ceil(nxt),
        _ms_ceil(written) if write else None,
        streak,
        since,
        _ms_ceil(until) if until is not None else None,
    )


def first_probe(
    window: Window,
    history: History,
    *,
    now: datetime,
    config: Config,
    u: float,
) -> datetime:
    """When to probe a key whose window OpenClaw recorded (or changed) since probed's last
    verdict: `lead` before the window ends at the latest, and, for reasons probed probes early
    (`early`), one `base` after the failure. Never in the past.

    A still-pending time of probed's own last verdict is kept when it is earlier; when that
    verdict was a limit that passes by itself (rate_limit, quota, overloaded) it is a floor
    instead: OpenClaw re-opening short windows on the same limit does not bring it forward."""
    end = window.until or now
    at = end - timedelta(seconds=config.probe.lead)
    backoff = config.backoff_for(window.reason or Reason.UNKNOWN)
    if backoff.early > 0 and window.last_failure_at is not None:
        since = history.failing_since or window.last_failure_at
        age = max(0.0, (window.last_failure_at - since).total_seconds())
        at = min(at, window.last_failure_at + timedelta(seconds=step(backoff, 1, age)))
    window_s = max(0.0, (end - (window.last_failure_at or now)).total_seconds())
    at -= timedelta(seconds=spread_s(config, window_s, u))
    own = history.next_probe_at
    if own is not None and own > now and history.last_result not in (None, "ok"):
        at = max(at, own) if history.last_result in _PASSES else min(at, own)
    return _ms_ceil(max(at, now))


_PASSES = frozenset({str(Reason.RATE_LIMIT), str(Reason.QUOTA), str(Reason.OVERLOADED)})


def after_budget(now: datetime, until: datetime | None) -> datetime:
    """The daily budget is spent: look again when it resets (00:00 UTC), or when the window
    OpenClaw keeps ends, whichever is later."""
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(midnight, until) if until else midnight


def own_verdict_stands(window: Window, history: History) -> bool:
    """probed's last verdict is at least as new as OpenClaw's last recorded failure, so its
    next-probe time rules; a failure OpenClaw recorded after it is new evidence."""
    if history.next_probe_at is None or history.last_probe_at is None:
        return False
    if history.last_result in (None, "ok"):
        return False
    last = window.last_failure_at
    return last is None or last <= history.last_probe_at + timedelta(milliseconds=1)


def _ms_ceil(dt: datetime) -> datetime:
    """OpenClaw keeps milliseconds: round up, so a floor (a stated reset) stays a floor."""
    if dt.microsecond % 1000:
        return dt + timedelta(microseconds=1000 - dt.microsecond % 1000)
    return dt
