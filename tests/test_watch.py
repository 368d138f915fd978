"""The state watcher: real inotify events on a real directory tree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest

from probed.watch import is_store_file, watch_roots, watch_state


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_atomic(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.1234.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class Batches:
    def __init__(self) -> None:
        self.seen: list[set[Path]] = []

    async def __call__(self, paths: set[Path]) -> None:
        self.seen.append(paths)

    def all(self) -> set[Path]:
        return set().union(*self.seen) if self.seen else set()

    async def until(self, path: Path, timeout: float = 5.0) -> None:
        with anyio.fail_after(timeout):
            while path not in self.all():
                await anyio.sleep(0.02)


def test_store_file_filter() -> None:
    assert is_store_file("/x/agents/main/agent/auth-state.json")
    assert is_store_file("/x/agents/w/agent/openclaw-agent.sqlite-wal")
    assert not is_store_file("/x/agents/main/agent/.auth-state.json.ab12.tmp")
    assert not is_store_file("/x/agents/main/sessions/s1.jsonl")
    assert not is_store_file("/x/agents/main/agent/auth-profiles.json.lock")


def test_roots_follow_the_layout(tmp_path: Path) -> None:
    assert watch_roots(tmp_path) == [tmp_path]  # nothing yet: the root, to see agents/ appear
    (tmp_path / "agents").mkdir()
    assert watch_roots(tmp_path) == [tmp_path / "agents"]
    (tmp_path / "state").mkdir()
    assert watch_roots(tmp_path) == [tmp_path / "agents", tmp_path / "state"]
    assert watch_roots(tmp_path / "missing") == []


@pytest.mark.anyio
async def test_sees_replace_delete_and_new_agents(tmp_path: Path) -> None:
    agent = tmp_path / "agents" / "main" / "agent"
    agent.mkdir(parents=True)
    state = agent / "auth-state.json"
    write_atomic(state, {"version": 1})
    batches = Batches()
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_state, lambda: watch_roots(tmp_path), batches)
        await anyio.sleep(0.3)  # let inotify arm
        write_atomic(state, {"version": 1, "usageStats": {}})  # replaced (new inode)
        await batches.until(state)
        batches.seen.clear()
        write_atomic(state, {"version": 1, "usageStats": {"a": {}}})  # and again
        await batches.until(state)
        batches.seen.clear()
        state.unlink()
        await batches.until(state)
        batches.seen.clear()
        write_atomic(state, {"version": 1})  # back after a delete
        await batches.until(state)
        new_agent = tmp_path / "agents" / "worker" / "agent"
        new_agent.mkdir(parents=True)
        await anyio.sleep(0.3)
        db = new_agent / "openclaw-agent.sqlite"
        db.write_bytes(b"")
        await batches.until(db)
        (tmp_path / "agents" / "main" / "sessions").mkdir()
        (tmp_path / "agents" / "main" / "sessions" / "s.jsonl").write_text("{}")
        await anyio.sleep(0.3)
        tg.cancel_scope.cancel()
    assert not any(p.suffix == ".jsonl" for p in batches.all())
    assert not any(p.name.endswith(".tmp") for p in batches.all())


@pytest.mark.anyio
async def test_agents_dir_created_after_start_is_picked_up(tmp_path: Path) -> None:
    batches = Batches()
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch_state, lambda: watch_roots(tmp_path), batches)
        await anyio.sleep(0.3)
        agent = tmp_path / "agents" / "main" / "agent"
        agent.mkdir(parents=True)
        await anyio.sleep(0.3)
        profiles = agent / "auth-profiles.json"
        write_atomic(profiles, {"version": 1, "profiles": {}})
        await batches.until(profiles)
        batches.seen.clear()
        # the watch restarted on agents/: later writes are still seen
        state = agent / "auth-state.json"
        await anyio.sleep(0.3)
        write_atomic(state, {"version": 1})
        await batches.until(state)
        tg.cancel_scope.cancel()
