"""`probed status` output, byte for byte, over a fixed world and clock.

The table and the JSON document are compared with copies written by probed 0.2.0 before the
display-only read and the fast renderers (tests/fixtures/status-golden/): any change to what
people or scripts see fails here. Set PROBED_GOLDEN_WRITE=1 to rewrite them on purpose.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.ocstate import agent_dir, era_b, era_c_agent, write_json

from probed import heartbeat, status
from probed.clock import to_ms
from probed.config import load_config
from probed.ledger import Ledger
from probed.status import (
    Report,
    collect,
    json_pieces,
    render_json,
    render_table,
    table_pieces,
)

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "status-golden"
NOW = datetime(2027, 1, 15, 9, 30, 15, 250_000, tzinfo=UTC)
T = to_ms(NOW)
H = 3_600_000


def _report(tmp_path: Path) -> Report:
    """Every kind of row: usable, cooldowns (one model-scoped), disabled across a year end, a
    bypassed provider, probed's own record, a bad time value, non-ASCII and quotes in names."""
    state = tmp_path / "oc"
    era_c_agent(
        state,
        {
            "anthropic:a": {
                "cooldownUntil": T + 2 * H + 1234,
                "cooldownReason": "rate_limit",
                "cooldownModel": "claude-opus-4-7",
                "lastFailureAt": T - 60_000,
            },
            "anthropic:b": {"disabledUntil": T + 400 * 24 * H, "disabledReason": "billing"},
            "openrouter:x": {"cooldownUntil": T + H, "cooldownReason": "rate_limit"},
        },
        agent="worker",
    )
    era_b(
        state,
        {
            "anthropic:a": {"cooldownUntil": T + 90_500, "cooldownReason": "timeout"},
            "anthropic:b": {"cooldownUntil": 1e20, "lastUsed": T - 5},
        },
        agent="main",
    )
    odd = agent_dir(state, "zeta")
    write_json(
        odd / "auth-profiles.json",
        {
            "version": 1,
            "profiles": {
                'openai:"q\\uote"': {"type": "token", "provider": "OpenAI", "token": "t" * 12},
                "google:été": {"mode": "oauth", "provider": "google", "access": "a" * 12},
                "groq:gone": {"type": "password", "provider": "groq"},
            },
            "usageStats": {"google:été": {"blockedUntil": T + 3 * H, "blockedReason": "auth"}},
        },
    )
    cfg = tmp_path / "probed.toml"
    cfg.write_text(
        f'[daemon]\nstate_dir = "{tmp_path / "probed-state"}"\n'
        f'[openclaw]\nstate_dir = "{state}"\nreload_command = []\n'
    )
    ledger = Ledger(tmp_path / "probed-state")
    ledger.record_probe(
        "main",
        "anthropic:a",
        None,
        at=NOW - timedelta(minutes=7, seconds=3),
        result="timeout",
        next_probe_at=NOW + timedelta(minutes=4, seconds=12),
    )
    ledger.record_probe(
        "worker",
        "anthropic:b",
        None,
        at=NOW - timedelta(days=3),
        result="billing",
        next_probe_at=NOW + timedelta(days=3, hours=1),
    )
    return collect(load_config(cfg), now=NOW)


def _golden(name: str, text: str, tmp_path: Path) -> None:
    text = text.replace(str(tmp_path), "<TMP>")
    path = GOLDEN / name
    if os.environ.get("PROBED_GOLDEN_WRITE"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_table_is_unchanged(tmp_path: Path) -> None:
    report = _report(tmp_path)
    _golden("table-idle.txt", render_table(report), tmp_path)
    running = replace(report, daemon=heartbeat.Liveness(True, 4242, NOW, NOW))
    _golden("table-running.txt", render_table(running), tmp_path)


@pytest.mark.parametrize("rows_per_piece", [1, 2, 3])
def test_the_table_written_in_pieces_is_the_same_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_piece: int
) -> None:
    """`probed status` writes the table a thousand rows at a time; cut anywhere, the pieces
    are whole lines and add up to the same text."""
    monkeypatch.setattr(status, "TABLE_PIECE_ROWS", rows_per_piece)
    report = _report(tmp_path)
    pieces = list(table_pieces(report))
    row_pieces = -(-len(report.rows) // rows_per_piece)  # rounded up
    assert len(pieces) == 1 + row_pieces + 1  # the lines above the rows, the rows, the notes
    assert all(p.endswith("\n") for p in pieces)
    _golden("table-idle.txt", "".join(pieces), tmp_path)


@pytest.mark.parametrize("rows_per_piece", [1, 2, 3])
def test_the_json_written_in_pieces_is_the_same_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_piece: int
) -> None:
    """`probed status --json` writes the document a thousand rows at a time; cut anywhere, the
    pieces end lines (all but the last) and add up to the same document."""
    monkeypatch.setattr(status, "JSON_PIECE_ROWS", rows_per_piece)
    report = _report(tmp_path)
    pieces = list(json_pieces(report))
    row_pieces = -(-len(report.rows) // rows_per_piece)  # rounded up
    assert len(pieces) == 1 + row_pieces + 1  # above the rows, the rows, below them
    assert all(p.endswith("\n") for p in pieces[:-1])
    _golden("status.json", "".join(pieces), tmp_path)


def test_json_is_unchanged(tmp_path: Path) -> None:
    report = _report(tmp_path)
    _golden("status.json", json.dumps(report.to_json(), indent=2), tmp_path)
    _golden("status.json", render_json(report), tmp_path)  # what `status --json` prints
