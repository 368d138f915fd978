from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probed.durations import format_duration, humanize, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        (" 10m ", 600),
        ("1d2h3m4s5ms", 93784.005),
    ],
)
def test_parses_the_contract_forms(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5",
        "m",
        "5 m",
        "5x",
        "-5s",
        "1h 30m",
        "ms5",
        "1.5.5s",
        "1m1m",
        "30m1h",
        "0.5ms",
        "1.0001s",
    ],
)
def test_rejects_everything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_format_round_trips(ms: int) -> None:
    assert parse_duration(format_duration(ms / 1000)) == pytest.approx(ms / 1000)


def test_humanize() -> None:
    assert humanize(45) == "45s"
    assert humanize(252) == "4m12s"
    assert humanize(3 * 3600 + 300) == "3h05m"
    assert humanize(2 * 86400 + 4 * 3600) == "2d4h"
    assert humanize(-5) == "0s"
