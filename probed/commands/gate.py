"""`probed gate PROVIDER[/MODEL] [--json]`: is any profile of PROVIDER usable right now?

Read-only and sends nothing upstream, so a cron line can afford it before every run:
`probed gate anthropic && run-the-job`. Exit 0 when at least one profile is usable (for MODEL,
if given), else 75 with when the first one is expected back and why; 75 too when the provider
has no profile at all, since nothing of it is usable. For a MODEL, probed's own
per-model verdicts count too: a model that failed its last paid probe behind an otherwise
healthy profile stays unusable until its next probe is due.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from probed.clock import from_ms, iso, to_ms
from probed.config import Config
from probed.errors import ProbedError, UsageError
from probed.ledger import Ledger
from probed.model import View
from probed.probes.endpoints import canonical
from probed.reasons import EX_OK, EX_TEMPFAIL
from probed.stores.discover import discover


@dataclass(frozen=True, slots=True)
class Gated:
    agent: str
    profile: str
    view: View


def run(args: argparse.Namespace, config: Config) -> int:
    provider_text, slash, model_text = args.target.partition("/")
    if not provider_text.strip() or (slash and not model_text.strip()):
        raise UsageError(f"{args.target!r}: expected PROVIDER or PROVIDER/MODEL")
    provider = canonical(provider_text)
    model = model_text.strip() or None
    now = datetime.now(UTC)
    found = _profiles(config, provider, model, now)
    usable = [g for g in found if g.view.usable]
    waiting = sorted(
        (g for g in found if not g.view.usable),
        key=lambda g: g.view.until_ms if g.view.until_ms is not None else 2**62,
    )
    first = None if usable or not waiting else waiting[0]
    next_at = from_ms(first.view.until_ms) if first and first.view.until_ms else None
    reason = first.view.reason if first else None
    if args.json:
        doc = {
            "provider": provider,
            "model": model,
            "usable": bool(usable),
            "next_usable_at": iso(next_at),
            "reason": reason,
            "profiles": [
                {
                    "agent": g.agent,
                    "profile": g.profile,
                    "state": g.view.state,
                    "reason": g.view.reason,
                    "until": iso(from_ms(g.view.until_ms)) if g.view.until_ms else None,
                    "model": g.view.model,
                }
                for g in found
            ],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        target = provider + (f"/{model}" if model else "")
        if usable:
            names = ", ".join(g.profile for g in usable)
            sys.stdout.write(f"{target}: usable ({names})\n")
        elif not found:
            sys.stdout.write(f"{target}: unavailable (no OpenClaw auth profile of {provider})\n")
        else:
            when = f"expected back at {iso(next_at)}" if next_at else "no expected time"
            sys.stdout.write(f"{target}: unavailable ({reason or 'unknown'}); {when}\n")
    return EX_OK if usable else EX_TEMPFAIL


def _profiles(config: Config, provider: str, model: str | None, now: datetime) -> list[Gated]:
    now_ms = to_ms(now)
    ledger = Ledger(config.daemon.state_dir)
    out: list[Gated] = []
    errors: list[ProbedError] = []
    for store in discover(config.openclaw):
        try:
            snap = store.read()
        except ProbedError as exc:
            errors.append(exc)
            continue
        for pid, prof in snap.profiles.items():
            if canonical(prof.provider) != provider:
                continue
            view = snap.usage(pid).view(prof.provider, now_ms, for_model=model)
            if view.usable and model is not None:
                view = _model_verdict(ledger, store.agent, pid, model, now) or view
            out.append(Gated(store.agent, pid, view))
    if not out and errors:
        raise errors[0]
    return out  # none at all: nothing is usable, which is what a guard must hear (exit 75)


def _model_verdict(
    ledger: Ledger, agent: str, profile: str, model: str, now: datetime
) -> View | None:
    """probed's own record that `model` failed its last probe and is not due again yet."""
    rec = ledger.get(agent, profile, model)
    if rec is None or rec.last_result in (None, "ok") or rec.next_probe_at is None:
        return None
    if rec.next_probe_at <= now:
        return None
    return View("cooldown", rec.last_result, to_ms(rec.next_probe_at), model)
