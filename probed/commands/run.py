"""`probed run [--demo]`: the daemon in the foreground (what systemd starts)."""

from __future__ import annotations

import argparse

import anyio

from probed.config import Config
from probed.logs import configure


def run(args: argparse.Namespace, config: Config) -> int:
    if getattr(args, "demo", False):
        from probed.demo import run_demo  # noqa: PLC0415 - only the demo needs it

        return run_demo()
    from probed.daemon import Daemon  # noqa: PLC0415 - `probed gate` must start fast

    configure(config.daemon.log_level, config.daemon.log_format)
    daemon = Daemon(config, config_path=getattr(args, "config", None) or config.source)
    code: int = anyio.run(daemon.run, backend="asyncio")
    return code
