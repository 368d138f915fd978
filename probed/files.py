"""Reading a file that must be a regular file, without ever blocking on one that is not.

A FIFO or a device put where a store, a lock, a secret or a configuration file should be would
block a plain `read()` forever: a CLI call would hang and the daemon's event loop with it. The
file is opened non-blocking and checked with `fstat` on the descriptor itself, so nothing can
swap it between the check and the read.

The second half is trust: probed's lock directory may sit in a shared place (`/tmp/probed-<uid>`)
where another user could have created it first, planted symlinks at the names probed writes, or
left a forged results file. `ensure_private_dir`, `read_trusted` and `write_private` are the one
place that decides what is ours; `sweep_temps` removes what a killed writer of ours left.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import time
from pathlib import Path

from probed.errors import ConfigError


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


# ---- directories and files only we (or root) can write -----------------------------------


class UntrustedPath(OSError):
    """A directory or file another user could have planted or can still change."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(errno.EPERM, problem, str(path))
        self.problem = problem


def trust_problem(st: os.stat_result, *, euid: int, kind: str = "directory") -> str | None:
    """Why a file or directory with this `stat` cannot be trusted, or None when it can.

    Pure, so the rule is tested without a second user: it must be owned by us or by root (root
    can replace anything anyway), and nobody else may write to it."""
    if st.st_uid not in (euid, 0):
        return f"is owned by uid {st.st_uid}, not by this user (uid {euid}) or root"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by other users (mode {stat.S_IMODE(st.st_mode):04o})"
    want = stat.S_ISDIR if kind == "directory" else stat.S_ISREG
    if not want(st.st_mode):
        return f"is not a {kind}"
    return None


def ensure_private_dir(path: Path, *, euid: int | None = None) -> None:
    """Create `path` (mode 0700) if missing; raise UntrustedPath unless it is ours alone.

    A directory in a shared place such as `/tmp/probed-<uid>` may have been made by someone else
    first, to forge results or to plant symlinks at the names we write. It is refused, never
    adopted: a symlink at the last component must itself be ours or root's (in a sticky `/tmp`
    nobody else can then swap it), and the directory it names must pass `trust_problem`."""
    me = os.geteuid() if euid is None else euid
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (me, 0):
        raise UntrustedPath(path, f"is a symlink owned by uid {link.st_uid}")
    problem = trust_problem(path.stat(), euid=me)
    if problem is not None:
        raise UntrustedPath(path, problem)


def make_state_dir(directory: Path) -> None:
    """probed's own state directory (`[daemon] state_dir`), made on the first write, so that a
    reader never creates it; a failure names the key that points there."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot create probed's state directory ([daemon] state_dir): "
            f"{exc.strerror or exc}"
        ) from None


def read_trusted(path: Path, *, limit: int | None = None, euid: int | None = None) -> bytes | None:
    """A file we (or root) wrote: None when it is missing; UntrustedPath when it is a symlink,
    not regular, someone else's or writable by others. Never follows a symlink."""
    me = os.geteuid() if euid is None else euid
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UntrustedPath(path, "is a symlink") from None
        raise
    try:
        problem = trust_problem(os.fstat(fd), euid=me, kind="regular file")
        if problem is not None:
            raise UntrustedPath(path, problem)
        chunks: list[bytes] = []
        size = 0
        while limit is None or size < limit:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[:limit] if limit is not None else b"".join(chunks)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically, through a temp file nobody can have planted.

    The temp file is made by `mkstemp` (O_CREAT|O_EXCL|O_NOFOLLOW, a random name) in the
    target's own directory and flocked while written, so `sweep_temps` can tell a live writer's
    file from a dead one's. On any failure (ENOSPC included) it is removed and the target is
    left as it was; the OSError is raised for the caller to phrase."""
    import tempfile  # noqa: PLC0415 - writers only: it imports shutil, bz2, lzma, random

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
            Path(tmp).replace(path)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def sweep_temps(directory: Path, pattern: re.Pattern[str], *, min_age_s: float = 60.0) -> int:
    """Remove our own temp files that a killed writer left behind; return how many.

    Only names matching `pattern` (our own naming, never OpenClaw's), only regular files owned
    by this user, only when no live writer holds them: a writer keeps its temp file flocked
    until it is renamed, and a file younger than `min_age_s` is left alone too (it may be in
    the instant between its creation and its lock)."""
    removed = 0
    try:
        names = [p.name for p in directory.iterdir()]
    except OSError:
        return 0
    now = time.time()
    for name in names:
        if not pattern.fullmatch(name):
            continue
        path = directory / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if (
                not stat.S_ISREG(st.st_mode)
                or st.st_uid != os.geteuid()
                or now - st.st_mtime < min_age_s
            ):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            again = os.lstat(path)
            if (again.st_ino, again.st_dev) == (st.st_ino, st.st_dev):
                path.unlink()
                removed += 1
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed
