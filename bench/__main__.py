"""`python -m bench [--smoke] [--out docs/] [--repeats N] [--parallel N]`: every benchmark, and
the report (docs/benchmarks.md and its plot).

The recovery section runs in real time on real peers (bench/gatewayrun.py, bench/litellmrun.py),
several runs at once (`--parallel`): each run has its own gateway, provider, daemon, ports and
directories, and what they share is the machine, whose load is recorded in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

from bench import report
from bench.gatewayrun import run_gateway
from bench.scale import run_scale
from bench.scenarios import FULL, OFFSETS, SMOKE, Scenario
from bench.stampede import run_stampede
from bench.world import RunResult

PHASES = (0.2, 0.5, 0.8)

# LiteLLM runs on these scenarios only: its proxy keeps no state, so "hours in" is the same run.
LITELLM_ON = ("billing_early_9.6", "billing_early_5.28_fallback", "auth_early_9.6")


def jobs(
    scenarios: tuple[Scenario, ...],
    *,
    smoke: bool,
    repeats: int,
    litellm: bool,
    alternatives: bool = True,
    alternative_repeats: int | None = None,
) -> list[tuple[str, Callable[[], RunResult]]]:
    """(what, run) for every run of the recovery section, the slow ones first."""
    out: list[tuple[str, Callable[[], RunResult]]] = []
    for sc in scenarios:
        for i in range(repeats):
            # each repeat lands the fix at another point between two user requests and, hours
            # in, early, half-way or late in probed's probe interval; every system gets the same
            one = replace(sc, offset_s=OFFSETS[i % len(OFFSETS)])
            if sc.hours_in:
                one = replace(one, phase=PHASES[i % len(PHASES)])
            if sc.cycle_s:  # and at another point of OpenClaw's own short windows
                one = replace(one, fix_s=sc.fix_s + PHASES[i % len(PHASES)] * sc.cycle_s)
            run = partial(run_gateway, one, with_probed=True, repeat=i)
            out.append((f"{sc.name} probed #{i}", run))
            if smoke or not alternatives or i >= (alternative_repeats or repeats):
                continue
            alone = partial(run_gateway, one, with_probed=False, repeat=i)
            out.append((f"{sc.name} alone #{i}", alone))
            if litellm and sc.name in LITELLM_ON:
                from bench.litellmrun import run_litellm

                out.append((f"{sc.name} litellm #{i}", partial(run_litellm, one, repeat=i)))
    return out


def load_now() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="the small CI configuration")
    ap.add_argument("--out", default="docs", help="where benchmarks.md and the PNG go")
    ap.add_argument("--only", default="recovery,stampede,scale", help="sections to run")
    ap.add_argument("--repeats", type=int, default=None, help="runs of each system per scenario")
    ap.add_argument("--parallel", type=int, default=None, help="recovery runs at once")
    ap.add_argument("--scenarios", default="", help="comma-separated scenario names (full run)")
    ap.add_argument("--no-litellm", action="store_true", help="leave the LiteLLM peer out")
    ap.add_argument(
        "--alternative-repeats",
        type=int,
        default=None,
        help="runs of each alternative per scenario (default: --repeats)",
    )
    ap.add_argument(
        "--probed-only",
        action="store_true",
        help="run probed's systems only (the alternatives do not depend on probed's code)",
    )
    ap.add_argument("--runs-json", default="", help="also write every run's figures here")
    ap.add_argument(
        "--recovery-from", default="", help="take the recovery runs from a --runs-json file"
    )
    args = ap.parse_args(argv)
    smoke = args.smoke
    only = set(args.only.split(","))
    t0 = time.monotonic()
    loads = [load_now()]
    scenarios = SMOKE if smoke else FULL
    if args.scenarios:
        names = set(args.scenarios.split(","))
        scenarios = tuple(s for s in scenarios if s.name in names)
    runs: list[RunResult] = []
    parallel = args.parallel or (1 if smoke else 3)
    recovery_note = ""
    earlier_s = 0.0  # wall time of recovery runs taken from a file (measured earlier)
    notes: list[str] = []
    if args.recovery_from:
        saved = json.loads(Path(args.recovery_from).read_text(encoding="utf-8"))
        runs = [RunResult(**r) for r in saved["runs"]]
        earlier_s = float(saved["wall_s"])
        notes = list(saved.get("notes", []))
        recovery_note = (
            f"recovery section measured over {saved['wall_s'] / 60:.0f} min with "
            f"{saved['parallel']} runs at once, load from {saved['loads'][0]} to "
            f"{saved['loads'][-1]}"
        )
    elif "recovery" in only:
        todo = jobs(
            scenarios,
            smoke=smoke,
            repeats=args.repeats or (1 if smoke else 3),
            litellm=not args.no_litellm,
            alternatives=not args.probed_only,
            alternative_repeats=args.alternative_repeats,
        )
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            futures = [(what, pool.submit(run)) for what, run in todo]
            for what, fut in futures:
                r = fut.result()
                runs.append(r)
                loads.append(load_now())
                print(f"[recovery] {what}: {json.dumps(r.to_json())}", flush=True)
                if args.runs_json:  # after every run: a crash keeps what was measured
                    doc = {
                        "runs": [x.to_json() for x in runs],
                        "loads": loads,
                        "wall_s": time.monotonic() - t0,
                        "parallel": parallel,
                    }
                    Path(args.runs_json).write_text(json.dumps(doc), encoding="utf-8")
    stampede = []
    if "stampede" in only:
        for n in (1, 3) if smoke else (1, 10, 50, 100):
            print(f"[stampede] N={n} ...", flush=True)
            stampede.append(run_stampede(n))
            print(f"  {stampede[-1]}", flush=True)
    rows = []
    if "scale" in only:
        for n in (10, 100) if smoke else (10, 1000, 10000):
            print(f"[scale] {n} profiles ...", flush=True)
            rows.append(run_scale(n, 100, idle_s=3.0 if smoke else 60.0))
            print(f"  {rows[-1]}", flush=True)
    cmd = "python -m bench" + (" --smoke" if smoke else "") + f" --out {args.out}"
    path = report.write(
        Path(args.out),
        command=cmd,
        smoke=smoke,
        scenarios=scenarios,
        runs=runs,
        stampede=stampede,
        scale_rows=rows,
        wall_s=earlier_s + time.monotonic() - t0,
        notes=notes,
        load=recovery_note
        or f"at the start {loads[0]}; at the end {loads[-1]}; {parallel} recovery runs at once",
    )
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
