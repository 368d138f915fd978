"""Reading a file that must be a regular file, without ever blocking on one that is not.

A FIFO or a device put where a store, a lock, a secret or a configuration file should be would
block a plain `read()` forever: a CLI call would hang and the daemon's event loop with it. The
file is opened non-blocking and checked with `fstat` on the descriptor itself, so nothing can
swap it between the check and the read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """The path names a FIFO, socket or device, not a file."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.EINVAL, "not a regular file", str(path))


def read_regular(path: Path, *, limit: int | None = None) -> bytes:
    """The file's bytes (at most `limit`). FileNotFoundError, IsADirectoryError, PermissionError
    and NotRegularFile are OSErrors with a `strerror` fit for a message."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path)
        chunks: list[bytes] = []
        size = 0
        while limit is None or size < limit:
            chunk = os.read(fd, 1 << 16 if limit is None else min(1 << 16, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
