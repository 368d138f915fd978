"""STUB (issue 2 owns this file): tell a running gateway to drop its in-memory copy."""

from __future__ import annotations

from collections.abc import Sequence


def run_reload_command(command: Sequence[str], *, timeout: float = 30.0) -> bool:
    """Run `[openclaw] reload_command` ([] = none). Failure is logged (reload_command_failed),
    never raised. Returns True on success or when no command is configured."""
    raise NotImplementedError
