"""OpenClaw 2026.9.6, the main agent on the shared store (`state/openclaw.sqlite`), no fallback.

A 402 makes the gateway disable the profile for 10 minutes; the provider recovers; `probed
probe` (and then `probed run`) probes and clears it exactly as OpenClaw's own success writes the
shared row; the reload makes the gateway's very next request succeed through that profile, and
`probed status` says the gateway has taken the repair. The gateway is never signalled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from helpers.gateway import RELEASE_9_6, GatewaySpec, ProviderSpec, wait_for
from helpers.gatewayrig import Rig, rig
from helpers.probedproc import daemon, status_rows, write_config

from probed.stores.discover import open_agent

pytestmark = [pytest.mark.gateway, pytest.mark.slow]

SPEC = GatewaySpec(release=RELEASE_9_6, providers=(ProviderSpec("fake"),), store="shared")


@pytest.fixture(scope="module")
def r(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig(tmp_path_factory, "gw96shared", SPEC)


def _disable(r: Rig) -> dict[str, object]:
    """A 402 through the gateway: the profile ends disabled for billing, 10 minutes."""
    r.fail_with_402("fake:a")
    res = r.gw.chat()
    assert res.status == 402 and "Insufficient credits" in res.body, str(res)
    entry = r.gw.entry("fake:a")
    assert entry["disabledReason"] == "billing", entry
    assert entry["disabledUntil"] - entry["lastFailureAt"] == 600_000, entry
    r.recover()
    refused = r.gw.chat()  # healthy provider, but the gateway refuses from its own copy
    assert not refused.ok and r.served_by("fake:a") == 0, str(refused)
    return entry


def test_probe_clears_402_and_the_gateways_next_request_succeeds(r: Rig) -> None:
    before = _disable(r)
    cfg = write_config(r.gw, r.root / "probe")

    cleared, entry = r.probe_recovers(cfg, before)
    # OpenClaw 9.6's own success on the shared row: errorCount 0 and lastProbeAt, the window
    # gone, lastFailureAt kept, no lastUsed written and no lastGood
    assert entry["lastProbeAt"] >= before["lastFailureAt"]
    assert entry.get("lastUsed") == before.get("lastUsed"), entry
    state = open_agent(r.gw.state_dir, "main").read().state
    assert "fake" not in (state.get("lastGood") or {}), state

    # probed's own paid probe went out with that key: counted from here
    r.next_request_through("fake:a", cleared=cleared)

    row = status_rows(r.gw, cfg)["fake:a"]
    assert row["state"] == "ok" and row["gateway"] == "taken" and row["repair_confirmed"] is True
    # OpenClaw's own view agrees: nothing unusable
    view = r.gw.openclaw("models", "status", "--json")
    assert view.returncode == 0 and json.loads(view.stdout)["auth"]["unusableProfiles"] == []
    r.gw.assert_untouched(r.pid)


def test_daemon_probes_early_in_the_window_and_the_gateway_takes_it(r: Rig) -> None:
    _disable(r)
    # OpenClaw's billing window is 10 minutes; probed's early lane probes within seconds
    # (docs/policy.md), long before it ends
    cfg = write_config(r.gw, r.root / "daemon")
    with daemon(r.gw, cfg) as d:
        d.wait_event("repair_confirmed", timeout=120, profile="fake:a")
        cleared = time.monotonic()
        assert "disabledUntil" not in r.gw.entry("fake:a")
        probes = r.served_by("fake:a")
        res = wait_for(lambda: (x := r.gw.chat()).ok and x, timeout=20, what="a 200")
        assert r.served_by("fake:a") == probes + 1, str(res)
        assert time.monotonic() - cleared < 20
        row = status_rows(r.gw, cfg)["fake:a"]
        assert row["gateway"] == "taken" and row["repair_confirmed"] is True
        assert d.saw("reload_command_ran"), d.tail()
    assert d.proc.returncode == 0, d.tail()
    r.gw.assert_untouched(r.pid)
