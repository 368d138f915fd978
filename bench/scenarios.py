"""The outage scenarios, in real seconds, played against real OpenClaw gateways.

t = 0 is the outage's first failed user request (OpenClaw records it and takes the profile out);
the fix (a top-up, a key accepted again or a new one pasted, a quota or rate-limit reset) comes
`fix_s` later; a new key is pasted with OpenClaw's own CLI from that moment, so its run time is
part of every system's recovery. A scenario "hours in"
starts from a state seeded as OpenClaw and probed would have it hours into an outage: OpenClaw's
window extended by its own doubling, probed's ledger with the outage's start hours back and its
last probe `phase` of an interval ago, because nothing at this scale can be waited out for real.

Traffic is what users send: steady requests (one every `STEADY_S` while people work) and a cron
job every 30 minutes; overnight there are no steady requests (see report.py for what that
changes, and why no overnight scenario is timed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

STEADY_S = 2.0  # one user request every 2 s while people work
CRON_S = 1800.0  # and a cron job every 30 minutes, day and night

Release = Literal["2026.9.6", "2026.5.28"]
Kind = Literal["billing", "auth", "rate_limit", "quota"]


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    release: Release
    kind: Kind
    fix_s: float  # the fix (top-up, reset) this long after the first failed request
    fallback: bool = False  # agents.defaults.model.fallbacks has a model on another provider
    hours_in: float = 0.0  # > 0: seeded this many hours into the outage
    phase: float = 0.5  # hours in: where in probed's probe interval the fix lands (0..1)
    reset_stated: bool = False  # the provider names its reset (Retry-After) on every 429
    new_key: bool = False  # the fix is a new key pasted into the profile; the old one stays refused
    # OpenClaw's own windows for this failure are this short, renewed at each lapse: each repeat
    # lands the fix at another point of that cycle (PHASES of it later), as a real fix would
    cycle_s: float = 0.0
    horizon_s: float = 300.0  # how long after the fix a run waits for a success
    target_s: float = 60.0  # the target: first success at most this long after the fix
    offset_s: float = 0.0  # the fix this long after a user request (0 <= offset < STEADY_S)

    @property
    def gateway(self) -> str:
        fb = "with a fallback" if self.fallback else "no fallback"
        return f"OpenClaw {self.release}, {fb}"


FULL: tuple[Scenario, ...] = (
    Scenario(
        "billing_early_9.6",
        "billing, top-up 2 min into the outage",
        "2026.9.6",
        "billing",
        fix_s=120.0,
        horizon_s=150.0,
    ),
    Scenario(
        "billing_early_5.28_fallback",
        "billing, top-up 2 min into the outage",
        "2026.5.28",
        "billing",
        fix_s=120.0,
        fallback=True,
        horizon_s=150.0,
    ),
    Scenario(
        "auth_early_9.6",
        "key refused (401), accepted again 2 min into the outage",
        "2026.9.6",
        "auth",
        fix_s=120.0,
        cycle_s=30.0,
        horizon_s=150.0,
    ),
    Scenario(
        "newkey_early_9.6",
        "key refused (401), a new key pasted 2 min into the outage",
        "2026.9.6",
        "auth",
        fix_s=120.0,
        new_key=True,
        cycle_s=30.0,
        horizon_s=150.0,
    ),
    Scenario(
        "billing_hours_9.6",
        "billing, top-up 5 h into the outage",
        "2026.9.6",
        "billing",
        fix_s=60.0,
        hours_in=5.0,
        target_s=300.0,
        horizon_s=330.0,
    ),
    Scenario(
        "billing_hours_5.28_fallback",
        "billing, top-up 5 h into the outage",
        "2026.5.28",
        "billing",
        fix_s=60.0,
        fallback=True,
        hours_in=5.0,
        target_s=300.0,
        horizon_s=330.0,
    ),
    Scenario(
        "quota_reset_9.6",
        "daily request limit, reset stated (Retry-After), 3 min in",
        "2026.9.6",
        "quota",
        fix_s=180.0,
        reset_stated=True,
        target_s=2.0,
        horizon_s=90.0,
    ),
)

# A fix lands at no particular moment of the users' traffic: each repeat puts it at another
# point between two requests (the same points for every system, so runs pair up). A fix landing
# just as a request goes out would give every system that waits for traffic a free 0 s.
OFFSETS = (0.3, 1.0, 1.7)

SMOKE: tuple[Scenario, ...] = (
    Scenario(
        "quota_reset_9.6",
        "daily request limit, reset stated (Retry-After), 20 s in",
        "2026.9.6",
        "quota",
        fix_s=20.0,
        reset_stated=True,
        target_s=2.0,
        horizon_s=40.0,
    ),
)


def by_name(names: list[str]) -> tuple[Scenario, ...]:
    known = {s.name: s for s in FULL}
    return tuple(known[n] for n in names)
