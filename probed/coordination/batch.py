"""Batched flights: whoever holds a provider's flight probes every profile that came due meanwhile.

0.1 gave each due profile its own turn at the provider's lock: 1,000 expiries of one provider
ran one at a time, and callers waiting behind them timed out and retried blind. Here a caller
hands its work (a closure over the held flight) to the provider's queue and waits for its own
answer. The first caller that finds nobody holding this provider's flight in this process
becomes the holder: it takes the flight (`Coordinator.flight`, so across processes and hosts
there is still one flight per provider) and runs the queue until it is empty, including work
queued while it ran. Work is grouped by credential (its `Coordinator.result_key`): one group
runs in submission order, so the first item probes and the rest find its shared result; distinct
groups run concurrently, up to `workers` at a time (each also takes the shared `limiter`, the
`[probe] concurrency` of all providers together).

A waiter never times out: it is woken when its work is done, or when the holder went away
without doing it (cancelled), and then becomes the holder itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import anyio.abc

from probed.coordination.base import Coordinator, Flight
from probed.logs import get_logger

log = get_logger()

T = TypeVar("T")
Work = Callable[[Flight], Awaitable[T]]


@dataclass(eq=False)
class _Request(Generic[T]):
    group: str
    work: Work[T]
    wake: anyio.Event = field(default_factory=anyio.Event)
    done: bool = False
    value: T | None = None
    error: Exception | None = None


@dataclass(eq=False)
class _Provider:
    groups: dict[str, deque[_Request[Any]]] = field(default_factory=dict)
    owned: set[str] = field(default_factory=set)  # groups a worker is running
    holding: bool = False
    workers: int = 0
    ran: int = 0  # work items run in the current flight
    tg: anyio.abc.TaskGroup | None = None
    flight: Flight | None = None


class Batcher:
    def __init__(
        self, coordinator: Coordinator, *, workers: int, limiter: anyio.CapacityLimiter
    ) -> None:
        self.coordinator = coordinator
        self.workers = max(1, workers)
        self.limiter = limiter
        self._providers: dict[str, _Provider] = {}
        self.flights_taken = 0  # how many times this process took a flight (tests, bench)

    async def submit(self, provider: str, group: str, work: Work[T]) -> T:
        """Run `work(flight)` while this process holds `provider`'s flight; its result."""
        st = self._providers.setdefault(provider, _Provider())
        req: _Request[T] = _Request(group, work)
        st.groups.setdefault(group, deque()).append(req)
        try:
            while not req.done:
                if not st.holding:
                    await self._hold(provider, st)
                else:
                    self._spawn(st)
                    await req.wake.wait()
                    req.wake = anyio.Event()
        finally:
            if not req.done:  # this caller went away: its work must not hold up the rest
                self._withdraw(st, req)
        if req.error is not None:
            raise req.error
        return req.value  # type: ignore[return-value]

    async def _hold(self, provider: str, st: _Provider) -> None:
        st.holding = True
        try:
            async with self.coordinator.flight(provider) as flight:
                self.flights_taken += 1
                st.flight = flight
                began = anyio.current_time()
                while self._free_group(st) is not None:
                    async with anyio.create_task_group() as tg:
                        st.tg = tg
                        self._spawn(st)
                    st.tg = None
                log.info(
                    "flight_done",
                    provider=provider,
                    backend=self.coordinator.backend,
                    probes=st.ran,
                    held_s=round(anyio.current_time() - began, 3),
                )
        except Exception as exc:  # the flight itself failed: every queued caller hears why
            for queue in st.groups.values():
                for req in queue:
                    req.done, req.error = True, exc
                    req.wake.set()
            st.groups.clear()
        finally:
            st.holding, st.tg, st.flight, st.workers, st.ran = False, None, None, 0, 0
            st.owned.clear()
            for queue in st.groups.values():  # left undone (cancelled): someone takes over
                for req in queue:
                    req.wake.set()
            if not st.groups:
                self._providers.pop(provider, None)

    @staticmethod
    def _withdraw(st: _Provider, req: _Request[Any]) -> None:
        """Drop a request nobody waits for, unless a worker is running it right now."""
        queue = st.groups.get(req.group)
        if queue is None or req not in queue:
            return
        if req.group in st.owned and queue[0] is req:
            return
        queue.remove(req)
        if not queue and req.group not in st.owned:
            st.groups.pop(req.group, None)

    def _spawn(self, st: _Provider) -> None:
        """Enough workers for the groups waiting, up to `workers`."""
        if st.tg is None:
            return
        waiting = sum(1 for g in st.groups if g not in st.owned)
        while st.workers < self.workers and waiting > 0:
            st.workers += 1
            waiting -= 1
            st.tg.start_soon(self._worker, st)

    @staticmethod
    def _free_group(st: _Provider) -> str | None:
        return next((g for g in st.groups if g not in st.owned), None)

    async def _worker(self, st: _Provider) -> None:
        flight = st.flight
        if flight is None:  # the holder let go before this worker started
            st.workers -= 1
            return
        try:
            while (group := self._free_group(st)) is not None:
                st.owned.add(group)
                queue = st.groups[group]
                try:
                    while queue:
                        req = queue[0]
                        try:
                            async with self.limiter:
                                req.value = await req.work(flight)
                        except Exception as exc:
                            req.error = exc
                        queue.popleft()
                        st.ran += 1
                        req.done = True
                        req.wake.set()
                finally:
                    st.owned.discard(group)
                    if not queue:
                        st.groups.pop(group, None)
        finally:
            st.workers -= 1


class Gathered(Generic[T]):
    """Items many callers hand in at once, acted on together (the repairs of a batch, confirmed
    with one `openclaw secrets reload`): a call while the action runs waits for one more run
    that covers every item handed in meanwhile; a call returns once a run covered its item."""

    def __init__(self, action: Callable[[list[T]], Awaitable[None]]) -> None:
        self._action = action
        self._lock = anyio.Lock()
        self._pending: list[T] = []
        self._generation = 0  # items handed in so far
        self._covered = 0  # items covered by a completed run

    async def __call__(self, item: T) -> None:
        self._pending.append(item)
        self._generation += 1
        mine = self._generation
        async with self._lock:
            if self._covered >= mine:
                return  # a run that started after this item came already finished
            upto, items = self._generation, self._pending
            self._pending = []
            await self._action(items)
            self._covered = upto


class Coalesced:
    """An action that many callers may ask for at once and that needs running only once after
    the last ask (`openclaw secrets reload` after a batch of writes): `Gathered` without items."""

    def __init__(self, action: Callable[[], Awaitable[None]]) -> None:
        async def run(_: list[None]) -> None:
            await action()

        self._gathered: Gathered[None] = Gathered(run)

    async def __call__(self) -> None:
        await self._gathered(None)
