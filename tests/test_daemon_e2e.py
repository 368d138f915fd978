"""`probed run` as a real subprocess: a fake NOTIFY_SOCKET, real OpenClaw stores (JSON era B and
SQLite era C), a real local provider server, real signals."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.daemonproc import DaemonProc
from helpers.daemonproc import write_config as daemon_config
from helpers.openclawstate import AgentStore, api_key, cooldown, now_ms

from probed.fakeprovider import FakeProvider, fingerprint

pytestmark = pytest.mark.slow

KEY_OK = "sk-ant-api03-SECRET-0101-aaaaaaaaaaaaaaaa"
KEY_BAD = "sk-ant-api03-SECRET-0102-bbbbbbbbbbbbbbbb"
KEY_NEW = "sk-ant-api03-SECRET-0103-cccccccccccccccc"
KEY_IDLE = "sk-ant-api03-SECRET-0104-dddddddddddddddd"
SECRETS = (KEY_OK, KEY_BAD, KEY_NEW, KEY_IDLE)


class NotifySocket:
    """What systemd would receive, collected by a thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode("ascii").splitlines())
            self.messages.append(fields)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def count(self, name: str) -> int:
        return sum(1 for m in self.messages if name in m)


def write_config(path: Path, tmp: Path, base_url: str, *, broken: bool = False) -> None:
    base = "30s" if not broken else "soon"
    daemon_config(
        path,
        tmp,
        base_url,
        log_format="auto",
        state_dir="probed-state",
        backoff={"rate_limit": (base, "60s")},
    )


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def start(tmp: Path, config: Path) -> tuple[DaemonProc, NotifySocket]:
    notify = NotifySocket(tmp / "notify.sock")
    # as under systemd: JOURNAL_STREAM, so the journal form with priorities
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    return DaemonProc(config, home=tmp / "home", env=env), notify


@pytest.mark.parametrize("era", ["B", "C"])
def test_daemon_end_to_end(era: str, tmp_path: Path, fake: FakeProvider) -> None:
    store = AgentStore(tmp_path / "openclaw", "main" if era == "B" else "worker", era)
    t0 = now_ms()
    profiles = {
        "anthropic:ok": api_key("anthropic", KEY_OK),
        "anthropic:bad": api_key("anthropic", KEY_BAD),
        "anthropic:idle": api_key("anthropic", KEY_IDLE),
    }
    usage: dict[str, Any] = {
        "anthropic:ok": cooldown(t0 + 1500),
        "anthropic:bad": cooldown(t0 + 1500),
        "anthropic:idle": {"lastUsed": t0 - 60_000},
    }
    store.write(profiles, usage)
    fake.respond(
        credential=KEY_BAD,
        status=429,
        body='{"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}',
    )
    config = tmp_path / "probed.toml"
    write_config(config, tmp_path, fake.base_url)
    d, notify = start(tmp_path, config)
    try:
        d.wait_for(lambda: notify.count("READY"), "READY=1")
        ready = next(m for m in notify.messages if "READY" in m)
        assert "unusable" in ready.get("STATUS", "")

        # the cooldowns expire ~1.5 s after start: one probe each
        d.wait_for(lambda: d.events("state_cleared", profile="anthropic:ok"), "state_cleared")
        d.wait_for(lambda: d.events("backoff_extended", profile="anthropic:bad"), "the backoff")
        after = store.usage()
        assert not after.get("anthropic:ok", {}).get("cooldownUntil")  # success cleared it
        assert after["anthropic:bad"]["cooldownUntil"] >= t0 + 20_000  # failure extended it
        by_cred = {fp: 0 for fp in map(fingerprint, SECRETS)}
        for req in fake.requests:
            if req.credential_fingerprint in by_cred:
                by_cred[req.credential_fingerprint] += 1
        assert by_cred[fingerprint(KEY_IDLE)] == 0  # a usable profile costs nothing

        # a profile added while running is picked up by the watcher
        profiles["anthropic:new"] = api_key("anthropic", KEY_NEW)
        usage = store.usage()
        usage["anthropic:new"] = cooldown(now_ms() + 1000)
        store.write(profiles, usage)
        d.wait_for(lambda: d.events("state_cleared", profile="anthropic:new"), "the new profile")

        # exactly one probe pass per expiry, no re-probing of the extended window
        time.sleep(0.5)
        for pid in ("anthropic:ok", "anthropic:bad", "anthropic:new"):
            assert len(d.events("probe_started", profile=pid)) == 1, pid
        assert notify.count("WATCHDOG") >= 2  # fed while the scheduler makes progress

        # SIGHUP with a broken file: rejected, still running, RELOADING then READY
        write_config(config, tmp_path, fake.base_url, broken=True)
        readies = notify.count("READY")
        sent_at = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: notify.count("READY") > readies, "READY after reload")
        reloading = [m for m in notify.messages if "RELOADING" in m]
        assert reloading and int(reloading[-1]["MONOTONIC_USEC"]) >= sent_at
        rejected = d.wait_for(lambda: d.events("config_rejected"), "config_rejected")
        assert rejected[0].startswith("<3>") and "backoff.rate_limit.base" in rejected[0]
        assert d.proc.poll() is None

        # SIGTERM: STOPPING, exit 0
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=8) == 0
        assert notify.count("STOPPING") == 1
    finally:
        d.stop()
        notify.close()
    text = d.output()
    for secret in SECRETS:
        assert secret not in text
    assert "<6>event=daemon_started" in text
    assert "Traceback" not in text
