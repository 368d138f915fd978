#!/usr/bin/env python3
"""Soak run: the real daemon for a long while under probes, reloads, store churn and clock steps,
sampling its memory and file descriptors. Not CI; a documented command (docs/security.md):

    .venv/bin/python scripts/soak.py --minutes 60 --report docs/soak-report.md

What it does, all on 127.0.0.1 in a throw-away directory:
- OpenClaw state: agent `main` in JSON era B and agent `work` in SQLite era C, 12 profiles each;
- a FakeProvider answering most probes 200, some 429 (Retry-After: 2) and some 402 on paid probes;
- `probed run` as a subprocess (JSON logs), short backoffs so probes never stop;
- store churn every second: a few profiles get a fresh cooldown or billing window, written the
  way OpenClaw writes (under its lock / in one SQLite transaction), every 5 minutes the profile
  set of `main` is rewritten (a profile added, one removed);
- SIGHUP every 10 s, alternating `[probe] timeout` so the HTTP client is replaced each time;
- clock steps: with libfaketime (`apt-get install faketime`) the daemon's clocks jump forward
  30 s every 2 minutes, as after a suspend; without it the report says they were skipped.
Every 30 s it samples RSS, open file descriptors and threads; the report is a Markdown table plus
the verdict (growth after warm-up), error lines and the daemon's exit code.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers.daemonproc import DaemonProc  # noqa: E402
from helpers.daemonproc import write_config as daemon_config  # noqa: E402
from helpers.openclawstate import AgentStore, api_key  # noqa: E402

from probed.fakeprovider import FakeProvider  # noqa: E402
from probed.stores.jsonstore import JsonStore  # noqa: E402
from probed.stores.sqlitestore import SqliteStore  # noqa: E402

FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
PROFILES = 12


@dataclass
class Sample:
    t: float
    rss_kb: int
    fds: int
    threads: int
    probes: int
    reloads: int
    steps: int


def now_ms() -> int:
    return int(time.time() * 1000)


def key(agent: str, i: int) -> str:
    return f"sk-ant-api03-SOAK-{agent}-{i:04d}-" + "a" * 16


def write_config(tmp: Path, base_url: str, timeout: str) -> Path:
    return daemon_config(
        tmp / "probed.toml",
        tmp,
        base_url,
        timeout=timeout,
        probe={"daily_budget": 1_000_000},
        backoff={"rate_limit": ("1s", "4s"), "billing": ("2s", "8s"), "timeout": ("1s", "4s")},
    )


def churn(stores: list[Any], rng: random.Random) -> None:
    """A few fresh windows, as OpenClaw's own failure path would write them."""
    for store in stores:
        chosen = rng.sample(range(PROFILES), 3)

        def mutate(state: dict[str, Any], _profiles: Any, chosen: list[int] = chosen) -> None:
            stats = state.setdefault("usageStats", {})
            t = now_ms()
            for i in chosen:
                pid = f"anthropic:p{i}"
                if rng.random() < 0.3:
                    stats[pid] = {
                        "disabledUntil": t + rng.randint(1000, 5000),
                        "disabledReason": "billing",
                        "errorCount": 1,
                        "failureCounts": {"billing": 1},
                        "lastFailureAt": t,
                    }
                else:
                    stats[pid] = {
                        "cooldownUntil": t + rng.randint(500, 4000),
                        "cooldownReason": "rate_limit",
                        "errorCount": 1,
                        "lastFailureAt": t,
                    }

        try:
            store.update(mutate)
        except Exception as exc:  # a busy store is part of the weather
            print(f"soak: churn skipped ({exc})", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description="probed soak run")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--sample-s", type=float, default=30.0)
    ap.add_argument("--report", type=Path, default=ROOT / "docs" / "soak-report.md")
    ap.add_argument("--keep", action="store_true", help="keep the throw-away state directory")
    args = ap.parse_args()
    rng = random.Random(1)  # noqa: S311 - load pattern, not security
    tmp = Path(tempfile.mkdtemp(prefix="probed-soak-"))
    oc = tmp / "openclaw"
    main_store = AgentStore(oc, "main", "B")
    work_store = AgentStore(oc, "work", "C")
    for s in (main_store, work_store):
        s.write(
            {f"anthropic:p{i}": api_key("anthropic", key(s.agent, i)) for i in range(PROFILES)}, {}
        )
    stores: list[Any] = [
        JsonStore("main", main_store.agent_dir),
        SqliteStore("work", work_store.agent_dir, work_store.agent_dir / "openclaw-agent.sqlite"),
    ]
    samples: list[Sample] = []
    steps = 0
    with FakeProvider() as fake:
        for s in (main_store, work_store):
            for i in range(PROFILES):
                if i % 4 == 1:
                    fake.respond(
                        credential=key(s.agent, i), status=429, headers={"retry-after": "2"}
                    )
                elif i % 4 == 2:
                    fake.respond(credential=key(s.agent, i), kind="paid", status=402)
        cfg = write_config(tmp, fake.base_url, "3s")
        env = {"PYTHONPATH": str(ROOT)}
        clock = tmp / "faketime"
        use_faketime = FAKETIME.exists()
        if use_faketime:
            clock.write_text("+0\n")
            env |= {
                "LD_PRELOAD": str(FAKETIME),
                "FAKETIME_TIMESTAMP_FILE": str(clock),
                "FAKETIME_NO_CACHE": "1",
            }
        daemon = DaemonProc(cfg, env=env)
        proc = daemon.proc
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample = start + 5
        next_hup = start + 10
        next_step = start + 120
        next_rewrite = start + 300
        reloads = 0
        offset = 0
        while time.monotonic() < end and proc.poll() is None:
            t = time.monotonic()
            churn(stores, rng)
            if t >= next_hup:
                reloads += 1
                write_config(tmp, fake.base_url, "3s" if reloads % 2 else "4s")
                proc.send_signal(signal.SIGHUP)
                next_hup = t + 10
            if t >= next_step and use_faketime:
                offset += 30
                clock.write_text(f"+{offset}\n")
                steps += 1
                next_step = t + 120
            if t >= next_rewrite:
                extra = f"anthropic:extra{int(t)}"
                profiles = {
                    f"anthropic:p{i}": api_key("anthropic", key("main", i)) for i in range(PROFILES)
                }
                profiles[extra] = api_key("anthropic", key("main", 9999))
                main_store.write(profiles, main_store.usage())
                next_rewrite = t + 300
            if t >= next_sample:
                try:
                    rss, fds, threads = daemon.resources()
                except (AssertionError, OSError):  # it has just exited: the report says so
                    break
                samples.append(
                    Sample(t - start, rss, fds, threads, len(fake.requests), reloads, steps)
                )
                print(f"soak: {samples[-1]}", file=sys.stderr, flush=True)
                next_sample = t + args.sample_s
            time.sleep(1.0)
        alive = proc.poll() is None
        code = daemon.stop(timeout=30)
        total_probes = len(fake.requests)
    report(args, samples, daemon.lines, code, alive, use_faketime, total_probes, steps)
    ok = alive and code == 0
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"soak: state kept in {tmp}", file=sys.stderr)
    return 0 if ok else 1


def report(  # noqa: PLR0917 - one call site, every figure of the run
    args: argparse.Namespace,
    samples: list[Sample],
    lines: list[str],
    code: int,
    alive: bool,
    faketime: bool,
    total_probes: int,
    steps: int,
) -> None:
    events: dict[str, int] = {}
    errors: list[str] = []
    for line in lines:
        try:
            doc = json.loads(line)
        except ValueError:
            errors.append(line[:200])
            continue
        events[doc.get("event", "?")] = events.get(doc.get("event", "?"), 0) + 1
        if doc.get("level") in ("error", "critical"):
            errors.append(line[:200])
    warm = samples[min(2, len(samples) - 1)] if samples else None
    last = samples[-1] if samples else None
    out = [
        "# Soak report",
        "",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} by `scripts/soak.py "
        f"--minutes {args.minutes:g}` (sampling every {args.sample_s:g} s).",
        "",
        f"- daemon alive at the end: {'yes' if alive else 'NO'}; exit code after SIGTERM: {code}",
        f"- requests the fake provider answered: {total_probes}",
        f"- reloads (SIGHUP): {events.get('config_reloaded', 0)} applied, "
        f"{events.get('config_rejected', 0)} rejected",
        (
            f"- clock steps: {steps} applied (libfaketime: the daemon's wall and monotonic "
            "clocks jump 30 s forward together, as after a suspend; every deadline in between "
            f"falls due at once); {events.get('clock_stepped', 0)} logged as clock_stepped"
            if faketime
            else "- clock steps: skipped (libfaketime not installed: apt-get install faketime)"
        ),
        f"- probes: {events.get('probe_succeeded', 0)} succeeded, "
        f"{events.get('probe_failed', 0)} failed (as scripted), "
        f"{events.get('probe_error', 0)} crashed",
        f"- error lines in the log (or lines that were not JSON): {len(errors)}",
    ]
    if warm and last:
        out += [
            f"- RSS after warm-up ({warm.t:.0f} s): {warm.rss_kb / 1024:.1f} MiB; at the end "
            f"({last.t:.0f} s): {last.rss_kb / 1024:.1f} MiB "
            f"({(last.rss_kb - warm.rss_kb) / 1024:+.1f} MiB)",
            f"- open file descriptors: min {min(s.fds for s in samples)}, "
            f"max {max(s.fds for s in samples)}, at the end {last.fds}",
        ]
    out += [
        "",
        "| t (s) | RSS (MiB) | fds | threads | requests | reloads | clock steps |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in samples:
        out.append(
            f"| {s.t:.0f} | {s.rss_kb / 1024:.1f} | {s.fds} | {s.threads} | {s.probes} "
            f"| {s.reloads} | {s.steps} |"
        )
    if errors:
        out += ["", "Error lines (first 10):", "", "```", *errors[:10], "```"]
    out += ["", "Events logged:", "", "```"]
    out += [f"{k}: {v}" for k, v in sorted(events.items())]
    out += ["```", ""]
    args.report.write_text("\n".join(out), encoding="utf-8")
    print(f"soak: report written to {args.report}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
