"""Loads tests/fixtures/provider-errors.json: real provider error responses, each with its source.

Fields (the 0.1 format, extended): `id`, `provider`, `status`, `headers`, `body` (raw text, as
pasted: bodies cut short or line-wrapped in the source stay that way), `expected_class`,
`expected_scope`, `expected_retry_at` (ISO 8601 or null: the reset the response states),
`expected_retry_at_hint`, `source` (URL, or repository and path, plus how it was taken),
`verbatim` (false where headers or values were illustrative: kept, tested, left out of the
accuracy figures) and, for absolute resets, `now` (when the response was captured).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "provider-errors.json"


def provider_errors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURES.read_text(encoding="utf-8"))
    return data
