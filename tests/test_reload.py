"""The reload command: argv (no shell), timeout, stdin closed, NOTIFY_SOCKET withheld."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from helpers.ocstate import LogCapture

from probed.reload import run_reload_command
from probed.stores.oclock import pid_is_dead


def test_empty_command_does_nothing() -> None:
    assert run_reload_command([]) is True


def test_runs_without_shell_stdin_closed_and_without_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    out = tmp_path / "out"
    script = (
        "import os, sys; "
        f"open({str(out)!r}, 'w').write(repr(("
        "sys.stdin.read(), os.environ.get('NOTIFY_SOCKET'), sys.argv[1])))"
    )
    assert run_reload_command([sys.executable, "-c", script, "a; echo no-shell"]) is True
    assert out.read_text() == repr(("", None, "a; echo no-shell"))


def test_failure_is_logged_with_exit_code_and_trimmed_stderr() -> None:
    script = (
        "import sys; sys.stderr.write('x' * 5000 + 'gateway down sk-ant-SECRET-0001-zzzz'); "
        "sys.exit(3)"
    )
    logs = LogCapture()
    assert run_reload_command([sys.executable, "-c", script]) is False
    assert "reload_command_failed" in logs.text and "3" in logs.text
    assert "gateway down" in logs.text and "SECRET-0001" not in logs.text
    assert "x" * 1000 not in logs.text


def test_missing_program_and_timeout_are_not_fatal() -> None:
    logs = LogCapture()
    assert run_reload_command(["/nonexistent/openclaw", "secrets", "reload"]) is False
    assert (
        run_reload_command([sys.executable, "-c", "import time; time.sleep(10)"], timeout=0.3)
        is False
    )
    assert logs.text.count("reload_command_failed") == 2


def test_a_timeout_kills_the_commands_children_too(tmp_path: Path) -> None:
    """A wrapper script's child must not outlive the timeout."""
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "reload.sh"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pidfile}\nwait\n")
    script.chmod(0o755)
    assert run_reload_command([str(script)], timeout=0.5) is False
    child = int(pidfile.read_text())
    for _ in range(50):
        if pid_is_dead(child):  # gone, or a zombie waiting for init to reap it
            break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        raise AssertionError("the reload command's child survived its timeout")
