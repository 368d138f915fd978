"""The harness itself: a gateway that does not come up FAILS, fast, with its log tail, and leaves
no process behind (never a hang, never a skip)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.gateway import RELEASE_5_28, GatewayError, GatewaySpec, start_gateway, wait_for

pytestmark = [pytest.mark.gateway, pytest.mark.slow]


def _left_running(marker: bytes) -> list[str]:
    """Processes whose environment names this test's throw-away state dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes():
                    found.append(proc.name)
            except OSError:
                continue
    return found


def test_a_gateway_not_ready_by_the_deadline_fails_with_its_log_tail(tmp_path: Path) -> None:
    started = time.monotonic()
    spec = GatewaySpec(release=RELEASE_5_28)
    with (
        pytest.raises(GatewayError) as err,
        start_gateway(tmp_path, spec, provider_url="http://127.0.0.1:9", deadline=1),
    ):
        pytest.fail("a gateway that was not ready was handed out")
    message = str(err.value)
    assert "did not answer /health within 1s" in message and "log tail" in message
    assert "--- gateway.out" in message  # the gateway's own output is in the failure
    assert time.monotonic() - started < 120
    marker = f"OPENCLAW_STATE_DIR={tmp_path / 'state'}".encode()
    wait_for(lambda: not _left_running(marker), timeout=20, what="the gateway's processes to go")
