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

import contextlib
import faulthandler
import gc
import os
import random
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import httpx

from probed import __version__, heartbeat, metrics, policy, repair
from probed.clock import from_ms, iso, to_ms, utcnow
from probed.config import Config, load_config
from probed.coordination import Coordinator
from probed.durations import humanize
from probed.errors import ProbedError, unforeseen
from probed.gcpause import collector_paused
from probed.ledger import ProbeRecord
from probed.logs import configure, get_logger, log_enabled
from probed.model import BYPASS_PROVIDERS, Credential, Profile, Usage, View
from probed.notifications import Notifications, make_senders, observations
from probed.notify import Notifier
from probed.reasons import Reason, from_openclaw, refine
from probed.recover import ProbeContext, ProbeResult, make_client, make_context, probe_profile
from probed.reload import next_retry_ms, settle
from probed.scheduler import Key, ProbeScheduler, spread
from probed.stores.atomic import sweep_stale
from probed.stores.base import FileSignature as Signature
from probed.stores.base import Snapshot, Store, file_signature
from probed.stores.discover import discover
from probed.usagememo import UsageMemo
from probed.watch import watch_roots, watch_state

log = get_logger()
GATEWAY_POLL_S = 5.0  # how often the daemon looks for repairs the gateway has not taken

OnResult = Callable[[ProbeResult], Any]
TEXTFILE_S = 15.0  # the textfile is rewritten this often, and within a second of a probe


_WINDOW_KEYS = ("cooldownUntil", "disabledUntil", "blockedUntil")
# A pass gives the event loop a turn this often (profiles), so a key falling due is not held up
# by a pass over a store with thousands of windows (p99 wake-up lateness, docs/fleet.md).
_PASS_SLICE = 32
# A key that fell due goes first: a pass (bookkeeping) waits while every key on its way to its
# probe (reading its store, taking its flight) fell due less than this long ago. Keys of a
# burst, older than this, are not waited for: a burst must not stop the schedule.
_DUE_FIRST_S = 0.05
# What a pass decides for one key: (what the time was decided on, the time, whether a probe's
# decision already recorded it in the ledger, profile, usage).
Wanted = tuple[tuple[Any, ...], datetime, bool, Profile, Usage]
ANNOUNCE_MAX = 200  # probe_scheduled lines one scan logs at info level (see _announce)


def _may_have_window(raw: object) -> bool:
    """False when a usageStats entry cannot hold a recorded window (`Usage.recorded()` is
    None without one of these keys): lets a pass skip parsing the usable majority. Asked for
    every profile of every pass: JSON's own dict is tested without the ABC and a generator."""
    if type(raw) is dict:
        return "cooldownUntil" in raw or "disabledUntil" in raw or "blockedUntil" in raw
    return isinstance(raw, Mapping) and any(k in raw for k in _WINDOW_KEYS)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A key a pass armed, for its `probe_scheduled` line (formatted only if it is logged)."""

    key: Key
    provider: str
    recorded: View | None
    at: datetime

    def fields(self) -> dict[str, Any]:
        recorded = self.recorded
        return {
            "agent": self.key.agent,
            "profile": self.key.profile,
            "provider": self.provider,
            "model": self.key.model,
            "reason": recorded.reason if recorded else None,
            "until": iso(from_ms(recorded.until_ms)) if recorded and recorded.until_ms else None,
            "at": iso(self.at),
        }


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
        # [notify] and [metrics] (docs/notifications.md, docs/monitoring.md)
        self.notifications = Notifications(config.notify, config.daemon.state_dir)
        self._metrics_server: metrics.MetricsServer | None = None
        self._metrics = metrics.registry_for(
            metrics.ProbedCollector(lambda: self.config, lambda: list(self.stores.values()))
        )
        self._started_at = utcnow()
        self._metrics_dirty = True  # the textfile is behind the stores
        self._uncounted: list[metrics.Probed] = []  # probes not yet in the counters
        # a copy whose on_result also feeds the probe counters (the caller's stays as it was)
        self.opts = DaemonOptions(
            **vars(self.opts) | {"on_result": self._counting(self.opts.on_result)}
        )
        self.rng = random.Random()  # noqa: S311 - jitter, not security
        self.stores: dict[str, Store] = {}
        self._armed: dict[Key, tuple[Any, ...]] = {}  # what each armed time was decided on
        self._now: dict[Key, datetime] = {}  # probe now: the credential changed
        self._retry: dict[Key, datetime] = {}  # a probe that could not run: not before this
        self._ledger_problem: str | None = None
        self._credentials: dict[tuple[str, str], Credential] = {}  # to notice a re-auth
        self._usages = UsageMemo()  # each windowed profile's Usage, while its entry is unchanged
        # each key's signature, with the usage, record and overrides it was computed from
        self._sigs: dict[Key, tuple[Usage, ProbeRecord | None, Any, Any, tuple[Any, ...]]] = {}
        self._seen: dict[str, Signature] = {}  # each store's files as of its last evaluation
        self._unreadable: dict[str, str] = {}
        self._invalid: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self._clients: list[httpx.AsyncClient] = []
        self._coordinators: list[Coordinator] = []  # closed at exit, like the clients
        self._eval_lock = anyio.Lock()
        self._eval_waiting: dict[str, tuple[set[Key], anyio.Event]] = {}  # see _evaluate
        self._owners: dict[Path, Store] = {}  # watched file or agent dir -> its store
        self._tasks: anyio.abc.TaskGroup | None = None  # for work that outlives one pass
        self._clamping: set[str] = set()  # agents whose clamp is waiting for the store's lock
        # keys between their deadline and their probe's start (monotonic time they fell due),
        # in the order they fell due; see `_after_due_keys`
        self._starting: dict[Key, float] = {}
        self._none_starting = anyio.Event()
        self._none_starting.set()
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
        self._status_cache: tuple[int, int, str | None, tuple[datetime, Key] | None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> int:
        faulthandler.enable()
        with anyio.open_signal_receiver(signal.SIGHUP, signal.SIGTERM, signal.SIGINT) as signals:
            self._new_context(self.config)
            try:
                async with anyio.create_task_group() as tg:
                    self._tasks = tg
                    await tg.start(self.sched.serve)
                    await tg.start(self.notifications.serve)
                    self._serve_metrics()
                    log.info(
                        "daemon_started",
                        version=__version__,
                        config=str(self.config_path) if self.config_path else None,
                        openclaw=str(self.config.openclaw.state_dir),
                        state_dir=str(self.config.daemon.state_dir),
                        pid=os.getpid(),
                    )
                    with collector_paused():  # see probed/gcpause.py
                        await self.scan(initial=True)
                    if "" not in self._unreadable:  # the agents found are all there are
                        await self.notifications.forget_agents_except(set(self.stores))
                    self.notifier.ready(self.status_text())
                    # what start-up built (parsed stores, the schedule) lives as long as the
                    # daemon: out of the collector's sight, a full collection over 100,000
                    # profiles no longer stalls a wake-up
                    gc.collect()
                    gc.freeze()
                    if self.notifier.watchdog_interval:
                        tg.start_soon(self._watchdog, self.notifier.watchdog_interval)
                    tg.start_soon(self._signals, signals)
                    tg.start_soon(watch_state, self._roots, self._changed)
                    tg.start_soon(self._housekeeping)  # heartbeat, counters, textfile
                    tg.start_soon(self._status_loop)
                    tg.start_soon(self._rescan_loop)
                    tg.start_soon(self._reload_loop)
                    tg.start_soon(self._gateway_loop)
                    await self._stop.wait()
                    self.notifier.stopping()
                    log.info("daemon_stopping", in_flight=len(self.sched.running()))
                    clean = await self.sched.drain(self.opts.stop_timeout)
                    if not clean:
                        log.warning("probes_cancelled", timeout_s=self.opts.stop_timeout)
                    tg.cancel_scope.cancel()
            finally:
                if self._metrics_server is not None:
                    self._metrics_server.close()
                heartbeat.remove(self.config.daemon.state_dir)
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    for client in self._clients:
                        await client.aclose()
                    for coordinator in self._coordinators:
                        await coordinator.aclose()
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
        keep = old is not None and (
            old.config.daemon.state_dir == config.daemon.state_dir
            and old.config.daemon.lock_dir == config.daemon.lock_dir
            and old.config.coordination == config.coordination
        )
        self.ctx = make_context(
            config,
            client=client,
            rng=self.rng,
            ledger=old.ledger if keep and old is not None else None,
            coordinator=old.coordinator if keep and old is not None else None,
        )
        if not keep and self.ctx.coordinator is not None:
            self._coordinators.append(self.ctx.coordinator)

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
            for key in self.sched.scheduled_of(gone):
                self._cancel(key, why="agent_removed")
        self.stores = stores
        self._owners = {}
        for store in stores.values():
            self._owners[store.agent_dir] = store
            try:
                for path in store.watch_paths():
                    self._owners.setdefault(path, store)
            except ProbedError:
                continue
        self._seen = {k: v for k, v in self._seen.items() if k in stores}
        self._credentials = {k: v for k, v in self._credentials.items() if k[0] in stores}
        self._usages.keep_agents(set(stores))
        self._sigs = {k: v for k, v in self._sigs.items() if k.agent in stores}
        self._invalid = {k: v for k, v in self._invalid.items() if k[0] in stores}

    async def scan(self, *, initial: bool = False) -> None:
        """Rediscover every store and evaluate each one."""
        self._discover()
        if initial:
            await anyio.to_thread.run_sync(self._sweep_temps)
        items: list[tuple[Key, datetime]] = []
        records = self._ledger_rows()  # one ledger read for the whole pass
        announce: list[Scheduled] = []
        for store in list(self.stores.values()):
            items += await self._evaluate(store, arm=False, announce=announce, records=records)
        if initial:
            decided = dict(items)
            items = spread(items, now=utcnow(), window_s=self.opts.spread_s)
            for key, at in items:
                if at != decided.get(key):  # overdue: armed later than decided, say when
                    log.info(
                        "probe_scheduled",
                        agent=key.agent,
                        profile=key.profile,
                        model=key.model,
                        at=iso(at),
                        spread=True,
                    )
        self.sched.schedule_many(items)
        self._announce(announce)

    def _announce(self, scheduled: list[Scheduled]) -> None:
        """One `probe_scheduled` line per key, unless a scan armed more than
        `ANNOUNCE_MAX` at once (a fleet's start-up: 10,000 lines took seconds to format and
        flood the journal): then they go at debug level and one `probes_scheduled` line
        counts them. Their fields are formatted only for lines that are written: at info
        level, formatting 10,000 lines to drop them was a tenth of a second before READY."""
        if len(scheduled) <= ANNOUNCE_MAX:
            for one in scheduled:
                log.info("probe_scheduled", **one.fields())
            return
        if log_enabled("debug"):
            for one in scheduled:
                log.debug("probe_scheduled", **one.fields())
        first = min((one.at for one in scheduled), default=None)
        log.info("probes_scheduled", count=len(scheduled), first_at=iso(first))

    async def _evaluate(
        self,
        store: Store,
        *,
        arm: bool = True,
        finished: Key | None = None,
        announce: list[Scheduled] | None = None,
        records: list[ProbeRecord] | None = None,
    ) -> list[tuple[Key, datetime]]:
        """Make the schedule match one store. Returns what it would arm when `arm` is False.

        A key whose probe is running is left alone: its own run re-evaluates the store when it
        ends (passing itself as `finished`), and only then is its next deadline known.

        Passes that wait for the same store coalesce: a burst of a thousand probe results (and
        the file events of their writes) costs one pass per store while others run, not one
        each (a pass reads and walks the whole store)."""
        if not arm:
            return await self._evaluate_now(
                store, arm=False, finished=set(), announce=announce, records=records
            )
        waiting = self._eval_waiting.get(store.agent)
        if waiting is not None:  # a pass over this store has not started yet: join it
            if finished is not None:
                waiting[0].add(finished)
            await waiting[1].wait()
            return []
        keys: set[Key] = {finished} if finished is not None else set()
        done = anyio.Event()
        self._eval_waiting[store.agent] = (keys, done)
        try:
            async with self._eval_lock:
                self._eval_waiting.pop(store.agent, None)
                return await self._evaluate_now(store, arm=True, finished=keys, locked=True)
        finally:
            if self._eval_waiting.get(store.agent, (None, None))[1] is done:
                self._eval_waiting.pop(store.agent, None)
            done.set()

    async def _evaluate_now(
        self,
        store: Store,
        *,
        arm: bool,
        finished: set[Key],
        locked: bool = False,
        announce: list[Scheduled] | None = None,
        records: list[ProbeRecord] | None = None,
    ) -> list[tuple[Key, datetime]]:
        await self._after_due_keys()
        async with contextlib.nullcontext() if locked else self._eval_lock:
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
            own = (
                self._own_records(store.agent, records)
                if records is not None
                else await anyio.to_thread.run_sync(self._own_records, store.agent)
            )
            wanted = await self._wanted(snap, now, own)
            for key in self.sched.scheduled_of(store.agent):
                if key not in wanted:
                    self._cancel(key, why="usable")
            items: list[tuple[Key, datetime]] = []
            new: list[tuple[Key, datetime | None]] = []
            for key, (sig, at, decided, profile, usage) in wanted.items():
                if key not in finished and self.sched.is_running(key):
                    continue
                if self.sched.is_scheduled(key) and self._armed.get(key) == sig:
                    continue
                self._armed[key] = sig
                items.append((key, at))
                if not decided:
                    new.append((key, at))
                scheduled = Scheduled(key, profile.provider, usage.recorded(), at)
                if announce is not None:
                    announce.append(scheduled)
                else:
                    log.info("probe_scheduled", **scheduled.fields())
            self._record(new)
            if arm:
                self.sched.schedule_many(items)
            if self.notifications.enabled:
                await self._notify_pass(snap, now, dict(items))
            self._metrics_dirty = True
            return items

    def _ledger_rows(self) -> list[ProbeRecord]:
        if self.ctx is None:
            return []
        try:
            return self.ctx.ledger.all()
        except ProbedError:
            return []  # unreadable: every window is decided afresh, nothing is lost

    def _own_record(self, agent: str, profile: str, model: str | None) -> ProbeRecord | None:
        """probed's own verdict for one due key: indexed reads, not the whole ledger (a burst
        of a thousand due keys would read it a thousand times)."""
        if self.ctx is None:
            return None
        try:
            ledger = self.ctx.ledger
            return _newest(
                ledger.get(agent, profile, model),
                ledger.get(agent, profile, None) if model else None,
            )
        except ProbedError:
            return None

    def _own_records(
        self, agent: str, records: list[ProbeRecord] | None = None
    ) -> dict[tuple[str, str | None], ProbeRecord]:
        """probed's own verdicts for one agent's keys: from the whole-ledger read a scan
        shares, else one indexed read of this agent's rows (a pass after each probe)."""
        if records is not None:
            return {(r.profile, r.model): r for r in records if r.agent == agent}
        if self.ctx is None:
            return {}
        try:
            rows = self.ctx.ledger.of_agent(agent)
        except ProbedError:
            return {}  # unreadable: every window is decided afresh, nothing is lost
        return {(r.profile, r.model): r for r in rows}

    async def _wanted(
        self,
        snap: Snapshot,
        now: datetime,
        own: dict[tuple[str, str | None], ProbeRecord],
    ) -> dict[Key, Wanted]:
        """Every profile with a recorded window (active, or expired but not yet cleared), and
        when to probe it: (what the time was decided on, the time, whether a probe's decision
        already recorded it in the ledger, profile, usage). See `_probe_time`.

        It gives the event loop a turn every `_PASS_SLICE` profiles: a pass over a store with
        a thousand windows takes tens of milliseconds, and runs after every probe of it; a
        key that falls due meanwhile must not wait for the pass to end."""
        out: dict[Key, Wanted] = {}
        for i, w in enumerate(self._want_each(snap, now, own), start=1):
            if w is not None:
                out[w[0]] = w[1]
            if i % _PASS_SLICE == 0:
                await anyio.lowlevel.checkpoint()
                await self._after_due_keys()
        return out

    async def _after_due_keys(self) -> None:
        """Wait while keys that just fell due are on their way to their probes (at most
        `_DUE_FIRST_S` after the oldest of them fell due). A pass holds the interpreter, and a
        due key's store read, in a worker thread, waited for it: a key falling due during the
        passes after another probe started tens of milliseconds late."""
        while self._starting:
            oldest = next(iter(self._starting.values()))
            left = _DUE_FIRST_S - (time.monotonic() - oldest)
            if left <= 0:
                return
            with anyio.move_on_after(left):
                await self._none_starting.wait()

    def _on_way(self, key: Key) -> None:
        self._starting[key] = time.monotonic()
        if self._none_starting.is_set():
            self._none_starting = anyio.Event()

    def _on_its_probe(self, key: Key) -> None:
        """The key's probe started, or it will not: passes need not wait for it."""
        if self._starting.pop(key, None) is not None and not self._starting:
            self._none_starting.set()

    def _want_each(
        self,
        snap: Snapshot,
        now: datetime,
        own: dict[tuple[str, str | None], ProbeRecord],
    ) -> Iterator[tuple[Key, Wanted] | None]:
        """One item per profile of the store: its key and when to probe it, or None."""
        stats = snap.state.get("usageStats")
        stats = stats if isinstance(stats, Mapping) else {}
        for pid, profile in snap.profiles.items():
            yield self._want_one(snap, stats, pid, profile, now=now, own=own)

    def _want_one(
        self,
        snap: Snapshot,
        stats: Mapping[str, Any],
        pid: str,
        profile: Profile,
        *,
        now: datetime,
        own: dict[tuple[str, str | None], ProbeRecord],
    ) -> tuple[Key, Wanted] | None:
        """One profile of `_wanted`: its key and when to probe it, or None (no window)."""
        if profile.provider in BYPASS_PROVIDERS:
            return None
        before = self._credentials.get((snap.agent, pid))
        self._credentials[(snap.agent, pid)] = profile.credential
        if not _may_have_window(stats.get(pid)):
            return None  # most profiles of a big store: no need to parse their usage
        usage = self._usages.usage(snap, pid)
        self._note_invalid(snap.agent, pid, usage)
        recorded = usage.recorded()
        if recorded is None or recorded.until_ms is None:
            return None
        key = Key(snap.agent, pid, recorded.model)
        record = _newest(own.get((pid, recorded.model)), own.get((pid, None)))
        if (
            before is not None
            and before != profile.credential
            and from_openclaw(recorded.reason) in (Reason.AUTH, Reason.AUTH_PERMANENT)
        ):
            # Someone re-authenticated (a new key, `openclaw models auth login`): that is
            # what fixes an auth failure, so probe now instead of waiting out the window.
            self._now[key] = now
            log.info(
                "credential_changed",
                agent=snap.agent,
                profile=pid,
                provider=profile.provider,
                reason=recorded.reason,
            )
        # The signature is a function of the usage, the record and the key's overrides:
        # given the same ones (the same Usage object, from the memo), it is the same
        # signature, and an armed key that has it needs nothing else computed.
        inputs = (usage, record, self._now.get(key), self._retry.get(key))
        known = self._sigs.get(key)
        if known is not None and known[0] is usage and known[1:4] == inputs[1:]:
            sig, window, history = known[4], None, None
        else:
            window, history = _window(recorded, usage, record)
            # without a record of its own, the window is the one the signature is made of
            sig = self._signature(key, recorded, usage, history, window if record is None else None)
            self._sigs[key] = (*inputs, sig)
        if self.sched.is_scheduled(key) and self._armed.get(key) == sig:
            at = self.sched.deadline(key) or now
            return key, (sig, at, True, profile, usage)
        if window is None or history is None:
            window, history = _window(recorded, usage, record)
        at, decided = self._probe_time(key, window, history, now)
        return key, (sig, at, decided, profile, usage)

    def _probe_time(
        self, key: Key, window: policy.Window, history: policy.History, now: datetime
    ) -> tuple[datetime, bool]:
        """When to probe a key, and whether that time is already in the ledger.

        probed's own verdict rules while it is at least as new as OpenClaw's last failure: the
        probe's decision (policy.decide) chose that time, jitter and all, and it is armed
        exactly. A failure OpenClaw recorded since is new evidence: policy.first_probe, `lead`
        before the window ends at the latest (never later than the verdict's own time). A
        credential change, or a probe that could not run (a busy lock), overrides both."""
        if key in self._now:
            return self._now[key], False
        if policy.own_verdict_stands(window, history) and history.next_probe_at is not None:
            at, decided = history.next_probe_at, True
        else:
            u = policy.draw(self.rng)
            at = policy.first_probe(window, history, now=now, config=self.config, u=u)
            decided = False
        retry = self._retry.get(key)
        if retry is not None and retry > at:
            return retry, False
        return at, decided

    def _record(self, entries: list[tuple[Key, datetime | None]]) -> None:
        """First-probe times into the ledger, for `probed status` (a probe's own decision is
        recorded by the probe). The schedule itself lives in memory, so a ledger that cannot be
        written is reported once per distinct problem and costs no deadline.

        They go into the profile's row, where a probe records its verdict: a row of their own
        for a model-scoped window carried no verdict and, read first, hid the probe's one (a
        stated reset was then taken for a new window, and probed probed again at once)."""
        if not entries or self.ctx is None:
            return
        try:
            self.ctx.ledger.set_next_many([(k.agent, k.profile, None, at) for k, at in entries])
        except ProbedError as exc:
            if str(exc) != self._ledger_problem:
                self._ledger_problem = str(exc)
                log.warning("ledger_unwritable", error=str(exc))
        else:
            self._ledger_problem = None

    def _clamp_soon(self, store: Store, snap: Snapshot) -> None:
        """Start the stale-window repair when this read shows one is due.

        It runs beside the pass, not inside it: the write waits for OpenClaw's lock, which a
        live gateway may hold for a while, and every other store's pass (and the event loop)
        must go on meanwhile. Its write changes the store, and the watcher brings the clamped
        window into the next pass. A clamp that found the lock busy is tried again on the next
        pass over the store."""
        if not self.config.repair.clamp_stale or self._tasks is None:
            return
        cap = self.config.repair.stale_after
        stats = snap.state.get("usageStats")
        if not isinstance(stats, Mapping) or not any(
            isinstance(v, Mapping) and "disabledUntil" in v for v in stats.values()
        ):
            return  # nothing disabled, nothing to clamp (needs_clamp copies the whole state)
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
        self._armed.pop(key, None)
        self._now.pop(key, None)
        self._retry.pop(key, None)
        if self.sched.cancel(key):
            self._record([(key, None)])
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

    # ---- the job ---------------------------------------------------------------------------

    async def _due(self, key: Key) -> None:
        """A key's deadline came: check it is still unusable and due, probe, re-evaluate.
        Until its probe starts, passes wait for it (`_after_due_keys`)."""
        self._on_way(key)
        try:
            await self._due_now(key)
        finally:
            self._on_its_probe(key)

    async def _reevaluate(self, store: Store, key: Key) -> None:
        """The pass after a key's run (its own verdict armed, or its time decided again)."""
        self._on_its_probe(key)
        await self._evaluate(store, finished=key)

    async def _due_now(self, key: Key) -> None:
        store = self.stores.get(key.agent)
        if store is None or self.ctx is None:
            return
        try:
            snap = await anyio.to_thread.run_sync(store.read)
        except ProbedError as exc:
            self._note_unreadable(store.agent, str(exc))
            self._retry[key] = utcnow() + timedelta(seconds=self.opts.retry_s)
            self._armed.pop(key, None)
            self.sched.schedule(key, self._retry[key])
            return
        profile = snap.profiles.get(key.profile)
        usage = self._usages.usage(snap, key.profile) if profile else None
        recorded = usage.recorded() if usage else None
        if profile is None or usage is None or recorded is None or recorded.until_ms is None:
            self._cancel(key, why="cleared_elsewhere")
            return
        record = self._own_record(store.agent, key.profile, recorded.model)
        _, history = _window(recorded, usage, record)
        if self._armed.get(key) != self._signature(key, recorded, usage, history):
            # OpenClaw's window or probed's own verdict (a `probed probe` meanwhile) moved on
            # since this time was armed: decide again on what the store says now.
            await self._reevaluate(store, key)
            return
        # Due. The profile may already look usable to OpenClaw (an expired window), so the probe
        # is forced; it is what clears the leftovers, or finds the failure before user traffic.
        self._now.pop(key, None)
        self._retry.pop(key, None)
        # the read just made picks the flight; the probe lets go of it before it waits, and
        # so does this frame: waiting keys hold no store copies
        probe = probe_profile(
            self.ctx,
            store,
            key.profile,
            model=key.model,
            force=True,
            snap=snap,
            on_started=partial(self._on_its_probe, key),
        )
        del snap, profile, usage, recorded, record
        try:
            result = await probe
        except ProbedError as exc:  # the store turned unreadable, or the profile vanished
            self._count_error(key)
            self._note_unreadable(store.agent, str(exc))
            self._retry[key] = utcnow() + timedelta(seconds=self.opts.retry_s)
            await self._reevaluate(store, key)
            return
        if self.opts.on_result is not None:
            self.opts.on_result(result)
        if result.outcome == "skipped" and result.next_probe_at is None:
            self._retry[key] = utcnow() + timedelta(seconds=self.opts.retry_s)
        await self._reevaluate(store, key)  # arms the decision's own next-probe time

    def _signature(
        self,
        key: Key,
        recorded: View,
        usage: Usage,
        history: policy.History,
        window: policy.Window | None = None,
    ) -> tuple[Any, ...]:
        """What a key's time is decided on: the same signature, the same time (no redraw).
        A next-probe time the daemon itself recorded for `probed status` is not part of it.
        `window` is OpenClaw's window read without probed's record, when the caller has it
        (start-up evaluates 10,000 keys)."""
        if window is None:
            window, _ = _window(recorded, usage, None)
        stands = policy.own_verdict_stands(window, history)
        return (
            recorded.state,
            recorded.until_ms,
            usage.last_failure_at,
            history.streak,
            history.last_probe_at,
            history.last_result,
            history.next_probe_at if stands else None,
            self._now.get(key),
            self._retry.get(key),
        )

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
        """The store a changed file belongs to: a lookup (100,000 profiles make thousands of
        file events in a burst), then the full walk for what the lookup cannot tell."""
        hit = self._owners.get(path) or self._owners.get(path.parent)
        if hit is None:
            for suffix in ("-wal", "-shm", "-journal"):
                if path.name.endswith(suffix):
                    hit = self._owners.get(path.with_name(path.name.removesuffix(suffix)))
                    break
        if hit is not None and self.stores.get(hit.agent) is hit:
            return hit
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

    async def _gateway_loop(self) -> None:
        """Retry repairs the running gateway has not taken yet (`probed.reload.settle`): ours,
        and those a `probed probe` from cron recorded. Polls probed's own record, never OpenClaw."""
        while True:
            await anyio.to_thread.run_sync(partial(settle, self.config, stores=dict(self.stores)))
            nxt = await anyio.to_thread.run_sync(next_retry_ms, self.config)
            wait = GATEWAY_POLL_S
            if nxt is not None:
                wait = min(wait, max(0.5, (nxt - to_ms(utcnow())) / 1000))
            await anyio.sleep(wait)

    async def _reload_loop(self) -> None:
        while True:
            await self._reload_wanted.wait()
            self._reload_wanted = anyio.Event()
            self.notifier.reloading()
            try:
                new = await anyio.to_thread.run_sync(load_config, self.config_path)
                senders = make_senders(new.notify)  # a URL Apprise cannot read rejects the file
            except ProbedError as exc:
                log.error(  # noqa: TRY400 - one sentence, no traceback
                    "config_rejected", config=str(self.config_path), error=str(exc)
                )
            else:
                self.notifications.reconfigure(new.notify, senders)
                await self._apply(new)
            self.notifier.ready(self.status_text())

    async def _apply(self, new: Config) -> None:
        old = self.config
        changed = [
            name
            for name in (
                "daemon",
                "openclaw",
                "probe",
                "backoff",
                "repair",
                "providers",
                "coordination",
            )
            if getattr(old, name) != getattr(new, name)
        ]
        changed += [n for n in ("notify", "metrics") if getattr(old, n) != getattr(new, n)]
        self.config = new
        configure(new.daemon.log_level, new.daemon.log_format)
        self._new_context(new)
        if {"probe", "backoff", "openclaw"} & set(changed):
            self._armed.clear()  # every key is re-armed: new backoff
        await self.scan()
        log.info("config_reloaded", config=str(self.config_path), changed=changed)
        if old.metrics.listen != new.metrics.listen:  # move /metrics
            if self._metrics_server is not None:
                self._metrics_server.close()
                self._metrics_server = None
            self._serve_metrics()

    # ---- notifications, metrics, heartbeat -------------------------------------------------

    async def _notify_pass(self, snap: Snapshot, now: datetime, armed: dict[Key, datetime]) -> None:
        """What this pass saw, for the notifications (each profile's next look included)."""

        def next_look(pid: str, model: str | None) -> datetime | None:
            key = Key(snap.agent, pid, model)
            return armed.get(key) or self.sched.deadline(key)

        seen = observations(
            snap, now=now, ledger=self.ctx.ledger if self.ctx else None, next_look=next_look
        )
        await self.notifications.observe(snap.agent, seen)

    def _serve_metrics(self) -> None:
        listen = self.config.metrics.listen
        if not listen:
            return
        try:
            self._metrics_server = metrics.MetricsServer(listen, self._metrics)
        except OSError as exc:  # monitoring never stops the daemon: say so and go on
            log.error("metrics_listen_failed", listen=listen, error=exc.strerror or str(exc))  # noqa: TRY400
        else:
            log.info("metrics_listening", address=self._metrics_server.address)

    def _counting(self, then: OnResult | None) -> OnResult:
        """Every probe result passes here on its way to `on_result`: the counters of
        probed_probes_total and probed_paid_requests_total, written by `_housekeeping`."""

        def hook(result: ProbeResult) -> Any:
            if self.config.metrics.enabled:
                self._uncounted.extend(metrics.from_results([result]))
            return then(result) if then is not None else None

        return hook

    def _count_error(self, key: Key) -> None:
        """A probe that could not run at all (its store turned unreadable): an `error`."""
        if self.config.metrics.enabled:  # OpenClaw's ids are provider:name
            self._uncounted.append(metrics.Probed(key.profile.split(":", 1)[0], "error", 0))

    async def _housekeeping(self) -> None:
        """The heartbeat `probed status` reads, and the textfile, kept current."""
        last_beat = last_text = float("-inf")
        while True:
            now = anyio.current_time()
            if now - last_beat >= heartbeat.BEAT_S:
                last_beat = now
                await anyio.to_thread.run_sync(self._beat)
            if self._uncounted:
                probes, self._uncounted = self._uncounted, []
                state_dir = self.config.daemon.state_dir
                await anyio.to_thread.run_sync(metrics.add_counts, state_dir, probes)
                self._metrics_dirty = True
            textfile = self.config.metrics.textfile
            if textfile is not None and (self._metrics_dirty or now - last_text >= TEXTFILE_S):
                self._metrics_dirty = False
                last_text = now
                await anyio.to_thread.run_sync(metrics.write_textfile, textfile, self._metrics)
            await anyio.sleep(1.0)

    def _beat(self) -> None:
        state_dir = self.config.daemon.state_dir
        try:
            heartbeat.beat(state_dir, started_at=self._started_at, now=utcnow())
        except OSError as exc:
            log.warning("heartbeat_unwritable", state_dir=str(state_dir), error=exc.strerror)

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
        """`3 profiles unusable; next probe anthropic:default in 4m12s` (ASCII, one line).

        Asked every second: the count and the next deadline are recomputed only when the
        schedule changed (`ProbeScheduler.version`), and without sorting every deadline, so an
        idle daemon with 100,000 profiles does next to nothing here."""
        version = self.sched.version
        if self._status_cache is None or self._status_cache[0] != version:
            earliest = self.sched.earliest()
            running = self.sched.running()
            first = min(running).profile if running else None
            self._status_cache = (version, self.sched.unusable_profiles(), first, earliest)
        _, n, probing, earliest = self._status_cache
        if n == 0:
            stores = len(self.stores)
            return f"all profiles usable; watching {stores} agent store{'s' * (stores != 1)}"
        head = f"{n} profile{'s' * (n != 1)} unusable"
        if probing is not None:
            return f"{head}; probing {probing}"
        if earliest is None:
            return head
        at, key = earliest
        wait = max(0.0, (at - datetime.now(UTC)).total_seconds())
        return f"{head}; next probe {key.profile} in {humanize(wait)}"


def _newest(scoped: ProbeRecord | None, profile: ProbeRecord | None) -> ProbeRecord | None:
    """probed's verdict for a key: of its model's row and its profile's row, the one with the
    newest probe (a row without a probe only holds a next-probe time)."""
    rows = [r for r in (scoped, profile) if r is not None]
    probed_rows = [r for r in rows if r.last_probe_at is not None]
    if probed_rows:
        return max(probed_rows, key=lambda r: r.last_probe_at or datetime.min.replace(tzinfo=UTC))
    return rows[0] if rows else None


def _window(
    recorded: View, usage: Usage, record: ProbeRecord | None
) -> tuple[policy.Window, policy.History]:
    """The policy's view of one key: OpenClaw's recorded window and probed's own history."""
    own = record.last_result if record is not None else None
    reason = from_openclaw(recorded.reason)
    if reason is not None and own not in (None, "ok"):
        reason = refine(reason, own)
    window = policy.Window(
        recorded.state,
        reason,
        from_ms(recorded.until_ms) if recorded.until_ms is not None else None,
        from_ms(usage.last_failure_at) if usage.last_failure_at else None,
    )
    if record is None:
        return window, policy.History()
    return window, policy.History(
        streak=record.consecutive_failures,
        failing_since=record.failing_since,
        last_probe_at=record.last_probe_at,
        last_result=record.last_result,
        next_probe_at=record.next_probe_at,
    )
