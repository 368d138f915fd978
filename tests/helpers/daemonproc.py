"""`probed run` as a real subprocess, its log lines collected by a thread, for e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def wait_for(cond: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


class DaemonProc:
    def __init__(self, config: Path, *, home: Path, env: Mapping[str, str] | None = None) -> None:
        full = {**os.environ, "HOME": str(home), "JOURNAL_STREAM": "8:4242", **(env or {})}
        for key in ("PROBED_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
            full.pop(key, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "probed", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=full,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def events(self, event: str, **fields: str) -> list[str]:
        want = [f"{k}={v}" for k, v in fields.items()]
        return [
            line
            for line in list(self.lines)
            if f"event={event} " in f"{line} " and all(w in line.split() for w in want)
        ]

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, cond: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        try:
            return wait_for(cond, what, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the daemon said:\n{self.output()[-6000:]}") from None

    def wait_ready(self) -> None:
        """Started, first scan done (the first heartbeat follows it)."""
        self.wait_for(lambda: self.events("daemon_started"), "daemon_started")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode

    def __enter__(self) -> DaemonProc:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
