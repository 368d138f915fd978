"""`probed classify`: a pasted response in, the contract's JSON out, exit 0."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.provider_fixtures import provider_errors

from probed.cli import main

KEYS = ["reason", "retry_at", "retry_source", "scope", "status", "message", "action"]


def _fixture(fid: str) -> dict[str, Any]:
    fx = next(f for f in provider_errors() if f["id"] == fid)
    return {"status": fx["status"], "headers": fx["headers"], "body": fx["body"]}


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROBED_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROBED_CONFIG"}
    env["HOME"] = str(tmp_path)
    return env


def test_subprocess_on_a_file_with_fixed_now(tmp_path: Path) -> None:
    path = tmp_path / "err.json"
    path.write_text(json.dumps(_fixture("openai-429-rate-limit-tokens")))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "probed",
            "classify",
            "--provider",
            "openai",
            "--now",
            "2026-10-07T12:40:37Z",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == KEYS
    assert out["reason"] == "rate_limit"
    assert out["retry_at"] == "2026-10-07T12:46:37Z"
    assert out["retry_source"] == "header:x-ratelimit-reset-tokens"
    assert out["status"] == 429


def test_subprocess_on_stdin(tmp_path: Path) -> None:
    data = json.dumps(_fixture("kimi-coding-403-billing-cycle-anthropic"))
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "classify", "--provider", "kimi-coding"],
        input=data,
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["reason"], out["scope"], out["status"]) == ("quota", "profile", 403)
    assert out["action"] == (
        "wait for the quota window to reset, or switch this cron job to another provider"
    )


def _run_main(
    argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_now_fixes_relative_signals(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.dumps(_fixture("anthropic-429-rate-limit-itpm"))
    for now, want in (
        ("2026-10-07T12:40:37Z", "2026-10-07T12:41:00Z"),
        ("2026-10-07T14:40:37+02:00", "2026-10-07T12:41:00Z"),
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:23Z"),
    ):
        code, out, _ = _run_main(
            ["classify", "--provider", "anthropic", "--now", now], data, monkeypatch, capsys
        )
        assert code == 0
        assert json.loads(out)["retry_at"] == want


def test_exit_zero_whatever_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for fid, provider in (
        ("openai-401-invalid-api-key", "openai"),
        ("deepseek-402-insufficient-balance", "deepseek"),
    ):
        code, out, err = _run_main(
            ["classify", "--provider", provider], json.dumps(_fixture(fid)), monkeypatch, capsys
        )
        assert code == 0, err
        assert "sk-abc" not in out


def test_pasted_log_line_with_null_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.dumps(
        {
            "status": None,
            "headers": {},
            "body": "Provider anthropic is in cooldown (all profiles unavailable)",
        }
    )
    code, out, _ = _run_main(["classify", "--provider", "anthropic"], data, monkeypatch, capsys)
    assert code == 0
    got = json.loads(out)
    assert got["reason"] != "unknown"
    assert "probed status" in got["action"]


def test_body_given_as_an_object_and_missing_headers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.dumps(
        {"status": 402, "body": {"error": {"message": "Insufficient credits", "code": 402}}}
    )
    code, out, _ = _run_main(["classify", "--provider", "openrouter"], data, monkeypatch, capsys)
    assert code == 0
    assert json.loads(out)["reason"] == "billing"


def test_malformed_json_file_is_exit_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"status": 429, "headers": ')
    code, out, err = _run_main(
        ["classify", "--provider", "openai", str(bad)], "", monkeypatch, capsys
    )
    assert code == 2
    assert out == ""
    assert str(bad) in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("[1, 2]", "expected a JSON object"),
        ('{"status": "429", "headers": {}, "body": ""}', "status must be an integer"),
        ('{"status": 429, "headers": [], "body": ""}', "headers must be an object"),
    ],
)
def test_wrong_shapes_on_stdin_are_usage_errors(
    payload: str,
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run_main(["classify", "--provider", "openai"], payload, monkeypatch, capsys)
    assert code == 2
    assert "standard input" in err
    assert fragment in err


def test_missing_file_and_bad_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run_main(
        ["classify", "--provider", "openai", str(tmp_path / "nope.json")], "", monkeypatch, capsys
    )
    assert code == 2 and "nope.json" in err
    code, _, err = _run_main(
        ["classify", "--provider", "openai", "--now", "yesterday"], "{}", monkeypatch, capsys
    )
    assert code == 2 and "--now" in err
