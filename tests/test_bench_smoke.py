"""The benchmark harness keeps working: the smoke configuration runs end to end against the real
daemon, CLI and FakeProvider. Behaviour only; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.alternatives import OpenClawPolicy, simulate_litellm, simulate_openclaw  # noqa: E402 - after the sys.path line
from bench.scenarios import FULL, by_name  # noqa: E402 - after the sys.path line
from bench.stampede import run_stampede  # noqa: E402 - after the sys.path line

pytestmark = pytest.mark.slow


def test_openclaw_model_keeps_active_windows_and_resets_counters() -> None:
    pol = OpenClawPolicy("2026.9")
    s = pol.failure({}, "billing", 0)
    assert s["disabledUntil"] == 600_000  # 10 min base in 2026.9
    again = pol.failure(s, "billing", 60_000)
    assert again["disabledUntil"] == 600_000  # an active window is never extended
    assert again["failureCounts"] == {"billing": 2}
    later = pol.failure(again, "billing", 700_000)  # expired: counters reset
    assert later["failureCounts"] == {"billing": 1}
    assert later["disabledUntil"] == 700_000 + 600_000
    old = OpenClawPolicy("2026.5").failure({}, "billing", 0)
    assert old["disabledUntil"] == 5 * 3_600_000


def test_simulations_on_the_scenarios() -> None:
    billing = by_name(["billing_17m"])[0]
    r5 = simulate_openclaw(billing, "2026.5")
    assert r5.latency_s > 4 * 3600  # the 5 h window outlives a 17 min outage
    lite = simulate_litellm(billing)
    assert lite.paid_probes > 0 and lite.latency_max_s < 300
    for sc in FULL:
        assert simulate_openclaw(sc, "2026.9").latency_s >= 0


def test_stampede_of_three_sends_one_paid_request() -> None:
    result = run_stampede(3)
    assert result.paid == 1
    assert result.exit_ok == 3


def test_smoke_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--out",
            str(out),
            "--only",
            "recovery,stampede",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    text = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "## 1. Recovery latency and probe cost" in text
    assert "| rate limit, Retry-After 150 s | **probed** (real daemon)" in text
    assert "not detected" not in text  # the recovery was seen in OpenClaw's state
    assert "OpenClaw 2026.9 alone" in text and "LiteLLM" in text
    assert "## 2. Stampede" in text
    assert (out / "benchmarks-recovery.png").stat().st_size > 1000
    assert "BENCH-OLD" not in proc.stdout + proc.stderr + text  # no key in any output
