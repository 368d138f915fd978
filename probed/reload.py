"""Tell a running OpenClaw gateway to drop its in-memory copy of the auth stores, and check it did.

The gateway keeps a snapshot of every agent's store and merges the disk *under* it, with no file
watcher: a repaired entry takes effect only after its own next write, `openclaw secrets reload`,
or a restart. So after each write probed runs `[openclaw] reload_command` (an argv list, no
shell). Its failure is logged and never fatal: the state on disk is already right.

After a repair (a probe's success, `probed clear`) probed also confirms it: `after_repair`
records the repair (`probed.repairlog`), runs the reload command, reads the store back, looks at
the gateway (`probed.gatewayview`) and lets `probed.confirm.decide` say whether the running
gateway has taken it. A repair not taken yet (the gateway is down, or did not answer the reload)
stays on record and `settle` retries it: the daemon every few seconds while one is due (5 s,
10 s, 20 s, 40 s, then once a minute), and every later `probed probe` / `probed clear`. A
gateway that is down is only looked at (it reads the repaired store when it starts); one that
runs on its old copy gets the reload command again. `probed status` shows the verdict.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from probed.clock import now_ms as clock_now_ms
from probed.config import Config
from probed.confirm import Evidence, GatewaySeen, Verdict, decide, needs_reload, retry_delay_s
from probed.errors import ProbedError
from probed.gatewayview import look
from probed.logs import get_logger, scrub_text
from probed.repairlog import RepairLog, RepairRecord
from probed.stores.base import Store
from probed.stores.discover import discover

log = get_logger()
_STDERR_TAIL = 500
RELOAD_TIMEOUT_S = 30.0
NO_COMMAND = (
    "no reload command is configured ([openclaw] reload_command = []): restart the gateway or "
    "run `openclaw secrets reload`"
)


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    error: str | None = None  # one sentence, credentials scrubbed


def run_reload_command(command: Sequence[str], *, timeout: float = RELOAD_TIMEOUT_S) -> bool:
    """Run `[openclaw] reload_command` ([] = none). Failure is logged (reload_command_failed),
    never raised. Returns True on success or when no command is configured."""
    return reload_gateway(command, timeout=timeout).ok


def reload_gateway(command: Sequence[str], *, timeout: float = RELOAD_TIMEOUT_S) -> ReloadResult:
    """`run_reload_command`, with the reason of a failure as one sentence.

    The command runs in a process group of its own, and a timeout kills the whole group: a
    wrapper script's children must not outlive it (nor hold the daemon's stdout open)."""
    argv = list(command)
    if not argv:
        return ReloadResult(True)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except FileNotFoundError:
        log.warning("reload_command_failed", command=argv, exit_code=None, error="not found")
        return ReloadResult(False, f"the reload command {argv[0]} was not found")
    except OSError as exc:
        log.warning("reload_command_failed", command=argv, exit_code=None, error=exc.strerror)
        return ReloadResult(False, f"the reload command could not start: {exc.strerror}")
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        log.warning(
            "reload_command_failed",
            command=argv,
            exit_code=None,
            error=f"timed out after {timeout:g}s",
        )
        return ReloadResult(False, f"the reload command timed out after {timeout:g}s")
    if proc.returncode != 0:
        tail = scrub_text(stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:])
        log.warning(
            "reload_command_failed",
            command=argv,
            exit_code=proc.returncode,
            stderr=tail,
        )
        last = tail.splitlines()[-1].strip() if tail else ""
        return ReloadResult(
            False, f"the reload command exited {proc.returncode}" + (f": {last}" if last else "")
        )
    log.info("reload_command_ran", command=argv)
    return ReloadResult(True)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


# ---- confirmed repair -------------------------------------------------------------------------


def after_repair(
    config: Config, repaired: Sequence[tuple[Store, str]], *, at_ms: int | None = None
) -> dict[tuple[str, str], RepairRecord]:
    """Repairs were just written ((store, profile id) pairs): record them, run the reload
    command once, and confirm them (and every other repair still waiting for the gateway).
    Never raises; returns the records written, keyed by (agent, profile).

    The records are written with their first retry past the reload's own timeout: the daemon's
    retry loop must not take them up while this call is still reloading (a second reload of
    the gateway, seconds apart, for one repair), yet picks them up if this process dies."""
    if not config.openclaw.reload_command:
        return {}  # `reload_command = []`: the gateway is none of probed's business
    at = clock_now_ms() if at_ms is None else at_ms
    repairs = RepairLog(config.daemon.state_dir)
    try:
        repairs.record_repairs(
            [(s.agent, pid) for s, pid in repaired],
            at_ms=at,
            retry_at_ms=at + int((RELOAD_TIMEOUT_S + retry_delay_s(1)) * 1000),
        )
    except ProbedError as exc:
        log.warning("repair_record_failed", error=str(exc))
        run_reload_command(config.openclaw.reload_command)
        return {}
    return settle(
        config,
        reload=True,
        only={(s.agent, pid) for s, pid in repaired},
        stores={s.agent: s for s, _ in repaired},
    )


def settle(
    config: Config,
    *,
    reload: bool = False,
    only: set[tuple[str, str]] | None = None,
    now_ms: int | None = None,
    stores: Mapping[str, Store] | None = None,
) -> dict[tuple[str, str], RepairRecord]:
    """Bring every repair that is due, and those named in `only`, to a verdict and record it.

    With `reload`, the reload command runs first (a repair was just written). Otherwise the
    gateway is looked at first, and the command runs only when one answers on its old copy.
    Returns the records written. Never raises: a record that cannot be read or written is
    logged, and the state on disk is right either way."""
    repairs = RepairLog(config.daemon.state_dir)
    now = clock_now_ms() if now_ms is None else now_ms
    named = only or set()
    try:
        due = [
            r
            for r in repairs.open_records()
            if (r.agent, r.profile) in named
            or r.next_retry_at_ms is None
            or r.next_retry_at_ms <= now
        ]
    except ProbedError as exc:
        log.warning("repair_record_failed", error=str(exc))
        return {}
    if not due:
        return {}
    command = config.openclaw.reload_command
    result: ReloadResult | None = reload_gateway(command) if reload and command else None
    seen = look(config.openclaw.state_dir, now_ms=clock_now_ms())
    found = dict(stores or {})
    usable = {(r.agent, r.profile): _usable_on_disk(config, r, found) for r in due}

    def verdicts(res: ReloadResult | None, at: int) -> dict[tuple[str, str], Verdict]:
        ok_at = at if res is not None and res.ok else None
        return {
            (r.agent, r.profile): decide(
                Evidence(
                    r.repaired_at_ms,
                    usable[(r.agent, r.profile)] is not False,
                    seen,
                    ok_at if ok_at is not None else r.reload_ok_at_ms,
                )
            )
            for r in due
        }

    reload_at = clock_now_ms()
    got = verdicts(result, reload_at)
    if result is None and any(needs_reload(v, has_command=bool(command)) for v in got.values()):
        result = reload_gateway(command)
        reload_at = clock_now_ms()
        got = verdicts(result, reload_at)
    written: dict[tuple[str, str], RepairRecord] = {}
    for rec in due:
        key = (rec.agent, rec.profile)
        if usable[key] is None:
            continue  # the store cannot be read now: decide next time
        verdict = got[key]
        written[key] = rec.checked(
            verdict,
            at_ms=now,
            error=_why(verdict, seen, result, has_command=bool(command)),
            next_retry_at_ms=now + int(retry_delay_s(rec.attempts + 1) * 1000),
            reload_ok_at_ms=reload_at if result is not None and result.ok else None,
        )
    try:
        repairs.save_many(written.values())
    except ProbedError as exc:
        log.warning("repair_record_failed", error=str(exc))
        return {}
    old = {(r.agent, r.profile): r for r in due}
    for key, new in written.items():
        _log_verdict(old[key], new)
    return written


def next_retry_ms(config: Config) -> int | None:
    """When `settle` next has something due (epoch ms), or None when nothing waits."""
    try:
        waiting = RepairLog(config.daemon.state_dir).open_records()
    except ProbedError:
        return None
    times = [r.next_retry_at_ms or 0 for r in waiting]
    return min(times) if times else None


def _usable_on_disk(config: Config, rec: RepairRecord, stores: dict[str, Store]) -> bool | None:
    """Read the store back: is the repaired profile usable as OpenClaw reads the disk? None when
    the store cannot be read (decided on the next try)."""
    store = stores.get(rec.agent)
    try:
        if store is None:
            for found in discover(config.openclaw):
                stores.setdefault(found.agent, found)
            store = stores.get(rec.agent)
        if store is None:
            return False  # the agent is gone: nothing left for a gateway to take
        snap = store.read()
    except ProbedError as exc:
        log.warning("repair_check_failed", agent=rec.agent, profile=rec.profile, error=str(exc))
        return None
    profile = snap.profiles.get(rec.profile)
    if profile is None:
        return False
    return snap.usage(rec.profile).view(profile.provider, clock_now_ms()).usable


def _why(
    verdict: Verdict, seen: GatewaySeen, result: ReloadResult | None, *, has_command: bool
) -> str | None:
    if verdict is Verdict.NOT_RUNNING:
        base = seen.detail or "no gateway answers"
        extra = f"; {result.error}" if result is not None and result.error else ""
        return f"{base}{extra}; a gateway that starts reads the repaired store"
    if verdict is Verdict.PENDING:
        if not has_command:
            return f"the gateway runs on its old copy and {NO_COMMAND}"
        return (result.error if result is not None else None) or "the reload did not run yet"
    return None


def _log_verdict(old: RepairRecord, new: RepairRecord) -> None:
    fields = {"agent": new.agent, "profile": new.profile, "verdict": str(new.verdict)}
    if new.verdict is Verdict.TAKEN:
        log.info("repair_confirmed", **fields)
    elif new.verdict is Verdict.OVERWRITTEN:
        log.warning("repair_overwritten", **fields)
    elif old.attempts == 0 or new.verdict is not old.verdict:
        retry = (new.next_retry_at_ms or 0) - (new.checked_at_ms or 0)
        # a stopped gateway reads the repaired store when it starts: worth a line, not a warning
        emit = log.info if new.verdict is Verdict.NOT_RUNNING else log.warning
        emit(
            "repair_not_taken",
            **fields,
            error=new.last_error,
            attempts=new.attempts,
            retry_in_s=round(retry / 1000, 1),
        )
    else:
        log.debug("repair_not_taken", **fields, attempts=new.attempts, error=new.last_error)
