"""`probed probe TARGET [--json] [--model M] [--force] [--agent ID]`: probe now, through the same
single-flight lock, ladder, budget and state writes as the daemon.

Exit 0 when every result ends usable; otherwise 77 if any credential is at fault, else 75.
Results go to standard output (one line per profile, or JSON); log events go to standard error
so `--json` output stays parseable.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

import anyio

from probed.clock import iso
from probed.config import Config
from probed.reasons import EX_NOPERM, EX_OK, EX_TEMPFAIL
from probed.recover import ProbeResult, make_context, probe_target
from probed.stores.discover import discover


def run(args: argparse.Namespace, config: Config) -> int:
    results = anyio.run(_probe, args, config)
    if config.metrics.enabled:
        from probed.metrics import count_probes  # noqa: PLC0415 - only with [metrics]

        count_probes(config.daemon.state_dir, results)
    if args.json:
        doc = {
            "generated_at": iso(datetime.now(UTC).replace(microsecond=0)),
            "results": [r.to_json() for r in results],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        for r in results:
            sys.stdout.write(human_line(r) + "\n")
    return exit_code(results)


async def _probe(args: argparse.Namespace, config: Config) -> list[ProbeResult]:
    stores = discover(config.openclaw)
    ctx = make_context(config)
    try:
        async with ctx.client:
            return await probe_target(
                ctx,
                stores,
                args.target,
                model=args.model,
                force=args.force,
                agent=getattr(args, "agent", None),
            )
    finally:
        if ctx.coordinator is not None:
            await ctx.coordinator.aclose()


def exit_code(results: list[ProbeResult]) -> int:
    if all(r.usable for r in results):
        return EX_OK
    worst = EX_TEMPFAIL
    for r in results:
        if not r.usable and r.failure is not None and r.failure.reason.is_credential_problem:
            worst = EX_NOPERM
    return worst


def human_line(r: ProbeResult) -> str:
    who = f"{r.profile} ({r.agent})" + (f" model {r.model}" if r.model else "")
    extra = []
    if r.reused:
        extra.append("result shared by a concurrent probe")
    if r.paid:
        extra.append("paid probe")
    note = f" [{'; '.join(extra)}]" if extra else ""
    if r.usable:
        text = "usable, nothing sent" if r.outcome == "usable" else "recovered"
        return f"{who}: {text}{note}"
    f = r.failure
    reason = str(f.reason) if f else "unknown"
    until = f" until {iso(r.until)}" if r.until else ""
    nxt = f", next probe {iso(r.next_probe_at)}" if r.next_probe_at else ""
    msg = f": {f.message}" if f and f.message else ""
    action = f" - {f.action}" if f and f.action else ""
    return f"{who}: {r.outcome} ({reason}{until}{nxt}){msg}{action}{note}"
