"""`probed status`: every profile's state as OpenClaw sees it, plus probed's own probe memory.

Read-only by construction: stores are only read (SQLite opened `mode=ro`), the ledger is only
read, and nothing is clamped here (the daemon does that, honouring `[repair] clamp_stale`), so
what is shown is exactly what a running gateway would act on. A store that cannot be read is
reported as one line naming its file, and the rest are still shown.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from probed.actions import action_for
from probed.clock import from_ms, iso, to_ms
from probed.config import Config
from probed.errors import NotFound, ProbedError, StoreError, unforeseen
from probed.ledger import Ledger, ProbeRecord
from probed.model import canonical_provider
from probed.reasons import from_openclaw, refine
from probed.stores.base import Store
from probed.stores.discover import discover, legacy_warnings


@dataclass(frozen=True, slots=True)
class Row:
    agent: str
    profile: str
    provider: str
    type: str
    state: str
    reason: str | None
    until: datetime | None
    remaining_s: int | None
    model: str | None
    last_probe_at: datetime | None
    last_probe_result: str | None
    next_probe_at: datetime | None
    action: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "profile": self.profile,
            "provider": self.provider,
            "type": self.type,
            "state": self.state,
            "reason": self.reason,
            "until": iso(self.until),
            "remaining_s": self.remaining_s,
            "model": self.model,
            "last_probe_at": iso(self.last_probe_at),
            "last_probe_result": self.last_probe_result,
            "next_probe_at": iso(self.next_probe_at),
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class Unreadable:
    agent: str
    file: str
    error: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something about a readable store a person should act on (legacy files OpenClaw refuses)."""

    agent: str
    file: str
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    rows: tuple[Row, ...]
    errors: tuple[Unreadable, ...]
    notes: tuple[Note, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": iso(self.generated_at),
            "profiles": [r.to_json() for r in self.rows],
            "errors": [{"agent": e.agent, "file": e.file, "error": e.error} for e in self.errors],
            "notes": [{"agent": n.agent, "file": n.file, "message": n.message} for n in self.notes],
        }


OK_ACTION = "nothing to do: usable now"


def collect(
    config: Config,
    *,
    now: datetime,
    agent: str | None = None,
    provider: str | None = None,
    stores: Sequence[Store] | None = None,
) -> Report:
    found = list(stores) if stores is not None else discover(config.openclaw)
    if agent and not any(s.agent == agent for s in found):
        raise NotFound(
            f"agent {agent}: no OpenClaw auth store under {config.openclaw.state_dir / 'agents'}"
        )
    ledger = Ledger(config.daemon.state_dir)
    records = _records(ledger)
    want_provider = canonical_provider(provider) if provider else None
    rows: list[Row] = []
    errors: list[Unreadable] = []
    bad_values: list[Note] = []  # a time field that is not a time: named, the rest goes on
    now_ms = to_ms(now)
    for store in found:
        if agent and store.agent != agent:
            continue
        try:
            snap = store.read()
        except ProbedError as exc:
            at = exc.path if isinstance(exc, StoreError) and exc.path else store.location
            errors.append(Unreadable(store.agent, str(at), str(exc)))
            continue
        except Exception as exc:  # a parser bug: this store is named, every other one shown
            errors.append(
                Unreadable(store.agent, str(store.location), unforeseen(store.location, exc))
            )
            continue
        for pid, profile in snap.profiles.items():
            if want_provider and canonical_provider(profile.provider) != want_provider:
                continue
            usage = snap.usage(pid)
            invalid = usage.invalid_note(pid)
            if invalid is not None:
                bad_values.append(Note(store.agent, str(store.location), invalid))
            view = usage.view(profile.provider, now_ms)
            until = from_ms(view.until_ms) if view.until_ms is not None else None
            remaining = (
                max(0, math.ceil((view.until_ms - now_ms) / 1000))
                if view.until_ms is not None
                else None
            )
            rec = records.get((store.agent, pid, view.model or "")) or records.get(
                (store.agent, pid, "")
            )
            if view.usable:
                action = OK_ACTION
            else:
                reason = refine(from_openclaw(view.reason), rec.last_result if rec else None)
                action = action_for(
                    reason if reason is not None else "unknown",
                    profile.provider,
                    scope="model" if view.model else "profile",
                )
            rows.append(
                Row(
                    agent=store.agent,
                    profile=pid,
                    provider=profile.provider,
                    type=profile.type,
                    state=view.state,
                    reason=view.reason,
                    until=until,
                    remaining_s=remaining,
                    model=view.model,
                    last_probe_at=rec.last_probe_at if rec else None,
                    last_probe_result=rec.last_result if rec else None,
                    next_probe_at=(rec.next_probe_at if rec and not view.usable else None),
                    action=action,
                )
            )
    rows.sort(key=lambda r: (r.agent, r.provider, r.profile))
    notes = bad_values + [
        Note(w.agent, str(w.path), w.message)
        for w in legacy_warnings(config.openclaw.state_dir, found)
        if not agent or w.agent == agent
    ]
    return Report(generated_at=now, rows=tuple(rows), errors=tuple(errors), notes=tuple(notes))


def _records(ledger: Ledger) -> dict[tuple[str, str, str], ProbeRecord]:
    try:
        return {(r.agent, r.profile, r.model or ""): r for r in ledger.all()}
    except ProbedError:
        return {}  # probed's own memory is optional for status; OpenClaw's state is not


# ---- the table for people ----------------------------------------------------------------


def short_duration(seconds: float) -> str:
    """Two units at most (`4h59m`, `2d3h`, `45s`): a table cell, not a config value."""
    rest = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
        if len(parts) == 2:
            break
    return "".join(parts)


def _ago(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "-"
    secs = (now - dt).total_seconds()
    return f"{short_duration(secs)} ago" if secs >= 0 else "-"


def _in(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "-"
    secs = (dt - now).total_seconds()
    if secs >= 2 * 86400:
        return f"in {int(secs // 86400)}d"
    return f"in {short_duration(secs)}" if secs > 0 else "due"


def _until(row: Row, now: datetime) -> str:
    if row.until is None:
        return "-"
    secs = (row.until - now).total_seconds()
    left = f"{int(secs // 86400)}d" if secs >= 2 * 86400 else short_duration(secs)
    shape = "%m-%d %H:%M" if row.until.year == now.year else "%Y-%m-%d %H:%M"
    return f"{row.until.strftime(shape)} ({left})"


def summary_line(report: Report) -> str:
    total = len(report.rows)
    down = [r for r in report.rows if r.state != "ok"]
    agents = len({r.agent for r in report.rows})
    parts = [
        f"{total} profile{'s' if total != 1 else ''} in {agents} agent{'s' if agents != 1 else ''}"
    ]
    parts.append(f"{total - len(down)} usable")
    if down:
        parts.append(f"{len(down)} unusable")
        soonest = min(
            (r for r in down if r.until), key=lambda r: r.until or report.generated_at, default=None
        )
        if soonest is not None and soonest.until is not None:
            parts.append(f"next back: {soonest.profile} {_in(soonest.until, report.generated_at)}")
    if report.errors:
        parts.append(
            f"{len(report.errors)} store{'s' if len(report.errors) != 1 else ''} unreadable"
        )
    return ", ".join(parts)


def render_table(report: Report, *, width: int = 100) -> str:
    """A summary line, then one line per profile; under each unusable one, what to do."""
    now = report.generated_at
    header = ("AGENT", "PROFILE", "PROVIDER", "STATE", "REASON", "UNTIL (LEFT)", "LAST", "NEXT")
    cells: list[tuple[str, ...]] = []
    for r in report.rows:
        last = "-"
        if r.last_probe_at is not None:
            last = f"{r.last_probe_result or '?'} {_ago(r.last_probe_at, now)}"
        cells.append(
            (
                r.agent,
                r.profile,
                r.provider,
                r.state,
                r.reason or "-",
                _until(r, now),
                last,
                _in(r.next_probe_at, now),
            )
        )
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [summary_line(report), "", fmt.format(*header).rstrip()]
    for row, data in zip(report.rows, cells, strict=True):
        out.append(fmt.format(*data).rstrip())
        if row.state != "ok":
            detail = f"only for model {row.model}; " if row.model else ""
            out.extend(
                textwrap.wrap(
                    detail + (row.action or ""),
                    width=width,
                    initial_indent="    -> ",
                    subsequent_indent="       ",
                )
            )
    if not report.rows and not report.errors:
        out.append("(no auth profiles found)")
    for e in report.errors:
        out.append(f"! agent {e.agent}: {e.error}")  # not wrapped: the path stays copyable
    for n in report.notes:
        out.append(f"note: agent {n.agent}: {n.message}")
    return "\n".join(out) + "\n"
