"""JSON from outside (stores, SQLite cells, provider bodies, secret files), with a depth limit.

`json.loads` of `[[[[…]]]]` 100,000 deep raises RecursionError, which no `except ValueError`
catches; one a little shallower parses, then breaks whatever walks it next (`copy.deepcopy`,
redaction, `json.dumps`). No document probed reads needs more than a handful of levels, so
anything nested deeper than `MAX_DEPTH` is refused up front with `TooDeep`, a
`json.JSONDecodeError` (so every existing `except ValueError` / `except JSONDecodeError` already
handles it), naming the limit. The check is linear and runs in C: strings are cut out, only
brackets are kept, and matched pairs are peeled one level per pass.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

MAX_DEPTH = 64

_STRING_B = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_ALL_BUT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ALL_BUT_QUOTES_BRACKETS_AND_BACKSLASHES = bytes(b for b in range(256) if b not in b'"[]{}\\')


class TooDeep(json.JSONDecodeError):
    """The document nests arrays and objects deeper than probed reads."""

    def __init__(self, doc: str, max_depth: int) -> None:
        super().__init__(f"nested more than {max_depth} levels deep", doc[:80], 0)
        self.max_depth = max_depth


def too_deep(text: str | bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether `text` (JSON, JSON5 roughly, or the first part of either) nests deeper than
    `max_depth`. Strings are cut out, every byte but brackets deleted, and matched pairs peeled
    from the inside, one level per pass; what is left once no pair remains is the brackets still
    open (a cut-off prefix) or junk."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    # Quotes, brackets and backslashes are kept (in C, one pass), and everything else is asked
    # of what is left, a tenth the size: an escaped quote in the text is a backslash before a
    # quote here too (the converse may not hold: then the careful path runs, needlessly).
    kept = data.translate(None, _ALL_BUT_QUOTES_BRACKETS_AND_BACKSLASHES)
    if kept.count(b"[") + kept.count(b"{") <= max_depth:
        return False
    # what lies outside the strings; with an escaped quote only a real scanner tells them apart.
    # Without one, every quote delimits a string.
    if b'\\"' in kept:
        rest = _STRING_B.sub(b"", data).translate(None, _ALL_BUT_BRACKETS)
    else:
        kept = kept.replace(b"\\", b"")
        # A string with no bracket in it is `""` here, and a store's strings rarely hold one:
        # all of them go in one pass. A quote left means one did; those are cut out in turn.
        rest = kept.replace(b'""', b"")
        if b'"' in rest:
            rest = b"".join(kept.split(b'"')[0::2])
    for _ in range(max_depth):
        # one level: the pairs innermost now become a dot (so `[{}]` loses `{}` alone, not
        # `[]` with it), then the dots go
        marked = rest.replace(b"{}", b".").replace(b"[]", b".")
        if marked == rest:
            break
        rest = marked.replace(b".", b"")
        if not rest:
            return False
    else:
        if b"{}" in rest or b"[]" in rest:
            return True
    return rest.count(b"[") + rest.count(b"{") > max_depth


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing (TooDeep) a document nested deeper than `max_depth`."""
    if too_deep(text, max_depth):
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else text
        raise TooDeep(shown, max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - too_deep sees it first
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else text
        raise TooDeep(shown, max_depth) from None


def copied(value: Any) -> Any:
    """A parsed JSON value copied all the way down (dicts, lists; scalars are immutable):
    `copy.deepcopy` of a store's state of 1,000 windows took 5 ms, in every store write and
    under OpenClaw's lock; this takes 1 ms. Recursion is safe: every document probed reads was
    checked against `MAX_DEPTH` on its way in."""
    if type(value) is dict:
        return {k: copied(v) for k, v in value.items()}
    if type(value) is list:
        return [copied(v) for v in value]
    if isinstance(value, dict | list):  # a subclass: the general path keeps its type
        return copy.deepcopy(value)
    return value
