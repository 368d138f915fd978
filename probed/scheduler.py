"""When each probe runs: one deadline per unusable (agent, profile[, model]) key, on one timer.

The deadlines live in a heap owned here, and one task sleeps until the earliest of them. Arming a
key is a push (about a microsecond), so start-up arms 10,000 keys in milliseconds; as one
APScheduler job each they took half a second, `add_job` checking the callable's signature every
time. APScheduler 3.11 still runs the heartbeat job, whose pitfalls are configured around:

- a one-shot more than `misfire_grace_time` late is silently dropped: the grace is None;
- naive datetimes are read in local time: the scheduler runs in UTC and only aware datetimes go in;
- job tasks live outside structured concurrency: the probe runs are ours, `drain()` finishes or
  cancels them;
- deadlines are wall-clock times: a step of the wall clock against the monotonic one wakes the
  timer (and APScheduler) to measure every remaining wait again.

A key runs at most once at a time. A deadline that arrives while its key is running is kept and
applied when the run ends (never dropped). A `progress` counter moves on every completed run and on
a heartbeat job, so the daemon can feed systemd's watchdog only while the scheduler really works.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import anyio
import anyio.abc
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from probed.logs import get_logger

log = get_logger()


class Key(NamedTuple):
    """What one job probes: a profile of an agent, optionally one model of it.

    A named tuple, not a frozen dataclass: a pass looks each of a store's keys up a dozen
    times, and the dataclass's hash and equality ran in Python (a fifth of a pass over 1,000
    windows); a tuple's run in C."""

    agent: str
    profile: str
    model: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.model}" if self.model else ""
        return f"{self.agent}:{self.profile}{tail}"


RunKey = Callable[[Key], Awaitable[None]]
MAX_SLEEP_S = 30.0  # the timer measures its wait again at least this often


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
        self._deadline: dict[Key, datetime] = {}  # key -> when it fires (armed)
        self._armed_seq: dict[Key, int] = {}  # key -> its live entry in the heap
        # (at, seq, key); an entry whose seq is not the key's armed one is stale, and skipped
        self._heap: list[tuple[datetime, int, Key]] = []
        self._wake = anyio.Event()  # set when the earliest deadline may have moved
        self._serving = False
        self._tracked: set[Key] = set()  # keys with a deadline or a run (see _track)
        self._by_agent: dict[str, set[Key]] = {}  # the tracked keys of each agent
        self._per_profile: Counter[tuple[str, str]] = Counter()  # of the tracked keys
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
                tg.start_soon(self._timer)
                self._serving = True
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._serving = False
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
            self._track(key)
            self.version += 1
        else:
            self._arm(key, at)

    def schedule_many(self, items: Iterable[tuple[Key, datetime]]) -> None:
        """Like `schedule` for each item (start-up arms 10,000 keys this way)."""
        for key, at in items:
            self.schedule(key, at)

    def cancel(self, key: Key) -> bool:
        """Forget the key's deadline (a run in flight finishes). True if something was armed."""
        had = self._disarm(key) or self._pending.pop(key, None) is not None
        self._track(key)
        self.version += 1
        return had

    def deadline(self, key: Key) -> datetime | None:
        return self._pending.get(key) or self._deadline.get(key)

    def scheduled(self) -> set[Key]:
        """Every key with a deadline (armed or waiting for its run to end)."""
        return set(self._deadline) | set(self._pending)

    def scheduled_of(self, agent: str) -> list[Key]:
        """The keys of one agent with a deadline: a pass over one store asks, and `scheduled`
        builds a set of every agent's keys (10,000 at 100,000 profiles)."""
        return [k for k in self._by_agent.get(agent, ()) if self.is_scheduled(k)]

    def is_scheduled(self, key: Key) -> bool:
        return key in self._deadline or key in self._pending

    def is_running(self, key: Key) -> bool:
        return key in self._running

    def running(self) -> set[Key]:
        return set(self._running)

    def upcoming(self) -> list[tuple[datetime, Key]]:
        return sorted((at, k) for k, at in {**self._deadline, **self._pending}.items())

    def earliest(self) -> tuple[datetime, Key] | None:
        """The next deadline, from the heap's head (STATUS= asks every second)."""
        head = self._head()
        best = (head[0], head[2]) if head is not None else None
        if self._pending:
            key = min(self._pending, key=self._pending.__getitem__)
            if best is None or self._pending[key] < best[0]:
                best = (self._pending[key], key)
        return best

    def unusable_profiles(self) -> int:
        """Distinct (agent, profile) with a deadline or a run: kept as keys come and go, so
        STATUS= never walks 10,000 keys on the event loop while probes run."""
        return len(self._per_profile)

    def _track(self, key: Key) -> None:
        """Count the key's profile while the key has a deadline (armed or pending) or a run."""
        tracked = key in self._deadline or key in self._pending or key in self._running
        if tracked == (key in self._tracked):
            return
        profile = (key.agent, key.profile)
        if tracked:
            self._tracked.add(key)
            self._by_agent.setdefault(key.agent, set()).add(key)
            self._per_profile[profile] += 1
        else:
            self._tracked.discard(key)
            of_agent = self._by_agent.get(key.agent)
            if of_agent is not None:
                of_agent.discard(key)
                if not of_agent:
                    del self._by_agent[key.agent]
            self._per_profile[profile] -= 1
            if self._per_profile[profile] <= 0:
                del self._per_profile[profile]

    def rearm_all(self) -> None:
        """Measure every wait again (after a wall-clock step: the timer slept on the old one)."""
        self._wake.set()
        if self._sched is not None:
            self._sched.wakeup()

    # ---- internals -------------------------------------------------------------------------

    def _arm(self, key: Key, at: datetime) -> None:
        if not self._serving:
            raise RuntimeError("the scheduler is not running")
        seq = next(self._seq)
        self._armed_seq[key] = seq  # any older entry of the key is stale from now on
        self._deadline[key] = at
        self.version += 1
        self._track(key)
        head = self._head()
        heapq.heappush(self._heap, (at, seq, key))
        if head is None or at < head[0]:
            self._wake.set()
        if len(self._heap) > 2 * len(self._armed_seq) + 1024:  # mostly stale: rebuild
            self._heap = [e for e in self._heap if self._armed_seq.get(e[2]) == e[1]]
            heapq.heapify(self._heap)

    def _disarm(self, key: Key) -> bool:
        seq = self._armed_seq.pop(key, None)
        self._deadline.pop(key, None)
        self.version += 1
        self._track(key)
        return seq is not None  # its heap entry is stale now, and skipped when reached

    def _head(self) -> tuple[datetime, int, Key] | None:
        """The earliest live entry, dropping the stale ones above it."""
        heap = self._heap
        while heap and self._armed_seq.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)
        return heap[0] if heap else None

    async def _timer(self) -> None:
        """Sleep until the earliest deadline (or until it moves), fire what is due, repeat."""
        while True:
            self._wake = anyio.Event()  # before looking: an arm from here on sets this one
            wait = self._fire_due()
            if wait is None:
                await self._wake.wait()
            else:
                with anyio.move_on_after(min(wait, MAX_SLEEP_S)):
                    await self._wake.wait()

    def _fire_due(self) -> float | None:
        """Start every key whose deadline has come; seconds until the next one, if any."""
        now = datetime.now(UTC)
        while (head := self._head()) is not None:
            at, _, key = head
            if at > now:
                return (at - now).total_seconds()
            if self._closing:
                return None  # draining: nothing fires (the deadlines stay, as they are)
            heapq.heappop(self._heap)
            self._fire(key)
        return None

    def _fire(self, key: Key) -> None:
        """Hand the key to our task group: the run is ours to finish or cancel."""
        if self._tg is None:
            return
        del self._armed_seq[key]
        del self._deadline[key]
        self.version += 1
        self._running.add(key)
        self._track(key)
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
            self._track(key)
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
