"""`probed gate`: read-only, sends nothing, exit 0 when any profile is usable now."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.probestate import KEY_A, billing, now_ms, write_config, write_store

from probed.cli import main

PROFILES = {
    "anthropic:a": {"type": "api_key", "provider": "anthropic", "key": KEY_A},
    "anthropic:b": {"type": "api_key", "provider": "anthropic", "key": KEY_A},
}


def _cfg(tmp_path: Path, usage: dict) -> Path:
    agent_dir = write_store(tmp_path / "oc", PROFILES, usage)
    cfg = write_config(tmp_path, tmp_path / "oc")
    return cfg, agent_dir


def test_usable_when_one_profile_is(tmp_path, capsys) -> None:
    cfg, _ = _cfg(tmp_path, {"anthropic:a": billing()})
    assert main(["-c", str(cfg), "gate", "anthropic"]) == 0
    assert "anthropic: usable (anthropic:b)" in capsys.readouterr().out


def test_unusable_prints_when_and_why(tmp_path, capsys) -> None:
    soon = now_ms() + 600_000
    cfg, agent_dir = _cfg(
        tmp_path,
        {
            "anthropic:a": billing(),
            "anthropic:b": {
                "cooldownUntil": soon,
                "cooldownReason": "rate_limit",
                "errorCount": 1,
                "lastFailureAt": now_ms(),
            },
        },
    )
    before = {p.name: p.stat().st_mtime_ns for p in agent_dir.iterdir()}
    assert main(["-c", str(cfg), "gate", "anthropic", "--json"]) == 75
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"provider", "model", "usable", "next_usable_at", "reason", "profiles"}
    assert doc["usable"] is False and doc["reason"] == "rate_limit"
    assert doc["next_usable_at"].endswith("Z") and len(doc["profiles"]) == 2
    assert main(["-c", str(cfg), "gate", "gemini"]) == 75  # no such profiles: named, and "no"
    assert "no OpenClaw auth profile of google" in capsys.readouterr().out
    assert main(["-c", str(cfg), "gate", "anthropic"]) == 75
    out = capsys.readouterr().out
    assert "rate_limit" in out and "expected back at" in out
    assert {p.name: p.stat().st_mtime_ns for p in agent_dir.iterdir()} == before
    assert not (tmp_path / "state").exists()  # nothing written, not even probed's ledger


def test_model_scoped_cooldown(tmp_path, capsys) -> None:
    cfg, _ = _cfg(
        tmp_path,
        {
            "anthropic:a": {
                "cooldownUntil": now_ms() + 60_000,
                "cooldownReason": "rate_limit",
                "cooldownModel": "claude-opus-4-7",
            },
            "anthropic:b": billing(),
        },
    )
    assert main(["-c", str(cfg), "gate", "anthropic/claude-haiku-4-5"]) == 0
    assert main(["-c", str(cfg), "gate", "anthropic/claude-opus-4-7", "--json"]) == 75
    capsys.readouterr()


def test_a_provider_without_profiles_is_unavailable(tmp_path, capsys) -> None:
    """A guard must hear "no" (75) for a provider that has nothing usable, profiles or not."""
    cfg, _ = _cfg(tmp_path, {})
    assert main(["-c", str(cfg), "gate", "mistral"]) == 75
    assert "mistral: unavailable (no OpenClaw auth profile of mistral)" in capsys.readouterr().out
    assert main(["-c", str(cfg), "gate", "mistral", "--json"]) == 75
    doc = json.loads(capsys.readouterr().out)
    assert doc["usable"] is False and doc["profiles"] == []


def test_an_empty_provider_or_model_is_a_usage_error(tmp_path, capsys) -> None:
    cfg, _ = _cfg(tmp_path, {})
    for target in ("anthropic/", "/claude-x", ""):
        assert main(["-c", str(cfg), "gate", target]) == 2, target
        assert "expected PROVIDER or PROVIDER/MODEL" in capsys.readouterr().err
