"""Which notifications a profile's changes call for: the decision alone, no I/O, no clock.

An *episode* is the time a profile spends unusable. The person hears of it once, when it opens
(or when its reason changes to another one they must hear about), and once when it ends. What
they last heard is remembered per profile (`notified`), so however many passes and failed probes
see the same reason, nothing more is sent; passes are idempotent, which is what keeps a
configuration reload, a gateway reload or a daemon restart from sending anything.

Two dampers keep a flapping provider from becoming a burst:

- hysteresis: an episode opens only while a window is *active*, and ends only when the window is
  *cleared* (a success, `probed clear`, or OpenClaw dropping it); the seconds between a window's
  expiry and the probe that settles it change nothing;
- a budget of `max_openings` openings per profile per `window_s`: a further opening waits until
  the oldest leaves the window, and is sent then only if the profile is still unusable.

Recovery messages are never held back: they are what the person is waiting for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from probed.clock import iso, parse_iso
from probed.reasons import Reason

Event = Literal["action_needed", "recovered", "unavailable"]

# A person must act (the contract's four, plus the two that are a configuration to fix).
ACTION_REASONS = frozenset(
    {
        Reason.BILLING,
        Reason.AUTH,
        Reason.AUTH_PERMANENT,
        Reason.PERMISSION,
        Reason.MODEL_NOT_FOUND,
        Reason.FORMAT,
    }
)
FLAP_WINDOW_S = 3600.0
MAX_OPENINGS = 2


def event_for(reason: Reason) -> Event:
    return "action_needed" if reason in ACTION_REASONS else "unavailable"


@dataclass(frozen=True, slots=True)
class Down:
    """A profile seen unusable with an active window, with what a message needs to say."""

    provider: str
    reason: Reason
    model: str | None
    until: datetime | None
    next_look: datetime | None  # when probed probes it next (None: not scheduled)
    action: str


@dataclass(frozen=True, slots=True)
class Cleared:
    """No window recorded any more: the profile is usable."""

    provider: str


# A window that has ended but is not cleared yet (the probe that settles it is due) is not an
# observation at all: the profile keeps whatever state it had.
Observation = Down | Cleared


@dataclass(frozen=True, slots=True)
class Record:
    provider: str
    notified: str | None = None  # the reason the person last heard of; None: nothing, or recovered
    openings: tuple[float, ...] = ()  # epoch seconds of the openings sent within the window
    down: Down | None = None  # as last observed (not persisted)
    observed: bool = False  # seen since start-up; a record read from disk waits for a pass

    def to_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "notified": self.notified, "openings": self.openings}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Record | None:
        provider, notified, openings = raw.get("provider"), raw.get("notified"), raw.get("openings")
        if not isinstance(provider, str) or not (notified is None or isinstance(notified, str)):
            return None
        if not isinstance(openings, list) or not all(
            isinstance(t, int | float) and not isinstance(t, bool) for t in openings
        ):
            return None
        return cls(provider, notified, tuple(float(t) for t in openings))


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send."""

    event: Event
    agent: str
    profile: str
    provider: str
    reason: Reason  # for `recovered`: the reason the person had heard of
    model: str | None = None
    until: datetime | None = None
    next_look: datetime | None = None
    action: str = ""


Key = tuple[str, str]  # (agent, profile)


def decide(
    key: Key,
    record: Record,
    events: frozenset[str],
    now: float,
    *,
    window_s: float = FLAP_WINDOW_S,
    max_openings: int = MAX_OPENINGS,
) -> tuple[Record | None, Notice | None]:
    """The record after this moment (None: nothing left to remember) and what to send."""
    recent = tuple(t for t in record.openings if now - t < window_s)
    record = replace(record, openings=recent)
    notice: Notice | None = None
    if not record.observed:
        return record, None
    down = record.down
    if down is None:
        if record.notified is not None:
            if "recovered" in events:
                notice = Notice("recovered", *key, record.provider, _reason(record.notified))
            record = replace(record, notified=None)
    elif (
        event_for(down.reason) in events
        and record.notified != str(down.reason)
        and len(recent) < max_openings
    ):
        notice = Notice(
            event_for(down.reason),
            *key,
            down.provider,
            down.reason,
            down.model,
            down.until,
            down.next_look,
            down.action,
        )
        record = replace(record, notified=str(down.reason), openings=(*recent, now))
    if down is None and record.notified is None and not record.openings:
        return None, notice
    return record, notice


def _reason(word: str) -> Reason:
    try:
        return Reason(word)
    except ValueError:
        return Reason.UNKNOWN


class Episodes:
    """Every profile's record, and the moves that change them."""

    def __init__(self, records: Mapping[Key, Record] | None = None) -> None:
        self.records: dict[Key, Record] = dict(records or {})

    def observe(
        self,
        agent: str,
        seen: Mapping[str, Observation | None],
        events: frozenset[str],
        now: float,
    ) -> list[Notice]:
        """One pass over an agent's store: `seen` has every profile it holds (None: its window
        ended but is not cleared). Profiles gone from the store are forgotten without a word."""
        for key in [k for k in self.records if k[0] == agent and k[1] not in seen]:
            del self.records[key]
        for profile, obs in seen.items():
            key = (agent, profile)
            old = self.records.get(key)
            if obs is None:  # ended, not settled: no news (a record read from disk waits on)
                continue
            base = old or Record(obs.provider)
            self.records[key] = replace(
                base,
                provider=obs.provider,
                down=obs if isinstance(obs, Down) else None,
                observed=True,
            )
        return self._decide([k for k in self.records if k[0] == agent], events, now)

    def tick(self, events: frozenset[str], now: float) -> list[Notice]:
        """Openings held back by the flap budget whose time has come."""
        waiting = [
            k
            for k, r in self.records.items()
            if r.down is not None and r.notified != str(r.down.reason)
        ]
        return self._decide(waiting, events, now)

    def retain_agents(self, agents: Iterable[str]) -> None:
        keep = set(agents)
        self.records = {k: r for k, r in self.records.items() if k[0] in keep}

    def _decide(self, keys: list[Key], events: frozenset[str], now: float) -> list[Notice]:
        out: list[Notice] = []
        for key in keys:
            new, notice = decide(key, self.records[key], events, now)
            if new is None:
                del self.records[key]
            else:
                self.records[key] = new
            if notice is not None:
                out.append(notice)
        return out

    # ---- persistence (what must survive a restart) -----------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "profiles": [
                {"agent": a, "profile": p, **r.to_json()}
                for (a, p), r in sorted(self.records.items())
                if r.notified is not None or r.openings
            ],
        }

    @classmethod
    def from_json(cls, raw: object) -> Episodes:
        records: dict[Key, Record] = {}
        rows = raw.get("profiles") if isinstance(raw, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            agent, profile = row.get("agent"), row.get("profile")
            rec = Record.from_json(row)
            if isinstance(agent, str) and isinstance(profile, str) and rec is not None:
                records[(agent, profile)] = rec
        return cls(records)


def describe_time(at: datetime | None, now: datetime) -> str:
    """`2026-10-07T12:45:00Z (in 9m)`, for a message body."""
    if at is None:
        return "-"
    secs = max(0, round((at - now).total_seconds()))
    if secs >= 2 * 86400:
        left = f"{secs // 86400}d"
    elif secs >= 3600:
        left = f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    elif secs >= 60:
        left = f"{secs // 60}m"
    else:
        left = f"{secs}s"
    return f"{iso(at.replace(microsecond=0))} (in {left})"


__all__ = [
    "ACTION_REASONS",
    "Cleared",
    "Down",
    "Episodes",
    "Notice",
    "Observation",
    "Record",
    "decide",
    "describe_time",
    "event_for",
    "parse_iso",
]
