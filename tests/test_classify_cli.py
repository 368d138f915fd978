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


def _classify_subprocess(tmp_path: Path, *args: str, stdin: str | None = None) -> dict[str, Any]:
    """`python -m probed classify ARGS` as a subprocess: exit 0, its JSON."""
    proc = subprocess.run(
        [sys.executable, "-m", "probed", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_subprocess_on_a_file_with_fixed_now(tmp_path: Path) -> None:
    path = tmp_path / "err.json"
    path.write_text(json.dumps(_fixture("openai-429-rate-limit-tokens")))
    out = _classify_subprocess(
        tmp_path, "--provider", "openai", "--now", "2026-10-07T12:40:37Z", str(path)
    )
    assert list(out) == KEYS
    assert out["reason"] == "rate_limit"
    assert out["retry_at"] == "2026-10-07T12:46:37Z"
    assert out["retry_source"] == "header:x-ratelimit-reset-tokens"
    assert out["status"] == 429


def test_subprocess_on_stdin(tmp_path: Path) -> None:
    data = json.dumps(_fixture("kimi-coding-403-billing-cycle-anthropic"))
    out = _classify_subprocess(tmp_path, "--provider", "kimi-coding", stdin=data)
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
        ("[1, 2]", "not a response probed can read"),
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


# ---------------------------------------------------------------------------------------------
# The input forms of 0.2, end to end through the command


def _classify(
    argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    code, out, err = _run_main(["classify", *argv], stdin, monkeypatch, capsys)
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)
    assert list(parsed) == KEYS
    return parsed


def test_curl_i_output_is_read_with_its_headers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fx = _fixture("openai-codex-429-usage-limit-reached-plus")
    head = "".join(f"{k}: {v}\r\n" for k, v in fx["headers"].items())
    text = f"HTTP/2 429\r\n{head}\r\n{fx['body']}\r\n"
    out = _classify(
        ["--provider", "openai-codex", "--now", "2026-05-04T19:24:56Z"], text, monkeypatch, capsys
    )
    assert (out["reason"], out["scope"], out["status"]) == ("quota", "profile", 429)
    assert out["retry_at"] == "2026-05-04T23:16:08Z"


def test_status_body_line_and_bare_body_with_options_agree(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _fixture("zai-429-1308-five-hour-english")["body"]
    now = ["--provider", "zai", "--now", "2026-09-08T20:00:00Z"]
    line = _classify(now, f"429 {body}", monkeypatch, capsys)
    bare = _classify([*now, "--status", "429", "--header", "x-a: b"], body, monkeypatch, capsys)
    assert line == bare
    assert (line["reason"], line["retry_at"]) == ("quota", "2026-09-08T21:38:28Z")


def test_bare_body_headers_give_the_reset(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--provider", "openai", "--now", "2026-10-07T12:40:37Z", "--status", "429"]
    out = _classify(
        [*argv, "--header", "retry-after: 90"],
        '{"error":{"message":"Rate limit exceeded","code":"rate_limit_exceeded"}}',
        monkeypatch,
        capsys,
    )
    assert (out["reason"], out["retry_at"], out["retry_source"]) == (
        "rate_limit",
        "2026-10-07T12:42:07Z",
        "header:retry-after",
    )


def test_openclaw_log_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = (
        "08:42:54 [agent/embedded] embedded run agent end: runId=81ed95dd isError=true "
        "error=HTTP 500 api_error: unknown error, 520 (1000) (request_id: 05ef3a8ae33d)"
    )
    out = _classify(["--provider", "zai"], line, monkeypatch, capsys)
    assert (out["reason"], out["status"]) == ("timeout", 500)


def test_unknown_provider_is_openai_compatible_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = '{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}'
    out = _classify(["--provider", "My-vLLM", "--status", "401"], body, monkeypatch, capsys)
    assert out["reason"] == "auth_permanent"
    assert "'my-vllm' is unknown to probed: read as OpenAI-compatible" in out["message"]
    assert len(out["message"]) <= 200
    known = _classify(["--provider", "groq", "--status", "401"], body, monkeypatch, capsys)
    assert "unknown to probed" not in known["message"]


def test_unreadable_input_is_exit_2_with_the_accepted_forms(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run_main(
        ["classify", "--provider", "openai"], "Invalid API Key\n", monkeypatch, capsys
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "curl -i" in err and "--status N" in err and "OpenClaw log line" in err
    code, _, err = _run_main(
        ["classify", "--provider", "openai", "--status", "429", "--header", "nocolon"],
        "x",
        monkeypatch,
        capsys,
    )
    assert code == 2 and "--header" in err


def test_subprocess_reads_curl_output_on_stdin(tmp_path: Path) -> None:
    text = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 30\r\n\r\n" + (
        '{"error":{"message":"Rate limit exceeded","code":"rate_limit_exceeded"}}'
    )
    out = _classify_subprocess(tmp_path, "--provider", "openai", stdin=text)
    assert (out["reason"], out["status"], out["retry_source"]) == (
        "rate_limit",
        429,
        "header:retry-after",
    )
