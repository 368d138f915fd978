"""The Coordinator contract, run against every backend.

"Hosts" are what each backend coordinates: for local, processes of one host (one lock
directory, one ledger); for redis, hosts that share only the Redis and the namespace (each its
own lock directory and ledger).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from helpers.redisserver import RedisServer

from probed.coordination import Coordinator, LocalCoordinator
from probed.coordination.redisbackend import RedisCoordinator
from probed.ledger import Ledger

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)
KEY = "sk-ant-api03-CONTRACT-0001-aaaaaaaaaaaaaaaaaaaa"
_ns = itertools.count()

Hosts = Callable[[int], list[Coordinator]]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["local", "redis"])
def hosts(request: pytest.FixtureRequest, tmp_path: Path) -> Hosts:
    backend = request.param
    namespace = f"contract{next(_ns)}"

    def make(n: int) -> list[Coordinator]:
        out: list[Coordinator] = []
        for i in range(n):
            if backend == "local":
                out.append(LocalCoordinator(tmp_path / "lock", Ledger(tmp_path / "state")))
            else:
                server = request.getfixturevalue("redis_server")
                local = LocalCoordinator(tmp_path / f"lock{i}", Ledger(tmp_path / f"state{i}"))
                out.append(RedisCoordinator(server.url, namespace, local))
        return out

    return make


async def _close(cs: list[Coordinator]) -> None:
    for c in cs:
        await c.aclose()


def test_one_flight_per_provider_at_a_time_across_hosts(hosts: Hosts) -> None:
    cs = hosts(3)
    inside = 0
    most = 0

    async def fly(c: Coordinator) -> None:
        nonlocal inside, most
        async with c.flight("anthropic"):
            inside += 1
            most = max(most, inside)
            await anyio.sleep(0.15)
            inside -= 1

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            for c in cs:
                tg.start_soon(fly, c)
        await _close(cs)

    anyio.run(go)
    assert most == 1


def test_different_providers_fly_at_the_same_time(hosts: Hosts) -> None:
    a, b = hosts(2)
    both = anyio.Event()
    seen: list[str] = []

    async def fly(c: Coordinator, provider: str) -> None:
        async with c.flight(provider):
            seen.append(provider)
            if len(seen) == 2:
                both.set()
            with anyio.fail_after(10):
                await both.wait()

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(fly, a, "anthropic")
            tg.start_soon(fly, b, "openai")
        await _close([a, b])

    anyio.run(go)
    assert sorted(seen) == ["anthropic", "openai"]


def test_a_waiter_waits_out_a_long_holder_without_timing_out(hosts: Hosts) -> None:
    """No timeout and no blind retry: the waiter gets the flight when the holder lets go."""
    a, b = hosts(2)
    released = 0.0
    got = 0.0

    async def holder(ready: anyio.Event) -> None:
        nonlocal released
        async with a.flight("groq"):
            ready.set()
            await anyio.sleep(1.2)
            released = time.monotonic()

    async def go() -> None:
        nonlocal got
        ready = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(holder, ready)
            await ready.wait()
            async with b.flight("groq"):
                got = time.monotonic()
        await _close([a, b])

    anyio.run(go)
    assert got >= released > 0


def test_a_result_is_shared_per_credential_with_every_host(hosts: Hosts) -> None:
    a, b = hosts(2)

    async def go() -> tuple[object, object, object, str, str, str]:
        ka = await a.result_key("anthropic", KEY, None)
        kb = await b.result_key("anthropic", KEY, None)
        other = await b.result_key("anthropic", KEY + "x", None)
        before = time.time()
        async with a.flight("anthropic") as f:
            await f.record(ka, {"outcome": "recovered", "agent": "main"})
        async with b.flight("anthropic") as f:
            fresh = await f.fresh(kb, after=before)
            stale = await f.fresh(kb, after=time.time() + 1)
            absent = await f.fresh(other, after=before)
        await _close([a, b])
        return fresh, stale, absent, ka, kb, other

    fresh, stale, absent, ka, kb, other = anyio.run(go)
    assert isinstance(fresh, dict) and fresh["outcome"] == "recovered"
    assert stale is None  # obtained before the question was asked: not an answer
    assert absent is None
    assert ka == kb != other


def test_the_result_key_holds_nothing_of_the_credential(hosts: Hosts) -> None:
    (a,) = hosts(1)

    async def go() -> str:
        k = await a.result_key("anthropic", KEY, "claude-haiku-4-5")
        await a.aclose()
        return k

    key = anyio.run(go)
    assert KEY not in key
    for part in (KEY[:12], KEY[-12:], "CONTRACT", "aaaaaaaa"):
        assert part not in key
    assert key.endswith("/claude-haiku-4-5")  # the model is not a secret


def test_the_daily_budget_is_shared_and_never_exceeded(hosts: Hosts) -> None:
    cs = hosts(3)

    async def go() -> list[tuple[bool, bool]]:
        out: list[tuple[bool, bool]] = []

        async def spend(c: Coordinator) -> None:
            out.append(await c.spend("anthropic", NOW, 4))

        async with anyio.create_task_group() as tg:
            for c in cs * 3:
                tg.start_soon(spend, c)
        out.append(await cs[0].spend("openai", NOW, 4))  # per provider
        await _close(cs)
        return out

    out = anyio.run(go)
    anthropic, openai = out[:-1], out[-1]
    assert sum(allowed for allowed, _ in anthropic) == 4
    assert sum(warn for _, warn in anthropic) == 1  # warned once per provider and day
    assert openai == (True, False)


def test_the_fencing_check_passes_while_the_flight_is_held(hosts: Hosts) -> None:
    (a,) = hosts(1)

    async def go() -> None:
        async with a.flight("anthropic") as f:
            await f.check()
        await a.aclose()

    anyio.run(go)
