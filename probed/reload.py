"""Tell a running OpenClaw gateway to drop its in-memory copy of the auth stores.

The gateway keeps a snapshot of every agent's store and merges the disk *under* it, with no file
watcher: a repaired entry takes effect only after its own next write, `openclaw secrets reload`,
or a restart. So after each write probed runs `[openclaw] reload_command` (an argv list, no
shell). Its failure is logged and never fatal: the state on disk is already right, and the
gateway will pick it up on its next reload or restart anyway.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

from probed.logs import get_logger, scrub_text

log = get_logger()
_STDERR_TAIL = 500


def run_reload_command(command: Sequence[str], *, timeout: float = 30.0) -> bool:
    """Run `[openclaw] reload_command` ([] = none). Failure is logged (reload_command_failed),
    never raised. Returns True on success or when no command is configured.

    The command runs in a process group of its own, and a timeout kills the whole group: a
    wrapper script's children must not outlive it (nor hold the daemon's stdout open)."""
    argv = list(command)
    if not argv:
        return True
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
        return False
    except OSError as exc:
        log.warning("reload_command_failed", command=argv, exit_code=None, error=exc.strerror)
        return False
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
        return False
    if proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
        log.warning(
            "reload_command_failed",
            command=argv,
            exit_code=proc.returncode,
            stderr=scrub_text(tail),
        )
        return False
    log.info("reload_command_ran", command=argv)
    return True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)
