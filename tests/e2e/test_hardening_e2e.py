"""`probed run` as a real subprocess under hostile conditions: many SIGHUPs (memory stays flat)
and a NOTIFY_SOCKET nobody drains (probes go on)."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.daemonproc import DaemonProc, write_config
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed.fakeprovider import FakeProvider

pytestmark = pytest.mark.slow

KEY = "sk-ant-api03-SECRET-E2E-0001-aaaaaaaaaaaaaaaa"


def _config(tmp: Path, base_url: str, *, timeout: str = "3s") -> Path:
    return write_config(tmp / "probed.toml", tmp, base_url, timeout=timeout)


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
    daemon = DaemonProc(cfg, home=tmp_path / "home")
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
        before = daemon.resources().rss_kb
        reload(200)
        after = daemon.resources().rss_kb
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
    daemon = DaemonProc(
        _config(tmp_path, fake.base_url), home=tmp_path / "home", env={"NOTIFY_SOCKET": str(path)}
    )
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
