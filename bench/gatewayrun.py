"""One scenario on a real OpenClaw gateway (2026.9.6 or 2026.5.28, started offline by the e2e
tests' own harness, tests/helpers/gateway.py): the gateway alone, or the real probed daemon
beside it, as a user runs it (its defaults, the gateway's state dir, `openclaw secrets reload`
after each repair).

Recovery is what a user sees: the first user request after the fix that the gateway answers
through the recovered profile (the provider saw it with that profile's key). Everything runs in
real time; a scenario "hours in" seeds OpenClaw's state and probed's ledger as they would be
hours into the outage (scenarios.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.logs import LogReader, ts
from bench.scenarios import Scenario
from bench.world import (
    RunResult,
    Traffic,
    WindowWatch,
    account,
    break_provider,
    marker_of,
    until_recovered,
    wait_for,
)
from probed.config import DEFAULT_BACKOFF
from probed.fakeprovider import FakeProvider
from probed.ledger import Ledger
from probed.reasons import Reason

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # helpers.gateway: the harness the e2e tests use

from helpers.gateway import (  # noqa: E402 - after the sys.path line
    RELEASE_5_28,
    RELEASE_9_6,
    Gateway,
    GatewaySpec,
    ProviderSpec,
)

PRIMARY = ProviderSpec("fake", profiles=("fake:a",), models=("fake-model",))
SPARE = ProviderSpec("spare", profiles=("spare:a",), models=("spare-model",))
PROFILE = "fake:a"


def system_name(sc: Scenario, with_probed: bool) -> str:
    short = "9.6" if sc.release == "2026.9.6" else "5.28"
    fb = " + fallback" if sc.fallback else ""
    return f"probed + OpenClaw {short}{fb}" if with_probed else f"OpenClaw {short}{fb} alone"


def probed_config(path: Path, gw: Gateway, fake_url: str) -> None:
    """probed as a user configures it: defaults, plus where OpenClaw and the provider are."""
    root = path.parent
    lines = [
        "[daemon]",
        'log_level = "info"',
        'log_format = "json"',
        f'state_dir = "{root / "probed-state"}"',
        f'lock_dir = "{root / "probed-locks"}"',
        "",
        "[openclaw]",
        f'state_dir = "{gw.state_dir}"',
        f'reload_command = ["{gw.bin_dir / "openclaw"}", "secrets", "reload"]',
        "",
    ]
    for spec in (PRIMARY, SPARE):
        lines += [
            f"[providers.{spec.id}]",
            'api = "openai"',
            f'base_url = "{fake_url}/v1"',
            f'model = "{spec.model_ids[0]}"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _start_daemon(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    env = {**env, "PYTHONPATH": str(ROOT)}
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM", "PROBED_CONFIG"):
        env.pop(k, None)
    return subprocess.Popen(
        [sys.executable, "-m", "bench.daemonproc", str(config), "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[str] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _seed_hours_in(gw: Gateway, sc: Scenario, *, now: float, ledger: Ledger | None) -> None:
    """OpenClaw's state (and probed's ledger) as hours into a billing outage: the profile
    disabled with the doubled window OpenClaw would have given it by now, its last failure
    `phase` of probed's interval ago (probed's last probe, which OpenClaw recorded too)."""
    from probed.stores.discover import open_agent

    interval = DEFAULT_BACKOFF[Reason.BILLING].cap
    last = now - sc.phase * interval
    last_ms = int(last * 1000)
    base_h = 10 / 60 if sc.release == "2026.9.6" else 5.0
    window_h = min(24.0, base_h * 2 ** max(0, int(sc.hours_in / base_h).bit_length() - 1))

    def mutate(state: dict[str, Any], _profiles: Any) -> None:
        stats = state.setdefault("usageStats", {})
        entry = dict(stats.get(PROFILE) or {})
        entry.update(
            {
                "disabledUntil": last_ms + int(window_h * 3_600_000),
                "disabledReason": "billing",
                "errorCount": 40,
                "failureCounts": {"billing": 6},
                "lastFailureAt": last_ms,
            }
        )
        stats[PROFILE] = entry

    open_agent(gw.state_dir, gw.agent).update(mutate)
    if ledger is not None:
        at = datetime.fromtimestamp(last, UTC)
        ledger.record_probe(
            gw.agent,
            PROFILE,
            None,
            at=at,
            result="billing",
            next_probe_at=at + timedelta(seconds=interval),
            streak=int(sc.hours_in * 3600 / interval),
            failing_since=datetime.fromtimestamp(now - sc.hours_in * 3600, UTC),
        )
    proc = gw.secrets_reload()
    if proc.returncode != 0:
        raise RuntimeError(f"openclaw secrets reload failed while seeding: {proc.stderr[-500:]}")


def _start(gw: Gateway) -> None:
    """Prepare, start, pair, and warm the agent up while the provider still works."""
    gw.prepare()
    gw.start()
    gw.pair()
    warm = gw.chat("warm up")
    if not warm.ok:
        raise RuntimeError(f"the warm-up request failed: {warm}")


def _window_end(gw: Gateway) -> float | None:
    entry = gw.entry(PROFILE)
    ends = [entry.get(k) for k in ("disabledUntil", "cooldownUntil", "blockedUntil")]
    ms = [int(v) for v in ends if isinstance(v, int | float)]
    return max(ms) / 1000 if ms else None


def _trace(
    sc: Scenario,
    system: str,
    repeat: int,
    *,
    fix_at: float,
    fake: FakeProvider,
    traffic: Traffic,
    logs: LogReader | None,
    windows: list[tuple[float, float | None]],
) -> None:
    """With $PROBED_BENCH_TRACE set to a directory, one JSON-lines file per run: the daemon's
    events, the user requests, what reached the provider and OpenClaw's window each time it
    changed, in seconds from the fix. This is
    how a figure in the report is explained (nothing secret: the provider keeps fingerprints)."""
    where = os.environ.get("PROBED_BENCH_TRACE")
    if not where:
        return
    out = Path(where) / f"{sc.name}.{system.replace(' ', '_')}.{repeat}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for u in traffic.snapshot():
        rows.append(
            {
                "t": u.sent - fix_at,
                "kind": "user",
                "marker": u.marker,
                "done": u.done - fix_at,
                "status": u.status,
            }
        )
    for r in list(fake.requests):
        rows.append(
            {
                "t": r.at - fix_at,
                "kind": "provider",
                "path": r.path,
                "paid": r.paid,
                "marker": marker_of(r),
            }
        )
    last: object = ()
    for at, until in windows:
        if until != last:
            end = until - fix_at if until is not None else None
            rows.append({"t": at - fix_at, "kind": "window", "until": end})
            last = until
    for e in logs.events if logs is not None else []:
        with contextlib.suppress(KeyError, ValueError):
            rows.append({"t": ts(e) - fix_at, "kind": "probed", **e})
    rows.sort(key=lambda row: float(row["t"]))
    out.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows), encoding="utf-8")


def run_gateway(
    sc: Scenario, *, with_probed: bool, repeat: int, workdir: Path | None = None
) -> RunResult:
    """Start a gateway (and probed), play the outage, measure, stop everything."""
    started = time.monotonic()
    system = system_name(sc, with_probed)
    release = RELEASE_9_6 if sc.release == "2026.9.6" else RELEASE_5_28
    with (
        tempfile.TemporaryDirectory(prefix="probed-bench-", dir=workdir) as tmp,
        FakeProvider() as fake,
    ):
        root = Path(tmp)
        spec = GatewaySpec(
            release=release, providers=(PRIMARY,), fallback=SPARE if sc.fallback else None
        )
        gw = Gateway(root / "gw", spec, fake.base_url)
        daemon: subprocess.Popen[str] | None = None
        logs: LogReader | None = None
        traffic = Traffic(send=lambda m: gw.chat(m, timeout=60).status)
        watch = WindowWatch(read=lambda: _window_end(gw))
        key = final_key = ""
        broke_at = t0 = fix_at = time.time()
        window_end: float | None = None
        error: str | None = None
        try:
            _start(gw)
            key = gw.key(PROFILE)
            config = root / "probed.toml"
            probed_config(config, gw, fake.base_url)
            ledger = Ledger(root / "probed-state") if with_probed else None
            now = time.time()
            fix_at = now + sc.fix_s + sc.offset_s + (0.0 if sc.hours_in else 1.0)
            broke_at = break_provider(fake, sc, key, fix_at)
            if sc.hours_in:
                _seed_hours_in(gw, sc, now=now, ledger=ledger)
            watch.start()
            if with_probed:
                daemon = _start_daemon(config, gw.env)
                logs = LogReader(daemon)
                logs.wait("daemon_started", 60)
            t0 = time.time() if sc.hours_in else fix_at - sc.fix_s - sc.offset_s
            if not sc.hours_in:  # the outage starts with the first failed user request
                time.sleep(max(0.0, t0 - time.time()))
            if sc.new_key:
                final_key = f"sk-fake-fresh-{os.urandom(8).hex()}"
            recovered = until_recovered(
                fake, final_key or key, traffic, fix_at=fix_at, horizon_s=sc.horizon_s
            )
            runner = threading.Thread(target=traffic.run, args=(recovered,), daemon=True)
            runner.start()
            if not sc.hours_in:
                wait_for(lambda: bool(traffic.snapshot()), 120)
                window_end = None
            wait_for(lambda: fix_at <= time.time(), sc.fix_s + 5, 0.2)
            if final_key:
                gw.replace_key(PROFILE, final_key)
            window_end = _window_end(gw)
            runner.join(timeout=sc.horizon_s + 200)
            traffic.stop()
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            traffic.stop()
        finally:
            watch.stop()
            _stop(daemon)
            if logs is not None:
                logs.join()
            gw.stop()
            _trace(
                sc,
                system,
                repeat,
                fix_at=fix_at,
                fake=fake,
                traffic=traffic,
                logs=logs,
                windows=watch.samples,
            )
        return account(
            sc,
            system,
            repeat,
            fake=fake,
            credential=final_key or key or "none",
            replaced=key if final_key else None,
            traffic=traffic,
            t0=t0,
            fix_at=fix_at,
            broke_at=broke_at,
            window_end=window_end,
            windows=watch.samples,
            wall_s=time.monotonic() - started,
            error=error,
        )
