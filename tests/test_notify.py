"""sd_notify through a real AF_UNIX datagram socket, as systemd would receive it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from probed.notify import Notifier, monotonic_usec, watchdog_interval


@pytest.fixture
def sock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(str(path))
    srv.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield srv
    srv.close()


def recv(srv: socket.socket) -> dict[str, str]:
    data = srv.recv(4096).decode("ascii")
    return dict(line.split("=", 1) for line in data.splitlines())


def test_messages_arrive_in_systemd_form(sock: socket.socket) -> None:
    n = Notifier()
    n.ready("3 profiles unusable; next probe anthropic:default in 4m12s")
    assert recv(sock) == {
        "READY": "1",
        "STATUS": "3 profiles unusable; next probe anthropic:default in 4m12s",
    }
    n.watchdog()
    assert recv(sock) == {"WATCHDOG": "1"}
    before = monotonic_usec()
    n.reloading()
    msg = recv(sock)
    assert msg["RELOADING"] == "1" and int(msg["MONOTONIC_USEC"]) >= before
    n.status("caf\u00e9 \u2192 ok")  # non-ASCII would be dropped by systemd: sent as ASCII
    assert recv(sock) == {"STATUS": "caf? ? ok"}
    n.stopping()
    assert recv(sock)["STOPPING"] == "1"


def test_socket_is_not_inherited_by_children(sock: socket.socket) -> None:
    n = Notifier()
    assert "NOTIFY_SOCKET" not in os.environ
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('NOTIFY_SOCKET'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "None"
    n.ready()  # still talks to systemd itself
    assert recv(sock) == {"READY": "1"}


def test_no_socket_is_a_silent_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled
    n.ready("x")
    n.reloading()


def test_watchdog_interval_is_half_and_honours_pid() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "400000", "WATCHDOG_PID": str(os.getpid())}) == 0.2
    assert watchdog_interval({"WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "garbage"}) is None


def test_watchdog_env_is_read_then_removed(
    sock: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    n = Notifier()
    assert n.watchdog_interval == 0.5
    assert "WATCHDOG_USEC" not in os.environ
    time.sleep(0)


def test_an_undrained_socket_never_blocks_and_a_state_change_is_resent(
    sock: socket.socket,
) -> None:
    n = Notifier()
    started = time.monotonic()
    for _ in range(5000):  # far more than a datagram queue holds
        n.status("x" * 200)
    n.ready("ready at last")
    assert time.monotonic() - started < 2.0  # blocking sendall would hang here for ever
    assert n.dropped > 0
    sock.settimeout(0)
    drained = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            sock.recv(4096)
            drained += 1
    assert drained > 0
    n.watchdog()  # the READY=1 that did not fit goes out first
    assert recv(sock)["READY"] == "1"
    assert recv(sock) == {"WATCHDOG": "1"}
