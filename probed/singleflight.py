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
import fcntl
import json
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio

from probed.errors import ConfigError, StoreBusy

RESULT_TTL_S = 86400.0


class Flight:
    """The held lock of one provider; read and record shared results through it."""

    def __init__(self, results_path: Path, started: float) -> None:
        self._path = results_path
        self.started = started

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
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
        data[target_key] = {**outcome, "at": now}
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, sort_keys=True))  # C encoder; json.dump never uses it
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self._path)


class SingleFlight:
    def __init__(self, lock_dir: Path, *, poll: float = 0.02) -> None:
        self.lock_dir = lock_dir
        self._poll = poll
        self._locks: dict[str, anyio.Lock] = {}

    def _name(self, provider: str) -> str:
        return re.sub(r"[^a-z0-9._-]", "_", provider.lower()) or "_"

    @contextlib.asynccontextmanager
    async def hold(
        self, provider: str, *, timeout: float, started: float | None = None
    ) -> AsyncIterator[Flight]:
        """Hold `provider`'s lock; StoreBusy when another holder keeps it past `timeout`."""
        began = time.time() if started is None else started
        try:
            self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
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
            fd = os.open(
                self.lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
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
