"""The recovery loop: wake when each cooldown expires, probe once, clear or extend, repeat.

One pass over a store ("evaluate") reads it, clamps stale billing windows, and makes the schedule
match it: every unusable (agent, profile[, model]) gets one job at its expiry plus jitter, keys
that became usable (someone else cleared them) lose theirs. Passes run at start-up, whenever the
watcher sees a store file change, after every probe, on SIGHUP and every `rescan_s` in case an
event was missed.

A key's last verdict is a floor: when a probe said "quota, back in 5 h" and OpenClaw keeps
re-opening a 30-second window on the same error, the key is not probed again before those 5 h.
The floor lives in memory (seeded from the ledger at start-up) rather than being re-read from the
ledger's `next_probe_at`, which holds the jittered time and would otherwise drift on each pass.
"""

from __future__ import annotations

import faulthandler
import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx

from probed import __version__, policy, repair
from probed.clock import from_ms, iso, to_ms, utcnow
from probed.config import Config, load_config
from probed.durations import humanize
from probed.errors import ProbedError, unforeseen
from probed.logs import configure, get_logger
from probed.model import BYPASS_PROVIDERS, Credential, Profile, Usage, View
from probed.notify import Notifier
from probed.reasons import Reason, from_openclaw
from probed.recover import ProbeContext, ProbeResult, make_client, make_context, probe_profile
from probed.scheduler import Key, ProbeScheduler, spread
from probed.stores.atomic import sweep_stale
from probed.stores.base import FileSignature as Signature
from probed.stores.base import Snapshot, Store, file_signature
from probed.stores.discover import discover
from probed.watch import watch_roots, watch_state

log = get_logger()

OnResult = Callable[[ProbeResult], Any]


def signature(store: Store) -> Signature:
    """The store's files as of now (see `file_signature`).

    SQLite opens the WAL read-write even for a read-only connection, so each of our own reads
    shows up as a "modified" event on it; without this check every read would trigger another
    and the daemon would spin."""
    return file_signature(store.watch_paths())


@dataclass
class DaemonOptions:
    """Knobs that tests and the demo shorten; the defaults are the product's."""

    spread_s: float = 60.0  # overdue work found at start-up is spread over this window
    rescan_s: float = 300.0  # safety rescan, in case a file event was missed
    stop_timeout: float = 10.0  # SIGTERM: in-flight probes get this long to finish
    status_s: float = 1.0  # STATUS= refresh
    retry_s: float = 30.0  # a probe that could not run (busy lock, crash) is retried after this
    on_result: OnResult | None = None
    stop: anyio.Event | None = None  # set it to stop the daemon as SIGTERM would


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        config_path: str | os.PathLike[str] | None = None,
        notifier: Notifier | None = None,
        options: DaemonOptions | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path if config_path is not None else config.source
        self.notifier = notifier or Notifier()
        self.opts = options or DaemonOptions()
        self.rng = random.Random()  # noqa: S311 - jitter, not security
        self.stores: dict[str, Store] = {}
        self._base: dict[Key, datetime] = {}  # the un-jittered deadline each key is armed for
        self._floor: dict[Key, datetime] = {}  # no probe before this (the last verdict)
        self._credentials: dict[tuple[str, str], Credential] = {}  # to notice a re-auth
        self._seen: dict[str, Signature] = {}  # each store's files as of its last evaluation
        self._unreadable: dict[str, str] = {}
        self._invalid: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self._clients: list[httpx.AsyncClient] = []
        self._eval_lock = anyio.Lock()
        self._tasks: anyio.abc.TaskGroup | None = None  # for work that outlives one pass
        self._clamping: set[str] = set()  # agents whose clamp is waiting for the store's lock
        self._reload_wanted = anyio.Event()
        self._rescan_wanted = anyio.Event()
        self._stop = self.opts.stop or anyio.Event()
        every = self.notifier.watchdog_interval
        self.sched = ProbeScheduler(
            self._due,
            heartbeat_s=min(1.0, every / 2) if every else 1.0,
            on_clock_step=lambda _step: self._rescan_wanted.set(),
        )
        self.ctx: ProbeContext | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> int:
        faulthandler.enable()
        with anyio.open_signal_receiver(signal.SIGHUP, signal.SIGTERM, signal.SIGINT) as signals:
            self._new_context(self.config)
            try:
                async with anyio.create_task_group() as tg:
                    self._tasks = tg
                    await tg.start(self.sched.serve)
                    log.info(
                        "daemon_started",
                        version=__version__,
                        config=str(self.config_path) if self.config_path else None,
                        openclaw=str(self.config.openclaw.state_dir),
                        state_dir=str(self.config.daemon.state_dir),
                        pid=os.getpid(),
                    )
                    self._seed_floors()
                    await self.scan(initial=True)
                    self.notifier.ready(self.status_text())
                    if self.notifier.watchdog_interval:
                        tg.start_soon(self._watchdog, self.notifier.watchdog_interval)
                    tg.start_soon(self._signals, signals)
                    tg.start_soon(watch_state, self._roots, self._changed)
                    tg.start_soon(self._status_loop)
                    tg.start_soon(self._rescan_loop)
                    tg.start_soon(self._reload_loop)
                    await self._stop.wait()
                    self.notifier.stopping()
                    log.info("daemon_stopping", in_flight=len(self.sched.running()))
                    clean = await self.sched.drain(self.opts.stop_timeout)
                    if not clean:
                        log.warning("probes_cancelled", timeout_s=self.opts.stop_timeout)
                    tg.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    for client in self._clients:
                        await client.aclose()
        log.info("daemon_stopped")
        return 0

    def stop(self) -> None:
        self._stop.set()

    async def _signals(self, signals: Any) -> None:
        async for sig in signals:
            if sig == signal.SIGHUP:
                self._reload_wanted.set()  # a storm of them coalesces into one more reload
            else:
                log.info("signal_received", signal=signal.Signals(sig).name)
                self._stop.set()

    def _new_context(self, config: Config) -> None:
        """A context for `config`. The HTTP client (its TLS context and connection pool, most
        of a megabyte) is kept across reloads; only a new `[probe] timeout` needs a new one, and
        the old one is closed once the probes that may still use it are done, so a SIGHUP costs
        no memory however many come."""
        old = self.ctx
        if old is not None and old.config.probe.timeout == config.probe.timeout:
            client = old.client
        else:
            client = make_client(config)
            self._clients.append(client)
            if old is not None:
                self._retire(old.client, grace_s=max(60.0, old.config.probe.timeout * 6))
        self.ctx = make_context(config, client=client, rng=self.rng)
        self.sched.set_ledger(self.ctx.ledger)

    def _retire(self, client: httpx.AsyncClient, *, grace_s: float) -> None:
        if self._tasks is None or client not in self._clients:
            return
        self._clients.remove(client)

        async def close_when_idle() -> None:
            with anyio.move_on_after(grace_s):  # in-flight probes end within their deadlines
                while self.sched.running():
                    await anyio.sleep(0.2)
            await client.aclose()

        self._tasks.start_soon(close_when_idle)

    # ---- scanning --------------------------------------------------------------------------

    def _discover(self) -> None:
        try:
            found = discover(self.config.openclaw)
        except ProbedError as exc:
            self._note_unreadable(None, str(exc))  # the state root itself: no agent to name
            found = []
        else:
            self._unreadable.pop("", None)
        stores: dict[str, Store] = {}
        for store in found:
            stores.setdefault(store.agent, store)
        for gone in set(self.stores) - set(stores):
            for key in [k for k in self.sched.scheduled() if k.agent == gone]:
                self._cancel(key, why="agent_removed")
        self.stores = stores
        self._seen = {k: v for k, v in self._seen.items() if k in stores}
        self._credentials = {k: v for k, v in self._credentials.items() if k[0] in stores}
        self._invalid = {k: v for k, v in self._invalid.items() if k[0] in stores}

    async def scan(self, *, initial: bool = False) -> None:
        """Rediscover every store and evaluate each one."""
        self._discover()
        if initial:
            await anyio.to_thread.run_sync(self._sweep_temps)
        items: list[tuple[Key, datetime]] = []
        for store in list(self.stores.values()):
            items += await self._evaluate(store, arm=False)
        if initial:
            items = spread(items, now=utcnow(), window_s=self.opts.spread_s)
        self.sched.schedule_many(items)

    async def _evaluate(
        self, store: Store, *, arm: bool = True, finished: Key | None = None
    ) -> list[tuple[Key, datetime]]:
        """Make the schedule match one store. Returns what it would arm when `arm` is False.

        A key whose probe is running is left alone: its own run re-evaluates the store when it
        ends (passing itself as `finished`), and only then is its next deadline known."""
        async with self._eval_lock:
            self._seen[store.agent] = signature(store)
            try:
                snap = await anyio.to_thread.run_sync(store.read)
            except ProbedError as exc:
                self._note_unreadable(store.agent, str(exc))
                return []  # keep its schedules: a torn or locked file is not a cleared one
            except Exception as exc:  # a store that breaks a parser is that store's problem only
                self._note_unreadable(store.agent, unforeseen(store.location, exc))
                return []
            self._unreadable.pop(store.agent, None)
            self._clamp_soon(store, snap)
            now = utcnow()
            wanted = self._wanted(snap, now)
            for key in [k for k in self.sched.scheduled() if k.agent == store.agent]:
                if key not in wanted:
                    self._cancel(key, why="usable")
            items: list[tuple[Key, datetime]] = []
            for key, (base, window_s, profile, usage) in wanted.items():
                if key != finished and self.sched.is_running(key):
                    continue
                if self.sched.is_scheduled(key) and self._base.get(key) == base:
                    continue
                at = self._jittered(base, window_s)
                self._base[key] = base
                items.append((key, at))
                recorded = usage.recorded()
                log.info(
                    "probe_scheduled",
                    agent=key.agent,
                    profile=key.profile,
                    provider=profile.provider,
                    model=key.model,
                    reason=recorded.reason if recorded else None,
                    until=iso(base),
                    at=iso(at),
                )
            if arm:
                self.sched.schedule_many(items)
            return items

    def _wanted(
        self, snap: Snapshot, now: datetime
    ) -> dict[Key, tuple[datetime, float, Profile, Usage]]:
        """Every profile with a recorded window (active, or expired but not yet cleared), and
        when to probe it: see `_probe_time`."""
        out: dict[Key, tuple[datetime, float, Profile, Usage]] = {}
        for pid, profile in snap.profiles.items():
            if profile.provider in BYPASS_PROVIDERS:
                continue
            before = self._credentials.get((snap.agent, pid))
            self._credentials[(snap.agent, pid)] = profile.credential
            usage = snap.usage(pid)
            self._note_invalid(snap.agent, pid, usage)
            recorded = usage.recorded()
            if recorded is None or recorded.until_ms is None:
                continue
            key = Key(snap.agent, pid, recorded.model)
            if (
                before is not None
                and before != profile.credential
                and from_openclaw(recorded.reason) in (Reason.AUTH, Reason.AUTH_PERMANENT)
            ):
                # Someone re-authenticated (a new key, `openclaw models auth login`): that is
                # what fixes an auth failure, so probe now instead of waiting out the window.
                self._floor[key] = now
                log.info(
                    "credential_changed",
                    agent=snap.agent,
                    profile=pid,
                    provider=profile.provider,
                    reason=recorded.reason,
                )
            base = self._probe_time(key, recorded, usage)
            start = from_ms(usage.last_failure_at) if usage.last_failure_at else None
            window_s = max(0.0, (base - start).total_seconds()) if start else 0.0
            out[key] = (base, window_s, profile, usage)
        return out

    def _probe_time(self, key: Key, recorded: View, usage: Usage) -> datetime:
        """When to probe a key. Normally the window's end. Once probed has its own verdict for
        the key, that verdict's next probe time rules: it already carries the provider's reset
        time as a floor, and a shorter window OpenClaw keeps re-opening (its 30-second retry loop
        on a misclassified error) must not bring the next probe forward.

        The one exception is OpenClaw's `disabled` lane (billing, auth_permanent): its windows
        (5 to 24 hours) are exactly what outlives the top-up, and the profile stays disabled
        until something probes it. There probed applies its own policy's first step, the earlier
        of the window's end and lastFailureAt + backoff base, so a 5-hour billing window is
        probed after 10 minutes. Cooldowns (rate limits, quota, overload) and `blocked` windows
        carry a reset time and are never probed before it."""
        window_end = from_ms(recorded.until_ms or 0)
        floor = self._floor.get(key)
        if floor is not None:
            return floor
        if recorded.state != "disabled" or usage.last_failure_at is None:
            return window_end
        reason = from_openclaw(recorded.reason) or Reason.UNKNOWN
        first = from_ms(usage.last_failure_at) + timedelta(
            seconds=self.config.backoff_for(reason).base
        )
        return min(window_end, first)

    def _jittered(self, base: datetime, window_s: float) -> datetime:
        p = self.config.probe
        return policy.with_jitter(
            base, window_s, jitter=p.jitter, jitter_max=p.jitter_max, rng=self.rng
        )

    def _clamp_soon(self, store: Store, snap: Snapshot) -> None:
        """Start the stale-window repair when this read shows one is due.

        It runs beside the pass, not inside it: the write waits for OpenClaw's lock, which a
        live gateway may hold for a while, and every other store's pass (and the event loop)
        must go on meanwhile. Its write changes the store, and the watcher brings the clamped
        window into the next pass. A clamp that found the lock busy is tried again on the next
        pass over the store."""
        if not self.config.repair.clamp_stale or self._tasks is None:
            return
        cap = self.config.backoff_for(Reason.BILLING).cap
        if store.agent in self._clamping or not repair.needs_clamp(snap.state, cap_s=cap):
            return
        self._clamping.add(store.agent)
        self._tasks.start_soon(self._clamp, store, cap)

    async def _clamp(self, store: Store, cap_s: float) -> None:
        try:
            await anyio.to_thread.run_sync(
                lambda: repair.clamp_stale(store, cap_s=cap_s, now_ms=to_ms(utcnow()))
            )
        except ProbedError as exc:
            self._note_unreadable(store.agent, str(exc))
        finally:
            self._clamping.discard(store.agent)

    def _sweep_temps(self) -> None:
        """Temp copies of store files a writer of ours left when it was killed (see
        `atomic.sweep_stale`): in era A they hold the credentials, so none outlives a restart."""
        for store in self.stores.values():
            for path in store.watch_paths():
                try:
                    removed = sweep_stale(path)
                except OSError:
                    continue
                if removed:
                    log.info("stale_temp_removed", agent=store.agent, file=str(path), count=removed)

    def _cancel(self, key: Key, *, why: str) -> None:
        self._base.pop(key, None)
        self._floor.pop(key, None)
        if self.sched.cancel(key):
            log.info(
                "probe_cancelled", agent=key.agent, profile=key.profile, model=key.model, reason=why
            )

    def _note_invalid(self, agent: str, profile_id: str, usage: Usage) -> None:
        """A time field that is not a time (`1e20`): said once per profile and value; the field
        is ignored, and every other profile (and this one's other fields) goes on."""
        if self._invalid.get((agent, profile_id)) != usage.invalid:
            if usage.invalid:
                log.warning(
                    "store_value_invalid",
                    agent=agent,
                    profile=profile_id,
                    error=usage.invalid_note(profile_id),
                )
                self._invalid[(agent, profile_id)] = usage.invalid
            else:
                self._invalid.pop((agent, profile_id), None)

    def _note_unreadable(self, agent: str | None, error: str) -> None:
        key = agent or ""
        if self._unreadable.get(key) != error:  # once per distinct problem, not per pass
            self._unreadable[key] = error
            log.warning("store_unreadable", agent=agent, error=error)

    def _seed_floors(self) -> None:
        """The last verdicts of the previous run: a failure's next probe time is a floor."""
        if self.ctx is None:
            return
        try:
            records = self.ctx.ledger.all()
        except ProbedError:
            return
        for rec in records:
            if rec.last_result not in (None, "ok") and rec.next_probe_at is not None:
                self._floor[Key(rec.agent, rec.profile, rec.model)] = rec.next_probe_at

    # ---- the job ---------------------------------------------------------------------------

    async def _due(self, key: Key) -> None:
        """A key's deadline came: check it is still unusable and due, probe, re-evaluate."""
        self._base.pop(key, None)
        store = self.stores.get(key.agent)
        if store is None or self.ctx is None:
            return
        try:
            snap = await anyio.to_thread.run_sync(store.read)
        except ProbedError as exc:
            self._note_unreadable(store.agent, str(exc))
            self.sched.schedule(key, utcnow() + timedelta(seconds=self.opts.retry_s))
            return
        profile = snap.profiles.get(key.profile)
        now = utcnow()
        usage = snap.usage(key.profile) if profile else None
        recorded = usage.recorded() if usage else None
        if profile is None or usage is None or recorded is None or recorded.until_ms is None:
            self._cancel(key, why="cleared_elsewhere")
            return
        if self._probe_time(key, recorded, usage) > now + timedelta(seconds=1):
            await self._evaluate(store, finished=key)  # the window moved on since it was armed
            return
        # Due: the window has ended or probed's own schedule says so. The profile may already
        # look usable to OpenClaw (an expired window), so the probe is forced; it is what
        # clears the leftovers, or finds the failure before user traffic does.
        try:
            result = await probe_profile(self.ctx, store, key.profile, model=key.model, force=True)
        except ProbedError as exc:  # the store turned unreadable, or the profile vanished
            self._note_unreadable(store.agent, str(exc))
            self._floor[key] = utcnow() + timedelta(seconds=self.opts.retry_s)
            await self._evaluate(store, finished=key)
            return
        if self.opts.on_result is not None:
            self.opts.on_result(result)
        if result.usable:
            self._floor.pop(key, None)
        elif result.next_probe_at is not None:
            self._floor[key] = result.next_probe_at
        elif result.outcome == "skipped":
            self._floor[key] = utcnow() + timedelta(seconds=self.opts.retry_s)
        await self._evaluate(store, finished=key)

    # ---- watching, reloading, status ------------------------------------------------------

    def _roots(self) -> list[Path]:
        extra = [s.agent_dir for s in self.stores.values()]
        return watch_roots(self.config.openclaw.state_dir, extra)

    async def _changed(self, paths: set[Path]) -> None:
        affected: dict[str, Store] = {}
        unknown = False
        for path in paths:
            owner = self._owner(path)
            if owner is None:
                unknown = True
            else:
                affected[owner.agent] = owner
        if unknown:
            await self.scan()
            return
        for store in affected.values():
            if signature(store) != self._seen.get(store.agent):
                await self._evaluate(store)

    def _owner(self, path: Path) -> Store | None:
        for store in self.stores.values():
            try:
                watched = {p for p in store.watch_paths()}
            except ProbedError:
                watched = set()
            if path in watched or path.parent == store.agent_dir:
                return store
            if any(path.parent == p.parent and path.name.startswith(p.name) for p in watched):
                return store  # e.g. the -wal next to a watched database
        return None

    async def _rescan_loop(self) -> None:
        while True:
            with anyio.move_on_after(self.opts.rescan_s):
                await self._rescan_wanted.wait()
            self._rescan_wanted = anyio.Event()
            await self.scan()

    async def _reload_loop(self) -> None:
        while True:
            await self._reload_wanted.wait()
            self._reload_wanted = anyio.Event()
            self.notifier.reloading()
            try:
                new = await anyio.to_thread.run_sync(load_config, self.config_path)
            except ProbedError as exc:
                log.error(  # noqa: TRY400 - one sentence, no traceback
                    "config_rejected", config=str(self.config_path), error=str(exc)
                )
            else:
                await self._apply(new)
            self.notifier.ready(self.status_text())

    async def _apply(self, new: Config) -> None:
        old = self.config
        changed = [
            name
            for name in ("daemon", "openclaw", "probe", "backoff", "repair", "providers")
            if getattr(old, name) != getattr(new, name)
        ]
        self.config = new
        configure(new.daemon.log_level, new.daemon.log_format)
        self._new_context(new)
        if {"probe", "backoff", "openclaw"} & set(changed):
            self._base.clear()  # every key is re-armed: new jitter, new backoff
        await self.scan()
        log.info("config_reloaded", config=str(self.config_path), changed=changed)

    async def _watchdog(self, every: float) -> None:
        last = -1
        while True:
            if self.sched.progress != last:  # a wedged scheduler stops feeding the watchdog
                last = self.sched.progress
                self.notifier.watchdog()
            await anyio.sleep(every)

    async def _status_loop(self) -> None:
        last = ""
        while True:
            await anyio.sleep(self.opts.status_s)
            text = self.status_text()
            if text != last:
                self.notifier.status(text)
                last = text

    def status_text(self) -> str:
        """`3 profiles unusable; next probe anthropic:default in 4m12s` (ASCII, one line)."""
        upcoming = self.sched.upcoming()
        running = self.sched.running()
        n = len(
            {(k.agent, k.profile) for _, k in upcoming} | {(k.agent, k.profile) for k in running}
        )
        if n == 0:
            stores = len(self.stores)
            return f"all profiles usable; watching {stores} agent store{'s' * (stores != 1)}"
        head = f"{n} profile{'s' * (n != 1)} unusable"
        if running:
            return f"{head}; probing {sorted(running)[0].profile}"
        at, key = upcoming[0]
        wait = max(0.0, (at - datetime.now(UTC)).total_seconds())
        return f"{head}; next probe {key.profile} in {humanize(wait)}"
