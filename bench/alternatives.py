"""The alternatives, as discrete-event simulations of their documented policies.

OpenClaw (2026.9.6 and 2026.5.28), from openclaw-state.md §3/§9 and openclaw-runtime.md §5:

- a failure reloads the profile's stats; counters reset when the previous window has expired or
  the last failure is more than 24 h old (9.x keeps `failureCounts.rate_limit`), else increment;
- billing: `disabledUntil = now + base * 2^(n-1)` (n = failureCounts.billing), base 10 min (9.x)
  or 5 h (5.28), cap 24 h; an ACTIVE window is never extended;
- rate_limit: 9.x `30 s * 2^(n-1)` capped at 24 h; 5.28 the transient ladder;
- other reasons: 30 s / 60 s / 5 min by errorCount; an active cooldown is kept;
- success clears everything.

Traffic is a cron job every 30 min (t = 0 is its first failed run) and the agent has a fallback
model on another provider, so during an active window OpenClaw only tries the primary when the
window ends within PROBE_MARGIN (2 min), or for a rate_limit with no provider-reported reset, and
only for the probe-allowed reasons (rate_limit, overloaded, billing, unknown, timeout). Outside a
window every run goes to the profile. OpenClaw has no background probe: these runs are its only
upstream requests.

LiteLLM proxy (peers.md §1.2): `background_health_checks` every 300 s, each a paid completion
(max_tokens 1), with `enable_health_check_routing` so a failed check takes the deployment out
until a check passes; the router's own cooldown after a failed user request (5 s, or the
Retry-After) is shorter than the cron period and so never matters here. The health-check phase
against t = 0 is unknown, so results are averaged over 30 evenly spaced phases.

The same `OpenClawPolicy` also plays OpenClaw's cron traffic against the real store while the
real probed daemon runs (see probedrun.py), with every duration divided by the scale.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.scenarios import Scenario

CRON_S = 1800.0
PROBE_MARGIN_S = 120.0
LITELLM_INTERVAL_S = 300.0
HOUR = 3600.0
DAY = 86400.0

OPENCLAW_REASON = {
    "rate_limit": "rate_limit",
    "quota": "rate_limit",  # "usage limit" text is a rate limit to OpenClaw (§7)
    "billing": "billing",
    "auth": "auth",
    "overloaded": "overloaded",
}
HTTP_STATUS = {"rate_limit": 429, "quota": 429, "billing": 402, "auth": 401, "overloaded": 529}
PROBE_ALLOWED = frozenset({"rate_limit", "overloaded", "billing", "unknown", "timeout"})


@dataclass(frozen=True)
class OpenClawPolicy:
    """OpenClaw's failure bookkeeping on one profile's usageStats; times in epoch ms, durations
    divided by `scale` (1 = real time)."""

    version: str  # "2026.9" | "2026.5"
    scale: float = 1.0

    def _ms(self, seconds: float) -> int:
        return round(seconds * 1000 / self.scale)

    def until(self, stats: dict[str, Any]) -> int:
        return max(
            int(stats.get(k) or 0) for k in ("cooldownUntil", "disabledUntil", "blockedUntil")
        )

    def usable(self, stats: dict[str, Any], now: int) -> bool:
        return now >= self.until(stats)

    def routes(self, stats: dict[str, Any], now: int, reports_reset: bool) -> bool:
        """Does a cron run at `now` send its request to this profile?"""
        until = self.until(stats)
        if now >= until:
            return True
        reason = stats.get("disabledReason") or stats.get("cooldownReason") or "unknown"
        if reason not in PROBE_ALLOWED:
            return False
        if until - now <= self._ms(PROBE_MARGIN_S):
            return True
        return reason == "rate_limit" and not reports_reset

    def failure(self, stats: dict[str, Any], reason: str, now: int) -> dict[str, Any]:
        s = dict(stats)
        counts = dict(s.get("failureCounts") or {})
        last = s.get("lastFailureAt")
        window_expired = last is not None and now - int(last) > self._ms(DAY)
        prev_expired = now >= self.until(s)
        if window_expired or prev_expired:
            kept = (
                {"rate_limit": counts["rate_limit"]}
                if (self.version == "2026.9" and "rate_limit" in counts)
                else {}
            )
            counts = {**kept, reason: kept.get(reason, 0) + 1}
            s["errorCount"] = 1
        else:
            counts[reason] = counts.get(reason, 0) + 1
            s["errorCount"] = int(s.get("errorCount") or 0) + 1
        s["failureCounts"] = counts
        s["lastFailureAt"] = now
        if reason in ("billing", "auth_permanent"):
            active = int(s.get("disabledUntil") or 0) > now
            if not active:
                n = counts[reason]
                if reason == "billing":
                    base = 600.0 if self.version == "2026.9" else 5 * HOUR
                    cap = DAY
                else:
                    base, cap = 600.0, HOUR
                s["disabledUntil"] = now + self._ms(min(cap, base * 2 ** min(n - 1, 10)))
                s["disabledReason"] = reason
            return s
        if int(s.get("cooldownUntil") or 0) > now:
            return s  # an active window is kept
        if reason == "rate_limit" and self.version == "2026.9":
            window = min(DAY, 30.0 * 2 ** (counts["rate_limit"] - 1))
        else:
            window = (30.0, 60.0, 300.0)[min(int(s["errorCount"]), 3) - 1]
        s["cooldownUntil"] = now + self._ms(window)
        s["cooldownReason"] = reason
        return s

    @staticmethod
    def success(stats: dict[str, Any], now: int) -> dict[str, Any]:
        keep = {k: v for k, v in stats.items() if k in ("lastUsed",)}
        return {**keep, "errorCount": 0, "lastUsed": now}


@dataclass(frozen=True)
class SimResult:
    system: str
    scenario: str
    latency_s: float  # real recovery -> usable in the state (mean over phases for LiteLLM)
    latency_max_s: float
    paid_probes: float
    free_probes: float
    failed_user: float  # cron runs sent to the dead profile


def simulate_openclaw(sc: Scenario, version: str) -> SimResult:
    pol = OpenClawPolicy(version)
    r_ms = int(sc.recovery * 1000)
    stats: dict[str, Any] = {}
    failed = 0
    t = 0.0
    detect: int | None = None
    while detect is None:
        now = int(t * 1000)
        if now >= r_ms:
            until = pol.until(stats)
            if until <= r_ms:
                detect = r_ms
            elif until <= now:
                detect = until
            elif pol.routes(stats, now, sc.reports_reset):
                detect = now
        if detect is None and pol.routes(stats, now, sc.reports_reset):
            phase = sc.failing(t)
            if phase is not None:
                stats = pol.failure(stats, OPENCLAW_REASON[phase.kind], now)
                failed += 1
            else:
                stats = pol.success(stats, now)
        t += CRON_S
    lat = (detect - r_ms) / 1000
    return SimResult(f"OpenClaw {version} alone", sc.name, lat, lat, 0, 0, failed)


def simulate_litellm(sc: Scenario, phases: int = 30) -> SimResult:
    lats: list[float] = []
    checks: list[int] = []
    fails: list[int] = []
    r = sc.recovery
    for i in range(phases):
        phi = LITELLM_INTERVAL_S * i / phases
        horizon = r + 2 * LITELLM_INTERVAL_S
        events = sorted(
            [(phi + k * LITELLM_INTERVAL_S, "check") for k in range(int(horizon / 300) + 2)]
            + [(k * CRON_S, "cron") for k in range(int(horizon / CRON_S) + 2)]
        )
        healthy = True  # no check yet: the deployment is routed to
        n = failed = 0
        detect: float | None = None
        for t, what in events:
            if t >= r and healthy:
                detect = r if detect is None else detect
                break
            if what == "check":
                n += 1
                healthy = sc.failing(t) is None
                if healthy and t >= r:
                    detect = t
                    break
            elif healthy and sc.failing(t) is not None:
                failed += 1
        assert detect is not None
        lats.append(detect - r)
        checks.append(n)
        fails.append(failed)
    return SimResult(
        "LiteLLM health checks (300 s)",
        sc.name,
        statistics.mean(lats),
        max(lats),
        statistics.mean(checks),
        0,
        statistics.mean(fails),
    )


def simulate_all(sc: Scenario) -> list[SimResult]:
    return [simulate_openclaw(sc, "2026.9"), simulate_openclaw(sc, "2026.5"), simulate_litellm(sc)]
