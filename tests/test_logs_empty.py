"""No empty `field=` in a log line: a field with no value is left out (logfmt has no null)."""

from __future__ import annotations

import io
import json
import re

import pytest

from probed.logs import configure, get_logger

EMPTY = re.compile(r"(^|\s)[A-Za-z_]+=(\s|$)")


@pytest.mark.parametrize("fmt", ["console", "journal"])
def test_none_and_empty_fields_are_left_out(fmt: str) -> None:
    out = io.StringIO()
    try:
        configure("info", fmt, stream=out)
        get_logger().info("probe_started", agent="main", model=None, config="", paid=False, n=0)
    finally:
        configure("info", "console", stream=io.StringIO())
    line = out.getvalue().strip()
    assert "event=probe_started" in line or " probe_started " in line
    assert not EMPTY.search(line), line
    assert "model" not in line and "config" not in line
    assert "agent=main" in line and "paid=false" in line and "n=0" in line


def test_json_keeps_null() -> None:
    out = io.StringIO()
    try:
        configure("info", "json", stream=out)
        get_logger().info("probe_started", model=None)
    finally:
        configure("info", "console", stream=io.StringIO())
    assert json.loads(out.getvalue())["model"] is None
