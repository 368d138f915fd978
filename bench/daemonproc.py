"""`python -m bench.daemonproc CONFIG SCALE`: the real probed daemon with its in-code windows
(start-up spread, safety rescan, busy retry) divided by SCALE, like the configured ones.

Everything else is the product as shipped: Daemon, its APScheduler scheduler, the classifier,
the policy, the stores and their writes. Logs are JSON lines on standard output.
"""

from __future__ import annotations

import sys

import anyio

from probed.config import load_config
from probed.daemon import Daemon, DaemonOptions
from probed.logs import configure


def main(argv: list[str]) -> int:
    path, scale = argv[0], float(argv[1])
    config = load_config(path)
    configure(config.daemon.log_level, "json")
    opts = DaemonOptions(
        spread_s=60.0 / scale,
        rescan_s=max(0.25, 300.0 / scale),
        retry_s=30.0 / scale,
        stop_timeout=3.0,
    )
    daemon = Daemon(config, config_path=path, options=opts)
    return anyio.run(daemon.run)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
