"""Replace a JSON file the way OpenClaw does, so no reader ever sees half of it.

OpenClaw's readers treat unparsable JSON as a missing store, so a torn write would silently
reset every profile. The sequence mirrors OpenClaw's `writeJsonSync` (2026.4.5+): a temp file
in the same directory (so the rename is atomic), opened O_EXCL with mode 0600, written and
fsynced, renamed over the target, chmodded 0600 again, then the directory fsynced so the
rename itself survives a power cut. The text is `JSON.stringify(data, null, 2) + "\n"`, so a
file probed touched looks like one OpenClaw wrote.

A write that fails (ENOSPC, EDQUOT, EIO…) removes its temp file and raises StoreError naming the
file: the store is exactly as it was. A writer killed mid-write (kill -9, a power cut) leaves
its temp file behind, a full copy of the store (in era A, of the credentials, mode 0600): the
temp file is flocked while written, and `sweep_stale` removes ours (only the
`<name>.<uuid4>.tmp` names probed itself makes, never OpenClaw's `.fs-safe-*.tmp`) once no live
writer holds them. It runs before every write, and at daemon start-up.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
from pathlib import Path
from typing import Any

from probed.errors import StoreError
from probed.files import sweep_temps

_UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
STALE_TEMP_S = 60.0


def dumps_pretty(data: Any) -> str:
    """JSON.stringify(data, null, 2) + "\\n": 2-space indent, no ASCII escaping."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dumps_compact(data: Any) -> str:
    """JSON.stringify(data): what OpenClaw stores in its SQLite cells."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def temp_pattern(name: str) -> re.Pattern[str]:
    """The names of the temp files `write_atomic` makes for a file called `name`."""
    return re.compile(re.escape(name) + r"\." + _UUID4 + r"\.tmp")


def sweep_stale(path: Path, *, min_age_s: float = STALE_TEMP_S) -> int:
    """Remove the temp copies of `path` that killed writers of ours left; return how many."""
    target = Path(os.path.realpath(path))
    return sweep_temps(target.parent, temp_pattern(target.name), min_age_s=min_age_s)


def write_atomic(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace `path` (following a symlink to its target, as OpenClaw does) with `text`.

    StoreError naming the file when it cannot be written; nothing is then changed."""
    try:
        _write_atomic(path, text, mode)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            why = "no space left on the device"
        raise StoreError(f"{path}: cannot be written ({why}); the store is unchanged") from None


def _write_atomic(path: Path, text: str, mode: int) -> None:
    target = Path(os.path.realpath(path))
    directory = target.parent
    sweep_stale(target)
    import uuid  # noqa: PLC0415 - writers only: it imports `platform`, and `status` never writes

    tmp = directory / f"{target.name}.{uuid.uuid4()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held to the rename: not for sweep_stale
        view = memoryview(text.encode("utf-8"))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.fchmod(fd, mode)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        os.close(fd)
    # The new content is in place: what follows only hardens it, and must not report failure.
    with contextlib.suppress(OSError):
        target.chmod(mode)
    with contextlib.suppress(OSError):
        _fsync_dir(directory)


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> None:
    write_atomic(path, dumps_pretty(data), mode=mode)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
