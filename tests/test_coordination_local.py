"""The local backend's flight: flock across processes, anyio.Lock inside one, shared results."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from probed.coordination.local import SingleFlight
from probed.errors import ConfigError, StoreBusy

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_lock_dir_is_private_and_the_lock_file_stays(tmp_path: Path) -> None:
    sf = SingleFlight(tmp_path / "locks")

    async def go() -> None:
        async with sf.hold("anthropic", timeout=2):
            pass

    anyio.run(go)
    assert stat.S_IMODE(os.stat(tmp_path / "locks").st_mode) == 0o700
    assert (tmp_path / "locks" / "anthropic.lock").exists()  # never unlinked


def test_another_process_holding_the_lock_times_out_cancellably(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    proc = _holder(lock_dir / "openai.lock", 30)
    try:
        sf = SingleFlight(lock_dir)

        async def go() -> None:
            async with sf.hold("openai", timeout=0.3):
                raise AssertionError("acquired a lock held elsewhere")

        start = time.monotonic()
        with pytest.raises(StoreBusy, match="openai"):
            anyio.run(go)
        assert time.monotonic() - start < 3
    finally:
        proc.kill()
        proc.communicate()


def test_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    proc = _holder(lock_dir / "groq.lock", 30)
    proc.kill()
    proc.communicate()
    sf = SingleFlight(lock_dir)
    got: list[bool] = []

    async def go() -> None:
        async with sf.hold("groq", timeout=2):
            got.append(True)

    anyio.run(go)
    assert got == [True]


def test_in_process_callers_queue_and_reuse_a_fresh_result(tmp_path: Path) -> None:
    sf = SingleFlight(tmp_path / "locks")
    order: list[str] = []
    reused: list[object] = []

    async def leader() -> None:
        async with sf.hold("xai", timeout=5) as flight:
            order.append("leader-in")
            await anyio.sleep(0.2)
            await flight.record("main/xai:default/", {"outcome": "recovered"})
            order.append("leader-out")

    async def follower() -> None:
        await anyio.sleep(0.05)
        async with sf.hold("xai", timeout=5) as flight:
            order.append("follower-in")
            reused.append(await flight.fresh("main/xai:default/", after=flight.started))

    async def go() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(leader)
            tg.start_soon(follower)

    anyio.run(go)
    assert order == ["leader-in", "leader-out", "follower-in"]
    assert isinstance(reused[0], dict) and reused[0]["outcome"] == "recovered"


def test_a_result_from_before_the_caller_started_is_not_reused(tmp_path: Path) -> None:
    sf = SingleFlight(tmp_path / "locks")

    async def go() -> object:
        async with sf.hold("mistral", timeout=2) as flight:
            await flight.record("k", {"outcome": "failed"})
        await anyio.sleep(0.01)
        async with sf.hold("mistral", timeout=2) as flight:
            return await flight.fresh("k", after=flight.started)

    assert anyio.run(go) is None
    results = tmp_path / "locks" / "mistral.results.json"
    assert stat.S_IMODE(os.stat(results).st_mode) == 0o600


def test_a_lock_dir_that_cannot_be_made_is_a_config_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "in-the-way").write_text("")
    sf = SingleFlight(tmp_path / "in-the-way" / "locks")

    async def go() -> None:
        async with sf.hold("anthropic", timeout=2):
            pass

    with pytest.raises(ConfigError, match=r"in-the-way/locks: .*\[daemon\] lock_dir"):
        anyio.run(go)


def test_without_a_timeout_a_waiter_waits_for_the_live_holder_and_never_gives_up(
    tmp_path: Path,
) -> None:
    """No timeout-and-retry-blind: the waiter gets the lock the moment the holder lets go."""
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    proc = _holder(lock_dir / "openai.lock", 1.5)
    try:
        sf = SingleFlight(lock_dir)

        async def go() -> float:
            async with sf.hold("openai"):
                return time.monotonic()

        start = time.monotonic()
        got = anyio.run(go)
        assert proc.wait(timeout=30) == 0  # the holder finished on its own: nothing was stolen
        assert got - start >= 1.0
    finally:
        proc.kill()
        proc.communicate()


def test_the_holder_pid_is_named_in_the_lock_file(tmp_path: Path) -> None:
    sf = SingleFlight(tmp_path / "locks")

    async def go() -> str:
        async with sf.hold("anthropic"):
            return (tmp_path / "locks" / "anthropic.lock").read_text()

    assert anyio.run(go).strip() == str(os.getpid())
