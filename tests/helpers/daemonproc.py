"""`probed run` as a real subprocess, its log lines collected by a thread, for e2e tests and
scripts/soak.py; and the small config those daemons run with."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple


def wait_for(cond: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def write_config(
    path: Path,
    tmp: Path,
    base_url: str,
    *,
    log_format: str = "json",
    state_dir: str = "state",
    timeout: str = "3s",
    probe: Mapping[str, int] | None = None,
    backoff: Mapping[str, tuple[str, str]] | None = None,
    extra: str = "",
) -> Path:
    """A daemon config: its state (`tmp/state_dir`), locks and OpenClaw state dir under `tmp`,
    no reload command, probes without jitter, `[providers.anthropic]` at `base_url`.
    `probe` adds `[probe]` keys, `backoff` is {reason: (base, cap)}, `extra` is TOML appended."""
    lines = [
        "[daemon]",
        f'log_format = "{log_format}"',
        f'state_dir = "{tmp / state_dir}"',
        f'lock_dir = "{tmp / "locks"}"',
        "",
        "[openclaw]",
        f'state_dir = "{tmp / "openclaw"}"',
        "reload_command = []",
        "",
        "[probe]",
        f'timeout = "{timeout}"',
        'jitter = "0%"',
        'jitter_max = "0s"',
        *(f"{k} = {v}" for k, v in (probe or {}).items()),
        "",
    ]
    for reason, (base, cap) in (backoff or {}).items():
        lines += [f"[backoff.{reason}]", f'base = "{base}"', f'cap = "{cap}"', ""]
    lines += [
        "[providers.anthropic]",
        'api = "anthropic"',
        f'base_url = "{base_url}"',
        'model = "claude-haiku-4-5"',
    ]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def daemon_env(home: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without what would steer probed from outside the test (its config,
    systemd's sockets), with `HOME` and `env` on top."""
    full = dict(os.environ)
    for key in ("PROBED_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        full.pop(key, None)
    if home is not None:
        full["HOME"] = str(home)
    return {**full, **(env or {})}


class Resources(NamedTuple):
    rss_kb: int
    fds: int
    threads: int


def _fields(line: str) -> dict[str, str]:
    """A JSON log line's fields, values as text."""
    try:
        doc = json.loads(line)
    except ValueError:
        return {}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()}


class DaemonProc:
    """`python -m probed run -c CONFIG`, stdout and stderr read line by line into `lines`.
    Under a journal-like `JOURNAL_STREAM`, so `log_format = "auto"` writes journal lines."""

    def __init__(
        self, config: Path, *, home: Path | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "probed", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=daemon_env(home, {"JOURNAL_STREAM": "8:4242", **(env or {})}),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def events(self, event: str, **fields: str) -> list[str]:
        """The lines of `event` with these fields: journal/console lines (`key=value` words) and
        JSON lines alike."""
        want = [f"{k}={v}" for k, v in fields.items()]
        out = []
        for line in list(self.lines):
            if line.startswith("{"):
                doc = _fields(line)
                if doc.get("event") == event and all(doc.get(k) == v for k, v in fields.items()):
                    out.append(line)
            elif f"event={event} " in f"{line} " and all(w in line.split() for w in want):
                out.append(line)
        return out

    def count(self, event: str, **fields: str) -> int:
        return len(self.events(event, **fields))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, cond: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        """`wait_for`, failing at once when the daemon exits first, and with what the daemon said
        when it fails."""

        def met() -> Any:
            got = cond()
            if got or self.proc.poll() is None:
                return got
            self._reader.join(5)  # all it said before it exited
            got = cond()
            if not got:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}) before {what}")
            return got

        try:
            return wait_for(met, what, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the daemon said:\n{self.output()[-6000:]}") from None

    def wait_ready(self) -> None:
        """Started, first scan done (the first heartbeat follows it)."""
        self.wait_for(lambda: self.events("daemon_started"), "daemon_started")

    def resources(self) -> Resources:
        """Its resident memory, open file descriptors and threads, from /proc."""
        rss: int | None = None
        threads = 0
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
        if rss is None:
            raise AssertionError(f"no VmRSS for pid {self.proc.pid}")
        fds = len(list(Path(f"/proc/{self.proc.pid}/fd").iterdir()))
        return Resources(rss, fds, threads)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (SIGKILL after `timeout`), then its exit code once its output is read."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return self.proc.returncode

    def __enter__(self) -> DaemonProc:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
