"""OpenClaw 2026.9.6, an agent with its own store (`agents/worker/agent/openclaw-agent.sqlite`),
with a fallback model configured.

A 402 disables the primary's profile and the gateway answers from the fallback; once the
provider recovers it keeps answering from the fallback (its own copy still says disabled) until
probed probes, clears (as OpenClaw's success writes an agent database: lastUsed, lastGood,
lastProbeAt) and reloads: then the next request goes through the primary again. An external
clear made with no reload is never lost to the gateway's next write to that store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.gateway import RELEASE_9_6, GatewaySpec, ProviderSpec
from helpers.gatewayrig import Rig, rig
from helpers.probedproc import probed, status_rows, write_config

from probed.stores.base import Era
from probed.stores.discover import open_agent

pytestmark = [pytest.mark.gateway, pytest.mark.slow]

SPEC = GatewaySpec(
    release=RELEASE_9_6,
    providers=(ProviderSpec("fake"),),
    fallback=ProviderSpec("spare"),
    store="agent",
)


@pytest.fixture(scope="module")
def r(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig(tmp_path_factory, "gw96agent", SPEC)


def test_store_is_the_agents_own_database(r: Rig) -> None:
    store = open_agent(r.gw.state_dir, "worker")
    assert store.era is Era.SQLITE_AGENT and store.location == r.gw.store_path


def test_probe_brings_the_primary_back_from_the_fallback(r: Rig) -> None:
    before = r.disable_behind_fallback("fake:a", "spare:a")
    cfg = write_config(r.gw, r.root / "probe")
    cleared, entry = r.probe_recovers(cfg, before)
    # OpenClaw 9.6's success in an agent database: lastUsed, lastGood and lastProbeAt
    assert entry["lastUsed"] == entry["lastProbeAt"] >= before["lastFailureAt"]
    state = open_agent(r.gw.state_dir, "worker").read().state
    assert state["lastGood"]["fake"] == "fake:a"

    r.next_request_through("fake:a", cleared=cleared, fallback="spare:a")
    row = status_rows(r.gw, cfg)["fake:a"]
    assert (row["agent"], row["gateway"], row["repair_confirmed"]) == ("worker", "taken", True)
    r.gw.assert_untouched(r.pid)


def test_an_external_clear_survives_the_gateways_next_write(r: Rig) -> None:
    r.disable_behind_fallback("fake:a", "spare:a")
    cfg = write_config(r.gw, r.root / "clear", reload_command=[])  # the gateway is not told
    proc = probed(r.gw, cfg, "clear", "fake:a")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "disabledUntil" not in r.gw.entry("fake:a")

    # the gateway still skips the primary (its copy), and the fallback now fails: the gateway
    # writes the fallback's failure into the same store
    r.fail_with_402("spare:a")
    r.gw.chat()
    spare = r.gw.entry("spare:a")
    assert spare.get("disabledReason") == "billing", spare
    entry = r.gw.entry("fake:a")
    assert not {"disabledUntil", "disabledReason"} & set(entry), f"the clear was lost: {entry}"

    # and that write refreshed the gateway's own view: the primary serves again, no reload
    r.next_request_through("fake:a")
    r.gw.assert_untouched(r.pid)
