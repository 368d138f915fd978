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

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx

from probed import policy, repair
from probed.clock import from_ms, iso, parse_iso, to_ms
from probed.config import Config
from probed.errors import ConfigError, NotFound, ProbedError, StoreBusy
from probed.failure import Failure
from probed.fallbackledger import FallbackLedger
from probed.ledger import Ledger
from probed.logs import get_logger
from probed.model import View
from probed.openclawjson import load_openclaw_json
from probed.probes.credentials import CredentialProblem, file_secret_providers, resolve_secret
from probed.probes.endpoints import OpenClawProvider, canonical, openclaw_providers
from probed.probes.endpoints import resolve as resolve_endpoint
from probed.probes.http import make_http_client
from probed.probes.ladder import LadderResult, run_ladder
from probed.reasons import Reason, from_openclaw, refine
from probed.redact import register_url
from probed.reload import run_reload_command
from probed.singleflight import Flight, SingleFlight
from probed.stores.base import Store

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
    flights: SingleFlight | None = None  # default: one over config.daemon.lock_dir
    env: Mapping[str, str] | None = None  # where env SecretRefs are read; default os.environ
    openclaw: Mapping[str, OpenClawProvider] | None = None  # default: read openclaw.json once
    secret_files: Mapping[str, tuple[Path, str]] | None = None

    def __post_init__(self) -> None:
        if self.flights is None:
            object.__setattr__(self, "flights", SingleFlight(self.config.daemon.lock_dir))
        if self.openclaw is None or self.secret_files is None:
            doc = load_openclaw_json(self.config.openclaw.state_dir)
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
        }


def make_client(config: Config) -> httpx.AsyncClient:
    return make_http_client(config.probe.timeout)


def make_context(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    now: Callable[[], datetime] | None = None,
    rng: random.Random | None = None,
) -> ProbeContext:
    """A context with the usual parts (for `probed probe` and tests)."""
    return ProbeContext(
        config=config,
        ledger=FallbackLedger(config.daemon.state_dir),  # a full disk stops no probe
        client=client or make_client(config),
        now=now or (lambda: datetime.now(UTC)),
        rng=rng or random.Random(),  # noqa: S311 - jitter, not security
        limiter=anyio.CapacityLimiter(config.probe.concurrency),
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
    """Probe every profile `target` names: a profile id, or a provider id (each of its profiles).
    Several-model probes are returned flat, one result per model.

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
    results: list[ProbeResult] = []
    for store, pid in matches:
        result = await probe_profile(ctx, store, pid, model=model, force=force, started=started)
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
) -> ProbeResult:
    """Probe one profile under its provider's lock; `started` (epoch seconds, default now) is
    when the caller's question was asked: a shared result obtained after it is reused."""
    started = time.time() if started is None else started
    snap = await anyio.to_thread.run_sync(store.read)
    profile = snap.profiles.get(profile_id)
    if profile is None:
        raise NotFound(f"agent {store.agent} has no auth profile {profile_id!r}")
    provider = canonical(profile.provider)
    view = snap.usage(profile_id).view(profile.provider, to_ms(ctx.now()), for_model=model)
    base = ProbeResult(
        store.agent, profile_id, provider, model, "usable", None, False, False, None, None
    )
    if view.usable and not force:
        return base
    key = f"{store.agent}/{profile_id}/{model or ''}"
    flights = ctx.flights or SingleFlight(ctx.config.daemon.lock_dir)
    lock_timeout = max(60.0, ctx.config.probe.timeout * 6)
    reload_needed = False
    try:
        async with flights.hold(provider, timeout=lock_timeout, started=started) as flight:
            shared = flight.fresh(key)
            if shared is not None:
                result = _from_record(shared)
                log.info(
                    "probe_reused",
                    agent=store.agent,
                    profile=profile_id,
                    provider=provider,
                    model=model,
                    outcome=result.outcome,
                )
                return result
            snap = await anyio.to_thread.run_sync(store.read)
            profile = snap.profiles.get(profile_id)
            if profile is None:
                raise NotFound(f"agent {store.agent} has no auth profile {profile_id!r}")
            usage = snap.usage(profile_id)
            view = usage.view(profile.provider, to_ms(ctx.now()), for_model=model)
            if view.usable and not force:
                return base
            async with ctx.limiter:
                latest = usage.recorded()
                recorded_reason = view.reason if not view.usable else None
                if recorded_reason is None and latest is not None:
                    recorded_reason = latest.reason
                result, reload_needed = await _probe_locked(
                    ctx,
                    store,
                    profile_id,
                    model=model,
                    view=view,
                    recorded_reason=recorded_reason,
                    recorded_until=_dt(latest.until_ms) if latest is not None else None,
                    cooldown_model=usage.cooldown_model or usage.blocked_model,
                )
            _record(flight, key, result)
    except StoreBusy as exc:
        # the provider's single-flight lock or OpenClaw's own store lock: the message names it
        failure = _local(Reason.UNKNOWN, str(exc), "try again once the lock named is released")
        return replace(base, outcome="skipped", failure=failure)
    if reload_needed:
        await anyio.to_thread.run_sync(run_reload_command, ctx.config.openclaw.reload_command)
    return result


async def _probe_locked(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    *,
    model: str | None,
    view: View,
    recorded_reason: str | None,
    recorded_until: datetime | None,
    cooldown_model: str | None,
) -> tuple[ProbeResult, bool]:
    """Probe one profile under its provider's lock. `recorded_reason` is OpenClaw's word for the
    latest window, active or expired-but-uncleared: it decides whether only a paid probe can
    prove recovery (billing, quota, model_not_found)."""
    snap = await anyio.to_thread.run_sync(store.read)
    profile = snap.profiles[profile_id]
    provider = canonical(profile.provider)
    recorded = _refine(ctx, store.agent, profile_id, model, from_openclaw(recorded_reason))
    now = ctx.now()
    until_now = _dt(view.until_ms)
    base = ProbeResult(
        store.agent, profile_id, provider, model, "skipped", None, False, False, until_now, None
    )
    ctx_log = {"agent": store.agent, "profile": profile_id, "provider": provider}

    secret = resolve_secret(
        profile, now_ms=to_ms(now), env=ctx.env, file_providers=ctx.secret_files
    )
    if isinstance(secret, CredentialProblem):
        log.info(
            "probe_started",
            **ctx_log,
            model=model,
            reason=_word(recorded),
            until=iso(recorded_until),
            sent=False,
        )
        if secret.write:
            return await _apply_failure(
                ctx, store, profile_id, base, secret.failure, model=model, paid=False
            ), True
        return await _hold(ctx, store, profile_id, base, secret.failure), False
    try:
        endpoint = resolve_endpoint(provider, ctx.config, ctx.openclaw or {})
        register_url(endpoint.base_url)  # its user-info or token never reaches an output
    except ConfigError as exc:
        failure = _local(
            Reason.UNKNOWN, str(exc), f"set [providers.{provider}] in probed's configuration"
        )
        return await _hold(ctx, store, profile_id, base, failure), False

    # A model list answers whether or not one model exists for this key (and lists one page at
    # most), so a missing model, like missing money, is only disproved by a generation on it.
    need_paid = recorded is not None and (recorded.is_money or recorded is Reason.MODEL_NOT_FOUND)
    if model is not None:
        models: list[str | None] = [model]
    elif recorded is not None and recorded.is_money:
        listed = [m for m in (cooldown_model, *endpoint.models) if m]
        models = list(dict.fromkeys(listed)) or [None]
    else:
        models = [view.model or cooldown_model]

    budget = ctx.config.probe.daily_budget

    def spend() -> bool:
        allowed, warn = ctx.ledger.try_spend(provider, ctx.now(), budget)
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
                ),
            )
        )

    if len(ladders) == 1:
        m, lr = ladders[0]
        shown = lr.model or m or model
        one = replace(base, model=shown, paid=lr.paid)
        if lr.ok:
            return await _apply_success(ctx, store, profile_id, one), True
        return await _apply_ladder_failure(
            ctx, store, profile_id, result=one, lr=lr, recorded=recorded, until_now=until_now
        )

    # Several models: one verdict each; the profile is cleared if any of them works.
    per: list[ProbeResult] = []
    any_ok = any(lr.ok for _, lr in ladders)
    reload_needed = False
    if any_ok:
        ok_result = await _apply_success(ctx, store, profile_id, replace(base, paid=False))
        reload_needed = True
        failing = [(m, lr) for m, lr in ladders if not lr.ok]
        for m, lr in ladders:
            shown = lr.model or m
            if lr.ok:
                ctx.ledger.record_probe(
                    store.agent, profile_id, shown, at=ctx.now(), result="ok", next_probe_at=None
                )
                per.append(replace(ok_result, model=shown, paid=lr.paid))
                continue
            failure = lr.failure or _held_failure(recorded, provider, budget)
            scoped = len(failing) == 1 and lr.write
            per.append(
                await _model_failure(
                    ctx,
                    store,
                    profile_id,
                    replace(base, model=shown, paid=lr.paid),
                    failure,
                    write_scoped=scoped,
                )
            )
        top = replace(ok_result, per_model=tuple(per), paid=any(r.paid for r in per))
        return top, reload_needed
    first_m, first = ladders[0]
    head, reload_needed = await _apply_ladder_failure(
        ctx,
        store,
        profile_id,
        result=replace(base, model=first.model or first_m, paid=first.paid),
        lr=first,
        recorded=recorded,
        until_now=until_now,
    )
    for m, lr in ladders:
        shown = lr.model or m
        failure = lr.failure or _held_failure(recorded, provider, budget)
        ctx.ledger.record_probe(
            store.agent,
            profile_id,
            shown,
            at=ctx.now(),
            result=str(failure.reason),
            next_probe_at=head.next_probe_at,
        )
        per.append(replace(head, model=shown, failure=failure, paid=lr.paid))
    top = replace(per[0], model=None, per_model=tuple(per), paid=any(r.paid for r in per))
    return top, reload_needed


async def _apply_ladder_failure(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    *,
    result: ProbeResult,
    lr: LadderResult,
    recorded: Reason | None,
    until_now: datetime | None,
) -> tuple[ProbeResult, bool]:
    if lr.budget_refused or lr.failure is None:
        failure = _held_failure(recorded, result.provider, ctx.config.probe.daily_budget)
        midnight = (ctx.now() + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        nxt = max(midnight, until_now) if until_now else midnight
        ctx.ledger.set_next(result.agent, profile_id, None, nxt)
        log.info(
            "probe_failed",
            **_who(result),
            reason=str(failure.reason),
            until=iso(until_now),
            budget_exhausted=True,
        )
        return replace(result, outcome="skipped", failure=failure, next_probe_at=nxt), False
    if lr.write:
        return await _apply_failure(
            ctx, store, profile_id, result, lr.failure, model=result.model, paid=lr.paid
        ), True
    return await _hold(
        ctx, store, profile_id, replace(result, outcome="failed"), lr.failure, outcome="failed"
    ), False


def _held_failure(recorded: Reason | None, provider: str, budget: int) -> Failure:
    reason = recorded or Reason.UNKNOWN
    return _local(
        reason,
        f"the daily budget of {budget} paid probes for {provider} is spent, so the recorded "
        f"{reason} failure is left as it is",
        "wait for the budget to reset at 00:00 UTC, raise [probe] daily_budget, or clear the "
        "profile with `probed clear` once you know it works",
    )


async def _apply_success(
    ctx: ProbeContext, store: Store, profile_id: str, result: ProbeResult
) -> ProbeResult:
    now = ctx.now()
    changed = await anyio.to_thread.run_sync(
        lambda: repair.record_success(store, profile_id, now_ms=to_ms(now))
    )
    ctx.ledger.record_probe(result.agent, profile_id, None, at=now, result="ok", next_probe_at=None)
    log.info(
        "probe_succeeded",
        **_who(result),
        paid=result.paid,
    )
    if changed:
        log.info(
            "state_cleared",
            **_who(result),
        )
    return replace(result, outcome="recovered", failure=None, until=None, next_probe_at=None)


def _deadline(ctx: ProbeContext, failure: Failure, streak: int) -> datetime:
    now = ctx.now()
    deadline = policy.next_deadline(
        failure, streak, ctx.config.backoff_for(failure.reason), now=now
    )
    window = max(0.0, (deadline - now).total_seconds())
    until = policy.with_jitter(
        deadline,
        window,
        jitter=ctx.config.probe.jitter,
        jitter_max=ctx.config.probe.jitter_max,
        rng=ctx.rng,
    )
    if failure.retry_at is not None and until < failure.retry_at:
        until = failure.retry_at
    return from_ms(to_ms(until) + (1 if until.microsecond % 1000 else 0))  # OpenClaw keeps ms


async def _apply_failure(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    result: ProbeResult,
    failure: Failure,
    *,
    model: str | None,
    paid: bool,
) -> ProbeResult:
    """Write the failure in the lane OpenClaw honours, with backoff and the provider's floor."""
    prev = ctx.ledger.get(result.agent, profile_id, None)
    until = _deadline(ctx, failure, (prev.consecutive_failures if prev else 0) + 1)
    now = ctx.now()
    scoped = model if failure.scope == "model" else None
    await anyio.to_thread.run_sync(
        lambda: repair.record_failure(
            store,
            profile_id,
            reason=failure.reason,
            until_ms=to_ms(until),
            model=scoped,
            now_ms=to_ms(now),
        )
    )
    after = await _current_view(ctx, store, profile_id)
    written = _dt(after.until_ms) or until
    # OpenClaw's disabled lane (billing, auth_permanent) may keep a longer window than probed's
    # backoff (an active window is never shortened): while it is what keeps the profile out,
    # probed probes on its own schedule, so a top-up is seen within one backoff step. Cooldowns
    # pass by themselves and are never probed before OpenClaw's window ends.
    next_at = until if after.state == "disabled" else max(until, written)
    ctx.ledger.record_probe(
        result.agent, profile_id, None, at=now, result=str(failure.reason), next_probe_at=next_at
    )
    fields = {**_who(result), "reason": str(failure.reason), "until": iso(written)}
    log.info("probe_failed", **fields, status=failure.status, message=failure.message)
    log.info("backoff_extended", **fields, next_probe_at=iso(next_at))
    return replace(
        result, outcome="failed", failure=failure, paid=paid, until=written, next_probe_at=next_at
    )


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
    until = _deadline(ctx, failure, (prev.consecutive_failures if prev else 0) + 1)
    now = ctx.now()
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
        next_probe_at=until,
    )
    log.info(
        "probe_failed",
        **_who(result),
        reason=str(failure.reason),
        until=iso(until),
        scoped_to_model=True,
    )
    return replace(result, outcome="failed", failure=failure, until=until, next_probe_at=until)


async def _hold(
    ctx: ProbeContext,
    store: Store,
    profile_id: str,
    result: ProbeResult,
    failure: Failure,
    *,
    outcome: Outcome = "skipped",
) -> ProbeResult:
    """A failure that says nothing new about the credential: OpenClaw's state is left alone;
    probed only schedules its next look."""
    prev = ctx.ledger.get(result.agent, profile_id, None)
    nxt = _deadline(ctx, failure, (prev.consecutive_failures if prev else 0) + 1)
    ctx.ledger.record_probe(
        result.agent, profile_id, None, at=ctx.now(), result=str(failure.reason), next_probe_at=nxt
    )
    log.info(
        "probe_failed",
        **_who(result),
        reason=str(failure.reason),
        until=iso(result.until),
        message=failure.message,
        state_written=False,
    )
    return replace(result, outcome=outcome, failure=failure, next_probe_at=nxt)


async def _current_view(ctx: ProbeContext, store: Store, profile_id: str) -> View:
    """The profile as OpenClaw sees it now (usable when it is gone or never cools down)."""
    snap = await anyio.to_thread.run_sync(store.read)
    prof = snap.profiles.get(profile_id)
    if prof is None:
        return View("ok", None, None, None)
    return snap.usage(profile_id).view(prof.provider, to_ms(ctx.now()))


# --------------------------------------------------------------------------------------------
# Shared results (the single-flight results file)


def _refine(
    ctx: ProbeContext, agent: str, profile_id: str, model: str | None, recorded: Reason | None
) -> Reason | None:
    """OpenClaw has no word for quota: it records one as `rate_limit`. When probed's own last
    verdict for the profile says quota and OpenClaw's word is the one quota is written as, the
    verdict stands, so the recovery is proved by a paid probe (a free model list answers while a
    quota is exhausted)."""
    if recorded is None:
        return None
    for key_model in dict.fromkeys((model, None)):
        own = ctx.ledger.get(agent, profile_id, key_model)
        word = own.last_result if own is not None else None
        if word is None or word == "ok":
            continue
        return refine(recorded, word)
    return recorded


def _who(result: ProbeResult) -> dict[str, Any]:
    """The fields every probe event carries, so `journalctl` filters work on all of them."""
    return {
        "agent": result.agent,
        "profile": result.profile,
        "provider": result.provider,
        "model": result.model,
    }


def _record(flight: Flight, key: str, result: ProbeResult) -> None:
    flight.record(key, _to_record(result))


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
