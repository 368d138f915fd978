"""The gateway down, or not answering the reload: the repair is kept, the failure is logged and
shown in `probed status`, and the reload is retried (docs/gateway.md, "When the gateway does not
take a repair"). OpenClaw 2026.5.28, whose gateway restarts in seconds.

probed itself never signals the gateway: the only signals it gets here are the test's own
(SIGTERM to stop it, SIGSTOP/SIGCONT to freeze it), and its log shows nothing else.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest
from helpers.gateway import RELEASE_5_28, GatewaySpec
from helpers.gatewayrig import Rig, rig
from helpers.probedproc import daemon, probed, status_rows, write_config

pytestmark = [pytest.mark.gateway, pytest.mark.slow]


@pytest.fixture(scope="module")
def r(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig(tmp_path_factory, "gw528reload", GatewaySpec(release=RELEASE_5_28))


def _disable(r: Rig) -> None:
    r.fail_with_402("fake:a")
    assert r.gw.chat().status == 402
    assert r.gw.entry("fake:a")["disabledReason"] == "billing"
    r.recover()


def test_gateway_down_repair_kept_shown_and_taken_when_it_starts(r: Rig) -> None:
    _disable(r)
    r.gw.stop()  # the test stops it (SIGTERM); probed never does
    cfg = write_config(r.gw, r.root / "down")

    proc = probed(r.gw, cfg, "probe", "fake:a", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]  # the profile is usable: the repair stands
    assert "reload_command_failed" in proc.stderr and "repair_not_taken" in proc.stderr
    assert "disabledUntil" not in r.gw.entry("fake:a"), "the repair was not kept"

    row = status_rows(r.gw, cfg)["fake:a"]
    assert row["state"] == "ok" and row["gateway"] == "not_running", row
    assert row["repair_confirmed"] is False and "no gateway answers" in row["gateway_detail"]
    table = probed(r.gw, cfg, "status").stdout
    assert "GATEWAY" in table and "down" in table and "not taken by the gateway yet" in table

    with daemon(r.gw, cfg) as d:
        d.wait_event("daemon_started", timeout=60)
        r.gw.start()  # a gateway that starts reads the repaired store
        d.wait_event("repair_confirmed", timeout=150, profile="fake:a")
        row = status_rows(r.gw, cfg)["fake:a"]
        assert row["gateway"] == "taken" and row["repair_confirmed"] is True, row
        r.next_request_through("fake:a")
    assert r.gw.signals_received() == ["SIGTERM"], "someone but the test signalled the gateway"
    assert r.gw.starts() == 2


def test_gateway_not_answering_the_reload_is_retried_until_it_takes_it(r: Rig) -> None:
    _disable(r)
    pid = r.gw.pid
    # a bounded reload: a frozen gateway would otherwise hold the CLI until its own timeout
    cfg = write_config(
        r.gw, r.root / "frozen", reload_command=["timeout", "15", "openclaw", "secrets", "reload"]
    )
    os.killpg(pid, signal.SIGSTOP)  # the gateway accepts connections and answers nothing
    try:
        proc = probed(r.gw, cfg, "probe", "fake:a", "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "reload_command_failed" in proc.stderr
        assert "disabledUntil" not in r.gw.entry("fake:a"), "the repair was not kept"
        row = status_rows(r.gw, cfg)["fake:a"]
        assert row["gateway"] in ("pending", "not_running") and row["repair_confirmed"] is False
    finally:
        os.killpg(pid, signal.SIGCONT)

    with daemon(r.gw, cfg) as d:
        d.wait_event("repair_confirmed", timeout=150, profile="fake:a")
        assert d.saw("reload_command_ran"), "the daemon did not retry the reload"
        row = status_rows(r.gw, cfg)["fake:a"]
        assert row["gateway"] == "taken" and row["repair_confirmed"] is True, row
        r.next_request_through("fake:a")
    assert r.gw.pid == pid and r.gw.alive()
    assert r.gw.signals_received() == ["SIGTERM"]  # the previous test's stop, nothing since
    assert r.gw.starts() == 2
    status = json.loads(probed(r.gw, cfg, "status", "--json").stdout)
    assert all(p["gateway"] in ("taken", None) for p in status["profiles"])
