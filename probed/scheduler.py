"""When each probe runs: one APScheduler 3.11 job per unusable (agent, profile[, model]) key.

APScheduler 3 has sharp edges, each configured around here:

- a one-shot more than `misfire_grace_time` late is silently dropped: the grace is None;
- naive datetimes are read in local time: the scheduler runs in UTC and only aware datetimes go in;
- re-adding a job id while its previous run is in flight drops the new job: every attempt gets its
  own job id, and the work itself runs in our own task group, so the job returns at once;
- job tasks live outside structured concurrency: ours do not, `drain()` finishes or cancels them;
- it sleeps on wall-clock deadlines: a step of the wall clock against the monotonic one triggers
  a wake-up and a re-arm of every job.

A key runs at most once at a time. A deadline that arrives while its key is running is kept and
applied when the run ends (never dropped). A `progress` counter moves on every completed run and on
a heartbeat job, so the daemon can feed systemd's watchdog only while the scheduler really works.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.abc
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from probed.logs import get_logger

log = get_logger()


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """What one job probes: a profile of an agent, optionally one model of it."""

    agent: str
    profile: str
    model: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.model}" if self.model else ""
        return f"{self.agent}:{self.profile}{tail}"


RunKey = Callable[[Key], Awaitable[None]]


def spread(
    items: Iterable[tuple[Key, datetime]],
    *,
    now: datetime,
    window_s: float,
    max_gap_s: float = 1.0,
) -> list[tuple[Key, datetime]]:
    """Overdue deadlines (the daemon was down) spaced evenly from `now`, oldest first, instead
    of all at once; future deadlines are kept as they are.

    The gap is `window_s / n` but never more than `max_gap_s`: thousands of overdue profiles
    take the whole window, while two of them are not kept apart for half of it (a profile that
    fell due while the daemon was starting would otherwise wait up to `window_s`)."""
    due = sorted(((at, k) for k, at in items if at <= now), key=lambda p: (p[0], p[1]))
    later = [(k, at) for k, at in items if at > now]
    gap = min(window_s / len(due), max_gap_s) if due else 0.0
    spaced = [(k, now + timedelta(seconds=gap * i)) for i, (_, k) in enumerate(due)]
    return spaced + later


class ProbeScheduler:
    def __init__(
        self,
        run_key: RunKey,
        *,
        heartbeat_s: float = 1.0,
        clock_check_s: float = 1.0,
        clock_step_s: float = 5.0,
        on_clock_step: Callable[[float], Any] | None = None,
    ) -> None:
        self._run_key = run_key
        self._heartbeat_s = heartbeat_s
        self._clock_check_s = clock_check_s
        self._clock_step_s = clock_step_s
        self._on_clock_step = on_clock_step
        self._sched: AsyncIOScheduler | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._seq = itertools.count(1)
        self._deadline: dict[Key, datetime] = {}  # key -> when its job fires (armed)
        self._job_id: dict[Key, str] = {}  # key -> id of the job currently armed for it
        self._running: set[Key] = set()
        self._pending: dict[Key, datetime] = {}  # deadlines that arrived while the key ran
        self._idle = anyio.Event()
        self._idle.set()
        self._closing = False
        self.progress = 0  # moves while the scheduler does its work (watchdog gate)
        self.version = 0  # moves whenever a deadline or a run starts or ends (STATUS= cache)
        self.runs = 0  # completed runs

    # ---- lifecycle -------------------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the scheduler until cancelled; `task_status.started()` once jobs can be added."""
        sched = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        sched.start()
        sched.add_job(
            self._heartbeat,
            IntervalTrigger(seconds=self._heartbeat_s, timezone=UTC),
            id="heartbeat",
            replace_existing=True,
        )
        self._sched = sched
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(self._watch_clock)
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._tg = None
            self._sched = None
            if sched.running:
                sched.shutdown(wait=False)

    async def drain(self, timeout: float) -> bool:
        """Stop firing, let runs in flight finish for up to `timeout` s, then cancel them.

        True when everything finished by itself."""
        self._closing = True
        if self._sched is not None and self._sched.running:
            self._sched.pause()
        finished = False
        with anyio.move_on_after(timeout):
            await self._idle.wait()
            finished = True
        if self._tg is not None:
            self._tg.cancel_scope.cancel()
        return finished

    # ---- the schedule ----------------------------------------------------------------------

    def schedule(self, key: Key, at: datetime) -> None:
        """Run `key` at exactly `at` (aware). Replaces the key's pending deadline; while the key
        runs, the deadline waits for the run to end. The time is the policy's (probed.policy):
        nothing here moves it or writes it anywhere."""
        if at.tzinfo is None:
            raise ValueError("probe deadlines must be timezone-aware")
        if self._closing:
            return
        if key in self._running:
            self._pending[key] = at
            self.version += 1
        else:
            self._arm(key, at)

    def schedule_many(self, items: Iterable[tuple[Key, datetime]]) -> None:
        """Like `schedule` for each item, re-timing the wake-up once for all of them."""
        entries = list(items)
        # A running APScheduler re-times its wake-up on every add_job; paused, it does so once
        # on resume (10,000 keys at start-up). Nothing can fire in between: no await here.
        pause = self._sched is not None and self._sched.state == STATE_RUNNING and len(entries) > 1
        if pause:
            assert self._sched is not None  # noqa: S101 - for mypy
            self._sched.pause()
        try:
            for key, at in entries:
                self.schedule(key, at)
        finally:
            if pause and self._sched is not None:
                self._sched.resume()

    def cancel(self, key: Key) -> bool:
        """Forget the key's deadline (a run in flight finishes). True if something was armed."""
        had = self._disarm(key) or self._pending.pop(key, None) is not None
        self.version += 1
        return had

    def deadline(self, key: Key) -> datetime | None:
        return self._pending.get(key) or self._deadline.get(key)

    def scheduled(self) -> set[Key]:
        """Every key with a deadline (armed or waiting for its run to end)."""
        return set(self._deadline) | set(self._pending)

    def is_scheduled(self, key: Key) -> bool:
        return key in self._deadline or key in self._pending

    def is_running(self, key: Key) -> bool:
        return key in self._running

    def running(self) -> set[Key]:
        return set(self._running)

    def upcoming(self) -> list[tuple[datetime, Key]]:
        return sorted((at, k) for k, at in {**self._deadline, **self._pending}.items())

    def earliest(self) -> tuple[datetime, Key] | None:
        """The next deadline, in one pass without sorting (STATUS= asks every second)."""
        best: tuple[datetime, Key] | None = None
        for table in (self._deadline, self._pending):
            if table:
                key = min(table, key=table.__getitem__)
                if best is None or table[key] < best[0]:
                    best = (table[key], key)
        return best

    def unusable_profiles(self) -> int:
        """Distinct (agent, profile) with a deadline or a run."""
        keys = itertools.chain(self._deadline, self._pending, self._running)
        return len({(k.agent, k.profile) for k in keys})

    def rearm_all(self) -> None:
        """Re-add every job (after a wall-clock step: APScheduler's timer slept on the old one)."""
        for key, at in list(self._deadline.items()):
            self._arm(key, at)
        if self._sched is not None:
            self._sched.wakeup()

    # ---- internals -------------------------------------------------------------------------

    def _arm(self, key: Key, at: datetime) -> None:
        if self._sched is None:
            raise RuntimeError("the scheduler is not running")
        self._disarm(key)
        job_id = f"probe:{key}#{next(self._seq)}"
        self._job_id[key] = job_id
        self._deadline[key] = at
        self.version += 1
        self._sched.add_job(
            self._fire, DateTrigger(at, timezone=UTC), args=[key, job_id], id=job_id
        )

    def _disarm(self, key: Key) -> bool:
        job_id = self._job_id.pop(key, None)
        self._deadline.pop(key, None)
        self.version += 1
        if job_id is None:
            return False
        if self._sched is not None:
            # fired already: `_fire` will see it is no longer current
            with contextlib.suppress(JobLookupError):
                self._sched.remove_job(job_id)
        return True

    async def _fire(self, key: Key, job_id: str) -> None:
        """The APScheduler job: hand the key to our task group and return at once."""
        if self._job_id.get(key) != job_id or self._tg is None or self._closing:
            return  # superseded by a newer deadline, or shutting down
        del self._job_id[key]
        del self._deadline[key]
        self.version += 1
        self._running.add(key)
        self._idle = anyio.Event() if self._idle.is_set() else self._idle
        self._tg.start_soon(self._run, key)

    async def _run(self, key: Key) -> None:
        try:
            await self._run_key(key)
        except Exception:
            log.exception("probe_error", agent=key.agent, profile=key.profile, model=key.model)
        finally:
            self._running.discard(key)
            self.version += 1
            self.runs += 1
            self.progress += 1
            nxt = self._pending.pop(key, None)
            if nxt is not None and not self._closing:
                self._arm(key, nxt)
            if not self._running:
                self._idle.set()

    async def _heartbeat(self) -> None:
        self.progress += 1

    async def _watch_clock(self) -> None:
        base = time.time() - time.monotonic()
        while True:
            await anyio.sleep(self._clock_check_s)
            offset = time.time() - time.monotonic()
            if abs(offset - base) > self._clock_step_s:
                step = offset - base
                base = offset
                log.warning("clock_stepped", seconds=round(step, 3))
                self.rearm_all()
                if self._on_clock_step is not None:
                    self._on_clock_step(step)
