"""Loads tests/fixtures/provider-errors.json (28 real provider error responses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "provider-errors.json"


def provider_errors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURES.read_text(encoding="utf-8"))
    return data
