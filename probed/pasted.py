"""What people paste into `probed classify`, told apart by its shape and read into one response.

Accepted, in the order they are recognised:

- a bare body, when `--status N` is given (with any number of `--header 'name: value'`);
- the JSON envelope `{"status": ..., "headers": {...}, "body": "..."}`;
- an OpenClaw JSON log event that carries the status (`httpCode` or `status`) and the raw error
  (`rawErrorPreview`, `rawError` or `error`), such as `embedded_run_agent_end`, alone or nested in
  a structured log record;
- a response as `curl -i` prints it: status line, headers, blank line, body (interim `100
  Continue` or proxy `CONNECT` blocks are skipped);
- a status and a body on one line, as OpenClaw logs them (`403 {"error": {...}}`), including
  OpenClaw's log lines (`... error=HTTP 500 api_error: ...`, `error=400 status code (no body)`).

Anything else raises `PasteError` with one sentence that names the accepted forms. Pure: text in,
value out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from probed import safejson

Form = Literal["bare", "envelope", "openclaw-event", "curl", "status-line"]

ACCEPTED = (
    "a `curl -i` response, a `STATUS BODY` line such as `403 {...}`, an OpenClaw log line or "
    'JSON log event, the JSON envelope {"status": ..., "headers": {...}, "body": "..."}, '
    "or a bare body with --status N"
)

_STATUS_KEYS = ("httpCode", "status", "statusCode")
_ERROR_KEYS = ("rawErrorPreview", "rawError", "error")


class PasteError(ValueError):
    """The input is none of the accepted forms (or an accepted form with a bad field)."""


@dataclass(frozen=True, slots=True)
class Pasted:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    form: Form = "bare"


def parse_header(text: str) -> tuple[str, str]:
    """`name: value` from a `--header` option."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise PasteError(f"--header {text!r} is not 'name: value'")
    return name.strip(), value.strip()


def parse_pasted(
    text: str,
    *,
    status: int | None = None,
    headers: Iterable[tuple[str, str]] = (),
    where: str = "the input",
) -> Pasted:
    """Read one provider response out of pasted text; `--header` values win over pasted ones."""
    extra = dict(headers)
    if status is not None:
        if not 100 <= status <= 599:
            raise PasteError(f"--status {status} is not an HTTP status (100-599)")
        return Pasted(status, extra, text.strip("\r\n"), "bare")
    found = _recognise(text, where)
    if found is None:
        raise PasteError(f"{where}: not a response probed can read; paste {ACCEPTED}")
    return Pasted(found.status, {**found.headers, **extra}, found.body, found.form)


def _recognise(text: str, where: str) -> Pasted | None:
    stripped = text.strip()
    if not stripped:
        return None
    try:
        doc = safejson.loads(stripped)
    except safejson.TooDeep as exc:
        raise PasteError(f"{where}: the JSON is {exc.msg}; probed reads no deeper") from None
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict):
        if _is_envelope(doc):
            return _envelope(doc, where)
        event = _event(doc)
        if event is not None:
            return event
    if isinstance(doc, dict | list):
        return None  # a JSON body alone: its status is unknown, so --status is needed
    curl = _curl(stripped)
    if curl is not None:
        return curl
    bare = re.fullmatch(r"(\d{3})\s+(\S.*)", stripped.splitlines()[0].strip())
    if bare is not None and 100 <= int(bare.group(1)) <= 599:
        # `STATUS BODY` as the first line: the body may go on over the following lines.
        return Pasted(int(bare.group(1)), {}, stripped[len(bare.group(1)) :].strip(), "status-line")
    for line in stripped.splitlines():
        hit = _event_line(line) or _log_line(line)
        if hit is not None:
            return hit
    return None


# The JSON envelope --------------------------------------------------------------------------


def _is_envelope(doc: Mapping[str, Any]) -> bool:
    if "body" in doc:
        return True
    keys = set(doc)
    return bool(keys) and keys <= {"status", "headers"} and "headers" in keys


def _envelope(doc: Mapping[str, Any], where: str) -> Pasted:
    shape = '{"status": int or null, "headers": {...}, "body": "raw text"}'
    status = doc.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise PasteError(f"{where}: status must be an integer or null in {shape}")
    raw_headers = doc.get("headers")
    if raw_headers is None:
        raw_headers = {}
    if not isinstance(raw_headers, dict):
        raise PasteError(f"{where}: headers must be an object of name: value in {shape}")
    out: dict[str, str] = {}
    for name, value in raw_headers.items():
        if value is None:
            continue
        if isinstance(value, dict):
            raise PasteError(f"{where}: header {name!r} must be a string")
        out[str(name)] = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    body = doc.get("body", "")
    if body is None:
        body = ""
    if not isinstance(body, str):
        body = json.dumps(body)  # a body pasted as a JSON object rather than as its text
    return Pasted(status, out, body, "envelope")


# OpenClaw's JSON log events ------------------------------------------------------------------


def _status_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        out = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{3}\s*", value):
        out = int(value)
    else:
        return None
    return out if 100 <= out <= 599 else None


def _event(doc: Mapping[str, Any], depth: int = 0) -> Pasted | None:
    """A record with a status and a raw error, here or nested (structured log records wrap the
    event's fields in an object of their own)."""
    status = next((s for k in _STATUS_KEYS if (s := _status_of(doc.get(k))) is not None), None)
    raw = next((doc[k] for k in _ERROR_KEYS if isinstance(doc.get(k), str) and doc[k]), None)
    if status is not None and raw is not None:
        return Pasted(status, {}, _strip_status(raw, status), "openclaw-event")
    if depth >= 3:
        return None
    for value in doc.values():
        if isinstance(value, dict):
            hit = _event(value, depth + 1)
            if hit is not None:
                return hit
    return None


def _strip_status(raw: str, status: int) -> str:
    """OpenClaw's raw error often starts with the status again (`429 {...}`, `HTTP 500: ...`)."""
    m = re.match(rf"\s*(?:HTTP\s*)?{status}\b[:\s]\s*", raw)
    return raw[m.end() :] if m else raw


def _event_line(line: str) -> Pasted | None:
    """A JSON log event after a prefix (a timestamp, a logger name)."""
    start = line.find("{")
    if start < 0:
        return None
    try:
        doc, _ = json.JSONDecoder().raw_decode(line[start:])
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or _is_envelope(doc):
        return None
    return _event(doc)


# curl -i ------------------------------------------------------------------------------------

_STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)?\s+(\d{3})(?:\s.*)?")


def _curl(text: str) -> Pasted | None:
    lines = text.replace("\r\n", "\n").split("\n")
    if not _STATUS_LINE.fullmatch(lines[0].strip()):
        return None
    i = 0
    status = 0
    headers: dict[str, str] = {}
    while i < len(lines):
        m = _STATUS_LINE.fullmatch(lines[i].strip())
        if m is None:
            break
        status = int(m.group(1))
        headers = {}
        i += 1
        while i < len(lines) and lines[i].strip():
            name, sep, value = lines[i].partition(":")
            if sep and name.strip():
                key = name.strip()
                headers[key] = (
                    f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
                )
            i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        # An interim response (100 Continue, a proxy's "200 Connection established") is
        # followed by the real one.
        if i < len(lines) and _STATUS_LINE.fullmatch(lines[i].strip()):
            continue
        break
    if not 100 <= status <= 599:
        return None
    return Pasted(status, headers, "\n".join(lines[i:]).strip("\n"), "curl")


# STATUS BODY lines and OpenClaw's text log lines ---------------------------------------------

_LOG_PATTERNS = (
    # OpenClaw 9.x console line: `... error=<friendly text> rawError=429 {...}`
    re.compile(r"\brawError=(?:HTTP\s*)?(\d{3})\b[:\s]*(.*)$"),
    # `error=HTTP 500 api_error: unknown error ...`
    re.compile(r"\berror=HTTP\s*(\d{3})\b[:\s]*(.*)$"),
    # `error=400 status code (no body)`
    re.compile(r"\berror=(\d{3}) status code \(no body\)()"),
    # `error=429 {...}` or `error=402 Payment Required`
    re.compile(r"\berror=(\d{3})\s+(.*)$"),
    # `403 {...}` at the start of a line, or after a prefix such as `API Error: 400 {...}`
    re.compile(r"(?:^|[\s:(\[])(\d{3})\s+([{\[].*)$"),
)


def _log_line(line: str) -> Pasted | None:
    for pattern in _LOG_PATTERNS:
        m = pattern.search(line)
        if m is not None and 100 <= int(m.group(1)) <= 599:
            return Pasted(int(m.group(1)), {}, m.group(2).strip(), "status-line")
    return None
