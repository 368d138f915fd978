"""`probed config check`: validate, then print what the configuration resolved to, as TOML."""

from __future__ import annotations

import argparse
import sys

import tomli_w

from probed.config import Config, to_toml_dict
from probed.reasons import EX_OK


def run(args: argparse.Namespace, config: Config) -> int:
    source = str(config.source) if config.source else "built-in defaults (no file found)"
    sys.stdout.write(f"# configuration OK: {source}\n")
    sys.stdout.write(tomli_w.dumps(to_toml_dict(config)))
    return EX_OK
