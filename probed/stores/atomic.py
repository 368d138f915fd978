"""Replace a JSON file the way OpenClaw does, so no reader ever sees half of it.

OpenClaw's readers treat unparsable JSON as a missing store, so a torn write would silently
reset every profile. The sequence mirrors OpenClaw's `writeJsonSync` (2026.4.5+): a temp file
in the same directory (so the rename is atomic), opened O_EXCL with mode 0600, written and
fsynced, renamed over the target, chmodded 0600 again, then the directory fsynced so the
rename itself survives a power cut. The text is `JSON.stringify(data, null, 2) + "\n"`, so a
file probed touched looks like one OpenClaw wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any


def dumps_pretty(data: Any) -> str:
    """JSON.stringify(data, null, 2) + "\\n": 2-space indent, no ASCII escaping."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dumps_compact(data: Any) -> str:
    """JSON.stringify(data): what OpenClaw stores in its SQLite cells."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def write_atomic(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace `path` (following a symlink to its target, as OpenClaw does) with `text`."""
    target = Path(os.path.realpath(path))
    directory = target.parent
    tmp = directory / f"{target.name}.{uuid.uuid4()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            data = text.encode("utf-8")
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    target.chmod(mode)
    _fsync_dir(directory)


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600) -> None:
    write_atomic(path, dumps_pretty(data), mode=mode)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
