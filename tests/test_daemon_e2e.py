"""`probed run` as a real subprocess: a fake NOTIFY_SOCKET, real OpenClaw stores (JSON era B and
SQLite era C), a real local provider server, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
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


class Daemon:
    def __init__(self, proc: subprocess.Popen[str], notify: NotifySocket) -> None:
        self.proc = proc
        self.notify = notify
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

    def wait_for(self, cond: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        """`wait_for`, with what the daemon said so far when it times out."""
        try:
            return wait_for(cond, what, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the daemon said:\n{self.output()}") from None


def wait_for(cond: Callable[[], Any], what: str, timeout: float = 6.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def write_config(path: Path, tmp: Path, base_url: str, *, broken: bool = False) -> None:
    path.write_text(
        f"""
[daemon]
log_level = "info"
log_format = "auto"
state_dir = "{tmp / "probed-state"}"
lock_dir = "{tmp / "locks"}"

[openclaw]
state_dir = "{tmp / "openclaw"}"
reload_command = []

[probe]
timeout = "3s"
jitter = "0%"
jitter_max = "0s"

[backoff.rate_limit]
base = "{"30s" if not broken else "soon"}"
cap = "60s"

[providers.anthropic]
api = "anthropic"
base_url = "{base_url}"
model = "claude-haiku-4-5"
""",
        encoding="utf-8",
    )


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


def start(tmp: Path, config: Path) -> Daemon:
    notify = NotifySocket(tmp / "notify.sock")
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": "400000",
        "JOURNAL_STREAM": "8:424242",  # as under systemd: the journal form with priorities
        "HOME": str(tmp / "home"),
    }
    env.pop("PROBED_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "probed", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    return Daemon(proc, notify)


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
    d = start(tmp_path, config)
    try:
        d.wait_for(lambda: d.notify.count("READY"), "READY=1")
        ready = next(m for m in d.notify.messages if "READY" in m)
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
        assert d.notify.count("WATCHDOG") >= 2  # fed while the scheduler makes progress

        # SIGHUP with a broken file: rejected, still running, RELOADING then READY
        write_config(config, tmp_path, fake.base_url, broken=True)
        readies = d.notify.count("READY")
        sent_at = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(lambda: d.notify.count("READY") > readies, "READY after reload")
        reloading = [m for m in d.notify.messages if "RELOADING" in m]
        assert reloading and int(reloading[-1]["MONOTONIC_USEC"]) >= sent_at
        rejected = d.wait_for(lambda: d.events("config_rejected"), "config_rejected")
        assert rejected[0].startswith("<3>") and "backoff.rate_limit.base" in rejected[0]
        assert d.proc.poll() is None

        # SIGTERM: STOPPING, exit 0
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=8) == 0
        assert d.notify.count("STOPPING") == 1
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
        d.notify.close()
    d._reader.join(2)
    text = d.output()
    for secret in SECRETS:
        assert secret not in text
    assert "<6>event=daemon_started" in text
    assert "Traceback" not in text
