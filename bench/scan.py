"""`python -m bench.scan CONFIG`: one cold start-up scan (discover + read every store), timed in
a fresh interpreter, printed as JSON."""

from __future__ import annotations

import json
import sys
import time

from probed.config import load_config
from probed.stores.discover import discover


def main(argv: list[str]) -> int:
    config = load_config(argv[0])
    t = time.perf_counter()
    stores = discover(config.openclaw)
    profiles = sum(len(s.read().profiles) for s in stores)
    elapsed = time.perf_counter() - t
    sys.stdout.write(json.dumps({"stores": len(stores), "profiles": profiles, "s": elapsed}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
