"""Tiny OpenClaw era-B stores and probed config files for probe tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

# Recognisable fake secrets: tests assert they never appear in any output.
KEY_A = "sk-ant-api03-SECRET-0001-aaaaaaaaaaaaaaaa"
TOKEN_BAD = "sk-ant-oat01-SECRET-0002-bbbbbbbbbbbbbbbb"
OAUTH_OK = "sk-ant-oat01-SECRET-0003-cccccccccccccccc"
LITELLM_KEY = "sk-litellm-SECRET-0004-dddddddddddd"
OPENAI_KEY = "sk-proj-SECRET-0005-eeeeeeeeeeeeeeee"
GEMINI_KEY = "AIzaSECRET0006ffffffffffffffffffffff"
ALL_SECRETS = (KEY_A, TOKEN_BAD, OAUTH_OK, LITELLM_KEY, OPENAI_KEY, GEMINI_KEY)


def now_ms() -> int:
    return int(time.time() * 1000)


def write_store(
    state_dir: Path,
    profiles: dict[str, dict[str, Any]],
    usage: dict[str, dict[str, Any]] | None = None,
    *,
    agent: str = "main",
) -> Path:
    agent_dir = state_dir / "agents" / agent / "agent"
    agent_dir.mkdir(parents=True, exist_ok=True)
    (agent_dir / "auth-profiles.json").write_text(
        json.dumps({"version": 1, "profiles": profiles}), encoding="utf-8"
    )
    if usage is not None:
        (agent_dir / "auth-state.json").write_text(
            json.dumps({"version": 1, "usageStats": usage}), encoding="utf-8"
        )
    return agent_dir


def read_usage(state_dir: Path, profile: str, *, agent: str = "main") -> dict[str, Any]:
    path = state_dir / "agents" / agent / "agent" / "auth-state.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data.get("usageStats", {}).get(profile, {}))


def billing(hours: float = 5) -> dict[str, Any]:
    t = now_ms()
    return {
        "disabledUntil": t + int(hours * 3600_000),
        "disabledReason": "billing",
        "errorCount": 1,
        "failureCounts": {"billing": 1},
        "lastFailureAt": t - 1000,
    }


def write_config(
    tmp: Path,
    openclaw_dir: Path,
    *,
    providers: dict[str, dict[str, Any]] | None = None,
    timeout: str = "5s",
    daily_budget: int = 48,
    extra: str = "",
) -> Path:
    lines = [
        "[daemon]",
        f'lock_dir = "{tmp / "lock"}"',
        f'state_dir = "{tmp / "state"}"',
        "[openclaw]",
        f'state_dir = "{openclaw_dir}"',
        "reload_command = []",
        "[probe]",
        f'timeout = "{timeout}"',
        f"daily_budget = {daily_budget}",
        'jitter = "0%"',
    ]
    for pid, table in (providers or {}).items():
        lines.append(f"[providers.{pid}]")
        for k, v in table.items():
            lines.append(f"{k} = {json.dumps(v)}")
    path = tmp / "probed.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path
