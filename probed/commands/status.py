"""`probed status [--json] [--agent ID] [--provider ID]`: read-only, never writes a store."""

from __future__ import annotations

import argparse
import sys

from probed.clock import utcnow
from probed.config import Config
from probed.gcpause import collector_paused
from probed.reasons import EX_OK
from probed.status import collect, json_pieces, table_pieces


def run(args: argparse.Namespace, config: Config) -> int:
    with collector_paused():  # a row per profile, all alive until printed: probed/gcpause.py
        report = collect(
            config,
            now=utcnow(),
            agent=getattr(args, "agent", None),
            provider=getattr(args, "provider", None),
        )
        if getattr(args, "json", False):
            for piece in json_pieces(report):  # whole rows per write: see `json_pieces`
                sys.stdout.write(piece)
            sys.stdout.write("\n")
        else:
            for piece in table_pieces(report):  # whole lines per write: see `table_pieces`
                sys.stdout.write(piece)
        errors = report.errors
        # Freed here, by their reference counts: once the collector is back, its first pass
        # would walk every row and string still alive (1 % of the command at 100,000 profiles).
        del report
    for err in errors:
        sys.stderr.write(f"probed: {err.error.rstrip('.')}.\n")
    return EX_OK
