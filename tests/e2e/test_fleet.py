"""Real daemons on several "hosts" (own OpenClaw state, lock dir, ledger) sharing one real
redis-server: one billable request per recovery, and no crash when Redis goes away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.probestate import now_ms, read_usage, write_config, write_store
from helpers.redisserver import RedisServer

from probed.fakeprovider import FakeProvider

KEYS = (
    "sk-ant-api03-SECRET-FLEET-0001-aaaaaaaaaaaa",
    "sk-ant-api03-SECRET-FLEET-0002-bbbbbbbbbbbb",
)


def _billing(until_ms: int, failed_ms: int) -> dict[str, object]:
    return {
        "disabledUntil": until_ms,
        "disabledReason": "billing",
        "errorCount": 1,
        "failureCounts": {"billing": 1},
        "lastFailureAt": failed_ms,
    }


def _host(home: Path, fake: FakeProvider, redis_url: str, offset_ms: int) -> Path:
    t = now_ms()
    profiles = {
        f"anthropic:k{i}": {"type": "api_key", "provider": "anthropic", "key": k}
        for i, k in enumerate(KEYS)
    }
    usage = {pid: _billing(t + 4000 + offset_ms, t - 1000 + offset_ms) for pid in profiles}
    write_store(home / "oc", profiles, usage)
    cfg = write_config(
        home,
        home / "oc",
        providers={"anthropic": {"base_url": fake.base_url, "model": "claude-haiku-4-5"}},
        extra=f'[coordination]\nbackend = "redis"\nredis_url = "{redis_url}"\nnamespace = "e2e"\n',
    )
    text = cfg.read_text(encoding="utf-8").replace("[daemon]\n", '[daemon]\nlog_format = "json"\n')
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _daemon(cfg: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "PROBED_CONFIG")}
    return subprocess.Popen(
        [sys.executable, "-m", "probed", "run", "-c", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def _stop(procs: list[subprocess.Popen[str]]) -> list[str]:
    outs = []
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        outs.append(out)
    return outs


def _events(out: str) -> list[dict[str, object]]:
    found = []
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            found.append(doc)
    return found


@pytest.mark.slow
def test_hosts_sharing_keys_pay_one_request_per_recovery(tmp_path: Path) -> None:
    """Host 1's gateway recorded the same failures 1.5 s after host 0's: host 0 probes
    (paid), host 1 takes the shared success into its own store."""
    with RedisServer(tmp_path / "redis") as server, FakeProvider(delay=0.1) as fake:
        homes = [tmp_path / f"host{h}" for h in range(2)]
        procs = [_daemon(_host(home, fake, server.url, h * 1500)) for h, home in enumerate(homes)]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = all(
                    "disabledUntil" not in read_usage(home / "oc", f"anthropic:k{i}")
                    for home in homes
                    for i in range(len(KEYS))
                )
                if done or any(p.poll() is not None for p in procs):
                    break
                time.sleep(0.1)
            paid = fake.counts().paid
        finally:
            outs = _stop(procs)
    assert done, "\n".join(o[-3000:] for o in outs)
    assert paid == len(KEYS)  # one billable request per key, not one per host
    assert [p.returncode for p in procs] == [0, 0]
    reused = [e for o in outs for e in _events(o) if e.get("event") == "probe_reused"]
    assert len(reused) == len(KEYS)
    for out in outs:
        for k in KEYS:
            assert k not in out and k[:20] not in out


class _Lines:
    """A daemon's output, read as it comes (a thread), so a test can wait on an event."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def count(self, event: str) -> int:
        return sum(1 for e in _events("".join(self.lines)) if e.get("event") == event)

    def text(self) -> str:
        self._thread.join(10)
        return "".join(self.lines)


@pytest.mark.slow
def test_redis_going_away_is_logged_once_and_sends_nothing_billable(tmp_path: Path) -> None:
    password = "e2e-PASSWORD-77"
    with (
        RedisServer(tmp_path / "redis", password=password) as server,
        FakeProvider() as fake,
    ):
        home = tmp_path / "host"
        proc = _daemon(_host(home, fake, server.url, 0))
        lines = _Lines(proc)
        try:
            deadline = time.monotonic() + 30
            while lines.count("daemon_started") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.kill()  # before the windows end (4 s from the start)
            while lines.count("probe_skipped") < len(KEYS) and time.monotonic() < deadline:
                assert proc.poll() is None, "the daemon died with Redis:\n" + "".join(lines.lines)
                time.sleep(0.1)
            assert proc.poll() is None
            paid = fake.counts().paid
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        out = lines.text()
    assert proc.returncode == 0
    assert lines.count("probe_skipped") == len(KEYS), out[-3000:]
    assert lines.count("coordination_unavailable") == 1, out[-3000:]
    assert paid == 0  # the shared budget could not be checked: nothing billable was sent
    assert password not in out
    assert "Traceback" not in out
    for i in range(len(KEYS)):  # nothing written: the windows stand
        assert "disabledUntil" in read_usage(home / "oc", f"anthropic:k{i}")
