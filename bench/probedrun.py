"""Helpers to run the REAL probed daemon beside a bench-made OpenClaw store, with time divided
by `scale` (bench/scale.py and bench/stampede.py use them; the recovery benchmark runs real
gateways instead, bench/gatewayrun.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from probed.config import DEFAULT_BACKOFF

PROFILE = "anthropic:default"
KEY_OLD = "sk-ant-api03-BENCH-OLD-0001-aaaaaaaaaaaa"


def _dur(seconds: float, scale: float) -> str:
    return f"{max(1, round(seconds * 1000 / scale))}ms"


def write_config(path: Path, root: Path, base_url: str, scale: float) -> None:
    lines = [
        "[daemon]",
        'log_level = "info"',
        'log_format = "json"',
        f'state_dir = "{root / "probed-state"}"',
        f'lock_dir = "{root / "locks"}"',
        "",
        "[openclaw]",
        f'state_dir = "{root / "openclaw"}"',
        "reload_command = []",
        "",
        "[probe]",
        'timeout = "5s"',  # never reached against a local server; not scaled (see docs)
        'jitter = "10%"',
        f'jitter_max = "{_dur(30, scale)}"',
        "daily_budget = 100000",  # a UTC day is not scaled; the counts are reported instead
        "",
    ]
    for reason, b in DEFAULT_BACKOFF.items():
        lines += [
            f"[backoff.{reason}]",
            f'base = "{_dur(b.base, scale)}"',
            f'cap = "{_dur(b.cap, scale)}"',
            "",
        ]
    lines += [
        "[providers.anthropic]",
        'api = "anthropic"',
        f'base_url = "{base_url}"',
        'model = "claude-haiku-4-5"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start_daemon(config: Path, scale: float, env_extra: dict[str, str] | None = None) -> Any:
    env = {**os.environ, **(env_extra or {})}
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM", "PROBED_CONFIG"):
        env.pop(k, None)
    return subprocess.Popen(
        [sys.executable, "-m", "bench.daemonproc", str(config), str(scale)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
