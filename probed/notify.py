"""sd_notify, behind a wrapper that keeps sdnotify's sharp edges away from the daemon.

sdnotify silently drops a non-latin-1 message and systemd ignores a STATUS= that is not UTF-8
clean, so everything sent is ASCII. `RELOADING=1` always travels with `MONOTONIC_USEC=` (without
it a `Type=notify-reload` reload hangs until its timeout). NOTIFY_SOCKET is taken out of the
environment once the socket is open, so the reload command and any other child cannot talk to
systemd in our name.

Sending never blocks: the daemon notifies from its event loop, and a notify socket nobody drains
(a wedged or overloaded systemd, a test harness that stopped reading) would otherwise freeze every
probe behind one `sendall`. The socket is non-blocking and a datagram that does not fit is
dropped (`sd_notify_dropped`, logged once per run of drops). A dropped READY=1, RELOADING=1 or
STOPPING=1 (a state change systemd waits for) is sent again before the next message.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import MutableMapping

import sdnotify

from probed.logs import get_logger

log = get_logger()

_ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
_STATE_CHANGES = frozenset({"READY", "RELOADING", "STOPPING"})


def watchdog_interval(env: MutableMapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked for.

    WATCHDOG_USEC is ours only when WATCHDOG_PID is unset or names this process.
    """
    environ = os.environ if env is None else env
    usec, pid = environ.get("WATCHDOG_USEC"), environ.get("WATCHDOG_PID")
    try:
        if not usec or int(usec) <= 0 or (pid and int(pid) != os.getpid()):
            return None
        return int(usec) / 2_000_000
    except ValueError:
        return None


def _ascii(text: object) -> str:
    return str(text).encode("ascii", "replace").decode("ascii").replace("\n", " ")


class Notifier:
    """A no-op outside systemd (no NOTIFY_SOCKET); never raises."""

    def __init__(self, env: MutableMapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        self.watchdog_interval = watchdog_interval(environ)
        # sdnotify connects now, reading os.environ (a no-op notifier when we were not asked)
        self._n = sdnotify.SystemdNotifier() if self.enabled else None
        self._sock: socket.socket | None = self._n.socket if self._n is not None else None
        if self._sock is not None:
            self._sock.setblocking(False)
        self.dropped = 0
        self._dropping = False
        self._retry: bytes | None = None  # a state change that did not fit: sent again first
        for key in _ENV_KEYS:
            environ.pop(key, None)
            os.environ.pop(key, None)

    def send(self, **fields: object) -> None:
        """One datagram: `KEY=value` lines in the order given. Never blocks, never raises."""
        if not fields or self._sock is None:
            return
        data = "\n".join(f"{k}={_ascii(v)}" for k, v in fields.items()).encode("ascii")
        if self._retry is not None and self._send(self._sock, self._retry):
            self._retry = None
        if not self._send(self._sock, data) and _STATE_CHANGES & fields.keys():
            self._retry = data

    def _send(self, sock: socket.socket, data: bytes) -> bool:
        try:
            sock.send(data, socket.MSG_DONTWAIT)
        except OSError as exc:  # EAGAIN: nobody drains the socket; ECONNREFUSED: systemd gone
            self.dropped += 1
            if not self._dropping:
                self._dropping = True
                log.warning("sd_notify_dropped", error=exc.strerror or type(exc).__name__)
            return False
        self._dropping = False
        return True

    def ready(self, status: str | None = None) -> None:
        self.send(READY=1, **({"STATUS": status} if status is not None else {}))

    def status(self, status: str) -> None:
        self.send(STATUS=status)

    def watchdog(self) -> None:
        self.send(WATCHDOG=1)

    def reloading(self, status: str = "reloading configuration") -> None:
        self.send(RELOADING=1, MONOTONIC_USEC=monotonic_usec(), STATUS=status)

    def stopping(self, status: str = "stopping") -> None:
        self.send(STOPPING=1, STATUS=status)


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd compares reload timestamps against."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
