"""Whether a daemon is running: a heartbeat file the daemon keeps in `[daemon] state_dir`.

`probed status` shows a next probe time only when something will run it. The daemon writes
`daemon.json` (its pid, start time and a heartbeat refreshed every `BEAT_S`) and removes it when
it stops; a reader calls the daemon running when the file's heartbeat is fresh (younger than
`STALE_S`) and its pid is alive. A daemon killed with SIGKILL leaves a file whose pid is gone or
whose heartbeat goes stale; a reused pid is caught by the heartbeat's age. The state dir is the
one `probed status` reads too, so a shell sees the daemon that shares its ledger.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from probed import __version__
from probed.clock import iso, parse_iso
from probed.files import read_regular
from probed.stores.atomic import write_json_atomic

FILE = "daemon.json"
BEAT_S = 15.0
STALE_S = 60.0


@dataclass(frozen=True, slots=True)
class Liveness:
    running: bool
    pid: int | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "running": self.running,
            "pid": self.pid if self.running else None,
            "started_at": iso(self.started_at) if self.running else None,
            "heartbeat_at": iso(self.heartbeat_at),
        }


def beat(state_dir: Path, *, started_at: datetime, now: datetime) -> None:
    """Write (or refresh) the heartbeat; OSError is the caller's to log."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_json_atomic(
        state_dir / FILE,
        {
            "pid": os.getpid(),
            "version": __version__,
            "started_at": iso(started_at),
            "heartbeat_at": iso(now),
        },
    )


def remove(state_dir: Path) -> None:
    """On a clean stop; only our own file (another daemon may have taken over the dir)."""
    path = state_dir / FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(read_regular(path, limit=4096)).get("pid") == os.getpid():
            path.unlink()


def read(state_dir: Path, *, now: datetime) -> Liveness:
    try:
        raw = json.loads(read_regular(state_dir / FILE, limit=4096))
        pid = raw["pid"]
        beat_at = parse_iso(raw["heartbeat_at"])
        started = parse_iso(raw["started_at"]) if raw.get("started_at") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Liveness(False)
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or beat_at is None:
        return Liveness(False)
    fresh = (now - beat_at).total_seconds() < STALE_S
    return Liveness(fresh and _alive(pid), pid, started, beat_at)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process (a system service): alive
    return True
