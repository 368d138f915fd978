"""Probe one profile (or every profile of a target) and write the outcome where OpenClaw reads it.

THE shared entry point: the daemon and `probed probe` both call `probe_profile`, so a cron job,
a person at a shell and the scheduler all go through the same single-flight lock, the same
ladder, the same daily budget and the same state writes.

Per profile, not per provider: each profile is probed with its own credential, so one expired
manual token no longer takes a healthy OAuth profile of the same provider down with it.

Per model, when money is in question: a billing or quota failure behind an aggregator may concern
one model only, so each model the profile serves (`[providers.<id>] models`, `openclaw.json`
`models.providers.<id>.models`, the cooldown's model) gets its own paid probe. OpenClaw cannot
scope billing to a model, so: if any model works the profile is cleared as a success would;
a single failing model then gets a model-scoped `rate_limit` cooldown (the one word every OpenClaw
release since 2026.3.28 scopes to `cooldownModel`); several failing models are left to probed's
ledger (one row per model) and `probed gate PROVIDER/MODEL`. See docs/probes.md.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx

from probed import policy, repair
from probed.clock import iso, parse_iso, to_ms
from probed.config import Config
from probed.coordination import (
    Batcher,
    Coalesced,
    Coordinator,
    Flight,
    Gathered,
    make_coordinator,
)
from probed.errors import ConfigError, NotFound, ProbedError, StoreBusy
from probed.failure import Failure
from probed.fallbackledger import FallbackLedger
from probed.ledger import Ledger
from probed.logs import get_logger
from probed.model import Profile, Usage
from probed.openclawjson import load_openclaw_json
from probed.probes.credentials import (
    CredentialProblem,
    Secret,
    file_secret_providers,
    resolve_secret,
)
from probed.probes.endpoints import OpenClawProvider, canonical, openclaw_providers
from probed.probes.endpoints import resolve as resolve_endpoint
from probed.probes.gatewaymodel import gateway_model
from probed.probes.http import make_http_client
from probed.probes.ladder import LadderResult, run_ladder
from probed.reasons import Reason, from_openclaw, refine
from probed.redact import register_url
from probed.reload import after_repair, run_reload_command
from probed.stores.base import Mutator, Snapshot, Store, T

log = get_logger()

Outcome = Literal["usable", "recovered", "failed", "skipped"]


@dataclass(frozen=True)
class ProbeContext:
    config: Config
    ledger: Ledger
    client: httpx.AsyncClient
    now: Callable[[], datetime]  # aware UTC
    rng: random.Random
    limiter: anyio.CapacityLimiter  # [probe] concurrency, all providers together
    coordinator: Coordinator | None = None  # default: the one [coordination] names
    env: Mapping[str, str] | None = None  # where env SecretRefs are read; default os.environ
    openclaw: Mapping[str, OpenClawProvider] | None = None  # default: read openclaw.json once
    secret_files: Mapping[str, tuple[Path, str]] | None = None
    openclaw_doc: Mapping[str, Any] | None = None  # openclaw.json (the agents' models)
    batches: Batcher | None = None  # the batched flights of this context (see coordination)
    reload: Coalesced | None = None  # `openclaw secrets reload`, once per batch of writes
    repaired: Gathered[tuple[Store, str]] | None = None  # repairs confirmed a batch at a time

    def __post_init__(self) -> None:
        if self.coordinator is None:
            object.__setattr__(
                self, "coordinator", make_coordinator(self.config, self.ledger, env=self.env)
            )
        if self.batches is None:
            batcher = Batcher(
                _coordinator(self), workers=self.config.probe.concurrency, limiter=self.limiter
            )
            object.__setattr__(self, "batches", batcher)
        if self.reload is None:
            command = self.config.openclaw.reload_command

            async def reload() -> None:
                await anyio.to_thread.run_sync(run_reload_command, command)

            object.__setattr__(self, "reload", Coalesced(reload))
        if self.repaired is None:
            config = self.config

            async def confirm(repairs: list[tuple[Store, str]]) -> None:
                await anyio.to_thread.run_sync(after_repair, config, repairs)

            object.__setattr__(self, "repaired", Gathered(confirm))
        if self.openclaw is None or self.secret_files is None or self.openclaw_doc is None:
            doc = load_openclaw_json(self.config.openclaw.state_dir)
            if self.openclaw_doc is None:
                object.__setattr__(self, "openclaw_doc", doc)
            if self.openclaw is None:
                object.__setattr__(self, "openclaw", openclaw_providers(doc))
            if self.secret_files is None:
                object.__setattr__(self, "secret_files", file_secret_providers(doc))


@dataclass(frozen=True)
class ProbeResult:
    agent: str
    profile: str
    provider: str
    model: str | None
    outcome: Outcome  # usable = was already usable, nothing sent
    failure: Failure | None
    reused: bool  # another caller's fresh result was used
    paid: bool  # a paid request was sent by THIS call
    until: datetime | None  # the window written on failure (or still in force)
    next_probe_at: datetime | None
    per_model: tuple[ProbeResult, ...] = ()  # one entry per model when several were probed
    billable: bool = False  # a paid request the provider may have billed (not an error answer)

    @property
    def usable(self) -> bool:
        return self.outcome in ("usable", "recovered")

    def to_json(self) -> dict[str, Any]:
        """The `probed probe --json` result object."""
        f = self.failure
        return {
            "agent": self.agent,
            "profile": self.profile,
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "reason": str(f.reason) if f else None,
            "retry_at": iso(f.retry_at) if f and f.retry_at else None,
            "until": iso(self.until),
            "next_probe_at": iso(self.next_probe_at),
            "message": f.message if f else None,
            "action": f.action if f else None,
            "reused": self.reused,
            "paid": self.paid,
            "billable": self.billable,
        }


def make_client(config: Config) -> httpx.AsyncClient:
    return make_http_client(config.probe.timeout)


def make_context(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    now: Callable[[], datetime] | None = None,
    rng: random.Random | None = None,
    ledger: Ledger | None = None,
    coordinator: Coordinator | None = None,
) -> ProbeContext:
    """A context with the usual parts (for `probed probe` and tests); the daemon passes the
    ledger and coordinator it keeps across reloads (each holds an open connection)."""
    return ProbeContext(
        config=config,
        ledger=ledger or FallbackLedger(config.daemon.state_dir),  # a full disk stops no probe
        client=client or make_client(config),
        now=now or (lambda: datetime.now(UTC)),
        rng=rng or random.Random(),  # noqa: S311 - jitter, not security
        limiter=anyio.CapacityLimiter(config.probe.concurrency),
        coordinator=coordinator,
    )


# --------------------------------------------------------------------------------------------


async def probe_target(
    ctx: ProbeContext,
    stores: Sequence[Store],
    target: str,
    *,
    model: str | None = None,
    force: bool = False,
    agent: str | None = None,
) -> list[ProbeResult]:
    """Probe every profile `target` names: a profile id, or a provider id (each of its profiles),
    in the order found. Several-model probes are returned flat, one result per model.

    The whole call asks one question as of when it began: a result another caller obtained for
    any of these profiles after that instant answers it, however long the earlier profiles kept
    this caller waiting at the provider's lock."""
    started = time.time()
    chosen = [s for s in stores if agent is None or s.agent == agent]
    if agent is not None and not chosen:
        raise NotFound(f"agent {agent!r} has no OpenClaw auth store")
    provider = canonical(target)
    matches: list[tuple[Store, str]] = []
    errors: list[ProbedError] = []
    for store in chosen:
        try:
            snap = await anyio.to_thread.run_sync(store.read)
        except ProbedError as exc:
            errors.append(exc)
            log.info("store_unreadable", agent=store.agent, error=str(exc))
            continue
        for pid, prof in snap.profiles.items():
            if pid == target or (":" not in target and canonical(prof.provider) == provider):
                matches.append((store, pid))
    if not matches:
        if errors:
            raise errors[0]
        where = f" in agent {agent}" if agent else ""
        raise NotFound(f"no OpenClaw auth profile matches {target!r}{where}")
    # All at once: they meet in the provider's batched flight, which probes each credential
    # once and distinct credentials concurrently (bounded by [probe] concurrency).
    done: list[ProbeResult | None] = [None] * len(matches)
    failed: list[ProbedError] = []

    async def one(i: int, store: Store, pid: str) -> None:
        try:
            done[i] = await probe_profile(
                ctx, store, pid, model=model, force=force, started=started
            )
        except ProbedError as exc:
            failed.append(exc)

    async with anyio.create_task_group() as tg:
        for i, (store, pid) in enumerate(matches):
            tg.start_soon(one, i, store, pid)
    if failed:
        raise failed[0]
    results: list[ProbeResult] = []
    for result in done:
        if result is not None:
            results.extend(result.per_model or (result,))
    return results


async def probe_profile(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    *,
    model: str | None = None,
    force: bool = False,
    started: float | None = None,
    snap: Snapshot | None = None,
    on_started: Callable[[], None] | None = None,
) -> ProbeResult:
    """Probe one profile in its provider's flight; `started` (epoch seconds, default now) is
    when the caller's question was asked: a result shared after it is reused. `snap` is a read
    of the store the caller has just made (the daemon, checking the key is still due): it picks
    the flight and the credential's result key only, and the probe decides on a read made
    inside the flight, as always. `on_started` is called as the probe itself starts (its
    `probe_started` line), if it does.

    The flight entry (see probed/coordination/batch.py): the work goes to the provider's batch
    under the credential's result key, so one holder probes every profile that came due, each
    credential once, distinct credentials concurrently. A profile that shares its credential
    with one just probed (another agent, another host) takes that result into its own store
    instead of probing again. A success obtained after the profile's own last failure answers
    the question as well (a three-host fleet sharing a key pays one request per recovery)."""
    started = time.time() if started is None else started
    if snap is None:
        snap = await anyio.to_thread.run_sync(store.read)
    profile = snap.profiles.get(profile_id)
    if profile is None:
        raise NotFound(f"agent {store.agent} has no auth profile {profile_id!r}")
    provider = canonical(profile.provider)
    usage = snap.usage(profile_id)
    view = usage.view(profile.provider, to_ms(ctx.now()), for_model=model)
    base = ProbeResult(
        store.agent, profile_id, provider, model, "usable", None, False, False, None, None
    )
    if view.usable and not force:
        return base
    secret = resolve_secret(
        profile, now_ms=to_ms(ctx.now()), env=ctx.env, file_providers=ctx.secret_files
    )
    origin = _origin(store, profile_id)
    if isinstance(secret, Secret):
        key = await _coordinator(ctx).result_key(provider, secret.value, model)
    else:  # no credential to share results by: this profile's own results only
        key = f"origin:{origin}/{model or ''}"
    last_failure = usage.last_failure_at
    success_after = min(started, last_failure / 1000) if last_failure else started
    del snap, profile, usage, secret  # a thousand waiting callers keep nothing big alive

    async def work(flight: Flight) -> tuple[ProbeResult, bool]:
        return await _in_flight(
            ctx,
            flight,
            store,
            profile_id,
            model=model,
            force=force,
            key=key,
            origin=origin,
            after=started,
            success_after=success_after,
            base=base,
            on_started=on_started,
        )

    try:
        assert ctx.batches is not None  # noqa: S101 - set in __post_init__
        result, reload_needed = await ctx.batches.submit(provider, key, work)
    except StoreBusy as exc:
        # OpenClaw's own store lock, a lost flight, or Redis unavailable for a paid probe:
        # the message names it; nothing was written, and the daemon retries later
        log.info(
            "probe_skipped",
            agent=store.agent,
            profile=profile_id,
            provider=provider,
            model=model,
            message=str(exc),
        )
        failure = _local(Reason.UNKNOWN, str(exc), "try again once the lock named is released")
        return replace(base, outcome="skipped", failure=failure)
    if reload_needed and result.usable and ctx.repaired is not None:
        # a repair: reload and confirm the gateway took it, once for the repairs of a batch
        await ctx.repaired((store, profile_id))
    elif reload_needed and ctx.reload is not None:
        await ctx.reload()
    return result


async def _in_flight(
    ctx: ProbeContext,
    flight: Flight,
    store: Store,
    profile_id: str,
    *,
    model: str | None,
    force: bool,
    key: str,
    origin: str,
    after: float,
    success_after: float,
    base: ProbeResult,
    on_started: Callable[[], None] | None = None,
) -> tuple[ProbeResult, bool]:
    """One profile's turn in the held flight: reuse a shared result, or probe."""
    shared = await flight.fresh(key, after=min(after, success_after))
    if shared is not None and shared.get("origin") == origin and float(shared.get("at", 0)) < after:
        # this very profile's own earlier verdict, and it is being probed again: the store has
        # moved on since (a new failure), so only a verdict obtained while we waited stands
        shared = None
    if shared is not None and (
        float(shared.get("at", 0)) >= after or shared.get("outcome") in ("usable", "recovered")
    ):
        log.info(
            "probe_reused",
            agent=store.agent,
            profile=profile_id,
            provider=base.provider,
            model=model,
            outcome=shared.get("outcome"),
        )
        if shared.get("origin") == origin:
            return _from_record(shared), False  # its state write was this very profile's
        return await _apply_shared(ctx, _Fenced(store, flight), profile_id, base, shared)
    snap = await anyio.to_thread.run_sync(store.read)
    profile = snap.profiles.get(profile_id)
    if profile is None:
        raise NotFound(f"agent {store.agent} has no auth profile {profile_id!r}")
    usage = snap.usage(profile_id)
    view = usage.view(profile.provider, to_ms(ctx.now()), for_model=model)
    if view.usable and not force:
        return base, False
    result, reload_needed = await _probe_locked(
        ctx,
        _Fenced(store, flight),
        profile_id,
        profile=profile,
        usage=usage,
        model=model,
        on_started=on_started,
    )
    await flight.record(key, {**_to_record(result), "origin": origin, "wrote": reload_needed})
    return result, reload_needed


async def _apply_shared(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    base: ProbeResult,
    shared: Mapping[str, Any],
) -> tuple[ProbeResult, bool]:
    """Another profile with the same credential was just probed: write its verdict here as
    this profile's own probe would have, without sending anything."""
    theirs = _from_record(shared)
    mine = replace(base, outcome="skipped", until=theirs.until)
    if theirs.usable:
        done = await _apply_success(ctx, store, profile_id, mine)
        return replace(done, reused=True), True
    if theirs.failure is not None and shared.get("wrote"):
        state = await anyio.to_thread.run_sync(store.read)
        snap = _snapshot(
            ctx,
            store.agent,
            profile_id,
            usage=state.usage(profile_id),
            provider=base.provider,
            model=base.model,
        )
        done, wrote = await _apply(
            ctx, store, snap, mine, theirs.failure, evidence=True, paid=False, billable=False
        )
        return replace(done, reused=True), wrote
    return replace(
        theirs, agent=base.agent, profile=profile_id, model=base.model, per_model=()
    ), False


class _Fenced:
    """The store, with the flight's fencing check run inside each write, under OpenClaw's own
    lock, right before the state is written: a holder whose flight passed to another never
    writes. Writes run in worker threads (anyio.to_thread), so the async check is called back
    on the event loop."""

    def __init__(self, store: Store, flight: Flight) -> None:
        self._store = store
        self._flight = flight
        self.agent = store.agent
        self.agent_dir = store.agent_dir

    @property
    def era(self) -> Any:
        return self._store.era

    @property
    def location(self) -> Path:
        return self._store.location

    def read(self) -> Snapshot:
        return self._store.read()

    def watch_paths(self) -> tuple[Path, ...]:
        return self._store.watch_paths()

    def update(self, mutate: Mutator[T]) -> T:
        if not self._flight.can_be_lost:
            return self._store.update(mutate)

        def fenced(state: dict[str, Any], profiles: Mapping[str, Any]) -> T:
            # outside a worker thread there is no event loop to call back on
            with contextlib.suppress(RuntimeError):
                anyio.from_thread.run(self._flight.check)
            return mutate(state, profiles)

        return self._store.update(fenced)


def _coordinator(ctx: ProbeContext) -> Coordinator:
    if ctx.coordinator is None:  # set in __post_init__
        raise RuntimeError("the probe context has no coordinator")
    return ctx.coordinator


@functools.cache
def _hostname() -> str:
    return socket.gethostname()


def _origin(store: Store, profile_id: str) -> str:
    """Which profile a shared result was written to (host, store, profile), hashed: another
    profile taking the result must write its own state, the same one need not."""
    where = f"{_hostname()}\0{store.agent_dir}\0{profile_id}"
    return hashlib.blake2b(where.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class _Snapshot:
    """What one probe decides on: the profile's window in OpenClaw, and probed's own history."""

    window: policy.Window
    history: policy.History
    recorded: Reason | None  # the reason a recovery must disprove (refined by own verdict)
    until_now: datetime | None  # the window keeping the profile out now, if any


def _snapshot(
    ctx: ProbeContext,
    agent: str,
    profile_id: str,
    *,
    usage: Usage,
    provider: str,
    model: str | None,
) -> _Snapshot:
    view = usage.view(provider, to_ms(ctx.now()), for_model=model)
    latest = usage.recorded()
    word = view.reason if not view.usable else None
    if word is None and latest is not None:
        word = latest.reason
    own = ctx.ledger.get(agent, profile_id, None)
    own_word = own.last_result if own is not None else None
    recorded = from_openclaw(word)
    if recorded is not None and own_word not in (None, "ok"):
        recorded = refine(recorded, own_word)
    history = policy.History(
        streak=own.consecutive_failures if own else 0,
        failing_since=own.failing_since if own else None,
        last_probe_at=own.last_probe_at if own else None,
        last_result=own_word,
        next_probe_at=own.next_probe_at if own else None,
    )
    window = policy.Window(
        latest.state if latest is not None else "ok",
        recorded,
        _dt(latest.until_ms) if latest is not None else None,
        _dt(usage.last_failure_at),
    )
    return _Snapshot(window, history, recorded, _dt(view.until_ms))


async def _probe_locked(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    *,
    profile: Profile,
    usage: Usage,
    model: str | None,
    on_started: Callable[[], None] | None = None,
) -> tuple[ProbeResult, bool]:
    """Probe one profile under its provider's lock, on the snapshot read under it. The
    recorded reason (OpenClaw's word for the latest window, active or expired-but-uncleared)
    decides whether only a paid probe can prove recovery (billing, quota, model_not_found)."""
    provider = canonical(profile.provider)
    snap = _snapshot(
        ctx, store.agent, profile_id, usage=usage, provider=profile.provider, model=model
    )
    recorded = snap.recorded
    now = ctx.now()
    base = ProbeResult(
        store.agent,
        profile_id,
        provider,
        model,
        "skipped",
        None,
        False,
        False,
        snap.until_now,
        None,
    )
    ctx_log = {"agent": store.agent, "profile": profile_id, "provider": provider}
    recorded_until = snap.window.until

    secret = resolve_secret(
        profile, now_ms=to_ms(now), env=ctx.env, file_providers=ctx.secret_files
    )
    if isinstance(secret, CredentialProblem):
        if on_started is not None:
            on_started()
        log.info(
            "probe_started",
            **ctx_log,
            model=model,
            reason=_word(recorded),
            until=iso(recorded_until),
            sent=False,
        )
        return await _apply(
            ctx,
            store,
            snap,
            base,
            secret.failure,
            evidence=secret.write,
            paid=False,
            billable=False,
        )
    try:
        endpoint = resolve_endpoint(provider, ctx.config, ctx.openclaw or {})
        register_url(endpoint.base_url)  # its user-info or token never reaches an output
    except ConfigError as exc:
        failure = _local(
            Reason.UNKNOWN, str(exc), f"set [providers.{provider}] in probed's configuration"
        )
        return await _apply(
            ctx, store, snap, base, failure, evidence=False, paid=False, billable=False
        )

    # A model list answers through an outage of money, a rate or daily limit or an overload, and
    # whether or not one model exists for this key: only a generation disproves those.
    need_paid = recorded is not None and recorded.needs_generation
    # The model the gateway would use: the cooldown's, else the agent's for this provider in
    # openclaw.json, else (None here) the endpoint's default (probes/gatewaymodel.py).
    theirs = gateway_model(ctx.openclaw_doc or {}, store.agent, provider)
    cooldown_model = usage.cooldown_model or usage.blocked_model
    if model is not None:
        models: list[str | None] = [model]
    elif recorded is not None and recorded.is_money:
        listed = [m for m in (cooldown_model, theirs, *endpoint.models) if m]
        models = list(dict.fromkeys(listed)) or [None]
    else:
        view = usage.view(profile.provider, to_ms(now), for_model=model)
        models = [view.model or cooldown_model or theirs]

    budget = ctx.config.probe.daily_budget

    async def spend() -> bool:
        allowed, warn = await _coordinator(ctx).spend(provider, ctx.now(), budget)
        if warn:
            log.warning(
                "probe_budget_exhausted",
                provider=provider,
                daily_budget=budget,
                agent=store.agent,
                profile=profile_id,
            )
        return allowed

    ladders: list[tuple[str | None, LadderResult]] = []
    if on_started is not None:
        on_started()
    for m in models:
        log.info(
            "probe_started",
            **ctx_log,
            model=m or (endpoint.model if need_paid else None),
            reason=_word(recorded),
            until=iso(recorded_until),
            may_pay=need_paid,  # a paid generation may follow; free checks may end it first
        )
        ladders.append(
            (
                m,
                await run_ladder(
                    ctx.client,
                    endpoint,
                    secret,
                    need_paid=need_paid,
                    model=m,
                    timeout=ctx.config.probe.timeout,
                    now=ctx.now,
                    spend=spend,
                    recovering=recorded,
                ),
            )
        )

    if len(ladders) == 1:
        m, lr = ladders[0]
        shown = lr.model or m or model
        one = replace(base, model=shown, paid=lr.paid)
        if lr.ok:
            done = await _apply_success(ctx, store, profile_id, replace(one, billable=lr.paid))
            return done, _gateway_holds_it(snap)
        return await _apply_failed(ctx, store, snap, one, lr, recorded=recorded)

    # Several models: one verdict each; the profile is cleared if any of them works.
    per: list[ProbeResult] = []
    any_ok = any(lr.ok for _, lr in ladders)
    if any_ok:
        ok_result = await _apply_success(ctx, store, profile_id, replace(base, paid=False))
        failing = [(m, lr) for m, lr in ladders if not lr.ok]
        for m, lr in ladders:
            shown = lr.model or m
            if lr.ok:
                ctx.ledger.record_probe(
                    store.agent, profile_id, shown, at=ctx.now(), result="ok", next_probe_at=None
                )
                per.append(replace(ok_result, model=shown, paid=lr.paid, billable=lr.paid))
                continue
            failure = lr.failure or _held_failure(recorded, provider, budget)
            scoped = len(failing) == 1 and lr.write
            per.append(
                await _model_failure(
                    ctx,
                    store,
                    profile_id,
                    replace(base, model=shown, paid=lr.paid, billable=_billable(lr)),
                    failure,
                    write_scoped=scoped,
                )
            )
        top = replace(
            ok_result,
            per_model=tuple(per),
            paid=any(r.paid for r in per),
            billable=any(r.billable for r in per),
        )
        return top, True
    first_m, first = ladders[0]
    head_base = replace(base, model=first.model or first_m, paid=first.paid)
    head, reload_needed = await _apply_failed(ctx, store, snap, head_base, first, recorded=recorded)
    for m, lr in ladders:
        shown = lr.model or m
        failure = lr.failure or _held_failure(recorded, provider, budget)
        if lr is not first and lr.paid and not _billable(lr):
            ctx.ledger.refund(provider, ctx.now())
        ctx.ledger.record_probe(
            store.agent,
            profile_id,
            shown,
            at=ctx.now(),
            result=str(failure.reason),
            next_probe_at=head.next_probe_at,
        )
        per.append(
            replace(head, model=shown, failure=failure, paid=lr.paid, billable=_billable(lr))
        )
    top = replace(
        per[0],
        model=None,
        per_model=tuple(per),
        paid=any(r.paid for r in per),
        billable=any(r.billable for r in per),
    )
    return top, reload_needed


async def _apply_failed(
    ctx: ProbeContext,
    store: Store,
    snap: _Snapshot,
    base: ProbeResult,
    lr: LadderResult,
    *,
    recorded: Reason | None,
) -> tuple[ProbeResult, bool]:
    """A ladder that did not get through: the budget held it back (nothing was learnt, nothing
    is written), or the provider's answer is applied as the profile's failure."""
    if lr.budget_refused or lr.failure is None:
        return _budget_held(ctx, snap, base, recorded), False
    return await _apply(
        ctx,
        store,
        snap,
        base,
        lr.failure,
        evidence=lr.write,
        paid=lr.paid,
        billable=_billable(lr),
        held="failed",
    )


def _billable(lr: LadderResult) -> bool:
    """A paid request the provider answered with an error was not billed; one that got no
    answer (a timeout, a dropped connection) may have been, so it counts."""
    if not lr.paid:
        return False
    return lr.ok or lr.failure is None or lr.failure.status is None


def _budget_held(
    ctx: ProbeContext, snap: _Snapshot, result: ProbeResult, recorded: Reason | None
) -> ProbeResult:
    """The daily budget is spent: the recorded failure is left as it is until it resets."""
    failure = _held_failure(recorded, result.provider, ctx.config.probe.daily_budget)
    now = ctx.now()
    nxt = policy.after_budget(now, snap.until_now)
    ctx.ledger.record_probe(
        result.agent,
        result.profile,
        None,
        at=now,
        result=str(failure.reason),
        next_probe_at=nxt,
        streak=snap.history.streak,
        failing_since=snap.history.failing_since,
    )
    log.info(
        "probe_failed",
        **_who(result),
        reason=str(failure.reason),
        until=iso(snap.until_now),
        budget_exhausted=True,
    )
    return replace(result, outcome="skipped", failure=failure, next_probe_at=nxt)


def _held_failure(recorded: Reason | None, provider: str, budget: int) -> Failure:
    reason = recorded or Reason.UNKNOWN
    return _local(
        reason,
        f"the daily budget of {budget} paid probes for {provider} is spent, so the recorded "
        f"{reason} failure is left as it is",
        "wait for the budget to reset at 00:00 UTC, raise [probe] daily_budget, or clear the "
        "profile with `probed clear` once you know it works",
    )


def _gateway_holds_it(snap: _Snapshot) -> bool:
    """Does a running gateway still keep the profile out, so that its repair needs a reload?
    Not when the window was a cooldown that had ended by itself before the probe: a gateway's
    copy of a cooldown is never longer than the store's (probed only lengthens one, and reloads
    when it does; the stale clamp shortens billing windows only), so it has ended there too.
    A reload then only holds the gateway's next requests while it runs: at a stated reset,
    a 2026.9.6 gateway passed on its next request 10 s late, right after the reload."""
    return not (snap.window.state == "cooldown" and snap.until_now is None)


async def _apply_success(
    ctx: ProbeContext, store: Store, profile_id: str, result: ProbeResult
) -> ProbeResult:
    now = ctx.now()
    changed = await anyio.to_thread.run_sync(
        lambda: repair.record_success(store, profile_id, now_ms=to_ms(now))
    )
    ctx.ledger.record_probe(result.agent, profile_id, None, at=now, result="ok", next_probe_at=None)
    log.info("probe_succeeded", **_who(result), paid=result.paid, billable=result.billable)
    if changed:
        log.info("state_cleared", **_who(result))
    return replace(result, outcome="recovered", failure=None, until=None, next_probe_at=None)


async def _apply(
    ctx: ProbeContext,
    store: Store,
    snap: _Snapshot,
    result: ProbeResult,
    failure: Failure,
    *,
    evidence: bool,
    paid: bool,
    billable: bool,
    held: Outcome = "skipped",
) -> tuple[ProbeResult, bool]:
    """One failed probe: the policy's decision, applied with at most one store write (the
    window, in the lane OpenClaw honours) and one ledger write (verdict, streak, next probe,
    and a rejected paid probe given back to the budget). True when the store was written."""
    now = ctx.now()
    d = policy.decide(
        failure,
        evidence=evidence,
        window=snap.window,
        history=snap.history,
        now=now,
        config=ctx.config,
        u=policy.draw(ctx.rng),
    )
    if d.write_until is not None:
        until_ms = to_ms(d.write_until)
        scoped = result.model if failure.scope == "model" else None
        await anyio.to_thread.run_sync(
            lambda: repair.record_failure(
                store,
                result.profile,
                reason=failure.reason,
                until_ms=until_ms,
                model=scoped,
                now_ms=to_ms(now),
            )
        )
    ctx.ledger.record_probe(
        result.agent,
        result.profile,
        None,
        at=now,
        result=str(failure.reason),
        next_probe_at=d.next_probe_at,
        streak=d.streak,
        failing_since=d.failing_since,
        rejected=result.provider if paid and not billable else None,
    )
    fields = {**_who(result), "reason": str(failure.reason), "until": iso(d.until)}
    log.info(
        "probe_failed",
        **fields,
        status=failure.status,
        message=failure.message,
        paid=paid,
        billable=billable,
        state_written=d.write_until is not None,
    )
    log.info("backoff_extended", **fields, next_probe_at=iso(d.next_probe_at))
    return replace(
        result,
        outcome="failed" if evidence else held,
        failure=failure,
        paid=paid,
        billable=billable,
        until=d.until if d.until is not None else result.until,
        next_probe_at=d.next_probe_at,
    ), d.write_until is not None


async def _model_failure(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    result: ProbeResult,
    failure: Failure,
    *,
    write_scoped: bool,
) -> ProbeResult:
    """One model failing while another works: a model-scoped cooldown at most, never a
    profile-wide window."""
    prev = ctx.ledger.get(result.agent, profile_id, result.model)
    now = ctx.now()
    d = policy.decide(
        failure,
        evidence=True,
        window=policy.NO_WINDOW,
        history=policy.History(
            streak=prev.consecutive_failures if prev else 0,
            failing_since=prev.failing_since if prev else None,
        ),
        now=now,
        config=ctx.config,
        u=policy.draw(ctx.rng),
    )
    until = d.write_until or d.next_probe_at or now
    if write_scoped and result.model:
        await anyio.to_thread.run_sync(
            lambda: repair.record_failure(
                store,
                profile_id,
                reason=Reason.RATE_LIMIT,
                until_ms=to_ms(until),
                model=result.model,
                now_ms=to_ms(now),
            )
        )
    ctx.ledger.record_probe(
        result.agent,
        profile_id,
        result.model,
        at=now,
        result=str(failure.reason),
        next_probe_at=d.next_probe_at,
        streak=d.streak,
        failing_since=d.failing_since,
        rejected=result.provider if result.paid and not result.billable else None,
    )
    log.info(
        "probe_failed",
        **_who(result),
        reason=str(failure.reason),
        until=iso(until),
        scoped_to_model=True,
        paid=result.paid,
        billable=result.billable,
    )
    return replace(
        result, outcome="failed", failure=failure, until=until, next_probe_at=d.next_probe_at
    )


# --------------------------------------------------------------------------------------------
# Shared results (the single-flight results file)


def _who(result: ProbeResult) -> dict[str, Any]:
    """The fields every probe event carries, so `journalctl` filters work on all of them."""
    return {
        "agent": result.agent,
        "profile": result.profile,
        "provider": result.provider,
        "model": result.model,
    }


def _to_record(result: ProbeResult) -> dict[str, Any]:
    out = asdict(result)
    out["failure"] = result.failure.to_json() if result.failure else None
    out["until"] = iso(result.until)
    out["next_probe_at"] = iso(result.next_probe_at)
    out["per_model"] = [_to_record(r) for r in result.per_model]
    return out


def _from_record(raw: Mapping[str, Any]) -> ProbeResult:
    f = raw.get("failure")
    failure = None
    if isinstance(f, Mapping):
        failure = Failure(
            reason=Reason(f["reason"]),
            retry_at=parse_iso(f["retry_at"]) if f.get("retry_at") else None,
            retry_source=f.get("retry_source"),
            scope=f.get("scope", "profile"),
            status=f.get("status"),
            message=str(f.get("message", "")),
            action=str(f.get("action", "")),
        )
    return ProbeResult(
        agent=str(raw["agent"]),
        profile=str(raw["profile"]),
        provider=str(raw["provider"]),
        model=raw.get("model"),
        outcome=raw["outcome"],
        failure=failure,
        reused=True,
        paid=False,
        billable=False,
        until=parse_iso(raw["until"]) if raw.get("until") else None,
        next_probe_at=parse_iso(raw["next_probe_at"]) if raw.get("next_probe_at") else None,
        per_model=tuple(_from_record(r) for r in raw.get("per_model") or ()),
    )


# --------------------------------------------------------------------------------------------


def _dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms is not None else None


def _word(reason: Reason | None) -> str | None:
    return str(reason) if reason is not None else None


def _local(reason: Reason, message: str, action: str) -> Failure:
    return Failure(
        reason=reason,
        retry_at=None,
        retry_source=None,
        scope="profile",
        status=None,
        message=message,
        action=action,
    )


__all__ = [
    "ProbeContext",
    "ProbeResult",
    "make_client",
    "make_context",
    "probe_profile",
    "probe_target",
]
