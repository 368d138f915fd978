"""The redis backend beyond the contract: expiry and keep-alive, fencing, Redis killed, paused
and restarted mid-flight, the budget across a restart, the password kept out of every output."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from helpers.redisserver import RedisServer

from probed.coordination import CoordinationUnavailable, FlightLost, LocalCoordinator
from probed.coordination.redisbackend import RedisCoordinator
from probed.coordination.urls import describe, redact
from probed.ledger import Ledger

NOW = datetime(2026, 10, 7, 12, 0, tzinfo=UTC)
PASSWORD = "s3cret-redis-PASSWORD-0042"
_ns = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis"), password=PASSWORD) as s:
        yield s


def _coord(server: RedisServer, tmp: Path, i: int, ns: str, **kw: Any) -> RedisCoordinator:
    local = LocalCoordinator(tmp / f"lock{i}", Ledger(tmp / f"state{i}"))
    return RedisCoordinator(server.url, ns, local, **kw)


def _events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in logs if e.get("event") == name]


def test_urls_are_shown_without_their_password() -> None:
    url = f"redis://probed:{PASSWORD}@db.example:6380/2"
    assert describe(url) == "redis://db.example:6380/2"
    assert redact(url) == "redis://probed:***@db.example:6380/2"
    assert PASSWORD not in redact(f"redis://:{PASSWORD}@h:1/0")
    assert redact("redis://h:1/0") == "redis://h:1/0"
    assert redact(f"redis://h:1/0?password={PASSWORD}&db=2") == "redis://h:1/0?password=***&db=2"
    assert PASSWORD not in describe(f"redis://h:1/0?password={PASSWORD}")


def test_a_dead_holders_flight_expires_and_a_live_one_is_kept_alive(
    server: RedisServer, tmp_path: Path
) -> None:
    """Expiry 0.6 s: a holder that keeps running keeps the flight for 2 s (extended), while
    a holder that vanished without releasing it frees it within the expiry."""
    ns = f"keep{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns, lock_ttl=0.6)
    b = _coord(server, tmp_path, 1, ns, lock_ttl=0.6)

    async def go() -> tuple[float, float]:
        ready = anyio.Event()
        released = 0.0

        async def holder() -> None:
            nonlocal released
            async with a.flight("anthropic"):
                ready.set()
                await anyio.sleep(2.0)
                released = time.monotonic()

        async with anyio.create_task_group() as tg:
            tg.start_soon(holder)
            await ready.wait()
            async with b.flight("anthropic"):
                got = time.monotonic()
        # a holder that died: its key stays behind with its expiry, nobody releases it
        await a.redis.set(a.key("flight", "openai"), "deadhost:1:x", px=600)
        t0 = time.monotonic()
        async with b.flight("openai"):
            freed = time.monotonic() - t0
        await a.aclose()
        await b.aclose()
        return got - released, freed

    after_release, freed = anyio.run(go)
    assert after_release >= 0  # never while the live holder kept it (3x its expiry)
    assert 0.2 < freed < 5


def test_the_fencing_check_refuses_a_holder_whose_flight_was_taken(
    server: RedisServer, tmp_path: Path
) -> None:
    ns = f"fence{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns)

    async def go() -> None:
        async with a.flight("anthropic") as f:
            await f.check()
            await a.redis.set(a.key("flight", "anthropic"), "otherhost:2:y")
            with pytest.raises(FlightLost, match="anthropic"):
                await f.check()
        await a.aclose()

    anyio.run(go)


def test_redis_killed_and_restarted_mid_flight(server: RedisServer, tmp_path: Path) -> None:
    """No crash; the budget fails closed while Redis is away; the flight goes on; logged once
    each way; a restarted Redis (every key lost) gives the flight back to its holder."""
    ns = f"restart{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns, lock_ttl=1.0, op_timeout=0.5)

    async def go() -> list[str]:
        outcomes: list[str] = []
        async with a.flight("anthropic") as f:
            assert await a.spend("anthropic", NOW, 5) == (True, False)
            server.kill()
            for _ in range(3):
                with pytest.raises(CoordinationUnavailable, match=r"redis://127\.0\.0\.1"):
                    await a.spend("anthropic", NOW, 5)
            await f.record("k/", {"outcome": "recovered"})  # best effort: no error
            await f.check()  # unreachable: the host's own flight still holds
            outcomes.append("survived")
            await anyio.to_thread.run_sync(server.start)
            await anyio.sleep(1.0)  # the keeper notices and takes the vanished key back
            await f.check()
            holder = await a.redis.get(a.key("flight", "anthropic"))
            outcomes.append("held" if holder and holder.startswith(os.uname().nodename) else "-")
        await a.aclose()
        return outcomes

    with structlog.testing.capture_logs() as logs:
        outcomes = anyio.run(go)
    assert outcomes == ["survived", "held"]
    assert len(_events(logs, "coordination_unavailable")) == 1
    assert len(_events(logs, "coordination_restored")) == 1
    assert PASSWORD not in json.dumps(logs, default=str)


def test_a_flight_taken_while_redis_is_down_falls_back_to_the_host(
    server: RedisServer, tmp_path: Path
) -> None:
    ns = f"down{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns, op_timeout=0.5)
    server.kill()
    try:

        async def go() -> str:
            async with a.flight("anthropic") as f:
                await f.record("k/", {"outcome": "recovered"})
                got = await f.fresh("k/", after=0)
            await a.aclose()
            return str(got and got["outcome"])

        with structlog.testing.capture_logs() as logs:
            assert anyio.run(go) == "recovered"  # the host's results file still shares it
        assert len(_events(logs, "coordination_unavailable")) == 1
    finally:
        server.start()


def test_a_paused_redis_is_slow_not_fatal(server: RedisServer, tmp_path: Path) -> None:
    ns = f"slow{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns, op_timeout=0.5)
    server.pause()
    try:

        async def go() -> float:
            t0 = time.monotonic()
            with pytest.raises(CoordinationUnavailable):
                await a.spend("anthropic", NOW, 5)
            took = time.monotonic() - t0
            await a.aclose()
            return took

        assert anyio.run(go) < 5  # bounded by op_timeout, not by Redis
    finally:
        server.resume()


def test_a_restart_that_loses_the_count_does_not_refill_the_budget(
    server: RedisServer, tmp_path: Path
) -> None:
    ns = f"budget{next(_ns)}"
    a = _coord(server, tmp_path, 0, ns)

    async def go() -> list[bool]:
        got = [(await a.spend("anthropic", NOW, 3))[0] for _ in range(2)]
        await anyio.to_thread.run_sync(server.restart)
        for _ in range(3):
            try:
                got.append((await a.spend("anthropic", NOW, 3))[0])
            except CoordinationUnavailable:  # the first call after a restart may see it drop
                continue
        await a.aclose()
        return got

    assert sum(anyio.run(go)) == 3


def test_a_wrong_password_is_unavailable_and_never_printed(
    server: RedisServer, tmp_path: Path
) -> None:
    wrong = "WRONG-password-9911"
    local = LocalCoordinator(tmp_path / "lock", Ledger(tmp_path / "state"))
    a = RedisCoordinator(f"redis://:{wrong}@127.0.0.1:{server.port}/0", "pw", local)

    async def go() -> None:
        with pytest.raises(CoordinationUnavailable) as info:
            await a.spend("anthropic", NOW, 5)
        assert wrong not in str(info.value)
        await a.aclose()

    with structlog.testing.capture_logs() as logs:
        anyio.run(go)
    assert len(_events(logs, "coordination_unavailable")) == 1
    assert wrong not in json.dumps(logs, default=str)


def _config_check(cfg: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "probed", "config", "check", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "probed.toml"
    path.write_text(
        f'[daemon]\nlock_dir = "{tmp_path / "lock"}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[openclaw]\nstate_dir = "{tmp_path / "oc"}"\n'
        f'[coordination]\nbackend = "redis"\nredis_url = "{url}"\nnamespace = "team-a"\n',
        encoding="utf-8",
    )
    return path


def test_config_check_shows_the_redis_url_without_its_password(
    server: RedisServer, tmp_path: Path
) -> None:
    cfg = _config(tmp_path, server.url)
    p = _config_check(cfg)
    assert p.returncode == 0, p.stderr
    assert PASSWORD not in p.stdout + p.stderr
    assert f"redis://***@127.0.0.1:{server.port}/0" in p.stdout
    assert 'namespace = "team-a"' in p.stdout


def test_the_url_may_come_from_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "probed.toml"
    cfg.write_text('[coordination]\nbackend = "redis"\n', encoding="utf-8")
    env = {**os.environ, "PROBED_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0"}
    p = _config_check(cfg, env)
    assert p.returncode == 0, p.stderr
    assert PASSWORD not in p.stdout + p.stderr
    assert "redis://***@127.0.0.1:1/0" in p.stdout
    env.pop("PROBED_REDIS_URL")
    p = _config_check(cfg, env)
    assert p.returncode == 78
    assert "coordination.redis_url" in p.stderr and "PROBED_REDIS_URL" in p.stderr


NO_REDIS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "redis" or name.startswith("redis."):
            raise ImportError("no redis here")
        return None
sys.meta_path.insert(0, Block())
from probed.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_redis_backend_without_the_redis_extra_is_exit_78_naming_it(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"redis://:{PASSWORD}@127.0.0.1:1/0")
    for argv in (["config", "check"], ["status"]):
        p = subprocess.run(
            [sys.executable, "-c", NO_REDIS, *argv, "-c", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert p.returncode == 78, p.stderr
        assert "openclaw-probed[redis]" in p.stderr
        assert "coordination.backend" in p.stderr
        assert "Traceback" not in p.stderr
        assert PASSWORD not in p.stdout + p.stderr


def test_a_shared_secret_keys_the_fingerprint_so_redis_alone_cannot_test_a_guess() -> None:
    from probed.coordination.fingerprint import SECRET_ENV, Fingerprints

    key = "sk-1234"  # a hand-made, guessable key
    plain = Fingerprints("team").compute("litellm", key)
    assert Fingerprints("team").compute("litellm", key) == plain  # hosts agree
    assert Fingerprints("other").compute("litellm", key) != plain  # namespaces do not
    a = Fingerprints("team", {SECRET_ENV: "s1"}).compute("litellm", key)
    b = Fingerprints("team", {SECRET_ENV: "s1"}).compute("litellm", key)
    c = Fingerprints("team", {SECRET_ENV: "s2"}).compute("litellm", key)
    assert a == b != c and a != plain
    for fp in (plain, a):
        assert key not in fp and len(fp) == 32
