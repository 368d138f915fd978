"""Batched flights: one holder per provider runs every queued caller's work, grouped by
credential, distinct credentials concurrently (bounded), and nobody waits out a timeout."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from probed.coordination import Batcher, Coalesced, Flight, LocalCoordinator
from probed.errors import ConfigError
from probed.ledger import Ledger


def _batcher(tmp_path: Path, workers: int = 4, limit: int = 4) -> Batcher:
    coord = LocalCoordinator(tmp_path / "lock", Ledger(tmp_path / "state"))
    return Batcher(coord, workers=workers, limiter=anyio.CapacityLimiter(limit))


def test_one_flight_runs_every_queued_caller_credentials_concurrently_bounded(
    tmp_path: Path,
) -> None:
    b = _batcher(tmp_path, workers=4)
    running = 0
    most = 0
    order: dict[str, list[int]] = {}

    def work(group: str, i: int):  # type: ignore[no-untyped-def]
        async def run(flight: Flight) -> int:
            nonlocal running, most
            assert flight.provider == "anthropic"
            running += 1
            most = max(most, running)
            order.setdefault(group, []).append(i)
            await anyio.sleep(0.05)
            running -= 1
            return i

        return run

    async def go() -> list[int]:
        out: list[int] = []

        async def call(i: int) -> None:
            out.append(await b.submit("anthropic", f"cred{i % 10}", work(f"cred{i % 10}", i)))

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(call, i)
        return out

    out = anyio.run(go)
    assert sorted(out) == list(range(50))  # everyone got their own answer
    assert b.flights_taken == 1  # one flight for the whole burst
    assert most == 4  # concurrent, and bounded
    for group, seen in order.items():  # one credential: one at a time, in arrival order
        assert seen == sorted(seen), group


def test_work_queued_while_the_holder_runs_joins_the_same_flight(tmp_path: Path) -> None:
    b = _batcher(tmp_path, workers=2)

    async def slow(flight: Flight) -> str:
        await anyio.sleep(0.3)
        return "first"

    async def quick(flight: Flight) -> str:
        return "late"

    async def go() -> list[str]:
        out: list[str] = []

        async def first() -> None:
            out.append(await b.submit("openai", "a", slow))

        async def late() -> None:
            await anyio.sleep(0.1)
            out.append(await b.submit("openai", "b", quick))

        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            tg.start_soon(late)
        return out

    assert sorted(anyio.run(go)) == ["first", "late"]
    assert b.flights_taken == 1


def test_an_error_in_one_work_is_that_callers_alone(tmp_path: Path) -> None:
    b = _batcher(tmp_path)

    async def boom(flight: Flight) -> str:
        raise ValueError("only mine")

    async def fine(flight: Flight) -> str:
        return "ok"

    async def go() -> list[str]:
        out: list[str] = []

        async def call(work, group: str) -> None:  # type: ignore[no-untyped-def]
            try:
                out.append(await b.submit("groq", group, work))
            except ValueError as exc:
                out.append(str(exc))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call, boom, "x")
            tg.start_soon(call, fine, "x")
            tg.start_soon(call, fine, "y")
        return out

    assert sorted(anyio.run(go)) == ["ok", "ok", "only mine"]


def test_a_flight_that_cannot_be_taken_reaches_every_waiting_caller(tmp_path: Path) -> None:
    (tmp_path / "in-the-way").write_text("")
    coord = LocalCoordinator(tmp_path / "in-the-way" / "lock", Ledger(tmp_path / "state"))
    b = Batcher(coord, workers=2, limiter=anyio.CapacityLimiter(2))

    async def never(flight: Flight) -> str:
        raise AssertionError("ran without a flight")

    async def go() -> list[str]:
        out: list[str] = []

        async def call(group: str) -> None:
            try:
                await b.submit("anthropic", group, never)
            except ConfigError as exc:
                out.append(str(exc))

        async with anyio.create_task_group() as tg:
            for g in "abc":
                tg.start_soon(call, g)
        return out

    out = anyio.run(go)
    assert len(out) == 3 and all("lock_dir" in m for m in out)


def test_a_cancelled_holder_hands_the_queue_to_a_waiter(tmp_path: Path) -> None:
    """The holder's caller goes away (its scope cancelled): a waiter takes over at once,
    instead of waiting out anything."""
    b = _batcher(tmp_path, workers=1)
    started = anyio.Event()

    async def hang(flight: Flight) -> str:
        started.set()
        await anyio.sleep_forever()
        return "never"

    async def quick(flight: Flight) -> str:
        return "taken over"

    async def go() -> str:
        result = ""
        holder_scope = anyio.CancelScope()

        async def holder() -> None:
            with holder_scope:
                await b.submit("xai", "mine", hang)

        async def waiter() -> None:
            nonlocal result
            result = await b.submit("xai", "other", quick)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(holder)
                await started.wait()
                tg.start_soon(waiter)
                await anyio.sleep(0.1)
                holder_scope.cancel()
        return result

    assert anyio.run(go) == "taken over"
    assert b.flights_taken == 2


@pytest.mark.parametrize("asks", [1, 5])
def test_coalesced_runs_once_for_asks_that_came_while_it_ran(asks: int) -> None:
    runs = 0

    async def action() -> None:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.1)

    once = Coalesced(action)

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(once)
            await anyio.sleep(0.02)  # the first run is under way
            for _ in range(asks):
                tg.start_soon(once)

    anyio.run(go)
    assert runs == 2  # the first, then one covering every later ask


def test_gathered_acts_on_every_item_once_in_at_most_two_runs() -> None:
    """The repairs of a batch: the first starts a run at once, everything handed in while it
    runs is acted on together in one more run, and each caller returns once its item was."""
    from probed.coordination import Gathered

    runs: list[list[int]] = []
    done: list[int] = []

    async def action(items: list[int]) -> None:
        runs.append(list(items))
        await anyio.sleep(0.1)

    gathered: Gathered[int] = Gathered(action)

    async def one(i: int) -> None:
        await gathered(i)
        assert any(i in run for run in runs)  # covered before it returned
        done.append(i)

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0)
            await anyio.sleep(0.02)  # the first run is under way
            for i in range(1, 50):
                tg.start_soon(one, i)

    anyio.run(go)
    assert runs == [[0], list(range(1, 50))]
    assert sorted(done) == list(range(50))
