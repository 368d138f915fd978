"""Collect a child's JSON log lines (probed's `log_format = "json"`) as they arrive."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import datetime
from typing import Any


def ts(event: dict[str, Any]) -> float:
    """Epoch seconds of an event's ISO `timestamp`."""
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()


def iso_s(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class LogReader:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.other: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                doc = json.loads(line)
            except ValueError:
                self.other.append(line.rstrip("\n"))
                continue
            if isinstance(doc, dict):
                with self._lock:
                    self.events.append(doc)

    def of(self, name: str, **fields: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e
                for e in self.events
                if e.get("event") == name and all(e.get(k) == v for k, v in fields.items())
            ]

    def wait(self, name: str, timeout: float, **fields: Any) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = self.of(name, **fields)
            if got:
                return got[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.005)
        tail = "\n".join(self.other[-20:])
        raise RuntimeError(f"daemon never logged {name} within {timeout} s\n{tail}")

    def join(self, timeout: float = 2.0) -> None:
        self._thread.join(timeout)
