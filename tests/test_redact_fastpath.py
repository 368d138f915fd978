"""`scrub_text` and `printable` skip a pattern only where it cannot match: the output is the
output of the patterns alone, for any text (the checks that let 10 MB of `probed status` through
in milliseconds must never let a secret through)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from probed import redact
from probed.redact import MASK, printable, scrub_text


def _reference_scrub(text: str) -> str:
    """scrub_text as it was: every pattern over the whole text."""
    pattern = redact._known.pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = redact._URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = redact._SECRET_QUERY.sub(lambda m: m.group(1) + MASK, text)
    return redact._SECRET_VALUE.sub(MASK, text)


def _reference_printable(text: str, *, one_line: bool = False) -> str:
    pattern = redact._UNPRINTABLE_ONE_LINE if one_line else redact._UNPRINTABLE
    return pattern.sub(redact._escape, text)


# Pieces that sit on the edges of each pattern, so generated texts hit them often.
PIECES = [
    "sk-",
    "sk-ant-",
    "xai-",
    "AIza",
    "Bearer ",
    "BEARER\n",
    "bearer\t",
    "://",
    "https://u:p@h",
    "?key=",
    "&token=",
    "=",
    "0123456789abcdef" * 2,
    "Ab1" * 11,
    "a" * 31,
    "-_+",
    ":",
    " ",
    "\n",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\u202e",
    "é",
    "K",  # the Kelvin sign: case-folds to k
]
TEXTS = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=12).map("".join)


@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_scrub_text_is_the_patterns_own_result(text: str) -> None:
    assert scrub_text(text) == _reference_scrub(text)


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.booleans())
def test_printable_is_the_patterns_own_result(text: str, one_line: bool) -> None:
    assert printable(text, one_line=one_line) == _reference_printable(text, one_line=one_line)


def test_each_shape_is_still_masked_past_the_checks() -> None:
    token = "Zx9" * 11  # 33 mixed-case characters: the base64 branch, with no literal prefix
    hexed = "deadbeef" * 4
    for secret in ("sk-abcdef123", "xai-abcdef1", "AIzaSyA-0123456", token, hexed):
        out = scrub_text(f"row  {secret}  ok")
        assert secret not in out and MASK in out
    assert scrub_text("Authorization: bearer abcd1234") == f"Authorization: {MASK}"
    assert scrub_text("see https://user:pw@example.com/x") == f"see https://{MASK}@example.com/x"
    assert scrub_text("GET /v1?api_key=abc123") == f"GET /v1?api_key={MASK}"
    assert printable("a\x1bb") == "a\\u001bb"
    assert printable("a\tb\n", one_line=True) == "a\\u0009b\\u000a"


def test_a_big_table_without_secrets_comes_back_as_it_went_in() -> None:
    row = "agent042  anthropic:p04242  anthropic  cooldown  rate_limit  12-02 18:48 (5h59m)\n"
    table = row * 20_000
    assert redact.safe(table) is table or redact.safe(table) == table
    assert re.search(r"[A-Za-z0-9+_\-]{32}", table) is None  # the case the fast path serves
