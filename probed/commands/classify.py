"""`probed classify`: diagnose one provider error response pasted from a log. Sends nothing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from probed import safejson
from probed.classify import classify
from probed.clock import parse_iso, utcnow
from probed.config import Config
from probed.errors import UsageError
from probed.reasons import EX_OK


def run(args: argparse.Namespace, config: Config) -> int:
    now = _now(args.now)
    where, text = _read_input(args.file)
    status, headers, body = _parse(where, text)
    failure = classify(args.provider, status, headers, body, now=now)
    sys.stdout.write(json.dumps(failure.to_json(), ensure_ascii=False) + "\n")
    return EX_OK


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


def _parse(where: str, text: str) -> tuple[int | None, dict[str, str], str]:
    shape = '{"status": int or null, "headers": {...}, "body": "raw text"}'
    try:
        doc: Any = safejson.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}); expected {shape}"
        ) from None
    if not isinstance(doc, dict):
        raise UsageError(f"{where}: expected a JSON object {shape}")
    status = doc.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise UsageError(f"{where}: status must be an integer or null")
    raw_headers = doc.get("headers")
    if raw_headers is None:
        raw_headers = {}
    if not isinstance(raw_headers, dict):
        raise UsageError(f"{where}: headers must be an object of name: value")
    headers: dict[str, str] = {}
    for name, value in raw_headers.items():
        if value is None:
            continue
        if isinstance(value, dict):
            raise UsageError(f"{where}: header {name!r} must be a string")
        joined = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        headers[str(name)] = joined
    body = doc.get("body", "")
    if body is None:
        body = ""
    if not isinstance(body, str):
        body = json.dumps(body)  # a body pasted as a JSON object rather than as its text
    return status, headers, body
