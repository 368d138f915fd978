"""N concurrent `python -m probed probe anthropic` processes, one FakeProvider, one state.

Target: exactly one probe and one paid request for every N; the others wait on the single-flight
lock and then reuse its result or find the profile usable.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ostore import AgentDb, api_key, now_ms
from bench.probedrun import KEY_OLD, PROFILE, write_config
from probed.fakeprovider import FakeProvider


@dataclass(frozen=True)
class StampedeResult:
    n: int
    paid: int
    free: int
    exit_ok: int  # processes that exited 0 (profile usable)
    reused: int  # processes that reported a result shared by a concurrent probe
    wall_s: float


def run_stampede(n: int, *, delay: float = 0.5) -> StampedeResult:
    with (
        tempfile.TemporaryDirectory(prefix="probed-stampede-") as tmp,
        FakeProvider(delay=delay) as fake,
    ):
        root = Path(tmp)
        db = AgentDb(root / "openclaw", "main")
        t = now_ms()
        db.create(
            {PROFILE: api_key("anthropic", KEY_OLD)},
            {
                PROFILE: {
                    "disabledUntil": t + 3_600_000,
                    "disabledReason": "billing",
                    "errorCount": 1,
                    "failureCounts": {"billing": 1},
                    "lastFailureAt": t - 1000,
                }
            },
        )
        config = root / "probed.toml"
        write_config(config, root, fake.base_url, 1.0)
        start = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "probed", "probe", "anthropic", "-c", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(n)
        ]
        outs = [p.communicate(timeout=600)[0] for p in procs]
        wall = time.monotonic() - start
        counts = fake.counts()
    return StampedeResult(
        n,
        counts.paid,
        counts.free,
        sum(1 for p in procs if p.returncode == 0),
        sum(1 for o in outs if "shared by a concurrent probe" in o),
        wall,
    )
