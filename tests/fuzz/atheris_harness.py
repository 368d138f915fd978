"""Coverage-guided fuzzing of every parser in tests/test_fuzz.py, with atheris (libFuzzer).

Not part of CI: a documented longer run (docs/security.md). The targets are exactly the
hypothesis suite's `PARSERS`; atheris drives their strategies through Hypothesis's
`fuzz_one_input`, so a crash found here replays as an ordinary hypothesis failure.

    .venv/bin/pip install atheris
    .venv/bin/python tests/fuzz/atheris_harness.py --target "reset signals" -- -max_total_time=600
    .venv/bin/python tests/fuzz/atheris_harness.py --list

With no --target every parser is fuzzed in turn, the first input byte choosing which.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-not-found]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports(include=["probed"]):
    import test_fuzz

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _target(parser: test_fuzz.Parser) -> Any:
    @settings(
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: Any) -> None:
        parser.run(data)

    return run.hypothesis.fuzz_one_input


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", help="one parser name (see --list); default: all in turn")
    ap.add_argument("--list", action="store_true", help="list the parser names and exit")
    args, rest = ap.parse_known_args()
    names = [p.name for p in test_fuzz.PARSERS]
    if args.list:
        print("\n".join(names))
        return
    if args.target is not None and args.target not in names:
        ap.error(f"unknown --target {args.target!r}; one of: {', '.join(names)}")
    chosen = [p for p in test_fuzz.PARSERS if args.target in (None, p.name)]
    targets = [_target(p) for p in chosen]

    def one(data: bytes) -> None:
        if not data:
            return
        targets[data[0] % len(targets)](data[1:])

    atheris.Setup([sys.argv[0], *[a for a in rest if a != "--"]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
