"""probed and a real OpenClaw writer hammer the same store at once: no update is lost.

OpenClaw (its own markAuthProfileFailure, under its own lock or SQLite transaction) bumps
anthropic:a's billing counters N times while probed bumps anthropic:b's M times through
repair.record_failure; a third thread keeps reading. Both totals must be exact and every
intermediate read must parse.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from helpers.ocstate import real_sample_state, sample_528_files
from helpers.openclaw import INTEROP, json_pkg, node, require, sqlite_pkg

from probed import repair
from probed.errors import ProbedError
from probed.reasons import Reason
from probed.stores.base import Store
from probed.stores.discover import open_agent

pytestmark = pytest.mark.interop

N = 30  # OpenClaw's writes
M = 30  # probed's writes
FAR = 4_000_000_000_000


def _hammer(store: Store, agent_dir: Path, pkg: str) -> None:
    now = store.read().usage("anthropic:a").last_failure_at or 1
    for pid in ("anthropic:a", "anthropic:b"):  # start both from clean counters
        repair.record_success(store, pid, now_ms=now)
    require(pkg)
    proc = subprocess.Popen(
        [
            node(),
            str(INTEROP / "oc-hammer.mjs"),
            "--agent-dir",
            str(agent_dir),
            "--profile",
            "anthropic:a",
            "--reason",
            "billing",
            "--count",
            str(N),
            "--openclaw-dir",
            pkg,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(agent_dir.parent.parent.parent / "home")},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        stop = threading.Event()
        bad: list[str] = []
        reads = 0

        def reader() -> None:
            nonlocal reads
            while not stop.is_set():
                try:
                    store.read()
                    reads += 1
                except ProbedError as exc:
                    bad.append(str(exc))

        t = threading.Thread(target=reader)
        t.start()
        for i in range(M):
            repair.record_failure(
                store,
                "anthropic:b",
                reason=Reason.BILLING,
                until_ms=FAR,
                model=None,
                now_ms=now + 1 + i,
            )
        out, err = proc.communicate(timeout=120)
        stop.set()
        t.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == f"done {N}"
    assert bad == [] and reads > 0
    snap = store.read()
    a, b = snap.usage("anthropic:a"), snap.usage("anthropic:b")
    assert (a.error_count, dict(a.failure_counts)) == (N, {"billing": N})
    assert (b.error_count, dict(b.failure_counts)) == (M, {"billing": M})
    assert (a.disabled_reason, b.disabled_reason) == ("billing", "billing")


def test_json_era_with_openclaw_5_28(tmp_path: Path) -> None:
    d = tmp_path / "agents" / "main" / "agent"
    d.mkdir(parents=True)
    (tmp_path / "home").mkdir()
    for name, text in sample_528_files(0).items():
        (d / name).write_text(text)
    _hammer(open_agent(tmp_path, "main"), d, json_pkg())
    assert not (d / "auth-profiles.json.lock").exists()


def test_sqlite_era_with_openclaw_9_6(tmp_path: Path) -> None:
    real_sample_state(tmp_path)
    (tmp_path / "home").mkdir()
    _hammer(open_agent(tmp_path, "worker"), tmp_path / "agents" / "worker" / "agent", sqlite_pkg())
