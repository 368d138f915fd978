"""`probed clear PROFILE [--agent ID]`: the operator's override, as a success would clear it.

Clears the profile in every agent that holds it (or only in --agent), then runs the reload
command once so a running gateway drops its in-memory copy, and records whether it took it
(`probed.reload.after_repair`; `probed status` shows the verdict).
"""

from __future__ import annotations

import argparse
import sys

from probed import repair
from probed.clock import now_ms
from probed.config import Config
from probed.errors import NotFound, ProbedError
from probed.logs import get_logger
from probed.reasons import EX_OK
from probed.reload import after_repair
from probed.stores.base import Store
from probed.stores.discover import discover, open_agent

log = get_logger()


def run(args: argparse.Namespace, config: Config) -> int:
    profile_id: str = args.profile
    agent: str | None = getattr(args, "agent", None)
    stores: list[Store] = (
        [open_agent(config.openclaw.state_dir, agent)] if agent else discover(config.openclaw)
    )
    holders: list[Store] = []
    problems: list[ProbedError] = []
    for store in stores:
        try:
            if profile_id in store.read().profiles:
                holders.append(store)
        except ProbedError as exc:
            problems.append(exc)
    if not holders:
        if problems:
            raise problems[0]
        where = f"agent {agent}" if agent else "any agent"
        raise NotFound(
            f"profile {profile_id}: not found in {where} under {config.openclaw.state_dir}"
        )
    changed: list[tuple[Store, str]] = []
    for store in holders:
        if repair.clear(store, profile_id, now_ms=now_ms()):
            changed.append((store, profile_id))
        log.info(
            "profile_cleared", agent=store.agent, profile=profile_id, store=str(store.location)
        )
        sys.stdout.write(f"cleared {profile_id} in agent {store.agent} ({store.location})\n")
    if changed:
        after_repair(config, changed)  # reload, and confirm the gateway took it
    return EX_OK
