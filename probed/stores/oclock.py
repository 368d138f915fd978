"""OpenClaw's JSON-era store lock, spoken from Python so both sides exclude each other.

OpenClaw (2026.1 - 2026.6.1) guards `auth-profiles.json` *and* `auth-state.json` with one sidecar,
`<realpath(agentDir)>/auth-profiles.json.lock`: a regular file created with O_CREAT|O_EXCL
holding `{"pid", "createdAt", "starttime"}` (2-space JSON plus a newline). 2026.1.x used
proper-lockfile instead, which makes a *directory* of the same name; the two exclude each other
because both creations fail when the name exists.

Stale rules, as OpenClaw >= 5.28 applies them, so that we never steal a lock a live gateway
holds: a lock naming a pid is stale only when that pid is gone (ESRCH), a zombie, or a different
process now (its /proc starttime differs). Only a lock without a readable pid falls back to age:
`createdAt` (or the file's mtime when even that is missing) older than 30 s. A directory lock is
stale when its mtime is older than 30 s (proper-lockfile refreshes it while held). Before
removing a stale lock we re-check that it is the very file we judged (inode and content), so we
never delete a lock someone else created in between.

A live holder is waited for with exponential backoff and jitter, up to a bounded total wait
(StoreBusy naming the file and the holder's pid after it). We hold the lock only for one
read-modify-write (milliseconds): OpenClaw <= 4.x steals locks older than 30 s, and 2026.6.1
writes without the lock after ~50 s of waiting.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from probed.errors import StoreBusy, StoreError
from probed.files import read_regular
from probed.logs import get_logger

log = get_logger()

LOCK_NAME = "auth-profiles.json.lock"
STALE_S = 30.0
DEFAULT_TIMEOUT_S = 30.0

# Threads of this process queue here first: a lock file we hold ourselves names a live pid (ours)
# and would otherwise only be waited out by backoff.
_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def lock_path(agent_dir: Path) -> Path:
    """The lock OpenClaw takes: the directory is realpath-resolved, the basename is not."""
    return Path(os.path.realpath(agent_dir)) / LOCK_NAME


def proc_starttime(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid apart."""
    fields = _proc_stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    try:
        return int(fields[19])
    except ValueError:
        return None


def _proc_stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (the command name may hold spaces and parentheses)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def pid_is_dead(pid: int) -> bool:
    """Definitely gone (ESRCH) or a zombie. EPERM means alive (another user's process)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    except OSError:
        return False
    fields = _proc_stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] == "Z"


@dataclass(frozen=True, slots=True)
class Holder:
    """What a lock file says about who holds it (all None when unreadable)."""

    pid: int | None
    created_ms: int | None
    starttime: int | None


def parse_holder(content: bytes) -> Holder:
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Holder(None, None, None)
    if not isinstance(data, dict):
        return Holder(None, None, None)
    pid = data.get("pid")
    start = data.get("starttime")
    created = data.get("createdAt")
    created_ms: int | None = None
    if isinstance(created, str):
        with contextlib.suppress(ValueError):
            born = datetime.fromisoformat(created.replace("Z", "+00:00"))
            created_ms = int(born.timestamp() * 1000)
    return Holder(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        created_ms=created_ms,
        starttime=start if isinstance(start, int) and not isinstance(start, bool) else None,
    )


def is_stale(holder: Holder, mtime_s: float, *, now_s: float, stale_s: float = STALE_S) -> bool:
    """OpenClaw >= 5.28's rule: a named pid decides alone; age matters only without one."""
    if holder.pid is not None:
        if pid_is_dead(holder.pid):
            return True
        if holder.starttime is not None:
            current = proc_starttime(holder.pid)
            return current is not None and current != holder.starttime
        return False
    born = holder.created_ms / 1000 if holder.created_ms is not None else mtime_s
    return now_s - born > stale_s


def _payload() -> bytes:
    now = datetime.now(UTC)
    body: dict[str, object] = {
        "pid": os.getpid(),
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
    }
    start = proc_starttime(os.getpid())
    if start is not None:
        body["starttime"] = start
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")


class AgentLock:
    """`with AgentLock(agent_dir): ...` holds OpenClaw's auth-store lock for that agent."""

    def __init__(
        self,
        agent_dir: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        stale_s: float = STALE_S,
        min_delay: float = 0.025,
        max_delay: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.path = lock_path(agent_dir)
        self.timeout = timeout
        self.stale_s = stale_s
        self.min_delay = min_delay
        self.max_delay = max_delay
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._fd: int | None = None
        self._ino: int | None = None
        self._content = b""
        self._local: threading.Lock | None = None

    # ---- acquiring ------------------------------------------------------------------------

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        local = _local_lock(self.path)
        if not local.acquire(timeout=max(0.0, self.timeout)):
            raise StoreBusy(
                f"{self.path}: another writer in this process held the lock for more than "
                f"{self.timeout:g}s; nothing was written"
            )
        self._local = local
        try:
            self._acquire_file(deadline)
        except BaseException:
            local.release()
            self._local = None
            raise

    def _acquire_file(self, deadline: float) -> None:
        attempt = 0
        holder_pid: int | None = None
        last_chance = False
        while True:
            if self._try_create():
                return
            holder_pid = self._reclaim_if_stale()
            now = time.monotonic()
            if holder_pid is None and (now < deadline or not last_chance):
                # it was stale (and is gone now), or vanished: try again at once, even when the
                # wait is over, since the way is free (once: a new holder may have won it)
                last_chance = now >= deadline
                continue
            holder_pid = holder_pid or 0
            if now >= deadline:
                who = f"process {holder_pid}" if holder_pid > 0 else "another process"
                raise StoreBusy(
                    f"{self.path}: the OpenClaw store is locked by {who} and stayed locked for "
                    f"{self.timeout:g}s; nothing was written"
                )
            delay = min(self.max_delay, self.min_delay * (2**attempt))
            delay *= 1 + self._rng.random()
            time.sleep(min(delay, max(0.0, deadline - now)))
            attempt += 1

    def _try_create(self) -> bool:
        """Exclusive create, with the content already in place.

        The payload is written to a private temp file first and hard-linked to the lock name:
        link(2) fails with EEXIST exactly like O_CREAT|O_EXCL, but a writer killed half-way can
        never leave an *empty* lock (which, having no pid, would block everyone for 30 s).
        """
        payload = _payload()
        _sweep_dead_temps(self.path.parent)
        tmp = self.path.with_name(f".{LOCK_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644
            )
        except FileNotFoundError:
            raise StoreError(
                f"{self.path.parent}: the agent directory does not exist; nothing was written"
            ) from None
        except OSError as exc:
            raise StoreError(
                f"{self.path}: cannot create the lock ({exc.strerror}); nothing was written"
            ) from None
        try:
            try:
                os.write(fd, payload)
            except OSError as exc:  # ENOSPC: the lock was never taken, so nothing was written
                os.close(fd)
                raise StoreError(
                    f"{self.path}: cannot create the lock ({exc.strerror}); nothing was written"
                ) from None
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                os.close(fd)
                return False
            except OSError as exc:
                os.close(fd)
                raise StoreError(
                    f"{self.path}: cannot create the lock ({exc.strerror}); nothing was written"
                ) from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._fd = fd
        self._ino = os.fstat(fd).st_ino
        self._content = payload
        return True

    def _reclaim_if_stale(self) -> int | None:
        """Remove the lock if it is stale. Returns the holder's pid (0 when unknown) if it is
        live and must be waited for, None when the way may be free now."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return None
        now_s = time.time()
        if stat.S_ISDIR(st.st_mode):  # proper-lockfile: held while its mtime is being refreshed
            if now_s - st.st_mtime <= self.stale_s:
                return 0
            with contextlib.suppress(OSError):
                again = os.lstat(self.path)
                if again.st_ino == st.st_ino and again.st_mtime == st.st_mtime:
                    self.path.rmdir()
                    log.warning("stale_lock_reclaimed", lock=str(self.path), kind="directory")
            return None
        content = _read(self.path)
        if content is None:
            return None
        holder = parse_holder(content)
        if not is_stale(holder, st.st_mtime, now_s=now_s, stale_s=self.stale_s):
            return holder.pid or 0
        # Re-check that it is still the very lock we judged before removing it.
        try:
            again = os.lstat(self.path)
        except FileNotFoundError:
            return None
        if again.st_ino != st.st_ino or _read(self.path) != content:
            return None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        log.warning("stale_lock_reclaimed", lock=str(self.path), holder_pid=holder.pid)
        return None

    # ---- releasing ------------------------------------------------------------------------

    def release(self) -> None:
        """Remove the lock only if it is still the one we wrote (inode and content)."""
        try:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    st = os.lstat(self.path)
                    if st.st_ino == self._ino and _read(self.path) == self._content:
                        self.path.unlink()
                os.close(self._fd)
        finally:
            self._fd = None
            if self._local is not None:
                self._local.release()
                self._local = None

    def __enter__(self) -> AgentLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


@contextlib.contextmanager
def locked(agent_dir: Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[AgentLock]:
    with AgentLock(agent_dir, timeout=timeout) as held:
        yield held


def _read(path: Path) -> bytes | None:
    """The lock's content; b"" (unreadable: judged by age) for anything that is not a file."""
    try:
        return read_regular(path, limit=4096)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        return b""


def _local_lock(path: Path) -> threading.Lock:
    key = str(path)
    with _local_guard:
        lock = _local_locks.get(key)
        if lock is None:
            lock = _local_locks[key] = threading.Lock()
        return lock


def _sweep_dead_temps(directory: Path) -> None:
    """Remove lock temp files whose writer was killed between create and link."""
    for leftover in directory.glob(f".{LOCK_NAME}.*.tmp"):
        parts = leftover.name.split(".")
        pid = int(parts[-3]) if len(parts) >= 3 and parts[-3].isdigit() else 0
        if pid and pid != os.getpid() and pid_is_dead(pid):
            with contextlib.suppress(OSError):
                leftover.unlink()
