"""The local backend: one flight per provider on this host, results and budget in its files.

Flight: an exclusive `fcntl.flock` on `<lock_dir>/<provider>.lock`, taken by non-blocking
polling on the event loop (a thread blocked in flock cannot be cancelled and would take the lock
after its caller gave up). The kernel drops the lock when its holder dies, so there are no stale
locks and nothing is ever stolen; the file is never unlinked (unlink + open races would let two
holders in). A waiter waits as long as a live process holds the lock: the holder's work is
bounded by `[probe] timeout` per probe, so a timeout here could only make the waiter retry
blind. After `WAIT_NOTE_S` it logs `flight_waiting` once, naming the holder's pid (written
into the lock file), so a wedged holder can be found. In-process: an `anyio.Lock` per provider
in front, so tasks of one process queue cheaply.

Results: `<lock_dir>/<provider>.results.json`, `{result_key: {"at": epoch_s, ...}}`, written
atomically while holding the lock. The key is a keyed BLAKE2b of provider and credential: the
file sits in a 0700 directory of the user who can read the credentials themselves, so a fast
hash hides nothing that is not already readable next to it (the redis backend, whose readers may
be other people, uses a slow one: see probed/coordination/fingerprint.py).

Budget: the host ledger's (`probed.ledger.Ledger.try_spend`), as in 0.1.
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
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from probed import files, safejson
from probed.errors import ConfigError, StoreBusy, StoreError
from probed.ledger import Ledger
from probed.logs import get_logger
from probed.redact import scrub

log = get_logger()

RESULT_TTL_S = 86400.0
_MAX_RESULTS_BYTES = 8 << 20
# our temp files: write_private's (`.<name>.XXXXXXXX.tmp`) and 0.1's (`.<name>.<pid>.tmp`)
_TEMP = re.compile(r"\..+\.results\.json\.[A-Za-z0-9_]+\.tmp")
WAIT_NOTE_S = 10.0


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


class LocalFlight:
    """The held lock of one provider; read and record shared results through it.

    The results file is read once per flight and written back when the flight ends (and every
    `FLUSH_S` while it lasts, so a holder killed mid-batch loses little): only a holder reads
    or writes it, so nobody can see it between two records of the same flight. A batch of a
    thousand probes costs one read and a few writes, not a thousand of each."""

    FLUSH_S = 2.0
    can_be_lost = False  # see `check`

    def __init__(self, provider: str, results_path: Path, started: float) -> None:
        self.provider = provider
        self._path = results_path
        self.started = started
        self._data: dict[str, Any] | None = None
        self._dirty = False
        self._flushed = time.monotonic()

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            self._data = load_results(self._path)
        return self._data

    async def fresh(self, key: str, *, after: float) -> Mapping[str, Any] | None:
        return self.fresh_sync(key, after=after)

    def fresh_sync(self, key: str, *, after: float | None = None) -> dict[str, Any] | None:
        """The result recorded for `key` at or after `after` (default: when the flight's
        caller started waiting)."""
        after = self.started if after is None else after
        entry = self._entries().get(key)
        at = entry.get("at") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and isinstance(at, int | float) and at >= after:
            return entry
        return None

    async def record(self, key: str, outcome: Mapping[str, Any]) -> None:
        self._entries()[key] = {**outcome, "at": time.time()}
        self._dirty = True
        if time.monotonic() - self._flushed >= self.FLUSH_S:
            self.flush()

    def record_sync(self, key: str, outcome: Mapping[str, Any]) -> None:
        self._entries()[key] = {**outcome, "at": time.time()}
        self._dirty = True
        self.flush()

    def flush(self) -> None:
        """Write the results back (atomically, 0600), dropping those older than a day. Sharing
        is best effort: a failure is logged, the state writes already happened."""
        if not self._dirty or self._data is None:
            return
        now = time.time()
        data = {
            k: v
            for k, v in self._data.items()
            if isinstance(v, dict)
            and isinstance(v.get("at"), int | float)
            and now - v["at"] < RESULT_TTL_S
        }
        if not write_results(self._path, data):
            return
        self._data = data
        self._dirty = False
        self._flushed = time.monotonic()

    async def check(self) -> None:
        """The kernel holds a flock for as long as its descriptor is open: never lost."""


class SingleFlight:
    """One flight per provider on this host (flock), queued in-process by an anyio.Lock."""

    def __init__(self, lock_dir: Path, *, poll: float = 0.02) -> None:
        self.lock_dir = lock_dir
        self._poll = poll
        self._locks: dict[str, anyio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(
        self, provider: str, *, timeout: float | None = None, started: float | None = None
    ) -> AsyncIterator[LocalFlight]:
        """Hold `provider`'s lock. With `timeout` None (the default) wait as long as a live
        process holds it; otherwise StoreBusy after `timeout` seconds."""
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
            path = self.lock_dir / f"{name}.lock"
            fd = open_lock(path)
            try:
                try:
                    with anyio.fail_after(timeout):
                        await self._flock(fd, path, provider)
                except TimeoutError:
                    raise StoreBusy(
                        f"{path}: another probe of provider {provider} held the lock for more "
                        f"than {timeout:g}s"
                    ) from None
                with contextlib.suppress(OSError):  # who holds it, for `flight_waiting`
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                flight = LocalFlight(provider, self.lock_dir / f"{name}.results.json", began)
                try:
                    yield flight
                finally:
                    flight.flush()  # before the lock goes: the next holder reads it
            finally:
                os.close(fd)  # releases the flock
        finally:
            lock.release()

    async def _flock(self, fd: int, path: Path, provider: str) -> None:
        waited_since = time.monotonic()
        noted = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not noted and time.monotonic() - waited_since > WAIT_NOTE_S:
                    noted = True
                    log.info(
                        "flight_waiting",
                        provider=provider,
                        lock=str(path),
                        holder_pid=_holder_pid(path),
                        waited_s=round(time.monotonic() - waited_since, 1),
                    )
                await anyio.sleep(self._poll)
            else:
                return


def _holder_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def local_result_key(provider: str, credential: str, model: str | None) -> str:
    digest = hashlib.blake2b(
        f"{provider}\0{credential}".encode(), digest_size=16, person=b"probed-local-v1"
    ).hexdigest()
    return f"{digest}/{model or ''}"


class LocalCoordinator:
    """Today's behaviour behind the Coordinator protocol: one host."""

    backend = "local"

    def __init__(self, lock_dir: Path, ledger: Ledger) -> None:
        self.flights = SingleFlight(lock_dir)
        self.ledger = ledger

    @contextlib.asynccontextmanager
    async def flight(self, provider: str) -> AsyncIterator[LocalFlight]:
        async with self.flights.hold(provider) as flight:
            yield flight

    async def result_key(self, provider: str, credential: str, model: str | None) -> str:
        return local_result_key(provider, credential, model)

    async def spend(self, provider: str, now: datetime, limit: int) -> tuple[bool, bool]:
        return await anyio.to_thread.run_sync(self.ledger.try_spend, provider, now, limit)

    async def aclose(self) -> None:
        return None


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


def write_results(path: Path, data: Mapping[str, Any]) -> bool:
    """Write the results (scrubbed: no secret leaves the profile) through a temp file nobody
    can have planted. Sharing is best effort: a full disk is said once, not raised; the probe's
    own result and its state write stand."""
    text = json.dumps(scrub(dict(data)), sort_keys=True)  # C encoder; json.dump never uses it
    try:
        files.write_private(path, text.encode("utf-8"))
    except OSError as exc:
        log.warning("results_unwritable", file=str(path), error=exc.strerror or str(exc))
        return False
    return True
