"""recover's flight entry: batched flights, one probe per credential, results shared across
agents and hosts (the redis backend), the budget failing closed when Redis is away."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from helpers.probestate import billing, read_usage, write_config, write_store
from helpers.redisserver import RedisServer

from probed.config import load_config
from probed.coordination import FlightLost
from probed.fakeprovider import FakeProvider
from probed.recover import ProbeResult, make_context, probe_profile, probe_target
from probed.stores.discover import discover

_ns = itertools.count()


def _key(i: int) -> str:
    return f"sk-ant-api03-SECRET-FLIGHT-{i:04d}-aaaaaaaaaaaaaaaa"


def _host(tmp: Path, fake: FakeProvider, profiles: dict[str, str], *, extra: str = "") -> Path:
    """One host: its own OpenClaw state (every profile in a billing window), lock dir, ledger."""
    tmp.mkdir(parents=True, exist_ok=True)
    oc = tmp / "oc"
    write_store(
        oc,
        {
            pid: {"type": "api_key", "provider": "anthropic", "key": k}
            for pid, k in profiles.items()
        },
        {pid: billing() for pid in profiles},
    )
    return write_config(
        tmp,
        oc,
        providers={"anthropic": {"base_url": fake.base_url, "model": "claude-haiku-4-5"}},
        extra=extra,
    )


def _redis_extra(server: RedisServer, ns: str) -> str:
    return f'[coordination]\nbackend = "redis"\nredis_url = "{server.url}"\nnamespace = "{ns}"\n'


async def _probe_all(cfg: Path, target: str = "anthropic") -> tuple[list[ProbeResult], int]:
    config = load_config(cfg)
    ctx = make_context(config)
    async with ctx.client:
        results = await probe_target(ctx, discover(config.openclaw), target)
    assert ctx.coordinator is not None and ctx.batches is not None
    await ctx.coordinator.aclose()
    return results, ctx.batches.flights_taken


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


def test_a_provider_wide_probe_is_one_flight_with_credentials_probed_concurrently(
    tmp_path: Path,
) -> None:
    n = 12
    with FakeProvider(delay=0.4) as fake:
        cfg = _host(tmp_path, fake, {f"anthropic:p{i}": _key(i) for i in range(n)})
        results, flights = anyio.run(_probe_all, cfg)
        counts = fake.counts()
        arrivals = sorted(r.at for r in fake.requests)
    assert [r.profile for r in results] == [f"anthropic:p{i}" for i in range(n)]  # in order
    assert all(r.outcome == "recovered" for r in results)
    assert counts.paid == n  # one paid probe per credential, none twice
    assert flights == 1
    # each request is answered 0.4 s after it arrived at the earliest: the most that were
    # certainly in flight together is a lower bound of the real concurrency, ([probe]
    # concurrency = 4) its upper bound
    overlap = max(sum(1 for b in arrivals if a <= b < a + 0.4) for a in arrivals)
    assert 2 <= overlap <= 4, arrivals
    for i in range(n):
        assert "disabledUntil" not in read_usage(tmp_path / "oc", f"anthropic:p{i}")


def test_profiles_sharing_a_credential_are_probed_once_and_all_cleared(tmp_path: Path) -> None:
    oc = tmp_path / "oc"
    with FakeProvider(delay=0.2) as fake:
        for agent in ("main", "work", "cron"):
            write_store(
                oc,
                {"anthropic:default": {"type": "api_key", "provider": "anthropic", "key": _key(7)}},
                {"anthropic:default": billing()},
                agent=agent,
            )
        cfg = write_config(
            tmp_path,
            oc,
            providers={"anthropic": {"base_url": fake.base_url, "model": "claude-haiku-4-5"}},
        )
        results, _ = anyio.run(_probe_all, cfg)
        counts = fake.counts()
    assert counts.paid == 1
    assert sorted(r.agent for r in results) == ["cron", "main", "work"]
    assert all(r.outcome == "recovered" for r in results)
    assert sum(r.reused for r in results) == 2 and sum(r.paid for r in results) == 1
    for agent in ("main", "work", "cron"):
        assert "disabledUntil" not in read_usage(oc, "anthropic:default", agent=agent)


def test_three_hosts_sharing_a_key_pay_one_request_per_recovery(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Three hosts (own state, locks, ledger; one Redis) whose windows end at different
    moments: the first pays, the other two take its success into their own stores, because it
    was obtained after their own failure."""
    ns = f"three{next(_ns)}"
    with FakeProvider(delay=0.1) as fake:
        cfgs = [
            _host(tmp_path / f"host{h}", fake, {"anthropic:default": _key(1)},
                  extra=_redis_extra(redis_server, ns))
            for h in range(3)
        ]  # fmt: skip
        outs = []
        for cfg in cfgs:  # one after another: nobody waited for anybody
            results, _ = anyio.run(_probe_all, cfg)
            outs.append(results[0])
        counts = fake.counts()
    assert counts.paid == 1
    assert [r.outcome for r in outs] == ["recovered"] * 3
    assert [r.reused for r in outs] == [False, True, True]
    for h in range(3):
        assert "disabledUntil" not in read_usage(tmp_path / f"host{h}" / "oc", "anthropic:default")


def test_a_failure_from_before_the_question_is_not_reused(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    ns = f"stale{next(_ns)}"
    with FakeProvider() as fake:
        fake.respond(status=402, kind="paid")
        a = _host(tmp_path / "a", fake, {"anthropic:default": _key(2)},
                  extra=_redis_extra(redis_server, ns))  # fmt: skip
        b = _host(tmp_path / "b", fake, {"anthropic:default": _key(2)},
                  extra=_redis_extra(redis_server, ns))  # fmt: skip
        first, _ = anyio.run(_probe_all, a)
        time.sleep(0.05)
        second, _ = anyio.run(_probe_all, b)
        counts = fake.counts()
    assert first[0].outcome == second[0].outcome == "failed"
    assert not second[0].reused
    assert counts.paid == 2  # a failure is an answer only for questions asked before it


def test_redis_away_fails_paid_probes_closed_and_says_so_once(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server, FakeProvider() as fake:
        cfg = _host(
            tmp_path / "host",
            fake,
            {f"anthropic:p{i}": _key(10 + i) for i in range(3)},
            extra=_redis_extra(server, "away"),
        )
        server.kill()
        with structlog.testing.capture_logs() as logs:
            results, _ = anyio.run(_probe_all, cfg)
        counts = fake.counts()
    assert counts.paid == 0  # the shared budget could not be checked: nothing billable sent
    assert all(r.outcome == "skipped" for r in results)
    assert all(r.failure and "cannot be reached" in r.failure.message for r in results)
    assert [e["event"] for e in logs].count("coordination_unavailable") == 1
    for i in range(3):  # nothing written: the window stands
        assert "disabledUntil" in read_usage(tmp_path / "host" / "oc", f"anthropic:p{i}")


def test_a_flight_lost_before_the_write_writes_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The fencing check: another holder took the flight while the probe was out."""
    ns = f"lost{next(_ns)}"
    with FakeProvider(delay=0.5) as fake:
        cfg = _host(tmp_path, fake, {"anthropic:default": _key(3)},
                    extra=_redis_extra(redis_server, ns))  # fmt: skip
        config = load_config(cfg)

        async def go() -> ProbeResult:
            ctx = make_context(config)
            store = discover(config.openclaw)[0]
            assert ctx.coordinator is not None
            redis = ctx.coordinator.redis  # type: ignore[attr-defined]

            async def steal() -> None:
                while not fake.requests:
                    await anyio.sleep(0.01)
                await redis.set(f"{ns}:flight:anthropic", "otherhost:9:z")

            async with ctx.client, anyio.create_task_group() as tg:
                tg.start_soon(steal)
                result = await probe_profile(ctx, store, "anthropic:default", force=True)
            await ctx.coordinator.aclose()
            return result

        result = anyio.run(go)
    assert result.outcome == "skipped"
    assert result.failure is not None and "another holder" in result.failure.message
    assert "disabledUntil" in read_usage(tmp_path / "oc", "anthropic:default")


class _StubFlight:
    provider = "anthropic"

    def __init__(self, *, can_be_lost: bool) -> None:
        self.can_be_lost = can_be_lost
        self.checks = 0

    async def fresh(self, key: str, *, after: float) -> None:
        return None

    async def record(self, key: str, outcome: object) -> None:
        return None

    async def check(self) -> None:
        self.checks += 1
        raise FlightLost("anthropic's flight passed to another holder")


@pytest.mark.parametrize("can_be_lost", [True, False])
def test_a_write_is_fenced_only_by_a_flight_that_can_be_lost(
    tmp_path: Path, can_be_lost: bool
) -> None:
    """A flock is never lost: its writes skip the check, and the hop back to the event loop
    inside the write. A flight that can be lost is checked before every write."""
    from helpers.ocstate import era_c_agent

    from probed.recover import _Fenced
    from probed.stores.sqlitestore import SqliteStore

    db = era_c_agent(tmp_path, {"anthropic:a": {"errorCount": 1}})
    store = SqliteStore("worker", db.parent, db)
    flight = _StubFlight(can_be_lost=can_be_lost)

    def bump(state: dict[str, Any], _profiles: object) -> None:
        state["usageStats"]["anthropic:a"] = {"errorCount": 5}

    async def go() -> None:
        await anyio.to_thread.run_sync(lambda: _Fenced(store, flight).update(bump))  # type: ignore[arg-type]

    if can_be_lost:
        with pytest.raises(FlightLost):
            anyio.run(go)
    else:
        anyio.run(go)
    assert flight.checks == (1 if can_be_lost else 0)
    assert store.read().usage("anthropic:a").error_count == (1 if can_be_lost else 5)


class _CountingStore:
    """A store whose reads are counted (what a probe read, and when)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.agent = store.agent
        self.agent_dir = store.agent_dir
        self.era = store.era
        self.location = store.location
        self.reads = 0

    def read(self) -> Any:
        self.reads += 1
        return self._store.read()

    def update(self, mutate: Any) -> Any:
        return self._store.update(mutate)

    def watch_paths(self) -> Any:
        return self._store.watch_paths()


def test_a_callers_read_picks_the_flight_and_the_probe_decides_on_its_own_read(
    tmp_path: Path,
) -> None:
    """The daemon has just read the store to see the key is due: that read is not made again
    before the flight, and the probe itself decides on what the store says inside it."""
    with FakeProvider() as fake:
        cfg = _host(tmp_path, fake, {"anthropic:default": _key(5)})
        config = load_config(cfg)
        agent_dir = tmp_path / "oc" / "agents" / "main" / "agent"

        async def go() -> ProbeResult:
            ctx = make_context(config)
            store = _CountingStore(discover(config.openclaw)[0])
            early = store.read()  # the caller's read: a billing window
            t = int(time.time() * 1000)
            auth = {"cooldownUntil": t + 60_000, "cooldownReason": "auth", "lastFailureAt": t}
            (agent_dir / "auth-state.json").write_text(
                json.dumps({"version": 1, "usageStats": {"anthropic:default": auth}})
            )
            started: list[int] = []
            async with ctx.client:
                result = await probe_profile(
                    ctx,
                    store,
                    "anthropic:default",
                    force=True,
                    snap=early,
                    on_started=lambda: started.append(len(fake.requests)),
                )
            assert store.reads == 2  # the caller's, and the probe's inside the flight
            assert started == [0]  # told once, as the probe started, before it sent anything
            assert ctx.coordinator is not None
            await ctx.coordinator.aclose()
            return result

        result = anyio.run(go)
        counts = fake.counts()
    assert result.usable
    assert counts.paid == 0 and counts.free >= 1  # an auth window: a free check proves it
