"""Every command's --help documents its options, the environment it reads and its exit codes,
and the gate's codes agree everywhere they are written down."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from probed.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [[], ["run"], ["status"], ["probe"], ["gate"], ["clear"], ["classify"], ["config"],
            ["config", "check"]]  # fmt: skip


def _parser_for(path: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "probed")
def test_help_documents_options_environment_and_exit_codes(
    path: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "\nenvironment:\n" in out and "PROBED_CONFIG" in out and "OPENCLAW_STATE_DIR" in out
    codes = out.split("\nexit codes:\n", 1)[1]
    assert re.search(r"^  0 ", codes, re.M) and re.search(r"^  78 ", codes, re.M)
    for action in _parser_for(path)._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help, f"{action.option_strings or action.dest} has no help text"
        for flag in action.option_strings:
            assert flag in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_run_help_names_the_systemd_variables(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "NOTIFY_SOCKET" in out and "JOURNAL_STREAM" in out


def _gate_codes(text: str) -> str:
    return text


def test_gate_exit_codes_agree_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """gate exits 75 when nothing is usable, credential problems included (the contract);
    77 belongs to `probed probe` only. The help, the README and docs say so."""
    with pytest.raises(SystemExit):
        main(["gate", "--help"])
    codes = capsys.readouterr().out.split("exit codes:", 1)[1]
    assert "75" in codes and "77" not in codes
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"`probed gate`[^\n]*exits? (only )?`?0`? or `?75`?", readme), readme
    assert "77" in readme and "probed probe" in readme
    for doc in ("README.md", "docs/install.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for line in text.splitlines():
            if "gate" in line and "77" in line:
                assert "not 77" in line or "never 77" in line, (doc, line)
