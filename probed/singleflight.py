"""One probe per provider at a time on this host, and its result shared with whoever waited.

Across processes: an exclusive `fcntl.flock` on `<lock_dir>/<provider>.lock`, taken by
non-blocking polling on the event loop (a thread blocked in flock cannot be cancelled and would
take the lock after its caller gave up). The kernel drops the lock when its holder dies, so there
are no stale locks; the file is never unlinked (unlink + open races would let two holders in).
In-process: an `anyio.Lock` per provider in front, so tasks of one process queue cheaply.

Results: `<lock_dir>/<provider>.results.json`, `{target_key: {"at": epoch_s, ...}}`, written
atomically while holding the lock. A caller notes when it started waiting; once it holds the lock,
a result for its target obtained after that instant is the answer to its own question, so it uses
it instead of probing again.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio

from probed import files, safejson
from probed.errors import ConfigError, StoreBusy, StoreError
from probed.logs import get_logger
from probed.redact import scrub

log = get_logger()

RESULT_TTL_S = 86400.0
_MAX_RESULTS_BYTES = 8 << 20
# our temp files: write_private's (`.<name>.XXXXXXXX.tmp`) and 0.1's (`.<name>.<pid>.tmp`)
_TEMP = re.compile(r"\..+\.results\.json\.[A-Za-z0-9_]+\.tmp")


class Flight:
    """The held lock of one provider; read and record shared results through it."""

    def __init__(self, results_path: Path, started: float) -> None:
        self._path = results_path
        self.started = started

    def _load(self) -> dict[str, Any]:
        return load_results(self._path)

    def fresh(self, target_key: str) -> dict[str, Any] | None:
        """The result another caller recorded for `target_key` after this caller started."""
        entry = self._load().get(target_key)
        at = entry.get("at") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and isinstance(at, int | float) and at >= self.started:
            return entry
        return None

    def record(self, target_key: str, outcome: Mapping[str, Any]) -> None:
        now = time.time()
        data = {
            k: v
            for k, v in self._load().items()
            if isinstance(v, dict)
            and isinstance(v.get("at"), int | float)
            and now - v["at"] < RESULT_TTL_S
        }
        data[target_key] = {**outcome, "at": now}
        write_results(self._path, data)


class SingleFlight:
    def __init__(self, lock_dir: Path, *, poll: float = 0.02) -> None:
        self.lock_dir = lock_dir
        self._poll = poll
        self._locks: dict[str, anyio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(
        self, provider: str, *, timeout: float, started: float | None = None
    ) -> AsyncIterator[Flight]:
        """Hold `provider`'s lock; StoreBusy when another holder keeps it past `timeout`."""
        began = time.time() if started is None else started
        ensure_lock_dir(self.lock_dir)
        name = lock_name(provider)
        lock = self._locks.setdefault(name, anyio.Lock())
        try:
            with anyio.fail_after(timeout):
                await lock.acquire()
        except TimeoutError:
            raise StoreBusy(
                f"another probe of provider {provider} is still running in this process"
            ) from None
        try:
            fd = open_lock(self.lock_dir / f"{name}.lock")
            try:
                try:
                    with anyio.fail_after(timeout):
                        while True:
                            try:
                                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                                break
                            except BlockingIOError:
                                await anyio.sleep(self._poll)
                except TimeoutError:
                    raise StoreBusy(
                        f"{self.lock_dir / (name + '.lock')}: another probe of provider "
                        f"{provider} held the lock for more than {timeout:g}s"
                    ) from None
                yield Flight(self.lock_dir / f"{name}.results.json", began)
            finally:
                os.close(fd)  # releases the flock
        finally:
            lock.release()


# ---- hardening helpers: the lock directory and its files (see docs/security.md) ----------


def ensure_lock_dir(lock_dir: Path) -> None:
    """Create `[daemon] lock_dir` (0700) if needed and check it is ours alone; ConfigError naming
    the key otherwise. Every lock and results file goes through here. The first call of a
    process also sweeps results temp files that killed writers of ours left."""
    try:
        files.ensure_private_dir(lock_dir)
    except files.UntrustedPath as exc:
        raise ConfigError(
            f"{lock_dir}: probed's lock directory {exc.problem}, so it is not trusted "
            "(another user may have made it); remove it or set [daemon] lock_dir"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{lock_dir}: cannot create probed's lock directory ([daemon] lock_dir): "
            f"{exc.strerror or exc}"
        ) from None
    if lock_dir not in _swept:
        _swept.add(lock_dir)
        files.sweep_temps(lock_dir, _TEMP)


_swept: set[Path] = set()


def lock_name(provider: str) -> str:
    """The file-name-safe form of a provider id, short enough for any file system (a provider
    id comes from OpenClaw's store and has no length limit; a file name has 255 bytes)."""
    name = re.sub(r"[^a-z0-9._-]", "_", provider.lower()) or "_"
    if len(name) > 80:
        name = f"{name[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
    return name


def open_lock(path: Path) -> int:
    """The lock file's descriptor, never through a symlink planted at its name."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"{path}: the single-flight lock is a symlink, so it is not trusted; "
                "nothing was sent"
            ) from None
        raise StoreError(
            f"{path}: cannot open the single-flight lock ({exc.strerror or exc}); nothing was sent"
        ) from None


def load_results(path: Path) -> dict[str, Any]:
    """The shared results, only from a file we (or root) wrote; {} otherwise."""
    try:
        raw = files.read_trusted(path, limit=_MAX_RESULTS_BYTES)
        data = safejson.loads(raw) if raw else {}
    except files.UntrustedPath as exc:
        log.warning("results_untrusted", file=str(path), error=exc.problem)
        return {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_results(path: Path, data: Mapping[str, Any]) -> None:
    """Write the results (scrubbed: no secret leaves the profile) through a temp file nobody
    can have planted. Sharing is best effort: a full disk is said once, not raised; the probe's
    own result and its state write stand."""
    text = json.dumps(scrub(dict(data)), sort_keys=True)  # C encoder; json.dump never uses it
    try:
        files.write_private(path, text.encode("utf-8"))
    except OSError as exc:
        log.warning("results_unwritable", file=str(path), error=exc.strerror or str(exc))
