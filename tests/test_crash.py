"""A writer killed with SIGKILL at random points never leaves a store unparsable, and the lock
a killed writer held is reclaimed because its pid is dead."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.ocstate import era_b, era_c_agent

from probed.stores.discover import open_agent
from probed.stores.oclock import AgentLock, lock_path

REPO = Path(__file__).resolve().parent.parent

WRITER = """
import sys
from probed import repair
from probed.reasons import Reason
from probed.stores.discover import open_agent
store = open_agent(__import__("pathlib").Path(sys.argv[1]), sys.argv[2])
print("go", flush=True)
i = 0
while True:
    i += 1
    repair.record_failure(store, "anthropic:a", reason=Reason.BILLING, until_ms=4_000_000_000_000,
                          model=None, now_ms=1_800_000_000_000 + i)
    repair.record_success(store, "anthropic:b", now_ms=1_800_000_000_000 + i)
"""


def _kill_many(state: Path, agent: str, iterations: int) -> None:
    rng = random.Random(1234)
    for _ in range(iterations):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(state), agent],
            stdout=subprocess.PIPE,
            cwd=REPO,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "go"
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        snap = open_agent(state, agent).read()  # must parse, every time
        assert set(snap.profiles) >= {"anthropic:a", "anthropic:b"}
        with AgentLock(state / "agents" / agent / "agent", timeout=3):
            pass  # a lock the dead writer left behind is reclaimed (its pid is gone)


def test_json_store_survives_sigkill(tmp_path: Path) -> None:
    d = era_b(tmp_path, {"anthropic:a": {"errorCount": 0}})
    _kill_many(tmp_path, "main", 12)
    json.loads((d / "auth-state.json").read_text())
    json.loads((d / "auth-profiles.json").read_text())


def test_sqlite_store_survives_sigkill(tmp_path: Path) -> None:
    era_c_agent(tmp_path, {"anthropic:a": {"errorCount": 0}}, agent="worker")
    _kill_many(tmp_path, "worker", 8)
    assert open_agent(tmp_path, "worker").read().usage("anthropic:a").error_count >= 0


def test_lock_left_by_a_killed_holder_is_reclaimed(tmp_path: Path) -> None:
    d = era_b(tmp_path, {})
    code = (
        "import os, signal, sys\n"
        "from probed.stores.oclock import AgentLock\n"
        "AgentLock(__import__('pathlib').Path(sys.argv[1])).acquire()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(d)], cwd=REPO, timeout=30, check=False)
    assert proc.returncode == -signal.SIGKILL
    left = json.loads(lock_path(d).read_text())
    assert left["pid"] != os.getpid()  # the dead child wrote it
    with AgentLock(d, timeout=3):
        assert json.loads(lock_path(d).read_text())["pid"] == os.getpid()
    assert not lock_path(d).exists()
