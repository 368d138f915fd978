"""The daemon's heartbeat file, and `probed status` saying whether anything will run NEXT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from probed import heartbeat
from probed.clock import iso

KEY = "sk-ant-api03-SECRET-1631-aaaaaaaaaaaaaaaa"


def test_liveness_needs_a_fresh_heartbeat_and_a_live_pid(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    assert not heartbeat.read(tmp_path, now=now).running  # no file
    heartbeat.beat(tmp_path, started_at=now, now=now)
    live = heartbeat.read(tmp_path, now=now + timedelta(seconds=5))
    assert live.running and live.pid == os.getpid()
    assert not heartbeat.read(tmp_path, now=now + timedelta(seconds=heartbeat.STALE_S + 1)).running
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    doc = {"pid": int(dead.stdout), "started_at": iso(now), "heartbeat_at": iso(now)}
    (tmp_path / heartbeat.FILE).write_text(json.dumps(doc))
    assert not heartbeat.read(tmp_path, now=now).running  # SIGKILLed daemon: pid gone
    (tmp_path / heartbeat.FILE).write_text("{not json")
    assert not heartbeat.read(tmp_path, now=now).running
    heartbeat.beat(tmp_path, started_at=now, now=now)
    heartbeat.remove(tmp_path)
    assert not (tmp_path / heartbeat.FILE).exists()
