"""`probed classify`: diagnose one provider error response pasted from a log. Sends nothing.

The input forms are told apart by `probed.pasted`; what cannot be read is a usage error (2) with
one sentence naming the forms accepted. A provider probed does not know is read as an
OpenAI-compatible API (the contract's rule), and the message says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from probed.classify import MAX_MESSAGE, classify, short_message
from probed.clock import parse_iso, utcnow
from probed.config import Config
from probed.errors import UsageError
from probed.failure import Failure
from probed.pasted import PasteError, parse_header, parse_pasted
from probed.providers import canonical, is_known
from probed.reasons import EX_OK


def run(args: argparse.Namespace, config: Config) -> int:
    now = _now(args.now)
    where, text = _read_input(args.file)
    try:
        headers = [parse_header(h) for h in getattr(args, "header", None) or ()]
        pasted = parse_pasted(
            text, status=getattr(args, "status", None), headers=headers, where=where
        )
    except PasteError as exc:
        raise UsageError(str(exc)) from None
    failure = classify(args.provider, pasted.status, pasted.headers, pasted.body, now=now)
    if not is_known(args.provider) and canonical(args.provider) not in config.providers:
        failure = _say_openai_compatible(failure, args.provider)
    sys.stdout.write(json.dumps(failure.to_json(), ensure_ascii=False) + "\n")
    return EX_OK


def _say_openai_compatible(failure: Failure, provider: str) -> Failure:
    note = f" (provider {canonical(provider)!r} is unknown to probed: read as OpenAI-compatible)"
    room = max(40, MAX_MESSAGE - len(note))
    return replace(failure, message=short_message(failure.message, room) + note)


def _now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        return parse_iso(value)
    except ValueError:
        raise UsageError(
            f"--now {value!r} is not an ISO 8601 time (e.g. 2026-10-07T12:40:37Z)"
        ) from None


def _read_input(file: str | None) -> tuple[str, str]:
    if file is None or file == "-":
        data = sys.stdin.buffer.read()
        where = "standard input"
    else:
        where = file
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise UsageError(f"{file}: cannot be read ({exc.strerror or exc})") from None
    try:
        return where, data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8 text") from None
