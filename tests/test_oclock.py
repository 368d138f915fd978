"""OpenClaw's lock protocol: format, exclusion, stale rules, bounded wait, safe release."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from probed.errors import StoreBusy
from probed.stores.oclock import (
    AgentLock,
    Holder,
    is_stale,
    lock_path,
    parse_holder,
    proc_starttime,
)


def test_lock_file_format_and_release(tmp_path: Path) -> None:
    link = tmp_path / "linkdir"
    real = tmp_path / "real"
    real.mkdir()
    link.symlink_to(real)
    with AgentLock(link) as held:
        assert held.path == real / "auth-profiles.json.lock"  # realpath'd dir, as OpenClaw
        text = held.path.read_text()
        data = json.loads(text)
        assert list(data) == ["pid", "createdAt", "starttime"]
        assert data["pid"] == os.getpid() and data["createdAt"].endswith("Z")
        assert data["starttime"] == proc_starttime(os.getpid())
        assert text.startswith('{\n  "pid": ') and text.endswith("}\n")
    assert not (real / "auth-profiles.json.lock").exists()


def test_live_holder_is_waited_for_then_store_busy_names_file_and_pid(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = lock_path(tmp_path)
        payload = {
            "pid": child.pid,
            "createdAt": "2000-01-01T00:00:00.000Z",
            "starttime": proc_starttime(child.pid),
        }
        path.write_text(json.dumps(payload, indent=2) + "\n")
        old = time.time() - 3600
        os.utime(path, (old, old))
        start = time.monotonic()
        with pytest.raises(StoreBusy) as err:
            AgentLock(tmp_path, timeout=0.4).acquire()
        assert time.monotonic() - start >= 0.35  # it waited
        assert str(path) in str(err.value) and str(child.pid) in str(err.value)
        assert json.loads(path.read_text())["pid"] == child.pid  # never stolen, even if old
    finally:
        child.kill()
        child.wait()


def test_lock_released_by_holder_is_acquired_after_waiting(tmp_path: Path) -> None:
    first = AgentLock(tmp_path)
    first.acquire()
    got: list[float] = []

    def other() -> None:
        with AgentLock(tmp_path, timeout=5):
            got.append(time.monotonic())

    t = threading.Thread(target=other)
    t.start()
    time.sleep(0.2)
    assert not got
    first.release()
    t.join(5)
    assert got


def test_dead_pid_lock_is_reclaimed(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    path = lock_path(tmp_path)
    path.write_text(json.dumps({"pid": child.pid, "createdAt": "2099-01-01T00:00:00.000Z"}))
    with AgentLock(tmp_path, timeout=2):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_zombie_holder_counts_as_dead(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(0.3)  # exited, not reaped: a zombie
    try:
        assert is_stale(Holder(child.pid, None, None), time.time(), now_s=time.time())
    finally:
        child.wait()


def test_reused_pid_detected_by_starttime() -> None:
    me = os.getpid()
    start = proc_starttime(me)
    assert start is not None
    assert not is_stale(Holder(me, None, start), time.time(), now_s=time.time())
    assert is_stale(Holder(me, None, start + 1), time.time(), now_s=time.time())


def test_age_only_matters_without_a_pid() -> None:
    now = time.time()
    assert not is_stale(Holder(os.getpid(), int((now - 3600) * 1000), None), now - 3600, now_s=now)
    assert is_stale(Holder(None, int((now - 31) * 1000), None), now, now_s=now)
    assert not is_stale(Holder(None, int((now - 5) * 1000), None), now - 3600, now_s=now)
    assert is_stale(parse_holder(b"junk"), now - 31, now_s=now)  # unparsable: mtime
    assert not is_stale(parse_holder(b""), now - 1, now_s=now)  # just created, not yet written


def test_directory_lock_held_until_stale_by_mtime(tmp_path: Path) -> None:
    path = lock_path(tmp_path)
    path.mkdir()
    with pytest.raises(StoreBusy):
        AgentLock(tmp_path, timeout=0.2).acquire()
    old = time.time() - 60
    os.utime(path, (old, old))
    with AgentLock(tmp_path, timeout=2):
        assert path.is_file()


def test_a_lock_that_goes_stale_as_the_wait_ends_is_taken_not_failed(tmp_path: Path) -> None:
    """A proper-lockfile directory whose holder stopped refreshing it turns stale during the
    wait; once it is reclaimed the way is free, so the writer goes ahead instead of reporting a
    lock that is no longer there."""

    class NoJitter(random.Random):
        def random(self) -> float:
            return 0.0  # waits of 25, 50, 100, 200 ms, then the rest: checks at 0.375 s, 0.6 s

    path = lock_path(tmp_path)
    path.mkdir()
    old = time.time() - 30 + 0.5  # stale (30 s) between the last two checks
    os.utime(path, (old, old))
    with AgentLock(tmp_path, timeout=0.6, rng=NoJitter()):
        assert path.is_file()


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path: Path) -> None:
    held = AgentLock(tmp_path)
    held.acquire()
    held.path.unlink()
    held.path.write_text('{"pid": 1}')  # someone else's now
    held.release()
    assert held.path.read_text() == '{"pid": 1}'


def test_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    inside = 0
    peak = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        for _ in range(20):
            with AgentLock(tmp_path, timeout=10):
                with guard:
                    inside += 1
                    peak = max(peak, inside)
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert peak == 1
