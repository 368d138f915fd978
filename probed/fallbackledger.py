"""The ledger probes write through: when its file cannot be written, it goes on in memory.

probed's ledger (`probed.ledger`, in `[daemon] state_dir`) is probed's own memory, never a
reason to stop recovering. A full disk, a read-only or vanished directory, a corrupt file: each
write that fails is said once (`ledger_unwritable`), and what it would have written is kept in
this process's memory; reads answer from disk and memory together, memory winning. So every
probe, backoff step and budget count goes on:

- failure streaks keep growing (`record_probe`), so backoff still doubles;
- next-probe times are kept (`set_next`, `set_next_many`);
- the daily paid-probe budget stays bounded: paid probes counted in memory add to what the file
  already holds (`try_spend`, `paid_today`).

When a write succeeds again it says `ledger_writable`; entries it wrote are dropped from memory.
A subclass of `Ledger` wrapping each public call, so the ledger's own logic (its schema and
columns, its transactions) stays in one place.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from probed.errors import ProbedError, StoreError
from probed.ledger import Ledger, ProbeRecord
from probed.logs import get_logger

log = get_logger()

_FAILURES = (ProbedError, sqlite3.Error, OSError)


class FallbackLedger(Ledger):
    def __init__(self, state_dir: Path, **kwargs: Any) -> None:
        super().__init__(state_dir, **kwargs)
        self._mem: dict[tuple[str, str, str], ProbeRecord] = {}
        self._mem_paid: dict[tuple[str, str], int] = {}
        self._mem_warned: set[tuple[str, str]] = set()
        self.problem: str | None = None  # the last failure, until a write succeeds

    # ---- saying it once ------------------------------------------------------------------

    def _failed(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, ProbedError) else f"{self.path}: {exc}"
        if text != self.problem:
            self.problem = text
            log.warning("ledger_unwritable", error=text, path=str(self.path))

    def _succeeded(self) -> None:
        if self.problem is not None:
            self.problem = None
            log.info("ledger_writable", path=str(self.path))

    # ---- probes ----------------------------------------------------------------------------

    def get(self, agent: str, profile: str, model: str | None = None) -> ProbeRecord | None:
        kept = self._mem.get((agent, profile, model or ""))
        if kept is not None:
            return kept
        try:
            return super().get(agent, profile, model)
        except _FAILURES as exc:
            self._failed(exc)
            return None

    def all(self) -> list[ProbeRecord]:
        """Every record; StoreError when the file cannot be read and nothing is in memory."""
        try:
            found = {(r.agent, r.profile, r.model or ""): r for r in super().all()}
        except _FAILURES as exc:
            if not self._mem:
                raise exc if isinstance(exc, ProbedError) else StoreError(str(exc)) from None
            found = {}
        found.update(self._mem)
        return [found[k] for k in sorted(found)]

    def of_agent(self, agent: str) -> list[ProbeRecord]:
        """One agent's records, those kept in memory winning (as in `all`)."""
        try:
            found = {(r.profile, r.model or ""): r for r in super().of_agent(agent)}
        except _FAILURES as exc:
            if not self._mem:
                raise exc if isinstance(exc, ProbedError) else StoreError(str(exc)) from None
            found = {}
        found.update({(k[1], k[2]): r for k, r in self._mem.items() if k[0] == agent})
        return [found[k] for k in sorted(found)]

    def record_probe(self, *args: Any, **kwargs: Any) -> ProbeRecord:
        """`Ledger.record_probe`, whatever its parameters; in memory when it cannot be written
        (the streak then grows from what memory or the file last held)."""
        agent, profile, model = _who(args, kwargs)
        try:
            rec = super().record_probe(*args, **kwargs)
        except _FAILURES as exc:
            self._failed(exc)
            at: datetime = kwargs.get("at") or datetime.now(UTC)
            result: str = kwargs.get("result", "unknown")
            prev = self.get(agent, profile, model)
            streak = kwargs.get("streak")
            if streak is None:
                streak = 0 if result == "ok" else (prev.consecutive_failures if prev else 0) + 1
            rec = ProbeRecord(
                agent, profile, model, at, result, streak, kwargs.get("next_probe_at")
            )
            self._mem[(agent, profile, model or "")] = rec
            return rec
        self._mem.pop((agent, profile, model or ""), None)
        self._succeeded()
        return rec

    def set_next(
        self, agent: str, profile: str, model: str | None, next_probe_at: datetime | None
    ) -> None:
        try:
            super().set_next(agent, profile, model, next_probe_at)
        except _FAILURES as exc:
            self._failed(exc)
            self._remember_next([(agent, profile, model, next_probe_at)])
        else:
            self._forget([(agent, profile, model, next_probe_at)])

    def set_next_many(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
        try:
            super().set_next_many(entries)
        except _FAILURES as exc:
            self._failed(exc)
            self._remember_next(entries)
        else:
            self._forget(entries)

    def _remember_next(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
        for agent, profile, model, at in entries:
            prev = self.get(agent, profile, model)
            if prev is None:
                prev = ProbeRecord(agent, profile, model, None, None, 0, None)
            self._mem[(agent, profile, model or "")] = replace(prev, next_probe_at=at)

    def _forget(self, entries: list[tuple[str, str, str | None, datetime | None]]) -> None:
        for agent, profile, model, _at in entries:
            kept = self._mem.pop((agent, profile, model or ""), None)
            if kept is not None and kept.last_probe_at is not None:
                self._mem[(agent, profile, model or "")] = kept  # its result is not on disk yet
        self._succeeded()

    # ---- budget ----------------------------------------------------------------------------

    def paid_today(self, provider: str, now: datetime) -> int:
        extra = self._mem_paid.get((provider, _day(now)), 0)
        try:
            return super().paid_today(provider, now) + extra
        except _FAILURES as exc:
            self._failed(exc)
            return extra

    def try_spend(self, provider: str, now: datetime, limit: int) -> tuple[bool, bool]:
        day = _day(now)
        extra = self._mem_paid.get((provider, day), 0)
        try:
            allowed, warn = super().try_spend(provider, now, max(0, limit - extra))
        except _FAILURES as exc:
            self._failed(exc)
            if self.paid_today(provider, now) < limit:
                self._mem_paid[(provider, day)] = extra + 1
                return True, False
            warn = (provider, day) not in self._mem_warned
            self._mem_warned.add((provider, day))
            return False, warn
        self._succeeded()
        return allowed, warn


def _who(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str, str | None]:
    names = ("agent", "profile", "model")
    values = list(args[:3]) + [kwargs.get(n) for n in names[len(args[:3]) :]]
    return str(values[0]), str(values[1]), values[2]


def _day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")
