"""The command line as users' scripts see it: option placement, exit codes, one-sentence errors."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from probed import __version__
from probed.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PROBED_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "probed", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"probed {__version__}"


@pytest.mark.parametrize("placement", ["before", "after"])
def test_config_option_before_or_after_the_command(tmp_path: Path, placement: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[probe]\nconcurrency = 9\n")
    args = (
        ["-c", str(cfg), "config", "check"]
        if placement == "before"
        else ["config", "check", "-c", str(cfg)]
    )
    result = run(*args)
    assert result.returncode == 0, result.stderr
    shown = tomllib.loads(result.stdout)
    assert shown["probe"]["concurrency"] == 9


def test_config_check_exit_78_with_one_sentence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[backoff.billing]\ncap = "soon"\n')
    result = run("config", "check", "-c", str(cfg))
    assert result.returncode == 78
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "backoff.billing.cap" in lines[0]
    assert str(cfg) in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_named_config_is_78(tmp_path: Path) -> None:
    assert run("-c", str(tmp_path / "nope.toml"), "config", "check").returncode == 78
    env = {"PROBED_CONFIG": str(tmp_path / "nope.toml")}
    assert run("config", "check", env=env).returncode == 78


def test_probed_config_env_is_honoured(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[probe]\ndaily_budget = 3\n")
    result = run("config", "check", env={"PROBED_CONFIG": str(cfg), "HOME": str(tmp_path)})
    assert result.returncode == 0
    assert tomllib.loads(result.stdout)["probe"]["daily_budget"] == 3


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["status", "--bogus"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert main([]) == 2
    capsys.readouterr()
