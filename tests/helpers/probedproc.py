"""probed as real subprocesses beside a harness gateway (`helpers.gateway`): config, commands,
the daemon. Everything runs with the gateway's environment (`gw.env`: its HOME, its
OPENCLAW_STATE_DIR, the `openclaw` wrapper first on PATH), so probed's default
`reload_command = ["openclaw", "secrets", "reload"]` reaches that gateway unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from helpers.gateway import Gateway, wait_for

COMMAND_TIMEOUT_S = 240.0


def write_config(
    gw: Gateway,
    root: Path,
    *,
    reload_command: Sequence[str] | None = None,
    billing_cap: str = "2h",
    extra: str = "",
) -> Path:
    """A probed config for `gw`: its own state and lock dirs under `root`, no jitter."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [
        "[daemon]",
        f'state_dir = "{root / "state"}"',
        f'lock_dir = "{root / "locks"}"',
        'log_format = "json"',
        'log_level = "debug"',
        "[openclaw]",
        f'state_dir = "{gw.state_dir}"',
    ]
    if reload_command is not None:
        lines.append(f"reload_command = {json.dumps(list(reload_command))}")
    lines += [
        "[probe]",
        'timeout = "30s"',
        'jitter = "0%"',
        'jitter_max = "0s"',
        "[backoff.billing]",
        'base = "5s"',
        f'cap = "{billing_cap}"',
    ]
    path = root / "probed.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def probed(
    gw: Gateway, config: Path, *args: str, timeout: float = COMMAND_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """`probed -c CONFIG ARGS...` as a subprocess; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "probed", "-c", str(config), *args],
        capture_output=True,
        text=True,
        env=gw.env,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def status_rows(gw: Gateway, config: Path) -> dict[str, dict[str, Any]]:
    proc = probed(gw, config, "status", "--json")
    assert proc.returncode == 0, f"probed status failed: {proc.stderr[-2000:]}"
    return {r["profile"]: r for r in json.loads(proc.stdout)["profiles"]}


class Daemon:
    """`probed run` in a process group of its own; stop() is SIGTERM (then SIGKILL)."""

    def __init__(self, gw: Gateway, config: Path, log: Path) -> None:
        self.log_path = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "probed", "-c", str(config), "run"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=gw.env,
                start_new_session=True,
            )

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                doc = json.loads(line[line.find("{") :]) if "{" in line else None
                if isinstance(doc, dict):
                    out.append(doc)
        return out

    def saw(self, event: str, **fields: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events()
            if e.get("event") == event and all(e.get(k) == v for k, v in fields.items())
        ]

    def wait_event(self, event: str, *, timeout: float, **fields: Any) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            assert self.proc.poll() is None, f"probed run exited:\n{self.tail()}"
            found = self.saw(event, **fields)
            return found[-1] if found else None

        try:
            return wait_for(check, timeout=timeout, what=f"probed run to log {event} {fields}")  # type: ignore[no-any-return]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- probed run log tail:\n{self.tail()}") from None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        return self.proc.returncode


@contextlib.contextmanager
def daemon(gw: Gateway, config: Path) -> Iterator[Daemon]:
    d = Daemon(gw, config, config.parent / f"probed-run-{time.monotonic_ns()}.log")
    try:
        yield d
    finally:
        d.stop()
