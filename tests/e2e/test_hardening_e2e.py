"""`probed run` as a real subprocess under hostile conditions: many SIGHUPs (memory stays flat)
and a NOTIFY_SOCKET nobody drains (probes go on)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed.fakeprovider import FakeProvider

pytestmark = pytest.mark.slow

KEY = "sk-ant-api03-SECRET-E2E-0001-aaaaaaaaaaaaaaaa"
ROOT = Path(__file__).resolve().parents[2]


def _config(tmp: Path, base_url: str, *, timeout: str = "3s") -> Path:
    path = tmp / "probed.toml"
    path.write_text(
        f"""
[daemon]
log_level = "info"
log_format = "json"
state_dir = "{tmp / "state"}"
lock_dir = "{tmp / "locks"}"
[openclaw]
state_dir = "{tmp / "openclaw"}"
reload_command = []
[probe]
timeout = "{timeout}"
jitter = "0%"
[providers.anthropic]
base_url = "{base_url}"
""",
        encoding="utf-8",
    )
    return path


class Proc:
    """The daemon, its JSON log lines collected by a thread."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "probed", "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def count(self, event: str) -> int:
        return sum(1 for line in list(self.lines) if f'"event": "{event}"' in line)

    def wait_for(self, cond: Callable[[], object], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) waiting for {what}")
            if time.monotonic() > deadline:
                tail = "\n".join(self.lines[-15:])
                raise AssertionError(f"timed out waiting for {what}; log tail:\n{tail}")
            time.sleep(0.02)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon did not stop on SIGTERM") from None


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def test_sighup_storm_keeps_memory_flat(tmp_path: Path, fake: FakeProvider) -> None:
    """Each reload used to leak its HTTP client (~0.7 MB): 43 MB -> 973 MB after 1,351 reloads.
    Reloads here alternate `[probe] timeout`, so a new client is made and the old one retired
    every time: the costly path."""
    AgentStore(tmp_path / "openclaw", "main", "B").write(
        {"anthropic:default": api_key("anthropic", KEY)},
        {"anthropic:default": cooldown(now_ms() + 3_600_000)},
    )
    cfg = _config(tmp_path, fake.base_url)
    daemon = Proc(cfg, {})
    try:
        daemon.wait_for(lambda: daemon.count("daemon_started"), "start-up")

        def reload(n: int) -> None:
            for i in range(n):
                done = daemon.count("config_reloaded") + daemon.count("config_rejected")
                _config(tmp_path, fake.base_url, timeout="3s" if i % 2 else "4s")
                daemon.proc.send_signal(signal.SIGHUP)
                daemon.wait_for(
                    lambda done=done: daemon.count("config_reloaded") > done, "a reload"
                )

        reload(40)  # warm-up: allocator arenas, import caches
        before = daemon.rss_kb()
        reload(200)
        after = daemon.rss_kb()
    finally:
        code = daemon.stop()
    assert code == 0
    assert daemon.count("config_rejected") == 0
    assert after - before < 12 * 1024, f"RSS grew {before} -> {after} kB over 200 reloads"


def test_undrained_notify_socket_does_not_freeze_the_daemon(
    tmp_path: Path, fake: FakeProvider
) -> None:
    path = tmp_path / "notify"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(str(path))  # never read
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    filler.connect(str(path))
    filler.setblocking(False)
    try:
        while True:
            filler.send(b"STATUS=filler")
    except BlockingIOError:
        pass  # the queue is full: every send from now on would block
    AgentStore(tmp_path / "openclaw", "main", "B").write(
        {"anthropic:default": api_key("anthropic", KEY)},
        {"anthropic:default": cooldown(now_ms() + 1500)},
    )
    daemon = Proc(_config(tmp_path, fake.base_url), {"NOTIFY_SOCKET": str(path)})
    try:
        daemon.wait_for(lambda: daemon.count("probe_succeeded"), "the probe", timeout=40)
        daemon.wait_for(lambda: daemon.count("sd_notify_dropped"), "the drop warning")
    finally:
        code = daemon.stop()
        srv.close()
        filler.close()
    assert code == 0
    assert fake.counts().total >= 1
    assert daemon.count("sd_notify_dropped") == 1
    events = [json.loads(line)["event"] for line in daemon.lines if line.startswith("{")]
    assert "daemon_stopped" in events
