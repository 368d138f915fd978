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
        """The shared results, only from a file we (or root) wrote; {} otherwise."""
        try:
            raw = files.read_trusted(self._path, limit=_MAX_RESULTS_BYTES)
            data = safejson.loads(raw) if raw else {}
        except files.UntrustedPath as exc:
            log.warning("results_untrusted", file=str(self._path), error=exc.problem)
            return {}
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

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
        data[target_key] = {**scrub(dict(outcome)), "at": now}
        try:
            # C encoder (json.dump never uses it); the temp file is mkstemp's, never planted
            files.write_private(self._path, json.dumps(data, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            # Sharing is an optimisation: the probe's own result stands, and the state it wrote
            # is already in OpenClaw's store. A full disk is said once, not raised.
            log.warning("results_unwritable", file=str(self._path), error=exc.strerror or str(exc))


class SingleFlight:
    def __init__(self, lock_dir: Path, *, poll: float = 0.02) -> None:
        self.lock_dir = lock_dir
        self._poll = poll
        self._locks: dict[str, anyio.Lock] = {}
        self._swept = False

    def _name(self, provider: str) -> str:
        name = re.sub(r"[^a-z0-9._-]", "_", provider.lower()) or "_"
        if len(name) > 80:  # a file name has 255 bytes at most; a provider id has no limit
            name = f"{name[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        return name

    @contextlib.asynccontextmanager
    async def hold(
        self, provider: str, *, timeout: float, started: float | None = None
    ) -> AsyncIterator[Flight]:
        """Hold `provider`'s lock; StoreBusy when another holder keeps it past `timeout`."""
        began = time.time() if started is None else started
        try:
            files.ensure_private_dir(self.lock_dir)
        except files.UntrustedPath as exc:
            raise ConfigError(
                f"{self.lock_dir}: probed's lock directory {exc.problem}, so it is not trusted "
                "(another user may have made it); remove it or set [daemon] lock_dir"
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"{self.lock_dir}: cannot create probed's lock directory ([daemon] lock_dir): "
                f"{exc.strerror or exc}"
            ) from None
        name = self._name(provider)
        lock = self._locks.setdefault(name, anyio.Lock())
        try:
            with anyio.fail_after(timeout):
                await lock.acquire()
        except TimeoutError:
            raise StoreBusy(
                f"another probe of provider {provider} is still running in this process"
            ) from None
        try:
            if not self._swept:
                self._swept = True
                files.sweep_temps(self.lock_dir, _TEMP)
            lock_path = self.lock_dir / f"{name}.lock"
            try:
                fd = os.open(
                    lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
                )
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ConfigError(
                        f"{lock_path}: the single-flight lock is a symlink, so it is not "
                        "trusted; nothing was sent"
                    ) from None
                raise StoreError(
                    f"{lock_path}: cannot open the single-flight lock "
                    f"({exc.strerror or exc}); nothing was sent"
                ) from None
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
