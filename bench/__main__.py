"""`python -m bench [--smoke] [--out docs/] [--scale S]`: run every benchmark, write the report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import report
from bench.alternatives import simulate_all
from bench.probedrun import run_scenario
from bench.scale import run_scale
from bench.scenarios import FULL, SMOKE
from bench.stampede import run_stampede


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="the small CI configuration")
    ap.add_argument("--out", default="docs", help="where benchmarks.md and the PNG go")
    ap.add_argument(
        "--scale", type=float, default=None, help="time divisor (default 600; 100 smoke)"
    )
    ap.add_argument("--only", default="recovery,stampede,scale", help="sections to run")
    args = ap.parse_args(argv)
    smoke = args.smoke
    scale = args.scale or (100.0 if smoke else 600.0)
    only = set(args.only.split(","))
    t0 = time.monotonic()
    scenarios = SMOKE if smoke else FULL
    probed, sims = [], []
    if "recovery" in only:
        for sc in scenarios:
            print(f"[recovery] {sc.name} ...", flush=True)
            probed.append(run_scenario(sc, scale, timeout_s=30 if smoke else None))
            sims += simulate_all(sc)
            print(f"  probed: {probed[-1]}", flush=True)
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
    notes = []
    for r in probed:
        if r.probes == 0:
            notes.append(
                f"probed sent no probe in scenario {r.scenario}: its latency is what OpenClaw's "
                "own windows gave (see the report to the lead)."
            )
    path = report.write(
        Path(args.out),
        command=cmd,
        smoke=smoke,
        scale=scale,
        scenarios=scenarios,
        probed=probed,
        sims=sims,
        stampede=stampede,
        scale_rows=rows,
        wall_s=time.monotonic() - t0,
        notes=notes,
    )
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
