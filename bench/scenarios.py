"""The outage scenarios, in unscaled seconds: when the provider fails, how, and when it recovers.

t = 0 is the first failed request (a cron job hits the outage and OpenClaw records it). The real
recovery R is the end of the last failing phase; a token scenario recovers when the new token is
written into the store at R.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class Phase:
    start: float
    end: float
    kind: str  # rate_limit | quota | billing | auth | overloaded


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    phases: tuple[Phase, ...]
    reports_reset: bool = False  # the provider states when it will work again
    replace_key: bool = False  # recovery = a new credential written into the store at R

    @property
    def recovery(self) -> float:
        return self.phases[-1].end

    @property
    def kind(self) -> str:
        return self.phases[0].kind

    def failing(self, t: float) -> Phase | None:
        """The phase in force at t (None: the provider works)."""
        for p in self.phases:
            if p.start <= t < p.end:
                return p
        return None


def _one(name: str, label: str, kind: str, r: float, **kw: bool) -> Scenario:
    return Scenario(name, label, (Phase(0.0, r, kind),), **kw)


FLAP = tuple(Phase(start, start + 30 * MIN, "overloaded") for start in (0.0, 40 * MIN, 80 * MIN))

FULL: tuple[Scenario, ...] = (
    _one("rate_limit", "rate limit, Retry-After 150 s", "rate_limit", 150.0, reports_reset=True),
    _one(
        "quota",
        "quota window, reset stated (3 h 12 m)",
        "quota",
        3 * HOUR + 12 * MIN,
        reports_reset=True,
    ),
    _one("billing_17m", "billing, top-up after 17 m", "billing", 17 * MIN),
    _one("billing_2h", "billing, top-up after 2 h 07 m", "billing", 2 * HOUR + 7 * MIN),
    _one("billing_8h", "billing, top-up after 8 h 13 m", "billing", 8 * HOUR + 13 * MIN),
    _one("billing_24h", "billing, top-up after 23 h 53 m", "billing", 23 * HOUR + 53 * MIN),
    _one("token", "expired token, replaced after 47 m", "auth", 47 * MIN, replace_key=True),
    Scenario("flapping", "flapping: 30 m down / 10 m up x3, then up", FLAP),
)

SMOKE: tuple[Scenario, ...] = (FULL[0],)


def by_name(names: list[str]) -> tuple[Scenario, ...]:
    known = {s.name: s for s in FULL}
    return tuple(known[n] for n in names)
