"""The one owner of redaction: what a secret looks like, and how text is made safe to show.

Every way out of probed passes through here: log records (`probed.logs` runs `scrub` as the last
processor), everything a command prints (`probed.cli` wraps standard output and error in
`SafeStream`), the shared results files (`probed.coordination.local` scrubs each record) and the
`STATUS=` line. Three kinds of rule, applied together by `scrub_text`:

- shapes: runs that look like a credential wherever they appear (`sk-ant-…`, `AIza…`, a bearer
  value, long hex or mixed-case base64 tokens), query parameters named like a key, and the
  user-info part of any URL (`https://user:password@host` -> `https://***@host`);
- names: a mapping value whose key is named like a secret (`api_key`, `token`, `password`…);
- known values: the secret parts of each configured endpoint (`register_url`): its user-info,
  its query values and any path segment that looks like a token, so a proxy URL such as
  `https://proxy/key/abc123…/v1` is masked even where the shape rules would not see it.

Terminal safety is the other half: a provider's message is data, not instructions for the
terminal. `printable` turns control characters (ESC, C1 controls, DEL, bidirectional overrides)
into visible `\\u001b` escapes, so no message can move the cursor, retitle a window or hide text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from probed.clock import iso

MASK = "***"

# Values that look like a credential, wherever they appear in a string.
_SECRET_VALUE = re.compile(
    r"""
      sk-ant-[A-Za-z0-9_\-]{4,}            # Anthropic
    | sk-or-[A-Za-z0-9_\-]{4,}             # OpenRouter
    | sk-[A-Za-z0-9_\-]{6,}                # OpenAI and friends
    | xai-[A-Za-z0-9_\-]{6,}               # xAI
    | AIza[0-9A-Za-z_\-]{10,}              # Google
    | (?i:bearer)\s+[A-Za-z0-9._~+/=\-]{4,}  # an Authorization header value
    | (?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])   # long hex tokens
    | (?<![A-Za-z0-9+_\-])(?=[A-Za-z0-9+_\-]*[0-9])(?=[A-Za-z0-9+_\-]*[a-z])
      (?=[A-Za-z0-9+_\-]*[A-Z])[A-Za-z0-9+_\-]{32,}={0,2}   # long mixed-case base64 tokens
    """,
    re.VERBOSE,
)
_SECRET_QUERY = re.compile(
    r"(?i)([?&;](?:key|api_key|apikey|api-key|token|access_token|auth|password|secret|sig"
    r"|signature|code)=)[^&;\s\"'<>]+"
)
# scheme://user[:password]@ : the user-info of any URL, whatever the scheme (redis://:pw@ too)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,30}://)[^/\s@\"'<>]*@")
# Field names whose value is a secret whatever it looks like.
_SECRET_NAME = re.compile(
    r"(?i)(^|[_\-.])(api[_\-]?)?(key|keys|token|tokens|access|authorization|secret|secrets"
    r"|password|passwd|cookie|refresh|credential|credentials)($|[_\-.])"
)
_KEEP_NAMES = frozenset({"event", "level", "logger", "timestamp"})
# A path segment of a configured URL that is a token rather than a word: long, letters and digits.
_TOKENISH = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9._~+=\-]{16,}$")
_SECRET_SEGMENT_BEFORE = frozenset({"key", "keys", "token", "tokens", "apikey", "api-key", "auth"})


class _Known:
    """The literal secrets registered so far, and one pattern matching any of them."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.lock = threading.Lock()


_known = _Known()
_MIN_KNOWN = 6  # a shorter literal would mask ordinary words everywhere
_SECRET_QUERY_NAME = re.compile(
    r"(?i)key|api[_-]?key|token|access_token|auth|password|secret|sig|signature|code"
)


def url_secrets(url: str) -> set[str]:
    """The parts of a URL that are secrets: the password (or a user name that is a token), the
    values of query parameters named like a key, token-like path segments.

    Conservative on purpose: what is registered is masked in every output, so a user name such
    as `probe` or a value such as `api-version=2024-06-01` must not be (the user-info of a URL is
    masked by shape wherever it appears anyway)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    found: set[str] = set()
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        user, sep, password = userinfo.partition(":")
        found.add(userinfo)
        if sep and len(password) >= _MIN_KNOWN:
            found.update({password, unquote(password)})
        elif not sep and _TOKENISH.match(unquote(user)):
            found.update({user, unquote(user)})
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if _SECRET_QUERY_NAME.fullmatch(name) or _TOKENISH.match(value):
            found.add(value)
    segments = [s for s in parts.path.split("/") if s]
    for i, seg in enumerate(segments):
        before = segments[i - 1].lower() if i else ""
        if (
            _TOKENISH.match(seg)
            or _SECRET_VALUE.search(seg)
            or (before in _SECRET_SEGMENT_BEFORE and len(seg) >= _MIN_KNOWN)
        ):
            found.update({seg, unquote(seg)})
    return {s for s in found if len(s) >= _MIN_KNOWN}


def register_url(url: str | None) -> None:
    """Remember the secret parts of a configured URL, so they are masked wherever they appear."""
    if url:
        register_values(url_secrets(url))


def register_values(values: set[str]) -> None:
    """Remember literal secret values (at least 6 characters) to mask in every output."""
    fresh = {v for v in values if len(v) >= _MIN_KNOWN} - _known.values
    if not fresh:
        return
    with _known.lock:
        _known.values.update(fresh)
        ordered = sorted(_known.values, key=len, reverse=True)  # longest first: no leftovers
        _known.pattern = re.compile("|".join(re.escape(v) for v in ordered))


def safe_url(url: str) -> str:
    """A URL fit to show: no user-info, no query, token-like path segments masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    segments = parts.path.split("/")
    shown = []
    for i, seg in enumerate(segments):
        before = segments[i - 1].lower() if i else ""
        secret = bool(seg) and (
            _TOKENISH.match(seg) or before in _SECRET_SEGMENT_BEFORE or _SECRET_VALUE.search(seg)
        )
        shown.append(MASK if secret else seg)
    prefix = f"{parts.scheme}://" if parts.scheme else ""
    query = "?" + MASK if parts.query else ""
    return scrub_text(f"{prefix}{host}{'/'.join(shown)}{query}")


def scrub_text(text: str) -> str:
    """Mask every credential-shaped run and every known secret in free text.

    Each shape pattern runs only where it could match: `probed status` over 100,000 profiles
    prints 10 MB, and `_SECRET_VALUE` scans it at about 7 MB/s, for nothing in a table that
    holds no secret. The checks are exact (`_may_match` below), so the text that comes out is
    the text the patterns alone would give."""
    pattern = _known.pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    if "=" in text:
        text = _SECRET_QUERY.sub(lambda m: m.group(1) + MASK, text)
    if _may_match_secret_value(text):
        text = _SECRET_VALUE.sub(MASK, text)
    return text


# `_SECRET_VALUE` matches only text holding one of its literal prefixes or a run of 32
# characters of [A-Za-z0-9+_-] (its two token branches; hex digits are among those characters).
_VALUE_PREFIXES = ("sk-", "xai-", "AIza")
_RUN_OF_32 = b"a" * 32
_RUN_TABLE = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+_-") else ord(" ")
    for b in range(256)
)
_MIN_VALUE_MATCH = 9  # the shortest thing `_SECRET_VALUE` matches: `sk-` and 6 more


def _may_match_secret_value(text: str) -> bool:
    """False only when `_SECRET_VALUE` cannot match `text`. Exact for ASCII text (the case-
    insensitive `bearer` is compared lower-cased, which only ASCII keeps exact); any other
    text is always searched."""
    if len(text) < _MIN_VALUE_MATCH:
        return False
    if not text.isascii():
        return True
    if any(p in text for p in _VALUE_PREFIXES) or "bearer" in text.lower():
        return True
    return _RUN_OF_32 in text.encode("ascii").translate(_RUN_TABLE)


def is_secret_name(name: object) -> bool:
    return isinstance(name, str) and name not in _KEEP_NAMES and bool(_SECRET_NAME.search(name))


def scrub(value: Any, *, _depth: int = 0) -> Any:
    """Redact a value: containers are walked, secret-named keys masked, strings scrubbed.

    The walk stops at 64 levels (what is deeper is shown as `[nested too deeply]`): a hostile
    structure must not turn redaction into a RecursionError."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, datetime):
        return iso(value)
    if _depth >= 64:
        return "[nested too deeply]"
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_secret_name(k) and v is not None else scrub(v, _depth=_depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v, _depth=_depth + 1) for v in value]
    return scrub_text(str(value))


# ---- terminal safety ---------------------------------------------------------------------

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidi/format characters that
# reorder or hide text on a terminal (Trojan-Source style).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_UNPRINTABLE_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _escape(m: re.Match[str]) -> str:
    """`\\u001b`: visible on a terminal, and a valid escape inside a JSON string too (a `\\x`
    escape would make JSON output unparsable)."""
    return f"\\u{ord(m.group(0)):04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\u001b`), never acted on.

    Newlines and tabs are kept unless `one_line` (a log field, a table cell)."""
    keep = _SHOWN_ASCII_ONE_LINE if one_line else _SHOWN_ASCII
    if text.isascii() and not text.encode("ascii").translate(None, keep):
        return text  # nothing to escape: a 10 MB table is checked in C, not by the pattern
    pattern = _UNPRINTABLE_ONE_LINE if one_line else _UNPRINTABLE
    return pattern.sub(_escape, text)


# What an ASCII text may hold unescaped: the printable range, and tab and newline unless
# the text must stay on one line (the complement of the two patterns above, within ASCII).
_SHOWN_ASCII_ONE_LINE = bytes(range(0x20, 0x7F))
_SHOWN_ASCII = b"\t\n" + _SHOWN_ASCII_ONE_LINE


def safe(text: str) -> str:
    """Both halves at once: what every command's output passes through."""
    return printable(scrub_text(text))


class SafeStream:
    """A text stream wrapper: each write is scrubbed and made printable before it goes out.

    Commands write whole lines or whole documents per call, so a secret is never split across
    two writes; anything else is delegated to the wrapped stream."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(safe(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
